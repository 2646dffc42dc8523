# ruff: noqa: F811  (pytest fixtures imported from the handoff tests are used as arguments)
"""Database faults: a SQLite database locked by another process for longer than the busy
timeout gets the user a polite "try again", never a half-written ticket; a PostgreSQL
restart under load is survived."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.dialogue import callbacks as cb
from bot.settings import Settings
from bot.storage.models import ConsentEventRow, TicketRow
from tests.bot.conftest import Sessions
from tests.bot.test_handoff import App, People, api, app  # noqa: F401
from tests.fake_bot_api import FakeBotAPI, FakeUser

TRY_AGAIN = "Please try again in a moment."
LOCK = ("import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n")


@pytest.fixture
def bot_settings(bot_settings: Settings) -> Settings:
    return bot_settings.model_copy(update={"sqlite_busy_timeout_ms": 300})


@contextlib.contextmanager
def write_locked(database_url: str) -> Iterator[None]:
    """Another process holds SQLite's write lock until the block ends."""
    path = database_url.split("///", 1)[1]
    holder = subprocess.Popen([sys.executable, "-c", LOCK, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.communicate("", timeout=10)


async def counts(sessions: Sessions) -> tuple[int, int]:
    async with sessions() as session:
        shares = select(func.count()).where(ConsentEventRow.purpose == "share_with_caseworker")
        return (await session.scalar(select(func.count(TicketRow.id))) or 0,
                await session.scalar(shares) or 0)


async def test_a_locked_database_gets_try_again_and_no_half_written_ticket(
    app: App, api: FakeBotAPI, catalogued: Sessions, database_url: str
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    people = People(api)
    await people.say("/start")
    await people.press(cb.service("national-id-card"))
    await people.press(cb.handoff("national-id-card"))
    await people.say("I lost my ID card and need a new one")
    with write_locked(database_url):
        refused = await people.press(cb.draft("share"))
        assert [m.text for m in refused] == [f"Sorry, something went wrong on my side. {TRY_AGAIN}"]
    assert await counts(catalogued) == (0, 0)  # neither the ticket nor its consent
    confirmation = await people.press(cb.draft("share"))  # the same button, once it is free
    assert "R-2026-" in confirmation[-1].text
    assert await counts(catalogued) == (1, 1)


async def menu_loop(api: FakeBotAPI, user: FakeUser, stop: asyncio.Event) -> list[str]:
    """Asks for the menu again and again; each reply's text, in order."""
    replies = []
    while not stop.is_set():
        api.send_command(user, "/menu")
        replies += [m.text for m in await api.next_messages(user.id, timeout=30)]
    return replies


@pytest.mark.skipif(not os.environ.get("TEST_PG_RESTART"),
                    reason="needs a PostgreSQL server the test may restart (TEST_PG_RESTART)")
async def test_a_postgresql_restart_under_load_is_survived(app: App, api: FakeBotAPI):
    users = [api.user(id=9100 + i, first_name="Awa", language_code="en") for i in range(8)]
    stop = asyncio.Event()
    loops = [asyncio.create_task(menu_loop(api, user, stop)) for user in users]
    await asyncio.sleep(1)
    restart = await asyncio.to_thread(subprocess.run, shlex.split(os.environ["TEST_PG_RESTART"]),
                                      capture_output=True, text=True, timeout=60)
    assert restart.returncode == 0, restart.stderr
    await asyncio.sleep(2)
    stop.set()
    for replies in await asyncio.gather(*loops):
        # every message answered (some perhaps with "try again"), and served again afterwards
        assert all("What do you need help with" in r or TRY_AGAIN in r for r in replies)
        assert "What do you need help with" in replies[-1]
