"""Logs carry no personal data: whole conversations run through the real Application and the
fake Bot API with every logger at DEBUG, seeded with canaries that must never be logged."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from telegram.ext import Application

from bot import logs
from bot.app import Components, build_application
from bot.dialogue import callbacks as cb
from bot.dialogue.consent import STORE_PROFILE
from bot.handoff import cards
from bot.settings import Settings
from bot.storage import staff
from nlu.engine import EmbeddedParser
from tests.bot.conftest import Clock, Sessions, running
from tests.fake_bot_api import FakeBotAPI, SentMessage

TOKEN = "987654:CANARY-TOKEN-xyz"
FIRST_NAME = "Zanzibar-Canary"
USERNAME = "zanzibar_canary_handle"
USER_ID = 987654321
PHONE = "+221 77 987 65 43"
HANDOFF_WORD = "Quokkavellian"  # only ever in the handoff description
DESCRIPTION = f"I lost my ID card at the {HANDOFF_WORD} market and need a new one"
WORKER_NAME = "Kestrel-Canary"
WORKER_ID = 918273645
WORKER_REPLY = "Bring your Wombatrix birth certificate, please."
USER_REPLY = "Thank you, I will bring the Platypodian papers."
CANARIES = (TOKEN, TOKEN.partition(":")[2], FIRST_NAME, USERNAME, str(USER_ID), PHONE,
            PHONE.replace(" ", ""), "987 65 43", HANDOFF_WORD, WORKER_NAME, str(WORKER_ID),
            "Wombatrix", "Platypodian")
POLICE_CHAT = -100700  # national-police, a forum: one topic per ticket
App = Application[Any, Any, Any, Any, Any, Any]


class RawCapture(logging.Handler):
    """Every record from every logger, formatted at once with the production formatters
    (text and json), before any filter of ours could touch it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.text: list[str] = []
        self.json: list[str] = []
        self._text, self._json = logs.formatter("text"), logs.formatter("json")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.text.append(self._text.format(record))
        record.exc_text = None  # each formatter renders the traceback itself
        self.json.append(self._json.format(record))
        record.exc_text = None


class Captured:
    def __init__(self, raw: RawCapture, production: io.StringIO) -> None:
        self.raw, self.production = raw, production

    def lines(self) -> list[str]:
        return [*self.raw.text, *self.raw.json, *self.production.getvalue().splitlines()]


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Whatever the block does to logging (handlers, filters, levels) is undone after it."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    filters = {h: list(h.filters) for h in handlers}
    capped = {name: logging.getLogger(name).level for name in logs.CAPPED}
    try:
        yield
    finally:
        for each in list(root.handlers):
            if each not in handlers:
                root.removeHandler(each)
        for each, kept in filters.items():
            each.filters[:] = kept
        root.setLevel(level)
        for name, value in capped.items():
            logging.getLogger(name).setLevel(value)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Logging as `returnee-bot run` sets it up (LOG_LEVEL=DEBUG, LOG_FORMAT=json), plus a
    raw capture of every record; everything is put back afterwards."""
    with logging_restored():
        production = io.StringIO()
        settings = Settings(_env_file=None, telegram_bot_token=SecretStr(TOKEN))
        logs.configure("DEBUG", "json", logs.secrets_of(settings), stream=production)
        raw = RawCapture()
        logging.getLogger().handlers.insert(0, raw)  # sees each record first, as logged
        yield Captured(raw, production)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as api:
        api.create_chat(POLICE_CHAT, type="supergroup", is_forum=True, title="Police team")
        yield api


@pytest.fixture
async def app(
    captured: Captured, bot_settings: Settings, api: FakeBotAPI, catalogued: Sessions,
    parser: EmbeddedParser, clock: Clock,
) -> AsyncIterator[App]:
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, within office hours
    settings = bot_settings.model_copy(update={
        "telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": api.base_url,
        "team_chats": {"national-police": POLICE_CHAT}, "caseworker_chat_id": POLICE_CHAT})
    application = build_application(settings, parser, clock)
    async with running(application):
        components: Components = application.bot_data["components"]
        async with components.writer.begin() as session:
            await staff.add_staff(session=session, telegram_id=WORKER_ID, role="caseworker",
                                  organization_id="national-police", display_name=WORKER_NAME,
                                  now=clock())
        yield application


class People:
    """The returnee (all canaries) and a case worker in the team chat."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.returnee = api.user(id=USER_ID, first_name=FIRST_NAME, language_code="en",
                                 username=USERNAME)
        self.worker = api.user(id=WORKER_ID, first_name=WORKER_NAME, language_code="fr",
                               username="kestrel_canary_worker")

    async def say(self, words: str) -> list[SentMessage]:
        if words.startswith("/"):
            self.api.send_command(self.returnee, words)
        else:
            self.api.send_text(self.returnee, words)
        return await self.api.next_messages(self.returnee.id)

    async def press(self, data: str) -> list[SentMessage]:
        """Presses the newest button with this data, or sends it from the last message."""
        messages = self.api.messages(self.returnee.id)
        message = next((m for m in reversed(messages)
                        if any(b[1] == data for row in m.buttons for b in row)), messages[-1])
        self.api.press(self.returnee, message, data)
        return await self.api.next_messages(self.returnee.id)

    def card(self) -> SentMessage:
        return next(m for m in reversed(self.api.messages(POLICE_CHAT)) if "Status:" in m.text)

    async def staff_press(self, action: str, ticket_id: int, arg: int | None = None) -> str:
        before = len(self.api.callback_answers)
        self.api.press(self.worker, self.card(), cards.data(action, ticket_id, arg))
        for _ in range(500):
            if len(self.api.callback_answers) > before:
                return self.api.callback_answers[-1].text or ""
            await asyncio.sleep(0.01)
        raise AssertionError("the button was never answered")


