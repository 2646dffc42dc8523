# ruff: noqa: F811  (pytest fixtures imported from the handoff tests are used as arguments)
"""Data-subject rights inside the chat: /mydata, /delete, and withdrawing consents."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.app import Components
from bot.dialogue import callbacks as cb
from bot.dialogue.consent import SHARE_WITH_CASEWORKER, STORE_PROFILE
from bot.storage.models import AuditRow, ConsentEventRow, RelayRow, TicketRow, UserRow
from tests.bot.test_handoff import POLICE_CHAT, App, People, _ticket, api, app  # noqa: F401
from tests.fake_bot_api import FakeBotAPI

DESCRIPTION = "I lost my ID card near the market"


async def _count(components: Components, model: type) -> int:
    async with components.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_mydata_sends_everything_stored_as_a_json_file(app: App, api: FakeBotAPI):
    people = People(api)
    await people.open_ticket(DESCRIPTION)
    reply = await people.say("/mydata")
    assert "consent record" in reply[0].text
    document = api.documents[-1]
    assert document.chat_id == people.returnee.id and document.filename == "my-data.json"
    data = json.loads(document.data)
    assert data["requests"][0]["shared"]["description"] == DESCRIPTION
    assert data["requests"][0]["reference"] == "R-2026-000001"
    assert [c["purpose"] for c in data["consents"]] == [SHARE_WITH_CASEWORKER]
    assert data["profile"]["state"]["ticket"] == 1


async def test_delete_asks_first_then_erases_and_anonymises(app: App, api: FakeBotAPI):
    people = People(api)
    ticket_id = await people.open_ticket(DESCRIPTION)
    await people.staff_press(people.awa, "take", ticket_id)
    await api.next_messages(people.returnee.id)
    api.send_text(people.returnee, "my number is +221 77 555 44 33")
    await api.wait_for(POLICE_CHAT, lambda ms: any("555 44 33" in m.text for m in ms))
    components: Components = app.bot_data["components"]
    for _ in range(100):  # the relay is recorded just after the copy is sent
        if await _count(components, RelayRow) == 1:
            break
        await asyncio.sleep(0.02)
    assert await _count(components, RelayRow) == 1

    asked = await people.say("/delete")
    assert cb.erase() in [b[1] for m in asked for row in m.buttons for b in row]
    assert await _count(components, UserRow) == 1  # nothing happens before confirming
    done = await people.press(cb.erase())
    assert "deleted everything" in done[0].text and "Telegram keeps" in done[0].text

    assert await _count(components, UserRow) == 0
    assert await _count(components, RelayRow) == 0
    ticket = await _ticket(app)
    assert (ticket.status, ticket.shared, ticket.chat_id, ticket.user_id) == (
        "cancelled", {"erased": True}, None, None)
    async with components.sessions() as session:
        consents = (await session.execute(select(ConsentEventRow))).scalars().all()
        erasures = (await session.execute(select(AuditRow).where(
            AuditRow.action == "erasure"))).scalars().all()
    assert consents and all(c.user_id is None for c in consents)
    assert [(e.actor, e.target, e.details) for e in erasures] == [("user", None, {"tickets": 1})]
    await api.wait_for(POLICE_CHAT, lambda ms: any(  # the card no longer shows the details
        "asked for erasure" in m.text and "Status" not in m.text for m in ms) and not any(
        DESCRIPTION in m.text and "Status" in m.text for m in ms))


async def test_withdrawing_the_profile_consent_is_the_same_as_delete(
    app: App, api: FakeBotAPI
):
    people = People(api)
    await people.say("/start")
    await people.press(cb.consent(STORE_PROFILE, True))
    components: Components = app.bot_data["components"]
    assert await _count(components, UserRow) == 1
    await people.say("/privacy")
    done = await people.press(cb.withdraw(STORE_PROFILE))
    assert "deleted everything" in done[0].text
    assert await _count(components, UserRow) == 0


async def test_withdrawing_sharing_closes_open_tickets_as_declined(app: App, api: FakeBotAPI):
    people = People(api)
    await people.open_ticket(DESCRIPTION)
    privacy = await people.say("/privacy")
    assert cb.withdraw(SHARE_WITH_CASEWORKER) in [
        b[1] for m in privacy for row in m.buttons for b in row]
    await people.press(cb.withdraw(SHARE_WITH_CASEWORKER))
    ticket = await _ticket(app)
    assert (ticket.status, ticket.outcome, ticket.shared, ticket.chat_id) == (
        "closed", "declined", {"withdrawn": True}, None)
    components: Components = app.bot_data["components"]
    assert await _count(components, TicketRow) == 1  # kept, anonymised
    assert await _count(components, UserRow) == 1  # the profile itself stays
    status = await people.say("/ticket")
    assert "no open request" in status[0].text
