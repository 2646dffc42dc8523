# ruff: noqa: F811  (pytest fixtures imported from the handoff tests are used as arguments)
"""Bad input through the Telegram layer: the real PTB Application, the fake Bot API on
127.0.0.1 (which enforces Telegram's HTML rules and 4096-unit limit) and a real database.

Whatever arrives, the bot must not fail, every request it makes must be valid, a private
chat always gets an answer, other chats get none, and the durable inbox ends up done.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import Components
from bot.dialogue import callbacks as cb
from bot.dialogue.core import clean
from bot.dialogue.referral import MAX_DESCRIPTION
from bot.handoff import cards
from bot.i18n import Translator, _
from bot.storage.models import InboxRow
from tests.bot.test_handoff import POLICE_CHAT, App, api, app  # noqa: F401
from tests.fake_bot_api import MEDIA_KINDS, FakeBotAPI, FakeUser, SentMessage, utf16_len
from tests.fake_bot_api.state import command_entities

GROUP = -100900  # a group the bot is in that is not a team chat
CHANNEL = -100901
SENTINEL, NO_TICKET = "/ticket", re.compile(re.escape("You have no open request."))
APOLOGY = "something went wrong"
TIMEOUT = 10.0
Act = Callable[[FakeBotAPI, FakeUser], int]

TEXTS: dict[str, str] = {
    "empty": "",
    "space": " ",
    "blank-lines": "\n\t \n\u3000",
    "4096-units": "a" * 4096,
    "4097-units": "a" * 4097,
    "4096-units-of-emoji": "😀" * 2048,
    "emoji-straddles-4096": "a" * 4095 + "😀",
    "4097-units-of-words": ("passport " * 456)[:4097],
    "arabic": "ما هي الوثائق المطلوبة لبطاقة الهوية الوطنية؟",
    "bidi-controls": "\u202eevil\u202c \u2066a\u2067b\u2068c\u2069 \u200f\u200e",
    "zero-width": "\u200b\u200c\u200d\ufeff",
    "zero-width-inside-words": "pass\u200bport\ufeff id\u200dcard",
    "combining-flood": "a" + "\u0301" * 5000,
    "nul": "\x00",
    "nul-inside": "id\x00card",
    "c0-controls": "".join(map(chr, range(1, 32))) + "\x7f",
    "ansi-escapes": "\x1b[31mred\x1b[0m",
    "html-bold": "<b>bold</b>",
    "html-entities": "&amp; &lt; & &#0; &#x110000; &bogus; &",
    "html-script": "<script>alert(1)</script>",
    "html-unclosed": "<b><i>unclosed",
    "html-stray-close": "</b></i>",
    "html-link": '<a href="javascript:alert(1)">x</a>',
    "html-pre": '<pre><code class="language-<b>">',
    "command-bare": "/",
    "command-for-another-bot": "/start@other_bot",
    "command-64-letters": "/" + "a" * 64,
    "command-unknown-with-args": "/sudo rm -rf / <b>",
    "command-with-markup-args": "/start <script>x</script>",
    "command-with-nul": "/menu\x00",
}

# Forged, foreign or stale callback data pressed by a returnee in their private chat.
FORGED_DATA: dict[str, str] = {
    "empty": "",
    "binary-ish": "\x00\x01\x02\xff\ufffd",
    "64-bytes": "x" * 64,
    "65-bytes": "x" * 65,
    "64-bytes-of-emoji": "😀" * 16,
    "path": "s:../../etc/passwd",
    "unknown-service": "s:no-such-service",
    "unknown-aspect-service": "a:d:no-such-service",
    "unknown-category": "c:no_such_topic",
    "unknown-region": "r:ZZZ-NOWHERE",
    "unknown-language": "l:xx",
    "unknown-handoff-service": "h:no-such-service",
    "stale-draft-share": cb.draft("share"),
    "stale-draft-cancel": cb.draft("cancel"),
    "stale-withdraw": "w:s",
    "unknown-ticket-follow-up": "F:1:n",
    "unknown-ticket-helped": "D:999999999999:y",
    "staff-card-take": cards.data("take", 1),
    "staff-card-assign": cards.data("assign", 1, 1),
    "staff-card-unknown-ticket": cards.data("close", 999_999_999_999),
    "staff-card-bad-action": "T:z:1",
    "admin-apply-forged": "A:nonsense",
    "admin-apply-token-shaped": "A:" + "a" * 22,
}


@dataclass(frozen=True)
class Case:
    act: Act
    chat: int | None = None  # where the update happened, if not the user's private chat


_IDS = itertools.count(10_000)  # message and callback query ids of raw updates


def _raw_message(chat: dict[str, Any], sender: dict[str, Any] | None, **fields: Any
                 ) -> dict[str, Any]:
    message = {"message_id": next(_IDS), "date": 1_795_000_000, "chat": chat, **fields}
    if sender is not None:
        message["from"] = sender
    return message


_GROUP_CHAT = {"id": GROUP, "type": "supergroup", "title": "Not a team"}
_POLL = {"id": "5", "question": "?",
         "options": [{"text": "a", "voter_count": 0, "persistent_id": "0"}],
         "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
         "allows_multiple_answers": False, "allows_revoting": False, "members_only": False}


def _edit(text: str) -> Act:
    """An edit of a message the bot saw long ago."""
    return lambda api, user: api.send_update({"edited_message": _raw_message(
        user.chat_dict(), user.to_dict(), text=text, entities=command_entities(text),
        edit_date=1_795_000_001)})


def _inline_press(data: str) -> Act:
    return lambda api, user: api.send_update({"callback_query": {
        "id": str(next(_IDS)), "from": user.to_dict(), "chat_instance": "1",
        "inline_message_id": "AAAAAQ", "data": data}})


def _group_press(data: str) -> Act:
    message = _raw_message(_GROUP_CHAT, None, text="a card")
    return lambda api, user: api.send_update({"callback_query": {
        "id": str(next(_IDS)), "from": user.to_dict(), "chat_instance": "2",
        "message": message, "data": data}})


def _my_chat_member(api: FakeBotAPI, user: FakeUser) -> int:
    bot = {k: api.bot_user[k] for k in ("id", "is_bot", "first_name")}
    return api.send_update({"my_chat_member": {
        "chat": user.chat_dict(), "from": user.to_dict(), "date": 1_795_000_000,
        "old_chat_member": {"user": bot, "status": "member"},
        "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0}}})


# Updates that must get no message anywhere: groups, channels, no user, edits.
SILENT: dict[str, Case] = {
    "group-text": Case(lambda api, u: api.send_group_text(GROUP, u, "<b>hi</b> bot"), GROUP),
    "group-command": Case(lambda api, u: api.send_group_text(GROUP, u, "/start"), GROUP),
    "group-document": Case(lambda api, u: api.send_document(
        u, "catalogue.xlsx", b"PK\x03\x04", chat_id=GROUP), GROUP),
    "group-sticker": Case(lambda api, u: api.send_update({"message": _raw_message(
        _GROUP_CHAT, u.to_dict(), sticker={
            "file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 1,
            "height": 1, "is_animated": False, "is_video": False})}), GROUP),
    "group-button": Case(_group_press(cb.menu()), GROUP),
    "group-staff-card-button": Case(_group_press(cards.data("take", 1)), GROUP),
    "channel-post": Case(lambda api, u: api.send_channel_post(CHANNEL, "<script>"), CHANNEL),
    "edited-channel-post": Case(lambda api, u: api.send_update({"edited_channel_post": (
        _raw_message({"id": CHANNEL, "type": "channel", "title": "C"}, None, text="x",
                     edit_date=1_795_000_001))}), CHANNEL),
    "poll-without-user": Case(lambda api, u: api.send_update({"poll": _POLL})),
    "inline-button-without-message": Case(_inline_press(cb.menu())),
    "inline-staff-card-button": Case(_inline_press(cards.data("take", 1))),
    "bot-blocked-by-user": Case(_my_chat_member),
    "edited-text": Case(_edit("<b>edited</b>\x00")),
    "edited-command": Case(_edit("/menu")),  # editing /delete must not ask again
}


def _other(kind: str) -> Act:
    return lambda api, user: api.send_other(user, kind)


# Private-chat updates that must be answered (a message, or an answer to the press).
OTHER: dict[str, Act] = {
    **{kind: _other(kind) for kind in MEDIA_KINDS if kind != "document"},
    "pdf": lambda api, u: api.send_document(u, "notes.pdf", b"%PDF-1.4\n"),
    "workbook-from-a-returnee": lambda api, u: api.send_document(
        u, "catalogue.xlsx", b"PK\x03\x04 not really"),
    "document-with-markup-name": lambda api, u: api.send_document(
        u, "<b>&amp;.xlsx", b"x", caption="/start <i>"),
}


# ---------------------------------------------------------------- driving and checking


async def converse(
    api: FakeBotAPI, user: FakeUser, act: Act, answer: re.Pattern[str] = NO_TICKET
) -> list[SentMessage]:
    """Runs `act`, then /ticket. A chat is served in order, so the bot's messages before
    the answer to /ticket (matching `answer`) are its replies to `act`."""
    before = len(api.messages(user.id))
    act(api, user)
    api.send_command(user, SENTINEL)
    found = await api.wait_for(
        user.id, lambda ms: len(ms) > before and bool(answer.match(ms[-1].text)), TIMEOUT)
    return found[before:-1]


def ticket_answers(translator: Translator, language: str) -> re.Pattern[str]:
    """What /ticket answers in this language: no request, or the open request's status."""
    with translator.use(language):
        none = _("You have no open request.")
        status = _("Your request %(reference)s: %(status)s.", reference="\x00", status="\x01")
    before, after = status.split("\x00")
    middle = after.split("\x01")[0]
    return re.compile(f"{re.escape(none)}|{re.escape(before)}R-\\d+-\\d+{re.escape(middle)}")


