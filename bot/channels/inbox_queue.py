"""The application's update queue, in front of the durable inbox.

Telegram treats an update as delivered when the bot asks for the next ones (polling) or
answers the webhook call; both happen only after `put` returns. So each update is written to
the inbox before it is queued, and a crash between receiving and processing loses nothing.
A redelivered update is not queued again: it is done, or it is replayed at start.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import IntegrityError
from telegram import Update

from bot.channels.context import BotContext, Channel
from bot.storage import inbox

log = logging.getLogger(__name__)


class InboxQueue(asyncio.Queue[object]):
    def __init__(self) -> None:
        super().__init__()
        self.channel: Channel | None = None  # set in post_init, before any update arrives

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not await self._record(item):
            log.info("update already received; skipped")
            return
        await super().put(item)

    async def _record(self, update: Update) -> bool:
        """True when the update is new. When the database can't be written, the update is
        still processed: its handler then fails and the user is asked to try again."""
        channel = self.channel
        assert channel is not None, "the channel opens before polling or the webhook starts"
        try:
            async with channel.writer.begin() as session:
                return await inbox.receive(session=session, update_id=update.update_id,
                                           payload=update.to_dict(), now=channel.clock())
        except IntegrityError:  # another worker has just recorded it
            return False
        except Exception as error:  # locked, restarting, unreachable: polling must go on
            log.warning("inbox unavailable (%s); processing without it", type(error).__name__)
            return True


async def done(update: Update, context: BotContext) -> None:
    """Marks the update done and drops its payload (unless the conversation already did).
    Handlers that stop an update's processing early call it themselves."""
    if context.inbox_done:
        return
    try:
        async with context.channel.writer.begin() as session:
            await inbox.mark_done(session=session, update_id=update.update_id)
    except Exception as error:  # left pending: a restart processes it again
        log.warning("inbox unavailable (%s); update left unfinished", type(error).__name__)
