"""docs/data-protection.md is the record of processing: every table must be in it, and a
table with columns that look personal must be marked as holding personal data."""

from __future__ import annotations

import re

import pytest

import bot.models_registry  # noqa: F401  (registers every table)
from bot.settings import Settings
from services_catalog.db import Base
from tests.conftest import PROJECT

DOC = PROJECT / "docs" / "data-protection.md"
# `| `table` | yes | …`: a row of the records table, with its "Personal data" marker.
ROW = re.compile(r"^\|\s*`(?P<table>[a-z_][a-z0-9_]*)`\s*\|\s*(?P<personal>[^|]*?)\s*\|")

# Column names that suggest personal data, as substrings.
PERSONAL_HINTS = ("chat_id", "telegram", "user_id", "pseudonym", "shared", "state",
                  "description", "note", "name", "username", "phone", "email", "address",
                  "birth", "message")
# Columns that match a hint but hold no personal data; adding one is a deliberate choice.
NOT_PERSONAL = {
    ("catalog_regions", "name"): "a region's name",
    ("catalog_organizations", "name"): "an organisation's name",
    ("catalog_services", "name"): "a service's name",
}


def _records() -> dict[str, str]:
    """Table name -> its "Personal data" cell, from the header row's column order."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| Table |"))
    assert [c.strip() for c in header.strip("|").split("|")][:2] == ["Table", "Personal data"]
    records: dict[str, str] = {}
    for line in lines:
        match = ROW.match(line)
        if match:
            assert match["table"] not in records, f"{match['table']} is listed twice"
            records[match["table"]] = match["personal"]
    return records


def test_every_table_is_in_the_records_of_processing() -> None:
    records = _records()
    tables = set(Base.metadata.tables)
    missing = sorted(tables - set(records))
    assert not missing, f"add these tables to {DOC.name}: {', '.join(missing)}"
    stale = sorted(set(records) - tables)
    assert not stale, f"{DOC.name} lists tables that do not exist: {', '.join(stale)}"


def test_each_record_says_yes_or_no() -> None:
    assert {name: value for name, value in _records().items() if value not in ("yes", "no")} \
        == {}


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_personal_looking_columns_are_in_tables_marked_personal(table: str) -> None:
    if _records().get(table) == "yes":
        return
    suspicious = [column.name for column in Base.metadata.tables[table].columns
                  if any(hint in column.name for hint in PERSONAL_HINTS)
                  and (table, column.name) not in NOT_PERSONAL]
    assert not suspicious, (f"{table}.{', '.join(suspicious)} look personal: mark {table} "
                            f"'yes' in {DOC.name}, or explain why not in NOT_PERSONAL")


def test_exemptions_name_real_columns() -> None:
    for table, column in NOT_PERSONAL:
        assert column in Base.metadata.tables[table].columns, (table, column)


def test_the_retention_settings_are_named() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("session_minutes", "profile_retention_days", "ticket_retention_days"):
        assert name in Settings.model_fields
        assert f"`{name.upper()}`" in text, name
