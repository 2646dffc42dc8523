"""Schema and semantic validation of raw catalogue records. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from services_catalog.multilingual import LANGUAGES
from services_catalog.records import Issue, Path, RawRecord
from services_catalog.schema import Catalog, Organization, Region, Service

_MODELS: dict[str, type[BaseModel]] = {
    "regions": Region,
    "organizations": Organization,
    "services": Service,
}


@dataclass(frozen=True, slots=True)
class Rules:
    today: date
    required_languages: tuple[str, ...] = LANGUAGES
    max_age_days: int = 365


@dataclass(frozen=True, slots=True)
class ValidationReport:
    issues: tuple[Issue, ...]
    catalog: Catalog | None

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [str(issue) for issue in self.issues]
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


@dataclass(slots=True)
class _Parsed:
    record: RawRecord
    model: Any


@dataclass(slots=True)
class _Checker:
    rules: Rules
    issues: list[Issue] = field(default_factory=list)

    def error(self, record: RawRecord, sub: Path, message: str) -> None:
        self.issues.append(Issue.at(record.origin, (*record.path, *sub), message))

    def warning(self, record: RawRecord, sub: Path, message: str) -> None:
        self.issues.append(Issue.at(record.origin, (*record.path, *sub), message, "warning"))


def validate(
    records: Iterable[RawRecord], rules: Rules, issues: Sequence[Issue] = ()
) -> ValidationReport:
    """Check every record; report every issue at once. The catalogue is None on errors."""
    checker = _Checker(rules, list(issues))
    parsed: dict[str, list[_Parsed]] = {kind: [] for kind in _MODELS}
    for record in records:
        model = _parse(record, checker)
        if model is not None:
            parsed[record.kind].append(_Parsed(record, model))
    _check_duplicates(parsed, checker)
    _check_references(parsed, checker)
    _check_freshness(parsed["services"], checker)
    ordered = tuple(sorted(checker.issues, key=lambda i: (i.source, i.line, i.column)))
    if any(issue.severity == "error" for issue in ordered):
        return ValidationReport(ordered, None)
    catalog = Catalog.model_construct(
        regions=tuple(p.model for p in parsed["regions"]),
        organizations=tuple(p.model for p in parsed["organizations"]),
        services=tuple(p.model for p in parsed["services"]),
    )
    return ValidationReport(ordered, catalog)


def _parse(record: RawRecord, checker: _Checker) -> Any:
    if not isinstance(record.data, dict):
        checker.error(record, (), f"each entry of '{record.kind}' must be a mapping")
        return None
    try:
        return _MODELS[record.kind].model_validate(
            record.data, context={"required_languages": checker.rules.required_languages}
        )
    except ValidationError as error:
        details = error.errors()
        failed_inside = {tuple(d["loc"][:-1]) for d in details if d["loc"]}
        for detail in details:
            if detail["type"] == "too_short" and tuple(detail["loc"]) in failed_inside:
                continue  # pydantic's echo of an invalid item, already reported
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "extra_forbidden":
                message = "unknown field"
            elif detail["type"] == "missing":
                message = "required field is missing"
            checker.error(record, tuple(detail["loc"]), message)
        return None


def _check_duplicates(parsed: Mapping[str, list[_Parsed]], checker: _Checker) -> None:
    region_ids: list[tuple[str, _Parsed, Path]] = []
    for item in parsed["regions"]:
        region_ids.append((item.model.id, item, ("id",)))
        for index, district in enumerate(item.model.districts):
            region_ids.append((district.id, item, ("districts", index, "id")))
    groups: dict[str, list[tuple[str, _Parsed, Path]]] = {
        "region or district": region_ids,
        "organization": [(p.model.id, p, ("id",)) for p in parsed["organizations"]],
        "service": [(p.model.id, p, ("id",)) for p in parsed["services"]],
    }
    for label, entries in groups.items():
        first: dict[str, _Parsed] = {}
        for ident, item, sub in entries:
            if ident in first:
                where = first[ident].record
                source, line, _ = where.origin.locate(where.path)
                checker.error(
                    item.record, sub,
                    f"duplicate {label} id '{ident}' (first defined at {source}:{line})",
                )
            else:
                first[ident] = item


def _check_references(parsed: Mapping[str, list[_Parsed]], checker: _Checker) -> None:
    organizations = {p.model.id for p in parsed["organizations"]}
    services = {p.model.id for p in parsed["services"]}
    districts = {
        region.model.id: {d.id for d in region.model.districts} for region in parsed["regions"]
    }
    for item in parsed["services"]:
        service: Service = item.model
        if service.organization not in organizations:
            checker.error(item.record, ("organization",),
                          f"unknown organization '{service.organization}'")
        for index, document in enumerate(service.documents):
            ref = document.obtained_from
            if ref is not None and ref not in services:
                checker.error(item.record, ("documents", index, "obtained_from"),
                              f"unknown service '{ref}'")
        for index, location in enumerate(service.locations):
            if location.region not in districts:
                checker.error(item.record, ("locations", index, "region"),
                              f"unknown region '{location.region}'")
            elif location.district and location.district not in districts[location.region]:
                checker.error(item.record, ("locations", index, "district"),
                              f"district '{location.district}' is not in region "
                              f"'{location.region}'")


def _check_freshness(services: list[_Parsed], checker: _Checker) -> None:
    today, max_age = checker.rules.today, checker.rules.max_age_days
    for item in services:
        verified: date = item.model.last_verified
        if verified > today:
            checker.error(item.record, ("last_verified",),
                          f"last_verified {verified.isoformat()} is in the future")
        elif (today - verified).days > max_age:
            checker.warning(item.record, ("last_verified",),
                            f"last verified {(today - verified).days} days ago "
                            f"(more than {max_age}); please check it is still current")
