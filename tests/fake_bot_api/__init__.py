"""An in-process fake of the Telegram Bot API for end-to-end tests with python-telegram-bot.

    async with FakeBotAPI() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...
        api.send_text(api.user(1001, "Awa"), "hello")
        replies = await api.next_messages(1001)

Files: pass ``base_file_url(api.base_file_url)`` too, and ``api.send_document(user, name, data)``
lets the bot ``get_file`` and download what a user sent.
"""

from .html import EntityParseError, clean_text, parse_html, utf16_len
from .records import (
    ApiError,
    Button,
    CallbackAnswer,
    DocumentRecord,
    FakeUser,
    RequestRecord,
    SentMessage,
    StoredFile,
    TopicRecord,
    Upload,
)
from .server import FakeBotAPI
from .state import MAX_DOWNLOAD_SIZE, MEDIA_KINDS, BotState

__all__ = [
    "MAX_DOWNLOAD_SIZE",
    "MEDIA_KINDS",
    "ApiError",
    "BotState",
    "Button",
    "CallbackAnswer",
    "DocumentRecord",
    "EntityParseError",
    "FakeBotAPI",
    "FakeUser",
    "RequestRecord",
    "SentMessage",
    "StoredFile",
    "TopicRecord",
    "Upload",
    "clean_text",
    "parse_html",
    "utf16_len",
]
