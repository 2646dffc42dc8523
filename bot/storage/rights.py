"""Data-subject rights: access (everything stored about a user), erasure, and withdrawing
the consent to share. Tickets survive erasure only as anonymous statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import audit, tickets, users
from bot.storage.tickets import EVENTS, RELAYS, TICKETS, Ticket
from bot.storage.users import CONSENTS, USERS

ERASED = {"erased": True}
WITHDRAWN = {"withdrawn": True}


async def export_user(*, session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Profile, consents, tickets with their events and follow-ups: JSON-ready."""
    profile = (await session.execute(
        select(USERS.c.channel, USERS.c.state, USERS.c.created_at, USERS.c.last_seen_at,
               USERS.c.expires_at).where(USERS.c.id == user_id))).one_or_none()
    consents = await users.list_consents(session=session, user_id=user_id)
    mine = await _tickets_of(session, user_id)
    return {
        "profile": None if profile is None else {
            "channel": profile.channel, "state": profile.state,
            "created_at": _iso(profile.created_at), "last_seen_at": _iso(profile.last_seen_at),
            "deleted_after": _iso(profile.expires_at)},
        "consents": [{"purpose": c.purpose, "given": c.given, "text_version": c.text_version,
                      "text_sha256": c.text_hash, "language": c.language, "channel": c.channel,
                      "at": _iso(c.at)} for c in consents],
        "requests": [await _ticket_export(session, t) for t in mine],
    }


async def _ticket_export(session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
    events = await tickets.list_events(session=session, ticket_id=ticket.id)
    return {
        "reference": ticket.reference, "status": ticket.status, "priority": ticket.priority,
        "organization": ticket.organization_id, "service": ticket.service_id,
        "topic": ticket.topic, "region": ticket.region, "language": ticket.language,
        "shared": ticket.shared, "created_at": _iso(ticket.created_at),
        "closed_at": _iso(ticket.closed_at), "outcome": ticket.outcome,
        "follow_up": ticket.follow_up, "follow_up_answer": ticket.follow_up_answer,
        "history": [{"action": e.action, "from": e.from_status, "to": e.to_status,
                     "note": e.note, "at": _iso(e.at)} for e in events],
    }


async def erase_user(*, session: AsyncSession, user_id: int, now: datetime) -> list[Ticket]:
    """Deletes the profile and state, unlinks consent records, and anonymises the user's
    tickets (open ones are cancelled). Returns the tickets, for their team-chat cards."""
    mine = await _tickets_of(session, user_id)
    for ticket in mine:
        if ticket.is_open:
            ticket = await tickets.transition(session=session, ticket=ticket, to="cancelled",
                                              actor="user", action="erasure", now=now,
                                              closed_at=now)
        await _scrub(session, ticket, ERASED, unlink=True)
    await session.execute(update(CONSENTS).where(CONSENTS.c.user_id == user_id)
                          .values(user_id=None))
    await session.execute(delete(USERS).where(USERS.c.id == user_id))
    await audit.record(session=session, actor="user", action="erasure", target=None,
                       allowed=True, details={"tickets": len(mine)}, now=now)
    return mine


async def withdraw_sharing(
    *, session: AsyncSession, user_id: int, now: datetime
) -> list[Ticket]:
    """Closes the user's open tickets as declined and deletes what they had shared."""
    closed = []
    for ticket in await _tickets_of(session, user_id):
        if not ticket.is_open:
            continue
        ticket = await tickets.transition(session=session, ticket=ticket, to="closed",
                                          actor="user", action="consent_withdrawn", now=now,
                                          closed_at=now, outcome="declined")
        await _scrub(session, ticket, WITHDRAWN, unlink=False)
        closed.append(ticket)
    return closed


async def _scrub(
    session: AsyncSession, ticket: Ticket, marker: dict[str, Any], unlink: bool
) -> None:
    values: dict[str, Any] = {"shared": marker, "chat_id": None}
    if unlink:
        values["user_id"] = None
    await session.execute(update(TICKETS).where(TICKETS.c.id == ticket.id).values(**values))
    await session.execute(delete(RELAYS).where(RELAYS.c.ticket_id == ticket.id))
    await session.execute(update(EVENTS).where(EVENTS.c.ticket_id == ticket.id)
                          .values(note=None))


async def _tickets_of(session: AsyncSession, user_id: int) -> list[Ticket]:
    ids = (await session.execute(
        select(TICKETS.c.id).where(TICKETS.c.user_id == user_id).order_by(TICKETS.c.id)
    )).scalars().all()
    found = [await tickets.get_ticket(session=session, ticket_id=i) for i in ids]
    return [t for t in found if t is not None]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
