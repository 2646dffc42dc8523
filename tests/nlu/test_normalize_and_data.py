from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from bot.nlu_setup import NLU_DATA, NLU_TESTS
from nlu import data
from nlu.engine import SMALL_TALK
from nlu.normalize import normalize, scripts
from nlu.types import LANGUAGES, QUESTION_INTENTS
from services_catalog.errors import InputError


@pytest.mark.parametrize(("raw", "expected"), [
    ("Où est l'HÔPITAL à Thiès ?", "ou est l'hopital a thies ?"),
    ("ﬁnancement", "financement"),  # NFKC ligature
    ("cœur", "coeur"),
    ("أَهْلاً وَسَهْلاً", "اهلا وسهلا"),  # diacritics, alef forms
    ("مدرسـة", "مدرسه"),  # tatweel, ta marbuta
    ("مستشفى", "مستشفي"),  # alef maqsura
    ("a\u200fb\u202ec\u0000d", "a b c d"),  # bidi marks, NUL
    ("  many   spaces\n", "many spaces"),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_scripts_counts_letters() -> None:
    assert scripts(normalize("بطاقة ID")) == (5, 2)


def test_reads_topics_entities_and_rejects_unknown_labels() -> None:
    text = """version: "3.1"
nlu:
- intent: ask_location
  metadata:
    topic: health
  examples: |
    - clinic in [Kolda](region)?
    - hospital near [Tamba]{"entity": "region", "value": "Tambacounda"}
- synonym: national_id
  examples: |
    - CNI
"""
    parsed = data.reads(text, "x.yml", "en")
    first, second = parsed.examples
    assert (first.text, first.intent, first.topic) == ("clinic in Kolda?", "ask_location", "health")
    assert first.entities[0].value == "Kolda" and first.text[10:15] == "Kolda"
    assert second.entities[0].value == "Tambacounda" and second.entities[0].text == "Tamba"
    assert parsed.synonyms == {"national_id": ("CNI",)}
    with pytest.raises(InputError, match=r"x\.yml: nlu\[0\]: unknown intent 'ask_weather'"):
        data.reads(text.replace("ask_location", "ask_weather"), "x.yml", "en")
    with pytest.raises(InputError, match="unknown topic 'magic'"):
        data.reads(text.replace("topic: health", "topic: magic"), "x.yml", "en")


def test_dumps_then_reads_keeps_examples() -> None:
    training = data.load(NLU_DATA)
    french = training.for_language("fr")
    again = data.reads(data.dumps(training, french), "again.yml", "fr")
    assert Counter((e.text, e.intent, e.topic) for e in again.examples) == Counter(
        (e.text, e.intent, e.topic) for e in french)


def test_training_data_has_40_varied_examples_per_question_intent_and_language() -> None:
    training = data.load(NLU_DATA)
    for language in LANGUAGES:
        examples = training.for_language(language)
        counts = Counter(e.intent for e in examples)
        assert all(counts[intent] >= 40 for intent in QUESTION_INTENTS), (language, counts)
        texts = [e.text.casefold() for e in examples]
        assert len(set(texts)) == len(texts), f"duplicates in {language}"


def test_held_out_set_is_separate_from_training() -> None:
    training = {normalize(e.text) for e in data.load(NLU_DATA).examples}
    held_out = data.load_tests(NLU_TESTS)
    assert {e.language for e in held_out.examples} == set(LANGUAGES)
    overlap = [e.text for e in held_out.examples if normalize(e.text) in training]
    assert overlap == []


def _fold(text: str) -> str:
    """Lower case, Latin accents dropped, '-' as a space; one char per char, so offsets hold."""
    return "".join(" " if c == "-" else (
        unicodedata.normalize("NFD", c)[0] if c < "\u0250" else c).lower() for c in text)


def _region_names(language: str) -> re.Pattern[str]:
    """The language's lookup names as whole words, longest first; in Arabic a name may carry
    an attached ب/ل/ف (as in `بـ[تييس](region)`), which stays outside the annotation."""
    lookups = data.reads((NLU_DATA / language / "lookups.yml").read_text("utf-8-sig"),
                         "lookups.yml", language).lookups
    names = sorted({_fold(name) for name in lookups["region"]}, key=len, reverse=True)
    proclitic = "(?:[بلف]ـ?)?" if language == "ar" else ""
    return re.compile(rf"(?<!\w){proclitic}(?P<name>{'|'.join(map(re.escape, names))})(?!\w)")


def test_training_examples_annotate_every_region_they_name() -> None:
    training = data.load(NLU_DATA)
    missing: list[tuple[str, str]] = []
    for language in LANGUAGES:
        pattern = _region_names(language)
        for example in training.for_language(language):
            regions = [(e.start, e.end) for e in example.entities if e.entity == "region"]
            missing += [(example.text, m["name"]) for m in pattern.finditer(_fold(example.text))
                        if not any(start <= m.start("name") and m.end("name") <= end
                                   for start, end in regions)]
    assert missing == []


def test_emergencies_name_their_danger_and_small_talk_no_topic() -> None:
    """The guideline in nlu/data/FORMAT.md."""
    examples = data.load(NLU_DATA).examples
    assert {e.topic for e in examples if e.intent == "emergency"} == {
        "health", "safety", "psychosocial"}
    assert {e.topic for e in examples
            if e.intent in SMALL_TALK | {"out_of_scope"}} == {None}
