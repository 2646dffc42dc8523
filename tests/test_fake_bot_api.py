"""Tests of the fake Bot API itself, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot as TelegramBot
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_bot_api import (
    MAX_DOWNLOAD_SIZE,
    MEDIA_KINDS,
    EntityParseError,
    FakeBotAPI,
    parse_html,
    utf16_len,
)

TOKEN = "123456:TEST-TOKEN"
PROJECT = Path(__file__).resolve().parent.parent
FORUM = -1001234567890


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[TelegramBot]:
    async with TelegramBot(
        TOKEN, base_url=api.base_url, base_file_url=api.base_file_url
    ) as telegram_bot:
        yield telegram_bot


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    markup = keyboard([("Health", "cat:health"), ("Work", "cat:work")])
    await update.effective_message.reply_html("<b>Welcome!</b> Pick one:", reply_markup=markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"chose {query.data}")
    await query.edit_message_text(f"You chose <i>{query.data}</i>", parse_mode="HTML")


@asynccontextmanager
async def running_app(api: FakeBotAPI, *, concurrent: bool = False) -> AsyncIterator[Any]:
    """A real PTB Application polling the fake (long polls end as soon as updates arrive).

    A small connection pool keeps httpcore fast under load (its pool scan is quadratic).
    """
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .concurrent_updates(concurrent)
        .connection_pool_size(16)
        .pool_timeout(30)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=30))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def expect_bad_request(api: FakeBotAPI, call: Awaitable[Any], description: str) -> None:
    """The call fails with BadRequest and the fake answered exactly ``description``."""
    with pytest.raises(BadRequest) as info:
        await call
    assert api.errors[-1].status == 400
    assert api.errors[-1].description == description
    # PTB strips "Bad Request: " and capitalizes what is left.
    assert info.value.message == description.removeprefix("Bad Request: ").capitalize()


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # int or timedelta, depending on PTB_TIMEDELTA
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def raw_call(api: FakeBotAPI, method: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
        kwargs.pop("http_method", "POST"), f"{api.base_url}{api.token}/{method}", **kwargs
    ) as response:
        return response.status, await response.json()


# ------------------------------------------------------------------ wire format


async def test_get_me_has_bot_api_shapes(api: FakeBotAPI, bot: TelegramBot) -> None:
    status, body = await raw_call(api, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["is_bot"] is True
    assert body["result"]["id"] == 123456
    me = await bot.get_me()
    assert me.is_bot and me.username == "fake_test_bot"
    assert me.can_join_groups is True and me.supports_inline_queries is False


async def test_updates_use_unix_seconds_and_user_is_bot_false(api: FakeBotAPI) -> None:
    before = int(time.time())
    api.send_text(api.user(1001, "Awa", "fr"), "hello")
    status, body = await raw_call(api, "getUpdates", data={"timeout": "0"})
    message = body["result"][0]["message"]
    assert status == 200
    assert isinstance(message["date"], int) and before <= message["date"] <= time.time() + 1
    assert message["from"] == {"id": 1001, "is_bot": False, "first_name": "Awa",
                               "language_code": "fr"}  # fmt: skip
    assert message["chat"] == {"id": 1001, "type": "private", "first_name": "Awa"}


async def test_request_encodings_and_case_insensitive_methods(api: FakeBotAPI) -> None:
    api.user(5, "Eve", started=True)
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    form = await raw_call(api, "sendmessage", data={"chat_id": "5", "text": "123",
                                                    "reply_markup": markup})  # fmt: skip
    as_json = await raw_call(api, "SENDMESSAGE", json={"chat_id": 5, "text": "true"})
    query = await raw_call(api, "sendMessage", http_method="GET",
                           params={"chat_id": "5", "text": "null"})  # fmt: skip
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", "5")
    multipart.add_field("text", "multi")
    multi = await raw_call(api, "sendMessage", data=multipart)
    assert [status for status, _ in (form, as_json, query, multi)] == [200] * 4
    # String parameters stay strings even when they look like JSON.
    assert [m.text for m in api.messages(5)] == ["123", "true", "null", "multi"]
    assert api.messages(5)[0].buttons == ((("A", "a"),),)
    assert {r.method for r in api.requests} == {"sendMessage"}
    assert api.requests[0].params["chat_id"] == 5


async def test_unknown_token_and_unknown_method(api: FakeBotAPI) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{api.base_url}999:WRONG/getMe") as response,
    ):
        assert response.status == 401
        body = await response.json()
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body = await raw_call(api, "noSuchMethod")
    assert (status, body["description"]) == (404, "Not Found")
    with pytest.raises(InvalidToken):  # Bot.initialize() calls getMe
        async with TelegramBot("999:WRONG", base_url=api.base_url):
            pass


# ------------------------------------------------------------------ polling and updates


async def test_end_to_end_echo_with_polling(api: FakeBotAPI) -> None:
    awa = api.user(1001, "Awa", "fr")
    async with running_app(api):
        update_id = api.send_text(awa, "hello")
        replies = await api.next_messages(awa)
        await api.wait_until_consumed(update_id)
    assert [m.text for m in replies] == ["echo: hello"]
    assert replies[0].chat_id == 1001 and replies[0].parse_mode is None
    assert api.pending_updates == []
    assert api.errors == []  # incl. PTB abandoning its long poll at shutdown


async def test_command_keyboard_press_round_trip(api: FakeBotAPI) -> None:
    awa = api.user(1001, "Awa")
    async with running_app(api):
        api.send_command(awa, "/start")
        [welcome] = await api.next_messages(awa)
        assert welcome.text == "Welcome! Pick one:"
        assert welcome.entities == ({"type": "bold", "offset": 0, "length": 8},)
        assert welcome.button_texts == ["Health", "Work"]
        api.press(awa, welcome, welcome.button_data("Health"))
        [edited] = await api.wait_for(awa, lambda messages: messages[0].edited)
    assert edited.edited and edited.text == "You chose cat:health"
    assert edited.buttons == ()  # editMessageText without reply_markup drops the keyboard
    [answer] = api.callback_answers
    assert (answer.text, answer.data, answer.user_id) == ("chose cat:health", "cat:health", 1001)
    assert answer.message_id == welcome.message_id


async def test_offsets_confirm_and_drop_updates(api: FakeBotAPI, bot: TelegramBot) -> None:
    user = api.user(7, "Ana")
    ids = [api.send_text(user, f"m{i}") for i in range(3)]
    first = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == ids
    assert len(api.pending_updates) == 3  # fetched but not confirmed
    again = await bot.get_updates(offset=ids[1], limit=1, timeout=0)
    assert [u.update_id for u in again] == [ids[1]]
    await api.wait_until_consumed(ids[0], timeout=0.1)
    with pytest.raises(TimeoutError):
        await api.wait_until_consumed(ids[1], timeout=0.05)
    assert await bot.get_updates(offset=ids[2] + 1, timeout=0) == ()
    await api.wait_until_consumed(ids[2], timeout=0.1)
    more = [api.send_text(user, f"n{i}") for i in range(3)]
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.update_id for u in last] == [more[-1]]
    assert [u["update_id"] for u in api.pending_updates] == [more[-1]]


async def test_long_poll_returns_as_soon_as_an_update_is_queued(
    api: FakeBotAPI, bot: TelegramBot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = time.monotonic()
    api.send_text(api.user(9, "Bo"), "wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    assert updates[0].message is not None and updates[0].message.text == "wake up"


async def test_long_poll_times_out_empty_and_second_poller_conflicts(
    api: FakeBotAPI, bot: TelegramBot
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=150)) == ()
    assert 0.1 < time.monotonic() - started < 1.0
    # PTB gives getUpdates a one-connection pool, so the second poller is a second Bot.
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    async with TelegramBot(TOKEN, base_url=api.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 1)


async def test_app_shutdown_does_not_wait_for_the_long_poll_timeout(api: FakeBotAPI) -> None:
    async with running_app(api):
        await asyncio.sleep(0.05)  # the updater now sits in a 30 s long poll
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    polls = api.calls("getUpdates")
    assert polls[-1].params.get("timeout") == 0  # PTB's final confirming call


async def test_stopping_the_fake_ends_pending_long_polls() -> None:
    fake = FakeBotAPI(TOKEN)
    await fake.start()
    async with TelegramBot(TOKEN, base_url=fake.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await fake.stop()
        assert await asyncio.wait_for(poll, 2) == ()
        assert time.monotonic() - started < 1.0
    assert fake.requests[-1].status == 200


async def test_allowed_updates_filters_types(api: FakeBotAPI, bot: TelegramBot) -> None:
    user = api.user(3, "Cy")
    api.send_text(user, "text")
    api.send_edited_text(user, "edited")
    updates = await bot.get_updates(timeout=0, allowed_updates=["edited_message"])
    assert [u.edited_message is not None for u in updates] == [True]
    assert api.allowed_updates == ["edited_message"]


async def test_webhook_blocks_polling_until_deleted(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.send_text(api.user(3, "Cy"), "x")
    assert await bot.set_webhook("https://example.org/hook")
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://example.org/hook", 1)
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_simulated_update_kinds_parse_in_ptb(api: FakeBotAPI, bot: TelegramBot) -> None:
    awa = api.user(1001, "Awa", "fr", username="awa")
    for kind in MEDIA_KINDS:
        api.send_other(awa, kind)
    api.send_text(awa, "first")
    api.send_edited_text(awa, "first, edited")
    api.send_channel_post(-1009, "news")
    raw_id = api.send_update({"message": {"message_id": 50, "date": int(time.time()),
                                          "chat": {"id": 77, "type": "private", "first_name": "R"},
                                          "from": {"id": 77, "is_bot": False, "first_name": "R"},
                                          "text": "raw"}})  # fmt: skip
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates[: len(MEDIA_KINDS)]]
    pairs = zip(messages, MEDIA_KINDS, strict=True)
    assert all(m is not None and getattr(m, kind) for m, kind in pairs)
    assert messages[2] is not None and len(messages[2].photo) == 3
    edited = updates[len(MEDIA_KINDS) + 1].edited_message
    assert edited is not None and edited.text == "first, edited" and edited.edit_date is not None
    post = updates[-2].channel_post
    assert post is not None and post.from_user is None and post.sender_chat is not None
    assert updates[-1].update_id == raw_id
    await bot.send_message(77, "chats from raw updates become known")


async def test_group_forum_topics_and_replies(api: FakeBotAPI, bot: TelegramBot) -> None:
    awa = api.user(1001, "Awa")
    api.send_group_text(FORUM, awa, "/help@fake_test_bot", is_forum=True)
    topic = await bot.create_forum_topic(FORUM, "Case 42")
    sent = await bot.send_message(FORUM, "in topic", message_thread_id=topic.message_thread_id)
    assert sent.is_topic_message and sent.message_thread_id == topic.message_thread_id
    reply_to = api.messages(FORUM)[0]
    api.send_group_text(FORUM, awa, "thanks", reply_to=reply_to)
    updates = await bot.get_updates(timeout=0)
    command, reply = updates[0].message, updates[1].message
    assert command is not None and command.chat.is_forum and command.entities[0].length == 19
    assert reply is not None and reply.reply_to_message is not None
    assert reply.message_thread_id == topic.message_thread_id
    assert reply.reply_to_message.text == "in topic"
    assert api.topics[0].name == "Case 42"


# ------------------------------------------------------------------ validation


async def test_text_validation_errors(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    await expect_bad_request(api, bot.send_message(1, " \n "), "Bad Request: message text is empty")
    await expect_bad_request(
        api, bot.send_message(1, "<b> </b>", parse_mode="HTML"),
        "Bad Request: message text is empty",
    )  # fmt: skip
    await expect_bad_request(api, bot.send_message(404, "hi"), "Bad Request: chat not found")
    await expect_bad_request(
        api, bot.send_message(1, "x", reply_parameters=ReplyParameters(999)),
        "Bad Request: message to be replied not found",
    )  # fmt: skip
    assert api.messages(1) == []


async def test_4096_utf16_units_pass_and_4097_fail(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    fits = "a" * 4094 + "😀"  # the emoji is a surrogate pair: 2 UTF-16 units
    assert len(fits) == 4095 and utf16_len(fits) == 4096
    sent = await bot.send_message(1, fits)
    assert sent.text == fits
    await expect_bad_request(
        api, bot.send_message(1, "a" * 4095 + "😀"), "Bad Request: message is too long"
    )
    # The limit applies after HTML parsing: markup does not count.
    assert await bot.send_message(1, f"<b>{fits}</b>", parse_mode="HTML")


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("é <b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é <b>x</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_errors_surface_as_bad_request(
    api: FakeBotAPI, bot: TelegramBot, html: str, reason: str
) -> None:
    api.user(1, "A", started=True)
    await expect_bad_request(
        api, bot.send_message(1, html, parse_mode="HTML"),
        f"Bad Request: can't parse entities: {reason}",
    )  # fmt: skip


async def test_without_parse_mode_text_is_literal(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    sent = await bot.send_message(1, "<b>not bold</b> &amp;")
    assert sent.text == "<b>not bold</b> &amp;" and sent.entities == ()


async def test_keyboard_validation(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    await expect_bad_request(
        api, bot.send_message(1, "x", reply_markup=keyboard([("A", "é" * 32 + "x")])),
        "Bad Request: BUTTON_DATA_INVALID",
    )  # fmt: skip
    await expect_bad_request(
        api, bot.send_message(1, "x", reply_markup=keyboard([("", "data")])),
        "Bad Request: BUTTON_TEXT_INVALID",
    )  # fmt: skip
    no_action = InlineKeyboardMarkup([[InlineKeyboardButton("just text")]])
    await expect_bad_request(
        api, bot.send_message(1, "x", reply_markup=no_action),
        "Bad Request: text buttons are unallowed in the inline keyboard",
    )  # fmt: skip
    sent = await bot.send_message(1, "x", reply_markup=keyboard([("A", "é" * 32)]))  # 64 bytes
    assert sent.reply_markup is not None and api.messages(1)[0].buttons == ((("A", "é" * 32),),)


async def test_edit_semantics(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    markup = keyboard([("A", "a")])
    sent = await bot.send_message(1, "<b>v1</b>", parse_mode="HTML", reply_markup=markup)
    not_modified = (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    await expect_bad_request(
        api, bot.edit_message_text("<b>v1</b>", 1, sent.message_id, parse_mode="HTML",
                                   reply_markup=markup), not_modified,
    )  # fmt: skip
    await expect_bad_request(
        api, bot.edit_message_text("v2", 1, 999), "Bad Request: message to edit not found"
    )
    edited = await bot.edit_message_text("v1", 1, sent.message_id, reply_markup=markup)
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert api.messages(1)[0].entities == () and api.messages(1)[0].edited
    await expect_bad_request(
        api, bot.edit_message_reply_markup(1, sent.message_id, reply_markup=markup), not_modified
    )
    await bot.edit_message_reply_markup(1, sent.message_id)
    assert api.messages(1)[0].buttons == () and api.messages(1)[0].text == "v1"


async def test_answer_callback_query_validation(api: FakeBotAPI, bot: TelegramBot) -> None:
    user = api.user(1, "A", started=True)
    await bot.send_message(1, "pick", reply_markup=keyboard([("A", "a")]))
    api.press(user, api.messages(1)[0], "forged:data")
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "forged:data" and query.message is not None
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    await expect_bad_request(api, bot.answer_callback_query("123"), too_old)
    await expect_bad_request(
        api, bot.answer_callback_query(query.id, "x" * 201), "Bad Request: MESSAGE_TOO_LONG"
    )
    assert await bot.answer_callback_query(query.id, "ok", show_alert=True)
    await expect_bad_request(api, bot.answer_callback_query(query.id), too_old)
    assert [(a.text, a.show_alert, a.data) for a in api.callback_answers] == [
        ("ok", True, "forged:data")
    ]


async def test_commands_per_scope_and_language(api: FakeBotAPI, bot: TelegramBot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Commencer")], scope=scope, language_code="fr")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    assert api.commands == {
        ("all_private_chats", "fr"): [{"command": "start", "description": "Commencer"}],
        ("default", ""): [{"command": "start", "description": "Start"},
                          {"command": "help", "description": "Help"}],
    }  # fmt: skip
    french = await bot.get_my_commands(scope=scope, language_code="fr")
    assert [c.description for c in french] == ["Commencer"]
    assert await bot.get_my_commands(language_code="de") == ()
    await bot.delete_my_commands()
    assert list(api.commands) == [("all_private_chats", "fr")]
    await expect_bad_request(
        api, bot.set_my_commands([BotCommand("Start", "x")]), "Bad Request: BOT_COMMAND_INVALID"
    )


async def test_chat_action_and_get_chat(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    assert await bot.send_chat_action(1, "typing")
    await expect_bad_request(
        api, bot.send_chat_action(1, "dancing"), "Bad Request: wrong parameter action in request"
    )
    chat = await bot.get_chat(1)
    assert (chat.id, chat.type, chat.first_name) == (1, "private", "A")
    await expect_bad_request(api, bot.get_chat(2), "Bad Request: chat not found")


# ------------------------------------------------------------------ documents and copies


async def test_send_document_stores_bytes(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    payload = bytes(range(256)) * 4
    sent = await bot.send_document(1, payload, filename="report.pdf", caption="<i>Q3</i>",
                                   parse_mode="HTML")  # fmt: skip
    [record] = api.documents
    assert (record.chat_id, record.filename, record.data, record.caption) == (
        1, "report.pdf", payload, "Q3"
    )  # fmt: skip
    assert record.mime_type == "application/pdf"
    assert sent.document is not None and sent.document.file_size == len(payload)
    assert sent.caption == "Q3" and sent.caption_entities[0].type == "italic"
    message = api.messages(1)[0]
    assert message.kind == "document" and message.document == record and message.text == "Q3"
    again = await bot.send_document(1, sent.document.file_id)
    assert again.document is not None and api.documents[1].data == payload
    await expect_bad_request(
        api, bot.send_document(1, "no-such-file-id"),
        "Bad Request: wrong file identifier/HTTP URL specified",
    )  # fmt: skip


async def test_user_document_round_trip_through_an_application(api: FakeBotAPI) -> None:
    """A user's document reaches a handler, which fetches and downloads it with PTB."""
    received: dict[str, Any] = {}

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        file = await context.bot.get_file(message.document.file_id)
        data = await file.download_as_bytearray()
        received.update(document=message.document, caption=message.caption, file=file, data=data)
        await message.reply_text(f"got {len(data)} bytes")

    app = (
        ApplicationBuilder().token(api.token).base_url(api.base_url)
        .base_file_url(api.base_file_url).build()
    )  # fmt: skip
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    awa = api.user(1001, "Awa", "fr")
    payload = b"%PDF-1.7\n" + bytes(range(256)) * 40 + "é, ü: ".encode()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=30))
        try:
            api.send_document(awa, "carte d'identité.pdf", payload, caption="my ID card")
            [reply] = await api.next_messages(awa)
        finally:
            await app.updater.stop()
            await app.stop()
    assert reply.text == f"got {len(payload)} bytes" and api.errors == []
    assert received["data"] == bytearray(payload)
    document, file = received["document"], received["file"]
    assert (document.file_name, document.mime_type, document.file_size) == (
        "carte d'identité.pdf", "application/pdf", len(payload)
    )  # fmt: skip
    assert received["caption"] == "my ID card"
    assert (file.file_id, file.file_unique_id, file.file_size) == (
        document.file_id, document.file_unique_id, len(payload)
    )  # fmt: skip
    assert file.file_path == f"{api.base_file_url}{api.token}/{api.downloads[0]}"
    assert api.downloads[0].startswith("documents/file_") and api.downloads[0].endswith(".pdf")


