"""Runs one turn for one user: load state, ask the core, store state and consent, reply.

State is saved with a compare-and-set on its version, so several workers can serve the
same user safely: a lost race runs the turn again on fresh state (nothing was sent yet).
The same check makes an in-process copy of recent users' rows safe to start from.
Consent records are written in the same transaction as the state they change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogue.consent import SHARE_WITH_CASEWORKER, STORE_PROFILE, VERSIONS, Policy
from bot.dialogue.core import Dialogue
from bot.dialogue.events import Event, Message, TextInput, Turn, Visitor
from bot.dialogue.state import State
from bot.handoff.contacts import Handoff
from bot.handoff.intake import Intake, Notice
from bot.i18n import _, current, ngettext
from bot.storage import inbox, rights, users
from bot.storage.writer import Writer
from services_catalog.errors import ReturneeBotError

log = logging.getLogger(__name__)
ATTEMPTS = 10
RECENT_USERS = 10_000


class ConcurrentUpdateError(ReturneeBotError):
    """The same user's state kept changing under us."""


class _Conflict(Exception):
    pass


class RecentTexts:
    """Each user's last few messages, in memory only, so a user can choose to add them to a
    referral. Never written to the database or logs; gone after the session time."""

    KEEP, CHARS, USERS = 3, 300, 10_000

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._texts: dict[str, list[tuple[datetime, str]]] = {}

    def add(self, key: str, text: str, now: datetime) -> None:
        kept = [*self._alive(key, now), (now, text.strip()[:self.CHARS])]
        self._texts.pop(key, None)
        self._texts[key] = kept[-self.KEEP:]
        if len(self._texts) > self.USERS:
            self._texts.pop(next(iter(self._texts)))

    def forget(self, key: str) -> None:
        self._texts.pop(key, None)

    def recent(self, key: str, now: datetime) -> tuple[str, ...]:
        return tuple(text for _at, text in self._alive(key, now))

    def _alive(self, key: str, now: datetime) -> list[tuple[datetime, str]]:
        return [(at, text) for at, text in self._texts.get(key, ()) if now - at < self.lifetime]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The replies to the user, and what the channel must tell the case workers."""

    messages: list[Message]
    notices: list[Notice]
    documents: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, content)
    inbox_done: bool = False  # the update's inbox entry was marked done with the state


def export_summary(data: dict[str, Any]) -> str:
    """A readable summary of /mydata, in the current locale."""
    if data["profile"] is None:
        return _("I store nothing about you right now. The file attached is empty.")
    return "\n".join([
        _("Here is everything I store about you, in the attached file:"),
        "• " + _("your choices and where you are in our conversation"),
        "• " + ngettext("%(count)s consent record", "%(count)s consent records",
                        len(data["consents"])),
        "• " + ngettext("%(count)s request to a case worker",
                        "%(count)s requests to a case worker", len(data["requests"])),
        _("Send /delete to erase it."),
    ])


def utcnow() -> datetime:
    return datetime.now(UTC)


class Conversation:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: Writer,
        dialogue: Dialogue,
        handoff: Handoff,
        intake: Intake,
        policy: Policy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions, self.writer = sessions, writer
        self.dialogue, self.handoff, self.intake = dialogue, handoff, intake
        self.policy, self.clock = policy, clock
        self._recent: dict[str, users.StoredUser] = {}  # least recently used first
        self._texts = RecentTexts(timedelta(minutes=policy.session_minutes))

    async def handle(
        self, visitor: Visitor, event: Event, update_id: int | None = None
    ) -> Outcome:
        """One turn. With `update_id`, the durable inbox's entry is marked done in the same
        transaction as the state it changed."""
        for attempt in range(ATTEMPTS):
            outcome = await self._attempt(visitor, event, update_id)
            if outcome is not None:
                return outcome
            log.info("state changed concurrently; running the turn again")
            await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # de-synchronise
        raise ConcurrentUpdateError("could not save the conversation state")

    async def _attempt(
        self, visitor: Visitor, event: Event, update_id: int | None
    ) -> Outcome | None:
        now = self.clock()
        stored = self._recent.get(visitor.key)
        if stored is None:
            async with self.sessions() as session:
                stored = await users.get_user(session=session, pseudonym=visitor.key)
        alive = stored is not None and stored.expires_at > now
        state = State.from_json(stored.state) if stored is not None and alive else State()
        state = state.replace(blocked=False)  # they are writing to us again
        info = None
        if state.ticket is not None:
            async with self.sessions() as session:
                info = await self.intake.info(session=session, ticket_id=state.ticket)
            if info is None:  # closed or cancelled meanwhile
                state = state.replace(ticket=None, human=False)
        recent = self._texts.recent(visitor.key, now)
        turn, state = await self.dialogue.respond(event, state, visitor, info, recent)
        language = current().code
        messages = list(turn.messages)
        if turn.handoff is not None:
            messages += await self.handoff.start(turn.handoff, state, visitor)
        if turn.erase or turn.export:
            return await self._rights(visitor, turn, stored, messages, language, now)
        route = await self.intake.route(turn.ticket) if turn.ticket is not None else None
        try:
            async with self.writer.begin() as session:
                if stored is None:
                    user_id, version = await users.create_user(
                        session=session, pseudonym=visitor.key, channel=visitor.channel,
                        state=state.to_json(), now=now,
                        expires_at=now + self._lifetime(state)), 1
                else:
                    user_id, version = stored.id, stored.version
                notices = await self.intake.apply(session=session, turn=turn, info=info,
                                                  user_id=user_id, language=language, now=now)
                for change in turn.consents:
                    await users.record_consent(session=session, user_id=user_id, change=change,
                                               language=language, channel=visitor.channel,
                                               now=now)
                if any(c.purpose == SHARE_WITH_CASEWORKER and not c.given
                       for c in turn.consents):
                    for closed in await rights.withdraw_sharing(session=session,
                                                                user_id=user_id, now=now):
                        notices.append(Notice("withdrawn", closed.id))
                    state = state.replace(ticket=None, human=False)
                if turn.ticket is not None and route is not None:
                    ticket = await self.intake.open(
                        session=session, user_id=user_id, draft=turn.ticket, route=route,
                        visitor=visitor, language=language, now=now)
                    state = state.replace(ticket=ticket.id, consents={
                        **state.consents, SHARE_WITH_CASEWORKER: turn.ticket.consent.version})
                    messages.append(self.intake.confirmation(ticket, route, now))
                    notices.append(Notice("opened", ticket.id))
                if update_id is not None:
                    await inbox.mark_done(session=session, update_id=update_id)
                expires_at = now + self._lifetime(state)
                if stored is not None or turn.ticket is not None:
                    saved = await users.save_state(
                        session=session, user_id=user_id, version=version,
                        state=state.to_json(), now=now, expires_at=expires_at)
                    if not saved:
                        self._recent.pop(visitor.key, None)
                        raise _Conflict
                    version += 1
        except (_Conflict, IntegrityError):  # another worker saved or created it first
            return None
        self._remember(visitor.key, users.StoredUser(user_id, version, state.to_json(),
                                                     expires_at))
        if isinstance(event, TextInput) and not state.human:
            self._texts.add(visitor.key, event.text, now)
        return Outcome(messages, notices, inbox_done=update_id is not None)

    async def _rights(
        self, visitor: Visitor, turn: Turn, stored: users.StoredUser | None,
        messages: list[Message], language: str, now: datetime,
    ) -> Outcome:
        """/mydata sends everything stored about the user; /delete erases it."""
        if turn.export:
            data: dict[str, Any] = {"profile": None, "consents": [], "requests": []}
            if stored is not None:
                async with self.sessions() as session:
                    data = await rights.export_user(session=session, user_id=stored.id)
            document = json.dumps(data, ensure_ascii=False, indent=2).encode()
            messages.append(Message(export_summary(data)))
            return Outcome(messages, [], [("my-data.json", document)])
        notices = []
        if stored is not None:
            async with self.writer.begin() as session:
                for change in turn.consents:  # a withdrawal is recorded, then unlinked
                    await users.record_consent(session=session, user_id=stored.id,
                                               change=change, language=language,
                                               channel=visitor.channel, now=now)
                for ticket in await rights.erase_user(session=session, user_id=stored.id,
                                                      now=now):
                    notices.append(Notice("erased", ticket.id))
        self._recent.pop(visitor.key, None)
        self._texts.forget(visitor.key)
        return Outcome(messages, notices)

    def _remember(self, key: str, stored: users.StoredUser) -> None:
        """Keeps recent users' rows, so most turns skip a read; saves still compare versions."""
        self._recent.pop(key, None)
        self._recent[key] = stored
        if len(self._recent) > RECENT_USERS:
            self._recent.pop(next(iter(self._recent)))

    def _lifetime(self, state: State) -> timedelta:
        if state.consents.get(STORE_PROFILE) == VERSIONS[STORE_PROFILE]:
            return timedelta(days=self.policy.profile_days)
        return timedelta(minutes=self.policy.session_minutes)
