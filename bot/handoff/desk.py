"""The case desk: what staff do with tickets, checked against the allowlist on every action.

Each method runs one transaction: the authorisation check, the status change with its
audit event, and the user's conversation state (human mode on or off). It returns what the
channel must send; it sends nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogue import callbacks as cb
from bot.dialogue.catalogue import Catalogue
from bot.dialogue.events import Button, Message
from bot.handoff import cards
from bot.handoff.routing import UNROUTED
from bot.i18n import Translator, _
from bot.storage import audit, staff, tickets, users
from bot.storage.staff import Staff
from bot.storage.tickets import GAP_OUTCOMES, OUTCOMES, Ticket, TicketConflict
from bot.storage.writer import Writer
from services_catalog.multilingual import FallbackChain

FOLLOW_UP_OUTCOMES = ("service_provided", "referred_elsewhere")


def allowed(member: Staff | None, action: str, ticket: Ticket) -> bool:
    """The policy: registered, active staff of the routed organisation, by role."""
    if member is None or not member.active or member.role == "admin":
        return False
    if ticket.organization_id not in (member.organization_id, UNROUTED):
        return False
    mine = ticket.assigned_staff_id == member.id
    supervisor = member.role == "supervisor"
    if action == "take":
        return ticket.status == "new" and covers(member, ticket)
    if action in ("release", "close", "outcome", "reply", "back"):
        return ticket.is_open and (mine or supervisor)
    if action in ("reassign", "assign"):
        return ticket.is_open and supervisor
    return action == "note"


async def _assignee(session: AsyncSession, member: Staff, staff_id: int | None) -> Staff | None:
    """Who a supervisor may assign: active non-admin staff of their own organisation."""
    team = await staff.list_staff(session=session, organization_id=member.organization_id)
    return next((s for s in team if s.id == staff_id and s.role != "admin"), None)


def covers(member: Staff, ticket: Ticket) -> bool:
    region = ticket.region or ""
    in_region = not member.regions or any(
        region == r or region.startswith(f"{r}-") for r in member.regions)
    return in_region and (not member.topics or ticket.topic in member.topics)


@dataclass
class DeskResult:
    """What to show: an answer to the staff member, the card, messages for the user."""

    answer: str
    ticket: Ticket | None = None
    card: Message | None = None
    to_user: list[Message] = field(default_factory=list)
    user_chat: int | None = None


class Desk:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], writer: Writer, catalogue: Catalogue,
        translator: Translator, chain: FallbackChain, team_language: str,
        follow_up_days: int, clock: Callable[[], datetime],
    ) -> None:
        self.sessions, self.writer, self.catalogue = sessions, writer, catalogue
        self.translator, self.chain, self.team_language = translator, chain, team_language
        self.follow_up_days, self.clock = follow_up_days, clock

    async def press(self, telegram_id: int, raw: str) -> DeskResult:
        """A card button: take, release, close (then an outcome), reassign (then a name)."""
        with self.translator.use(self.team_language):
            press = cards.decode(raw)
            if press is None:
                return DeskResult(_("This button does not work."))
            now = self.clock()
            try:
                async with self.writer.begin() as session:
                    return await self._press(session, telegram_id, press, now)
            except TicketConflict:
                return DeskResult(_("The ticket changed meanwhile; look at the card again."))

    async def _press(
        self, session: AsyncSession, telegram_id: int, press: cards.Press, now: datetime
    ) -> DeskResult:
        member = await staff.get_active_staff(session=session, telegram_id=telegram_id)
        ticket = await tickets.get_ticket(session=session, ticket_id=press.ticket_id)
        ok = ticket is not None and allowed(member, press.action, ticket)
        target = None
        if ok and member is not None and press.action == "assign":
            target = await _assignee(session, member, press.arg)
            ok = target is not None
        await audit.record(session=session, actor=_actor(member), action=press.action,
                           target=f"ticket:{press.ticket_id}", allowed=ok, now=now)
        if not ok:
            return DeskResult(_("You are not allowed to do this."))
        assert member is not None and ticket is not None
        actor = _actor(member)
        if press.action == "take":
            ticket = await tickets.transition(session=session, ticket=ticket, to="assigned",
                                              actor=actor, now=now, assigned_staff_id=member.id)
            await users.set_human(session=session, user_id=ticket.user_id, human=True)
            return await self._result(session, ticket, _("Taken."),
                                      self._user_taken(ticket, member))
        if press.action == "release":
            ticket = await tickets.transition(session=session, ticket=ticket, to="new",
                                              actor=actor, now=now, action="release",
                                              assigned_staff_id=None)
            await users.set_human(session=session, user_id=ticket.user_id, human=False)
            return await self._result(session, ticket, _("Released."), self._user_released(
                ticket))
        if press.action == "close":
            result = await self._result(session, ticket, _("Choose the outcome."))
            assert result.card is not None
            result.card = Message(result.card.html, cards.outcome_buttons(ticket))
            return result
        if press.action == "outcome" and press.arg is not None and press.arg < len(OUTCOMES):
            return await self._close(session, ticket, OUTCOMES[press.arg], actor, now)
        if press.action == "reassign":
            team = await staff.list_staff(session=session,
                                          organization_id=member.organization_id)
            result = await self._result(session, ticket, _("Choose a case worker."))
            assert result.card is not None
            result.card = Message(result.card.html, cards.staff_buttons(ticket, team))
            return result
        if target is not None:
            return await self._assign(session, ticket, member, target, now)
        return await self._result(session, ticket, "")

    async def _assign(
        self, session: AsyncSession, ticket: Ticket, member: Staff, target: Staff,
        now: datetime,
    ) -> DeskResult:
        to = "assigned" if ticket.status == "new" else ticket.status
        ticket = await tickets.transition(session=session, ticket=ticket, to=to,
                                          actor=_actor(member), now=now, action="reassign",
                                          assigned_staff_id=target.id)
        await users.set_human(session=session, user_id=ticket.user_id, human=True)
        return await self._result(session, ticket, _("Reassigned."),
                                  self._user_taken(ticket, target))

    async def _close(
        self, session: AsyncSession, ticket: Ticket, outcome: str, actor: str, now: datetime
    ) -> DeskResult:
        follow_up = ticket.follow_up and outcome in FOLLOW_UP_OUTCOMES
        changes: dict[str, Any] = {"outcome": outcome, "closed_at": now}
        if follow_up:
            changes["follow_up_due_at"] = now + timedelta(days=self.follow_up_days)
        ticket = await tickets.transition(session=session, ticket=ticket, to="closed",
                                          actor=actor, now=now, **changes)
        await users.set_human(session=session, user_id=ticket.user_id, human=False,
                              ticket_closed=True)
        if outcome in GAP_OUTCOMES:
            await tickets.record_unmet_need(session=session, topic=ticket.topic,
                                            region=ticket.region, language=ticket.language,
                                            reason=GAP_OUTCOMES[outcome], day=now.date())
        label = cards.outcome_label(outcome)
        return await self._result(session, ticket, _("Closed: %(outcome)s.", outcome=label),
                                  self._user_closed(ticket, outcome))

    async def _result(
        self, session: AsyncSession, ticket: Ticket, answer: str,
        to_user: list[Message] | None = None,
    ) -> DeskResult:
        return DeskResult(answer, ticket, await self.card(session, ticket), to_user or [],
                          ticket.chat_id)

    async def card(self, session: AsyncSession, ticket: Ticket) -> Message:
        """The ticket's card in the team's language."""
        with self.translator.use(self.team_language):
            service = (await self.catalogue.service(ticket.service_id)
                       if ticket.service_id else None)
            assignee = None
            if ticket.assigned_staff_id is not None:
                members = await staff.list_staff(session=session,
                                                 organization_id=ticket.organization_id,
                                                 include_revoked=True)
                assignee = next((s for s in members if s.id == ticket.assigned_staff_id), None)
            return cards.card(ticket, service, assignee, self.chain, self.team_language)

    # what the user is told, in their language

    def _user_taken(self, ticket: Ticket, member: Staff) -> list[Message]:
        with self.translator.use(ticket.language):
            who = member.display_name or _("a case worker")
            return [Message(_("🙋 %(name)s is now handling your request %(reference)s. Write "
                              "here: your messages go to them, and I stay quiet. Send /bot to "
                              "come back to me.", name=who, reference=ticket.reference))]

    def _user_released(self, ticket: Ticket) -> list[Message]:
        with self.translator.use(ticket.language):
            return [Message(_("Your request %(reference)s is waiting for another case worker. "
                              "I am back meanwhile.", reference=ticket.reference))]

    def _user_closed(self, ticket: Ticket, outcome: str) -> list[Message]:
        with self.translator.use(ticket.language):
            text = _("Your request %(reference)s is closed (%(outcome)s). I am back: tap a "
                     "topic or write your question. Did this help you?",
                     reference=ticket.reference, outcome=cards.outcome_label(outcome))
            return [Message(text, (
                (Button("👍 " + _("Yes"), cb.helped(ticket.id, True)),
                 Button("👎 " + _("No"), cb.helped(ticket.id, False))),
                (Button("🏠 " + _("Menu"), cb.menu()),)))]

    async def relay_target(
        self, telegram_id: int, team_chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> Ticket | None:
        """The ticket a staff message in the team chat answers, if the sender may answer it.
        The first answer moves the ticket to in_progress and sets its first-response time."""
        now = self.clock()
        async with self.writer.begin() as session:
            ticket = await tickets.ticket_for_team_message(
                session=session, team_chat_id=team_chat_id, thread_id=thread_id,
                reply_to=reply_to)
            if ticket is None or ticket.chat_id is None:
                return None
            member = await staff.get_active_staff(session=session, telegram_id=telegram_id)
            ok = allowed(member, "reply", ticket) and ticket.status != "new"
            await audit.record(session=session, actor=_actor(member), action="reply",
                               target=f"ticket:{ticket.id}", allowed=ok, now=now)
            if not ok:
                return None
            if ticket.status in ("assigned", "waiting_user"):
                changes = {} if ticket.first_response_at else {"first_response_at": now}
                ticket = await tickets.transition(session=session, ticket=ticket,
                                                  to="in_progress", actor=_actor(member),
                                                  now=now, action="reply", **changes)
                await users.set_human(session=session, user_id=ticket.user_id, human=True)
            return ticket

    async def note(
        self, telegram_id: int, team_chat_id: int, thread_id: int | None, reply_to: int | None,
        text: str,
    ) -> bool:
        """An internal note on the ticket: stored, never relayed to the user."""
        now = self.clock()
        async with self.writer.begin() as session:
            ticket = await tickets.ticket_for_team_message(
                session=session, team_chat_id=team_chat_id, thread_id=thread_id,
                reply_to=reply_to)
            member = await staff.get_active_staff(session=session, telegram_id=telegram_id)
            if ticket is None or not text.strip():
                return False
            ok = allowed(member, "note", ticket)
            await audit.record(session=session, actor=_actor(member), action="note",
                               target=f"ticket:{ticket.id}", allowed=ok, now=now)
            if not ok:
                return False
            await tickets.add_event(session=session, ticket_id=ticket.id, actor=_actor(member),
                                    action="note", note=text.strip()[:2000], now=now)
            return True


@dataclass(frozen=True, slots=True)
class Alert:
    """A team-chat message about an overdue ticket; escalations also go to supervisors."""

    ticket: Ticket
    message: Message
    supervisors: tuple[int, ...] = ()  # their Telegram ids, for a direct message


class Sweeps:
    """The periodic checks: first-response targets, and follow-ups that are due."""

    def __init__(self, desk: Desk, escalate_after: timedelta) -> None:
        self.desk, self.escalate_after = desk, escalate_after

    async def overdue(self) -> list[Alert]:
        """Marks and returns reminders (first interval) and escalations (second interval)."""
        desk, now = self.desk, self.desk.clock()
        alerts = []
        async with desk.writer.begin() as session:
            for ticket in await tickets.due_for_reminder(session=session, now=now):
                with desk.translator.use(desk.team_language):
                    alert = await self._alert(session, ticket, now)
                if alert is not None:
                    alerts.append(alert)
        return alerts

    async def _alert(self, session: AsyncSession, ticket: Ticket, now: datetime) -> Alert | None:
        if ticket.reminded_at is None:
            await tickets.update_ticket(session=session, ticket_id=ticket.id, reminded_at=now)
            await tickets.add_event(session=session, ticket_id=ticket.id, actor="system",
                                    action="reminder", now=now)
            return Alert(ticket, Message("⏰ " + _(
                "%(reference)s has had no answer yet; the first answer was due at %(time)s UTC.",
                reference=ticket.reference, time=ticket.sla_due_at.strftime("%H:%M"))))
        if now < ticket.sla_due_at + self.escalate_after:
            return None
        await tickets.update_ticket(session=session, ticket_id=ticket.id, escalated_at=now)
        await tickets.add_event(session=session, ticket_id=ticket.id, actor="system",
                                action="escalation", now=now)
        bosses = await staff.supervisors(session=session, organization_id=ticket.organization_id)
        return Alert(ticket, Message("🚨 " + _(
            "%(reference)s is still waiting for a first answer: escalated to the supervisors.",
            reference=ticket.reference)), tuple(s.telegram_id for s in bosses))

    async def follow_ups(self) -> list[tuple[int, Message]]:
        """"Did you receive the service?" for each closed ticket whose time has come; once."""
        desk, now = self.desk, self.desk.clock()
        due = []
        async with desk.writer.begin() as session:
            for ticket in await tickets.due_for_follow_up(session=session, now=now):
                assert ticket.chat_id is not None
                blocked = await users.is_blocked(session=session, user_id=ticket.user_id)
                await tickets.update_ticket(session=session, ticket_id=ticket.id,
                                            follow_up_due_at=None)
                await tickets.add_event(session=session, ticket_id=ticket.id, actor="system",
                                        action="follow_up_skipped" if blocked
                                        else "follow_up_sent", now=now)
                if blocked:
                    continue
                with desk.translator.use(ticket.language):
                    due.append((ticket.chat_id, Message(
                        _("About your request %(reference)s: did you receive the service?",
                          reference=ticket.reference),
                        ((Button(_("Yes"), cb.follow_up(ticket.id, "y")),
                          Button(_("Partly"), cb.follow_up(ticket.id, "p")),
                          Button(_("No"), cb.follow_up(ticket.id, "n"))),))))
        return due


def _actor(member: Staff | None) -> str:
    return f"staff:{member.id}" if member is not None else "unknown"
