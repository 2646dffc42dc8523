"""Load benchmark: 200 simulated users, each a whole conversation ending in a handoff, with
the production outgoing rate limiter on.

The bot runs as in production, `returnee-bot run` in its own process, against the fake Bot
API on 127.0.0.1 in this process, with the sample catalogue imported into a temporary SQLite
database (as benchmarks/bot.py). Unlike that benchmark, the outgoing limits stay at their
defaults: 30 messages/s overall and one message a second per private chat
(TELEGRAM_MESSAGES_PER_SECOND, TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND). Only the per-user
flood limit is raised, so scripted users are never throttled. Every organisation of the
catalogue has its own team chat (TEAM_CHATS): Telegram allows 20 messages a minute per group,
so one chat for all 200 cards would take minutes.

Each user (languages en, fr, ar in turn) starts at a random moment within the first
STAGGER_S seconds and sends: /start; "yes, remember me" (store_profile consent); a category
from the menu; a region when asked; a service (one per organisation in turn, so tickets
spread over the team chats); two questions in their language; "talk to a case worker"; a
description of their need; "share and send" (share_with_caseworker consent). The
confirmation carries the ticket reference. A user reads each reply until the chat has been
quiet for SETTLE_S seconds (the per-chat pacing spaces the messages of one reply a second
apart), then thinks THINK_S seconds (uniform, seeded) before the next message. That is 10
updates and 11 replies per user, 2,400 messages with the team cards in about 2.6 minutes:
15 a second on average and about 23 while all users are active (single seconds reach 30
by chance). People pausing 2 to 6 s, starting within 20 s, would offer about 40 a second,
over the limit the run is meant to stay under.

Measures, from the fake's request log (times are arrivals at the fake, `time.monotonic`):

- processing latency of an update: from queueing it at the fake to the bot's first message
  to that chat after it (any request with the chat's id but getChat and sendChatAction;
  answerCallbackQuery has no chat). It includes long polling, the handlers, the database and
  any wait in the rate limiter for the first message;
- last-reply latency: to the last message to that chat before the user's next update. A reply
  of n messages ends at least n - 1 seconds after its first, by the per-chat pacing;
- throughput: updates answered a second and messages sent a second over the run;
- the most messages in any sliding 1 s window, overall and to any one private chat, and the
  smallest gap between two messages to the same private chat. Window counts allow
  JITTER_S for the variable delay between the bot's limiter and the fake's clock. The bot's
  limiter sends one request every 1/30 s, so no sliding second holds more than 30;
- peak RSS of the bot process (VmHWM): over its life, at start-up (which may build the NLU
  model) and under load;
- lost updates: sent but not answered before the user's next update, or whose row in the
  durable inbox (table `inbox`, read after the bot stopped) is missing or not done;
- duplicate tickets: users with more than one ticket, plus users whose confirmed reference is
  not in `tickets` exactly once, for their chat;
- team cards: delivered, and the delay from the user's confirmation to the card (group-limited).

Run with `make bench`. Writes benchmarks/results/load.json.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import platform
import random
import re
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks import percentile
from benchmarks.bot import (
    QUESTIONS,
    TOKEN,
    cpu_s,
    peak_rss_mb,
    prepare_database,
    start_bot,
    wait_until_polling,
)
from bot.dialogue import callbacks as cb
from bot.settings import PROJECT_ROOT
from services_catalog import files
from services_catalog.schema import Catalog, Service
from services_catalog.validation import Rules
from tests.fake_bot_api import FakeBotAPI, FakeUser, RequestRecord, SentMessage

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
TARGETS: dict[str, float] = {"p99_ms": 250, "lost_updates": 0, "duplicate_tickets": 0,
                             "messages_per_s": 30, "messages_per_chat_per_s": 1}
USERS = 200
LANGUAGES = ("en", "fr", "ar")
SEED = 2026
STAGGER_S = 40.0
THINK_S = (5.0, 15.0)
SETTLE_S = 1.5
REPLY_TIMEOUT_S = 60.0
CARD_TIMEOUT_S = 240.0
JITTER_S = 0.02
FIRST_USER = 10_000
TEAM_CHAT = -100_900_000  # minus the organisation's index
DEFAULT_TEAM_CHAT = -100_899_999
NOT_MESSAGES = frozenset({"getChat", "sendChatAction"})
REFERENCE = re.compile(r"R-\d{4}-\d{6}")
DESCRIPTIONS = {
    "en": "I need help with my application, please",
    "fr": "J'ai besoin d'aide pour mon dossier, s'il vous plaît",
    "ar": "أحتاج مساعدة في ملفي من فضلك",
}


class ScriptError(Exception):
    """The bot's reply did not offer what the scripted user needed next."""


