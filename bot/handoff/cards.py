"""Ticket cards for the team chat, and the case desk's button data. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dialogue import render
from bot.dialogue.events import Button, Message
from bot.i18n import NATIVE_NAMES, _, format_date
from bot.storage.staff import Staff
from bot.storage.tickets import OUTCOMES, Ticket
from services_catalog.multilingual import FallbackChain
from services_catalog.schema import Service

# ids have at most 9 digits: they fit a 32-bit INTEGER column
_DATA = re.compile(r"T:(?P<action>[krcoasb]):(?P<ticket>[0-9]{1,9})(?::(?P<arg>[0-9]{1,9}))?")
ACTIONS = {"k": "take", "r": "release", "c": "close", "o": "outcome", "a": "reassign",
           "s": "assign", "b": "back"}
CODES = {name: code for code, name in ACTIONS.items()}
STATUS_ICONS = {"new": "🆕", "assigned": "🙋", "in_progress": "💬", "waiting_user": "⌛",
                "closed": "✅", "cancelled": "✖"}


@dataclass(frozen=True, slots=True)
class Press:
    action: str
    ticket_id: int
    arg: int | None


def data(action: str, ticket_id: int, arg: int | None = None) -> str:
    suffix = f":{arg}" if arg is not None else ""
    return f"T:{CODES[action]}:{ticket_id}{suffix}"


def decode(raw: str) -> Press | None:
    match = _DATA.fullmatch(raw or "")
    if match is None:
        return None
    action, arg = ACTIONS[match["action"]], int(match["arg"]) if match["arg"] else None
    if action == "outcome" and (arg is None or arg >= len(OUTCOMES)):
        return None  # no such outcome: a forged button
    return Press(action, int(match["ticket"]), arg)


def outcome_label(outcome: str) -> str:
    labels = {"service_provided": _("Service provided"),
              "referred_elsewhere": _("Referred elsewhere"),
              "no_service_available": _("No service available"),
              "not_eligible": _("Not eligible"), "user_unreachable": _("User unreachable"),
              "declined": _("Declined by the user")}
    return labels[outcome]


def card(
    ticket: Ticket, service: Service | None, assignee: Staff | None, chain: FallbackChain,
    language: str,
) -> Message:
    """The card shows only what the user agreed to share."""
    shared = ticket.shared
    icon = STATUS_ICONS.get(ticket.status, "")
    notes = {"erased": _("The user asked for erasure: their details are deleted."),
             "withdrawn": _("The user withdrew their consent to share: the request is closed "
                            "and their details deleted."),
             "anonymised": _("Details deleted after the retention period.")}
    scrubbed = next((notes[key] for key in notes if shared.get(key)), None)
    if scrubbed is not None:
        return Message(f"{icon} <b>{ticket.reference}</b>\n🗑 {scrubbed}")
    title = f"{icon} <b>{ticket.reference}</b>"
    if ticket.priority == "urgent":
        title += " · 🆘 " + _("URGENT")
    lines = [title, _("Status: %(status)s", status=ticket.status)]
    if assignee is not None:
        lines.append(_("Case worker: %(name)s", name=render.escape(
            assignee.display_name or str(assignee.id))))
    if service is not None:
        lines.append(_("Service: %(service)s", service=render.escape(
            chain.text(service.name, language))))
    if ticket.topic:
        lines.append(_("Topic: %(topic)s", topic=render.category_label(ticket.topic)))
    if ticket.region:
        lines.append(_("Region: %(region)s", region=render.escape(ticket.region)))
    lines.append(_("Language: %(language)s", language=NATIVE_NAMES.get(
        str(shared.get("language")), str(shared.get("language")))))
    if shared.get("description"):
        lines.append(_("Their words: “%(text)s”", text=render.escape(shared["description"])))
    name, username = shared.get("name"), shared.get("username")
    contact = " ".join(x for x in (name, f"@{username}" if username else None) if x)
    if contact:
        lines.append(_("Contact: %(contact)s", contact=render.escape(contact)))
    for text in shared.get("history") or ():
        lines.append(f"💬 “{render.escape(str(text))}”")
    if ticket.is_open:
        lines.append(_("First answer due: %(date)s %(time)s UTC", date=format_date(
            ticket.sla_due_at.date()), time=ticket.sla_due_at.strftime("%H:%M")))
    if ticket.outcome:
        lines.append(_("Outcome: %(outcome)s", outcome=outcome_label(ticket.outcome)))
    return Message("\n".join(lines), buttons(ticket))


def buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    if ticket.status == "new":
        return ((Button("🙋 " + _("Take"), data("take", ticket.id)),),)
    if not ticket.is_open:
        return ()
    return ((Button(_("Release"), data("release", ticket.id)),
             Button("✅ " + _("Close"), data("close", ticket.id))),
            (Button(_("Reassign"), data("reassign", ticket.id)),))


def outcome_buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    rows = [(Button(outcome_label(o), data("outcome", ticket.id, i)),)
            for i, o in enumerate(OUTCOMES)]
    return (*rows, (Button("↩ " + _("Back"), data("back", ticket.id)),))


def staff_buttons(ticket: Ticket, staff: Sequence[Staff]) -> tuple[tuple[Button, ...], ...]:
    rows = [(Button(s.display_name or f"#{s.id}", data("assign", ticket.id, s.id)),)
            for s in staff if s.role != "admin"]
    return (*rows, (Button("↩ " + _("Back"), data("back", ticket.id)),))
