"""Handoff end to end: a returnee, case workers in team chats, and an intruder, all through
the real PTB Application and the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from telegram.ext import Application

from bot.app import Components, build_application
from bot.channels import team
from bot.channels.context import BotContext
from bot.dialogue import callbacks as cb
from bot.handoff import cards
from bot.settings import Settings
from bot.storage import audit, reports, staff, tickets
from bot.storage.models import ConsentEventRow, TicketRow
from nlu.engine import EmbeddedParser
from tests.bot.conftest import Clock, Sessions, running
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

TOKEN = "123456:TEST-TOKEN"
POLICE_CHAT, JOBS_CHAT = -100700, -100800  # national-police (a forum), employment-agency
App = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as api:
        api.create_chat(POLICE_CHAT, type="supergroup", is_forum=True, title="Police team")
        api.create_chat(JOBS_CHAT, type="supergroup", title="Jobs team")
        yield api


@pytest.fixture
async def app(
    bot_settings: Settings, api: FakeBotAPI, catalogued: Sessions, parser: EmbeddedParser,
    clock: Clock,
) -> AsyncIterator[App]:
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, within office hours
    settings = bot_settings.model_copy(update={
        "telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": api.base_url,
        "team_chats": {"national-police": POLICE_CHAT, "employment-agency": JOBS_CHAT},
        "caseworker_chat_id": JOBS_CHAT})
    application = build_application(settings, parser, clock)
    async with running(application):
        components: Components = application.bot_data["components"]
        async with components.writer.begin() as session:
            for telegram_id, role, org, name in (
                    (3001, "caseworker", "national-police", "Awa"),
                    (3002, "caseworker", "employment-agency", "Binta"),
                    (3003, "supervisor", "national-police", "Chef")):
                await staff.add_staff(session=session, telegram_id=telegram_id, role=role,
                                      organization_id=org, display_name=name, now=clock())
        yield application


class People:
    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.returnee = api.user(id=2001, first_name="Moussa", language_code="en")
        self.awa = api.user(id=3001, first_name="Awa", language_code="fr")
        self.binta = api.user(id=3002, first_name="Binta", language_code="fr")
        self.chef = api.user(id=3003, first_name="Chef", language_code="fr")
        self.intruder = api.user(id=3999, first_name="Mallory", language_code="en")

    async def say(self, text: str) -> list[SentMessage]:
        if text.startswith("/"):
            self.api.send_command(self.returnee, text)
        else:
            self.api.send_text(self.returnee, text)
        return await self.api.next_messages(self.returnee.id)

    async def press(self, data: str) -> list[SentMessage]:
        """Presses the newest button with this data, or sends it from the last message (as
        a user would reach it through the menus)."""
        messages = self.api.messages(self.returnee.id)
        message = next((m for m in reversed(messages)
                        if any(b[1] == data for row in m.buttons for b in row)), messages[-1])
        self.api.press(self.returnee, message, data)
        return await self.api.next_messages(self.returnee.id)

    def card(self, chat: int = POLICE_CHAT) -> SentMessage:
        return next(m for m in reversed(self.api.messages(chat)) if "Status:" in m.text)

    async def staff_press(self, who: FakeUser, action: str, ticket_id: int,
                          arg: int | None = None, chat: int = POLICE_CHAT) -> str | None:
        before = len(self.api.callback_answers)
        self.api.press(who, self.card(chat), cards.data(action, ticket_id, arg))
        for _ in range(200):
            if len(self.api.callback_answers) > before:
                return self.api.callback_answers[-1].text
            await _tick()
        raise AssertionError("the button was never answered")

    async def open_ticket(self, words: str = "I lost my ID card and need a new one") -> int:
        await self.say("/start")
        await self.press(cb.service("national-id-card"))
        await self.press(cb.handoff("national-id-card"))
        preview = await self.say(words)
        assert words in preview[-1].text and cb.draft("share") in _data(preview)
        confirmation = await self.press(cb.draft("share"))
        assert "R-2026-" in confirmation[-1].text and "72 hours" in confirmation[-1].text
        await self.api.wait_for(POLICE_CHAT, lambda ms: any("R-2026-" in m.text for m in ms))
        return 1


async def _tick() -> None:
    await asyncio.sleep(0.01)


def _data(messages: list[SentMessage]) -> list[str]:
    return [b[1] for m in messages for row in m.buttons for b in row if b[1]]


async def _ticket(app: App, ticket_id: int = 1) -> tickets.Ticket:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
    assert ticket is not None
    return ticket


async def test_handoff_with_consent_take_relay_close_and_hand_back(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket()
    card = people.card()
    assert card.message_thread_id is not None  # a forum topic for the ticket
    assert "I lost my ID card" in card.text and "Moussa" in card.text
    assert "2001" not in card.text  # the chat id is never shown
    ticket = await _ticket(app)
    assert (ticket.status, ticket.priority, ticket.organization_id) == (
        "new", "normal", "national-police")

    assert "Taken" in (await people.staff_press(people.awa, "take", ticket_id) or "")
    told = await api.next_messages(people.returnee.id)
    assert "Awa is now handling your request R-2026-000001" in told[0].text

    before = len(api.messages(people.returnee.id))
    api.send_text(people.returnee, "Hello, are you there?")
    copies = await api.wait_for(POLICE_CHAT, lambda ms: any(
        "are you there" in m.text for m in ms))
    assert next(m for m in copies if "are you there" in m.text).message_thread_id == \
        card.message_thread_id
    await asyncio.sleep(0.2)
    assert len(api.messages(people.returnee.id)) == before  # the bot stayed silent
    api.send_group_text(POLICE_CHAT, people.awa, "Bring your birth certificate, please.",
                        is_forum=True, message_thread_id=card.message_thread_id)
    relayed = await api.next_messages(people.returnee.id)
    assert relayed[0].text == "Bring your birth certificate, please."
    ticket = await _ticket(app)
    assert ticket.status == "in_progress" and ticket.first_response_at is not None

    await people.staff_press(people.awa, "close", ticket_id)
    answer = await people.staff_press(people.awa, "outcome", ticket_id, 0)  # service_provided
    assert "Closed" in (answer or "")
    closed = await api.next_messages(people.returnee.id)
    assert "is closed" in closed[0].text and cb.helped(ticket_id, True) in _data(closed)
    await people.press(cb.helped(ticket_id, True))
    back = await people.say("where do I get a birth certificate")
    assert back and "birth" in back[-1].text.lower()  # the bot answers again
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        events = await tickets.list_events(session=session, ticket_id=ticket_id)
    assert [(e.from_status, e.to_status) for e in events if e.to_status] == [
        (None, "new"), ("new", "assigned"), ("assigned", "in_progress"),
        ("in_progress", "closed")]
    assert any(e.action == "helped:yes" for e in events)


async def test_refusing_to_share_creates_no_ticket_and_gives_public_contacts(
    app: App, api: FakeBotAPI
):
    people = People(api)
    await people.say("/start")
    await people.press(cb.service("national-id-card"))
    await people.press(cb.handoff("national-id-card"))
    await people.press(cb.draft("skip"))
    refused = await people.press(cb.draft("refuse"))
    said = "\n".join(m.text for m in refused)
    assert "nothing was shared" in said and "+000 33 100 0210" in said  # public contacts
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        assert (await session.execute(select(TicketRow))).first() is None
        consent = (await session.execute(select(ConsentEventRow))).scalars().all()
    assert [(c.purpose, c.given) for c in consent] == [("share_with_caseworker", False)]
    assert not [m for m in api.messages(POLICE_CHAT) if "R-2026" in m.text]


async def test_an_open_ticket_is_shown_instead_of_a_second_one(app: App, api: FakeBotAPI):
    people = People(api)
    await people.open_ticket()
    status = await people.press(cb.handoff("national-id-card"))
    assert "R-2026-000001" in status[0].text and cb.draft("cancel_ticket") in _data(status)
    assert "R-2026-000001" in (await people.say("/ticket"))[0].text
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        assert len((await session.execute(select(TicketRow))).all()) == 1


async def test_intruders_and_other_organisations_are_refused_and_audited(
    app: App, api: FakeBotAPI
):
    people = People(api)
    ticket_id = await people.open_ticket()
    for who in (people.intruder, people.binta):
        answer = await people.staff_press(who, "take", ticket_id)
        assert "not allowed" in (answer or "")
    assert (await _ticket(app)).status == "new"
    # a non-staff member writing in the thread reaches nobody
    api.send_group_text(POLICE_CHAT, people.intruder, "give me their number",
                        is_forum=True, message_thread_id=people.card().message_thread_id)
    await people.staff_press(people.awa, "take", ticket_id)
    await api.next_messages(people.returnee.id)
    assert not [m for m in api.messages(people.returnee.id) if "their number" in m.text]
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        entries = await audit.list_entries(session=session)
    refused = [e for e in entries if not e.allowed]
    assert {e.action for e in refused} >= {"take"} and len(refused) >= 2
    assert all("3999" not in str(e.details) and "3999" not in e.actor for e in entries)


async def test_a_supervisor_can_reassign(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket()
    await people.staff_press(people.awa, "take", ticket_id)
    await api.next_messages(people.returnee.id)
    assert "not allowed" in (await people.staff_press(people.awa, "reassign", ticket_id) or "")
    await people.staff_press(people.chef, "reassign", ticket_id)
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        chef = await staff.get_active_staff(session=session, telegram_id=3003)
    assert chef is not None
    await people.staff_press(people.chef, "assign", ticket_id, chef.id)
    assert (await _ticket(app)).assigned_staff_id == chef.id
    assert "Chef is now handling" in (await api.next_messages(people.returnee.id))[0].text


async def test_bot_command_returns_to_the_bot(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket()
    await people.staff_press(people.awa, "take", ticket_id)
    await api.next_messages(people.returnee.id)
    back = await people.say("/bot")
    assert "back with the bot" in back[0].text
    assert (await _ticket(app)).status == "waiting_user"
    await api.wait_for(POLICE_CHAT, lambda ms: any("went back to the bot" in m.text for m in ms))
    assert await people.say("how much does the national id card cost")


async def test_overdue_tickets_are_reminded_then_escalated(
    app: App, api: FakeBotAPI, clock: Clock
):
    people = People(api)
    await people.open_ticket()
    context = BotContext(app)
    await team.check_deadlines(context)
    assert not [m for m in api.messages(POLICE_CHAT) if "⏰" in m.text]  # not due yet
    clock.advance(hours=73)
    await team.check_deadlines(context)
    assert [m for m in api.messages(POLICE_CHAT) if "⏰" in m.text]
    clock.advance(hours=25)
    api.user(id=3003, first_name="Chef", started=True)
    await team.check_deadlines(context)
    assert [m for m in api.messages(POLICE_CHAT) if "🚨" in m.text]
    assert [m for m in api.messages(3003) if "🚨" in m.text]  # the supervisor, directly
    await team.check_deadlines(context)
    assert len([m for m in api.messages(POLICE_CHAT) if "🚨" in m.text]) == 1  # once


async def test_follow_up_is_asked_after_closure_and_recorded(
    app: App, api: FakeBotAPI, clock: Clock
):
    people = People(api)
    await people.say("/start")
    await people.press(cb.service("national-id-card"))
    await people.press(cb.handoff("national-id-card"))
    await people.press(cb.draft("skip"))
    await people.press(cb.draft("follow_up"))
    await people.press(cb.draft("share"))
    await api.wait_for(POLICE_CHAT, lambda ms: any("R-2026-" in m.text for m in ms))
    await people.staff_press(people.awa, "take", 1)
    await people.staff_press(people.awa, "close", 1)
    await people.staff_press(people.awa, "outcome", 1, 0)
    await api.wait_for(people.returnee.id, lambda ms: "is closed" in ms[-1].text)
    await api.next_messages(people.returnee.id)
    context = BotContext(app)
    await team.send_follow_ups(context)
    assert not [m for m in api.messages(people.returnee.id) if "receive the service" in m.text]
    clock.advance(days=15)
    await team.send_follow_ups(context)
    asked = await api.next_messages(people.returnee.id)
    assert "did you receive the service" in asked[0].text
    await people.press(cb.follow_up(1, "p"))
    assert (await _ticket(app)).follow_up_answer == "p"


async def test_closing_without_a_service_feeds_the_gap_register(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket()
    await people.staff_press(people.awa, "take", ticket_id)
    await people.staff_press(people.awa, "close", ticket_id)
    await people.staff_press(people.awa, "outcome", ticket_id, 2)  # no_service_available
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        report = await reports.report_gaps(session=session)
    assert [(e.reason, e.topic, e.language) for e in report.entries] == [
        ("no_service_available", "legal_documentation", "en")]


async def test_a_user_who_blocked_the_bot_gets_nothing_more(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket()
    api.block(people.returnee)
    await people.staff_press(people.awa, "take", ticket_id)  # the notice meets a 403
    thread = people.card().message_thread_id
    for text in ("Hello?", "Are you there?"):
        api.send_group_text(POLICE_CHAT, people.awa, text, is_forum=True,
                            message_thread_id=thread)
    await api.wait_for(POLICE_CHAT, lambda ms: len(
        [m for m in ms if "blocked the bot" in m.text]) == 2)
    refused = [e for e in api.errors if e.status == 403]
    assert len(refused) == 1  # after the first refusal, nothing more was tried
    api.unblock(people.returnee)
    assert await people.say("/menu")  # writing again lifts it
