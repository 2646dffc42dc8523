"""The `returnee-bot` command, run as a real subprocess against a real database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from services_catalog import synthetic
from tests.bot.conftest import BIN, run_cli
from tests.conftest import PROJECT


def _write(folder: Path, services: int) -> Path:
    path = folder / "catalog.yml"
    path.write_text(yaml.safe_dump(synthetic.catalog(services), allow_unicode=True), "utf-8")
    return path


def test_validate_import_export_round_trip(tmp_path: Path, empty_database: str) -> None:
    database_url = empty_database
    catalog = _write(tmp_path, 15)
    assert run_cli(database_url, "db", "upgrade", cwd=tmp_path).returncode == 0

    valid = run_cli(database_url, "catalog", "validate", str(catalog), cwd=tmp_path)
    assert valid.returncode == 0 and "0 error(s), 0 warning(s)" in valid.stdout

    dry = run_cli(database_url, "catalog", "import", str(catalog), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "+ service svc-00000" in dry.stdout and "Dry run: nothing was written." in dry.stdout

    first = run_cli(database_url, "catalog", "import", str(catalog), cwd=tmp_path)
    assert "services: 15 added" in first.stdout
    second = run_cli(database_url, "catalog", "import", str(catalog), cwd=tmp_path)
    assert second.stdout.startswith("No changes.")

    workbook = tmp_path / "catalog.xlsx"
    exported = run_cli(database_url, "catalog", "export", "--format", "xlsx", str(workbook),
                    cwd=tmp_path)
    assert exported.returncode == 0 and workbook.exists()
    again = run_cli(database_url, "catalog", "import", str(workbook), cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("No changes."), again.stdout

    hsds_path = tmp_path / "hsds.json"
    run_cli(database_url, "catalog", "export", "--format", "hsds", str(hsds_path), cwd=tmp_path)
    assert len(json.loads(hsds_path.read_text("utf-8"))["services"]) == 15

    summary = run_cli(database_url, "catalog", "summary", cwd=tmp_path)
    assert "Catalogue: 15 active services of 15" in summary.stdout


def test_run_without_a_token_starts_the_console_chat(tmp_path: Path, empty_database: str) -> None:
    database_url = empty_database
    run_cli(database_url, "db", "upgrade", cwd=tmp_path)
    run_cli(database_url, "catalog", "import", cwd=tmp_path)  # the bundled sample catalogue
    chat = run_cli(database_url, "run", cwd=tmp_path, stdin="2\n1\n/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "console chat" in chat.stderr
    assert "[2] Français" in chat.stdout  # the language picker, buttons numbered
    assert "Bonjour" in chat.stdout and "[1] ✅" in chat.stdout  # French welcome and consent
    assert "Merci" in chat.stdout  # consent given with the first button


def test_invalid_catalogue_exits_1_and_imports_nothing(tmp_path: Path, empty_database: str) -> None:
    database_url = empty_database
    document = synthetic.catalog(3)
    document["services"][1]["category"] = "magic"
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    run_cli(database_url, "db", "upgrade", cwd=tmp_path)
    validated = run_cli(database_url, "catalog", "validate", str(path), cwd=tmp_path)
    assert validated.returncode == 1
    assert f"{path}:" in validated.stderr and "services[1].category" in validated.stderr
    imported = run_cli(database_url, "catalog", "import", str(path), cwd=tmp_path)
    assert imported.returncode == 1 and "nothing imported" in imported.stderr
    summary = run_cli(database_url, "catalog", "summary", cwd=tmp_path)
    assert "Catalogue: 0 active services of 0" in summary.stdout


def test_warnings_keep_exit_code_zero(tmp_path: Path, database_url: str) -> None:
    document = synthetic.catalog(2)
    document["services"][0]["last_verified"] = "2020-01-01"
    path = tmp_path / "old.yml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    result = run_cli(database_url, "catalog", "validate", str(path), cwd=tmp_path)
    assert result.returncode == 0 and "warning: services[0].last_verified" in result.stdout


def test_missing_file_is_a_clear_error(tmp_path: Path, database_url: str) -> None:
    result = run_cli(database_url, "catalog", "validate", "nowhere.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "nowhere.yml: no such file or folder"
    assert "Traceback" not in result.stderr


def test_bad_settings_are_reported_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "DEFAULT_LANGUAGE": "xx"}
    result = subprocess.run([str(BIN), "catalog", "summary"], capture_output=True, text=True,
                            env=env, cwd=PROJECT, timeout=60, check=False)
    assert result.returncode == 1 and "default_language" in result.stderr
    assert "Traceback" not in result.stderr
