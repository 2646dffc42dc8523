"""Importing a validated catalogue: a pure diff, then one all-or-nothing transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
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
from services_catalog.schema import Catalog, Organization, Service

_CHUNK = 500


def content_hash(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds for one service or organization."""

    content_hash: str
    status: str = "active"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Hashes of what is stored, plus the documents of the services that differ."""

    services: Mapping[str, Stored] = field(default_factory=dict)
    organizations: Mapping[str, tuple[Stored, Mapping[str, Any]]] = field(default_factory=dict)
    regions: Mapping[str, tuple[str | None, Mapping[str, str], int]] = field(default_factory=dict)
    documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogDiff:
    added: tuple[str, ...] = ()
    changed: tuple[Change, ...] = ()
    removed: tuple[str, ...] = ()
    organizations_added: tuple[str, ...] = ()
    organizations_changed: tuple[Change, ...] = ()
    regions_added: tuple[str, ...] = ()
    regions_changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__slots__)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self.__slots__}

    def render(self) -> str:
        if self.empty:
            return "No changes."
        lines = [f"+ service {i}" for i in self.added]
        lines += [f"~ service {c.id}: {', '.join(c.fields)}" for c in self.changed]
        lines += [f"- service {i} (becomes inactive)" for i in self.removed]
        lines += [f"+ organization {i}" for i in self.organizations_added]
        lines += [f"~ organization {c.id}: {', '.join(c.fields)}"
                  for c in self.organizations_changed]
        lines += [f"+ region {i}" for i in self.regions_added]
        lines += [f"~ region {i}" for i in self.regions_changed]
        lines.append(
            f"services: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed; organizations: {len(self.organizations_added)} added, "
            f"{len(self.organizations_changed)} changed; regions: {len(self.regions_added)} added, "
            f"{len(self.regions_changed)} changed"
        )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A catalogue turned into documents and hashes, ready to diff and write."""

    services: Mapping[str, tuple[Service, dict[str, Any], str]]
    organizations: Mapping[str, tuple[Organization, dict[str, Any], str]]
    regions: Mapping[str, tuple[str | None, Mapping[str, str], int]]
    content_hash: str


def prepare(catalog: Catalog) -> Prepared:
    services = {}
    for service in catalog.services:
        document = service.model_dump(mode="json")
        services[service.id] = (service, document, content_hash(document))
    organizations = {}
    for organization in catalog.organizations:
        document = organization.model_dump(mode="json")
        organizations[organization.id] = (organization, document, content_hash(document))
    regions: dict[str, tuple[str | None, Mapping[str, str], int]] = {}
    for position, region in enumerate(catalog.regions):
        regions[region.id] = (None, dict(region.name), position)
        for index, district in enumerate(region.districts):
            regions[district.id] = (region.id, dict(district.name), index)
    whole = content_hash([
        sorted(h for *_, h in services.values()),
        sorted(h for *_, h in organizations.values()),
        sorted((k, v[0], v[2], sorted(v[1].items())) for k, v in regions.items()),
    ])
    return Prepared(services, organizations, regions, whole)


def diff(current: Snapshot, new: Prepared) -> CatalogDiff:
    """What importing `new` would change. Pure."""
    added, changed = [], []
    for ident, (_, document, digest) in new.services.items():
        stored = current.services.get(ident)
        if stored is None:
            added.append(ident)
        elif stored.content_hash != digest or stored.status == "inactive":
            fields = _changed_fields(current.documents.get(ident, {}), document)
            changed.append(Change(ident, fields or ("status",)))
    removed = [i for i, s in current.services.items()
               if i not in new.services and s.status != "inactive"]
    orgs_added, orgs_changed = [], []
    for ident, (_, document, digest) in new.organizations.items():
        if ident not in current.organizations:
            orgs_added.append(ident)
            continue
        stored, old = current.organizations[ident]
        if stored.content_hash != digest:
            orgs_changed.append(Change(ident, _changed_fields(old, document)))
    regions_added = [i for i in new.regions if i not in current.regions]
    regions_changed = [i for i, value in new.regions.items()
                       if i in current.regions and _region_differs(current.regions[i], value)]
    return CatalogDiff(
        tuple(sorted(added)), tuple(sorted(changed, key=lambda c: c.id)), tuple(sorted(removed)),
        tuple(sorted(orgs_added)), tuple(sorted(orgs_changed, key=lambda c: c.id)),
        tuple(regions_added), tuple(regions_changed),
    )


def _region_differs(a: tuple[str | None, Mapping[str, str], int],
                    b: tuple[str | None, Mapping[str, str], int]) -> bool:
    return a[0] != b[0] or dict(a[1]) != dict(b[1]) or a[2] != b[2]


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))