def _data(messages: list[SentMessage]) -> list[str]:
    return [b[1] for m in messages for row in m.buttons for b in row if b[1]]


async def _rename(app: App, old: str, new: str) -> None:
    components: Components = app.bot_data["components"]
    async with components.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def _logged(captured: Captured, words: str) -> None:
    for _ in range(500):
        if any(words in line for line in captured.raw.text):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never logged: {words!r}")


async def test_whole_conversations_at_debug_log_no_personal_data(
    app: App, api: FakeBotAPI, captured: Captured
):
    people = People(api)
    welcome = await people.say("/start")
    assert cb.consent(STORE_PROFILE, True) in _data(welcome)
    await people.press(cb.consent(STORE_PROFILE, True))
    assert cb.category("legal_documentation") in _data(await people.say("/menu"))
    answer = await people.say(
        f"what documents do I need for the national id card? my phone is {PHONE}")
    assert answer
    emergency = await people.say(
        f"my husband beats me and I am afraid he will kill me, call me on {PHONE}")
    assert "+000 33 800 0017" in emergency[0].text  # the emergency contacts come first

    await people.press(cb.service("national-id-card"))
    await people.press(cb.handoff("national-id-card"))
    preview = await people.say(DESCRIPTION)
    assert HANDOFF_WORD in preview[-1].text and cb.draft("share") in _data(preview)
    await _rename(app, "bot_users", "bot_users_away")  # the database breaks mid-handoff
    try:
        apology = await people.say(f"also my phone is {PHONE}")
    finally:
        await _rename(app, "bot_users_away", "bot_users")
    assert "Sorry" in apology[0].text
    confirmation = await people.press(cb.draft("share"))
    assert "R-2026-" in confirmation[-1].text
    await api.wait_for(POLICE_CHAT, lambda ms: any("R-2026-" in m.text for m in ms))
    card = people.card()
    assert HANDOFF_WORD in card.text and FIRST_NAME in card.text  # shown to case workers only

    await people.staff_press("take", 1)
    told = await api.next_messages(people.returnee.id)
    assert WORKER_NAME in told[0].text
    api.send_group_text(POLICE_CHAT, people.worker, WORKER_REPLY, is_forum=True,
                        message_thread_id=card.message_thread_id)
    relayed = await api.next_messages(people.returnee.id)
    assert relayed[0].text == WORKER_REPLY
    api.send_text(people.returnee, USER_REPLY)
    await api.wait_for(POLICE_CHAT, lambda ms: any("Platypodian" in m.text for m in ms))
    await people.staff_press("close", 1)
    await people.staff_press("outcome", 1, 0)  # service_provided
    closed = await api.next_messages(people.returnee.id)
    assert "is closed" in closed[0].text
    await people.press(cb.helped(1, True))
    assert await people.say(f"where do I get a birth certificate? {PHONE}")

    api.block(people.returnee)  # the user blocks the bot: the reply is dropped, and logged
    api.send_command(people.returnee, "/menu")
    await _logged(captured, "a user blocked the bot")
    assert not api.errors or all(e.status == 403 for e in api.errors)

    assert logging.getLogger("bot.channels").isEnabledFor(logging.DEBUG)  # nothing muted ours
    records = captured.raw.records
    by_logger = [(r.name, r.levelno) for r in records]
    assert len(records) >= 5, by_logger
    assert any(name.startswith("telegram.ext") and level == logging.INFO
               for name, level in by_logger), by_logger
    assert ("bot.channels.telegram", logging.ERROR) in by_logger  # the failure, traced
    assert ("bot.channels.sending", logging.INFO) in by_logger
    assert any("Traceback" in line and "Error" in line for line in captured.raw.text)
    production = captured.production.getvalue().splitlines()
    assert len(production) == len(records)
    assert all(json.loads(line)["logger"] for line in production)

    leaks = sorted({f"{canary!r} in {line[:60]!r}…{_around(line, canary)!r}"
                    for line in captured.lines() for canary in CANARIES if canary in line})
    assert not leaks, "\n".join(leaks)


