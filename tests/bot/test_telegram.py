"""End to end: the real PTB Application against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from telegram.ext import Application

from bot import logs
from bot.app import Components, build_application
from bot.channels import telegram
from bot.channels.sending import send
from bot.dialogue import callbacks as cb
from bot.dialogue.consent import STORE_PROFILE
from bot.dialogue.events import Message
from bot.settings import Settings
from nlu.engine import EmbeddedParser
from tests.bot.conftest import TOKEN, Sessions, running
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

App = Application[Any, Any, Any, Any, Any, Any]



@pytest.fixture
async def app(
    telegram_settings: Settings, catalogued: Sessions, parser: EmbeddedParser
) -> AsyncIterator[App]:
    application = build_application(telegram_settings, parser)
    async with running(application):
        yield application


async def say(api: FakeBotAPI, user: FakeUser, text: str) -> list[SentMessage]:
    if text.startswith("/"):
        api.send_command(user, text)
    else:
        api.send_text(user, text)
    return await api.next_messages(user.id)


async def press(api: FakeBotAPI, user: FakeUser, data: str) -> list[SentMessage]:
    """Presses the newest button with this data in the user's chat."""
    for message in reversed(api.messages(user.id)):
        if any(button_data(message, data)):
            api.press(user, message, data)
            return await api.next_messages(user.id)
    raise AssertionError(f"no button {data!r}")


def button_data(message: SentMessage, data: str | None = None) -> list[str]:
    found = [b[1] for row in message.buttons for b in row if b[1]]
    return [d for d in found if data is None or d == data]


def all_data(messages: list[SentMessage]) -> list[str]:
    return [d for m in messages for d in button_data(m)]


SCRIPTS = {
    "en": ("what documents do I need for the national id card", "Documents for"),
    "fr": ("quels papiers pour la carte d'identite", "Papiers"),
    "ar": ("ما هي الوثائق المطلوبة لبطاقة الهوية الوطنية", "وثائق"),
}


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
async def test_a_whole_conversation_in_each_language(app: App, api: FakeBotAPI, language: str):
    user = api.user(id=1001, first_name="Awa", language_code=language)
    welcome = await say(api, user, "/start")
    assert cb.consent(STORE_PROFILE, True) in all_data(welcome)
    assert all(m.parse_mode == "HTML" for m in welcome)
    await press(api, user, cb.consent(STORE_PROFILE, True))
    regions = await press(api, user, cb.category("legal_documentation"))
    assert cb.region("KLD") in all_data(regions)
    services = await press(api, user, cb.region("KLD"))
    assert cb.service("national-id-card") in all_data(services)
    card = await press(api, user, cb.service("national-id-card"))
    assert cb.aspect("documents", "national-id-card") in all_data(card)
    documents = await press(api, user, cb.aspect("documents", "national-id-card"))
    assert cb.aspect("procedure", "birth-certificate-extract") in all_data(documents)
    question, expected = SCRIPTS[language]
    answer = await say(api, user, question)
    presses = 5
    if cb.aspect("documents", "national-id-card") in all_data(answer):  # "which one?"
        answer = await press(api, user, cb.aspect("documents", "national-id-card"))
        presses += 1
    assert expected in answer[0].text
    if language == "ar":
        presses += 1
        assert "\u2066" in (await press(api, user, cb.aspect("location", "national-id-card"))
                            )[0].text  # the phone number is isolated in right-to-left text
    privacy = await say(api, user, "/privacy")
    assert cb.withdraw(STORE_PROFILE) in all_data(privacy)
    assert not api.errors, api.errors
    assert len(api.callback_answers) == presses  # every press answered


async def test_an_unsupported_language_gets_the_native_picker(app: App, api: FakeBotAPI):
    user = api.user(id=1002, first_name="Ana", language_code="pt-BR")
    picker = await say(api, user, "/start")
    assert [b[0] for row in picker[0].buttons for b in row] == ["English", "Français", "العربية"]
    french = await press(api, user, cb.language("fr"))
    assert "Bonjour" in french[0].text


async def test_commands_are_set_in_each_language(app: App, api: FakeBotAPI):
    languages = {language for (_scope, language) in api.commands}
    assert {"en", "fr", "ar", ""} <= languages  # "": everyone else
    french = dict((c["command"], c["description"]) for c in api.commands[("default", "fr")])
    assert set(french) == set(telegram.COMMANDS) and french["help"] == "Aide"


