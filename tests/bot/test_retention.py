"""Retention: expired users deleted, old referrals anonymised, on a real database; and
`returnee-bot maintenance retention` run as a real subprocess."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogue.events import ConsentChange
from bot.settings import Settings
from bot.storage import audit, retention, tickets, users
from bot.storage.models import ConsentEventRow, RelayRow, TicketEventRow, TicketRow, UserRow
from bot.storage.retention import ANONYMISED, RetentionReport, apply_retention
from services_catalog.db import Base, create_engine, session_factory
from tests.bot.conftest import run_cli

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DAYS = 365
RETENTION_ENV = {"TICKET_RETENTION_DAYS": str(DAYS)}
SHARED = {"language": "en", "service": "national-id-card", "topic": "civil_documentation",
          "region": "DKR", "description": "I lost my ID card", "name": "Moussa",
          "username": "moussa_d", "history": ["my number is +221 77 555 44 33"]}
NOTE = "called him, he prefers mornings"


async def _user(session: AsyncSession, pseudonym: str, expires_at: datetime) -> int:
    return await users.create_user(session=session, pseudonym=pseudonym, channel="telegram",
                                   state={"language": "en", "region": "DKR"},
                                   now=NOW - timedelta(days=500), expires_at=expires_at)


async def _ticket(
    session: AsyncSession, user_id: int, *, status: str, closed_at: datetime | None,
    shared: dict[str, Any] | None = None, chat_id: int | None = 4242,
) -> int:
    """A ticket with its consent, a note, and two relayed messages."""
    consent_id = await users.record_consent(
        session=session, user_id=user_id, language="en", channel="telegram",
        change=ConsentChange("share_with_caseworker", True, 1, "ab" * 32),
        now=NOW - timedelta(days=500))
    ticket = await tickets.create_ticket(
        session=session, user_id=user_id, consent_event_id=consent_id, priority="normal",
        organization_id="solidarite-retour", team_chat_id=-100, service_id="national-id-card",
        topic="civil_documentation", region="DKR", language="en",
        shared=dict(SHARED) if shared is None else shared, chat_id=chat_id, follow_up=False,
        now=NOW - timedelta(days=500), sla_due_at=NOW - timedelta(days=499))
    await tickets.update_ticket(session=session, ticket_id=ticket.id, status=status,
                                closed_at=closed_at, outcome="service_provided")
    await tickets.add_event(session=session, ticket_id=ticket.id, actor="staff:1",
                            action="note", note=NOTE, now=NOW - timedelta(days=499))
    await tickets.add_event(session=session, ticket_id=ticket.id, actor="staff:1",
                            action="closed", from_status="in_progress", to_status=status,
                            now=closed_at or NOW)
    for message_id in (10 * ticket.id, 10 * ticket.id + 1):
        await tickets.record_relay(session=session, ticket_id=ticket.id, team_chat_id=-100,
                                   message_id=message_id, now=NOW - timedelta(days=499))
    return ticket.id


@dataclass(frozen=True)
class World:
    alive: int
    expired: int
    old_closed: int
    old_cancelled: int
    expired_users_ticket: int
    withdrawn: int
    erased: int
    recent: int
    boundary: int
    open_old: int


async def _world(sessions: Sessions) -> World:
    async with sessions() as session, session.begin():
        alive = await _user(session, "alive", NOW + timedelta(days=10))
        expired = await _user(session, "expired", NOW - timedelta(minutes=1))
        await _user(session, "expired-without-tickets", NOW - timedelta(days=1))
        old = NOW - timedelta(days=DAYS + 35)
        world = World(
            alive=alive, expired=expired,
            old_closed=await _ticket(session, alive, status="closed", closed_at=old),
            old_cancelled=await _ticket(session, alive, status="cancelled",
                                        closed_at=NOW - timedelta(days=DAYS, minutes=1)),
            expired_users_ticket=await _ticket(session, expired, status="closed", closed_at=old),
            withdrawn=await _ticket(session, alive, status="closed", closed_at=old,
                                    shared={"withdrawn": True}, chat_id=None),
            erased=await _ticket(session, alive, status="cancelled", closed_at=old,
                                 shared={"erased": True}, chat_id=None),
            recent=await _ticket(session, alive, status="closed",
                                 closed_at=NOW - timedelta(days=30)),
            boundary=await _ticket(session, alive, status="closed",
                                   closed_at=NOW - timedelta(days=DAYS)),
            open_old=await _ticket(session, alive, status="in_progress", closed_at=None),
        )
        # The erased ticket was scrubbed by /delete: unlinked, without relays or notes.
        await tickets.update_ticket(session=session, ticket_id=world.erased, user_id=None)
        await session.execute(delete(RelayRow).where(RelayRow.ticket_id == world.erased))
        await session.execute(update(TicketEventRow).where(
            TicketEventRow.ticket_id == world.erased).values(note=None))
        await audit.record(session=session, actor="staff:1", action="claim",
                           target=f"ticket:{world.old_closed}", allowed=True,
                           details={"role": "caseworker"}, now=old)
        await tickets.record_unmet_need(session=session, topic="health", region="DKR",
                                        language="en", reason="no_service", day=old.date())
        return world


async def _snapshot(sessions: Sessions, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of these tables (default: all), by primary key."""
    tables = [t for t in Base.metadata.sorted_tables if not names or t.name in names]
    async with sessions() as session:
        return {table.name: [tuple(row) for row in (await session.execute(
            select(table).order_by(*table.primary_key.columns))).all()] for table in tables}


