"""Shared fixtures: a real database per test (SQLite, or PostgreSQL via TEST_DATABASE_URL),
and one trained NLU model for the whole session (training takes seconds)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bot.models_registry  # noqa: F401
from bot.nlu_setup import NLU_DATA, CatalogIndex, catalog_index_from_files
from bot.settings import Settings
from nlu.data import load
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, load_or_train
from nlu.matcher import RegionGazetteer, ServiceMatcher
from nlu.model import Model
from services_catalog.db import Base, create_engine, session_factory
from services_catalog.validation import Rules

TODAY = date(2026, 11, 22)
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rules() -> Rules:
    return Rules(today=TODAY)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A database URL for one test: a fresh SQLite file, or the PostgreSQL test database."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def drop_everything(database_url: str) -> None:
    """Drop every table, including Alembic's version table (for migration and CLI tests)."""

    def drop(connection: Connection) -> None:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    async def run() -> None:
        engine = create_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(drop)
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """The test database with no tables at all; emptied again afterwards."""
    drop_everything(database_url)
    yield database_url
    drop_everything(database_url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return Settings(_env_file=None)

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
