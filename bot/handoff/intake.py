"""Turning a consented draft into a ticket, and the user's side of an open ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogue import callbacks as cb
from bot.dialogue import render
from bot.dialogue.events import Button, Message, TicketDraft, TicketInfo, Turn, Visitor
from bot.handoff.routing import Route, Router, next_opening
from bot.i18n import _, current, ltr, ngettext
from bot.storage import tickets, users
from bot.storage.tickets import Ticket


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the channel must tell the case workers once the turn is saved."""

    kind: str  # opened, relay, left, cancelled
    ticket_id: int


class Intake:
    def __init__(self, router: Router, zone: ZoneInfo, follow_up_days: int) -> None:
        self.router, self.zone, self.follow_up_days = router, zone, follow_up_days

    async def route(self, draft: TicketDraft) -> Route:
        return await self.router.route(draft.service_id, draft.topic, draft.region)

    async def open(
        self, *, session: AsyncSession, user_id: int, draft: TicketDraft, route: Route,
        visitor: Visitor, language: str, now: datetime,
    ) -> Ticket:
        """Records the consent, then the ticket holding only the consented fields."""
        consent_id = await users.record_consent(
            session=session, user_id=user_id, change=draft.consent, language=language,
            channel=visitor.channel, now=now)
        contact = visitor.contact
        topic = draft.topic or route.topic
        shared = {
            "language": language, "service": draft.service_id, "topic": topic,
            "region": draft.region, "description": draft.description,
            "name": contact.first_name if contact else None,
            "username": contact.username if contact else None,
            "history": list(draft.history),
        }
        return await tickets.create_ticket(
            session=session, user_id=user_id, consent_event_id=consent_id,
            priority="urgent" if draft.urgent else "normal",
            organization_id=route.organization_id, team_chat_id=route.team_chat_id,
            service_id=draft.service_id, topic=topic, region=draft.region,
            language=language, shared=shared, chat_id=contact.chat_id if contact else None,
            follow_up=draft.follow_up, now=now,
            sla_due_at=now + timedelta(hours=route.response_hours))

    def confirmation(self, ticket: Ticket, route: Route, now: datetime) -> Message:
        lines = ["✅ " + _("Sent. Your reference is %(reference)s.",
                          reference=f"<b>{ltr(ticket.reference)}</b>"),
                 ngettext("Expected answer within %(count)s hour.",
                          "Expected answer within %(count)s hours.", route.response_hours)]
        opening = next_opening(route.availability, now, self.zone)
        if opening is not None:
            when = format_datetime(opening, "EEEE HH:mm", tzinfo=self.zone,
                                   locale=current().code)
            lines.append(_("The team is not working now (%(hours)s). Expect an answer after "
                           "%(when)s.", hours=render.hours(route.availability), when=when))
        lines.append(_("When a case worker writes to you here, I stay quiet. Send /bot to come "
                       "back to me, and /ticket to see your request."))
        return Message("\n".join(lines), ((Button("🏠 " + _("Menu"), cb.menu()),),))

    async def info(self, *, session: AsyncSession, ticket_id: int) -> TicketInfo | None:
        """The user's ticket while it is open; None once closed or cancelled."""
        ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or not ticket.is_open:
            return None
        hours = int((ticket.sla_due_at - ticket.created_at).total_seconds() // 3600)
        return TicketInfo(ticket.id, ticket.reference, ticket.status, max(hours, 1))

    async def apply(
        self, *, session: AsyncSession, turn: Turn, info: TicketInfo | None, user_id: int,
        language: str, now: datetime,
    ) -> list[Notice]:
        """Records what the user did to their ticket, follow-up answers and unmet needs."""
        notices = []
        ticket = await tickets.get_ticket(session=session, ticket_id=info.id) if info else None
        if ticket is not None and ticket.is_open and (turn.leave_human or turn.cancel_ticket):
            to = "cancelled" if turn.cancel_ticket else "waiting_user"
            if ticket.status != to:
                changes: dict[str, Any] = {"closed_at": now} if turn.cancel_ticket else {}
                await tickets.transition(session=session, ticket=ticket, to=to, actor="user",
                                         now=now, **changes)
                notices.append(Notice("cancelled" if turn.cancel_ticket else "left", ticket.id))
        if turn.relay and ticket is not None:
            notices.append(Notice("relay", ticket.id))
        for ticket_id, answer, action in _answers(turn):
            mine = await tickets.get_ticket(session=session, ticket_id=ticket_id)
            if mine is None or mine.user_id != user_id:
                continue  # a forged or foreign button
            if action == "follow_up" and mine.follow_up_answer is None:
                await tickets.update_ticket(session=session, ticket_id=ticket_id,
                                            follow_up_answer=answer)
            await tickets.add_event(session=session, ticket_id=ticket_id, actor="user",
                                    action=f"{action}:{answer}", now=now)
        for gap in turn.gaps:
            await tickets.record_unmet_need(session=session, topic=gap.topic,
                                            region=gap.region, language=language,
                                            reason=gap.reason, day=now.date())
        return notices


def _answers(turn: Turn) -> list[tuple[int, str, str]]:
    answers = []
    if turn.follow_up is not None:
        answers.append((turn.follow_up[0], turn.follow_up[1], "follow_up"))
    if turn.helped is not None:
        answers.append((turn.helped[0], "yes" if turn.helped[1] else "no", "helped"))
    return answers
