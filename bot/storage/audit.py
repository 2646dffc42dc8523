"""The audit log: append-only records of staff actions, refusals, imports and erasures.

Entries are written, listed, never changed. They hold no personal data: actors and targets
are internal ids (`staff:<id>`, `ticket:<id>`), a keyed hash (`telegram:<hash>`) or `cli`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditRow

AUDIT = cast(Table, AuditRow.__table__)

# Keys that would put a person's identity into the log: refused outright, as a safety net.
PERSONAL_KEYS = frozenset({
    "telegram_id", "chat_id", "username", "name", "display_name", "first_name", "last_name",
    "phone", "email",
})


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    allowed: bool
    details: Mapping[str, Any]


async def record(
    *, session: AsyncSession, actor: str, action: str, target: str | None, allowed: bool,
    details: Mapping[str, object] | None = None, now: datetime,
) -> None:
    """Appends one entry. `allowed` is False for refusals (a revoked or unknown staff member,
    an action outside their organisation, region or topic).

    `details` must never hold personal data: no Telegram or chat ids, names, phone numbers,
    message texts or shared fields; only codes and internal ids such as a role, an
    organisation id or a status. It must be JSON-serialisable. Keys in `PERSONAL_KEYS` raise
    ValueError, but that is a safety net, not a licence: callers choose what goes in.
    """
    values = dict(details or {})
    personal = sorted(PERSONAL_KEYS.intersection(values))
    if personal:
        raise ValueError(f"audit details must not hold personal data: {', '.join(personal)}")
    await session.execute(insert(AUDIT).values(
        at=now, actor=actor, action=action, target=target, allowed=allowed, details=values,
    ))


async def list_entries(
    *, session: AsyncSession, since: datetime | None = None, limit: int = 1000
) -> list[AuditEntry]:
    """Entries at or after `since`, oldest first, at most `limit` of them.

    To page on, call again with `since` set to the last entry's `at` and skip the entries
    already seen (their ids are increasing)."""
    query = select(AUDIT.c.id, AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.target,
                   AUDIT.c.allowed, AUDIT.c.details)
    if since is not None:
        query = query.where(AUDIT.c.at >= since)
    rows = (await session.execute(query.order_by(AUDIT.c.at, AUDIT.c.id).limit(limit))).all()
    return [AuditEntry(row.id, _utc(row.at), row.actor, row.action, row.target, row.allowed,
                       dict(row.details)) for row in rows]


def _utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
