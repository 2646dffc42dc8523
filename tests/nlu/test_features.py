"""The numpy prediction path gives what scikit-learn would, without importing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

from bot.nlu_setup import NLU_DATA, NLU_TESTS
from nlu.data import load, load_tests
from nlu.embeddings import Embedder
from nlu.features import Analyzer, SparseFeatures
from nlu.linear import CalibratedLinear
from nlu.normalize import normalize
from nlu.training import SCALES, _classifier, _vectorizers, train_language
from tests.conftest import PROJECT

CORPUS = ["où est la clinique ?", "where is  the clinic", "فين كاين السبيطار", "a", "",
          "R-2026-000123 ok!!", "jveu   parler a qqn", "école école école"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_analyzers_match_sklearn(text: str) -> None:
    for vectorizer in [*_vectorizers(), TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4))]:
        assert Analyzer.of(vectorizer)(text) == vectorizer.build_analyzer()(text)


def test_sparse_rows_match_transform() -> None:
    vectorizers = [v.fit(CORPUS) for v in _vectorizers()]
    features = SparseFeatures.of(vectorizers)
    for text in [*CORPUS, "la clinique where", "nothing known here"]:
        dense = hstack([v.transform([text]) for v in vectorizers]).toarray()[0]
        indices, values = features.row(text)
        expected = np.zeros(features.size)
        expected[indices] = values
        assert np.allclose(dense, expected)


def test_features_keep_their_rows_through_a_memory_mapped_joblib_file(tmp_path: Path) -> None:
    texts = [normalize(e.text) for e in load(NLU_DATA).for_language("fr")[:300]]
    features = SparseFeatures.of([v.fit(texts) for v in _vectorizers()])
    joblib.dump(features, tmp_path / "features.joblib")
    again = joblib.load(tmp_path / "features.joblib", mmap_mode="r")
    assert again.size == features.size
    for text in [*texts[:50], "rien de connu ici", ""]:
        (indices, values), (indices2, values2) = features.row(text), again.row(text)
        assert indices.tolist() == indices2.tolist() and np.allclose(values, values2)


def test_calibrated_linear_and_language_model_match_sklearn(embedder: Embedder) -> None:
    examples = load(NLU_DATA).examples
    texts = [normalize(e.text) for e in examples]
    vectorizers = [v.fit(texts) for v in _vectorizers()]
    ngrams = hstack([v.transform(texts) for v in vectorizers]).tocsr()
    matrix = hstack([ngrams, csr_matrix(embedder.encode([e.text for e in examples]))]).tocsr()
    fitted = _classifier("topic").fit(matrix, [e.topic or "none" for e in examples])
    sparse = SparseFeatures.of(vectorizers)
    slope, vote_weight = SCALES["topic"]
    fast = CalibratedLinear.from_svm(fitted, sparse.size, (slope, vote_weight))
    held_out = load_tests(NLU_TESTS).examples[:60]
    normalized = [normalize(e.text) for e in held_out]
    embedded = embedder.encode([e.text for e in held_out])
    decisions = fitted.decision_function(hstack([*(v.transform(normalized) for v in vectorizers),
                                                 csr_matrix(embedded)]).tocsr())
    votes = np.random.default_rng(0).dirichlet(np.ones(len(fitted.classes_)), len(held_out))
    expected = np.exp(slope * decisions + vote_weight * votes)
    expected /= expected.sum(axis=1, keepdims=True)
    mine = np.stack([fast.probabilities(sparse.row(t), embedded[i], votes[i])
                     for i, t in enumerate(normalized)])
    assert np.abs(mine - expected).max() < 1e-6

    languages = [e.language for e in examples]
    language = train_language(ngrams, languages)
    latin = [row for row, name in enumerate(languages) if name != "ar"]
    bayes = MultinomialNB(alpha=0.1).fit(ngrams[latin], [languages[row] for row in latin])
    latin_held_out = [t for t, e in zip(normalized, held_out, strict=True) if e.language != "ar"]
    expected = bayes.predict_proba(hstack([v.transform(latin_held_out) for v in vectorizers]))
    mine = np.stack([language.probabilities(sparse.row(t)) for t in latin_held_out])
    assert language.classes == ("en", "fr") and np.abs(mine - expected).max() < 1e-9
    for text, name in [("je voudrais savoir ou se trouve le bureau", "fr"),
                       ("i would like to know where the office is", "en")]:
        assert language.identify(text, sparse.row(text)) == name


def test_parsing_imports_neither_sklearn_nor_scipy() -> None:
    code = ("import sys\n"
            "import nlu.engine, nlu.features, nlu.linear, nlu.language, bot.nlu_setup\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT, check=True)
    assert result.stdout.strip() == "[]"


def test_a_two_class_svm_scores_both_classes() -> None:
    from sklearn.svm import LinearSVC

    rows = np.array([[1.0, 0.0, 0.2], [0.9, 0.1, 0.1], [0.0, 1.0, 0.3], [0.1, 0.8, 0.2]])
    fitted = LinearSVC().fit(rows, ["a", "a", "b", "b"])
    linear = CalibratedLinear.from_svm(fitted, 2, (4.9, 0.5))
    for row in rows:
        proba = linear.probabilities((np.array([0, 1]), row[:2]), row[2:].astype(np.float32),
                                     np.zeros(2))
        decision = fitted.decision_function(row[None])[0]  # > 0: the second class
        assert proba.sum() == pytest.approx(1.0)
        assert (proba[1] > proba[0]) == (decision > 0)
