from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot import database
from services_catalog.db import Base, create_engine


def _inspect(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()
    return asyncio.run(run())


def test_migrations_create_exactly_the_models_and_downgrade_cleanly(empty_database: str) -> None:
    database_url = empty_database
    database.upgrade(database_url)

    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    assert _inspect(database_url, differences) == []
    database.downgrade(database_url, "base")

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    assert _inspect(database_url, tables) <= {"alembic_version"}
    database.upgrade(database_url)  # and up again


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"

    def pragmas(connection: Connection) -> tuple[Any, ...]:
        return tuple(connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                     for name in ("journal_mode", "busy_timeout", "foreign_keys"))

    assert _inspect(url, pragmas) == ("wal", 5000, 1)
