"""Storage limitation: expired users are deleted and old referrals anonymised.

A ticket closed or cancelled more than the retention period ago keeps what the statistics
need (status, priority, organisation, service, topic, region, language, dates, outcome) and
its `ticket_events` (who, when, from, to: the audit trail). It loses everything about the
person: the shared fields, the user's chat id, the link to the user, the relayed-message
links and the internal notes. The audit log, the unmet-needs register and the catalogue are
never touched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import users
from bot.storage.models import UserRow
from bot.storage.tickets import EVENTS, RELAYS, TICKETS

ANONYMISED: dict[str, Any] = {"anonymised": True}
# Tickets whose `shared` is one of these markers hold no shared fields any more: ours, and
# those of erasure and of withdrawn sharing (bot/storage/rights.py).
MARKER_KEYS: tuple[str, ...] = ("anonymised", "erased", "withdrawn")
ENDED: tuple[str, ...] = ("closed", "cancelled")


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run changed, or in a dry run would change. No personal data."""

    users_deleted: int = 0  # expired sessions and profiles
    tickets_anonymised: int = 0
    relay_messages_deleted: int = 0
    notes_cleared: int = 0

    @property
    def total(self) -> int:
        return (self.users_deleted + self.tickets_anonymised + self.relay_messages_deleted
                + self.notes_cleared)


def _marked() -> ColumnElement[bool]:
    return or_(*(func.coalesce(TICKETS.c.shared[key].as_boolean(), false())
                 for key in MARKER_KEYS))


async def apply_retention(
    *, session: AsyncSession, now: datetime, ticket_days: int, dry_run: bool = False
) -> RetentionReport:
    """Deletes users past `expires_at` (their consent events stay, unlinked) and anonymises
    tickets closed or cancelled more than `ticket_days` before `now`, in the caller's
    transaction. A dry run only counts. Idempotent: a second run reports zeros."""
    if ticket_days <= 0:
        raise ValueError("ticket_days must be positive")
    old = and_(TICKETS.c.status.in_(ENDED), TICKETS.c.closed_at.is_not(None),
               TICKETS.c.closed_at < now - timedelta(days=ticket_days))
    old_ids = select(TICKETS.c.id).where(old)
    # Tickets scrubbed by erasure or withdrawal keep their marker; the others get ours.
    unmarked = and_(old, not_(_marked()))
    linked = and_(old, _marked(),
                  or_(TICKETS.c.user_id.is_not(None), TICKETS.c.chat_id.is_not(None)))
    relays = RELAYS.c.ticket_id.in_(old_ids)
    notes = and_(EVENTS.c.ticket_id.in_(old_ids), EVENTS.c.note.is_not(None))
    expired = UserRow.expires_at < now

    if dry_run:
        return RetentionReport(
            users_deleted=await _count(session, select(func.count()).where(expired)
                                       .select_from(UserRow)),
            tickets_anonymised=await _count(session, select(func.count()).select_from(TICKETS)
                                            .where(or_(unmarked, linked))),
            relay_messages_deleted=await _count(session, select(func.count())
                                                .select_from(RELAYS).where(relays)),
            notes_cleared=await _count(session, select(func.count()).select_from(EVENTS)
                                       .where(notes)),
        )

    # Tickets first: unlinking them does not depend on whether their user still exists.
    anonymised = _rowcount(await session.execute(
        update(TICKETS).where(unmarked).values(shared=ANONYMISED, chat_id=None, user_id=None)))
    anonymised += _rowcount(await session.execute(
        update(TICKETS).where(linked).values(chat_id=None, user_id=None)))
    relays_deleted = _rowcount(await session.execute(delete(RELAYS).where(relays)))
    notes_cleared = _rowcount(await session.execute(update(EVENTS).where(notes)
                                                    .values(note=None)))
    users_deleted = await users.delete_expired(session=session, now=now)
    return RetentionReport(users_deleted, anonymised, relays_deleted, notes_cleared)


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))
