from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from services_catalog import files, synthetic
from services_catalog.validation import Rules
from tests.services_catalog.helpers import check

Mutation = Callable[[dict[str, Any]], None]


def _service(doc: dict[str, Any], n: int = 0) -> dict[str, Any]:
    service: dict[str, Any] = doc["services"][n]
    return service


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return mutate


INVALID: list[tuple[str, Mutation, str, str]] = [
    ("unknown category", _set("services.0.category", "magic"),
     "services[0].category", "Input should be 'cash_assistance'"),
    ("duplicate service id", _set("services.1.id", "svc-00000"),
     "services[1].id", "duplicate service id 'svc-00000'"),
    ("duplicate district id", _set("regions.1.districts.0.id", "R1-D1"),
     "regions[1].districts[0].id", "duplicate region or district id 'R1-D1'"),
    ("dangling organization", _set("services.0.organization", "nobody"),
     "services[0].organization", "unknown organization 'nobody'"),
    ("dangling obtained_from", _set("services.0.documents.0.obtained_from", "no-such-service"),
     "services[0].documents[0].obtained_from", "unknown service 'no-such-service'"),
    ("unknown region", _set("services.0.locations.0.region", "XX"),
     "services[0].locations[0].region", "unknown region 'XX'"),
    ("district of another region", _set("services.0.locations.0.district", "R2-D1"),
     "services[0].locations[0].district", "district 'R2-D1' is not in region 'R1'"),
    ("missing language", _set("services.0.name", {"en": "Only English"}),
     "services[0].name", "missing required language(s): fr, ar"),
    ("empty text", _set("services.0.summary", {"en": " ", "fr": "x", "ar": "y"}),
     "services[0].summary", "the 'en' text is empty"),
    ("closing before opening",
     _set("services.0.locations.0.opening_hours.0.closes_at", "07:00"),
     "services[0].locations[0].opening_hours[0]", "opens_at 08:00 must be before closes_at 07:00"),
    ("not a time", _set("services.0.locations.0.opening_hours.0.opens_at", "8h"),
     "services[0].locations[0].opening_hours[0].opens_at", "'8h' is not a time of day"),
    ("hour out of range", _set("services.0.locations.0.opening_hours.0.opens_at", "25:00"),
     "services[0].locations[0].opening_hours[0].opens_at", "Input should be in a valid time"),
    ("unknown day", _set("services.0.locations.0.opening_hours.0.byday", ["mo", "xx"]),
     "services[0].locations[0].opening_hours[0].byday[1]", "Input should be 'mo'"),
    ("future verification", _set("services.0.last_verified", "2027-01-01"),
     "services[0].last_verified", "last_verified 2027-01-01 is in the future"),
    ("paid without amount", _set("services.0.fees", {"free": False}),
     "services[0].fees", "a paid service needs an amount and a currency"),
    ("no steps", _set("services.0.steps", []),
     "services[0].steps", "should have at least 1 item"),
    ("unknown field", _set("services.0.colour", "blue"),
     "services[0].colour", "unknown field"),
    ("wrong type", _set("services.0.accepts_referrals", "perhaps"),
     "services[0].accepts_referrals", "Input should be a valid boolean"),
    ("missing field", lambda doc: _service(doc).pop("focal_point"),
     "services[0].focal_point", "required field is missing"),
    ("emergency without phone", _set("services.0.emergency", True),
     "services[0]", "an emergency service needs a phone number"),
    ("not a mapping", _set("services.0", "just text"),
     "services[0]", "each entry of 'services' must be a mapping"),
    ("unknown section", _set("things", []), "things", "unknown section 'things'"),
]


@pytest.mark.parametrize(("mutate", "path", "message"),
                         [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_catalogue_is_reported_with_position_and_path(
    tmp_path: Path, rules: Rules, mutate: Mutation, path: str, message: str
) -> None:
    document = synthetic.catalog(3)
    _service(document)["locations"][0].pop("phone")  # for the emergency case
    mutate(document)
    report = check(tmp_path, document, rules)
    assert report.catalog is None
    matching = [e for e in report.errors if e.path == path and message in e.message]
    assert matching, str(report)
    issue = matching[0]
    assert issue.source.endswith("catalog.yml") and issue.line > 1 and issue.column >= 1


def test_every_error_is_reported_at_once(tmp_path: Path, rules: Rules) -> None:
    document = synthetic.catalog(4)
    _service(document, 0)["category"] = "magic"
    _service(document, 1)["organization"] = "nobody"
    _service(document, 2)["name"] = {"fr": "Seulement"}
    report = check(tmp_path, document, rules)
    assert {e.path for e in report.errors} == {
        "services[0].category", "services[1].organization", "services[2].name"
    }
    lines = [e.line for e in report.errors]
    assert lines == sorted(lines) and len(set(lines)) == 3


def test_old_verification_is_a_warning_not_an_error(tmp_path: Path, rules: Rules) -> None:
    document = synthetic.catalog(2)
    _service(document)["last_verified"] = "2024-01-01"
    report = check(tmp_path, document, rules)
    assert report.ok and report.catalog is not None
    assert [w.path for w in report.warnings] == ["services[0].last_verified"]
    assert "more than 365" in report.warnings[0].message


def test_unquoted_yaml_times_are_read_as_clock_times(tmp_path: Path, rules: Rules) -> None:
    path = tmp_path / "hours.yml"
    document = synthetic.catalog(1)
    text = yaml.safe_dump(document, sort_keys=False).replace("'16:00'", "16:00")
    assert "closes_at: 16:00" in text
    path.write_text(text, encoding="utf-8")
    report = files.load(path, rules)
    assert report.catalog is not None, str(report)
    closes = report.catalog.services[0].locations[0].opening_hours[0].closes_at
    assert closes.hour == 16 and closes.minute == 0


def test_required_languages_are_configurable(tmp_path: Path) -> None:
    document = synthetic.catalog(1)
    _service(document)["name"] = {"en": "English", "fr": "Français"}
    assert not check(tmp_path, document, Rules(today=date(2026, 11, 22))).ok
    relaxed = Rules(today=date(2026, 11, 22), required_languages=("en", "fr"))
    assert check(tmp_path, document, relaxed).ok
