"""The staff allowlist. Verb-named functions that take the session and return `Staff` views.

`get_active_staff` runs on every staff action, so revoking someone takes effect at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StaffRow

STAFF = cast(Table, StaffRow.__table__)

ROLES: tuple[str, ...] = ("caseworker", "supervisor", "admin")


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member. Empty `regions` or `topics` mean all of them."""

    id: int
    telegram_id: int
    role: str
    organization_id: str
    regions: tuple[str, ...]
    topics: tuple[str, ...]
    display_name: str | None
    active: bool


_COLUMNS = (STAFF.c.id, STAFF.c.telegram_id, STAFF.c.role, STAFF.c.organization_id,
            STAFF.c.regions, STAFF.c.topics, STAFF.c.display_name, STAFF.c.revoked_at)


def _select() -> Select[Any]:
    return select(*_COLUMNS)


def _view(row: Any) -> Staff:
    return Staff(id=row.id, telegram_id=row.telegram_id, role=row.role,
                 organization_id=row.organization_id, regions=tuple(row.regions or ()),
                 topics=tuple(row.topics or ()), display_name=row.display_name,
                 active=row.revoked_at is None)


async def add_staff(
    *, session: AsyncSession, telegram_id: int, role: str, organization_id: str,
    regions: Iterable[str] = (), topics: Iterable[str] = (), display_name: str | None = None,
    now: datetime,
) -> Staff:
    """Adds a staff member, or updates the one with this Telegram id (every field, the name
    included) and reinstates them if revoked. The caller checks the organisation, regions and
    topics against the catalogue; an unknown role raises ValueError.

    Two concurrent adds of a new Telegram id: the second raises IntegrityError."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    region_codes, topic_codes = tuple(regions), tuple(topics)
    values = {"role": role, "organization_id": organization_id, "regions": list(region_codes),
              "topics": list(topic_codes), "display_name": display_name, "revoked_at": None}
    staff_id = await session.scalar(
        update(STAFF).where(STAFF.c.telegram_id == telegram_id).values(**values)
        .returning(STAFF.c.id)
    )
    if staff_id is None:
        staff_id = await session.scalar(
            insert(STAFF).values(telegram_id=telegram_id, created_at=now, **values)
            .returning(STAFF.c.id)
        )
    assert staff_id is not None
    return Staff(id=int(staff_id), telegram_id=telegram_id, role=role,
                 organization_id=organization_id, regions=region_codes, topics=topic_codes,
                 display_name=display_name, active=True)


async def revoke_staff(*, session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    """Revokes an active staff member: False when the id is unknown or already revoked."""
    result = await session.execute(
        update(STAFF).where(STAFF.c.telegram_id == telegram_id, STAFF.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def get_active_staff(*, session: AsyncSession, telegram_id: int) -> Staff | None:
    """The staff member with this Telegram id; None when unknown or revoked.

    One query on the unique index of `telegram_id`: call it on every staff action."""
    row = (await session.execute(
        _select().where(STAFF.c.telegram_id == telegram_id, STAFF.c.revoked_at.is_(None))
    )).one_or_none()
    return None if row is None else _view(row)


async def list_staff(
    *, session: AsyncSession, organization_id: str | None = None, include_revoked: bool = False
) -> list[Staff]:
    """Staff by organisation, then id."""
    query = _select()
    if organization_id is not None:
        query = query.where(STAFF.c.organization_id == organization_id)
    if not include_revoked:
        query = query.where(STAFF.c.revoked_at.is_(None))
    rows = await session.execute(query.order_by(STAFF.c.organization_id, STAFF.c.id))
    return [_view(row) for row in rows.all()]


async def supervisors(*, session: AsyncSession, organization_id: str) -> list[Staff]:
    """Active supervisors of an organisation, by id: whom to escalate to. Admins keep the
    catalogue and the staff list; they act on no case, so they are not told of any."""
    rows = await session.execute(
        _select().where(STAFF.c.organization_id == organization_id,
                        STAFF.c.role == "supervisor", STAFF.c.revoked_at.is_(None))
        .order_by(STAFF.c.id)
    )
    return [_view(row) for row in rows.all()]
