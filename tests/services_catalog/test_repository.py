from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services_catalog import repository, synthetic
from services_catalog.importer import import_catalog
from services_catalog.multilingual import FallbackChain
from services_catalog.validation import Rules
from tests.services_catalog.helpers import check

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def loaded(tmp_path: Path, rules: Rules, sessions: Sessions) -> Sessions:
    document = synthetic.catalog(44, regions=4)
    hotline = synthetic.service("hotline", category="safety", national=True, emergency=True,
                                locations=[])
    hotline["focal_point"]["phone"] = "+000 117"
    suspended = synthetic.service("paused", category="health", status="suspended")
    document["services"] += [hotline, suspended]
    report = check(tmp_path, document, rules)
    assert report.catalog is not None, str(report)
    async with sessions() as session, session.begin():
        await import_catalog(session, report.catalog, source="test")
    return sessions


async def test_category_and_region_filter_includes_national_services(loaded: Sessions) -> None:
    async with loaded() as session:
        safety_r1 = await repository.list_services(session=session, category="safety", region="R1")
        everything_r1 = await repository.list_services(session=session, region="R1")
    # services n with n % 11 == 8 are safety; n % 4 == 0 are in R1
    expected = {f"svc-{n:05d}" for n in range(44) if n % 11 == 8 and n % 4 == 0}
    assert {s.id for s in safety_r1} == expected | {"hotline"}
    assert len(everything_r1) == 11 + 1
    assert all(s.status == "active" for s in everything_r1)


async def test_a_district_code_filters_by_district(loaded: Sessions) -> None:
    async with loaded() as session:
        by_region = await repository.list_services(session=session, region="R2")
        in_district = await repository.list_services(session=session, region="R2-D1")
        empty_district = await repository.list_services(session=session, region="R2-D2")
    # synthetic services sit in district D1 of their region
    assert in_district == by_region and len(by_region) == 12
    assert [s.id for s in empty_district] == ["hotline"]


async def test_suspended_services_are_hidden_unless_asked(loaded: Sessions) -> None:
    async with loaded() as session:
        default = await repository.list_services(session=session, category="health")
        all_statuses = await repository.list_services(
            session=session, category="health", statuses=("active", "suspended"))
    assert "paused" not in {s.id for s in default}
    assert "paused" in {s.id for s in all_statuses}


async def test_emergency_services_and_paging(loaded: Sessions) -> None:
    async with loaded() as session:
        emergency = await repository.list_services(session=session, emergency=True)
        page1 = await repository.list_services(session=session, limit=10)
        page2 = await repository.list_services(session=session, limit=10, offset=10)
    assert [s.id for s in emergency] == ["hotline"]
    assert len(page1) == len(page2) == 10 and not {s.id for s in page1} & {s.id for s in page2}


async def test_views_are_immutable_and_typed(loaded: Sessions) -> None:
    async with loaded() as session:
        service = await repository.get_service(session=session, service_id="svc-00003")
        missing = await repository.get_service(session=session, service_id="nope")
    assert missing is None and service is not None
    with pytest.raises(ValidationError):
        service.category = "health"  # type: ignore[misc]
    assert service.locations[0].opening_hours[0].opens_at.hour == 8
    assert service.last_verified.isoformat() == "2026-10-01"


async def test_regions_and_search_terms(loaded: Sessions) -> None:
    async with loaded() as session:
        regions = await repository.list_regions(session=session)
        terms = await repository.search_terms(session=session)
    assert [r.id for r in regions] == ["R1", "R2", "R3", "R4"]
    assert [d.id for d in regions[0].districts] == ["R1-D1", "R1-D2"]
    mine = {(t.language, t.term, t.kind) for t in terms if t.service_id == "svc-00001"}
    assert ("ar", "كلمة svc-00001", "keyword") in mine
    assert ("fr", "Service svc-00001 (fr)", "name") in mine
    assert not any(t.service_id == "paused" for t in terms)


async def test_summary_counts(loaded: Sessions) -> None:
    async with loaded() as session:
        summary = await repository.summarize(session=session)
    assert summary.services == 46 and summary.active == 45
    assert summary.regions == 4 and summary.organizations == 10
    assert summary.revision is not None and summary.revision.counts["added"] == 46


def test_fallback_chain_says_when_a_fallback_was_used() -> None:
    chain = FallbackChain("en", {"ar": ["fr", "en"]})
    text = {"en": "Birth certificate", "fr": "Acte de naissance"}
    resolved = chain.resolve(text, "ar")
    assert resolved is not None
    assert (resolved.text, resolved.language, resolved.is_fallback) == (
        "Acte de naissance", "fr", True)
    exact = chain.resolve(text, "en")
    assert exact is not None and not exact.is_fallback
    assert chain.resolve({}, "en") is None
    assert chain.order("ar") == ("ar", "fr", "en")
