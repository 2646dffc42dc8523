"""Catalogue YAML: `reads` (text -> data and positions) and `dumps` (catalogue -> text).

Both are pure; file handling lives in `services_catalog.files`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from services_catalog.records import Issue, IssueError, Path
from services_catalog.schema import Catalog

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader, _Dumper = yaml.SafeLoader, yaml.SafeDumper

VERSION = 1


def reads(text: str, source: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """Parse YAML text; return the data and the 1-based (line, column) of every value."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"not valid YAML: {error.problem or error}"
        raise IssueError(Issue("error", source, line, column, "", message)) from None
    except yaml.YAMLError as error:
        raise IssueError(Issue("error", source, 1, 1, "", f"not valid YAML: {error}")) from None
    positions: dict[Path, tuple[int, int]] = {}
    if node is not None:
        _collect_positions(node, (), positions, set(), source)
    return data, positions


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
