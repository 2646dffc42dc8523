"""Immutable records the fake Bot API exposes to tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]
Button = tuple[str, str]  # (text, callback_data or url or other action value)


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class FakeUser:
    """A simulated Telegram user; its private chat id equals its user id."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    last_name: str | None = None

    def to_dict(self) -> JSONDict:
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_dict(self) -> JSONDict:
        chat: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class StoredFile:
    """A file the fake holds (bot uploads and simulated users' media), served by getFile."""

    file_id: str
    file_unique_id: str
    file_path: str  # relative, e.g. "documents/file_3.pdf"; downloaded from base_file_url
    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    size: int  # the reported file_size; may exceed len(data) to fake a big file

    def to_document(self) -> JSONDict:
        """A Bot API ``Document`` object for this file."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }

    def to_file(self) -> JSONDict:
        """A Bot API ``File`` object (the result of getFile)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class DocumentRecord:
    """A document the bot sent (``sendDocument``) or copied into a chat."""

    chat_id: int
    message_id: int
    file_id: str
    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    caption: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """A message sent by the bot, in its current state (edits applied)."""

    message_id: int
    chat_id: int
    text: str  # plain text (or caption) after entity parsing
    raw_text: str  # as sent by the bot, before parsing
    parse_mode: str | None
    entities: tuple[JSONDict, ...]
    buttons: tuple[tuple[Button, ...], ...]
    message_thread_id: int | None
    date: int
    edited: bool = False
    reply_to_message_id: int | None = None
    document: DocumentRecord | None = None
    kind: str = "text"  # "text", "document", or the media kind of a copied message
    reply_markup: JSONDict | None = None

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def button_data(self, text: str) -> str:
        """The callback_data (or url) of the inline button labelled ``text``."""
        for row in self.buttons:
            for label, value in row:
                if label == text:
                    return value
        raise KeyError(f"no button {text!r} in message {self.message_id}: {self.button_texts}")


@dataclass(frozen=True)
class RequestRecord:
    """One Bot API call as the fake received it."""

    method: str
    params: JSONDict
    time: float  # time.monotonic() when the request arrived
    status: int  # HTTP status; 0 = connection reset by fault injection, 499 = client went away
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class CallbackAnswer:
    """An ``answerCallbackQuery`` call, joined with the press it answers."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    user_id: int
    data: str | None
    message_id: int | None


@dataclass(frozen=True)
class TopicRecord:
    """A forum topic created by ``createForumTopic``."""

    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
