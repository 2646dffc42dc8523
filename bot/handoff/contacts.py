"""What happens when a user asks for a person.

`PublicContacts` gives the service's public contact details (focal point, hours, phone and
expected response time); it is also what a user who declines sharing receives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.dialogue import callbacks as cb
from bot.dialogue import render
from bot.dialogue.catalogue import Catalogue
from bot.dialogue.events import Button, HandoffRequest, Message, Visitor
from bot.dialogue.render import Renderer
from bot.dialogue.state import State
from bot.i18n import _
from services_catalog.multilingual import FallbackChain


class Handoff(Protocol):
    async def start(
        self, request: HandoffRequest, state: State, visitor: Visitor
    ) -> Sequence[Message]: ...


class PublicContacts:
    def __init__(self, catalogue: Catalogue, chain: FallbackChain) -> None:
        self.catalogue, self.chain = catalogue, chain

    async def start(
        self, request: HandoffRequest, state: State, visitor: Visitor
    ) -> Sequence[Message]:
        menu = ((Button("🏠 " + _("Menu"), cb.menu()),),)
        service = await self.catalogue.service(request.service_id) if request.service_id else None
        if service is None and request.urgent:
            summaries = await self.catalogue.services(emergency=True, region=state.region)
            services = await self.catalogue.active([s.id for s in summaries])
            return [Message(render.emergency_contacts(services, Renderer(self.chain)), menu)]
        if service is None:
            return [Message(_("Tell me which service you need first: tap a topic, choose the "
                              "service, then tap “Talk to a case worker”."), menu)]
        organization = await self.catalogue.organization(service.organization)
        return [Message(render.contact(service, organization, Renderer(self.chain)), menu)]
