from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services_catalog import files, synthetic, yaml_format
from services_catalog.records import IssueError, Origin, split_document
from services_catalog.validation import Rules, ValidationReport, validate

TODAY = date(2026, 11, 22)


def test_reads_records_line_and_column_of_every_value() -> None:
    text = "services:\n  - id: a\n    name:\n      en: Hello\n"
    data, positions = yaml_format.reads(text, "x.yml")
    assert data == {"services": [{"id": "a", "name": {"en": "Hello"}}]}
    assert positions[("services", 0, "id")] == (2, 9)
    assert positions[("services", 0, "name", "en")] == (4, 11)


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("services:\n  - id: a\n   bad: [\n", 3, 4, "not valid YAML"),
        ("services:\n  - id: a\n    id: b\n", 3, 5, "duplicate key 'id'"),
        ("a: 'unterminated\n", 2, 1, "not valid YAML"),
    ],
)
def test_malformed_yaml_names_the_position(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(IssueError) as raised:
        yaml_format.reads(text, "bad.yml")
    issue = raised.value.issue
    assert (issue.source, issue.line, issue.column) == ("bad.yml", line, column)
    assert message in issue.message


def test_alias_bomb_is_refused_with_a_clear_error() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 12):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    with pytest.raises(IssueError, match="alias"):
        yaml_format.reads("\n".join(lines), "bomb.yml")


def test_positions_are_only_computed_when_asked() -> None:
    _, positions = yaml_format.reads("services: [{id: a}]", "x.yml")
    assert positions[("services", 0, "id")] == (1, 17)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = yaml_format.dumps_document(synthetic.catalog(2))
    path = tmp_path / "c.yml"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    report = files.load(path, Rules(today=TODAY))
    assert report.ok, str(report)
    assert report.catalog is not None and len(report.catalog.services) == 2


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("services:\n  - id: caf\xe9\n".encode("latin-1"))
    report = files.load(path, Rules(today=TODAY))
    assert [str(e) for e in report.errors] == [
        f"{path}:2:12: error: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]


def test_huge_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    path = tmp_path / "huge.yml"
    path.write_text("services: []\n" + "# padding\n" * 20, encoding="utf-8")
    report = files.load(path, Rules(today=TODAY))
    assert "over the limit of 100" in report.errors[0].message


def test_dumps_then_reads_gives_the_same_catalogue() -> None:
    first = _validate(yaml_format.dumps_document(synthetic.catalog(12)))
    assert first.catalog is not None
    second = _validate(yaml_format.dumps(first.catalog))
    assert second.catalog == first.catalog


@given(st.text())
@example(":")  # a mapping whose only key is null
def test_reads_never_fails_with_anything_but_an_issue(text: str) -> None:
    try:
        data, _ = yaml_format.reads(text, "fuzz.yml")
    except IssueError as error:
        assert error.issue.source == "fuzz.yml"
    else:
        records, issues = split_document(data, Origin("fuzz.yml"))
        validate(records, Rules(today=TODAY), issues)


def _validate(text: str) -> ValidationReport:
    data, positions = yaml_format.reads(text, "mem.yml")
    records, issues = split_document(data, Origin("mem.yml", positions))
    return validate(records, Rules(today=TODAY), issues)
