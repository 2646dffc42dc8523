from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nlu_setup import NLU_DATA, NLU_TESTS
from nlu import emergency
from nlu.data import load, load_tests
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, fingerprint, load_or_train
from nlu.model import Model
from nlu.normalize import normalize
from nlu.types import INTENTS, LANGUAGES, TOPICS, UNKNOWN, ParseResult

BIN = Path(sys.executable).parent / "returnee-bot"


def _valid(result: ParseResult) -> None:
    assert result.intent in INTENTS
    assert result.language in (*LANGUAGES, UNKNOWN)
    assert result.topic is None or result.topic in TOPICS
    assert 0.0 <= result.confidence <= 1.0 and 0.0 <= result.topic_confidence <= 1.0
    json.dumps(result.to_json())


@pytest.mark.parametrize("text", [
    "", "   ", "\n\t", "x" * 100_000, "😀😀😀", "🇸🇳", "\u0000\u0001\u0007", "\u200f\u202b\u202e",
    "مرحبا hello bonjour", "‏؟؟؟‏", "a" + "\u0301" * 5000, "<b>&amp;</b>", "R-2026-000123",
])
def test_bad_input_returns_a_valid_result(parser: EmbeddedParser, text: str) -> None:
    result = parser.parse(text)
    _valid(result)
    if not normalize(text):
        assert (result.language, result.intent) == (UNKNOWN, "out_of_scope")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_unicode_text_parses(parser: EmbeddedParser, text: str) -> None:
    _valid(parser.parse(text))


@pytest.mark.parametrize(("text", "language"), [
    ("where is the office for identity cards", "en"),
    ("ou se trouve le bureau pour la carte d'identite", "fr"),
    ("فين كاين المكتب ديال البطاقة الوطنية", "ar"),
])
def test_language_identification(parser: EmbeddedParser, text: str, language: str) -> None:
    assert parser.parse(text).language == language


def test_a_hint_decides_short_latin_text(parser: EmbeddedParser) -> None:
    assert parser.parse("ok merci", hint_language="fr").language == "fr"
    assert parser.parse("ok", hint_language="en").language == "en"


@pytest.mark.parametrize(("text", "service"), [
    ("i need a copy of my birth certificate", "birth-certificate-extract"),
    ("how do I get a birth certficate", "birth-certificate-extract"),  # typo
    ("extrait d'acte de naissance", "birth-certificate-extract"),
    ("national id card", "national-id-card"),
])
def test_service_matching_in_every_language_with_typos(
    parser: EmbeddedParser, text: str, service: str
) -> None:
    result = parser.parse(text)
    assert service in {result.service_id, *(a.service_id for a in result.alternatives)}


def test_region_entities_carry_catalogue_codes(parser: EmbeddedParser) -> None:
    found = [e.value for e in parser.parse("is there a clinic in kolda or in thies").entities]
    assert found == ["KLD", "THS"]  # regions win over their same-named districts
    assert [e.value for e in parser.parse("any office in pikine?").entities] == ["DKR-PIKINE"]


def test_every_region_spelling_in_the_lookup_table_is_found(parser: EmbeddedParser) -> None:
    spellings = load(NLU_DATA).lookups["region"]
    missed = [name for name in spellings
              if [e.text for e in parser.regions.find(normalize(name))] != [normalize(name)]]
    assert missed == []
    assert [e.value for e in parser.parse("je suis rentré à Tamba").entities] == ["TMB"]


@pytest.mark.parametrize(("text", "topic"), [
    ("I want to kill myself", "psychosocial"),
    ("je veux mourir", "psychosocial"),
    ("my husband beats me every night", "safety"),
    ("ils veulent me tuer", "safety"),
    ("ولدي فاقد الوعي", "health"),
    ("she is bleeding a lot", "health"),
])
def test_emergencies_are_caught(parser: EmbeddedParser, text: str, topic: str) -> None:
    result = parser.parse(text)
    assert (result.intent, result.topic, result.urgent) == ("emergency", topic, True)


def test_a_danger_told_as_over_is_urgent_but_keeps_what_was_asked(parser: EmbeddedParser) -> None:
    result = parser.parse("I was kidnapped in Sabha in 2022. Now I am safe at home in Kolda. "
                          "Is there any help for people who went through that?")
    assert result.urgent and result.intent != "emergency"
    assert parser.parse("they kidnapped my son an hour ago").intent == "emergency"


@pytest.mark.parametrize("text", ["hello", "thank you", "how much does the training cost",
                                  "où est le bureau de l'état civil"])
def test_ordinary_messages_are_not_urgent(parser: EmbeddedParser, text: str) -> None:
    assert not parser.parse(text).urgent


def test_lexicon_leaves_questions_about_past_events_to_the_classifier() -> None:
    assert emergency.detect(normalize("I was trafficked last year, is there help?")) is None
    assert emergency.detect(normalize("the school is far from the hospital")) is None


