"""One trained model for the whole NLU test session (training takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu_setup import NLU_DATA, CatalogIndex, catalog_index_from_files
from nlu.data import load
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, load_or_train
from nlu.matcher import RegionGazetteer, ServiceMatcher
from nlu.model import Model
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
    return catalog_index_from_files(PROJECT / "services_catalog" / "data")


@pytest.fixture(scope="session")
def parser(model: Model, embedder: Embedder, catalog_index: CatalogIndex) -> EmbeddedParser:
    gazetteer = RegionGazetteer(catalog_index.regions, load(NLU_DATA).synonyms)
    return EmbeddedParser(model, embedder, ServiceMatcher(catalog_index.terms), gazetteer)
