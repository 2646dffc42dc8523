"""The catalogue query API for the bot and the NLU.

Verb-named, keyword-only functions that take the session and return immutable views;
ORM rows never leave this module. Texts stay multilingual: resolve them for a user's
language with `FallbackChain.resolve`, which says when a fallback was used.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services_catalog.models import (
    NATIONAL_AREA,
    CatalogRevisionRow,
    OrganizationRow,
    RegionRow,
    ServiceAreaRow,
    ServiceDocumentRow,
    ServiceRow,
)
from services_catalog.schema import Catalog, District, Organization, Region, Service


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """Enough of a service to list it and pick one."""

    id: str
    category: str
    organization_id: str
    status: str
    name: Mapping[str, str]
    summary: Mapping[str, str]
    national: bool
    emergency: bool
    accepts_referrals: bool
    last_verified: date


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """A word or phrase that points at a service, for the NLU's service matcher."""

    service_id: str
    category: str
    language: str
    term: str
    kind: Literal["name", "keyword", "synonym"]


@dataclass(frozen=True, slots=True)
class Revision:
    id: int
    content_hash: str
    imported_at: datetime
    source: str
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class CatalogSummary:
    services: int
    active: int
    by_category: Mapping[str, int]
    by_region: Mapping[str, int]
    organizations: int
    regions: int
    revision: Revision | None


ACTIVE: tuple[str, ...] = ("active",)


_DOCUMENT = ServiceDocumentRow.document


async def get_service(*, session: AsyncSession, service_id: str) -> Service | None:
    document = await session.scalar(
        select(_DOCUMENT).where(ServiceDocumentRow.service_id == service_id)
    )
    return Service.model_validate(document) if document is not None else None


async def get_services(*, session: AsyncSession, service_ids: Collection[str]) -> list[Service]:
    """Services by id, in the order asked; unknown ids are skipped."""
    rows = await session.execute(
        select(ServiceDocumentRow.service_id, _DOCUMENT)
        .where(ServiceDocumentRow.service_id.in_(list(service_ids)))
    )
    found = dict(rows.tuples().all())
    return [Service.model_validate(found[i]) for i in service_ids if i in found]


async def get_service_status(*, session: AsyncSession, service_id: str) -> str | None:
    """active, suspended or inactive (removed from the catalogue); None if unknown."""
    status: str | None = await session.scalar(
        select(ServiceRow.status).where(ServiceRow.id == service_id)
    )
    return status


async def list_services(
    *,
    session: AsyncSession,
    category: str | None = None,
    region: str | None = None,
    emergency: bool | None = None,
    statuses: Sequence[str] = ACTIVE,
    limit: int | None = None,
    offset: int = 0,
) -> list[ServiceSummary]:
    """Services by category and area (a region or a district code), ordered by id.

    A service is in an area when one of its locations is; national services are in all.
    """
    if region is None:
        query = _filtered(select(*_SUMMARY_COLUMNS), category, emergency, statuses)
        query = query.order_by(ServiceRow.id)
    else:  # driven by the covering area index: reads only the matching services
        query = _filtered(
            select(*_SUMMARY_COLUMNS).select_from(ServiceAreaRow).join(ServiceRow),
            None, emergency, statuses,
        ).where(ServiceAreaRow.area_id.in_([region, NATIONAL_AREA]))
        if category is not None:
            query = query.where(ServiceAreaRow.category == category)
        query = query.order_by(ServiceAreaRow.service_id)
    query = query.offset(offset).limit(limit)
    return [ServiceSummary(*row) for row in (await session.execute(query)).all()]


_SUMMARY_COLUMNS = (
    ServiceRow.id, ServiceRow.category, ServiceRow.organization_id, ServiceRow.status,
    ServiceRow.name, ServiceRow.summary, ServiceRow.national, ServiceRow.emergency,
    ServiceRow.accepts_referrals, ServiceRow.last_verified,
)


def _filtered(
    query: Select[Any], category: str | None, emergency: bool | None, statuses: Sequence[str]
) -> Select[Any]:
    query = query.where(ServiceRow.status.in_(list(statuses)))
    if category is not None:
        query = query.where(ServiceRow.category == category)
    if emergency is not None:
        query = query.where(ServiceRow.emergency == emergency)
    return query


