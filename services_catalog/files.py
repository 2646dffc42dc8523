"""Reading and writing catalogue files: YAML files or folders, XLSX workbooks, CSV folders."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

from services_catalog import spreadsheet, yaml_format
from services_catalog.errors import InputError
from services_catalog.records import Issue, IssueError, Origin, RawRecord, split_document
from services_catalog.schema import Catalog
from services_catalog.validation import Rules, ValidationReport, validate

MAX_FILE_BYTES = 64 * 1024 * 1024
YAML_SUFFIXES = (".yml", ".yaml")


def load(path: Path, rules: Rules) -> ValidationReport:
    """Read and validate a catalogue from a YAML file or folder, an XLSX or a CSV folder."""
    records, issues = read_records(path)
    return validate(records, rules, issues)


def read_records(path: Path) -> tuple[list[RawRecord], list[Issue]]:
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "services.csv").exists():
            return spreadsheet.to_records(_read_csv_folder(path))
        files = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES)
        if not files:
            raise InputError(f"{path}: no .yml files and no services.csv in this folder")
        return _read_yaml_files(files)
    if path.suffix in YAML_SUFFIXES:
        return _read_yaml_files([path])
    if path.suffix == ".xlsx":
        return spreadsheet.to_records(_read_xlsx(path))
    raise InputError(f"{path}: unsupported file type (use .yml, .xlsx or a folder of .csv files)")


def _read_yaml_files(files: list[Path]) -> tuple[list[RawRecord], list[Issue]]:
    records: list[RawRecord] = []
    issues: list[Issue] = []
    for file in files:
        try:
            data, positions = yaml_format.reads(read_text(file), str(file))
        except IssueError as error:
            issues.append(error.issue)
            continue
        found, problems = split_document(data, Origin(str(file), positions))
        records += found
        issues += problems
    return records, issues


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise IssueError(Issue("error", str(path), 1, 1, "",
                               f"file is {size} bytes, over the limit of {MAX_FILE_BYTES}"))
    return path.read_bytes()


def read_text(path: Path) -> str:
    """UTF-8 text (a BOM is allowed); CRLF line endings become LF."""
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise IssueError(Issue("error", str(path), line, column, "",
                               f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); "
                               "save the file as UTF-8")) from None
    return text.replace("\r\n", "\n")


def _read_xlsx(path: Path) -> dict[str, spreadsheet.Table]:
    from openpyxl import load_workbook  # 11 MB, imported only for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        _read_bytes(path)
        workbook = load_workbook(path, read_only=True, data_only=True)
    except IssueError as error:
        raise InputError(str(error.issue)) from None
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise InputError(f"{path}: error: not a readable XLSX workbook ({error})") from None
    tables: dict[str, spreadsheet.Table] = {}
    try:
        for name in spreadsheet.TABLES:
            if name not in workbook.sheetnames:
                raise InputError(f"{path}: error: the workbook has no sheet '{name}'")
            rows = workbook[name].iter_rows(values_only=True)
            header = list(next(rows, ()))
            table = spreadsheet.Table(f"{path}[{name}]", [str(h or "") for h in header])
            for number, row in enumerate(rows, start=2):
                if any(cell not in (None, "") for cell in row):
                    table.rows.append((number, list(row)))
            tables[name] = table
    finally:
        workbook.close()
    return tables


def _read_csv_folder(folder: Path) -> dict[str, spreadsheet.Table]:
    tables: dict[str, spreadsheet.Table] = {}
    for name in spreadsheet.TABLES:
        file = folder / f"{name}.csv"
        if not file.exists():
            raise InputError(f"{folder}: error: missing {name}.csv")
        try:
            reader = csv.reader(io.StringIO(read_text(file), newline=""))
            header = next(reader, [])
            table = spreadsheet.Table(str(file), header)
            for number, row in enumerate(reader, start=2):
                if any(cell.strip() for cell in row):
                    table.rows.append((number, list(row)))
        except IssueError as error:
            raise InputError(str(error.issue)) from None
        except csv.Error as error:
            raise InputError(f"{file}: error: not a readable CSV file ({error})") from None
        tables[name] = table
    return tables


def write_xlsx(catalog: Catalog, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in spreadsheet.to_tables(catalog).items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([_excel_cell(cell) for cell in row])
        sheet.freeze_panes = "B2"
    workbook.save(path)


def _excel_cell(value: object) -> object:
    # Strings stay strings: Excel must not turn "08:00" or "+000 1234" into numbers.
    return value.isoformat() if isinstance(value, date) else value


def write_csv_folder(catalog: Catalog, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in spreadsheet.to_tables(catalog).items():
        # utf-8-sig: Excel opens UTF-8 correctly only with a BOM.
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)


def write_yaml_folder(catalog: Catalog, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for section in ("regions", "organizations", "services"):
        (folder / f"{section}.yml").write_text(
            yaml_format.dumps(catalog, [section]), encoding="utf-8"
        )