class _CountingEmbedder(Embedder):
    """The session's embedder, counting the messages it embeds."""

    def __init__(self, embedder: Embedder) -> None:
        super().__init__()
        self.inner = embedder
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.texts += texts
        return self.inner.encode(texts)


def test_sure_messages_skip_the_embedding_and_dangers_never_do(
    parser: EmbeddedParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _CountingEmbedder(parser.embedder)
    staged = EmbeddedParser(parser.model, counting, parser.matcher, parser.regions)
    sure = ["thank you very much", "merci beaucoup", "شكرا بزاف",
            "how much does the ID card cost", "where is the clinic in Kolda"]
    dangers = ["he has a knife and is coming", "j'ai avalé toutes les pilules",
               "they beat me in Libya last year, can I get help?"]  # calm: urgent, not emergency
    first = {text: staged.parse(text) for text in [*sure, *dangers]}
    assert counting.texts == dangers  # a lexicon hit always takes the whole model
    assert all(first[text].urgent for text in dangers)
    monkeypatch.setattr("nlu.engine.NGRAM_INTENT", 1.1)  # no message is ever that sure
    for text in sure:
        full = staged.parse(text)
        assert counting.texts[-1] == text
        assert (full.intent, full.topic, full.service_id) == (
            first[text].intent, first[text].topic, first[text].service_id)
        assert first[text].confidence >= 0.94 and not first[text].urgent


def test_clear_out_of_scope_is_rejected(parser: EmbeddedParser) -> None:
    assert parser.parse("who will win the champions league this year").intent == "out_of_scope"


def test_parser_is_safe_to_share_between_threads(parser: EmbeddedParser) -> None:
    texts = ["where is the clinic", "je cherche du travail", "بغيت نسجل ولدي فالمدرسة",
             "how much is the ID card", "merci", "I want to talk to a person"] * 5
    sequential = [parser.parse(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(parser.parse, texts))
    assert concurrent == sequential


def test_model_is_cached_by_data_and_code(
    model: Model, nlu_cache: Path, embedder: Embedder, tmp_path: Path
) -> None:
    assert (nlu_cache / f"model-{model.fingerprint}.joblib").exists()
    assert model.fingerprint == fingerprint(NLU_DATA)
    stale = nlu_cache / "model-0123456789abcdef.joblib"  # of older data or code
    stale.write_bytes(b"old")
    again = load_or_train(NLU_DATA, nlu_cache, embedder)
    assert again.fingerprint == model.fingerprint
    assert isinstance(again.neighbours.coarse.base, np.memmap)  # processes share the pages
    assert type(again.intent.classes) is np.ndarray  # indexed without np.memmap's Python
    assert type(again.neighbours.labels["intent"]) is np.ndarray
    assert not stale.exists() and len(list(nlu_cache.glob("model-*"))) == 1
    changed = tmp_path / "data"
    (changed / "en").mkdir(parents=True)
    (changed / "en" / "x.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n', "utf-8")
    assert fingerprint(changed) != model.fingerprint


@pytest.fixture
def cli_env(model: Model, nlu_cache: Path, tmp_path: Path) -> dict[str, str]:
    """The command's environment: the trained model's cache and an upgraded empty database."""
    env = {**os.environ, "NLU_CACHE_DIR": str(nlu_cache), "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    subprocess.run([str(BIN), "db", "upgrade"], env=env, check=True, capture_output=True)
    return env


def test_nlu_parse_command_reads_lines_and_writes_json_lines(cli_env: dict[str, str]) -> None:
    lines = "where can i get my ID card\nje veux parler à quelqu'un\n\nشكرا\n"
    result = subprocess.run([str(BIN), "nlu", "parse"], input=lines.encode("utf-8"), env=cli_env,
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert {"text", "language", "intent", "confidence", "topic", "service_id"} <= set(row)
    assert rows[1]["text"] == "je veux parler à quelqu'un" and rows[1]["language"] == "fr"
    assert rows[2]["intent"] == "out_of_scope" and rows[3]["language"] == "ar"


def test_nlu_evaluate_scores_the_held_out_set_unless_told_not_to(
    model: Model, cli_env: dict[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    scored = subprocess.run([str(BIN), "nlu", "evaluate", "--folds", "0", "--report",
                             str(report)], env=cli_env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert scored.returncode == 0, scored.stderr
    written = json.loads(report.read_text("utf-8"))
    assert set(written) == {"model", "held_out"} and written["model"] == model.fingerprint
    assert written["held_out"]["examples"] == len(load_tests(NLU_TESTS).examples)
    nothing = subprocess.run([str(BIN), "nlu", "evaluate", "--folds", "0", "--no-held-out"],
                             env=cli_env, capture_output=True, text=True, timeout=120, check=False)
    assert nothing.returncode == 2 and "Nothing to evaluate" in nothing.stderr