async def list_regions(*, session: AsyncSession) -> list[Region]:
    """The region → district hierarchy, in catalogue order."""
    rows = (await session.execute(
        select(RegionRow.id, RegionRow.parent_id, RegionRow.name)
        .order_by(RegionRow.parent_id.is_not(None), RegionRow.position, RegionRow.id)
    )).all()
    districts: dict[str, list[District]] = {}
    for row in rows:
        if row.parent_id is not None:
            districts.setdefault(row.parent_id, []).append(District(id=row.id, name=row.name))
    return [Region(id=row.id, name=row.name, districts=tuple(districts.get(row.id, ())))
            for row in rows if row.parent_id is None]


async def get_organization(*, session: AsyncSession, organization_id: str) -> Organization | None:
    document = await session.scalar(
        select(OrganizationRow.document).where(OrganizationRow.id == organization_id)
    )
    return Organization.model_validate(document) if document is not None else None


async def list_organizations(*, session: AsyncSession) -> list[Organization]:
    documents = await session.scalars(select(OrganizationRow.document).order_by(OrganizationRow.id))
    return [Organization.model_validate(d) for d in documents]


async def search_terms(
    *, session: AsyncSession, statuses: Sequence[str] = ACTIVE
) -> list[SearchTerm]:
    """Names, keywords and synonyms of services in every language."""
    rows = await session.execute(
        select(ServiceRow.id, ServiceRow.category, _DOCUMENT).join(ServiceDocumentRow)
        .where(ServiceRow.status.in_(list(statuses))).order_by(ServiceRow.id)
    )
    return [term for ident, category, document in rows
            for term in service_terms(ident, category, document)]


def service_terms(ident: str, category: str, document: Mapping[str, Any]) -> list[SearchTerm]:
    """A service's names, keywords and synonyms in every language. Pure."""
    terms = [SearchTerm(ident, category, language, name, "name")
             for language, name in document["name"].items()]
    kinds: tuple[tuple[Literal["keyword", "synonym"], str], ...] = (
        ("keyword", "keywords"), ("synonym", "synonyms"))
    for kind, key in kinds:
        for language, words in document.get(key, {}).items():
            terms += [SearchTerm(ident, category, language, w, kind) for w in words]
    return terms


async def export_catalog(*, session: AsyncSession, include_inactive: bool = False) -> Catalog:
    """The stored catalogue as it would be written back to a file."""
    statuses = ("active", "suspended", "inactive") if include_inactive else ("active", "suspended")
    services = await session.scalars(
        select(_DOCUMENT).join(ServiceRow).where(ServiceRow.status.in_(statuses))
        .order_by(ServiceRow.id)
    )
    return Catalog.model_construct(
        regions=tuple(await list_regions(session=session)),
        organizations=tuple(await list_organizations(session=session)),
        services=tuple(Service.model_validate(d) for d in services),
    )


async def latest_revision(*, session: AsyncSession) -> Revision | None:
    row = await session.scalar(
        select(CatalogRevisionRow).order_by(CatalogRevisionRow.id.desc()).limit(1)
    )
    if row is None:
        return None
    return Revision(row.id, row.content_hash, row.imported_at, row.source, dict(row.counts))


async def summarize(*, session: AsyncSession) -> CatalogSummary:
    by_status = dict((await session.execute(
        select(ServiceRow.status, func.count()).group_by(ServiceRow.status)
    )).tuples().all())
    by_category = dict((await session.execute(
        select(ServiceRow.category, func.count()).where(ServiceRow.status == "active")
        .group_by(ServiceRow.category).order_by(ServiceRow.category)
    )).tuples().all())
    by_region = dict((await session.execute(
        select(RegionRow.id, func.count())
        .join(ServiceAreaRow, ServiceAreaRow.area_id == RegionRow.id).join(ServiceRow)
        .where(ServiceRow.status == "active", RegionRow.parent_id.is_(None))
        .group_by(RegionRow.id).order_by(RegionRow.id)
    )).tuples().all())
    organizations = await session.scalar(select(func.count()).select_from(OrganizationRow))
    regions = await session.scalar(
        select(func.count()).select_from(RegionRow).where(RegionRow.parent_id.is_(None))
    )
    return CatalogSummary(
        services=sum(by_status.values()), active=by_status.get("active", 0),
        by_category=by_category, by_region=by_region, organizations=organizations or 0,
        regions=regions or 0, revision=await latest_revision(session=session),
    )