async def _run(sessions: Sessions, *, dry_run: bool = False) -> RetentionReport:
    async with sessions() as session, session.begin():
        return await apply_retention(session=session, now=NOW, ticket_days=DAYS,
                                     dry_run=dry_run)


EXPECTED = RetentionReport(users_deleted=2, tickets_anonymised=4, relay_messages_deleted=8,
                           notes_cleared=4)


async def _ticket_row(sessions: Sessions, ticket_id: int) -> TicketRow:
    async with sessions() as session:
        row = await session.get(TicketRow, ticket_id)
    assert row is not None
    return row


async def _notes(sessions: Sessions, ticket_id: int) -> list[str | None]:
    async with sessions() as session:
        return list((await session.execute(
            select(TicketEventRow.note).where(TicketEventRow.ticket_id == ticket_id)
            .order_by(TicketEventRow.id))).scalars())


async def _relays(sessions: Sessions, ticket_id: int) -> int:
    async with sessions() as session:
        return len((await session.execute(
            select(RelayRow.id).where(RelayRow.ticket_id == ticket_id))).all())


async def test_a_dry_run_counts_and_changes_nothing(sessions: Sessions) -> None:
    await _world(sessions)
    before = await _snapshot(sessions)
    assert await _run(sessions, dry_run=True) == EXPECTED
    assert await _snapshot(sessions) == before


async def test_old_tickets_are_anonymised_and_expired_users_deleted(sessions: Sessions) -> None:
    world = await _world(sessions)
    kept_tables = ("audit_log", "unmet_needs")
    before = await _snapshot(sessions, *kept_tables)
    old_row = await _ticket_row(sessions, world.old_closed)

    assert await _run(sessions) == EXPECTED

    for ticket_id in (world.old_closed, world.old_cancelled, world.expired_users_ticket):
        row = await _ticket_row(sessions, ticket_id)
        assert (row.shared, row.chat_id, row.user_id) == (ANONYMISED, None, None)
        assert await _relays(sessions, ticket_id) == 0
        assert await _notes(sessions, ticket_id) == [None, None, None]  # events kept
    # What the statistics need stays.
    row = await _ticket_row(sessions, world.old_closed)
    kept = ("reference", "status", "priority", "organization_id", "service_id", "topic",
            "region", "language", "outcome", "created_at", "closed_at", "consent_event_id")
    assert [getattr(row, name) for name in kept] == [getattr(old_row, name) for name in kept]
    async with sessions() as session:
        actions = (await session.execute(select(TicketEventRow.actor, TicketEventRow.action,
                                                TicketEventRow.to_status)
                                         .where(TicketEventRow.ticket_id == world.old_closed)
                                         .order_by(TicketEventRow.id))).all()
    assert [tuple(a) for a in actions] == [("user", "created", "new"),
                                           ("staff:1", "note", None),
                                           ("staff:1", "closed", "closed")]

    # Scrubbed by withdrawal: keeps its marker, loses the link to the user.
    row = await _ticket_row(sessions, world.withdrawn)
    assert (row.shared, row.chat_id, row.user_id) == ({"withdrawn": True}, None, None)
    assert await _relays(sessions, world.withdrawn) == 0
    row = await _ticket_row(sessions, world.erased)
    assert (row.shared, row.chat_id, row.user_id) == ({"erased": True}, None, None)

    # Too recent (or exactly the retention period ago), or still open: untouched.
    for ticket_id in (world.recent, world.boundary, world.open_old):
        row = await _ticket_row(sessions, ticket_id)
        assert (row.shared, row.chat_id, row.user_id) == (SHARED, 4242, world.alive)
        assert await _relays(sessions, ticket_id) == 2
        assert await _notes(sessions, ticket_id) == [None, NOTE, None]

    async with sessions() as session:
        remaining = (await session.execute(select(UserRow.pseudonym))).scalars().all()
        consents = (await session.execute(
            select(ConsentEventRow.id, ConsentEventRow.user_id)
            .order_by(ConsentEventRow.id))).all()
    assert remaining == ["alive"]
    assert len(consents) == 8  # consent events are never deleted
    assert {user_id for _id, user_id in consents} == {world.alive, None}
    assert await _snapshot(sessions, *kept_tables) == before


