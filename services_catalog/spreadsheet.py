"""The catalogue as flat tables, for admins who edit it in a spreadsheet.

One table per sheet (xlsx) or file (csv). Multilingual texts take one column per language
(`name_en`, `name_fr`, ...), lists are joined with "; ", opening hours read like
"mo-fr 08:00-12:30; sa 09:00-12:00". `to_tables` and `to_records` are pure inverses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from services_catalog.multilingual import LANGUAGES
from services_catalog.records import Issue, Origin, Path, RawRecord
from services_catalog.records import Kind as RecordKind
from services_catalog.schema import DAYS, Catalog

Kind = Literal["str", "list", "hours", "text", "keywords"]
LIST_SEPARATOR = "; "


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    path: Path
    kind: Kind = "str"


def _columns(spec: Iterable[tuple[str, Path, Kind]]) -> tuple[Column, ...]:
    columns: list[Column] = []
    for header, path, kind in spec:
        if kind in ("text", "keywords"):
            columns += [Column(f"{header}_{lang}", (*path, lang), kind) for lang in LANGUAGES]
        else:
            columns.append(Column(header, path, kind))
    return tuple(columns)


def _text(name: str, *path: str | int) -> tuple[str, Path, Kind]:
    return (name, path or (name,), "text")


def _plain(name: str, *path: str | int, kind: Kind = "str") -> tuple[str, Path, Kind]:
    return (name, path or (name,), kind)


TABLES: dict[str, tuple[Column, ...]] = {
    "regions": _columns([_plain("id"), _plain("parent"), _text("name")]),
    "organizations": _columns([
        _plain("id"), _plain("type"), _text("name"), _text("description"),
        _plain("email"), _plain("phone"), _plain("website"),
    ]),
    "services": _columns([
        _plain("id"), _plain("organization"), _plain("category"), _plain("status"),
        _text("name"), _text("summary"), _text("description"),
        _text("eligibility_description", "eligibility", "description"),
        _plain("eligibility_audience", "eligibility", "audience"),
        _plain("eligibility_minimum_age", "eligibility", "minimum_age"),
        _plain("eligibility_maximum_age", "eligibility", "maximum_age"),
        _plain("eligibility_vulnerabilities", "eligibility", "vulnerabilities", kind="list"),
        _plain("fees_free", "fees", "free"),
        _plain("fees_amount", "fees", "amount"),
        _plain("fees_currency", "fees", "currency"),
        _text("fees_notes", "fees", "notes"),
        _text("processing_time"),
        _plain("languages", kind="list"),
        _plain("national"), _plain("accepts_referrals"), _plain("emergency"),
        _text("focal_point_role", "focal_point", "role"),
        _plain("focal_point_name", "focal_point", "name"),
        _plain("focal_point_availability", "focal_point", "availability", kind="hours"),
        _plain("focal_point_response_time_hours", "focal_point", "response_time_hours"),
        _plain("focal_point_phone", "focal_point", "phone"),
        _plain("focal_point_email", "focal_point", "email"),
        _plain("last_verified"), _plain("verified_by"),
        ("keywords", ("keywords",), "keywords"), ("synonyms", ("synonyms",), "keywords"),
    ]),
    "documents": _columns([
        _plain("service_id", "#service"), _text("name"), _text("notes"), _plain("obtained_from"),
    ]),
    "steps": _columns([_plain("service_id", "#service"), ("text", (), "text")]),
    "locations": _columns([
        _plain("service_id", "#service"), _text("name"), _text("address"), _plain("region"),
        _plain("district"), _plain("opening_hours", kind="hours"), _plain("phone"),
        _plain("email"),
    ]),
}
CHILD_TABLES: tuple[str, ...] = ("documents", "steps", "locations")


@dataclass(slots=True)
class Table:
    """A sheet as read: its source name, header row and data rows (1-based row numbers)."""

    source: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


# ---------------------------------------------------------------- opening hours as text

_HOURS = re.compile(r"^\s*([a-z,\- ]+?)\s+(\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}(?:\s*,\s*\d{1,2}:\d{2}"
                    r"\s*-\s*\d{1,2}:\d{2})*)\s*$")


def format_hours(rows: Sequence[dict[str, Any]]) -> str:
    parts = []
    for row in rows:
        parts.append(f"{_format_days(row['byday'])} {row['opens_at']}-{row['closes_at']}")
    return LIST_SEPARATOR.join(parts)


def _format_days(days: Sequence[str]) -> str:
    indexes = [DAYS.index(day) for day in days]
    consecutive = indexes == list(range(indexes[0], indexes[0] + len(indexes)))
    if len(indexes) > 2 and consecutive:
        return f"{days[0]}-{days[-1]}"
    return ",".join(days)


def parse_hours(text: str) -> list[dict[str, Any]]:
    """'mo-fr 08:00-12:00, 14:00-17:00; sa 09:00-12:00' -> schedule rows."""
    rows: list[dict[str, Any]] = []
    for part in filter(None, (p.strip() for p in text.lower().split(";"))):
        match = _HOURS.match(part)
        if not match:
            raise ValueError(f"cannot read opening hours '{part}' (expected e.g. "
                             "'mo-fr 08:00-12:30; sa 09:00-12:00')")
        days = _parse_days(match.group(1))
        for span in match.group(2).split(","):
            opens, closes = (t.strip() for t in span.split("-"))
            rows.append({"byday": days, "opens_at": opens, "closes_at": closes})
    return rows


def _parse_days(text: str) -> list[str]:
    days: list[str] = []
    for item in filter(None, (i.strip() for i in text.split(","))):
        first, _, last = (x.strip() for x in item.partition("-"))
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"unknown day in '{item}' (days are {', '.join(DAYS)})")
        end = DAYS.index(last) if last else DAYS.index(first)
        days += DAYS[DAYS.index(first): end + 1]
    return days


# ---------------------------------------------------------------- catalogue -> tables

def to_tables(catalog: Catalog) -> dict[str, list[list[Any]]]:
    """Rows (header first) for every table."""
    dumped = catalog.model_dump(mode="json", exclude_none=True)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for region in dumped["regions"]:
        rows["regions"].append({"id": region["id"], "name": region["name"]})
        for district in region.get("districts", []):
            rows["regions"].append({**district, "parent": region["id"]})
    rows["organizations"] = dumped["organizations"]
    for service in dumped["services"]:
        rows["services"].append(service)
        link = {"#service": service["id"]}
        rows["documents"] += [{**link, **doc} for doc in service.get("documents", [])]
        rows["steps"] += [{**link, **step} for step in service.get("steps", [])]
        rows["locations"] += [{**link, **loc} for loc in service.get("locations", [])]
    return {
        name: [[c.header for c in columns], *([_cell(r, c) for c in columns] for r in rows[name])]
        for name, columns in TABLES.items()
    }


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _cell(row: dict[str, Any], column: Column) -> Any:
    value = _get(row, column.path)
    if value is None:
        return ""
    if column.kind in ("list", "keywords"):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if column.kind == "hours":
        return format_hours(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


# ---------------------------------------------------------------- tables -> records

@dataclass(slots=True)
class _Row:
    data: dict[str, Any]
    line: int
    positions: dict[Path, tuple[int, int]]
    sources: dict[Path, str] = field(default_factory=dict)

    def record(self, kind: RecordKind, source: str, index: int) -> RawRecord:
        base: Path = (kind, index)
        origin = Origin(source,
                        {(*base, *path): where for path, where in self.positions.items()},
                        {(*base, *path): name for path, name in self.sources.items()})
        return RawRecord(kind, self.data, origin, base)


def to_records(tables: dict[str, Table]) -> tuple[list[RawRecord], list[Issue]]:
    """Rebuild raw records from tables; positions point at sheet:row:column."""
    issues: list[Issue] = []
    usable = {name: table for name, table in tables.items() if _check_header(name, table, issues)}
    records: list[RawRecord] = []
    if "regions" in usable:
        table = usable["regions"]
        regions = _regions(table, issues)
        records += [row.record("regions", table.source, i) for i, row in enumerate(regions)]
    if "organizations" in usable:
        table = usable["organizations"]
        rows = _rows("organizations", table, issues)
        records += [row.record("organizations", table.source, i) for i, row in enumerate(rows)]
    if "services" in usable:
        table = usable["services"]
        services = {str(row.data.get("id", f"#{i}")): row
                    for i, row in enumerate(_rows("services", table, issues))}
        for child in CHILD_TABLES:
            if child in usable:
                _attach(child, usable[child], services, issues)
        records += [row.record("services", table.source, i)
                    for i, row in enumerate(services.values())]
    return records, issues


def _check_header(name: str, table: Table, issues: list[Issue]) -> bool:
    expected = [c.header for c in TABLES[name]]
    header = [str(h or "").strip() for h in table.header]
    unknown = [(i, h) for i, h in enumerate(header) if h and h not in expected]
    missing = [h for h in expected if h not in header]
    for index, head in unknown:
        issues.append(Issue("error", table.source, 1, index + 1, "", f"unknown column '{head}'"))
    if missing:
        issues.append(Issue("error", table.source, 1, 1, "",
                            f"missing column(s): {', '.join(missing)}"))
    return not unknown and not missing


def _rows(name: str, table: Table, issues: list[Issue]) -> list[_Row]:
    index = {str(h).strip(): i for i, h in enumerate(table.header)}
    rows = []
    for line, cells in table.rows:
        row = _Row({}, line, {(): (line, 1)})
        for column in TABLES[name]:
            col = index[column.header]
            value = _clean(cells[col] if col < len(cells) else None)
            row.positions[column.path] = (line, col + 1)
            if value is None:
                continue
            try:
                _put(row.data, column.path, _decode(value, column))
            except ValueError as error:
                issues.append(Issue("error", table.source, line, col + 1, column.header,
                                    str(error)))
        rows.append(row)
    return rows


def _clean(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _decode(value: Any, column: Column) -> Any:
    if column.kind in ("list", "keywords"):
        return [v.strip() for v in str(value).split(";") if v.strip()]
    if column.kind == "hours":
        return parse_hours(str(value))
    if isinstance(value, date):
        return value.isoformat()
    return value


def _put(data: dict[str, Any], path: Path, value: Any) -> None:
    *parents, last = path
    for part in parents:
        data = data.setdefault(str(part), {})
    data[str(last)] = value


def _regions(table: Table, issues: list[Issue]) -> list[_Row]:
    rows = _rows("regions", table, issues)
    regions = {str(row.data.get("id")): row for row in rows if "parent" not in row.data}
    for row in rows:
        parent = row.data.pop("parent", None)
        if parent is None:
            continue
        owner = regions.get(str(parent))
        if owner is None:
            issues.append(Issue("error", table.source, row.line, row.positions[("parent",)][1],
                                "parent", f"unknown parent region '{parent}'"))
            continue
        districts = owner.data.setdefault("districts", [])
        _adopt(owner, row, ("districts", len(districts)), table.source)
        districts.append(row.data)
    return list(regions.values())


def _attach(name: str, table: Table, services: dict[str, _Row], issues: list[Issue]) -> None:
    for row in _rows(name, table, issues):
        service_id = str(row.data.pop("#service", "") or "")
        owner = services.get(service_id)
        if owner is None:
            message = f"unknown service '{service_id}'" if service_id else "service_id is empty"
            issues.append(Issue("error", table.source, row.line, 1, "service_id", message))
            continue
        items = owner.data.setdefault(name, [])
        _adopt(owner, row, (name, len(items)), table.source)
        items.append(row.data)


def _adopt(owner: _Row, child: _Row, base: Path, source: str) -> None:
    """Make a child row part of its owner's record, keeping the child's positions."""
    for path, where in child.positions.items():
        owner.positions[(*base, *path)] = where
    owner.sources[base] = source
