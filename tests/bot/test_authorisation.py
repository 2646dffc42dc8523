# ruff: noqa: F811  (pytest fixtures imported from the handoff tests are used as arguments)
"""Who may do what: the policy as explicit tables, checked cell by cell on `allowed()`, and
each family of staff actions driven through the real Telegram layer (PTB Application, fake
Bot API, real database) by every kind of actor.

Actors: a returnee (a Telegram user with a ticket, not staff), a case worker of the
ticket's organisation (assigned to it) and another one, a case worker of another
organisation, a supervisor of the ticket's organisation, an admin, a revoked case worker
and a stranger (an unknown Telegram id).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Components
from bot.channels import admin as admin_channel
from bot.dialogue import callbacks as cb
from bot.handoff import cards
from bot.handoff.desk import allowed
from bot.settings import Settings
from bot.storage import audit, staff, tickets
from bot.storage.staff import Staff
from services_catalog.schema import Catalog
from tests.bot.conftest import Clock
from tests.bot.test_catalog_admin import NEW_NAME, service_name, workbook
from tests.bot.test_handoff import (  # noqa: F401
    POLICE_CHAT,
    App,
    People,
    _data,
    _ticket,
    api,
    app,
)
from tests.bot.test_handoff_units import TICKET, member
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

ACTIONS = ("take", "release", "close", "outcome", "reassign", "assign", "reply", "note", "back")
ALL = set(ACTIONS)
ACTORS = ("returnee", "stranger", "revoked", "admin", "b_worker", "a_worker", "a_other",
          "a_supervisor")
STAFF_ONLY = ("returnee", "stranger", "revoked", "admin", "b_worker")  # no desk action at all

# The policy on a ticket of organisation A, by its state. The ticket is assigned to
# a_worker once taken. Returnees and strangers have no staff row: the desk sees None.
POLICY: dict[str, dict[str, set[str]]] = {
    "new": {
        **{actor: set() for actor in STAFF_ONLY},
        "a_worker": {"take", "note"},
        "a_other": {"take", "note"},
        "a_supervisor": ALL,
    },
    "assigned": {
        **{actor: set() for actor in STAFF_ONLY},
        "a_worker": {"release", "close", "outcome", "reply", "note", "back"},
        "a_other": {"note"},
        "a_supervisor": ALL - {"take"},
    },
    "closed": {
        **{actor: set() for actor in STAFF_ONLY},
        "a_worker": {"note"},
        "a_other": {"note"},
        "a_supervisor": {"note"},
    },
}
A_WORKER = member(1, "caseworker")
MEMBERS: dict[str, Staff | None] = {
    "returnee": None, "stranger": None, "revoked": member(6, "caseworker", active=False),
    "admin": member(5, "admin"), "b_worker": member(3, "caseworker", "org-b"),
    "a_worker": A_WORKER, "a_other": member(2, "caseworker"),
    "a_supervisor": member(4, "supervisor"),
}
TICKETS = {
    "new": TICKET,
    "assigned": dataclasses.replace(TICKET, status="assigned", assigned_staff_id=A_WORKER.id),
    "closed": dataclasses.replace(TICKET, status="closed", assigned_staff_id=A_WORKER.id,
                                  outcome="service_provided"),
}


@pytest.mark.parametrize("state", list(POLICY))
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_cell_of_the_policy(state: str, actor: str, action: str):
    assert allowed(MEMBERS[actor], action, TICKETS[state]) == (action in POLICY[state][actor])


def test_the_table_covers_every_actor_in_every_state():
    assert all(set(table) == set(ACTORS) for table in POLICY.values())
    assert set(MEMBERS) == set(ACTORS)


# ---------------------------------------------------------------- through Telegram

# an admin, a second case worker and a revoked one, all of national-police
ADMIN_ID, OTHER_ID, REVOKED_ID = 3004, 3005, 3006
REFUSED = "not allowed"
E2E_ACTORS = ("returnee", "stranger", "revoked", "admin", "b_worker", "a_worker", "a_other",
              "a_supervisor")


@pytest.fixture
def bot_settings(bot_settings: Settings, api: FakeBotAPI) -> Settings:
    """The handoff tests' settings, plus the fake's file URL for workbook downloads."""
    return bot_settings.model_copy(update={"telegram_file_base_url": api.base_file_url})


@dataclass
class Cast:
    """The actors as Telegram users, and how the audit log names them."""

    people: People
    users: dict[str, FakeUser]
    audit_names: dict[str, str]
    staff_ids: dict[str, int]


@pytest.fixture
async def cast(app: App, api: FakeBotAPI, clock: Clock) -> Cast:
    components: Components = app.bot_data["components"]
    async with components.writer.begin() as session:
        for telegram_id, role, name in ((ADMIN_ID, "admin", "Root"),
                                        (OTHER_ID, "caseworker", "Dia"),
                                        (REVOKED_ID, "caseworker", "Gone")):
            await staff.add_staff(session=session, telegram_id=telegram_id, role=role,
                                  organization_id="national-police", display_name=name,
                                  now=clock())
        await staff.revoke_staff(session=session, telegram_id=REVOKED_ID, now=clock())
    people = People(api)
    users = {"returnee": people.returnee, "stranger": people.intruder,
             "revoked": api.user(REVOKED_ID, "Gone", "en"),
             "admin": api.user(ADMIN_ID, "Root", "en"), "b_worker": people.binta,
             "a_worker": people.awa, "a_other": api.user(OTHER_ID, "Dia", "fr"),
             "a_supervisor": people.chef}
    ids: dict[str, int] = {}
    async with components.sessions() as session:
        for name, user in users.items():
            found = await staff.get_active_staff(session=session, telegram_id=user.id)
            if found is not None:
                ids[name] = found.id
    names = {name: f"staff:{ids[name]}" if name in ids else "unknown" for name in users}
    return Cast(people, users, names, ids)


async def audit_log(app: App) -> list[audit.AuditEntry]:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        return await audit.list_entries(session=session)


async def events(app: App) -> list[tickets.TicketEvent]:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        return await tickets.list_events(session=session, ticket_id=1)


async def press(cast: Cast, actor: str, data: str) -> str | None:
    """The actor presses a card button: staff on the team chat's card, the returnee on a
    message of their own chat (forged data). Returns the answer shown on the button."""
    api = cast.people.api
    user = cast.users[actor]
    message = (api.messages(user.id)[-1] if actor == "returnee"
               else cast.people.card())
    before = len(api.callback_answers)
    api.press(user, message, data)
    await until(lambda: len(api.callback_answers) > before)
    return api.callback_answers[-1].text


async def until(ready: Callable[[], bool], timeout: float = 10.0) -> None:
    for _attempt in range(int(timeout / 0.01)):
        if ready():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not ready in time")


def card_data(action: str, cast: Cast) -> str:
    arg = {"outcome": 0, "assign": cast.staff_ids["a_supervisor"]}.get(action)
    return cards.data(action, 1, arg)


CARD_ACTIONS = ("take", "release", "close", "outcome", "reassign", "assign", "back")


async def test_card_buttons_are_refused_outside_the_policy_and_audited(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    await press(cast, "a_worker", cards.data("take", 1))
    await api.next_messages(cast.people.returnee.id)  # "Awa is now handling your request"
    ticket, history, logged = await _ticket(app), await events(app), len(await audit_log(app))
    told = len(api.messages(cast.people.returnee.id))
    refused = [(actor, action) for actor in E2E_ACTORS for action in CARD_ACTIONS
               if action not in POLICY["assigned"][actor]]
    for actor, action in refused:
        assert REFUSED in (await press(cast, actor, card_data(action, cast)) or "")
    assert (await _ticket(app), await events(app)) == (ticket, history)  # nothing changed
    assert len(api.messages(cast.people.returnee.id)) == told  # the user was told nothing
    assert [(e.actor, e.action, e.target, e.allowed) for e in (await audit_log(app))[logged:]
            ] == [(cast.audit_names[actor], action, "ticket:1", False)
                  for actor, action in refused]


async def test_permitted_card_actions_take_effect_and_are_audited(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    worker = cast.staff_ids["a_worker"]
    steps = [("a_worker", "take", None), ("a_worker", "back", None),
             ("a_worker", "release", None), ("a_supervisor", "take", None),
             ("a_supervisor", "reassign", None), ("a_supervisor", "assign", worker),
             ("a_worker", "close", None), ("a_worker", "outcome", 0)]
    logged = len(await audit_log(app))
    for actor, action, arg in steps:
        state = "new" if action == "take" else "assigned"
        assert action in POLICY[state][actor]
        assert REFUSED not in (await press(cast, actor, cards.data(action, 1, arg)) or "")
    ticket = await _ticket(app)
    assert (ticket.status, ticket.assigned_staff_id, ticket.outcome) == (
        "closed", worker, "service_provided")
    assert [(e.actor, e.action, e.target, e.allowed) for e in (await audit_log(app))[logged:]
            ] == [(cast.audit_names[actor], action, "ticket:1", True)
                  for actor, action, _arg in steps]


async def test_assigning_to_someone_outside_the_organisation_is_audited_as_refused(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    binta = (await _staff(app, cast.users["b_worker"].id)).id
    answer = await press(cast, "a_supervisor", cards.data("assign", 1, binta))
    assert REFUSED in (answer or "") and (await _ticket(app)).assigned_staff_id is None
    last = (await audit_log(app))[-1]
    assert (last.action, last.allowed) == ("assign", False)


async def _staff(app: App, telegram_id: int) -> Staff:
    components: Components = app.bot_data["components"]
    async with components.sessions() as session:
        found = await staff.get_active_staff(session=session, telegram_id=telegram_id)
    assert found is not None
    return found


async def in_thread(cast: Cast, actor: str, text: str) -> None:
    card = cast.people.card()
    cast.people.api.send_group_text(POLICE_CHAT, cast.users[actor], text, is_forum=True,
                                    message_thread_id=card.message_thread_id)


async def test_only_the_assignee_and_the_supervisor_reach_the_user(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    await press(cast, "a_worker", cards.data("take", 1))
    returnee = cast.people.returnee
    await api.next_messages(returnee.id)
    logged = len(await audit_log(app))
    for actor in E2E_ACTORS:  # the team chat is served in order
        await in_thread(cast, actor, f"message from {actor}")
    relayed = [f"message from {a}" for a in E2E_ACTORS if "reply" in POLICY["assigned"][a]]
    got = await api.wait_for(returnee.id, lambda ms: relayed[-1] in ms[-1].text)
    assert [m.text for m in got if m.text.startswith("message from")] == relayed
    refused = [a for a in E2E_ACTORS if "reply" not in POLICY["assigned"][a]]
    assert [(e.actor, e.action, e.allowed) for e in (await audit_log(app))[logged:]
            if not e.allowed] == [(cast.audit_names[a], "reply", False) for a in refused]


async def test_a_relayed_staff_message_is_audited(app: App, api: FakeBotAPI, cast: Cast):
    await cast.people.open_ticket()
    await press(cast, "a_worker", cards.data("take", 1))
    await api.next_messages(cast.people.returnee.id)
    await in_thread(cast, "a_worker", "Bring your birth certificate.")
    await api.next_messages(cast.people.returnee.id)
    assert [(e.actor, e.allowed) for e in await audit_log(app) if e.action == "reply"] == [
        (cast.audit_names["a_worker"], True)]


NOTE_ANSWERS = ("Note saved.", "No note was saved.")


async def notes(cast: Cast, actors: tuple[str, ...]) -> list[str]:
    """Each actor writes /note in the ticket's topic; the answers, in order."""
    api = cast.people.api
    for actor in actors:
        await in_thread(cast, actor, f"/note from {actor}")
    await api.wait_for(POLICE_CHAT, lambda ms: len(
        [m for m in ms if m.text in NOTE_ANSWERS]) == len(actors))
    return [m.text for m in api.messages(POLICE_CHAT) if m.text in NOTE_ANSWERS]


