"""The durable inbox: an update is recorded before processing and marked done after, so a
redelivered update is processed once and a crash loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import InboxRow

INBOX = cast(Table, InboxRow.__table__)


async def receive(
    *, session: AsyncSession, update_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Records the update; False when it was received before (a redelivery). Two workers
    inserting the same update at once: the second gets an IntegrityError."""
    known = select(INBOX.c.update_id).where(INBOX.c.update_id == update_id)
    if await session.scalar(known) is not None:
        return False
    await session.execute(INBOX.insert().values(
        update_id=update_id, received_at=now, done=False, payload=payload))
    return True


async def mark_done(*, session: AsyncSession, update_id: int) -> None:
    await session.execute(update(INBOX).where(INBOX.c.update_id == update_id)
                          .values(done=True, payload=None))


async def unfinished(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Updates received but never marked done (the process stopped), oldest first."""
    rows = await session.execute(select(INBOX.c.payload).where(
        INBOX.c.done.is_(False), INBOX.c.payload.is_not(None)).order_by(INBOX.c.update_id))
    return [row for row in rows.scalars().all() if row is not None]


async def forget_done(*, session: AsyncSession, before: datetime) -> int:
    """Drops done entries older than `before` (a redelivery comes within minutes)."""
    result = await session.execute(delete(INBOX).where(
        INBOX.c.done.is_(True), INBOX.c.received_at < before))
    return int(getattr(result, "rowcount", 0))