@dataclass(frozen=True)
class Plan:
    user: FakeUser
    start: float
    category: str
    region: str
    service: str


@dataclass(frozen=True)
class Sent:
    chat_id: int
    update_id: int
    queued: float


@dataclass
class Outcome:
    user_id: int
    reference: str | None = None
    problem: str | None = None


@dataclass
class Run:
    """What the load produced: the updates sent and each user's outcome."""

    sent: list[Sent] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def load_catalogue() -> Catalog:
    report = files.load(PROJECT_ROOT / "services_catalog" / "data",
                        Rules(today=date.today(), max_age_days=100 * 365))
    assert report.catalog is not None
    return report.catalog


def team_chats(catalogue: Catalog) -> dict[str, int]:
    return {o.id: TEAM_CHAT - i for i, o in enumerate(catalogue.organizations)}


def plans(api: FakeBotAPI, catalogue: Catalog) -> list[Plan]:
    """Users take the referral services of each organisation in turn."""
    regions = [r.id for r in catalogue.regions]
    by_org: dict[str, list[Service]] = defaultdict(list)
    for service in catalogue.services:
        if service.accepts_referrals and not service.emergency:
            by_org[service.organization].append(service)
    orgs = sorted(by_org)
    rng = random.Random(SEED)
    result = []
    for i in range(USERS):
        services = by_org[orgs[i % len(orgs)]]
        service = services[i // len(orgs) % len(services)]
        where = sorted(set(regions) & service.area_ids()) or regions
        user = api.user(id=FIRST_USER + i, first_name=f"U{i}",
                        language_code=LANGUAGES[i % len(LANGUAGES)])
        result.append(Plan(user, rng.uniform(0, STAGGER_S), service.category,
                           rng.choice(where), service.id))
    return result


def buttons(messages: Iterable[SentMessage]) -> list[str]:
    return [data for m in messages for row in m.buttons for _label, data in row if data]


class Script:
    """One user's conversation."""

    def __init__(self, api: FakeBotAPI, plan: Plan, run: Run) -> None:
        self.api, self.plan, self.run = api, plan, run
        self.user, self.rng, self.first = plan.user, random.Random(SEED + plan.user.id), True

    async def send(self, action: Callable[[], int]) -> list[SentMessage]:
        if not self.first:
            await asyncio.sleep(self.rng.uniform(*THINK_S))
        self.first = False
        queued = time.monotonic()
        self.run.sent.append(Sent(self.user.id, action(), queued))
        return await self.api.next_messages(self.user.id, timeout=REPLY_TIMEOUT_S,
                                            settle=SETTLE_S)

    async def say(self, text: str) -> list[SentMessage]:
        if text.startswith("/"):
            return await self.send(partial(self.api.send_command, self.user, text))
        return await self.send(partial(self.api.send_text, self.user, text))

    async def press(self, *wanted: Callable[[str], bool]) -> list[SentMessage]:
        """Presses the newest button matching the first predicate that matches any."""
        messages = self.api.messages(self.user.id)[::-1]
        for accept in wanted:
            for message in messages:
                for data in buttons([message]):
                    if accept(data):
                        return await self.send(partial(self.api.press, self.user, message, data))
        raise ScriptError(f"no button for the next step in {buttons(messages[:1])}")

    async def converse(self) -> str:
        plan, language = self.plan, self.user.language_code or "en"
        await asyncio.sleep(plan.start)
        await self.say("/start")
        await self.press(equals(cb.consent("store_profile", True)))
        reply = await self.press(equals(cb.category(plan.category)))
        if any(d.startswith("r:") for d in buttons(reply)):
            reply = await self.press(equals(cb.region(plan.region)), is_region)
        target = cb.service(plan.service)
        while target not in buttons(reply) and any(d.startswith("c:") for d in buttons(reply)):
            reply = await self.press(lambda d: d.startswith(cb.category(plan.category) + ":"))
        await self.press(equals(target), lambda d: d.startswith("s:"))
        for question in QUESTIONS[language]:
            await self.say(question)
        await self.press(equals(cb.handoff(plan.service)), lambda d: d.startswith("h"))
        reply = await self.say(DESCRIPTIONS[language])
        if cb.draft("share") not in buttons(reply):
            await self.press(equals(cb.draft("skip")))
        confirmation = await self.press(equals(cb.draft("share")))
        found = REFERENCE.search("\n".join(m.text for m in confirmation))
        if found is None:
            raise ScriptError("the confirmation has no ticket reference")
        return found[0]


def equals(expected: str) -> Callable[[str], bool]:
    return lambda data: data == expected


def is_region(data: str) -> bool:
    return data.startswith("r:") and data != cb.region(None)  # "all regions" asks again


async def converse(api: FakeBotAPI, plan: Plan, run: Run) -> None:
    outcome = Outcome(plan.user.id)
    try:
        outcome.reference = await Script(api, plan, run).converse()
    except (ScriptError, TimeoutError) as error:
        outcome.problem = f"{type(error).__name__}: {error}"
    run.outcomes.append(outcome)


def production_limits(chats: dict[str, int]) -> dict[str, str]:
    """The outgoing limits at their defaults; team chats for the cards; no flood limit."""
    return {"TELEGRAM_MESSAGES_PER_SECOND": "", "TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND": "",
            "USER_MESSAGES_PER_MINUTE": "100000", "TEAM_CHATS": json.dumps(chats),
            "CASEWORKER_CHAT_ID": str(DEFAULT_TEAM_CHAT)}


def reset_peak_rss(pid: int) -> bool:
    """Restarts the process's VmHWM from its current RSS (Linux 4.0+), so the peak under load
    is told apart from start-up, where the NLU model may be built (a cold cache)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def messages_sent(api: FakeBotAPI) -> list[tuple[int, float, str]]:
    """(chat id, arrival time, text) of every message the bot sent, by arrival."""
    found = [(int(r.params["chat_id"]), r.time, str(r.params.get("text", "")))
             for r in list(api.requests) if is_message(r)]
    return sorted(found, key=lambda m: m[1])


def is_message(record: RequestRecord) -> bool:
    return record.ok and "chat_id" in record.params and record.method not in NOT_MESSAGES


async def wait_for_cards(api: FakeBotAPI, references: set[str], chats: set[int]) -> float:
    """Seconds waited until every confirmed reference has its card in a team chat."""
    begun = time.monotonic()
    while time.monotonic() - begun < CARD_TIMEOUT_S:
        posted = {m[2] for m in messages_sent(api) if m[0] in chats}
        if all(any(ref in text for text in posted) for ref in references):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)  # the inbox row is marked done after the card
    return time.monotonic() - begun


def read_database(path: Path) -> tuple[dict[int, bool], list[tuple[int | None, str]]]:
    with sqlite3.connect(path) as db:
        inbox = {int(u): bool(d) for u, d in db.execute("SELECT update_id, done FROM inbox")}
        tickets = [(c, str(r)) for c, r in db.execute("SELECT chat_id, reference FROM tickets")]
    return inbox, tickets


def latencies(run: Run, sent: list[tuple[int, float, str]]) -> tuple[
        list[float], list[float], list[Sent]]:
    """First- and last-reply latencies (ms) and the unanswered updates."""
    times: dict[int, list[float]] = defaultdict(list)
    for chat, at, _text in sent:
        times[chat].append(at)
    updates: dict[int, list[Sent]] = defaultdict(list)
    for update in sorted(run.sent, key=lambda s: s.queued):
        updates[update.chat_id].append(update)
    first, last, unanswered = [], [], []
    for chat, mine in updates.items():
        for i, update in enumerate(mine):
            until = mine[i + 1].queued if i + 1 < len(mine) else float("inf")
            lo = bisect.bisect_left(times[chat], update.queued)
            hi = bisect.bisect_left(times[chat], until)
            if lo == hi:
                unanswered.append(update)
                continue
            first.append((times[chat][lo] - update.queued) * 1000)
            last.append((times[chat][hi - 1] - update.queued) * 1000)
    return first, last, unanswered


def busiest_second(times: list[float]) -> tuple[int, float]:
    """The most events in any sliding window of 1 s (less the jitter allowance), and when
    that window began."""
    best, began, start = 0, times[0] if times else 0.0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0 - JITTER_S:
            start += 1
        if end - start + 1 > best:
            best, began = end - start + 1, times[start]
    return best, began


def pacing(sent: list[tuple[int, float, str]], begun: float) -> dict[str, float]:
    overall, at = busiest_second([at for _chat, at, _text in sent])
    private: dict[int, list[float]] = defaultdict(list)
    for chat, when, _text in sent:
        if chat > 0:
            private[chat].append(when)
    gaps = [b - a for chat_times in private.values() for a, b in pairwise(chat_times)]
    return {"max_messages_in_1s": overall, "busiest_1s_at_s": round(at - begun, 1),
            "max_messages_to_one_chat_in_1s": max(
                (busiest_second(chat_times)[0] for chat_times in private.values()), default=0),
            "min_gap_same_chat_ms": round(min(gaps, default=0.0) * 1000, 1),
            "same_chat_gaps_under_1s": sum(gap < 1.0 - JITTER_S for gap in gaps)}


def tickets_check(run: Run, tickets: list[tuple[int | None, str]]) -> dict[str, Any]:
    users = {o.user_id for o in run.outcomes}
    per_user = Counter(chat for chat, _ref in tickets if chat in users)
    owners: dict[str, list[int | None]] = defaultdict(list)
    for chat, ref in tickets:
        owners[ref].append(chat)
    several = sorted(u for u, n in per_user.items() if n > 1)
    wrong = sorted(o.user_id for o in run.outcomes
                   if o.reference is not None and owners.get(o.reference) != [o.user_id])
    return {"tickets": len(tickets), "users_with_several_tickets": len(several),
            "confirmed_references_not_found_once": len(wrong),
            "duplicate_tickets": len(set(several) | set(wrong)),
            "users_without_ticket": len(users - set(per_user))}


def cards(run: Run, sent: list[tuple[int, float, str]], chats: set[int]) -> dict[str, Any]:
    """Team cards: how many arrived and how long after the user's confirmation."""
    confirmed: dict[str, float] = {}
    posted: dict[str, float] = {}
    for chat, at, text in sent:
        for ref in REFERENCE.findall(text):
            target = posted if chat in chats else confirmed
            target.setdefault(ref, at)
    delays = [(posted[r] - at) * 1000 for r, at in confirmed.items() if r in posted]
    result: dict[str, Any] = {"posted": len(posted), "missing": len(set(confirmed) - set(posted)),
                              "team_chats": len(chats)}
    if delays:
        result.update(p50_delay_ms=percentile(delays, 0.5), max_delay_ms=percentile(delays, 1))
    return result


def bot_log(path: Path) -> dict[str, Any]:
    """Warnings and errors the bot logged (level WARNING), the distinct ones first."""
    lines = path.read_text("utf-8", "replace").splitlines()
    notable = [" ".join(line.split()[2:5]) for line in lines
               if " ERROR " in line or " WARNING " in line or " CRITICAL " in line]
    return {"lines": len(lines), "warnings_and_errors": len(notable),
            "tracebacks": sum("Traceback" in line for line in lines),
            "distinct": [f"{n}x {text}" for text, n in Counter(notable).most_common(5)]}


async def load(api: FakeBotAPI, catalogue: Catalog) -> Run:
    run = Run()
    await asyncio.gather(*(converse(api, plan, run) for plan in plans(api, catalogue)))
    return run


def summarise(run: Run, sent: list[tuple[int, float, str]], inbox: dict[int, bool],
              tickets: list[tuple[int | None, str]], chats: set[int]) -> dict[str, Any]:
    first, last, unanswered = latencies(run, sent)
    lost = {u.update_id for u in unanswered} | {
        u.update_id for u in run.sent if not inbox.get(u.update_id, False)}
    begun = min(s.queued for s in run.sent)
    ended = max(at for _chat, at, _text in sent)
    problems = Counter(o.problem.split(" in ")[0] for o in run.outcomes if o.problem)
    return {
        "users": USERS, "conversations_completed": sum(o.reference is not None
                                                       for o in run.outcomes),
        "script_problems": dict(problems), "updates": len(run.sent),
        "elapsed_s": round(ended - begun, 2),
        "updates_per_s": round(len(run.sent) / (ended - begun), 1),
        "messages": len(sent), "messages_per_s": round(len(sent) / (ended - begun), 1),
        "p50_ms": percentile(first, 0.5), "p99_ms": percentile(first, 0.99),
        "max_ms": percentile(first, 1.0), "last_reply_p50_ms": percentile(last, 0.5),
        "last_reply_p99_ms": percentile(last, 0.99), **pacing(sent, begun),
        "lost_updates": len(lost), "unanswered_updates": len(unanswered),
        "inbox_not_done": sum(not inbox.get(u.update_id, False) for u in run.sent),
        **tickets_check(run, tickets), "team_cards": cards(run, sent, chats)}


async def measure() -> dict[str, Any]:
    catalogue = load_catalogue()
    chats = team_chats(catalogue)
    with tempfile.TemporaryDirectory() as folder:
        database, log_path = Path(folder) / "load.db", Path(folder) / "bot.log"
        url = f"sqlite+aiosqlite:///{database}"
        await prepare_database(url)
        async with FakeBotAPI(token=TOKEN) as api:
            for chat in (*chats.values(), DEFAULT_TEAM_CHAT):
                api.create_chat(chat, "supergroup", title=f"Team {chat}")
            with log_path.open("w", encoding="utf-8") as log:
                bot = start_bot(api, url, production_limits(chats), log)
                try:
                    await wait_until_polling(api, bot)
                    started_rss = peak_rss_mb(bot.pid)
                    cleared = reset_peak_rss(bot.pid)
                    bot_cpu, begun = cpu_s(bot.pid), time.monotonic()
                    run = await load(api, catalogue)
                    references = {o.reference for o in run.outcomes if o.reference}
                    team = {*chats.values(), DEFAULT_TEAM_CHAT}
                    drained = await wait_for_cards(api, references, team)
                    cpu_share = (cpu_s(bot.pid) - bot_cpu) / (time.monotonic() - begun)
                    load_rss = peak_rss_mb(bot.pid) if cleared else None
                    rss = max(started_rss, load_rss or 0.0)
                finally:  # the fake must keep serving while the bot shuts down
                    bot.terminate()
                    await asyncio.to_thread(bot.wait, 60)
            sent = messages_sent(api)
            errors = [f"{r.method} {r.status} {r.description}" for r in api.errors]
        inbox, tickets = read_database(database)
        measured = summarise(run, sent, inbox, tickets, team)
        logged = bot_log(log_path)
    return {**measured, "cards_drained_after_s": round(drained, 1),
            "bot_cpu_share": round(cpu_share, 2), "bot_peak_rss_mb": rss,
            "bot_peak_rss_start_up_mb": started_rss, "bot_peak_rss_under_load_mb": load_rss,
            "bot_api_errors": errors[:10], "bot_log": logged}


def verdicts(measured: dict[str, Any]) -> dict[str, bool]:
    return {
        "p99_ms": measured["p99_ms"] <= TARGETS["p99_ms"],
        "lost_updates": measured["lost_updates"] <= TARGETS["lost_updates"],
        "duplicate_tickets": measured["duplicate_tickets"] <= TARGETS["duplicate_tickets"],
        "messages_per_s": measured["max_messages_in_1s"] <= TARGETS["messages_per_s"],
        "messages_per_chat_per_s":
            measured["max_messages_to_one_chat_in_1s"] <= TARGETS["messages_per_chat_per_s"],
    }


def main() -> None:
    started = time.monotonic()
    measured = asyncio.run(measure())
    passed = verdicts(measured)
    report = {"date": date.today().isoformat(), "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count()},
        "targets": TARGETS, "passed": passed, "measured": measured,
        "benchmark_s": round(time.monotonic() - started, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    m = measured
    print(f"load: {m['users']} users, {m['updates']} updates in {m['elapsed_s']} s: "
          f"{m['updates_per_s']} updates/s, {m['messages_per_s']} messages/s")
    print(f"latency p50 {m['p50_ms']} ms, p99 {m['p99_ms']} ms (last reply p99 "
          f"{m['last_reply_p99_ms']} ms); peak RSS {m['bot_peak_rss_mb']} MB (start-up "
          f"{m['bot_peak_rss_start_up_mb']}, under load {m['bot_peak_rss_under_load_mb']})")
    print(f"busiest second {m['max_messages_in_1s']} messages, one chat "
          f"{m['max_messages_to_one_chat_in_1s']} (min gap {m['min_gap_same_chat_ms']} ms)")
    print(f"lost updates {m['lost_updates']}, duplicate tickets {m['duplicate_tickets']}, "
          f"conversations completed {m['conversations_completed']}/{m['users']}")
    print("targets: " + ", ".join(f"{k} {'pass' if v else 'FAIL'}" for k, v in passed.items()))
    print(f"written to {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