async def menu(api: FakeBotAPI, user: FakeUser) -> SentMessage:
    api.send_command(user, "/menu")
    return (await api.next_messages(user.id, TIMEOUT))[-1]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _attempt in range(int(TIMEOUT / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not {what} within {TIMEOUT}s")


async def unfinished(app: App) -> list[int]:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        rows = await session.scalars(select(InboxRow.update_id).where(InboxRow.done.is_(False)))
        return list(rows.all())


async def _no_unfinished(app: App) -> bool:
    return not await unfinished(app)


async def done(app: App, update_id: int) -> bool:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        row = await session.get(InboxRow, update_id)
        return row is not None and row.done


def assert_valid(api: FakeBotAPI, caplog: pytest.LogCaptureFixture, *chats: int) -> None:
    """Every Bot API call succeeded, no update failed, and no apology was sent."""
    assert not api.errors, api.errors
    assert not [r for r in caplog.records if r.getMessage().startswith("update failed")]
    for chat in chats:
        for message in api.messages(chat):
            assert utf16_len(message.text) <= 4096
            assert APOLOGY not in message.text.lower()


def assert_not_echoed(text: str, replies: list[SentMessage]) -> None:
    """Input markup may come back only escaped: never as raw HTML in what the bot sent."""
    if "<" in text or "&" in text:
        assert all(text not in m.raw_text for m in replies)


# ---------------------------------------------------------------- the fixed corpus


@pytest.fixture
def returnee(api: FakeBotAPI) -> FakeUser:
    return api.user(id=2500, first_name="Awa", language_code="en")


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
async def test_any_text_gets_a_valid_reply(
    app: App, api: FakeBotAPI, returnee: FakeUser, caplog: pytest.LogCaptureFixture,
    text: str,
):
    replies = await converse(api, returnee, lambda api, u: api.send_text(u, text))
    assert replies and all(m.parse_mode == "HTML" for m in replies)
    assert_not_echoed(text, replies)
    assert_valid(api, caplog, returnee.id)
    await eventually(lambda: _no_unfinished(app), "all inbox rows done")



@pytest.mark.parametrize("data", FORGED_DATA.values(), ids=FORGED_DATA.keys())
async def test_forged_button_data_is_answered_politely(
    app: App, api: FakeBotAPI, returnee: FakeUser, caplog: pytest.LogCaptureFixture,
    data: str,
):
    pressed_on = await menu(api, returnee)
    replies = await converse(api, returnee, lambda api, u: api.press(u, pressed_on, data))
    [answer] = [a for a in api.callback_answers if a.data == data]
    assert replies or answer.text  # a message, or an alert on the button
    assert answer.user_id == returnee.id
    assert not api.messages(POLICE_CHAT)  # nothing reached a team chat
    assert_valid(api, caplog, returnee.id)
    await eventually(lambda: _no_unfinished(app), "all inbox rows done")


@pytest.mark.parametrize("act", OTHER.values(), ids=OTHER.keys())
async def test_other_private_updates_get_a_valid_reply(
    app: App, api: FakeBotAPI, returnee: FakeUser, caplog: pytest.LogCaptureFixture,
    act: Act,
):
    replies = await converse(api, returnee, act)
    assert replies
    assert not api.downloads  # a returnee's file is never fetched
    assert_valid(api, caplog, returnee.id)
    await eventually(lambda: _no_unfinished(app), "all inbox rows done")


@pytest.mark.parametrize("case", SILENT.values(), ids=SILENT.keys())
async def test_updates_outside_private_chats_get_no_reply(
    app: App, api: FakeBotAPI, returnee: FakeUser, caplog: pytest.LogCaptureFixture,
    case: Case,
):
    await menu(api, returnee)
    before = len(api.messages(returnee.id))
    update_id = case.act(api, returnee)
    await eventually(lambda: done(app, update_id), f"update {update_id} done")
    replies = await converse(api, returnee, lambda api, u: api.send_text(u, "hi"))
    assert replies  # the bot still serves the user afterwards
    assert len(api.messages(returnee.id)) == before + len(replies) + 1  # + /ticket's answer
    if case.chat is not None:
        assert not api.messages(case.chat)
    assert not api.messages(POLICE_CHAT)
    assert_valid(api, caplog, returnee.id)
    await eventually(lambda: _no_unfinished(app), "all inbox rows done")


async def test_an_update_the_admin_handler_stops_is_marked_done(
    app: App, api: FakeBotAPI, returnee: FakeUser
):
    pressed_on = await menu(api, returnee)
    update_id = api.press(returnee, pressed_on, "A:nonsense")  # stopped in group -1
    await api.next_messages(returnee.id, TIMEOUT)
    await eventually(lambda: done(app, update_id), f"update {update_id} done")


# ---------------------------------------------------------------- echoes are escaped

ECHOED = ("html-bold", "html-entities", "html-script", "html-unclosed", "html-link",
          "html-pre", "c0-controls", "bidi-controls", "combining-flood",
          "emoji-straddles-4096")
EVIL_NAME = "<b>Mo</b> & <i>Co"


async def _press(api: FakeBotAPI, user: FakeUser, data: str) -> list[SentMessage]:
    api.press(user, api.messages(user.id)[-1], data)
    return await api.next_messages(user.id, TIMEOUT)


async def _say(api: FakeBotAPI, user: FakeUser, text: str) -> list[SentMessage]:
    api.send_text(user, text)
    return await api.next_messages(user.id, TIMEOUT)


@pytest.mark.parametrize("name", ECHOED)
async def test_words_and_names_shown_back_are_escaped_in_the_preview_and_the_card(
    app: App, api: FakeBotAPI, caplog: pytest.LogCaptureFixture, name: str
):
    text = "I lost my ID card " + TEXTS[name]  # words, so the NLU sees a description
    user = api.user(id=2600, first_name=EVIL_NAME, language_code="en")
    await _say(api, user, text)  # becomes one of "my last messages"
    await _press(api, user, cb.service("national-id-card"))
    await _press(api, user, cb.handoff("national-id-card"))
    preview = await _say(api, user, text)
    with_history = await _press(api, user, cb.draft("history"))
    assert_not_echoed(text, preview + with_history)
    words = clean(text)[:MAX_DESCRIPTION]
    if "<" in words or "&" in words:
        assert words in preview[-1].text and EVIL_NAME in preview[-1].text
    await _press(api, user, cb.draft("share"))
    posted = await api.wait_for(POLICE_CHAT, lambda ms: any("R-2026-" in m.text for m in ms))
    card = next(m for m in posted if "R-2026-" in m.text)
    assert_not_echoed(text, [card])
    assert EVIL_NAME in card.text and EVIL_NAME not in card.raw_text
    api.press(api.user(3001, "Awa"), card, cards.data("take", 1))  # the card is edited
    await api.wait_for(POLICE_CHAT, lambda ms: api.message(POLICE_CHAT, card.message_id).edited)
    assert_valid(api, caplog, user.id, POLICE_CHAT)


# ---------------------------------------------------------------- a property


def _press_act(data: str) -> Act:
    return lambda api, u: api.press(u, api.messages(u.id)[-1], data)


EVENTS = st.one_of(
    st.one_of(st.text(max_size=300), st.sampled_from(list(TEXTS.values()))).map(
        lambda text: ("text", text)),
    st.one_of(st.text(max_size=70), st.sampled_from(list(FORGED_DATA.values()))).map(
        lambda data: ("press", data)),
    st.sampled_from([*MEDIA_KINDS]).map(lambda kind: ("other", kind)),
)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=EVENTS, who=st.integers(min_value=0, max_value=2))
async def test_any_sequence_of_inputs_keeps_the_bot_valid(
    app: App, api: FakeBotAPI, caplog: pytest.LogCaptureFixture, translator: Translator,
    event: tuple[str, str], who: int,
):
    language = ("en", "fr", "ar")[who]
    user = api.user(id=2700 + who, first_name="<i>Fuzz", language_code=language)
    if not api.messages(user.id):
        await menu(api, user)
    kind, value = event
    act: Act = {"text": lambda api, u: api.send_text(u, value), "press": _press_act(value),
                "other": lambda api, u: api.send_other(u, value)}[kind]
    answers = len(api.callback_answers)
    replies = await converse(api, user, act, ticket_answers(translator, language))
    assert replies or (kind == "press" and len(api.callback_answers) > answers)
    assert_not_echoed(value, replies)
    assert_valid(api, caplog, user.id, POLICE_CHAT)
    await eventually(lambda: _no_unfinished(app), "all inbox rows done")