@pytest.mark.parametrize("kind", ["voice", "sticker", "photo", "location", "contact"])
async def test_non_text_gets_a_polite_text_only_answer(app: App, api: FakeBotAPI, kind: str):
    user = api.user(id=1003, first_name="Ali", language_code="en")
    api.send_other(user, kind)
    reply = await api.next_messages(user.id)
    assert "only read text" in reply[0].text
    assert cb.category("health") in all_data(reply)


async def test_groups_and_channels_are_ignored(app: App, api: FakeBotAPI):
    user = api.user(id=1004, first_name="Moussa", language_code="en")
    api.send_group_text(-100500, user, "hello bot, what documents do I need?")
    api.send_channel_post(-100600, "hello")
    control = await say(api, user, "/menu")  # processed after both
    assert control and not api.messages(-100500) and not api.messages(-100600)


async def test_forged_button_data_gets_a_polite_answer(app: App, api: FakeBotAPI):
    user = api.user(id=1005, first_name="Fatou", language_code="fr")
    menu = await say(api, user, "/menu")
    api.press(user, menu[-1], "s:../../etc/passwd")
    reply = await api.next_messages(user.id)
    assert "bouton" in reply[0].text and cb.category("health") in all_data(reply)
    assert len(api.callback_answers) == 1


async def test_long_replies_are_split_at_line_boundaries(app: App, api: FakeBotAPI):
    user = api.user(id=1006, first_name="Awa", language_code="en")
    await say(api, user, "/menu")
    lines = [f"<b>{i}</b> " + "é" * 90 for i in range(120)]  # about 11,000 units
    await send(app.bot, user.id, [Message("\n".join(lines))])
    parts = api.messages(user.id)[-3:]
    assert not api.errors and len(parts) == 3
    assert "\n".join(p.text for p in parts).count("é") == 120 * 90


async def test_a_failure_gets_an_apology_in_the_user_language(
    app: App, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
):
    components: Components = app.bot_data["components"]
    async with components.engine.begin() as connection:  # the database breaks
        await connection.execute(text("ALTER TABLE bot_users RENAME TO bot_users_away"))
    user = api.user(id=1007, first_name="Secret-Name", language_code="fr")
    logs.cap_libraries()
    try:
        with caplog.at_level(logging.DEBUG):
            reply = await say(api, user, "my phone is +221 77 000 11 22")
    finally:
        async with components.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE bot_users_away RENAME TO bot_users"))
    assert "Désolé" in reply[0].text
    logged = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records)
    assert "77 000 11 22" not in logged and "Secret-Name" not in logged
    assert "1007" not in logged and TOKEN not in logged


async def test_a_user_who_blocked_the_bot_does_not_break_it(app: App, api: FakeBotAPI):
    blocked = api.user(id=1008, first_name="Gone", language_code="en")
    other = api.user(id=1009, first_name="Here", language_code="en")
    api.block(blocked)
    api.send_command(blocked, "/start")
    assert await say(api, other, "/menu")


def test_webhook_mode_needs_a_secret_token(bot_settings: Settings):
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        Settings.model_validate({**bot_settings.model_dump(), "webhook_url": "https://x/y",
                                 "webhook_secret": None})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_refuses_requests_without_the_secret_token(
    telegram_settings: Settings, catalogued: Sessions, parser: EmbeddedParser, api: FakeBotAPI
):
    api.user(id=1010, first_name="Awa", language_code="en", started=True)
    application = build_application(telegram_settings, parser)
    port = free_port()
    async with application:
        assert application.post_init is not None and application.updater is not None
        await application.post_init(application)
        await application.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="telegram", secret_token="s3cret-token",
            webhook_url=f"http://127.0.0.1:{port}/telegram")
        await application.start()
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 1700000000, "chat": {"id": 1010, "type": "private"},
            "from": {"id": 1010, "is_bot": False, "first_name": "Awa"}, "text": "/menu",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        url = f"http://127.0.0.1:{port}/telegram"
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, json=update)
            forged = await client.post(url, json=update, headers={
                "X-Telegram-Bot-Api-Secret-Token": "guess"})
            accepted = await client.post(url, json=update, headers={
                "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert (refused.status_code, forged.status_code, accepted.status_code) == (
            403, 403, 200)
        for _ in range(100):
            if api.messages(1010):
                break
            await asyncio.sleep(0.02)
        assert len([m for m in api.messages(1010) if m.buttons]) == 1
        await application.updater.stop()
        await application.stop()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
