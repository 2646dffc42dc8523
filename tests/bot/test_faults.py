# ruff: noqa: F811  (pytest fixtures imported from the Telegram tests are used as arguments)
"""Telegram's bad moments and limits: every reply is still delivered, 429 is respected, and
sends to one chat are paced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise

import pytest

from bot.app import build_application
from bot.channels.retries import ChatPace
from bot.settings import Settings
from tests.bot.conftest import running
from tests.bot.test_telegram import App, app  # noqa: F401
from tests.fake_bot_api import FakeBotAPI


async def test_server_errors_and_resets_are_retried(app: App, api: FakeBotAPI):
    user = api.user(id=7001, first_name="Awa", language_code="en")
    api.fail_next("sendMessage", status=502, count=2, description="Bad Gateway")
    api.reset_next("sendMessage")
    api.send_command(user, "/menu")
    replies = await api.wait_for_messages(user.id, 1, timeout=15)
    assert "What do you need help with" in replies[0].text
    failed = [r for r in api.calls("sendMessage") if r.status != 200]
    assert len(failed) == 3


async def test_429_is_waited_out_before_sending_again(app: App, api: FakeBotAPI):
    user = api.user(id=7002, first_name="Awa", language_code="en")
    api.fail_next("sendMessage", status=429, retry_after=2)
    api.send_command(user, "/menu")
    await api.wait_for_messages(user.id, 1, timeout=15)
    calls = api.calls("sendMessage")
    refused = next(r for r in calls if r.status == 429)
    delivered = next(r for r in calls if r.status == 200)
    assert delivered.time - refused.time >= 2.0


def test_sends_to_one_chat_get_slots_a_second_apart():
    pace = ChatPace(per_second=1)
    assert [pace.wait(1, 10.0) for _ in range(3)] == [0.0, 1.0, 2.0]
    assert pace.wait(2, 10.0) == 0.0  # another chat has its own slots
    assert pace.wait(1, 20.0) == 0.0  # a quiet chat sends at once
    assert ChatPace(per_second=0).wait(1, 10.0) == 0.0  # pacing off


@pytest.fixture
async def paced_app(telegram_settings: Settings, catalogued, parser) -> AsyncIterator[App]:
    settings = telegram_settings.model_copy(
        update={"telegram_messages_per_chat_per_second": 2})
    async with running(build_application(settings, parser)) as application:
        yield application


async def test_a_burst_of_replies_to_one_chat_is_paced(paced_app: App, api: FakeBotAPI):
    user = api.user(id=7003, first_name="Awa", language_code="en")
    for _ in range(4):
        api.send_command(user, "/menu")
    await api.wait_for_messages(user.id, 4, timeout=15)
    times = [r.time for r in api.calls("sendMessage") if r.status == 200]
    assert len(times) == 4
    assert min(b - a for a, b in pairwise(times)) >= 0.45  # 2 a second, less jitter
