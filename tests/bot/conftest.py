"""The bot on a real database with the sample catalogue, and a driver for conversations."""

from __future__ import annotations

import contextlib
import html
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot.app import Components, open_components
from bot.dialogue.events import (
    ButtonInput,
    CommandInput,
    Event,
    Message,
    TextInput,
    UnsupportedInput,
    Visitor,
)
from bot.i18n import Translator
from bot.settings import Settings
from nlu.engine import EmbeddedParser
from services_catalog import files
from services_catalog.importer import import_catalog
from services_catalog.schema import Catalog
from services_catalog.validation import Rules
from tests.conftest import PROJECT, TODAY
from tests.fake_bot_api import FakeBotAPI

Sessions = async_sessionmaker[AsyncSession]
App = Application[Any, Any, Any, Any, Any, Any]
SAMPLE = PROJECT / "services_catalog" / "data"
TEST_KEY = "0f" * 32


@pytest.fixture(scope="session")
def sample_catalog() -> Catalog:
    report = files.load(SAMPLE, Rules(today=TODAY))
    assert report.catalog is not None, str(report)
    return report.catalog


@pytest.fixture
async def catalogued(sessions: Sessions, sample_catalog: Catalog) -> Sessions:
    async with sessions() as session, session.begin():
        await import_catalog(session, sample_catalog, source="test")
    return sessions


@pytest.fixture(scope="session")
def translator() -> Translator:
    return Translator.load()


@pytest.fixture
def bot_settings(settings: Settings) -> Settings:
    # scripted users type faster than people, and tests need no pacing: both have own tests
    return settings.model_copy(update={"pseudonym_key": SecretStr(TEST_KEY),
                                       "user_burst": 1000,
                                       "telegram_messages_per_chat_per_second": 0})


class Clock:
    """A controllable clock for expiry tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def components(
    catalogued: Sessions, bot_settings: Settings, parser: EmbeddedParser, clock: Clock
) -> AsyncIterator[Components]:
    components = await open_components(bot_settings, parser, clock)
    yield components
    await components.close()


_TAG = re.compile(r"<[^>]*>")


class Chat:
    """One user talking to the conversation service, pressing buttons by their data."""

    def __init__(self, components: Components, user: int = 1, language_code: str | None = "en"):
        self.components = components
        key = components.pseudonyms.of("telegram", user)
        self.visitor = Visitor(key, "telegram", language_code)
        self.reply: list[Message] = []

    async def send(self, event: Event | str) -> list[Message]:
        if isinstance(event, str):
            event = _event(event)
        self.outcome = await self.components.conversation.handle(self.visitor, event)
        self.reply = self.outcome.messages
        return self.reply

    async def press(self, data: str | Callable[[str], bool]) -> list[Message]:
        """Presses the button with this data (or the first whose data matches)."""
        wanted = [d for d in self.data() if (d == data if isinstance(data, str) else data(d))]
        assert wanted, f"no button {data!r} in {self.data()}"
        return await self.send(ButtonInput(wanted[0]))

    def data(self) -> list[str]:
        return [b.data for m in self.reply for row in m.buttons for b in row]

    def labels(self) -> list[str]:
        return [b.label for m in self.reply for row in m.buttons for b in row]

    def text(self) -> str:
        return "\n".join(html.unescape(_TAG.sub("", m.html)) for m in self.reply)


def _event(text: str) -> Event:
    if text.startswith("/"):
        return CommandInput(text[1:])
    if text.startswith("!"):
        return UnsupportedInput(text[1:])
    return TextInput(text)


@contextlib.asynccontextmanager
async def running(application: App) -> AsyncIterator[App]:
    """The Application as `run_polling` would run it: post_init, polling, then shutdown."""
    async with application:
        assert application.post_init is not None and application.updater is not None
        await application.post_init(application)
        await application.updater.start_polling(poll_interval=0, timeout=30)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            assert application.post_shutdown is not None
            await application.post_shutdown(application)


BIN = Path(sys.executable).parent / "returnee-bot"


def run_cli(
    database_url: str, *args: str, cwd: Path, stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real `returnee-bot` command in a subprocess, without a Telegram token."""
    environment = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
                   "PSEUDONYM_KEY": "ab" * 32, **(env or {})}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=environment,
                          cwd=cwd, timeout=180, check=False, input=stdin)


TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram Bot API on 127.0.0.1."""
    async with FakeBotAPI(token=TOKEN) as api:
        yield api


@pytest.fixture
def telegram_settings(bot_settings: Settings, api: FakeBotAPI) -> Settings:
    return bot_settings.model_copy(update={
        "telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": api.base_url,
        "telegram_file_base_url": api.base_file_url})
