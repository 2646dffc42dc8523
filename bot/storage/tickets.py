"""Referral tickets, their audit events, relayed messages and the unmet-needs register."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import RelayRow, TicketEventRow, TicketRow, UnmetNeedRow
from services_catalog.errors import ReturneeBotError

TICKETS = cast(Table, TicketRow.__table__)
EVENTS = cast(Table, TicketEventRow.__table__)
RELAYS = cast(Table, RelayRow.__table__)
NEEDS = cast(Table, UnmetNeedRow.__table__)

OPEN: tuple[str, ...] = ("new", "assigned", "in_progress", "waiting_user")
STATUSES: tuple[str, ...] = (*OPEN, "closed", "cancelled")
OUTCOMES: tuple[str, ...] = ("service_provided", "referred_elsewhere", "no_service_available",
                             "not_eligible", "user_unreachable", "declined")
GAP_OUTCOMES = {"no_service_available": "no_service_available", "not_eligible": "not_eligible"}
_DATES = ("created_at", "sla_due_at", "first_response_at", "reminded_at", "escalated_at",
          "closed_at", "follow_up_due_at")


class TicketConflict(ReturneeBotError):
    """The ticket changed meanwhile (another case worker, or the user)."""


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    reference: str
    user_id: int | None
    consent_event_id: int
    status: str
    priority: str
    organization_id: str
    team_chat_id: int | None
    thread_id: int | None
    card_message_id: int | None
    service_id: str | None
    topic: str | None
    region: str | None
    language: str
    shared: dict[str, Any]
    chat_id: int | None
    assigned_staff_id: int | None
    created_at: datetime
    sla_due_at: datetime
    first_response_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    follow_up: bool
    follow_up_due_at: datetime | None
    follow_up_answer: str | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


_FIELDS = [f.name for f in dataclasses.fields(Ticket)]


def _ticket(row: Any) -> Ticket:
    values = dict(row._mapping)
    for name in _DATES:
        value = values[name]
        if value is not None and value.tzinfo is None:  # SQLite: naive, and UTC
            values[name] = value.replace(tzinfo=UTC)
    return Ticket(**{name: values[name] for name in _FIELDS})


_SELECT = select(*(TICKETS.c[name] for name in _FIELDS))


async def create_ticket(
    *, session: AsyncSession, user_id: int, consent_event_id: int, priority: str,
    organization_id: str, team_chat_id: int | None, service_id: str | None,
    topic: str | None, region: str | None, language: str, shared: dict[str, Any],
    chat_id: int | None, follow_up: bool, now: datetime, sla_due_at: datetime,
) -> Ticket:
    """A new ticket with its human reference R-<year>-<number>, and its first event."""
    ticket_id = await session.scalar(insert(TICKETS).values(
        reference=f"pending-{consent_event_id}", user_id=user_id,
        consent_event_id=consent_event_id, status="new", priority=priority,
        organization_id=organization_id, team_chat_id=team_chat_id, service_id=service_id,
        topic=topic, region=region, language=language, shared=shared, chat_id=chat_id,
        created_at=now, sla_due_at=sla_due_at, follow_up=follow_up,
    ).returning(TICKETS.c.id))
    assert ticket_id is not None
    await session.execute(update(TICKETS).where(TICKETS.c.id == ticket_id)
                          .values(reference=f"R-{now.year}-{ticket_id:06d}"))
    await add_event(session=session, ticket_id=ticket_id, actor="user", action="created",
                    from_status=None, to_status="new", now=now)
    ticket = await get_ticket(session=session, ticket_id=ticket_id)
    assert ticket is not None
    return ticket


async def get_ticket(*, session: AsyncSession, ticket_id: int) -> Ticket | None:
    row = (await session.execute(_SELECT.where(TICKETS.c.id == ticket_id))).one_or_none()
    return _ticket(row) if row is not None else None


async def open_ticket_for_user(*, session: AsyncSession, user_id: int) -> Ticket | None:
    row = (await session.execute(
        _SELECT.where(TICKETS.c.user_id == user_id, TICKETS.c.status.in_(OPEN))
        .order_by(TICKETS.c.id.desc()).limit(1)
    )).one_or_none()
    return _ticket(row) if row is not None else None


async def transition(
    *, session: AsyncSession, ticket: Ticket, to: str, actor: str, now: datetime,
    action: str | None = None, **changes: Any,
) -> Ticket:
    """Moves a ticket to `to` if nobody changed its status meanwhile; records the event."""
    result = await session.execute(
        update(TICKETS).where(TICKETS.c.id == ticket.id, TICKETS.c.status == ticket.status)
        .values(status=to, **changes)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise TicketConflict(f"ticket {ticket.reference} changed meanwhile")
    await add_event(session=session, ticket_id=ticket.id, actor=actor, action=action or to,
                    from_status=ticket.status, to_status=to, now=now)
    return dataclasses.replace(ticket, status=to, **changes)


async def update_ticket(*, session: AsyncSession, ticket_id: int, **changes: Any) -> None:
    """Bookkeeping without a status change (card ids, reminders, follow-up answers)."""
    await session.execute(update(TICKETS).where(TICKETS.c.id == ticket_id).values(**changes))


async def add_event(
    *, session: AsyncSession, ticket_id: int, actor: str, action: str, now: datetime,
    from_status: str | None = None, to_status: str | None = None, note: str | None = None,
) -> None:
    await session.execute(insert(EVENTS).values(
        ticket_id=ticket_id, actor=actor, action=action, from_status=from_status,
        to_status=to_status, note=note, at=now))


@dataclass(frozen=True, slots=True)
class TicketEvent:
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    at: datetime


async def list_events(*, session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    rows = await session.execute(
        select(EVENTS.c.actor, EVENTS.c.action, EVENTS.c.from_status, EVENTS.c.to_status,
               EVENTS.c.note, EVENTS.c.at).where(EVENTS.c.ticket_id == ticket_id)
        .order_by(EVENTS.c.id))
    return [TicketEvent(*row) for row in rows.all()]


async def record_relay(
    *, session: AsyncSession, ticket_id: int, team_chat_id: int, message_id: int,
    now: datetime,
) -> None:
    await session.execute(insert(RELAYS).values(
        ticket_id=ticket_id, team_chat_id=team_chat_id, message_id=message_id, at=now))


async def ticket_for_team_message(
    *, session: AsyncSession, team_chat_id: int, thread_id: int | None, reply_to: int | None,
) -> Ticket | None:
    """The ticket a team-chat message belongs to: by forum topic, or by the replied message."""
    conditions = []
    if thread_id is not None:
        conditions.append(TICKETS.c.thread_id == thread_id)
    if reply_to is not None:
        relayed = select(RELAYS.c.ticket_id).where(
            RELAYS.c.team_chat_id == team_chat_id, RELAYS.c.message_id == reply_to)
        conditions += [TICKETS.c.card_message_id == reply_to, TICKETS.c.id.in_(relayed)]
    if not conditions:
        return None
    row = (await session.execute(
        _SELECT.where(TICKETS.c.team_chat_id == team_chat_id, or_(*conditions))
        .order_by(TICKETS.c.id.desc()).limit(1)
    )).one_or_none()
    return _ticket(row) if row is not None else None


async def due_for_reminder(*, session: AsyncSession, now: datetime) -> list[Ticket]:
    """New tickets past their first-response target, not yet reminded or escalated."""
    rows = await session.execute(_SELECT.where(
        TICKETS.c.status == "new", TICKETS.c.sla_due_at < now,
        or_(TICKETS.c.reminded_at.is_(None), TICKETS.c.escalated_at.is_(None))))
    return [_ticket(row) for row in rows.all()]


async def due_for_follow_up(*, session: AsyncSession, now: datetime) -> list[Ticket]:
    rows = await session.execute(_SELECT.where(
        TICKETS.c.follow_up.is_(True), TICKETS.c.follow_up_due_at.is_not(None),
        TICKETS.c.follow_up_due_at < now,
        TICKETS.c.follow_up_answer.is_(None), TICKETS.c.chat_id.is_not(None)))
    return [_ticket(row) for row in rows.all()]


async def record_unmet_need(
    *, session: AsyncSession, topic: str | None, region: str | None, language: str,
    reason: str, day: date,
) -> None:
    """An anonymised entry of the unmet-needs register: no user, no text."""
    await session.execute(insert(NEEDS).values(
        day=day, topic=topic, region=region, language=language, reason=reason))

