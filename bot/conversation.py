"""Runs one turn for one user: load state, ask the core, store state and consent, reply.

State is saved with a compare-and-set on its version, so several workers can serve the
same user safely: a lost race runs the turn again on fresh state (nothing was sent yet).
The same check makes an in-process copy of recent users' rows safe to start from.
Consent records are written in the same transaction as the state they change.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogue.consent import STORE_PROFILE, VERSIONS, Policy
from bot.dialogue.core import Dialogue
from bot.dialogue.events import Event, Message, Visitor
from bot.dialogue.state import State
from bot.handoff import Handoff
from bot.i18n import current
from bot.storage import users
from bot.storage.writer import Writer
from services_catalog.errors import ReturneeBotError

log = logging.getLogger(__name__)
ATTEMPTS = 10
RECENT_USERS = 10_000


class ConcurrentUpdateError(ReturneeBotError):
    """The same user's state kept changing under us."""


class _Conflict(Exception):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


class Conversation:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: Writer,
        dialogue: Dialogue,
        handoff: Handoff,
        policy: Policy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions, self.writer = sessions, writer
        self.dialogue, self.handoff = dialogue, handoff
        self.policy, self.clock = policy, clock
        self._recent: dict[str, users.StoredUser] = {}  # least recently used first

    async def handle(self, visitor: Visitor, event: Event) -> list[Message]:
        for attempt in range(ATTEMPTS):
            messages = await self._attempt(visitor, event)
            if messages is not None:
                return messages
            log.info("state changed concurrently; running the turn again")
            await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # de-synchronise
        raise ConcurrentUpdateError("could not save the conversation state")

    async def _attempt(self, visitor: Visitor, event: Event) -> list[Message] | None:
        now = self.clock()
        stored = self._recent.get(visitor.key)
        if stored is None:
            async with self.sessions() as session:
                stored = await users.get_user(session=session, pseudonym=visitor.key)
        alive = stored is not None and stored.expires_at > now
        state = State.from_json(stored.state) if stored is not None and alive else State()
        turn, state = await self.dialogue.respond(event, state, visitor)
        language = current().code
        messages = list(turn.messages)
        if turn.handoff is not None:
            messages += await self.handoff.start(turn.handoff, state, visitor)
        expires_at = now + self._lifetime(state)
        try:
            async with self.writer.begin() as session:
                if stored is None:
                    user_id = await users.create_user(
                        session=session, pseudonym=visitor.key, channel=visitor.channel,
                        state=state.to_json(), now=now, expires_at=expires_at)
                else:
                    user_id = stored.id
                    saved = await users.save_state(
                        session=session, user_id=user_id, version=stored.version,
                        state=state.to_json(), now=now, expires_at=expires_at)
                    if not saved:
                        self._recent.pop(visitor.key, None)
                        raise _Conflict
                for change in turn.consents:
                    await users.record_consent(session=session, user_id=user_id, change=change,
                                               language=language, channel=visitor.channel,
                                               now=now)
        except (_Conflict, IntegrityError):  # another worker saved or created it first
            return None
        self._remember(visitor.key, users.StoredUser(
            user_id, stored.version + 1 if stored else 1, state.to_json(), expires_at))
        return messages

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
