"""Export the training data as a ready Rasa 3.x project (`rasa train nlu` in that folder).

Writes `config.yml` (one multilingual DIET pipeline, `language: xx`), `domain.yml` (the
intents of `nlu.types.INTENTS` and the `region` entity) and `data/nlu.yml` (every example of
every language, with synonyms, lookup tables, regexes and `[text](region)` annotations).

Topics: Rasa's DIET learns intents and entities only; it does not train on the intent-level
`metadata: {topic: ...}` key. The export keeps topics there anyway, as Rasa keeps (and
ignores) metadata, so `data/nlu.yml` stays the same format as `nlu/data` and loses nothing.
The embedded engine trains topics from that metadata; `nlu.rasa_backend.RasaParser` takes
the topic (and language and service) from the embedded parser and only intent, intent
ranking and region entities from Rasa.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import yaml

from nlu.data import VERSION, Example, TrainingData, dumps
from nlu.types import INTENTS, Entity
from services_catalog.errors import InputError

REGION = "region"
ASSISTANT_ID = "returnee_bot"
CONFIG_FILE = "config.yml"
DOMAIN_FILE = "domain.yml"
NLU_FILE = "data/nlu.yml"

CONFIG_YML = f"""\
# Rasa 3.x NLU pipeline for the returnee bot, written by nlu/rasa_export.py.
# language: xx -- one model for English, French and Arabic together. Every component is
# language-agnostic (whitespace tokens, regexes, word and character n-grams, DIET), so no
# language-specific tokenizer or pretrained embeddings are needed.
# Low-confidence messages get the intent nlu_fallback, which the bot reads as out_of_scope.
recipe: default.v1
assistant_id: {ASSISTANT_ID}
language: xx
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
policies: []
"""


def annotate(example: Example) -> str:
    """The example's text with its entities written back as Rasa annotations."""
    line, cursor = "", 0
    for entity in sorted(example.entities, key=lambda e: e.start):
        if entity.start < cursor or example.text[entity.start:entity.end] != entity.text:
            raise InputError(f"entity '{entity.text}' does not match the example's text")
        line += example.text[cursor:entity.start] + _annotation(entity)
        cursor = entity.end
    return line + example.text[cursor:]


def _annotation(entity: Entity) -> str:
    """`[text](entity)`, or the JSON form when the value differs from the text."""
    if entity.value == entity.text:
        return f"[{entity.text}]({entity.entity})"
    details = json.dumps({"entity": entity.entity, "value": entity.value}, ensure_ascii=False)
    return f"[{entity.text}]{details}"


def nlu_yaml(data: TrainingData) -> str:
    """`data/nlu.yml`: every example (annotated), synonyms, lookups and regexes."""
    annotated = [replace(example, text=annotate(example)) for example in data.examples]
    return dumps(data, annotated)


def entity_names(examples: Iterable[Example]) -> list[str]:
    """The region entity, then any other entity the examples annotate."""
    names = dict.fromkeys([REGION, *(e.entity for x in examples for e in x.entities)])
    return list(names)


def domain_yaml(data: TrainingData) -> str:
    """`domain.yml`: the intent labels and the entities."""
    domain = {"version": VERSION, "intents": list(INTENTS),
              "entities": entity_names(data.examples)}
    return yaml.safe_dump(domain, allow_unicode=True, sort_keys=False)


def project_files(data: TrainingData) -> dict[str, str]:
    """Every file of the Rasa project: relative path -> content."""
    return {CONFIG_FILE: CONFIG_YML, DOMAIN_FILE: domain_yaml(data), NLU_FILE: nlu_yaml(data)}


def export_rasa(data: TrainingData, folder: Path) -> list[Path]:
    """Write the Rasa project into folder; return the written paths."""
    written = []
    for name, content in project_files(data).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, "utf-8")
        written.append(path)
    return written
