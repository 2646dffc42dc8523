# ruff: noqa: F811  (pytest fixtures imported from the Telegram tests are used as arguments)
"""Telegram's bad moments and limits: after server errors, resets and timeouts every reply is
still delivered, 429 is respected, and sends are paced overall and per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest

from bot.app import build_application
from bot.channels.retries import ChatPace, RetryingRateLimiter
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


def test_a_chat_waits_a_whole_gap_after_its_last_send():
    pace = ChatPace(per_second=1)
    assert pace.wait(1, 10.0) == 0.0  # never written to
    pace.sent(1, 10.0)
    assert pace.wait(1, 10.25) == 0.75
    assert pace.wait(2, 10.25) == 0.0  # another chat has its own pace
    assert pace.wait(1, 11.5) == 0.0  # a quiet chat sends at once
    assert ChatPace(per_second=0).gap == 0.0  # pacing off


async def test_the_overall_limit_holds_in_every_sliding_second():
    limiter, times = RetryingRateLimiter(overall_max_rate=10, per_chat=0, max_retries=0), []

    async def request(*_args: object) -> bool:
        times.append(time.monotonic())
        return True

    await asyncio.gather(*(limiter.process_request(request, (), {}, "sendMessage",
                                                   {"chat_id": i}, None) for i in range(1, 16)))
    times.sort()
    assert min(later - first for first, later in zip(times, times[10:], strict=False)) >= 0.95


@pytest.fixture
async def paced_app(telegram_settings: Settings, catalogued, parser) -> AsyncIterator[App]:
    settings = telegram_settings.model_copy(
        update={"telegram_messages_per_chat_per_second": 2})
    async with running(build_application(settings, parser)) as application:
        yield application


async def test_a_burst_of_replies_to_one_chat_is_paced(paced_app: App, api: FakeBotAPI):
    user = api.user(id=7003, first_name="Awa", language_code="en")
    for _ in range(4):  # four replies at once: the pace spaces them
        api.send_command(user, "/menu")
    await api.wait_for_messages(user.id, 4, timeout=15)
    times = [r.time for r in api.calls("sendMessage") if r.status == 200]
    assert len(times) == 4
    assert min(b - a for a, b in pairwise(times)) >= 0.45  # 2 a second, less jitter


async def test_a_timed_out_send_is_retried_and_delivered(app: App, api: FakeBotAPI):
    user = api.user(id=7004, first_name="Awa", language_code="en")
    api.delay_next("sendMessage", seconds=8)  # beyond PTB's 5 s read timeout
    api.send_command(user, "/menu")
    replies = await api.wait_for_messages(user.id, 1, timeout=20)
    assert "What do you need help with" in replies[0].text
    await asyncio.sleep(3)  # past the delay: the abandoned attempt never took effect
    assert len(api.messages(user.id)) == 1
