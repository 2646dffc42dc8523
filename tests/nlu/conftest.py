"""One trained model for the whole NLU test session (training takes seconds)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.nlu_setup import NLU_DATA, CatalogIndex, region_variants
from nlu.data import load
from nlu.engine import EmbeddedParser, Embedder, Model, load_or_train
from nlu.matcher import RegionGazetteer, ServiceMatcher
from services_catalog import files
from services_catalog.repository import service_terms
from services_catalog.validation import Rules
from tests.conftest import PROJECT


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def model(nlu_cache: Path, embedder: Embedder) -> Model:
    return load_or_train(NLU_DATA, nlu_cache, embedder)


@pytest.fixture(scope="session")
def catalog_index() -> CatalogIndex:
    report = files.load(PROJECT / "services_catalog" / "data", Rules(today=date(2026, 11, 22)))
    assert report.catalog is not None
    terms = [t for s in report.catalog.services if s.status == "active"
             for t in service_terms(s.id, s.category, s.model_dump(mode="json"))]
    return CatalogIndex(tuple(terms), report.catalog.regions)


@pytest.fixture(scope="session")
def parser(model: Model, embedder: Embedder, catalog_index: CatalogIndex) -> EmbeddedParser:
    gazetteer = RegionGazetteer(catalog_index.regions, region_variants(load(NLU_DATA)))
    return EmbeddedParser(model, embedder, ServiceMatcher(catalog_index.terms), gazetteer)
