"""The catalogue as the dialogue reads it: active services, regions and organisations.

Regions and organisations change only on import, so they are cached for a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services_catalog import repository
from services_catalog.repository import ServiceSummary
from services_catalog.schema import Organization, Region, Service

CACHE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class _Static:
    regions: tuple[Region, ...]
    area_names: Mapping[str, Mapping[str, str]]  # region or district code -> name
    organizations: Mapping[str, Organization]
    loaded_at: float


class CatalogueReader:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions, self._clock = sessions, clock
        self._static: _Static | None = None

    async def services(
        self, *, category: str | None = None, region: str | None = None,
        emergency: bool | None = None,
    ) -> list[ServiceSummary]:
        async with self._sessions() as session:
            return await repository.list_services(
                session=session, category=category, region=region, emergency=emergency)

    async def service(self, service_id: str) -> Service | None:
        """An active service, or None when unknown, suspended or removed."""
        async with self._sessions() as session:
            status = await repository.get_service_status(session=session, service_id=service_id)
            if status != "active":
                return None
            return await repository.get_service(session=session, service_id=service_id)

    async def active(self, service_ids: Sequence[str]) -> list[Service]:
        """Active services by id, in the order asked."""
        async with self._sessions() as session:
            found = await repository.get_services(session=session, service_ids=service_ids)
        return [s for s in found if s.status == "active"]

    async def regions(self) -> tuple[Region, ...]:
        return (await self._load()).regions

    async def area_name(self, code: str) -> Mapping[str, str] | None:
        return (await self._load()).area_names.get(code)

    async def organization(self, organization_id: str) -> Organization | None:
        return (await self._load()).organizations.get(organization_id)

    async def _load(self) -> _Static:
        static = self._static
        if static is not None and self._clock() - static.loaded_at < CACHE_SECONDS:
            return static
        async with self._sessions() as session:
            regions = tuple(await repository.list_regions(session=session))
            organizations = await repository.list_organizations(session=session)
        names: dict[str, Mapping[str, str]] = {}
        for region in regions:
            names[region.id] = region.name
            names.update((d.id, d.name) for d in region.districts)
        self._static = _Static(regions, names, {o.id: o for o in organizations},
                               self._clock())
        return self._static
