# ruff: noqa: F811  (pytest fixtures imported from the Telegram tests are used as arguments)
"""The durable inbox: a redelivered update is processed once; an unfinished one is processed
again when the bot starts."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.app import Components, build_application
from bot.storage import inbox
from bot.storage.models import InboxRow
from tests.bot.test_telegram import App, app  # noqa: F401
from tests.fake_bot_api import FakeBotAPI


def update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1795000000, "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "Awa"},
        "from": {"id": chat, "is_bot": False, "first_name": "Awa", "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


async def test_a_redelivered_update_is_processed_once(app: App, api: FakeBotAPI):
    api.user(id=4001, first_name="Awa", language_code="en", started=True)
    api.send_update(update(900, 4001, "/menu"))
    await api.wait_for_messages(4001, 1)
    api.send_update(update(900, 4001, "/menu"))  # Telegram sends it again
    api.send_update(update(901, 4001, "/help"))
    await api.wait_for(4001, lambda ms: any("commands" in m.text for m in ms))
    await asyncio.sleep(0.2)
    assert len(api.messages(4001)) == 2  # one reply to each of the two distinct updates
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        rows = (await session.execute(select(InboxRow))).scalars().all()
    assert {(r.update_id, r.done, r.payload) for r in rows} == {(900, True, None),
                                                                 (901, True, None)}


async def test_unfinished_updates_are_processed_at_start(
    telegram_settings, catalogued, parser, api: FakeBotAPI, clock
):
    api.user(id=4002, first_name="Awa", language_code="en", started=True)
    async with catalogued.begin() as session:  # as if the last run stopped mid-update
        await inbox.receive(session=session, update_id=777, payload=update(777, 4002, "/menu"),
                            now=clock())
    application = build_application(telegram_settings, parser, clock)
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
        assert [m for m in api.messages(4002) if "What do you need help with" in m.text]
        components: Components = application.bot_data["components"]
        async with components.sessions() as session:
            row = await session.get(InboxRow, 777)
        assert row is not None and row.done and row.payload is None
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
