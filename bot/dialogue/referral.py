"""Preparing a referral: what the user wants help with, a preview of exactly what would be
shared, and the `share_with_caseworker` consent. Nothing is created without that consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogue import callbacks as cb
from bot.dialogue import render
from bot.dialogue.catalogue import Catalogue
from bot.dialogue.consent import SHARE_WITH_CASEWORKER, VERSIONS, Policy, text_hash
from bot.dialogue.consent import text as consent_text
from bot.dialogue.events import (
    Button,
    ConsentChange,
    HandoffRequest,
    TicketDraft,
    TicketInfo,
    Visitor,
)
from bot.dialogue.reply import Reply
from bot.i18n import NATIVE_NAMES, _, current, ngettext
from services_catalog.multilingual import FallbackChain

MAX_DESCRIPTION = 500
STATUS_LABELS = {"new": "⏳", "assigned": "🙋", "in_progress": "💬", "waiting_user": "⌛"}


class Referral:
    def __init__(self, catalogue: Catalogue, chain: FallbackChain, policy: Policy) -> None:
        self.catalogue, self.chain, self.policy = catalogue, chain, policy

    async def start(
        self, reply: Reply, request: HandoffRequest, ticket: TicketInfo | None
    ) -> None:
        """Shows the open ticket, or starts a draft: a description first unless urgent."""
        if ticket is not None:
            self.status(reply, ticket)
            return
        draft = {"service": request.service_id, "topic": request.topic,
                 "urgent": request.urgent, "history": False, "follow_up": False,
                 "description": None, "awaiting": not request.urgent}
        reply.state = reply.state.replace(draft=draft, offer=None, misunderstandings=0)
        if request.urgent:
            await self.preview(reply, None)
            return
        reply.say(_("In a few words, what do you need help with? I will show you everything "
                    "before anything is shared."),
                  [Button(_("Skip"), cb.draft("skip")), Button(_("Cancel"), cb.draft("cancel"))])

    async def describe(self, reply: Reply, text: str, visitor: Visitor) -> None:
        draft = {**(reply.state.draft or {}), "description": text[:MAX_DESCRIPTION],
                 "awaiting": False}
        reply.state = reply.state.replace(draft=draft)
        await self.preview(reply, visitor)

    async def step(
        self, reply: Reply, step: str, visitor: Visitor, ticket: TicketInfo | None
    ) -> None:
        """A button of the draft or of the ticket status."""
        draft = dict(reply.state.draft or {})
        if step == "x":
            if ticket is None:
                reply.say(_("You have no open request."))
            else:
                reply.cancel_ticket = True
                reply.say(_("Your request %(reference)s is cancelled.",
                            reference=ticket.reference))
            return
        if not draft:
            reply.say(_("Sorry, that button no longer works."))
            return
        if step == "c":
            reply.state = reply.state.replace(draft=None)
            reply.say(_("All right, nothing was shared."))
        elif step in ("h", "f"):
            key = "history" if step == "h" else "follow_up"
            reply.state = reply.state.replace(draft={**draft, key: not draft.get(key)})
            await self.preview(reply, visitor)
        elif step == "s":
            reply.state = reply.state.replace(draft={**draft, "awaiting": False})
            await self.preview(reply, visitor)
        elif step == "y":
            await self._share(reply, draft, visitor)
        elif step == "n":
            await self._refuse(reply, draft, visitor)

    async def preview(self, reply: Reply, visitor: Visitor | None) -> None:
        draft = reply.state.draft or {}
        html = await self._preview_html(reply, draft, visitor)
        check = {True: "☑", False: "☐"}
        reply.say(html,
                  [Button("✅ " + _("Share and send"), cb.draft("share"))],
                  [Button(f"{check[bool(draft.get('history'))]} " + _("Add my last messages"),
                          cb.draft("history"))],
                  [Button(f"{check[bool(draft.get('follow_up'))]} " + _("Check on me later"),
                          cb.draft("follow_up"))],
                  [Button(_("No, do not share"), cb.draft("refuse"))])

    async def _preview_html(
        self, reply: Reply, draft: Mapping[str, Any], visitor: Visitor | None
    ) -> str:
        state = reply.state
        service = await self.catalogue.service(draft["service"]) if draft.get("service") else None
        organization = await self.catalogue.organization(service.organization) if service else None
        who = (render.escape(self.chain.text(organization.name, current().code))
               if organization else _("a case worker"))
        lines = ["📋 <b>" + _("What I would share with %(who)s:", who=who) + "</b>", ""]
        lines.append("• " + _("Language: %(language)s", language=NATIVE_NAMES[current().code]))
        if service is not None:
            lines.append("• " + _("Service: %(service)s", service=render.escape(
                self.chain.text(service.name, current().code))))
        elif draft.get("topic"):
            lines.append("• " + _("Topic: %(topic)s", topic=render.category_label(
                draft["topic"])))
        area = await self.catalogue.area_name(state.region) if state.region else None
        lines.append("• " + _("Region: %(region)s", region=render.escape(
            self.chain.text(area, current().code)) if area else _("not given")))
        description = draft.get("description")
        lines.append("• " + (_("Your words: “%(text)s”", text=render.escape(description))
                             if description else _("Your words: none")))
        name = visitor.contact.first_name if visitor and visitor.contact else None
        lines.append("• " + (_("Your Telegram name (%(name)s), so they can write to you here",
                               name=render.escape(name)) if name else
                             _("Your Telegram account, so they can write to you here")))
        if draft.get("history") and reply.recent:
            lines.append("• " + ngettext("Your last message:", "Your last %(count)s messages:",
                                         len(reply.recent)))
            lines += [f"    “{render.escape(text)}”" for text in reply.recent]
        if draft.get("urgent"):
            lines.append("• 🆘 " + _("Marked as urgent"))
        if draft.get("follow_up"):
            lines.append("• " + _("Later, I will ask you whether you received the service."))
        lines += ["", render.escape(consent_text(SHARE_WITH_CASEWORKER, self.policy))]
        return "\n".join(lines)

    async def _share(self, reply: Reply, draft: Mapping[str, Any], visitor: Visitor) -> None:
        html = await self._preview_html(reply, draft, visitor)
        consent = ConsentChange(SHARE_WITH_CASEWORKER, True, VERSIONS[SHARE_WITH_CASEWORKER],
                                text_hash(html))
        state = reply.state
        reply.ticket = TicketDraft(
            service_id=draft.get("service"), topic=draft.get("topic"), region=state.region,
            urgent=bool(draft.get("urgent")), description=draft.get("description"),
            history=reply.recent if draft.get("history") else (),
            follow_up=bool(draft.get("follow_up")), consent=consent)
        reply.state = state.replace(draft=None)

    async def _refuse(self, reply: Reply, draft: Mapping[str, Any], visitor: Visitor) -> None:
        html = await self._preview_html(reply, draft, visitor)
        reply.consents.append(ConsentChange(SHARE_WITH_CASEWORKER, False,
                                            VERSIONS[SHARE_WITH_CASEWORKER], text_hash(html)))
        reply.state = reply.state.replace(draft=None)
        reply.say(_("All right, nothing was shared."))
        reply.handoff = HandoffRequest(draft.get("service"), draft.get("topic"),
                                       bool(draft.get("urgent")))

    def status(self, reply: Reply, ticket: TicketInfo) -> None:
        labels = {"new": _("waiting for a case worker"), "assigned": _("a case worker has it"),
                  "in_progress": _("a case worker is talking with you"),
                  "waiting_user": _("waiting for your answer")}
        reply.say(
            _("Your request %(reference)s: %(status)s.", reference=ticket.reference,
              status=f"{STATUS_LABELS.get(ticket.status, '')} "
                     f"{labels.get(ticket.status, ticket.status)}"),
            [Button(_("Cancel my request"), cb.draft("cancel_ticket")),
             Button("🏠 " + _("Menu"), cb.menu())])
