"""Raw catalogue records with their origin, and the issues found in them.

Readers (YAML, spreadsheets) produce `RawRecord`s that remember where each value came
from, so validation can point at `file:line:column` plus the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from services_catalog.errors import InputError

Path = tuple[str | int, ...]
KINDS: tuple[str, ...] = ("regions", "organizations", "services")
Kind = Literal["regions", "organizations", "services"]


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True, slots=True)
class Origin:
    """A source (file, or file and sheet) and the line/column of each value path in it."""

    source: str
    positions: Mapping[Path, tuple[int, int]] = field(default_factory=dict)
    sources: Mapping[Path, str] = field(default_factory=dict)
    """Sub-paths read from another source (a spreadsheet's child sheet)."""

    def locate(self, path: Path) -> tuple[str, int, int]:
        """Source, line and column of `path`, or of its nearest ancestor that has them."""
        line, column = next(
            (self.positions[path[:end]] for end in range(len(path), -1, -1)
             if path[:end] in self.positions),
            (1, 1),
        )
        source = next(
            (self.sources[path[:end]] for end in range(len(path), 0, -1)
             if path[:end] in self.sources),
            self.source,
        )
        return source, line, column


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One region, organization or service as read, before validation."""

    kind: Kind
    data: Any
    origin: Origin
    path: Path


@dataclass(frozen=True, slots=True)
class Issue:
    severity: Literal["error", "warning"]
    source: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}"
        field_path = f" {self.path}:" if self.path else ""
        return f"{where}: {self.severity}:{field_path} {self.message}"

    @classmethod
    def at(
        cls,
        origin: Origin,
        path: Path,
        message: str,
        severity: Literal["error", "warning"] = "error",
    ) -> Issue:
        source, line, column = origin.locate(path)
        return cls(severity, source, line, column, format_path(path), message)


class IssueError(InputError):
    """Raised by a reader that cannot go on; carries the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def split_document(data: Any, origin: Origin) -> tuple[list[RawRecord], list[Issue]]:
    """Split one parsed file ({regions: [...], services: [...]}) into records."""
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [Issue.at(origin, (), "the file must be a mapping with 'regions', "
                             "'organizations' and/or 'services' lists")]
    records: list[RawRecord] = []
    issues: list[Issue] = []
    for key, items in data.items():
        if key == "version":
            continue
        if key not in KINDS:
            issues.append(Issue.at(origin, (key,), f"unknown section '{key}' (expected one of "
                                   f"{', '.join(KINDS)})"))
        elif not isinstance(items, list):
            issues.append(Issue.at(origin, (key,), f"'{key}' must be a list"))
        else:
            records += [RawRecord(key, item, origin, (key, i)) for i, item in enumerate(items)]
    return records, issues
