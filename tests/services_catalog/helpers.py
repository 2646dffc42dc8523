"""Test helpers: write catalogue documents to files and validate them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services_catalog import files
from services_catalog.validation import Rules, ValidationReport


def write_yaml(folder: Path, document: dict[str, Any], name: str = "catalog.yml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def check(folder: Path, document: dict[str, Any], rules: Rules) -> ValidationReport:
    return files.load(write_yaml(folder, document), rules)
