"""Rasa 3.x NLU YAML: `reads` (text -> training data) and `dumps` (training data -> text).

Topics ride on Rasa's intent-level `metadata: {topic: ...}` (see nlu/data/FORMAT.md).
Entity annotations `[Kolda](region)` and `[Tamba]{"entity": "region", "value": "..."}`
are stripped from the text and kept as entities. File reading is in `load`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml_rs

from nlu.types import INTENTS, LANGUAGES, NO_TOPIC, TOPICS, Entity
from services_catalog.errors import InputError

KEY_NLU = "nlu"
KEY_INTENT = "intent"
KEY_EXAMPLES = "examples"
KEY_METADATA = "metadata"
KEY_TOPIC = "topic"
KEY_SYNONYM = "synonym"
KEY_LOOKUP = "lookup"
KEY_REGEX = "regex"
VERSION = "3.1"

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))"
)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    topic: str | None
    language: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True, slots=True)
class TrainingData:
    examples: tuple[Example, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    regexes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def merge(self, other: TrainingData) -> TrainingData:
        return TrainingData(
            self.examples + other.examples,
            _merge(self.synonyms, other.synonyms),
            _merge(self.lookups, other.lookups),
            _merge(self.regexes, other.regexes),
        )

    def for_language(self, language: str) -> list[Example]:
        return [e for e in self.examples if e.language == language]


def _merge(a: Mapping[str, tuple[str, ...]],
           b: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    merged = dict(a)
    for key, values in b.items():
        merged[key] = tuple(dict.fromkeys((*merged.get(key, ()), *values)))
    return merged


def parse_example(line: str) -> tuple[str, tuple[Entity, ...]]:
    """Strip entity annotations from one example; return the text and its entities."""
    text, entities, cursor = "", [], 0
    for match in _ANNOTATION.finditer(line):
        text += line[cursor:match.start()]
        surface = match.group("text")
        if match.group("json"):
            details = json.loads(match.group("json"))
            name, value = str(details.get("entity", "")), str(details.get("value", surface))
        else:
            name, value = match.group("entity"), surface
        entities.append(Entity(name, value, surface, len(text), len(text) + len(surface)))
        text += surface
        cursor = match.end()
    return text + line[cursor:], tuple(entities)


def _items(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines()
            if line.strip().startswith("- ") and line.strip()[2:].strip()]


def reads(text: str, source: str, language: str) -> TrainingData:
    """Parse one Rasa NLU YAML document; errors name the source and the block."""
    try:
        document = yaml_rs.loads(text)
    except yaml_rs.YAMLDecodeError as error:
        raise InputError(f"{source}: not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get(KEY_NLU), list):
        raise InputError(f"{source}: expected a mapping with an '{KEY_NLU}' list")
    examples: list[Example] = []
    synonyms: dict[str, tuple[str, ...]] = {}
    lookups: dict[str, tuple[str, ...]] = {}
    regexes: dict[str, tuple[str, ...]] = {}
    for index, block in enumerate(document[KEY_NLU]):
        where = f"{source}: nlu[{index}]"
        if not isinstance(block, dict) or not isinstance(block.get(KEY_EXAMPLES), str):
            raise InputError(f"{where}: each block needs an '{KEY_EXAMPLES}' text")
        items = _items(block[KEY_EXAMPLES])
        if KEY_INTENT in block:
            intent = block[KEY_INTENT]
            topic = (block.get(KEY_METADATA) or {}).get(KEY_TOPIC, NO_TOPIC)
            if intent not in INTENTS:
                raise InputError(f"{where}: unknown intent '{intent}'")
            if topic != NO_TOPIC and topic not in TOPICS:
                raise InputError(f"{where}: unknown topic '{topic}'")
            for item in items:
                clean, entities = parse_example(item)
                examples.append(Example(clean, intent, None if topic == NO_TOPIC else topic,
                                        language, entities))
        elif KEY_SYNONYM in block:
            synonyms[str(block[KEY_SYNONYM])] = tuple(items)
        elif KEY_LOOKUP in block:
            lookups[str(block[KEY_LOOKUP])] = tuple(items)
        elif KEY_REGEX in block:
            regexes[str(block[KEY_REGEX])] = tuple(items)
        else:
            raise InputError(f"{where}: expected intent, synonym, lookup or regex")
    return TrainingData(tuple(examples), synonyms, lookups, regexes)


def load(folder: Path) -> TrainingData:
    """All training files: folder/<lang>/*.yml."""
    data = TrainingData()
    for language in LANGUAGES:
        for path in sorted((folder / language).glob("*.yml")):
            data = data.merge(reads(path.read_text("utf-8-sig"), str(path), language))
    if not data.examples:
        raise InputError(f"{folder}: no training examples found")
    return data


def load_tests(folder: Path) -> TrainingData:
    """The held-out test set: folder/<lang>.yml."""
    data = TrainingData()
    for language in LANGUAGES:
        path = folder / f"{language}.yml"
        if path.exists():
            data = data.merge(reads(path.read_text("utf-8-sig"), str(path), language))
    return data


def data_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.yml"))


def dumps(data: TrainingData, examples: Iterable[Example] | None = None) -> str:
    """Rasa 3.1 NLU YAML for these examples (default: all), with topic metadata."""
    blocks: dict[tuple[str, str], list[str]] = {}
    for example in data.examples if examples is None else examples:
        key = (example.intent, example.topic or NO_TOPIC)
        blocks.setdefault(key, []).append(example.text)
    nlu: list[dict[str, Any]] = [
        {KEY_INTENT: intent, KEY_METADATA: {KEY_TOPIC: topic},
         KEY_EXAMPLES: "".join(f"- {text}\n" for text in texts)}
        for (intent, topic), texts in blocks.items()
    ]
    nlu += [{KEY_SYNONYM: k, KEY_EXAMPLES: "".join(f"- {v}\n" for v in vs)}
            for k, vs in data.synonyms.items()]
    nlu += [{KEY_LOOKUP: k, KEY_EXAMPLES: "".join(f"- {v}\n" for v in vs)}
            for k, vs in data.lookups.items()]
    nlu += [{KEY_REGEX: k, KEY_EXAMPLES: "".join(f"- {v}\n" for v in vs)}
            for k, vs in data.regexes.items()]
    return str(yaml.dump({"version": VERSION, KEY_NLU: nlu}, Dumper=_BlockDumper,
                         allow_unicode=True, sort_keys=False, width=1000))


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, as Rasa's own files do."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _literal)
