# ruff: noqa: F811  (pytest fixtures imported from the Telegram tests are used as arguments)
"""Telegram's bad moments: every reply is still delivered, and 429 is respected."""

from __future__ import annotations

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
