"""The catalogue as the dialogue reads it: active services, regions and organisations.

The catalogue changes only when an admin imports a new version, so every read is cached
for a minute: an import shows up within a minute, and a conversation turn rarely waits
for the database.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services_catalog import repository
from services_catalog.repository import ServiceSummary
from services_catalog.schema import Organization, Region, Service

CACHE_SECONDS = 60.0
T = TypeVar("T")


class CatalogueReader:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions, self._clock = sessions, clock
        self._cache: dict[Hashable, tuple[float, Any]] = {}

    async def services(
        self, *, category: str | None = None, region: str | None = None,
        emergency: bool | None = None,
    ) -> list[ServiceSummary]:
        async def load(session: AsyncSession) -> list[ServiceSummary]:
            return await repository.list_services(
                session=session, category=category, region=region, emergency=emergency)

        return list(await self._cached(("services", category, region, emergency), load))

    async def service(self, service_id: str) -> Service | None:
        """An active service, or None when unknown, suspended or removed."""
        found = await self.active([service_id])
        return found[0] if found else None

    async def active(self, service_ids: Sequence[str]) -> list[Service]:
        """Active services by id, in the order asked."""
        found = [await self._document(service_id) for service_id in service_ids]
        return [s for s in found if s is not None and s.status == "active"]

    async def _document(self, service_id: str) -> Service | None:
        async def load(session: AsyncSession) -> Service | None:
            status = await repository.get_service_status(session=session, service_id=service_id)
            if status != "active":
                return None
            return await repository.get_service(session=session, service_id=service_id)

        return await self._cached(("service", service_id), load)

    async def regions(self) -> tuple[Region, ...]:
        async def load(session: AsyncSession) -> tuple[Region, ...]:
            return tuple(await repository.list_regions(session=session))

        return await self._cached("regions", load)

    async def area_name(self, code: str) -> Mapping[str, str] | None:
        async def load(session: AsyncSession) -> dict[str, Mapping[str, str]]:
            names: dict[str, Mapping[str, str]] = {}
            for region in await repository.list_regions(session=session):
                names[region.id] = region.name
                names.update((d.id, d.name) for d in region.districts)
            return names

        return (await self._cached("areas", load)).get(code)

    async def organization(self, organization_id: str) -> Organization | None:
        async def load(session: AsyncSession) -> dict[str, Organization]:
            return {o.id: o for o in await repository.list_organizations(session=session)}

        return (await self._cached("organizations", load)).get(organization_id)

    async def _cached(
        self, key: Hashable, load: Callable[[AsyncSession], Awaitable[T]]
    ) -> T:
        hit = self._cache.get(key)
        now = self._clock()
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            value: T = hit[1]
            return value
        async with self._sessions() as session:
            loaded = await load(session)
        self._cache[key] = (now, loaded)
        return loaded
