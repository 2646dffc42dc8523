"""Bot benchmark: per-update processing latency and throughput through the real PTB stack.

100 simulated users talk at once to the real Application over HTTP, against the fake Bot
API on 127.0.0.1, with the sample catalogue in SQLite. Each user runs a scripted
conversation (buttons and free text in en/fr/ar) and sends its next message as soon as the
previous one was processed. Latency is measured inside the Application, from the first
handler to the last reply sent for the update. The outgoing rate limiter is switched off:
this measures processing capacity, not Telegram's 30 messages/s broadcast limit.

Run with `make bench`. Writes benchmarks/results/bot.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, TypeHandler

from benchmarks import PEAK_RSS_MB, percentile
from bot import database, nlu_setup
from bot.app import build_application
from bot.dialogue import callbacks as cb
from bot.settings import PROJECT_ROOT, Settings
from services_catalog import files
from services_catalog.db import create_engine, session_factory
from services_catalog.importer import import_catalog
from services_catalog.validation import Rules
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

RESULTS = Path(__file__).resolve().parent / "results" / "bot.json"
TARGETS = {"p50_ms": 20, "p99_ms": 100, "updates_per_s": 300}
USERS = 100
ROUNDS = 3
TOKEN = "123456:BENCH-TOKEN"
QUESTIONS = {
    "en": ("how much does it cost", "where is the office and when is it open"),
    "fr": ("combien ca coute", "ou se trouve le bureau"),
    "ar": ("كم التكلفة", "أين يقع المكتب"),
}
App = Application[Any, Any, Any, Any, Any, Any]


class Timings:
    """Handler-group hooks: the first group starts the clock, the last one stops it."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.latencies: list[float] = []
        self.done: dict[int, asyncio.Event] = {}

    def event(self, update_id: int) -> asyncio.Event:
        return self.done.setdefault(update_id, asyncio.Event())

    async def start(self, update: Update, _context: Any) -> None:
        self.started[update.update_id] = time.perf_counter()

    async def stop(self, update: Update, _context: Any) -> None:
        begun = self.started.pop(update.update_id, None)
        if begun is not None:
            self.latencies.append((time.perf_counter() - begun) * 1000)
        self.event(update.update_id).set()


async def prepare_database(url: str) -> None:
    await asyncio.to_thread(database.upgrade, url)
    report = files.load(PROJECT_ROOT / "services_catalog" / "data",
                        Rules(today=date.today(), max_age_days=100 * 365))
    assert report.catalog is not None
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await import_catalog(session, report.catalog, source="benchmark")
    await engine.dispose()


async def converse(api: FakeBotAPI, timings: Timings, user: FakeUser, language: str) -> int:
    """One user's scripted conversation; returns the number of updates sent."""
    sent = 0

    async def step(send: Callable[[], int]) -> list[SentMessage]:
        nonlocal sent
        before = len(api.messages(user.id))
        await timings.event(send()).wait()
        sent += 1
        return api.messages(user.id)[before:]

    def button(messages: list[SentMessage], prefix: str) -> tuple[SentMessage, str] | None:
        for message in messages:
            for row in message.buttons:
                for _label, data in row:
                    if data and data.startswith(prefix):
                        return message, data
        return None

    async def press(messages: list[SentMessage], prefix: str) -> list[SentMessage]:
        found = button(messages, prefix)
        if found is None:
            return messages
        message, data = found
        return await step(lambda: api.press(user, message, data))

    for round_ in range(ROUNDS):
        reply = await step(lambda: api.send_command(user, "/start"))
        reply = await press(reply, cb.consent("store_profile", round_ % 2 == 0))
        reply = await step(lambda: api.send_command(user, "/menu"))
        reply = await press(reply, cb.category("legal_documentation"))
        reply = await press(reply, "r:")
        reply = await press(reply, "s:")
        reply = await press(reply, "a:d:")
        for question in QUESTIONS[language]:
            reply = await step(lambda q=question: api.send_text(user, q))  # type: ignore[misc]
        await step(lambda: api.send_command(user, "/privacy"))
    return sent


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await prepare_database(url)
        async with FakeBotAPI(token=TOKEN) as api:
            settings = Settings(
                _env_file=None, database_url=url, telegram_bot_token=SecretStr(TOKEN),
                telegram_api_base_url=api.base_url, pseudonym_key=SecretStr("ab" * 32),
                telegram_messages_per_second=0)
            index = nlu_setup.catalog_index_from_files(settings.catalog_path)
            parser = nlu_setup.embedded_parser(settings, index)
            application = build_application(settings, parser)
            timings = Timings()
            application.add_handler(TypeHandler(Update, timings.start), group=-100)
            application.add_handler(TypeHandler(Update, timings.stop), group=100)
            async with application:
                assert application.post_init and application.updater
                await application.post_init(application)
                await application.updater.start_polling(poll_interval=0, timeout=1)
                await application.start()
                users = [api.user(id=5000 + i, first_name=f"U{i}",
                                  language_code=("en", "fr", "ar")[i % 3])
                         for i in range(USERS)]
                begun = time.perf_counter()
                counts = await asyncio.gather(*(
                    converse(api, timings, u, u.language_code or "en") for u in users))
                elapsed = time.perf_counter() - begun
                await application.updater.stop()
                await application.stop()
                assert application.post_shutdown
                await application.post_shutdown(application)
            errors = len(api.errors)
    updates = sum(counts)
    return {
        "users": USERS, "updates": updates, "elapsed_s": round(elapsed, 2),
        "updates_per_s": round(updates / elapsed, 1),
        "p50_ms": percentile(timings.latencies, 0.5),
        "p99_ms": percentile(timings.latencies, 0.99),
        "max_ms": percentile(timings.latencies, 1.0),
        "bot_api_errors": errors,
        "peak_rss_mb": round(eval(PEAK_RSS_MB), 1),
    }


def main() -> None:
    measured = asyncio.run(run())
    report = {"date": date.today().isoformat(), "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count()},
        "targets": TARGETS, "measured": measured}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