def _around(line: str, canary: str, width: int = 80) -> str:
    at = line.index(canary)
    return line[max(0, at - width):at + len(canary) + width]


# ---------------------------------------------------------------- units


def _record(msg: str, *args: object, name: str = "bot.test", level: int = logging.INFO,
            exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_json_lines_have_the_expected_keys():
    formatter = logs.formatter("json")
    plain = formatter.format(_record("expired users deleted: %d", 3))
    failed = formatter.format(_record("update failed:\n%s", "ValueError", level=logging.ERROR,
                                      exc=_raised(ValueError("bad\nvalue"))))
    for line in (plain, failed):
        assert "\n" not in line  # one object per line
    entry = json.loads(plain)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "INFO" and entry["logger"] == "bot.test"
    assert entry["message"] == "expired users deleted: 3"
    assert entry["time"].endswith("Z")
    assert datetime.fromisoformat(entry["time"]).utcoffset() is not None
    error = json.loads(failed)
    assert set(error) == {"time", "level", "logger", "message", "exc_type", "traceback"}
    assert error["exc_type"] == "ValueError" and error["level"] == "ERROR"
    assert error["traceback"].startswith("Traceback") and "bad\nvalue" in error["traceback"]


def test_text_format_is_unchanged():
    line = logs.formatter("text").format(_record("hello %s", "world"))
    assert line.endswith(" INFO bot.test hello world")


def test_the_guard_redacts_secrets_in_messages_and_tracebacks():
    guard = logs.Guard([TOKEN, TOKEN.partition(":")[2]])
    record = _record("GET https://api.telegram.org/bot%s/getMe", TOKEN,
                     exc=_raised(RuntimeError(f"url /bot{TOKEN}/x and {TOKEN[7:]}")))
    assert guard.filter(record)
    for fmt in ("text", "json"):
        line = logs.formatter(fmt).format(record)
        assert "CANARY-TOKEN" not in line and logs.REDACTED in line
    assert record.getMessage() == f"GET https://api.telegram.org/bot{logs.REDACTED}/getMe"


def test_the_guard_withholds_raw_telegram_data():
    record = _record("Error while parsing updates! Received data was %r",
                     [{"message": {"text": PHONE}}], name="telegram.Bot",
                     level=logging.CRITICAL)
    assert logs.Guard().filter(record)
    assert PHONE not in record.getMessage() and logs.WITHHELD in record.getMessage()
    ours = _record("Error while parsing updates! Received data was %r", "kept")
    assert logs.Guard().filter(ours) and ours.getMessage().endswith("'kept'")


def test_configure_installs_one_handler_and_the_guard_on_every_root_handler():
    root, stream = logging.getLogger(), io.StringIO()
    with logging_restored():
        logs.configure("INFO", "text", [TOKEN], stream=sys.stdout)
        handler = logs.configure("INFO", "json", [TOKEN], stream=stream)  # replaces it
        assert handler is not None
        ours = [h for h in root.handlers if getattr(h, "_returnee_bot", False)]
        assert ours == [handler]
        assert all(sum(isinstance(f, logs.Guard) for f in h.filters) == 1
                   for h in root.handlers)
        assert logging.getLogger("sqlalchemy.engine").level == logging.WARNING
        assert logging.getLogger("httpx").level == logging.WARNING
        logging.getLogger("bot.test").info("token %s", TOKEN)
        entry = json.loads(stream.getvalue().splitlines()[-1])
        assert entry["message"] == f"token {logs.REDACTED}"


def test_secrets_of_the_settings():
    settings = Settings(
        _env_file=None, telegram_bot_token=SecretStr(TOKEN),
        webhook_secret=SecretStr("hook-secret"), pseudonym_key=SecretStr("ab" * 32),
        database_url="postgresql://bot:db-password@localhost/bot")
    assert set(logs.secrets_of(settings)) == {
        TOKEN, TOKEN.partition(":")[2], "hook-secret", "ab" * 32, "db-password"}
