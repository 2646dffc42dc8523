"""Users' state and consent records. Verb-named functions that take the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogue.events import ConsentChange
from bot.storage.models import ConsentEventRow, UserRow

# Core tables: plain statements skip the ORM's bulk-persistence machinery on the hot path.
USERS = cast(Table, UserRow.__table__)
CONSENTS = cast(Table, ConsentEventRow.__table__)


@dataclass(frozen=True, slots=True)
class StoredUser:
    id: int
    version: int
    state: dict[str, Any]
    expires_at: datetime


async def get_user(*, session: AsyncSession, pseudonym: str) -> StoredUser | None:
    row = (await session.execute(
        select(USERS.c.id, USERS.c.version, USERS.c.state, USERS.c.expires_at)
        .where(USERS.c.pseudonym == pseudonym)
    )).one_or_none()
    if row is None:
        return None
    expires_at = row.expires_at  # SQLite returns naive datetimes: they are UTC
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return StoredUser(row.id, row.version, row.state, expires_at)


async def create_user(
    *, session: AsyncSession, pseudonym: str, channel: str, state: dict[str, Any],
    now: datetime, expires_at: datetime,
) -> int:
    """Inserts a user; a concurrent insert of the same pseudonym raises IntegrityError."""
    user_id = await session.scalar(
        insert(USERS).values(pseudonym=pseudonym, channel=channel, state=state,
                             created_at=now, last_seen_at=now, expires_at=expires_at,
                             version=1).returning(USERS.c.id)
    )
    assert user_id is not None
    return int(user_id)


async def save_state(
    *, session: AsyncSession, user_id: int, version: int, state: dict[str, Any],
    now: datetime, expires_at: datetime,
) -> bool:
    """Compare-and-set on `version`: False when another worker saved in between."""
    result = await session.execute(
        update(USERS).where(USERS.c.id == user_id, USERS.c.version == version)
        .values(state=state, last_seen_at=now, expires_at=expires_at, version=version + 1)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def record_consent(
    *, session: AsyncSession, user_id: int, change: ConsentChange, language: str,
    channel: str, now: datetime,
) -> int:
    """Appends a consent event; returns its id (a ticket keeps the one that allowed it)."""
    event_id = await session.scalar(insert(CONSENTS).values(
        user_id=user_id, purpose=change.purpose, given=change.given,
        text_version=change.version, text_hash=change.text_hash, language=language,
        channel=channel, at=now,
    ).returning(CONSENTS.c.id))
    assert event_id is not None
    return int(event_id)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    purpose: str
    given: bool
    text_version: int
    text_hash: str
    language: str
    channel: str
    at: datetime


async def list_consents(*, session: AsyncSession, user_id: int) -> list[ConsentRecord]:
    rows = await session.execute(
        select(ConsentEventRow.purpose, ConsentEventRow.given, ConsentEventRow.text_version,
               ConsentEventRow.text_hash, ConsentEventRow.language, ConsentEventRow.channel,
               ConsentEventRow.at)
        .where(ConsentEventRow.user_id == user_id).order_by(ConsentEventRow.id)
    )
    return [ConsentRecord(*row) for row in rows.all()]


async def delete_expired(*, session: AsyncSession, now: datetime) -> int:
    """Deletes sessions and profiles past their expiry; consent events stay, unlinked."""
    expired = select(UserRow.id).where(UserRow.expires_at < now).scalar_subquery()
    await session.execute(update(ConsentEventRow).where(ConsentEventRow.user_id.in_(expired))
                          .values(user_id=None))
    result = await session.execute(delete(UserRow).where(UserRow.expires_at < now))
    return int(getattr(result, "rowcount", 0))


async def set_blocked(*, session: AsyncSession, user_id: int | None, blocked: bool) -> None:
    """Marks that the user blocked the bot (a 403): no more messages go to them."""
    await _update_state(session, user_id, {"blocked": blocked})


async def is_blocked(*, session: AsyncSession, user_id: int | None) -> bool:
    if user_id is None:
        return False
    state = await session.scalar(select(USERS.c.state).where(USERS.c.id == user_id))
    return bool(state and state.get("blocked"))


async def user_id_of(*, session: AsyncSession, pseudonym: str) -> int | None:
    found: int | None = await session.scalar(
        select(USERS.c.id).where(USERS.c.pseudonym == pseudonym))
    return found


async def set_human(
    *, session: AsyncSession, user_id: int | None, human: bool, ticket_closed: bool = False
) -> None:
    """Switches a user's conversation to or from a case worker; bumps the version, so any
    worker's cached copy of the row is refreshed before its next save."""
    changes: dict[str, Any] = {"human": human}
    if ticket_closed:
        changes["ticket"] = None
    await _update_state(session, user_id, changes)


async def _update_state(
    session: AsyncSession, user_id: int | None, changes: dict[str, Any]
) -> None:
    """Changes a few state keys and bumps the version, so cached copies are refreshed."""
    if user_id is None:
        return
    row = (await session.execute(
        select(USERS.c.state, USERS.c.version).where(USERS.c.id == user_id).with_for_update()
    )).one_or_none()
    if row is None:
        return
    await session.execute(update(USERS).where(USERS.c.id == user_id)
                          .values(state={**row.state, **changes}, version=row.version + 1))
