"""Exporting the real training data as a Rasa 3.x project, and reading it back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from nlu.data import Example, TrainingData, load, parse_example, reads
from nlu.rasa_export import annotate, export_rasa
from nlu.types import INTENTS, LANGUAGES, Entity
from services_catalog.errors import InputError
from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return load(PROJECT / "nlu" / "data")


@pytest.fixture
def exported(data: TrainingData, tmp_path: Path) -> dict[str, Path]:
    paths = export_rasa(data, tmp_path)
    return {path.relative_to(tmp_path).as_posix(): path for path in paths}


def test_writes_the_project_files(exported: dict[str, Path]) -> None:
    assert sorted(exported) == ["config.yml", "data/nlu.yml", "domain.yml"]
    assert all(path.is_file() for path in exported.values())


def test_config_is_the_multilingual_diet_pipeline(exported: dict[str, Path]) -> None:
    config = yaml.safe_load(exported["config.yml"].read_text("utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    assert "DIETClassifier" in names and "FallbackClassifier" in names
    assert (config["language"], config["assistant_id"]) == ("xx", "returnee_bot")


def test_domain_lists_every_intent_and_the_region_entity(exported: dict[str, Path]) -> None:
    domain = yaml.safe_load(exported["domain.yml"].read_text("utf-8"))
    assert domain["version"] == "3.1"
    assert domain["intents"] == list(INTENTS)
    assert domain["entities"] == ["region"]


def _labels(examples: list[Example] | tuple[Example, ...]) -> Counter[tuple[str, str, str | None]]:
    return Counter((e.text, e.intent, e.topic) for e in examples)


def test_nlu_data_reads_back_the_same(data: TrainingData, exported: dict[str, Path]) -> None:
    path = exported["data/nlu.yml"]
    again = reads(path.read_text("utf-8"), str(path), "en")

    assert len(again.examples) == len(data.examples)
    assert _labels(again.examples) == _labels(data.examples)
    for language in LANGUAGES:
        assert _labels(data.for_language(language)) <= _labels(again.examples)
    assert (again.synonyms, again.lookups, again.regexes) == (
        data.synonyms, data.lookups, data.regexes)


def test_region_annotations_survive(data: TrainingData, exported: dict[str, Path]) -> None:
    path = exported["data/nlu.yml"]
    again = reads(path.read_text("utf-8"), str(path), "en")
    annotated = Counter((e.text, e.entities) for e in data.examples if e.entities)

    assert len(annotated) > 100
    assert Counter((e.text, e.entities) for e in again.examples if e.entities) == annotated
    assert "[Kolda](region)" in path.read_text("utf-8")


def test_annotate_writes_json_form_when_the_value_differs() -> None:
    text = "un bureau à Tamba ou à Kolda ?"
    entities = (Entity("region", "Tambacounda", "Tamba", 12, 17),
                Entity("region", "Kolda", "Kolda", 23, 28))
    line = annotate(Example(text, "ask_location", None, "fr", entities))

    assert line == ('un bureau à [Tamba]{"entity": "region", "value": "Tambacounda"}'
                    " ou à [Kolda](region) ?")
    assert parse_example(line) == (text, entities)


def test_annotate_rejects_offsets_that_do_not_match_the_text() -> None:
    kolda = Entity("region", "Kolda", "Kolda", 0, 5)
    bad = Example("à Kolda", "ask_location", None, "fr", (kolda,))
    with pytest.raises(InputError, match="Kolda"):
        annotate(bad)
