"""Wiring the NLU: the trained model, the catalogue's terms and regions, the backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import PROJECT_ROOT, Settings
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, load_or_train
from nlu.matcher import RegionGazetteer, ServiceMatcher
from nlu.model import Model
from nlu.types import Parser
from services_catalog import files, repository
from services_catalog.errors import InputError
from services_catalog.repository import SearchTerm, service_terms
from services_catalog.schema import Region
from services_catalog.validation import Rules

NLU_DATA = PROJECT_ROOT / "nlu" / "data"
NLU_TESTS = PROJECT_ROOT / "nlu" / "tests"


@dataclass(frozen=True)
class CatalogIndex:
    """What the NLU needs from the catalogue."""

    terms: tuple[SearchTerm, ...]
    regions: tuple[Region, ...]


async def load_catalog_index(sessions: async_sessionmaker[AsyncSession]) -> CatalogIndex:
    async with sessions() as session:
        terms = await repository.search_terms(session=session)
        regions = await repository.list_regions(session=session)
    return CatalogIndex(tuple(terms), tuple(regions))


def catalog_index_from_files(path: Path) -> CatalogIndex:
    """The same index read from catalogue files (benchmarks, tests, no database)."""
    report = files.load(path, Rules(today=date.today(), max_age_days=100 * 365))
    if report.catalog is None:
        raise InputError(str(report))
    terms = [t for s in report.catalog.services if s.status == "active"
             for t in service_terms(s.id, s.category, s.model_dump(mode="json"))]
    return CatalogIndex(tuple(terms), report.catalog.regions)


def embedded_parser(
    settings: Settings, index: CatalogIndex, embedder: Embedder | None = None,
    model: Model | None = None,
) -> EmbeddedParser:
    embedder = embedder or Embedder()
    model = model or load_or_train(NLU_DATA, settings.nlu_cache_dir, embedder)
    # place-name spellings come from the training data's synonyms
    gazetteer = RegionGazetteer(index.regions, model.synonyms)
    return EmbeddedParser(model, embedder, ServiceMatcher(index.terms), gazetteer)


def build_parser(settings: Settings, index: CatalogIndex) -> Parser:
    """The configured backend; Rasa falls back to the embedded engine."""
    embedded = embedded_parser(settings, index)
    if settings.nlu_backend == "rasa":
        if not settings.rasa_url:
            raise InputError("NLU_BACKEND=rasa needs RASA_URL")
        from nlu.rasa_backend import RasaParser  # httpx (12 MB) only for this backend

        return RasaParser(settings.rasa_url, embedded)
    return embedded
