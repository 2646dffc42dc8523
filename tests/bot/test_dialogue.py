"""The conversation as a user meets it: real catalogue, real NLU, real database."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import Components, open_components
from bot.dialogue import callbacks as cb
from bot.dialogue.consent import STORE_PROFILE, VERSIONS
from bot.dialogue.events import ButtonInput, TextInput
from bot.settings import Settings
from bot.storage.models import ConsentEventRow, UserRow
from nlu.engine import EmbeddedParser
from nlu.types import ParseResult
from tests.bot.conftest import Chat, Clock, Sessions

ASPECT_BUTTONS = {"a:d:", "a:e:", "a:p:", "a:w:", "a:f:", "h:"}


def aspect_prefixes(chat: Chat) -> set[str]:
    return {d[:4] if d.startswith("a:") else d[:2] for d in chat.data() if d[:2] in ("a:", "h:")}


async def test_start_greets_in_the_telegram_language_and_asks_consent(components: Components):
    chat = Chat(components, language_code="fr-FR")
    await chat.send("/start")
    assert cb.consent(STORE_PROFILE, True) in chat.data()
    assert [cb.category(c) for c in ("cash_assistance", "family")] <= chat.data()
    assert "Telegram" in chat.text() and "/privacy" in chat.text()


async def test_unsupported_language_gets_the_native_picker(components: Components):
    chat = Chat(components, language_code="de")
    await chat.send("/start")
    assert chat.labels() == ["English", "Français", "العربية"]
    await chat.press("l:ar")
    assert any("\u0600" <= c <= "\u06ff" for c in chat.reply[0].html)  # Arabic text
    await chat.press(cb.consent(STORE_PROFILE, False))  # the Arabic welcome offers consent
    assert cb.category("health") in chat.data()


async def test_language_can_change_at_any_time(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("/language")
    await chat.press("l:fr")
    await chat.send("/menu")
    french_menu = chat.labels()
    await chat.send("/language")
    await chat.press("l:en")
    await chat.send("/menu")
    assert chat.labels() != french_menu and "🏥 Health care" in chat.labels()


async def test_category_asks_the_region_then_lists_its_services(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.press(cb.category("legal_documentation"))
    assert cb.region("KLD") in chat.data() and cb.region(None) in chat.data()
    await chat.press(cb.region("KLD"))
    services = {d.removeprefix("s:") for d in chat.data() if d.startswith("s:")}
    assert services == {"late-birth-registration", "national-id-card", "criminal-record-extract"}
    await chat.send(ButtonInput(cb.category("legal_documentation")))  # region remembered
    assert {d.removeprefix("s:") for d in chat.data() if d.startswith("s:")} == services


async def test_a_region_named_in_text_is_used_for_listing(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("which services are there in Kolda")
    await chat.send(ButtonInput(cb.category("legal_documentation")))
    assert not any(d.startswith("r:") for d in chat.data())
    assert cb.service("late-birth-registration") in chat.data()


async def test_service_card_offers_every_aspect_and_a_case_worker(components: Components):
    chat = Chat(components)
    await chat.send(ButtonInput(cb.service("national-id-card")))
    assert aspect_prefixes(chat) == ASPECT_BUTTONS
    assert "Last verified on" in chat.text()


async def test_documents_say_where_to_get_a_missing_one(components: Components):
    chat = Chat(components)
    await chat.send(ButtonInput(cb.aspect("documents", "national-id-card")))
    text = chat.text()
    assert "Don't have it? Get it from: Birth certificate extract" in text
    assert cb.aspect("procedure", "birth-certificate-extract") in chat.data()
    assert "Last verified on" in text


async def test_location_gives_hours_phone_focal_point_and_response_time(components: Components):
    chat = Chat(components)
    await chat.send(ButtonInput(cb.aspect("location", "birth-certificate-extract")))
    text = chat.text()
    assert "+000 33 100 0003" in text and "Expected answer within" in text
    assert "Contact person:" in text and "Mon" in text


async def test_free_text_answers_the_asked_aspect_of_the_matched_service(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("how much does the vocational training cost")
    assert "Cost of Vocational training" in chat.text() or "Free of charge" in chat.text()
    await chat.send("what documents do I need?")  # a follow-up about the same service
    assert "Documents for" in chat.text() and "vocational-training" in " ".join(chat.data())


async def test_several_fitting_services_are_offered_as_choices(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("I need papers for my birth certificate and my identity card")
    data = [d for d in chat.data() if d.startswith("a:")]
    assert "Which one do you mean?" in chat.text()
    assert {"a:d:birth-certificate-extract", "a:d:national-id-card"} <= set(data)


async def test_emergency_sends_contacts_first_without_consent(components: Components):
    chat = Chat(components, language_code=None)  # not even a language yet
    await chat.send("my husband beats me and I am afraid he will kill me")
    first = chat.reply[0].html
    assert "+000 33 800 0017" in first and "+000 33 800 0800" in first
    assert cb.urgent() in chat.data()
    assert not any(d.startswith("k:") for d in chat.data())


class AlwaysUrgent:
    """The real parser, with every result marked as a possible emergency."""

    def __init__(self, parser: EmbeddedParser) -> None:
        self.parser = parser

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        return replace(self.parser.parse(text, hint_language), urgent=True)


async def test_an_urgent_question_gets_the_contacts_and_then_its_answer(
    catalogued: Sessions, bot_settings: Settings, parser: EmbeddedParser, clock: Clock
):
    components = await open_components(bot_settings, AlwaysUrgent(parser), clock)
    try:
        chat = Chat(components)
        await chat.send("/start")
        await chat.send("how much does the vocational training cost")
        assert "+000 33 800 0017" in chat.reply[0].html and cb.urgent() in chat.data()
        assert "Cost of Vocational training" in chat.text() or "Free of charge" in chat.text()
        assert len(chat.reply[0].html.splitlines()) == 1  # one line, not the full block
        assert "contact you urgently" not in chat.text()  # and no question to answer
        await chat.press(cb.urgent())
        assert "Marked as urgent" in chat.text()
    finally:
        await components.close()


async def test_yes_to_the_urgent_offer_goes_straight_to_the_urgent_preview(
    components: Components,
):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("I want to kill myself")
    await chat.send("yes")
    assert "Marked as urgent" in chat.text()  # no description asked first
    assert cb.draft("share") in chat.data() and cb.draft("refuse") in chat.data()


async def test_out_of_scope_twice_offers_a_case_worker(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("what is the capital of Australia")
    assert cb.category("health") in chat.data()
    await chat.send("who won the football match yesterday")
    assert cb.handoff() in chat.data() and cb.no() in chat.data()
    await chat.press(cb.no())
    assert cb.category("health") in chat.data()


async def test_forged_and_stale_buttons_get_a_polite_answer(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    for data in ("s:no-such-service", "x" * 65, "", "c:nope", "r:ZZZ", "l:de", "💥", "a:q:x"):
        await chat.send(ButtonInput(data))
        assert chat.reply, data
        assert cb.menu() in chat.data() or cb.category("health") in chat.data() or \
            cb.language("en") in chat.data(), data


async def test_non_text_gets_text_only_answer_and_menu(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.send("!voice")
    assert "only read text" in chat.text() and cb.category("health") in chat.data()


async def test_consent_is_recorded_with_version_hash_language_and_channel(
    components: Components,
):
    chat = Chat(components, language_code="fr")
    await chat.send("/start")
    await chat.press(cb.consent(STORE_PROFILE, True))
    async with components.sessions() as session:
        row = (await session.execute(select(ConsentEventRow))).scalar_one()
    assert (row.purpose, row.given, row.text_version, row.language, row.channel) == (
        STORE_PROFILE, True, VERSIONS[STORE_PROFILE], "fr", "telegram")
    assert len(row.text_hash) == 64 and row.user_id is not None


async def test_privacy_withdraws_with_one_tap_and_forgets_the_region(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.press(cb.consent(STORE_PROFILE, True))
    await chat.press(cb.category("legal_documentation"))
    await chat.press(cb.region("DKR"))
    await chat.send("/privacy")
    await chat.press(cb.withdraw(STORE_PROFILE))
    await chat.press(cb.category("legal_documentation"))
    assert cb.region("DKR") in chat.data()  # asked again: the region was forgotten
    async with components.sessions() as session:
        events = (await session.execute(
            select(ConsentEventRow.given).order_by(ConsentEventRow.id))).scalars().all()
    assert events == [True, False]


async def test_a_new_consent_version_is_asked_again(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    await chat.press(cb.consent(STORE_PROFILE, True))
    async with components.sessions.begin() as session:  # as if the text changed since
        user = (await session.execute(select(UserRow))).scalar_one()
        user.state = {**user.state, "consents": {STORE_PROFILE: 0}, "asked": {STORE_PROFILE: 0}}
        user.version += 1  # as another worker would
    await chat.send("/start")
    assert cb.consent(STORE_PROFILE, True) in chat.data()


async def test_anonymous_sessions_expire_and_profiles_last(components: Components, clock: Clock):
    anonymous, remembered = Chat(components, user=1), Chat(components, user=2)
    for chat in (anonymous, remembered):
        await chat.send("/start")
        await chat.send("/language")
        await chat.press(cb.language("fr"))
    await remembered.send("/privacy")
    await remembered.press(cb.consent(STORE_PROFILE, True))
    clock.advance(minutes=61)
    await anonymous.send("/menu")
    await remembered.send("/menu")
    assert anonymous.labels() != remembered.labels()  # one forgot French, one did not


async def test_state_survives_a_restart(components: Components, bot_settings, parser, clock):
    from bot.app import open_components

    chat = Chat(components)
    await chat.send("/language")
    await chat.press(cb.language("fr"))
    restarted = await open_components(bot_settings, parser, clock)
    try:
        again = Chat(restarted)
        await again.send("/menu")
        assert again.labels() == chat.labels()[-13:]
    finally:
        await restarted.close()


async def test_concurrent_turns_of_one_user_lose_no_update(components: Components):
    chat = Chat(components)
    await chat.send("/start")
    conversation = components.conversation
    await asyncio.gather(*(conversation.handle(chat.visitor, ButtonInput(cb.menu()))
                           for _ in range(8)))
    async with components.sessions() as session:
        version = await session.scalar(select(UserRow.version))
        users = await session.scalar(select(func.count()).select_from(UserRow))
    assert (users, version) == (1, 9)


async def test_user_rows_hold_no_telegram_id(components: Components):
    chat = Chat(components, user=424242)
    await chat.send("/start")
    await chat.send(TextInput("my phone is +221 77 123 45 67"))
    async with components.sessions() as session:
        row = (await session.execute(select(UserRow))).scalar_one()
    stored = f"{row.pseudonym} {row.state}"
    assert "424242" not in stored and "77 123" not in stored


ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\u200f\u202e\u2066", "a\u0301" * 500, "\x00\x01\x1b[31m",
                     "<b>bold</b> & <script>", "😀" * 2049, "ا" * 4097, "\ufeff", "\ud83d"]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ODD_TEXT, data=st.text(max_size=80))
async def test_any_text_or_button_gets_a_polite_valid_reply(
    components: Components, text: str, data: str
):
    chat = Chat(components, user=hash(text) % 1000)
    for event in (TextInput(text), ButtonInput(data)):
        reply = await chat.send(event)
        assert reply and all(m.html.strip() for m in reply)
        assert all(len(d.encode()) <= cb.MAX_BYTES and cb.decode(d) for d in chat.data())
        assert "<script>" not in " ".join(m.html for m in reply)


async def test_two_workers_serving_one_user_see_each_other(
    components: Components, bot_settings, parser, clock
):
    from bot.app import open_components

    other = await open_components(bot_settings, parser, clock)
    try:
        first, second = Chat(components), Chat(other)
        await first.send("/language")
        await first.press(cb.language("fr"))
        await second.send("/language")
        await second.press(cb.language("ar"))
        await first.send("/menu")  # the first worker's copy of the row is stale now
        assert any("\u0600" <= c <= "\u06ff" for c in "".join(first.labels()))
    finally:
        await other.close()