async def test_user_documents_in_groups_and_mime_types(api: FakeBotAPI, bot: TelegramBot) -> None:
    awa = api.user(1001, "Awa")
    api.send_document(awa, "notes.txt", b"hello", chat_id=FORUM, message_thread_id=7,
                      caption="/scan@fake_test_bot please")  # fmt: skip
    api.send_document(awa, "blob", b"\x00\x01", mime_type="application/x-custom")
    api.send_document(awa, "data.unknownext", b"?")
    group, custom, unknown = [u.message for u in await bot.get_updates(timeout=0)]
    assert group is not None and group.chat.id == FORUM and group.chat.type == "supergroup"
    assert group.message_thread_id == 7 and group.document is not None
    assert group.document.mime_type == "text/plain"
    assert [e.type for e in group.caption_entities] == ["bot_command"]
    assert custom is not None and custom.chat.type == "private" and custom.document is not None
    assert custom.document.mime_type == "application/x-custom"
    assert unknown is not None and unknown.document is not None
    assert unknown.document.mime_type == "application/octet-stream"
    file = await bot.get_file(custom.document)
    assert file.file_path is not None and file.file_path.startswith(api.base_file_url)
    assert await file.download_as_bytearray() == bytearray(b"\x00\x01")
    await bot.send_message(FORUM, "the group is known now", message_thread_id=7)
    with pytest.raises(ValueError, match="empty"):
        api.send_document(awa, "empty.txt", b"")


