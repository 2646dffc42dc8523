"""Sending the bot's messages to a chat: HTML, split under Telegram's limit, with buttons."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ExtBot

from bot.channels.split import split_html
from bot.dialogue.events import Message

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send(
    bot: ExtBot[None], chat_id: int, messages: Sequence[Message], thread_id: int | None = None
) -> bool:
    """False when the chat refused (the user blocked the bot): nothing more is sent."""
    """Sends HTML messages, split at 4096 UTF-16 units; buttons go on the last part."""
    for message in messages:
        parts = split_html(message.html)
        for index, part in enumerate(parts):
            markup = keyboard(message) if index == len(parts) - 1 else None
            try:
                await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                       reply_markup=markup, link_preview_options=NO_PREVIEW,
                                       message_thread_id=thread_id)
            except Forbidden:
                log.info("a user blocked the bot; reply dropped")
                return False
    return True


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)
                                  for b in row] for row in message.buttons])
