"""The bundled demonstration catalogue meets the issue's bar and is clearly fictional."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from services_catalog import files
from services_catalog.schema import CATEGORIES, Catalog
from services_catalog.validation import Rules
from tests.conftest import PROJECT

DATA = PROJECT / "services_catalog" / "data"


@pytest.fixture(scope="module")
def sample() -> Catalog:
    report = files.load(DATA, Rules(today=date(2026, 11, 22)))
    assert report.ok and not report.warnings, str(report)
    assert report.catalog is not None
    return report.catalog


def test_size_and_coverage(sample: Catalog) -> None:
    assert len(sample.services) >= 40
    assert {s.category for s in sample.services} == set(CATEGORIES)
    assert len(sample.regions) >= 3
    for region in sample.regions:
        available = [s for s in sample.services if s.national or region.id in s.region_ids()]
        assert len(available) >= 10, region.id


def test_emergency_hotlines_for_safety_and_health(sample: Catalog) -> None:
    hotlines = {s.category for s in sample.services if s.emergency and s.status == "active"}
    assert {"safety", "health"} <= hotlines


def test_missing_documents_can_be_traced_to_the_issuing_service(sample: Catalog) -> None:
    ids = {s.id for s in sample.services}
    links = [d.obtained_from for s in sample.services for d in s.documents if d.obtained_from]
    assert len(links) >= 10 and set(links) <= ids
    assert {"birth-certificate-extract", "national-id-card"} <= set(links)


def test_every_contact_is_fictional(sample: Catalog) -> None:
    dumped = sample.model_dump(mode="json")
    text = repr(dumped)
    emails = re.findall(r"[\w.+-]+@[\w.-]+", text)
    assert emails and all(e.endswith("example.org") for e in emails)
    phones = re.findall(r"'phone': '([^']+)'", text)
    assert phones and all(p.startswith("+000") for p in phones)


def test_files_are_marked_as_demonstration_data() -> None:
    for path in sorted(Path(DATA).glob("*.yml")):
        head = path.read_text("utf-8")[:300]
        assert "DEMONSTRATION DATA" in head, path.name
