"""What the Telegram handlers get: the channel's components, through a typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext, ExtBot

from bot.channels.limits import RateLimiter
from bot.conversation import Conversation
from bot.handoff.desk import Desk, Sweeps
from bot.i18n import Translator
from bot.pseudonym import Pseudonymizer
from bot.storage.writer import Writer


@dataclass(frozen=True)
class Channel:
    """Created by the composition root; shared by every handler."""

    conversation: Conversation
    translator: Translator
    pseudonyms: Pseudonymizer
    desk: Desk
    sweeps: Sweeps
    sessions: async_sessionmaker[AsyncSession]
    writer: Writer
    team_language: str
    clock: Callable[[], datetime]
    limiter: RateLimiter
    catalog_max_age_days: int  # the settings' rule for catalogue uploads by admins


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """One per update, shared by its handlers."""

    inbox_done: bool = False  # the update's inbox entry was marked done with its state

    @property
    def channel(self) -> Channel:
        channel: Channel = self.application.bot_data["channel"]
        return channel
