"""Reports for coordinators and advocacy: the unmet-needs register and ticket figures.

Nothing here identifies a person: unmet needs are anonymised when recorded, and ticket
figures are counts and durations only.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Column, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import TicketRow, UnmetNeedRow

TICKETS = cast(Table, TicketRow.__table__)
UNMET = cast(Table, UnmetNeedRow.__table__)


@dataclass(frozen=True, slots=True)
class GapEntry:
    """Unmet needs with the same day, topic, region, language and reason."""

    day: date
    topic: str | None
    region: str | None
    language: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class GapTotal:
    """Unmet needs with the same topic, region and reason, over the whole period."""

    topic: str | None
    region: str | None
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class GapReport:
    since: date | None
    entries: tuple[GapEntry, ...]  # by day, topic, region, language, reason
    totals: tuple[GapTotal, ...]  # largest first, then by topic, region, reason

    @property
    def count(self) -> int:
        return sum(entry.count for entry in self.entries)


@dataclass(frozen=True, slots=True)
class TicketReport:
    """Counts of tickets created since a moment; None keys are tickets without that field
    (no topic, no region, or no outcome yet)."""

    since: datetime | None
    total: int
    by_status: Mapping[str, int]
    by_topic: Mapping[str | None, int]
    by_region: Mapping[str | None, int]
    by_outcome: Mapping[str | None, int]
    responded: int  # tickets with a first response
    median_first_response_minutes: float | None  # rounded to 0.1; None when none responded


def _key(value: str | None) -> tuple[bool, str]:
    """Sorts None last, the same on every database."""
    return (value is None, value or "")


async def report_gaps(*, session: AsyncSession, since: date | None = None) -> GapReport:
    """The unmet-needs register from `since` (inclusive), grouped by day, and the totals per
    topic, region and reason: where services are missing, for advocacy."""
    columns = (UNMET.c.day, UNMET.c.topic, UNMET.c.region, UNMET.c.language, UNMET.c.reason)
    query = select(*columns, func.count()).group_by(*columns)
    if since is not None:
        query = query.where(UNMET.c.day >= since)
    rows = (await session.execute(query)).tuples().all()
    entries = sorted(
        (GapEntry(day, topic, region, language, reason, count)
         for day, topic, region, language, reason, count in rows),
        key=lambda e: (e.day, _key(e.topic), _key(e.region), e.language, e.reason),
    )
    totals: Counter[tuple[str | None, str | None, str]] = Counter()
    for entry in entries:
        totals[(entry.topic, entry.region, entry.reason)] += entry.count
    ordered = sorted(totals.items(),
                     key=lambda item: (-item[1], _key(item[0][0]), _key(item[0][1]), item[0][2]))
    return GapReport(
        since=since, entries=tuple(entries),
        totals=tuple(GapTotal(topic, region, reason, count)
                     for (topic, region, reason), count in ordered),
    )


async def report_tickets(*, session: AsyncSession, since: datetime | None = None) -> TicketReport:
    """Tickets created at or after `since`: counts by status, topic, region and outcome, and
    the median time from creation to the first response, over the tickets that have one."""

    async def count_by(column: Column[Any]) -> dict[Any, int]:
        query = select(column, func.count()).group_by(column)
        if since is not None:
            query = query.where(TICKETS.c.created_at >= since)
        rows = (await session.execute(query)).tuples().all()
        return {value: count for value, count in sorted(rows, key=lambda r: _key(r[0]))}

    by_status = await count_by(TICKETS.c.status)
    responses = select(TICKETS.c.created_at, TICKETS.c.first_response_at).where(
        TICKETS.c.first_response_at.is_not(None))
    if since is not None:
        responses = responses.where(TICKETS.c.created_at >= since)
    minutes = [(_utc(answered) - _utc(created)).total_seconds() / 60
               for created, answered in (await session.execute(responses)).tuples().all()]
    return TicketReport(
        since=since, total=sum(by_status.values()), by_status=by_status,
        by_topic=await count_by(TICKETS.c.topic), by_region=await count_by(TICKETS.c.region),
        by_outcome=await count_by(TICKETS.c.outcome), responded=len(minutes),
        median_first_response_minutes=round(statistics.median(minutes), 1) if minutes else None,
    )


def _utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
