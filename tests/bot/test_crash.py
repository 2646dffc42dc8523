"""Crash safety: the bot runs as `returnee-bot run` and is killed with SIGKILL at random
moments while returnees ask for a case worker, 50 times. Afterwards every request a user
saw confirmed exists exactly once, no ticket lacks its consent, every update the fake
delivered was processed, and SQLite's integrity check passes. (SQLite only: on PostgreSQL,
crash safety is the server's.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.dialogue import callbacks as cb
from bot.storage.models import ConsentEventRow, InboxRow, TicketRow
from nlu.model import Model
from tests.bot.conftest import BIN, TOKEN, Sessions
from tests.conftest import PROJECT
from tests.fake_bot_api import FakeBotAPI, SentMessage

KILLS = 50
DRIVERS = 4  # returnees asking for help at the same time
TEAM_CHAT = -100700
REFERENCE = re.compile(r"R-\d{4}-\d{6}")
STEP_TIMEOUT = 12.0  # longer than a restart: a step's reply may come from the next run


class Ledger:
    """What the returnees saw, and which updates the fake delivered."""

    def __init__(self) -> None:
        self.confirmed: list[str] = []
        self.updates: list[int] = []


async def step(api: FakeBotAPI, ledger: Ledger, user_id: int, send: int,
               expect: str) -> list[SentMessage] | None:
    """Waits for a reply containing `expect` (text or button data); None if it never came
    (the bot died after answering, before sending: the user gives up and starts over)."""
    ledger.updates.append(send)
    seen: list[SentMessage] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT
    while not any(expect in m.text or expect in _data(m) for m in seen):
        try:
            seen += await api.next_messages(user_id, timeout=deadline - loop.time())
        except TimeoutError:
            return None
    return seen


async def handoff(api: FakeBotAPI, ledger: Ledger, user_id: int) -> None:
    """One returnee: /start, a service, "talk to a case worker", a description, share."""
    user = api.user(id=user_id, first_name="Moussa", language_code="en")
    service = cb.service("national-id-card")
    if await step(api, ledger, user_id, api.send_command(user, "/start"), "") is None:
        return
    for data, expect in ((service, cb.handoff("national-id-card")),
                         (cb.handoff("national-id-card"), "")):
        message = api.messages(user_id)[-1]
        if await step(api, ledger, user_id, api.press(user, message, data), expect) is None:
            return
    preview = await step(api, ledger, user_id, api.send_text(user, "I lost my ID card"),
                         cb.draft("share"))
    if preview is None:
        return
    message = next(m for m in reversed(preview) if cb.draft("share") in _data(m))
    confirmation = await step(api, ledger, user_id, api.press(user, message, cb.draft("share")),
                              "R-")
    if confirmation is None:
        return
    ledger.confirmed += [r for m in confirmation for r in REFERENCE.findall(m.text)][:1]


async def returnees(api: FakeBotAPI, ledger: Ledger, first_id: int,
                    stop: asyncio.Event) -> None:
    user_id = first_id
    while not stop.is_set():
        await handoff(api, ledger, user_id)
        user_id += DRIVERS  # each handoff by a new returnee: two tickets for one is a double


def _data(message: SentMessage) -> str:
    return " ".join(data for row in message.buttons for _label, data in row if data)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as api:
        api.create_chat(TEAM_CHAT, type="supergroup", title="Police team")
        yield api


def start_bot(api: FakeBotAPI, database_url: str, nlu_cache: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": api.base_url, "PSEUDONYM_KEY": "ab" * 32,
           "NLU_CACHE_DIR": str(nlu_cache), "LOG_LEVEL": "ERROR", "OMP_NUM_THREADS": "1",
           "TEAM_CHATS": json.dumps({"national-police": TEAM_CHAT}), "USER_BURST": "1000",
           "TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND": "0"}
    return subprocess.Popen([str(BIN), "run"], env=env, cwd=PROJECT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.asynccontextmanager
async def bot_process(
    api: FakeBotAPI, database_url: str, nlu_cache: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The bot, once it polls; SIGKILLed at the end unless it has stopped by itself."""
    polls = len(api.calls("getUpdates"))
    bot = start_bot(api, database_url, nlu_cache)
    try:
        for _ in range(1200):
            if bot.poll() is not None:
                raise AssertionError(f"the bot exited: {bot.stderr.read().decode()[-2000:]}"
                                     if bot.stderr else "the bot exited")
            if len(api.calls("getUpdates")) > polls:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot did not start polling within a minute")
        yield bot
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGKILL)
        await asyncio.to_thread(bot.wait)


async def test_sigkill_during_handoffs_loses_and_doubles_nothing(
    fake: FakeBotAPI, catalogued: Sessions, database_url: str, nlu_cache: Path, model: Model
):
    if not database_url.startswith("sqlite"):
        pytest.skip("the bot's own database file under SIGKILL")
    rng, ledger, stop = random.Random(20261122), Ledger(), asyncio.Event()
    drivers = [asyncio.create_task(returnees(fake, ledger, 80_000 + i, stop))
               for i in range(DRIVERS)]
    try:
        for _ in range(KILLS):
            async with bot_process(fake, database_url, nlu_cache):
                await asyncio.sleep(rng.uniform(0.1, 1.5))
        async with bot_process(fake, database_url, nlu_cache) as bot:  # replays, finishes
            stop.set()
            await asyncio.gather(*drivers)
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(bot.wait, 60) == 0
    finally:
        for driver in drivers:
            driver.cancel()

    assert len(ledger.confirmed) >= 2 * KILLS // 5, "too few handoffs to prove anything"
    async with catalogued() as session:
        references = Counter((await session.execute(select(TicketRow.reference))).scalars())
        assert {r: references[r] for r in ledger.confirmed} == dict.fromkeys(ledger.confirmed, 1)
        per_user = select(TicketRow.user_id, func.count()).group_by(TicketRow.user_id)
        assert all(count == 1 for _user, count in await session.execute(per_user))
        consents = select(TicketRow.id, ConsentEventRow.purpose, ConsentEventRow.given,
                          ConsentEventRow.user_id == TicketRow.user_id).outerjoin(
            ConsentEventRow, ConsentEventRow.id == TicketRow.consent_event_id)
        assert {(purpose, given, same) for _id, purpose, given, same
                in await session.execute(consents)} == {("share_with_caseworker", True, True)}
        inbox = {r.update_id: r.done for r in (await session.execute(select(InboxRow))).scalars()}
        assert {u: inbox.get(u) for u in ledger.updates} == dict.fromkeys(ledger.updates, True)
        assert (await session.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