async def load_snapshot(session: AsyncSession, new: Prepared) -> Snapshot:
    """What is stored; documents only for the services whose content differs from `new`."""
    services = {
        row.id: Stored(row.content_hash, row.status)
        for row in (await session.execute(
            select(ServiceRow.id, ServiceRow.content_hash, ServiceRow.status)
        )).all()
    }
    differing = [i for i, (*_, digest) in new.services.items()
                 if i in services and services[i].content_hash != digest]
    documents: dict[str, Mapping[str, Any]] = {}
    for chunk in _chunks(differing):
        rows = await session.execute(
            select(ServiceDocumentRow.service_id, ServiceDocumentRow.document)
            .where(ServiceDocumentRow.service_id.in_(chunk))
        )
        documents.update(rows.tuples().all())
    organizations = {
        row.id: (Stored(row.content_hash), row.document)
        for row in (await session.execute(
            select(OrganizationRow.id, OrganizationRow.content_hash, OrganizationRow.document)
        )).all()
    }
    regions = {
        row.id: (row.parent_id, row.name, row.position)
        for row in (await session.execute(
            select(RegionRow.id, RegionRow.parent_id, RegionRow.name, RegionRow.position)
        )).all()
    }
    return Snapshot(services, organizations, regions, documents)


@dataclass(frozen=True, slots=True)
class ImportResult:
    diff: CatalogDiff
    revision_id: int | None
    content_hash: str


async def import_catalog(
    session: AsyncSession, catalog: Catalog, *, source: str, dry_run: bool = False
) -> ImportResult:
    """Diff against the database and, unless dry-run, apply it. The caller commits."""
    prepared = prepare(catalog)
    changes = diff(await load_snapshot(session, prepared), prepared)
    if dry_run:
        return ImportResult(changes, None, prepared.content_hash)
    now = datetime.now(UTC)
    await _write_regions(session, prepared, changes)
    await _write_organizations(session, prepared, changes)
    await _write_services(session, prepared, changes, now)
    revision = CatalogRevisionRow(
        content_hash=prepared.content_hash, imported_at=now, source=source[:500],
        counts={**changes.counts(), "services": len(prepared.services)},
    )
    session.add(revision)
    await session.flush()
    return ImportResult(changes, revision.id, prepared.content_hash)


async def _write_regions(session: AsyncSession, new: Prepared, changes: CatalogDiff) -> None:
    rows = [{"id": i, "parent_id": p, "name": dict(n), "position": pos}
            for i, (p, n, pos) in new.regions.items()]
    # parents before districts, so the foreign key holds at every insert
    added = set(changes.regions_added)
    inserts = sorted((r for r in rows if r["id"] in added),
                     key=lambda r: r["parent_id"] is not None)
    if inserts:
        await session.execute(insert(RegionRow), inserts)
    for row in rows:
        if row["id"] in changes.regions_changed:
            await session.execute(update(RegionRow).where(RegionRow.id == row["id"]).values(**row))


async def _write_organizations(session: AsyncSession, new: Prepared, changes: CatalogDiff) -> None:
    def row(ident: str) -> dict[str, Any]:
        organization, document, digest = new.organizations[ident]
        return {"id": ident, "type": organization.type, "name": dict(organization.name),
                "document": document, "content_hash": digest}

    if changes.organizations_added:
        await session.execute(insert(OrganizationRow),
                              [row(i) for i in changes.organizations_added])
    for change in changes.organizations_changed:
        values = row(change.id)
        await session.execute(
            update(OrganizationRow).where(OrganizationRow.id == change.id).values(**values)
        )


def _service_row(service: Service, digest: str) -> dict[str, Any]:
    return {
        "id": service.id, "organization_id": service.organization, "category": service.category,
        "status": service.status, "national": service.national, "emergency": service.emergency,
        "accepts_referrals": service.accepts_referrals, "name": dict(service.name),
        "summary": dict(service.summary), "last_verified": service.last_verified,
        "content_hash": digest,
    }


async def _write_services(
    session: AsyncSession, new: Prepared, changes: CatalogDiff, now: datetime
) -> None:
    for chunk in _chunks(changes.added):
        rows = [{**_service_row(new.services[i][0], new.services[i][2]),
                 "created_at": now, "updated_at": now} for i in chunk]
        await session.execute(insert(ServiceRow), rows)
        await session.execute(insert(ServiceDocumentRow),
                              [{"service_id": i, "document": new.services[i][1]} for i in chunk])
    changed = [c.id for c in changes.changed]
    for ident in changed:
        service, document, digest = new.services[ident]
        values = {**_service_row(service, digest), "updated_at": now}
        await session.execute(update(ServiceRow).where(ServiceRow.id == ident).values(**values))
        await session.execute(update(ServiceDocumentRow)
                              .where(ServiceDocumentRow.service_id == ident)
                              .values(document=document))
    for chunk in _chunks(list(changes.removed)):
        await session.execute(update(ServiceRow).where(ServiceRow.id.in_(chunk))
                              .values(status="inactive", updated_at=now))
    for chunk in _chunks(changed):
        await session.execute(delete(ServiceAreaRow).where(ServiceAreaRow.service_id.in_(chunk)))
    areas = [{"service_id": i, "area_id": area, "category": new.services[i][0].category}
             for i in [*changes.added, *changed] for area in _areas(new.services[i][0])]
    for chunk in _chunks(areas):
        await session.execute(insert(ServiceAreaRow), chunk)


def _areas(service: Service) -> list[str]:
    return [NATIONAL_AREA] if service.national else sorted(service.area_ids())


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
