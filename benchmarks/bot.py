"""Bot benchmark: per-update processing latency and throughput through the real PTB stack.

The bot runs as in production, `returnee-bot run` in its own process, against the fake Bot
API on 127.0.0.1 in this process, with the sample catalogue in SQLite. 100 simulated users
run a scripted conversation each (buttons and free text in en/fr/ar). Two phases:

- latency: users pause 0.5 to 1.5 s between messages, as people do (about 100 updates/s);
- throughput: users send their next message as soon as the reply has arrived.

Latency runs from the moment an update is queued at the fake API to the bot's last reply
to it, so it includes long-polling. The outgoing limits (30 messages/s overall, one a second
per chat) are switched off: this measures processing capacity; benchmarks/load.py measures
the bot with them on.

Run with `make bench`. Writes benchmarks/results/bot.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from benchmarks import percentile
from bot import database
from bot.dialogue import callbacks as cb
from bot.settings import PROJECT_ROOT
from services_catalog import files
from services_catalog.db import create_engine, session_factory
from services_catalog.importer import import_catalog
from services_catalog.validation import Rules
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

RESULTS = Path(__file__).resolve().parent / "results" / "bot.json"
TARGETS = {"p50_ms": 20, "p99_ms": 100, "updates_per_s": 300}
USERS = 100
ROUNDS = 2
TOKEN = "123456:BENCH-TOKEN"
QUESTIONS = {
    "en": ("how much does it cost", "where is the office and when is it open"),
    "fr": ("combien ca coute", "ou se trouve le bureau"),
    "ar": ("كم التكلفة", "أين يقع المكتب"),
}


class Replies:
    """When the bot last wrote to each chat, read incrementally from the fake's request log."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api, self.seen, self.last = api, 0, dict[int, float]()

    def at(self, chat_id: int) -> float:
        requests = self.api.requests
        for record in requests[self.seen:]:
            if record.method == "sendMessage" and record.status == 200:
                self.last[int(record.params["chat_id"])] = record.time
        self.seen = len(requests)
        return self.last.get(chat_id, 0.0)


async def prepare_database(url: str) -> None:
    await asyncio.to_thread(database.upgrade, url)
    report = files.load(PROJECT_ROOT / "services_catalog" / "data",
                        Rules(today=date.today(), max_age_days=100 * 365))
    assert report.catalog is not None
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await import_catalog(session, report.catalog, source="benchmark")
    await engine.dispose()


async def converse(
    api: FakeBotAPI, replies: Replies, latencies: list[float], user: FakeUser, think: bool
) -> int:
    """One user's scripted conversation; returns the number of updates sent."""
    sent = 0
    language = user.language_code or "en"
    pause = random.Random(user.id)

    async def step(message: SentMessage | None, data: str = "", text: str = "") -> list[
            SentMessage]:
        nonlocal sent
        if think:
            await asyncio.sleep(pause.uniform(0.5, 1.5))
        queued = time.monotonic()
        if message is not None:
            api.press(user, message, data)
        elif text.startswith("/"):
            api.send_command(user, text)
        else:
            api.send_text(user, text)
        reply = await api.next_messages(user.id, timeout=30, settle=0.03)
        latencies.append((replies.at(user.id) - queued) * 1000)
        sent += 1
        return reply

    async def press(messages: list[SentMessage], prefix: str) -> list[SentMessage]:
        for message in messages:
            for row in message.buttons:
                for _label, data in row:
                    if data and data.startswith(prefix):
                        return await step(message, data)
        return messages

    for round_ in range(ROUNDS):
        reply = await step(None, text="/start")
        reply = await press(reply, cb.consent("store_profile", round_ % 2 == 0))
        reply = await step(None, text="/menu")
        reply = await press(reply, cb.category("legal_documentation"))
        reply = await press(reply, "r:")
        reply = await press(reply, "s:")
        reply = await press(reply, "a:d:")
        for question in QUESTIONS[language]:
            reply = await step(None, text=question)
        await step(None, text="/privacy")
    return sent


def start_bot(
    api: FakeBotAPI, database_url: str, settings: dict[str, str] | None = None,
    stderr: TextIO | None = None,
) -> subprocess.Popen[bytes]:
    """`returnee-bot run` against the fake; `settings` replace the defaults below (outgoing
    limits off: this benchmark measures processing capacity)."""
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": api.base_url, "TELEGRAM_MESSAGES_PER_SECOND": "0",
           "TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND": "0",
           "PSEUDONYM_KEY": "ab" * 32, "LOG_LEVEL": "WARNING", "OMP_NUM_THREADS": "1",
           "USER_BURST": "100000", **(settings or {})}  # scripted users type fast
    env = {name: value for name, value in env.items() if value}  # "": the setting's default
    command = [str(Path(sys.executable).with_name("returnee-bot")), "run"]
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stderr=stderr)


async def wait_until_polling(api: FakeBotAPI, bot: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if bot.poll() is not None:
            raise RuntimeError("the bot exited during start-up")
        if api.calls("getUpdates"):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not start polling within a minute")


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = next(int(line.split()[1]) for line in status.splitlines()
                     if line.startswith("VmHWM"))
    return round(kilobytes / 1024, 1)


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await prepare_database(url)
        async with FakeBotAPI(token=TOKEN) as api:
            bot = start_bot(api, url)
            try:
                await wait_until_polling(api, bot)
                replies = Replies(api)
                users = [api.user(id=5000 + i, first_name=f"U{i}",
                                  language_code=("en", "fr", "ar")[i % 3])
                         for i in range(USERS)]
                phases = {}
                for phase, think in (("latency", True), ("throughput", False)):
                    latencies: list[float] = []
                    begun, cpu, bot_cpu = time.perf_counter(), time.process_time(), cpu_s(bot.pid)
                    counts = await asyncio.gather(*(
                        converse(api, replies, latencies, u, think) for u in users))
                    elapsed = time.perf_counter() - begun
                    phases[phase] = summary(sum(counts), elapsed, latencies)
                    phases[phase]["bot_cpu_share"] = round((cpu_s(bot.pid) - bot_cpu) / elapsed, 2)
                    phases[phase]["load_cpu_share"] = round(
                        (time.process_time() - cpu) / elapsed, 2)
                rss = peak_rss_mb(bot.pid)
            finally:
                bot.terminate()
                await asyncio.to_thread(bot.wait, 30)  # the fake keeps serving meanwhile
            errors = [r.description for r in api.errors]
    return {"users": USERS, **phases, "bot_api_errors": errors, "bot_peak_rss_mb": rss}


def summary(updates: int, elapsed: float, latencies: list[float]) -> dict[str, float]:
    return {"updates": updates, "elapsed_s": round(elapsed, 2),
            "updates_per_s": round(updates / elapsed, 1), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "max_ms": percentile(latencies, 1.0)}


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
