"""Catalogue YAML: `reads` (text -> data and positions) and `dumps` (catalogue -> text).

Both are pure; file handling lives in `services_catalog.files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml
import yaml_rs

from services_catalog.records import Issue, IssueError, Path
from services_catalog.schema import Catalog

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

VERSION = 1


def reads(text: str, source: str) -> tuple[Any, Mapping[Path, tuple[int, int]]]:
    """Parse YAML 1.2 text; return the data and the 1-based (line, column) of every value.

    Data comes from the fast Rust parser; positions are computed with PyYAML only when
    someone asks for one, that is when there is an issue to report.
    """
    try:
        data = yaml_rs.loads(text, parse_datetime=True)
    except yaml_rs.YAMLDecodeError as error:
        positions(text, source)  # raises with the position when PyYAML sees it too
        line, column = _position_in(str(error))
        message = str(error).splitlines()[0]
        raise IssueError(Issue("error", source, line, column, "", message)) from None
    return data, _LazyPositions(text, source)


def _position_in(message: str) -> tuple[int, int]:
    found = re.search(r"line (\d+), column (\d+)", message)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


class _LazyPositions(Mapping[Path, tuple[int, int]]):
    def __init__(self, text: str, source: str) -> None:
        self._text, self._source = text, source
        self._positions: dict[Path, tuple[int, int]] | None = None

    def _load(self) -> dict[Path, tuple[int, int]]:
        if self._positions is None:
            self._positions = positions(self._text, self._source)
        return self._positions

    def __getitem__(self, path: Path) -> tuple[int, int]:
        return self._load()[path]

    def __iter__(self) -> Iterator[Path]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def positions(text: str, source: str) -> dict[Path, tuple[int, int]]:
    """The position of every value path, from PyYAML's node tree (slow; for reporting)."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"not valid YAML: {error.problem or error}"
        raise IssueError(Issue("error", source, line, column, "", message)) from None
    except yaml.YAMLError as error:
        raise IssueError(Issue("error", source, 1, 1, "", f"not valid YAML: {error}")) from None
    found: dict[Path, tuple[int, int]] = {}
    if node is not None:
        _collect_positions(node, (), found, set(), source)
    return found


def _collect_positions(
    node: yaml.Node,
    path: Path,
    positions: dict[Path, tuple[int, int]],
    seen: set[int],
    source: str,
) -> None:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in seen:  # an alias: do not walk it again (and no alias bombs)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in keys:
                mark = key_node.start_mark
                raise IssueError(Issue(
                    "error", source, mark.line + 1, mark.column + 1, "", f"duplicate key '{key}'"
                ))
            keys.add(key)
            _collect_positions(value_node, (*path, key), positions, seen, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_positions(item, (*path, index), positions, seen, source)


def dumps(
    catalog: Catalog, sections: Iterable[str] = ("regions", "organizations", "services")
) -> str:
    """Write a catalogue (or some of its sections) as YAML that `reads` accepts back."""
    data: dict[str, Any] = {"version": VERSION}
    dumped = catalog.model_dump(mode="json", exclude_defaults=True)
    for section in sections:
        data[section] = dumped.get(section, [])
    return str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100))


def dumps_document(document: Any) -> str:
    """Write raw catalogue data (not yet validated) as YAML."""
    return str(yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False))
