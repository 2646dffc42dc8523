
"""A flooding user gets one warning, then nothing; other users are unaffected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.channels.limits import RateLimiter, Verdict
from bot.settings import Settings
from tests.bot.conftest import running
from tests.bot.test_telegram import App
from tests.fake_bot_api import FakeBotAPI


def test_burst_then_one_warning_then_drops_until_the_bucket_refills():
    limiter = RateLimiter(burst=3, per_minute=60)  # one more a second
    verdicts = [limiter.check(1, 0.0) for _ in range(6)]
    assert verdicts == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert limiter.check(2, 0.0) is Verdict.PASS  # another user has their own bucket
    assert limiter.check(1, 1.0) is Verdict.PASS  # one second later: one more
    assert limiter.check(1, 1.0) is Verdict.WARN  # and a new flood is warned again, once


@pytest.fixture
async def strict_app(
    telegram_settings: Settings, catalogued, parser
) -> AsyncIterator[App]:
    settings = telegram_settings.model_copy(update={"user_burst": 3,
                                                    "user_messages_per_minute": 1})
    application = build_application(settings, parser)
    async with running(application):
        yield application


async def test_a_flood_gets_one_warning_and_others_are_served(
    strict_app: App, api: FakeBotAPI
):
    flooder = api.user(id=6001, first_name="Flood", language_code="en")
    calm = api.user(id=6002, first_name="Calm", language_code="en")
    for _ in range(20):
        api.send_command(flooder, "/menu")
    api.send_command(calm, "/menu")
    await api.wait_for_messages(calm.id, 1)
    await asyncio.sleep(0.5)
    replies = api.messages(flooder.id)
    warnings = [m for m in replies if "very fast" in m.text]
    assert len(warnings) == 1 and len(replies) == 3 + 1
