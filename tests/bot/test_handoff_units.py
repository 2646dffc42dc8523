"""Pure parts of the handoff: who covers a ticket, routing times, card button data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.handoff import cards
from bot.handoff.desk import allowed
from bot.handoff.routing import UNROUTED, next_opening
from bot.storage.staff import Staff
from bot.storage.tickets import Ticket
from services_catalog.schema import OpeningHours

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
TICKET = Ticket(
    id=7, reference="R-2026-000007", user_id=1, consent_event_id=1, status="new",
    priority="normal", organization_id="org-a", team_chat_id=-1, thread_id=None,
    card_message_id=None, service_id=None, topic="health", region="KLD-KOLDA", language="fr",
    shared={}, chat_id=5, assigned_staff_id=None, created_at=NOW, sla_due_at=NOW,
    first_response_at=None, reminded_at=None, escalated_at=None, closed_at=None, outcome=None,
    follow_up=False, follow_up_due_at=None, follow_up_answer=None)


def member(id_: int, role: str, org: str = "org-a", active: bool = True,
           regions: tuple[str, ...] = (), topics: tuple[str, ...] = ()) -> Staff:
    return Staff(id_, 1000 + id_, role, org, regions, topics, None, active)


A_WORKER, B_WORKER = member(1, "caseworker"), member(3, "caseworker", "org-b")
# the authorisation matrix is in test_authorisation.py


def test_only_staff_covering_the_region_and_topic_take_a_new_ticket():
    assert allowed(A_WORKER, "take", TICKET)
    assert allowed(member(7, "caseworker", regions=("KLD",), topics=("health",)), "take", TICKET)
    assert not allowed(member(8, "caseworker", regions=("DKR",)), "take", TICKET)
    assert not allowed(member(9, "caseworker", topics=("family",)), "take", TICKET)
    assert not allowed(B_WORKER, "take", TICKET)
    assert allowed(B_WORKER, "take", dataclasses.replace(TICKET, organization_id=UNROUTED))
    assert not allowed(A_WORKER, "take", dataclasses.replace(TICKET, status="closed"))


def test_card_button_data_round_trips_and_rejects_forgeries():
    for action in ("take", "release", "close", "reassign", "back"):
        press = cards.decode(cards.data(action, 12))
        assert press is not None and (press.action, press.ticket_id) == (action, 12)
    press = cards.decode(cards.data("outcome", 12, 3))
    assert press is not None and press.arg == 3
    for forged in ("T:z:1", "T:k:", "T:k:1:2:3", "X:k:1", "T:k:-1", "", "T:o:12:99", "T:o:12",
                   "T:k:9999999999"):
        assert cards.decode(forged) is None


def test_next_opening_is_none_within_hours_and_the_next_start_otherwise():
    week = (OpeningHours(byday=("mo", "tu", "we", "th", "fr"), opens_at="08:00",
                         closes_at="15:00"),)
    zone = ZoneInfo("UTC")
    assert next_opening(week, NOW, zone) is None
    evening = NOW.replace(hour=18)
    assert next_opening(week, evening, zone) == NOW.replace(day=24, hour=8)
    friday_night = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert next_opening(week, friday_night, zone) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert next_opening((), evening, zone) is None