async def test_get_file_errors(api: FakeBotAPI, bot: TelegramBot) -> None:
    awa = api.user(1001, "Awa")
    await expect_bad_request(api, bot.get_file("no-such-file"), "Bad Request: invalid file_id")
    api.send_document(awa, "video.mp4", b"\x00\x00\x00\x18ftyp", file_size=MAX_DOWNLOAD_SIZE + 1)
    api.send_document(awa, "limit.bin", b"x" * 16, file_size=MAX_DOWNLOAD_SIZE)
    big, limit = [u.message for u in await bot.get_updates(timeout=0)]
    assert big is not None and big.document is not None and limit is not None
    assert big.document.file_size == MAX_DOWNLOAD_SIZE + 1
    await expect_bad_request(api, bot.get_file(big.document), "Bad Request: file is too big")
    assert limit.document is not None and (await bot.get_file(limit.document)).file_size == (
        MAX_DOWNLOAD_SIZE
    )
    api.max_download_size = 4  # a small limit for real bytes
    api.send_document(awa, "five.txt", b"12345")
    api.send_document(awa, "four.txt", b"1234")
    five, four = [u.message for u in await bot.get_updates(offset=-2, timeout=0)]
    assert five is not None and five.document is not None
    assert four is not None and four.document is not None
    await expect_bad_request(api, bot.get_file(five.document), "Bad Request: file is too big")
    assert await (await bot.get_file(four.document)).download_as_bytearray() == b"1234"
    # The download endpoint: unknown path, wrong token.
    root = api.base_file_url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{root}{api.token}/documents/nope.pdf") as response:
            assert response.status == 404 and (await response.json())["ok"] is False
        path = api.downloads[-1]
        async with http.get(f"{root}123456:WRONG/{path}") as response:
            assert response.status == 401
        async with http.get(f"{root}{api.token}/{path}") as response:
            assert response.status == 200 and await response.read() == b"1234"
            assert response.content_type == "text/plain"