async def test_a_second_run_changes_nothing(sessions: Sessions) -> None:
    await _world(sessions)
    assert await _run(sessions) == EXPECTED
    after_first = await _snapshot(sessions)
    assert await _run(sessions, dry_run=True) == RetentionReport()
    assert await _run(sessions) == RetentionReport()
    assert await _snapshot(sessions) == after_first


async def test_nothing_to_do_on_an_empty_database(sessions: Sessions) -> None:
    assert await _run(sessions, dry_run=True) == RetentionReport()
    assert await _run(sessions) == RetentionReport()
    assert RetentionReport().total == 0 and EXPECTED.total == 18


async def test_the_period_must_be_positive(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="positive"):
            await apply_retention(session=session, now=NOW, ticket_days=0)


def test_the_scrub_markers_of_erasure_and_withdrawal_are_known() -> None:
    """Tickets scrubbed by bot/storage/rights.py must not be anonymised a second time."""
    from bot.storage import rights

    for marker in (retention.ANONYMISED, rights.ERASED, rights.WITHDRAWN):
        (key,) = marker
        assert marker[key] is True and key in retention.MARKER_KEYS


# ---------------------------------------------------------------- the CLI



def _query(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_retention_command(tmp_path: Path, empty_database: str) -> None:
    url = empty_database
    upgraded = run_cli(url, "db", "upgrade", cwd=tmp_path, env=RETENTION_ENV)
    assert upgraded.returncode == 0, upgraded.stderr
    now = datetime.now(UTC)

    async def seed(session: AsyncSession) -> int:
        alive = await _user(session, "alive", now + timedelta(days=10))
        await _user(session, "expired", now - timedelta(minutes=5))
        await _ticket(session, alive, status="closed", closed_at=now - timedelta(days=DAYS + 1))
        return await _ticket(session, alive, status="closed", closed_at=now - timedelta(days=1))

    recent = _query(url, seed)

    async def state(session: AsyncSession) -> tuple[Any, ...]:
        return (
            (await session.execute(select(UserRow.pseudonym).order_by(UserRow.id)))
            .scalars().all(),
            (await session.execute(select(TicketRow.shared, TicketRow.chat_id)
                                   .order_by(TicketRow.id))).all(),
            len((await session.execute(select(RelayRow.id))).all()),
            await audit.list_entries(session=session),
        )

    before = _query(url, state)
    dry = run_cli(url, "maintenance", "retention", "--dry-run", cwd=tmp_path, env=RETENTION_ENV)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "Would delete 1 expired user(s).",
        f"Would anonymise 1 ticket(s) closed more than {DAYS} day(s) ago.",
        "Would delete 2 relayed-message link(s).",
        "Would clear 1 internal note(s).",
        "Dry run: nothing was written."]
    assert _query(url, state) == before

    applied = run_cli(url, "maintenance", "retention", cwd=tmp_path, env=RETENTION_ENV)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines() == [
        "Deleted 1 expired user(s).",
        f"Anonymised 1 ticket(s) closed more than {DAYS} day(s) ago.",
        "Deleted 2 relayed-message link(s).",
        "Cleared 1 internal note(s).",
        "Recorded in the audit log."]
    names, shared, relays, entries = _query(url, state)
    assert names == ["alive"]
    assert [tuple(row) for row in shared] == [(ANONYMISED, None), (SHARED, 4242)]
    assert relays == 2
    assert [(e.actor, e.action, e.target, e.allowed, dict(e.details)) for e in entries] == [
        ("cli", "retention", None, True,
         {"users_deleted": 1, "tickets_anonymised": 1, "relay_messages_deleted": 2,
          "notes_cleared": 1})]

    again = run_cli(url, "maintenance", "retention", cwd=tmp_path, env=RETENTION_ENV)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:4] == [
        "Deleted 0 expired user(s).",
        f"Anonymised 0 ticket(s) closed more than {DAYS} day(s) ago.",
        "Deleted 0 relayed-message link(s).",
        "Cleared 0 internal note(s)."]
    entries = _query(url, lambda s: audit.list_entries(session=s))
    assert len(entries) == 2 and set(entries[1].details.values()) == {0}
    assert _query(url, lambda s: tickets.get_ticket(session=s, ticket_id=recent)) is not None


def test_the_retention_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKET_RETENTION_DAYS", raising=False)
    assert Settings(_env_file=None).ticket_retention_days == 365
    monkeypatch.setenv("TICKET_RETENTION_DAYS", "0")
    with pytest.raises(ValidationError, match="ticket_retention_days"):
        Settings(_env_file=None)