async def test_notes_are_kept_only_from_staff_of_the_organisation(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    await press(cast, "a_worker", cards.data("take", 1))
    answers = await notes(cast, E2E_ACTORS)
    saved = [a for a in E2E_ACTORS if "note" in POLICY["assigned"][a]]
    assert answers == [NOTE_ANSWERS[a not in saved] for a in E2E_ACTORS]
    kept = [(e.actor, e.note) for e in await events(app) if e.action == "note"]
    assert kept == [(cast.audit_names[a], f"from {a}") for a in saved]
    assert not [m for m in api.messages(cast.people.returnee.id) if "note from" in m.text]


async def test_note_attempts_are_audited(app: App, api: FakeBotAPI, cast: Cast):
    await cast.people.open_ticket()
    await notes(cast, ("a_worker", "stranger"))
    assert [(e.actor, e.allowed) for e in await audit_log(app) if e.action == "note"] == [
        (cast.audit_names["a_worker"], True), ("unknown", False)]


async def test_ticket_buttons_of_the_user_work_only_for_the_user(
    app: App, api: FakeBotAPI, cast: Cast
):
    await cast.people.open_ticket()
    stranger = cast.users["stranger"]
    api.send_command(stranger, "/menu")
    await api.next_messages(stranger.id)
    history = await events(app)
    for data in (cb.follow_up(1, "n"), cb.helped(1, False), cb.draft("cancel_ticket")):
        api.press(stranger, api.messages(stranger.id)[-1], data)
        assert await api.next_messages(stranger.id)  # answered politely
    ticket = await _ticket(app)
    assert (ticket.status, ticket.follow_up_answer) == ("new", None)
    assert await events(app) == history


# ---------------------------------------------------------------- catalogue uploads


async def send_workbook(api: FakeBotAPI, user: FakeUser, content: bytes) -> list[SentMessage]:
    api.send_document(user, "catalogue.xlsx", content)
    return await api.next_messages(user.id)


def apply_data(messages: list[SentMessage]) -> list[str]:
    return [b[1] for m in messages for row in m.buttons for b in row
            if b[1].startswith(admin_channel.APPLY)]


async def test_only_an_admin_uploads_and_applies_a_catalogue(
    app: App, api: FakeBotAPI, cast: Cast, sample_catalog: Catalog, tmp_path: Path
):
    content = workbook(sample_catalog, tmp_path, name_en=NEW_NAME)
    others = [a for a in E2E_ACTORS if a != "admin"]
    for actor in others:
        reply = await send_workbook(api, cast.users[actor], content)  # "I only read text"
        assert cb.category("health") in _data(reply) and not apply_data(reply)
    assert not api.downloads
    assert not [e for e in await audit_log(app) if e.action == "catalog.upload"]
    admin = cast.users["admin"]
    [apply] = apply_data(await send_workbook(api, admin, content))
    for actor in others:  # the admin's real token, forged into another chat
        user = cast.users[actor]
        api.press(user, api.messages(user.id)[-1], apply)
        refusal = await api.next_messages(user.id)
        assert len(refusal) == 1 and not refusal[0].buttons
    sessions = app.bot_data["components"].sessions
    assert await service_name(sessions) != NEW_NAME
    api.press(admin, api.messages(admin.id)[-1], apply)
    assert "Catalogue updated" in (await api.next_messages(admin.id))[0].text
    assert await service_name(sessions) == NEW_NAME
    logged = [(e.actor, e.action, e.allowed) for e in await audit_log(app)
              if e.action.startswith("catalog.")]
    assert logged == [(cast.audit_names["admin"], "catalog.upload", True),
                      *[(cast.audit_names[a], "catalog.apply", False) for a in others],
                      (cast.audit_names["admin"], "catalog.apply", True)]
    assert not api.errors, api.errors