async def test_get_file_for_files_the_bot_sent(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    payload = "name;city\nAwa;Dakar;Thiès\n".encode()
    sent = await bot.send_document(1, payload, filename="report.csv")
    assert sent.document is not None
    file = await bot.get_file(sent.document)
    assert (file.file_id, file.file_unique_id, file.file_size) == (
        sent.document.file_id, sent.document.file_unique_id, len(payload)
    )  # fmt: skip
    assert file.file_path is not None and file.file_path.endswith(".csv")
    assert await file.download_as_bytearray() == bytearray(payload)
    again = await bot.send_document(1, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    # Media of simulated users is stored too: photos, voice notes and stickers download.
    awa = api.user(1001, "Awa")
    for kind in ("photo", "voice", "sticker", "document"):
        api.send_other(awa, kind)
    photo, voice, sticker, document = [u.message for u in await bot.get_updates(timeout=0)]
    assert photo is not None and voice is not None and sticker is not None
    assert document is not None and document.document is not None
    for media, magic in [(photo.photo[-1], b"\xff\xd8"), (voice.voice, b"OggS"),
                         (sticker.sticker, b"RIFF"), (document.document, b"%PDF")]:  # fmt: skip
        assert media is not None
        data = await (await bot.get_file(media)).download_as_bytearray()
        assert data.startswith(magic) and len(data) == media.file_size
    assert len({p.file_unique_id for p in photo.photo}) == 3
    assert api.downloads[1].startswith("photos/") and api.downloads[2].startswith("voice/")


async def test_copy_message_into_a_forum_topic(api: FakeBotAPI, bot: TelegramBot) -> None:
    awa = api.user(1001, "Awa")
    api.create_chat(FORUM, "supergroup", is_forum=True, title="Case workers")
    api.send_text(awa, "I need <help> with housing")
    api.send_other(awa, "document")
    [text_update, doc_update] = await bot.get_updates(timeout=0)
    assert text_update.message is not None and doc_update.message is not None
    topic = await bot.create_forum_topic(FORUM, "Awa (fr)")
    thread = topic.message_thread_id
    copied = await bot.copy_message(FORUM, 1001, text_update.message.message_id,
                                    message_thread_id=thread)  # fmt: skip
    await bot.copy_message(FORUM, 1001, doc_update.message.message_id, message_thread_id=thread,
                           caption="<b>ID card</b>", parse_mode="HTML")  # fmt: skip
    text_copy, doc_copy = api.messages(FORUM)
    assert copied.message_id == text_copy.message_id
    assert (text_copy.text, text_copy.message_thread_id) == ("I need <help> with housing", thread)
    assert doc_copy.kind == "document" and doc_copy.text == "ID card"
    assert doc_copy.document is not None and doc_copy.document.data.startswith(b"%PDF")
    assert api.topics[0].message_thread_id == thread and api.documents == []
    await expect_bad_request(
        api, bot.copy_message(FORUM, 1001, 999), "Bad Request: message to copy not found"
    )
    await expect_bad_request(
        api, bot.send_message(FORUM, "x", message_thread_id=thread + 100),
        "Bad Request: message thread not found",
    )  # fmt: skip
    api.create_chat(-1002, "supergroup")
    await expect_bad_request(
        api, bot.create_forum_topic(-1002, "t"), "Bad Request: the chat is not a forum"
    )


# ------------------------------------------------------------------ fault injection


async def test_blocked_user_gives_forbidden(api: FakeBotAPI, bot: TelegramBot) -> None:
    user = api.user(1, "A", started=True)
    api.block(user)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(1, "hi")
    assert api.errors[-1].status == 403
    api.create_chat(-5, "group")
    api.block(-5)
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await bot.send_message(-5, "hi")
    api.unblock(user)
    assert await bot.send_message(1, "back")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_and_5xx(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    api.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1, "hi")
    assert retry_seconds(info.value) == 7
    assert api.errors[-1].params["text"] == "hi" and api.messages(1) == []
    api.fail_next("*", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(1, "hi")
    api.fail_next("sendmessage", status=500, description="Internal Server Error: boom")
    with pytest.raises(NetworkError, match="boom"):
        await bot.send_message(1, "hi")
    assert await bot.send_message(1, "finally")
    assert [m.text for m in api.messages(1)] == ["finally"]
    assert [r.status for r in api.errors] == [429, 502, 502, 500]


async def test_raw_429_body_has_retry_after_parameter(api: FakeBotAPI) -> None:
    api.fail_next("getMe", retry_after=3)
    status, body = await raw_call(api, "getMe")
    assert status == 429
    assert body == {"ok": False, "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3}}  # fmt: skip


async def test_delay_next_times_out_the_client(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    api.delay_next("sendMessage", 0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "lost", read_timeout=0.05)
    await asyncio.sleep(0.4)
    assert api.messages(1) == []  # the client left before the delay ended: no effect
    assert api.errors[-1].status == 499
    api.delay_next("sendMessage", 0.3, apply_first=True)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "delivered anyway", read_timeout=0.05)
    assert [m.text for m in api.messages(1)] == ["delivered anyway"]
    api.delay_next("sendMessage", 0.05)
    started = time.monotonic()
    assert (await bot.send_message(1, "slow")).text == "slow"
    assert time.monotonic() - started >= 0.05


async def test_reset_next_drops_the_connection(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    api.reset_next("sendMessage")
    with pytest.raises(NetworkError, match="disconnected without sending a response"):
        await bot.send_message(1, "hi")
    assert api.messages(1) == [] and api.errors[-1].status == 0
    assert await bot.send_message(1, "ok")
    with pytest.raises(ValueError, match="unknown Bot API method"):
        api.reset_next("sendMesage")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_polling_survives_a_429_on_get_updates(api: FakeBotAPI) -> None:
    user = api.user(1, "A")
    api.fail_next("getUpdates", retry_after=1)
    async with running_app(api):
        api.send_text(user, "still there?")
        replies = await api.next_messages(user, timeout=5)
    assert [m.text for m in replies] == ["echo: still there?"]
    assert any(r.status == 429 for r in api.calls("getUpdates"))


# ------------------------------------------------------------------ waiting helpers, load


async def test_next_messages_batches_and_wait_for_messages(
    api: FakeBotAPI, bot: TelegramBot
) -> None:
    api.user(1, "A", started=True)

    async def burst(texts: list[str], gap: float) -> None:
        for text in texts:
            await bot.send_message(1, text)
            await asyncio.sleep(gap)

    task = asyncio.create_task(burst(["a", "b", "c"], 0.01))
    assert [m.text for m in await api.next_messages(1, settle=0.1)] == ["a", "b", "c"]
    await task
    await bot.send_message(1, "d")
    assert [m.text for m in await api.next_messages(1)] == ["d"]
    with pytest.raises(TimeoutError, match="no new bot message"):
        await api.next_messages(1, timeout=0.05)
    assert len(await api.wait_for_messages(1, 4, timeout=0.1)) == 4
    with pytest.raises(TimeoutError, match="wanted 5 bot messages"):
        await api.wait_for_messages(1, 5, timeout=0.05)


async def test_delete_message_keeps_next_messages_in_step(
    api: FakeBotAPI, bot: TelegramBot
) -> None:
    api.user(1, "A", started=True)
    first = await bot.send_message(1, "first")
    await bot.send_message(1, "second")
    assert [m.text for m in await api.next_messages(1, settle=0)] == ["first", "second"]
    await bot.send_message(1, "third")
    assert await bot.delete_message(1, first.message_id)
    assert [m.text for m in await api.next_messages(1, settle=0)] == ["third"]
    assert [m.text for m in api.messages(1)] == ["second", "third"]
    await expect_bad_request(
        api, bot.delete_message(1, first.message_id), "Bad Request: message to delete not found"
    )


async def test_two_hundred_concurrent_users(api: FakeBotAPI) -> None:
    users = [api.user(10_000 + i, f"U{i}") for i in range(200)]
    async with running_app(api, concurrent=True):
        for user in users:
            api.send_text(user, f"hi {user.id}")
        replies = await asyncio.gather(*(api.next_messages(u, timeout=20) for u in users))
    assert [[m.text for m in r] for r in replies] == [[f"echo: hi {u.id}"] for u in users]


async def test_send_message_round_trip_is_fast(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.user(1, "A", started=True)
    for _ in range(20):
        await bot.send_message(1, "warm-up")
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        await bot.send_message(1, "<b>x</b>", parse_mode="HTML")
    per_call = (time.perf_counter() - started) / rounds
    assert per_call < 0.01  # ~1.5-2 ms here; a generous bound that still catches sleeps


# ------------------------------------------------------------------ HTML parser (TDLib cases)


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("&ge;&lt;&gt;&amp;&quot;&#12345678;", '&ge;<>&"&#12345678;', []),
        ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟",
         [("italic", 5, 7), ("bold", 9, 3)]),
        ("<a href=telegram.org> </a>", " ", [("text_link", 0, 1, "http://telegram.org/")]),
        ("<a>telegram.org </a>", "telegram.org ", []),
        ("🏟 🏟&lt;<pre><code>🏟 🏟&lt;</code></>", "🏟 🏟<🏟 🏟<", [("pre", 6, 6), ("code", 6, 6)]),
        ('<pre><code class="language-fift">x</code></pre>', "x", [("pre", 0, 1, "fift")]),
        ('<tg-emoji emoji-id="12345">👍</tg-emoji>', "👍", [("custom_emoji", 0, 2, "12345")]),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st",
         [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ("<blockquote expandable>a&lt;<pre>b;</></>", "a<b;",
         [("expandable_blockquote", 0, 4), ("pre", 2, 2)]),
        ("<s>1</s><strike>2</strike><del>3</del><u>4</u><ins>5</ins><em>6</em><strong>7</strong>",
         "1234567", [("strikethrough", 0, 1), ("strikethrough", 1, 1), ("strikethrough", 2, 1),
                     ("underline", 3, 1), ("underline", 4, 1), ("italic", 5, 1), ("bold", 6, 1)]),
    ],
)  # fmt: skip
def test_parse_html_matches_tdlib(html: str, text: str, entities: list[tuple[Any, ...]]) -> None:
    parsed_text, parsed = parse_html(html)
    extras = ("url", "language", "custom_emoji_id")
    got = [(e["type"], e["offset"], e["length"], *(e[k] for k in extras if k in e)) for e in parsed]
    assert (parsed_text, got) == (text, entities)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        ("&#xDFDF;", "Text contains invalid Unicode characters after decoding HTML entities, "
                     "check for unmatched surrogate code units"),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)  # fmt: skip
def test_parse_html_errors_match_tdlib(html: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(html)
    assert info.value.description == f"Bad Request: can't parse entities: {reason}"


# ------------------------------------------------------------------ standalone process


async def test_standalone_process_with_control_api() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_bot_api", "--port", "0", "--token", TOKEN,
        cwd=PROJECT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        base_url = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        control = base_url.removesuffix("/bot") + "/_control"
        file_url = base_url.removesuffix("/bot") + "/file/bot"
        user = {"id": 7, "first_name": "Ana", "language_code": "pt"}
        async with aiohttp.ClientSession() as http, TelegramBot(
            TOKEN, base_url=base_url, base_file_url=file_url
        ) as bot:
            async with http.post(f"{control}/send_command",
                                 json={"user": user, "command": "/start"}) as response:  # fmt: skip
                update_id = (await response.json())["update_id"]
            [update] = await bot.get_updates(timeout=2)
            assert update.update_id == update_id and update.message is not None
            assert update.message.text == "/start" and update.message.from_user is not None
            assert update.message.from_user.language_code == "pt"
            sent = await bot.send_message(7, "Pick", reply_markup=keyboard([("A", "a")]))
            query = {"chat_id": "7", "min_count": "1", "timeout": "2"}
            async with http.get(f"{control}/messages", params=query) as response:
                [message] = await response.json()
            assert (message["text"], message["buttons"]) == ("Pick", [[["A", "a"]]])
            press = {"user": user, "chat_id": 7, "message_id": sent.message_id, "data": "a"}
            async with http.post(f"{control}/press", json=press) as response:
                assert response.status == 200
            [pressed] = await bot.get_updates(offset=update_id + 1, timeout=2)
            assert pressed.callback_query is not None and pressed.callback_query.data == "a"
            async with http.post(f"{control}/send_text", json={"text": "no user"}) as response:
                assert response.status == 400
            document = {"user": user, "filename": "a.txt", "content_base64": "aGk="}
            async with http.post(f"{control}/send_document", json=document) as response:
                document_update_id = (await response.json())["update_id"]
            [sent_document] = await bot.get_updates(offset=document_update_id, timeout=2)
            assert sent_document.message is not None and sent_document.message.document
            file = await bot.get_file(sent_document.message.document)
            assert file.file_path is not None
            assert file.file_path.startswith(file_url)
            assert await file.download_as_bytearray() == b"hi"
            bad = {**document, "content_base64": "not base64!"}
            async with http.post(f"{control}/send_document", json=bad) as response:
                assert response.status == 400
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
