"""The staff allowlist and the audit log: repository functions on a real database, and the
`returnee-bot staff` commands run as a real subprocess."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage import audit, staff
from bot.storage.staff import Staff
from services_catalog.db import create_engine, session_factory
from tests.bot.conftest import run_cli

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def _add(sessions: Sessions, telegram_id: int, role: str, organization_id: str,
               **extra: Any) -> Staff:
    async with sessions() as session, session.begin():
        return await staff.add_staff(session=session, telegram_id=telegram_id, role=role,
                                     organization_id=organization_id, now=NOW, **extra)


async def test_an_added_member_is_active_with_their_scope(sessions: Sessions) -> None:
    added = await _add(sessions, 1001, "caseworker", "solidarite-retour",
                       regions=["DKR", "KLD-KOLDA"], topics=("health",), display_name="Awa")
    async with sessions() as session:
        found = await staff.get_active_staff(session=session, telegram_id=1001)
        unknown = await staff.get_active_staff(session=session, telegram_id=1002)
    assert found == added == Staff(
        id=added.id, telegram_id=1001, role="caseworker", organization_id="solidarite-retour",
        regions=("DKR", "KLD-KOLDA"), topics=("health",), display_name="Awa", active=True)
    assert unknown is None


async def test_revocation_takes_effect_at_once(sessions: Sessions) -> None:
    revoked = await _add(sessions, 1001, "caseworker", "solidarite-retour")
    kept = await _add(sessions, 1002, "caseworker", "solidarite-retour")
    async with sessions() as session, session.begin():
        assert await staff.revoke_staff(session=session, telegram_id=1001, now=NOW)
        assert await staff.get_active_staff(session=session, telegram_id=1001) is None
        assert not await staff.revoke_staff(session=session, telegram_id=1001, now=NOW)
        assert not await staff.revoke_staff(session=session, telegram_id=9999, now=NOW)
    async with sessions() as session:
        assert await staff.get_active_staff(session=session, telegram_id=1001) is None
        assert await staff.get_active_staff(session=session, telegram_id=1002) == kept
        assert await staff.list_staff(session=session) == [kept]
        everyone = await staff.list_staff(session=session, include_revoked=True)
    assert [(m.id, m.active) for m in everyone] == [(revoked.id, False), (kept.id, True)]


async def test_re_adding_updates_the_row_and_reinstates(sessions: Sessions) -> None:
    first = await _add(sessions, 1001, "caseworker", "solidarite-retour", regions=["DKR"],
                       topics=["health"], display_name="Awa")
    async with sessions() as session, session.begin():
        assert await staff.revoke_staff(session=session, telegram_id=1001, now=NOW)
    again = await _add(sessions, 1001, "supervisor", "credit-avenir")
    async with sessions() as session:
        found = await staff.get_active_staff(session=session, telegram_id=1001)
        everyone = await staff.list_staff(session=session, include_revoked=True)
    assert again == found == Staff(
        id=first.id, telegram_id=1001, role="supervisor", organization_id="credit-avenir",
        regions=(), topics=(), display_name=None, active=True)
    assert everyone == [again]


async def test_an_unknown_role_is_refused(sessions: Sessions) -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        await _add(sessions, 1001, "boss", "solidarite-retour")
    async with sessions() as session:
        assert await staff.list_staff(session=session, include_revoked=True) == []


async def test_list_by_organization_and_supervisors(sessions: Sessions) -> None:
    caseworker = await _add(sessions, 1, "caseworker", "solidarite-retour")
    admin = await _add(sessions, 2, "admin", "solidarite-retour")  # acts on no case
    supervisor = await _add(sessions, 3, "supervisor", "solidarite-retour")
    await _add(sessions, 4, "supervisor", "solidarite-retour")
    other = await _add(sessions, 5, "supervisor", "credit-avenir")
    async with sessions() as session, session.begin():
        await staff.revoke_staff(session=session, telegram_id=4, now=NOW)
    async with sessions() as session:
        assert await staff.supervisors(session=session, organization_id="solidarite-retour") \
            == [supervisor]
        assert await staff.supervisors(session=session, organization_id="credit-avenir") \
            == [other]
        assert await staff.supervisors(session=session, organization_id="nobody") == []
        assert await staff.list_staff(session=session, organization_id="solidarite-retour") \
            == [caseworker, admin, supervisor]
        by_org = await staff.list_staff(session=session)
        with_revoked = await staff.list_staff(session=session,
                                              organization_id="solidarite-retour",
                                              include_revoked=True)
    assert [m.telegram_id for m in by_org] == [5, 1, 2, 3]  # by organisation, then id
    assert [m.telegram_id for m in with_revoked] == [1, 2, 3, 4]


async def test_get_active_staff_is_one_indexed_query(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    for telegram_id in range(1, 30):
        await _add(sessions, telegram_id, "caseworker", "solidarite-retour")
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with sessions() as session:
            assert await staff.get_active_staff(session=session, telegram_id=17) is not None
            assert await staff.get_active_staff(session=session, telegram_id=99) is None
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    selects = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2 and all("FROM staff" in s[0] for s in selects)
    if engine.dialect.name == "sqlite":
        statement, parameters = selects[0]
        async with engine.connect() as connection:
            plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                     parameters)).all()
            scan = (await connection.execute(text(  # a contrast: this one reads every row
                "EXPLAIN QUERY PLAN SELECT id FROM staff WHERE role = 'admin'"))).all()
        assert any("USING INDEX" in str(row[-1]) for row in plan), plan
        assert not any("USING INDEX" in str(row[-1]) for row in scan), scan


async def test_audit_entries_are_listed_oldest_first(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        for minutes, action in ((0, "staff.add"), (5, "ticket.claim"), (10, "staff.revoke")):
            await audit.record(session=session, actor="staff:1", action=action,
                               target="staff:2", allowed=action != "ticket.claim",
                               details={"role": "caseworker"} if minutes else None,
                               now=NOW + timedelta(minutes=minutes))
    async with sessions() as session:
        everything = await audit.list_entries(session=session)
        recent = await audit.list_entries(session=session, since=NOW + timedelta(minutes=5))
        first = await audit.list_entries(session=session, limit=1)
    assert [(e.action, e.allowed, dict(e.details)) for e in everything] == [
        ("staff.add", True, {}), ("ticket.claim", False, {"role": "caseworker"}),
        ("staff.revoke", True, {"role": "caseworker"})]
    assert everything[1].at == NOW + timedelta(minutes=5)  # aware UTC on every database
    assert everything[0].actor == "staff:1" and everything[0].target == "staff:2"
    assert [e.action for e in recent] == ["ticket.claim", "staff.revoke"]
    assert [e.action for e in first] == ["staff.add"]


async def test_audit_refuses_personal_details(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(ValueError, match="telegram_id"):
            await audit.record(session=session, actor="cli", action="staff.add", target=None,
                               allowed=True, details={"telegram_id": 5, "role": "admin"},
                               now=NOW)
        assert await audit.list_entries(session=session) == []


# ---------------------------------------------------------------- the CLI



def _query(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


AWA, BINTA = 987654321, 555000111


def test_staff_commands(tmp_path: Path, empty_database: str) -> None:
    url = empty_database
    assert run_cli(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    imported = run_cli(url, "catalog", "import", cwd=tmp_path)  # the bundled sample catalogue
    assert imported.returncode == 0, imported.stderr

    added = run_cli(url, "staff", "add", "--telegram-id", str(AWA), "--role", "caseworker",
                 "--org", "solidarite-retour", "--regions", "DKR, KLD-KOLDA",
                 "--topics", "health,family", "--name", "Awa", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout == ("Staff 1: caseworker at solidarite-retour, regions DKR, KLD-KOLDA, "
                            "topics health, family.\n")

    refusals = {
        ("--role", "boss", "--org", "credit-avenir"): "unknown role 'boss'",
        ("--role", "admin", "--org", "nowhere"): "unknown organization 'nowhere'",
        ("--role", "admin", "--org", "credit-avenir", "--regions", "DKR,XX"):
            "unknown region(s) XX",
        ("--role", "admin", "--org", "credit-avenir", "--topics", "health,magic"):
            "unknown topic(s) magic",
    }
    for options, message in refusals.items():
        refused = run_cli(url, "staff", "add", "--telegram-id", str(BINTA), *options, cwd=tmp_path)
        assert refused.returncode == 1, (options, refused.stderr)
        assert message in refused.stderr and "Traceback" not in refused.stderr

    supervisor = run_cli(url, "staff", "add", "--telegram-id", str(BINTA), "--role", "supervisor",
                      "--org", "credit-avenir", cwd=tmp_path)
    assert supervisor.returncode == 0, supervisor.stderr

    listed = run_cli(url, "staff", "list", cwd=tmp_path).stdout.splitlines()
    assert listed[0].split() == ["ID", "TELEGRAM", "ID", "ROLE", "ORGANIZATION", "REGIONS",
                                 "TOPICS", "NAME", "STATUS"]
    assert [line.split() for line in listed[1:]] == [
        ["2", str(BINTA), "supervisor", "credit-avenir", "all", "all", "-", "active"],
        ["1", str(AWA), "caseworker", "solidarite-retour", "DKR,KLD-KOLDA", "health,family",
         "Awa", "active"]]
    one_org = run_cli(url, "staff", "list", "--org", "solidarite-retour", cwd=tmp_path).stdout
    assert str(AWA) in one_org and str(BINTA) not in one_org

    assert run_cli(url, "staff", "revoke", "--telegram-id", str(AWA), cwd=tmp_path).stdout \
        == "Staff 1 revoked.\n"
    again = run_cli(url, "staff", "revoke", "--telegram-id", str(AWA), cwd=tmp_path)
    assert again.returncode == 1 and "no active staff member" in again.stderr

    assert str(AWA) not in run_cli(url, "staff", "list", cwd=tmp_path).stdout
    assert "revoked" in run_cli(url, "staff", "list", "--include-revoked", cwd=tmp_path).stdout
    assert _query(url, lambda s: staff.get_active_staff(session=s, telegram_id=AWA)) is None
    assert _query(url, lambda s: staff.get_active_staff(session=s, telegram_id=BINTA)) \
        is not None

    entries = _query(url, lambda s: audit.list_entries(session=s))
    assert [(e.actor, e.action, e.target, e.allowed, dict(e.details)) for e in entries] == [
        ("cli", "staff.add", "staff:1", True,
         {"role": "caseworker", "organization": "solidarite-retour"}),
        ("cli", "staff.add", "staff:2", True,
         {"role": "supervisor", "organization": "credit-avenir"}),
        ("cli", "staff.revoke", "staff:1", True,
         {"role": "caseworker", "organization": "solidarite-retour"})]
    dumped = json.dumps([[e.actor, e.target, dict(e.details)] for e in entries])
    assert str(AWA) not in dumped and str(BINTA) not in dumped and "Awa" not in dumped

