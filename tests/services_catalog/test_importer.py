from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services_catalog import repository, synthetic
from services_catalog.importer import ImportResult, import_catalog
from services_catalog.models import CatalogRevisionRow, ServiceRow
from services_catalog.schema import Catalog
from services_catalog.validation import Rules
from tests.services_catalog.helpers import check

Sessions = async_sessionmaker[AsyncSession]


def _catalog(tmp_path: Path, rules: Rules, document: dict[str, Any]) -> Catalog:
    report = check(tmp_path, document, rules)
    assert report.catalog is not None, str(report)
    return report.catalog


async def _import(sessions: Sessions, catalog: Catalog, dry_run: bool = False) -> ImportResult:
    async with sessions() as session, session.begin():
        return await import_catalog(session, catalog, source="test", dry_run=dry_run)


async def test_first_import_adds_everything_and_second_changes_nothing(
    tmp_path: Path, rules: Rules, sessions: Sessions
) -> None:
    catalog = _catalog(tmp_path, rules, synthetic.catalog(30))
    first = await _import(sessions, catalog)
    assert len(first.diff.added) == 30 and len(first.diff.organizations_added) == 10
    assert len(first.diff.regions_added) == 15  # 5 regions, 10 districts
    second = await _import(sessions, catalog)
    assert second.diff.empty and second.diff.render() == "No changes."
    assert second.content_hash == first.content_hash
    async with sessions() as session:
        revisions = (await session.scalars(select(CatalogRevisionRow))).all()
    assert [r.counts["added"] for r in revisions] == [30, 0]
    assert all(r.content_hash == first.content_hash for r in revisions)


async def test_dry_run_reports_the_diff_and_writes_nothing(
    tmp_path: Path, rules: Rules, sessions: Sessions
) -> None:
    result = await _import(sessions, _catalog(tmp_path, rules, synthetic.catalog(5)), dry_run=True)
    assert len(result.diff.added) == 5 and result.revision_id is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ServiceRow)) == 0
        assert await session.scalar(select(func.count()).select_from(CatalogRevisionRow)) == 0


async def test_changes_name_the_fields_and_removed_services_become_inactive(
    tmp_path: Path, rules: Rules, sessions: Sessions
) -> None:
    document = synthetic.catalog(6)
    await _import(sessions, _catalog(tmp_path, rules, document))
    document["services"][0]["fees"] = {"free": False, "amount": 500, "currency": "XOF"}
    document["services"][0]["steps"].append(synthetic.text("Wait for the call"))
    removed = document["services"].pop()
    result = await _import(sessions, _catalog(tmp_path, rules, document))
    assert [(c.id, c.fields) for c in result.diff.changed] == [("svc-00000", ("fees", "steps"))]
    assert result.diff.removed == (removed["id"],)
    assert f"- service {removed['id']} (becomes inactive)" in result.diff.render()
    async with sessions() as session:
        assert await repository.get_service_status(
            session=session, service_id=removed["id"]) == "inactive"
        listed = await repository.list_services(session=session)
        assert removed["id"] not in {s.id for s in listed}
        fees = (await repository.get_service(session=session, service_id="svc-00000")).fees  # type: ignore[union-attr]
        assert fees.amount == 500 and fees.currency == "XOF"
    # putting it back reactivates it, and a third run is quiet again
    document["services"].append(removed)
    back = await _import(sessions, _catalog(tmp_path, rules, document))
    assert [c.id for c in back.diff.changed] == [removed["id"]]
    assert (await _import(sessions, _catalog(tmp_path, rules, document))).diff.empty


async def test_a_failure_inside_the_transaction_leaves_nothing_behind(
    tmp_path: Path, rules: Rules, sessions: Sessions
) -> None:
    catalog = _catalog(tmp_path, rules, synthetic.catalog(8))
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await import_catalog(session, catalog, source="test")
            raise RuntimeError("power cut")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ServiceRow)) == 0
        assert await repository.latest_revision(session=session) is None
