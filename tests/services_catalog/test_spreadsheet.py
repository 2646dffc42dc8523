from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services_catalog import files, hsds, repository, spreadsheet, synthetic
from services_catalog.errors import InputError
from services_catalog.importer import import_catalog
from services_catalog.multilingual import FallbackChain
from services_catalog.schema import Catalog
from services_catalog.validation import Rules
from tests.services_catalog.helpers import check

Sessions = async_sessionmaker[AsyncSession]


def test_opening_hours_text_round_trip() -> None:
    rows = spreadsheet.parse_hours("mo-fr 08:00-12:30, 14:00-17:00; sa 09:00-12:00")
    assert rows == [
        {"byday": ["mo", "tu", "we", "th", "fr"], "opens_at": "08:00", "closes_at": "12:30"},
        {"byday": ["mo", "tu", "we", "th", "fr"], "opens_at": "14:00", "closes_at": "17:00"},
        {"byday": ["sa"], "opens_at": "09:00", "closes_at": "12:00"},
    ]
    assert spreadsheet.format_hours(rows) == (
        "mo-fr 08:00-12:30; mo-fr 14:00-17:00; sa 09:00-12:00")
    assert spreadsheet.parse_hours("mo,we 09:00-10:00") == [
        {"byday": ["mo", "we"], "opens_at": "09:00", "closes_at": "10:00"}]


@pytest.mark.parametrize("text", ["monday 08:00-12:00", "mo-xx 08:00-12:00", "mo 8h-12h"])
def test_unreadable_opening_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown day|cannot read opening hours"):
        spreadsheet.parse_hours(text)


@given(st.text())
def test_parse_hours_only_ever_raises_value_error(text: str) -> None:
    try:
        rows = spreadsheet.parse_hours(text)
    except ValueError as error:
        assert str(error)
    else:
        assert all(set(row) == {"byday", "opens_at", "closes_at"} for row in rows)


def _valid(tmp_path: Path, rules: Rules, services: int = 12) -> Catalog:
    report = check(tmp_path, synthetic.catalog(services), rules)
    assert report.catalog is not None, str(report)
    return report.catalog


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "yaml"])
def test_export_then_read_back_gives_the_same_catalogue(
    tmp_path: Path, rules: Rules, fmt: str
) -> None:
    original = _valid(tmp_path, rules)
    target = tmp_path / ("out.xlsx" if fmt == "xlsx" else "out")
    {"xlsx": files.write_xlsx, "csv": files.write_csv_folder,
     "yaml": files.write_yaml_folder}[fmt](original, target)
    report = files.load(target, rules)
    assert report.ok, str(report)
    assert report.catalog == original


async def test_yaml_to_database_to_xlsx_to_database_reports_no_changes(
    tmp_path: Path, rules: Rules, sessions: Sessions
) -> None:
    async with sessions() as session, session.begin():
        await import_catalog(session, _valid(tmp_path, rules, 20), source="yaml")
    async with sessions() as session:
        stored = await repository.export_catalog(session=session)
    workbook = tmp_path / "catalog.xlsx"
    files.write_xlsx(stored, workbook)
    report = files.load(workbook, rules)
    assert report.catalog is not None, str(report)
    async with sessions() as session, session.begin():
        again = await import_catalog(session, report.catalog, source=str(workbook))
    assert again.diff.empty, again.diff.render()


def test_an_edited_workbook_is_imported_with_its_edit(tmp_path: Path, rules: Rules) -> None:
    workbook_path = tmp_path / "c.xlsx"
    files.write_xlsx(_valid(tmp_path, rules, 3), workbook_path)
    workbook = load_workbook(workbook_path)
    sheet = workbook["services"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("name_fr") + 1, value="Nouveau nom")
    sheet.cell(row=2, column=header.index("fees_free") + 1, value="no")
    sheet.cell(row=2, column=header.index("fees_amount") + 1, value=1500)
    sheet.cell(row=2, column=header.index("fees_currency") + 1, value="XOF")
    workbook.save(workbook_path)
    report = files.load(workbook_path, rules)
    assert report.catalog is not None, str(report)
    first = report.catalog.services[0]
    assert first.name["fr"] == "Nouveau nom" and first.fees.amount == 1500


def _edit_csv(path: Path, edit: Callable[[list[list[str]]], object]) -> list[list[str]]:
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    edit(rows)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return rows


def test_renamed_columns_name_the_sheet_and_column(tmp_path: Path, rules: Rules) -> None:
    folder = tmp_path / "csv"
    files.write_csv_folder(_valid(tmp_path, rules, 2), folder)
    path = folder / "services.csv"
    rows = _edit_csv(path, lambda rows: rows[0].__setitem__(rows[0].index("name_fr"), "nom_fr"))
    report = files.load(folder, rules)
    messages = [str(e) for e in report.errors]
    column = rows[0].index("nom_fr") + 1
    assert f"{path}:1:{column}: error: unknown column 'nom_fr'" in messages
    assert f"{path}:1:1: error: missing column(s): name_fr" in messages


def test_bad_cells_and_orphan_rows_name_the_row(tmp_path: Path, rules: Rules) -> None:
    folder = tmp_path / "csv"
    files.write_csv_folder(_valid(tmp_path, rules, 2), folder)
    locations, steps = folder / "locations.csv", folder / "steps.csv"

    def break_locations(rows: list[list[str]]) -> None:
        rows[1][rows[0].index("opening_hours")] = "every day 8-5"
        rows.append(["no-such-service"] + [""] * (len(rows[0]) - 1))

    rows = _edit_csv(locations, break_locations)
    _edit_csv(steps, lambda rows: rows[1].__setitem__(rows[0].index("text_ar"), ""))
    report = files.load(folder, rules)
    found = {(e.source, e.line, e.path) for e in report.errors}
    assert (str(locations), 2, "opening_hours") in found
    assert (str(locations), len(rows), "service_id") in found
    assert (str(steps), 2, "services[0].steps[0]") in found, str(report)


def test_not_a_workbook_is_a_clear_error(tmp_path: Path, rules: Rules) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(InputError, match="not a readable XLSX workbook"):
        files.load(path, rules)


def test_hsds_export_has_the_hsds_shape(tmp_path: Path, rules: Rules) -> None:
    document = hsds.export(_valid(tmp_path, rules, 2), language="fr", chain=FallbackChain("en"))
    json.dumps(document)
    service = document["services"][0]
    assert document["hsds_version"] == "3.0"
    assert service["name"] == "Service svc-00000 (fr)"
    assert service["status"] == "active"
    assert service["assured_date"] == "2026-10-01"
    schedule = service["service_at_locations"][0]["schedules"][0]
    assert schedule == {"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR",
                        "opens_at": "08:00", "closes_at": "16:00"}
    assert service["contacts"][0]["x_response_time_hours"] == 48
    assert service["required_documents"][0]["document"] == "Identity card (fr)"
