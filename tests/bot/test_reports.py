"""Reports: the unmet-needs register and ticket figures, through the repository on a real
database and through `returnee-bot report` run as a real subprocess."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import reports
from bot.storage.models import ConsentEventRow, TicketRow, UnmetNeedRow, UserRow
from bot.storage.reports import GapEntry, GapTotal
from services_catalog.db import create_engine, session_factory
from tests.bot.conftest import run_cli

Sessions = async_sessionmaker[AsyncSession]
SINCE = datetime(2026, 11, 1, tzinfo=UTC)

# reference, status, topic, region, outcome, created, minutes to the first response
TICKETS: list[tuple[str, str, str | None, str | None, str | None, datetime, float | None]] = [
    ("T-1", "new", "health", "DKR", None, SINCE, None),  # on the boundary: included
    ("T-2", "in_progress", "health", "DKR", None, SINCE + timedelta(hours=3), 4),
    ("T-3", "closed", "family", "KLD", "helped", SINCE + timedelta(days=4), 12.5),
    ("T-4", "closed", "family", None, "unreachable", SINCE + timedelta(days=5), 30.5),
    ("T-5", "in_progress", None, "KLD", None, SINCE + timedelta(days=6), 61),
    ("T-6", "closed", "health", "DKR", "helped", SINCE - timedelta(minutes=1), 600),
]

# day, topic, region, language, reason
NEEDS: list[tuple[date, str | None, str | None, str, str]] = [
    (date(2026, 10, 31), "health", "DKR", "fr", "no_service_in_region"),
    (date(2026, 11, 2), "health", "KLD", "fr", "no_service_in_region"),
    (date(2026, 11, 4), "health", "KLD", "fr", "not_eligible"),
    (date(2026, 11, 2), "health", "KLD", "ar", "no_service_in_region"),
    (date(2026, 11, 3), None, None, "fr", "no_service_matched"),
    (date(2026, 11, 3), "family", None, "en", "no_service_matched"),
    (date(2026, 11, 2), "health", "KLD", "fr", "no_service_in_region"),
]


async def _seed(session: AsyncSession) -> None:
    """Tickets (with the user and consent their foreign keys need) and unmet needs."""
    start = SINCE - timedelta(days=30)
    user_id = await session.scalar(insert(UserRow).values(
        pseudonym="f" * 64, channel="telegram", state={}, created_at=start, last_seen_at=start,
        expires_at=start + timedelta(days=365), version=1).returning(UserRow.id))
    consent_id = await session.scalar(insert(ConsentEventRow).values(
        user_id=user_id, purpose="share_with_provider", given=True, text_version=1,
        text_hash="0" * 64, language="fr", channel="telegram", at=start).returning(
        ConsentEventRow.id))
    for reference, status, topic, region, outcome, created, minutes in TICKETS:
        await session.execute(insert(TicketRow).values(
            reference=reference, user_id=user_id, consent_event_id=consent_id, status=status,
            priority="normal", organization_id="solidarite-retour", topic=topic,
            region=region, language="fr", shared={"region": region}, chat_id=None,
            created_at=created, sla_due_at=created + timedelta(days=2),
            first_response_at=None if minutes is None else created + timedelta(minutes=minutes),
            closed_at=created + timedelta(days=1) if status == "closed" else None,
            outcome=outcome, follow_up=False))
    await session.execute(insert(UnmetNeedRow), [
        {"day": day, "topic": topic, "region": region, "language": language, "reason": reason}
        for day, topic, region, language, reason in NEEDS])


async def test_ticket_figures_since_a_day(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await _seed(session)
    async with sessions() as session:
        figures = await reports.report_tickets(session=session, since=SINCE)
    assert figures.total == 5
    assert dict(figures.by_status) == {"closed": 2, "in_progress": 2, "new": 1}
    assert dict(figures.by_topic) == {"family": 2, "health": 2, None: 1}
    assert dict(figures.by_region) == {"DKR": 2, "KLD": 2, None: 1}
    assert dict(figures.by_outcome) == {"helped": 1, "unreachable": 1, None: 3}
    assert figures.responded == 4
    assert figures.median_first_response_minutes == 21.5  # of 4, 12.5, 30.5 and 61


async def test_ticket_figures_over_all_time(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await _seed(session)
    async with sessions() as session:
        figures = await reports.report_tickets(session=session)
    assert figures.total == 6 and figures.responded == 5
    assert dict(figures.by_status) == {"closed": 3, "in_progress": 2, "new": 1}
    assert dict(figures.by_outcome) == {"helped": 2, "unreachable": 1, None: 3}
    assert figures.median_first_response_minutes == 30.5  # 600 is the odd one out


async def test_median_is_rounded_and_absent_without_responses(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await _seed(session)
    async with sessions() as session:
        later = await reports.report_tickets(session=session, since=SINCE + timedelta(days=30))
    assert later.total == 0 and later.responded == 0
    assert later.median_first_response_minutes is None
    assert dict(later.by_status) == {}

    async with sessions() as session, session.begin():
        created = SINCE + timedelta(days=40)
        consent_id = await session.scalar(select(ConsentEventRow.id))
        await session.execute(insert(TicketRow).values(
            reference="T-7", user_id=None, consent_event_id=consent_id, status="in_progress",
            priority="urgent", organization_id="credit-avenir", language="ar", shared={},
            created_at=created, sla_due_at=created,
            first_response_at=created + timedelta(seconds=100), follow_up=False))
    async with sessions() as session:
        latest = await reports.report_tickets(session=session, since=created)
    assert latest.total == 1 and latest.median_first_response_minutes == 1.7  # 1.666…


async def test_gaps_grouped_by_day_with_totals(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await _seed(session)
    async with sessions() as session:
        gaps = await reports.report_gaps(session=session, since=SINCE.date())
        everything = await reports.report_gaps(session=session)
    assert gaps.entries == (
        GapEntry(date(2026, 11, 2), "health", "KLD", "ar", "no_service_in_region", 1),
        GapEntry(date(2026, 11, 2), "health", "KLD", "fr", "no_service_in_region", 2),
        GapEntry(date(2026, 11, 3), "family", None, "en", "no_service_matched", 1),
        GapEntry(date(2026, 11, 3), None, None, "fr", "no_service_matched", 1),
        GapEntry(date(2026, 11, 4), "health", "KLD", "fr", "not_eligible", 1),
    )
    assert gaps.totals == (
        GapTotal("health", "KLD", "no_service_in_region", 3),
        GapTotal("family", None, "no_service_matched", 1),
        GapTotal("health", "KLD", "not_eligible", 1),
        GapTotal(None, None, "no_service_matched", 1),
    )
    assert gaps.count == 6 and everything.count == 7
    assert GapTotal("health", "DKR", "no_service_in_region", 1) in everything.totals


# ---------------------------------------------------------------- the CLI



def _seed_database(database_url: str) -> None:
    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await _seed(session)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_report_commands(tmp_path: Path, empty_database: str) -> None:
    url = empty_database
    assert run_cli(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    assert run_cli(url, "catalog", "import", cwd=tmp_path).returncode == 0
    empty = run_cli(url, "report", "gaps", cwd=tmp_path)
    assert empty.returncode == 0 and empty.stdout == "day,topic,region,language,reason,count\n"
    _seed_database(url)

    gaps = run_cli(url, "report", "gaps", "--since", "2026-11-01", cwd=tmp_path)
    assert gaps.returncode == 0, gaps.stderr
    assert gaps.stdout.splitlines() == [
        "day,topic,region,language,reason,count",
        "2026-11-02,health,KLD,ar,no_service_in_region,1",
        "2026-11-02,health,KLD,fr,no_service_in_region,2",
        "2026-11-03,family,,en,no_service_matched,1",
        "2026-11-03,,,fr,no_service_matched,1",
        "2026-11-04,health,KLD,fr,not_eligible,1",
    ]
    totals = run_cli(url, "report", "gaps", "--totals", cwd=tmp_path).stdout.splitlines()
    assert totals[:2] == ["topic,region,reason,count", "health,KLD,no_service_in_region,3"]
    assert len(totals) == 6 and "health,DKR,no_service_in_region,1" in totals

    document = json.loads(run_cli(url, "report", "gaps", "--since", "2026-11-01", "--format",
                               "json", cwd=tmp_path).stdout)
    assert document["since"] == "2026-11-01" and document["count"] == 6
    assert document["entries"][2] == {"day": "2026-11-03", "topic": "family", "region": None,
                                      "language": "en", "reason": "no_service_matched",
                                      "count": 1}
    assert document["totals"][0] == {"topic": "health", "region": "KLD",
                                     "reason": "no_service_in_region", "count": 3}
    assert len(document["entries"]) == 5 and len(document["totals"]) == 4

    tickets = json.loads(run_cli(url, "report", "tickets", "--since", "2026-11-01", "--format",
                              "json", cwd=tmp_path).stdout)
    assert tickets == {
        "since": "2026-11-01", "tickets": 5,
        "by_status": {"closed": 2, "in_progress": 2, "new": 1},
        "by_topic": {"family": 2, "health": 2, "none": 1},
        "by_region": {"DKR": 2, "KLD": 2, "none": 1},
        "by_outcome": {"helped": 1, "unreachable": 1, "none": 3},
        "responded": 4, "median_first_response_minutes": 21.5,
    }
    text = run_cli(url, "report", "tickets", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "Tickets: 6",
        "By status:  closed 3, in_progress 2, new 1",
        "By topic:   family 2, health 3, none 1",
        "By region:  DKR 3, KLD 2, none 1",
        "By outcome: helped 2, unreachable 1, none 3",
        "Median time to first response: 30.5 min over 5 ticket(s)",
    ]
    bad = run_cli(url, "report", "tickets", "--since", "1 Nov", cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr
