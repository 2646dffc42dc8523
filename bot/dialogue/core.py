"""The dialogue core: (event, state) -> (turn, new state), for any channel.

It reads the catalogue and calls the NLU, and stores nothing itself: consent changes and
handoffs come back in the `Turn` for the conversation service to apply.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.dialogue import callbacks as cb
from bot.dialogue import render
from bot.dialogue.callbacks import ASPECTS, Action
from bot.dialogue.catalogue import Catalogue
from bot.dialogue.consent import (
    PURPOSES,
    SHARE_WITH_CASEWORKER,
    STORE_PROFILE,
    VERSIONS,
    Policy,
    purpose_label,
)
from bot.dialogue.consent import text as consent_text
from bot.dialogue.consent import text_hash as consent_hash
from bot.dialogue.events import (
    MAX_TEXT,
    Button,
    ButtonInput,
    CommandInput,
    ConsentChange,
    Event,
    Gap,
    HandoffRequest,
    TextInput,
    TicketInfo,
    Turn,
    UnsupportedInput,
    Visitor,
)
from bot.dialogue.labels import ASPECTS as ASPECT_LABELS
from bot.dialogue.labels import CATEGORIES
from bot.dialogue.referral import Referral
from bot.dialogue.render import Renderer
from bot.dialogue.reply import Reply
from bot.dialogue.state import State
from bot.i18n import NATIVE_NAMES, Translator, _, current
from nlu.types import QUESTION_INTENTS, ParseResult
from services_catalog.multilingual import FallbackChain
from services_catalog.schema import Service

PAGE_SIZE = 6
CHOICES = 4
LOW_CONFIDENCE = 0.5  # below it (and above the NLU's out-of-scope threshold): "did you mean"
SOFT_EMERGENCY = 0.5  # a classifier-only emergency below it also gets its question answered
CLOSE_MATCH = 0.05  # services scoring within this of the best one all fit
WEAK_MATCH = 0.6  # a service matched below it is not trusted on its own
MISUNDERSTANDINGS = 2  # in a row, then a case worker is offered


class Dialogue:
    def __init__(
        self,
        catalogue: Catalogue,
        parse: Callable[[str, str | None], Awaitable[ParseResult]],
        translator: Translator,
        chain: FallbackChain,
        policy: Policy,
    ) -> None:
        self.catalogue, self.parse, self.translator = catalogue, parse, translator
        self.chain, self.policy = chain, policy
        self.referral = Referral(catalogue, chain, policy)

    async def respond(
        self, event: Event, state: State, visitor: Visitor, ticket: TicketInfo | None = None,
        recent: tuple[str, ...] = (),
    ) -> tuple[Turn, State]:
        reply = Reply(state, visitor, ticket, recent)
        language = state.language or self.translator.supported(visitor.language_code)
        self.translator.activate(language)
        if state.human and isinstance(event, TextInput | UnsupportedInput):
            reply.relay = True  # a case worker is talking: the bot stays silent
            return reply.turn(), state
        parsed = None
        if isinstance(event, TextInput) and (text := clean(event.text)):
            parsed = await self.parse(text, language)
            language = language or self.translator.supported(parsed.language)
        self.translator.activate(language)
        if parsed is not None and parsed.urgent:
            await self._emergency(reply, parsed)  # before anything else, even the language
        if language is None and not _picks_language(event):
            self._language_picker(reply, welcome=True)
        else:
            if reply.state.language is None and language is not None:
                reply.state = reply.state.replace(language=language)
            await self._dispatch(reply, event, parsed)
        return reply.turn(), reply.state

    async def _dispatch(self, reply: Reply, event: Event, parsed: ParseResult | None) -> None:
        match event:
            case CommandInput(name=name):
                await self._command(reply, name)
            case ButtonInput(data=data):
                action = cb.decode(data)
                if action is None:
                    reply.say(_("Sorry, that button no longer works."))
                    self._menu(reply)
                else:
                    await self._action(reply, action)
            case TextInput(text=text) if parsed is not None and (
                    reply.state.draft or {}).get("awaiting") and parsed.intent != "emergency":
                await self.referral.describe(reply, clean(text), reply.visitor)
            case TextInput():
                if parsed is None:
                    reply.say(_("Please write your question, or tap a topic."))
                    self._menu(reply)
                else:
                    await self._text(reply, parsed)
            case UnsupportedInput():
                reply.say(_("Sorry, I can only read text. Please write your question, or tap "
                            "a topic."))
                self._menu(reply)

    # commands and buttons

    async def _command(self, reply: Reply, name: str) -> None:
        if name == "start":
            self._welcome(reply)
        elif name == "language":
            self._language_picker(reply, welcome=False)
        elif name == "menu":
            self._menu(reply)
        elif name == "privacy":
            self._privacy(reply)
        elif name in ("human", "agent"):
            await self._handoff(reply, HandoffRequest(reply.state.service_id))
        elif name == "mydata":
            reply.export = True
        elif name == "delete":
            reply.say(_("Do you want me to delete everything I store about you: your choices, "
                        "your region, our conversation and your requests' personal details? "
                        "Requests stay only as anonymous numbers."),
                      [Button("🗑 " + _("Yes, delete everything"), cb.erase()),
                       Button(_("No, keep it"), cb.no())])
        elif name == "ticket":
            if reply.open_ticket is None:
                reply.say(_("You have no open request."))
                self._menu(reply)
            else:
                self.referral.status(reply, reply.open_ticket)
        elif name == "bot":
            if reply.state.human:
                reply.leave_human = True
                reply.state = reply.state.replace(human=False)
                reply.say(_("You are back with the bot. Your request stays open; send /ticket "
                            "to see it."))
            self._menu(reply)
        else:
            self._help(reply)

    async def _action(self, reply: Reply, action: Action) -> None:
        state = reply.state
        match action.kind:
            case "menu":
                self._menu(reply)
            case "languages":
                self._language_picker(reply, welcome=False)
            case "no":
                reply.state = state.replace(offer=None)
                reply.say(_("All right."))
                self._menu(reply)
            case "language":
                await self._set_language(reply, action.value)
            case "category":
                await self._category(reply, action.value, action.page)
            case "region":
                await self._set_region(reply, None if action.value == "*" else action.value)
            case "regions":
                reply.state = state.replace(pending=cb.category(action.value))
                await self._ask_region(reply)
            case "service":
                await self._answer(reply, action.value, "info")
            case "aspect":
                await self._answer(reply, action.value, ASPECTS[action.extra])
            case "handoff" | "urgent":
                await self._handoff(reply, HandoffRequest(action.value or state.service_id,
                                                          urgent=action.kind == "urgent"))
            case "draft":
                await self.referral.step(reply, action.value, reply.visitor, reply.open_ticket)
                if reply.ticket is None and not reply.state.draft and not reply.handoff:
                    self._menu(reply)
            case "erase":
                self._erase(reply)
            case "follow_up":
                reply.follow_up = (int(action.value), action.extra)
                reply.say(_("Thank you for telling us."))
                self._menu(reply)
            case "helped":
                reply.helped = (int(action.value), action.extra == "y")
                reply.say(_("Thank you for telling us."))
                self._menu(reply)
            case "consent":
                self._consent(reply, cb.PURPOSE_CODES[action.value], action.extra == "y")
            case "withdraw":
                self._consent(reply, cb.PURPOSE_CODES[action.value], False)

    async def _set_language(self, reply: Reply, language: str) -> None:
        if language not in self.translator.languages:
            reply.say(_("Sorry, that button no longer works."))
            self._language_picker(reply, welcome=False)
            return
        first_time = reply.state.language is None
        reply.state = reply.state.replace(language=language)
        self.translator.activate(language)
        if first_time or reply.state.asked.get(STORE_PROFILE) != VERSIONS[STORE_PROFILE]:
            self._welcome(reply)
        else:
            reply.say(_("I will write in English."))
            self._menu(reply)

    async def _set_region(self, reply: Reply, region: str | None) -> None:
        if region is not None and await self.catalogue.area_name(region) is None:
            reply.say(_("Sorry, that button no longer works."))
            self._menu(reply)
            return
        pending = reply.state.pending
        reply.state = reply.state.replace(region=region, pending=None)
        action = cb.decode(pending) if pending else None
        if action is not None:
            await self._action(reply, action)
        else:
            reply.say(_("Thank you."))
            self._menu(reply)

    # screens

    def _welcome(self, reply: Reply) -> None:
        reply.say(_("Hello! I can tell you which services can help you after your return, "
                    "which papers you need and how to apply. Tap a topic below or write your "
                    "question in your own words."))
        self._ask_profile_consent(reply)
        self._menu(reply, intro=False)

    def _menu(self, reply: Reply, intro: bool = True) -> None:
        buttons = [Button(render.category_label(c), cb.category(c)) for c in CATEGORIES]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([Button("🙋 " + _("Talk to a case worker"), cb.handoff()),
                     Button("🌐 " + _("Language"), cb.languages())])
        reply.say(_("What do you need help with?") if intro else _("Choose a topic:"), *rows)

    def _help(self, reply: Reply) -> None:
        reply.say("\n".join([
            _("I answer questions about services for people who have returned home: what "
              "exists, who can get it, which papers you need, how to apply, where and when."),
            "",
            _("Write your question, or use these commands:"),
            "/menu · " + _("topics"),
            "/language · " + _("change language"),
            "/privacy · " + _("what I store, and your choices"),
            "/human · " + _("talk to a case worker"),
            "/mydata · " + _("everything I store about you"),
            "/delete · " + _("delete everything I store about you"),
        ]))
        self._menu(reply)

    def _language_picker(self, reply: Reply, welcome: bool) -> None:
        buttons = [Button(name, cb.language(code)) for code, name in NATIVE_NAMES.items()
                   if code in self.translator.languages]
        text = "Choose your language · Choisissez votre langue · اختر لغتك"
        reply.say(("👋 " if welcome else "🌐 ") + text, buttons)

    async def _category(self, reply: Reply, category: str, page: int) -> None:
        if category not in CATEGORIES:
            reply.say(_("Sorry, that button no longer works."))
            self._menu(reply)
            return
        region = reply.state.region
        services = await self.catalogue.services(category=category, region=region)
        if region is None and any(not s.national for s in services):  # it depends where
            reply.state = reply.state.replace(pending=cb.category(category, page))
            await self._ask_region(reply)
            return
        label = render.category_label(category)
        if not services:
            reply.gaps.append(Gap("no_service_in_region", category, region))
            reply.say(_("I know of no service for %(topic)s in your area yet.", topic=label))
            self._offer_handoff(reply, None)
            return
        shown = services[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        rows = [[Button(self.chain.text(s.name, self._language), cb.service(s.id))]
                for s in shown]
        if len(services) > (page + 1) * PAGE_SIZE:
            rows.append([Button(_("More") + " ▶", cb.category(category, page + 1))])
        rows.append([Button("📍 " + _("Change region"), cb.regions(category)),
                     Button("🏠 " + _("Menu"), cb.menu())])
        reply.say(_("%(topic)s: choose a service.", topic=label), *rows)

    async def _ask_region(self, reply: Reply) -> None:
        regions = await self.catalogue.regions()
        buttons = [Button(self.chain.text(r.name, self._language), cb.region(r.id))
                   for r in regions]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([Button(_("All regions"), cb.region(None))])
        reply.say(_("Where do you live now? Services depend on the region."), *rows)

    # answers

    async def _answer(self, reply: Reply, service_id: str, aspect: str) -> None:
        service = await self.catalogue.service(service_id)
        if service is None:
            reply.say(_("Sorry, this service is no longer available."))
            self._menu(reply)
            return
        reply.state = reply.state.replace(service_id=service.id, misunderstandings=0, offer=None)
        r = Renderer(self.chain)
        if aspect == "documents":
            sources = {s.id: s for s in await self.catalogue.active(
                [d.obtained_from for d in service.documents if d.obtained_from])}
            html = render.documents(service, sources, r)
            rows = [[Button("❓ " + _("Get: %(document)s", document=self.chain.text(
                d.name, self._language)), cb.aspect("procedure", sources[d.obtained_from].id))]
                for d in service.documents if d.obtained_from in sources]
            reply.say(html, *rows[:CHOICES], *self._aspect_rows(service, aspect))
            return
        if aspect == "eligibility":
            html = render.eligibility(service, r)
        elif aspect == "procedure":
            html = render.procedure(service, r)
        elif aspect == "location":
            html = render.location(service, await self._area_names(service), r)
        elif aspect == "cost":
            html = render.cost(service, r)
        else:
            html = render.card(service, await self.catalogue.organization(service.organization), r)
        reply.say(html, *self._aspect_rows(service, aspect))

    async def _area_names(self, service: Service) -> dict[str, Mapping[str, str]]:
        names = {}
        for code in service.area_ids():
            name = await self.catalogue.area_name(code)
            if name is not None:
                names[code] = name
        return names

    def _aspect_rows(self, service: Service, shown: str) -> list[list[Button]]:
        buttons = [Button(f"{icon} {_(label)}", cb.aspect(aspect, service.id))
                   for aspect, (icon, label) in ASPECT_LABELS.items() if aspect != shown]
        buttons.append(Button("🙋 " + _("Talk to a case worker"), cb.handoff(service.id)))
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([Button("🏠 " + _("Menu"), cb.menu())])
        return rows

    async def _text(self, reply: Reply, parsed: ParseResult) -> None:
        region = next((e.value for e in parsed.entities if e.entity == "region"), None)
        if region is not None:
            reply.state = reply.state.replace(region=region)
        intent = parsed.intent
        if intent == "emergency":
            if parsed.confidence >= SOFT_EMERGENCY:
                return  # the contacts and the urgent offer are already there
            intent = next((i for i, _p in parsed.intent_ranking if i != "emergency"), intent)
        offer = reply.state.offer
        if intent == "affirm" and offer and (action := cb.decode(offer)) is not None:
            reply.state = reply.state.replace(offer=None)
            await self._action(reply, action)
        elif intent == "deny" and offer:
            await self._action(reply, Action("no"))
        elif intent == "greet":
            reply.say(_("Hello!"))
            self._menu(reply)
        elif intent == "thank":
            reply.say(_("You are welcome. Write again whenever you need."))
        elif intent == "goodbye":
            reply.say(_("Goodbye, and good luck. I am here whenever you need me."))
        elif intent == "request_human":
            await self._handoff(reply, HandoffRequest(
                parsed.service_id or reply.state.service_id, parsed.topic))
        elif intent == "list_services" and parsed.topic:
            await self._category(reply, parsed.topic, 0)
        elif intent == "list_services":
            reply.state = reply.state.replace(misunderstandings=0)
            self._menu(reply)
        elif intent in QUESTION_INTENTS and parsed.confidence >= LOW_CONFIDENCE:
            await self._question(reply, parsed, intent)
        elif intent in ("out_of_scope", "affirm", "deny"):
            self._not_understood(reply, polite=True)
        else:
            await self._did_you_mean(reply, parsed)

    async def _question(self, reply: Reply, parsed: ParseResult, intent: str) -> None:
        aspect = {"ask_info": "info", "ask_documents": "documents",
                  "ask_eligibility": "eligibility", "ask_procedure": "procedure",
                  "ask_location": "location", "ask_cost": "cost"}[intent]
        candidates = [(parsed.service_id, parsed.service_score)] if parsed.service_id else []
        candidates += [(m.service_id, m.score) for m in parsed.alternatives]
        best = candidates[0][1] if candidates else 0.0
        fitting = [s for s, score in candidates if score >= max(best - CLOSE_MATCH, WEAK_MATCH)]
        if len(fitting) == 1:
            await self._answer(reply, fitting[0], aspect)
        elif fitting:
            await self._choose(reply, await self.catalogue.active(fitting[:CHOICES]), aspect)
        elif reply.state.service_id and aspect != "info" and not parsed.topic:
            await self._answer(reply, reply.state.service_id, aspect)  # a follow-up question
        elif parsed.topic:
            services = await self.catalogue.services(category=parsed.topic,
                                                     region=reply.state.region)
            if services:
                await self._choose(reply, await self.catalogue.active(
                    [s.id for s in services[:PAGE_SIZE]]), aspect)
            else:
                reply.gaps.append(Gap("no_service_in_region", parsed.topic, reply.state.region))
                label = render.category_label(parsed.topic)
                reply.say(_("I know of no service for %(topic)s in your area yet.", topic=label))
                self._offer_handoff(reply, None)
        else:
            reply.gaps.append(Gap("no_service_matched", None, reply.state.region))
            await self._did_you_mean(reply, parsed)

    async def _choose(self, reply: Reply, services: Sequence[Service], aspect: str) -> None:
        reply.state = reply.state.replace(misunderstandings=0)
        rows = [[Button(self.chain.text(s.name, self._language), cb.aspect(aspect, s.id))]
                for s in services]
        reply.say(_("Several services may fit. Which one do you mean?"), *rows,
                  [Button("🏠 " + _("Menu"), cb.menu())])

    async def _did_you_mean(self, reply: Reply, parsed: ParseResult) -> None:
        ids = [i for i in [parsed.service_id, *(m.service_id for m in parsed.alternatives)] if i]
        services = await self.catalogue.active(ids[:3])
        rows = [[Button(self.chain.text(s.name, self._language), cb.service(s.id))]
                for s in services]
        if not rows and parsed.topic:
            rows = [[Button(render.category_label(parsed.topic), cb.category(parsed.topic))]]
        if not rows:
            self._not_understood(reply, polite=False)
            return
        if self._misunderstood(reply):
            return
        reply.say(_("I am not sure I understood. Did you mean one of these?"), *rows,
                  [Button("🙋 " + _("Talk to a person"), cb.handoff())])

    def _not_understood(self, reply: Reply, polite: bool) -> None:
        if self._misunderstood(reply):
            return
        if polite:
            reply.say(_("I can only help with services for people who have returned home: "
                        "papers, work, training, health, housing, school, safety and family. "
                        "Tap a topic or ask me about one."))
        else:
            reply.say(_("Sorry, I did not understand. Tap a topic or write your question in "
                        "other words."))
        self._menu(reply)

    def _misunderstood(self, reply: Reply) -> bool:
        """Counts a misunderstanding; on the second in a row, offers a case worker."""
        count = reply.state.misunderstandings + 1
        reply.state = reply.state.replace(misunderstandings=count)
        if count < MISUNDERSTANDINGS:
            return False
        reply.say(_("Sorry, I still do not understand. Would you like to talk to a case "
                    "worker?"))
        self._offer_handoff(reply, None)
        return True

    def _offer_handoff(self, reply: Reply, service_id: str | None) -> None:
        reply.state = reply.state.replace(offer=cb.handoff(service_id))
        reply.say(_("A case worker can look at your situation."),
                  [Button("🙋 " + _("Yes, talk to a case worker"), cb.handoff(service_id)),
                   Button(_("No, thanks"), cb.no())])

    async def _emergency(self, reply: Reply, parsed: ParseResult) -> None:
        """The emergency contacts and an urgent offer; one line and a button only when the
        message asks something else and the alarm is the classifier's doubt (about one
        ordinary message in twenty)."""
        region = next((e.value for e in parsed.entities if e.entity == "region"),
                      reply.state.region)
        summaries = await self.catalogue.services(emergency=True, region=region)
        services = await self.catalogue.active([s.id for s in summaries])
        if parsed.intent != "emergency":
            reply.say(render.emergency_line(services, Renderer(self.chain)),
                      [Button("🆘 " + _("I need urgent help"), cb.urgent())])
            return
        reply.say(render.emergency_contacts(services, Renderer(self.chain)))
        reply.state = reply.state.replace(offer=cb.urgent())
        reply.say(_("Do you want a case worker to contact you urgently?"),
                  [Button("🆘 " + _("Yes, urgently"), cb.urgent()),
                   Button(_("No, thanks"), cb.no())])

    async def _handoff(self, reply: Reply, request: HandoffRequest) -> None:
        reply.state = reply.state.replace(offer=None, misunderstandings=0)
        await self.referral.start(reply, request, reply.open_ticket)

    # consent

    def _ask_profile_consent(self, reply: Reply) -> None:
        if reply.state.asked.get(STORE_PROFILE) == VERSIONS[STORE_PROFILE]:
            return  # given or refused at this version: /privacy changes it
        reply.state = reply.state.replace(
            asked={**reply.state.asked, STORE_PROFILE: VERSIONS[STORE_PROFILE]})
        reply.say("🔒 " + render.escape(consent_text(STORE_PROFILE, self.policy)),
                  [Button("✅ " + _("Yes, remember me"), cb.consent(STORE_PROFILE, True)),
                   Button(_("No, thanks"), cb.consent(STORE_PROFILE, False))])

    def _consent(self, reply: Reply, purpose: str, given: bool) -> None:
        state = reply.state
        version = VERSIONS[purpose]
        had = state.consents.get(purpose) == version
        if given and had:
            reply.say(_("Your choice is already saved."))
            self._privacy(reply)
            return
        rendered = consent_text(purpose, self.policy)
        reply.consents.append(ConsentChange(purpose, given, version, consent_hash(rendered)))
        consents = {k: v for k, v in state.consents.items() if k != purpose}
        if given:
            consents[purpose] = version
            reply.state = state.replace(consents=consents)
            reply.say(_("Thank you. I will remember your language and region.")
                      if purpose == STORE_PROFILE else
                      _("Thank you. A case worker can now see what you agreed to share."))
        elif purpose == STORE_PROFILE and had:
            self._erase(reply)  # withdrawing this consent is the same as /delete
            return
        elif purpose == SHARE_WITH_CASEWORKER:
            reply.state = state.replace(consents=consents)
            reply.say(_("Done. Your open request is closed and the details you shared are "
                        "deleted."))
        else:
            reply.state = state.replace(consents=consents)
            reply.say(_("All right. I will not store anything about you."))
        self._menu(reply)

    def _erase(self, reply: Reply) -> None:
        reply.erase = True
        reply.state = State(language=reply.state.language)
        reply.say(_("Done. I have deleted everything I stored about you. Telegram keeps its own "
                    "copy of this chat; you can delete the chat in Telegram."))
        self._menu(reply)

    def _privacy(self, reply: Reply) -> None:
        lines = ["🔒 <b>" + _("Your privacy choices") + "</b>", ""]
        rows = []
        for purpose in PURPOSES:
            given = reply.state.consents.get(purpose) == VERSIONS[purpose]
            mark = "✅ " + _("yes") if given else "❌ " + _("no")
            lines.append(f"{purpose_label(purpose)}: {mark}")
            if given:
                rows.append([Button(_("Withdraw: %(choice)s", choice=purpose_label(purpose)),
                                    cb.withdraw(purpose))])
        lines += ["", render.escape(consent_text(STORE_PROFILE, self.policy))]
        if reply.state.consents.get(STORE_PROFILE) != VERSIONS[STORE_PROFILE]:
            rows.append([Button("✅ " + _("Yes, remember me"), cb.consent(STORE_PROFILE, True))])
        rows.append([Button("🏠 " + _("Menu"), cb.menu())])
        reply.say("\n".join(lines), *rows)

    @property
    def _language(self) -> str:
        return current().code


def _picks_language(event: Event) -> bool:
    action = cb.decode(event.data) if isinstance(event, ButtonInput) else None
    return action is not None and action.kind == "language"


def clean(text: str) -> str:
    """The text to understand: NUL and control characters dropped, cut to Telegram's size."""
    kept = "".join(c for c in text[:MAX_TEXT]
                   if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    return kept.strip()
