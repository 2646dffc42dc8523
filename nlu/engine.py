"""The embedded NLU engine: train once, cache the model, then parse in a millisecond or a few.

Features are character and word n-grams of the normalised text plus multilingual sentence
embeddings (Google USE v3, numpy only; its token table memory-mapped and its tokenizer
unpickled from the model cache, see `nlu.embeddings`); linear SVMs (`nlu.linear`) and a
vote of the nearest training sentences (`nlu.neighbours`) classify intent and topic,
through a softmax of their scaled sum. A first stage of SVMs on the n-grams alone answers
without the embedding when it is sure (about half the messages). An emergency lexicon
overrides the classifier, unless the text tells the danger as over or not urgent (then it
only marks the result `urgent`); an emergency probability above a low floor marks the result
`urgent` (the contacts go out) without changing what was asked; a threshold rejects what
is out of scope. The trained model is immutable, so one instance serves concurrent
handlers.

Measured by cross-validation and dropped: a sparse-only model (about 8 points of intent
accuracy below, though it parses in half the time); the first stage with the sigmoid
probabilities used before the softmax (too flat to gate on without losing accuracy, mostly
on topics), or made of the full SVMs' n-gram weights (0.79 alone, no message sure enough);
an SVM on n-grams beside a ridge or LDA model of the embedding (fits 3.5 times faster,
English and out of scope 0.9 points lower); a logistic regression over all decision values
and votes instead of two scales (fr +0.3 and out of scope +1.3 points more, for 528
constants to refit); Arabic light stemming, question-marker features, per-language
feature copies and a topic gate on the emergency floor (no gain, or less recall); C of 0.5
or 2, char n-grams 1-5 and word n-grams 1-3 (no gain beyond fold noise); the embedding's
columns scaled by 0.6, 1.5 or 2 against the n-grams' (mixed across languages, or lower, also
with each writing round held out whole); gating emergencies on the unnormalised sigmoid,
on rank or on a ratio to the top intent (each buys accuracy with lexicon-off recall, no
better than moving the floor); a separate binary emergency
classifier (as many false alarms at the same recall); Crammer-Singer, hinge-loss, ridge and
SGD models (no gain); Arabic dialect words mapped to standard ones, for the n-grams or the
embedding (no gain, or less); neighbours of the same language only (2 to 3 points lower);
the embedding reduced to its 128 or 256 principal components for the SVMs (fits 2 and 1.3
times faster, 0.6 and 0.2 points lower); calibration folds of two (4 points lower).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import fields, is_dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from nlu import emergency
from nlu.data import data_files
from nlu.embeddings import Embedder
from nlu.linear import CalibratedLinear
from nlu.matcher import RegionGazetteer, ServiceMatcher
from nlu.model import Model
from nlu.normalize import normalize, tokens
from nlu.types import NO_TOPIC, UNKNOWN, ParseResult

log = logging.getLogger(__name__)

OUT_OF_SCOPE_THRESHOLD = 0.3  # chosen by cross-validation on the training data
# raises `urgent`: the highest floor with cross-validated recall 0.99 with the lexicon off
# and at most one miss in 2,000 with it on (0.0175 met the first, with three misses)
EMERGENCY_FLOOR = 0.01
# The first stage: the n-gram models answer alone, without the embedding (a parse in about a
# fifth of the time), when their top intent and topic reach these probabilities and the
# emergency's stays below NGRAM_EMERGENCY, with no lexicon hit. Chosen by cross-validation:
# the most messages (53 %) with no loss beyond 0.1 point of intent accuracy in any language,
# of topic accuracy or of out-of-scope rejection, and none of emergency recall.
NGRAM_INTENT, NGRAM_TOPIC, NGRAM_EMERGENCY = 0.94, 0.7, 0.007
STRONG_MATCH = 0.9  # a short message that names a service this clearly is about it
SERVICE_NAME_WORDS = 3  # longer ones that the classifier rejects stay rejected (by CV)
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
_NONE = np.zeros(0, dtype=np.float32)  # the embedding that n-gram models do without
_Rankings = tuple[list[tuple[str, float]], list[tuple[str, float]]]
_CODE = ("training.py", "features.py", "linear.py", "neighbours.py", "language.py", "model.py",
         "normalize.py", "data.py")


def fingerprint(*folders: Path) -> str:
    """A hash of the training data, the engine's code and the library version."""
    digest = hashlib.sha256(version("scikit-learn").encode())
    code = Path(__file__).resolve().parent
    for path in [*data_files(*folders), *(code / name for name in _CODE)]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def load_or_train(data_folder: Path, cache: Path, embedder: Embedder) -> Model:
    """The cached model for this data and code, training and caching it if needed."""
    key = fingerprint(data_folder)
    embedder.keep_files_in(cache)
    path = cache / f"model-{key}.joblib"
    if path.exists():
        try:
            model: Model = _plain(joblib.load(path, mmap_mode="r"))  # pages shared, read on use
            _remove_others(path)
            return model
        except Exception:
            log.warning("the cached NLU model could not be read; training again", exc_info=True)
    from nlu.data import load
    from nlu.training import train  # sklearn and scipy are imported only to train

    model = train(load(data_folder), embedder, key)
    cache.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")  # processes may train at once
    joblib.dump(model, temporary)
    temporary.replace(path)  # atomic: concurrent readers never see half a file
    _remove_others(path)
    return model


def _plain(value: Any) -> Any:
    """`value` with its memory-mapped arrays viewed as plain ones: the same shared pages,
    without np.memmap's indexing in Python (about 30 calls a parse)."""
    if isinstance(value, np.memmap):
        return value.view(np.ndarray)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _plain(getattr(value, f.name)) for f in fields(value)})
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _remove_others(model: Path) -> None:
    """Models of other data or code (about 27 MB each) go: one is trained again if needed."""
    for other in model.parent.glob("model-*.joblib"):
        if other != model:
            other.unlink(missing_ok=True)


class EmbeddedParser:
    """parse(text, hint_language) with the trained model, catalogue matcher and regions."""

    def __init__(
        self,
        model: Model,
        embedder: Embedder,
        matcher: ServiceMatcher,
        regions: RegionGazetteer,
    ) -> None:
        self.model, self.embedder, self.matcher, self.regions = model, embedder, matcher, regions

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        normalized = normalize(text)
        sparse = self.model.features.row(normalized)
        language = self.model.language.identify(normalized, sparse, hint_language)
        if language == UNKNOWN and not normalized:
            return ParseResult(text, UNKNOWN, "out_of_scope", 1.0)
        hit = emergency.detect(normalized)
        sure = None if hit is not None else self._from_ngrams(sparse)
        intents, topics = sure or self._from_embedding(text, sparse)
        intent, confidence = intents[0]
        predicted_topic, topic_confidence = topics[0]
        if hit is not None and not hit.calm:
            intent, confidence = "emergency", max(confidence, 0.99)
            predicted_topic, topic_confidence = hit.topic, max(topic_confidence, 0.99)
        elif intent != "emergency" and confidence < OUT_OF_SCOPE_THRESHOLD:
            intent = "out_of_scope"
        urgent = (hit is not None or intent == "emergency"
                  or dict(intents)["emergency"] >= EMERGENCY_FLOOR)
        matches = [] if intent in SMALL_TALK else self.matcher.match(normalized, predicted_topic)
        if (intent == "out_of_scope" and matches and matches[0].score >= STRONG_MATCH
                and len(tokens(normalized)) <= SERVICE_NAME_WORDS):
            intent, confidence = "ask_info", matches[0].score
            predicted_topic, topic_confidence = matches[0].category, matches[0].score
        if intent == "out_of_scope":
            matches = []
        topic = None if intent in SMALL_TALK or predicted_topic == NO_TOPIC else predicted_topic
        if topic is None:
            topic_confidence = 0.0
        return ParseResult(
            text=text, language=language, intent=intent, confidence=round(confidence, 4),
            urgent=urgent, topic=topic, topic_confidence=round(topic_confidence, 4),
            service_id=matches[0].service_id if matches else None,
            service_score=matches[0].score if matches else 0.0,
            alternatives=tuple(matches[1:]),
            entities=tuple(self.regions.find(normalized)),
            intent_ranking=tuple(intents[:5]),
        )

    def _from_ngrams(self, sparse: tuple[np.ndarray, np.ndarray]) -> _Rankings | None:
        """Intents and topics from the n-gram models alone, when they are sure of both and
        see no emergency; None otherwise."""
        model = self.model
        intents = _ranked(model.ngram_intent, model.ngram_intent.probabilities(sparse, _NONE))
        if intents[0][1] < NGRAM_INTENT or dict(intents)["emergency"] >= NGRAM_EMERGENCY:
            return None
        topics = _ranked(model.ngram_topic, model.ngram_topic.probabilities(sparse, _NONE))
        return (intents, topics) if topics[0][1] >= NGRAM_TOPIC else None

    def _from_embedding(self, text: str, sparse: tuple[np.ndarray, np.ndarray]) -> _Rankings:
        """Intents and topics from the n-grams, the sentence embedding and its neighbours."""
        neighbours, dense = self.model.neighbours, self.embedder.encode([text])[0]
        nearest = neighbours.nearest(dense)

        def ranked(task: str, classifier: CalibratedLinear) -> list[tuple[str, float]]:
            votes = neighbours.vote(nearest, task, len(classifier.classes))
            return _ranked(classifier, classifier.probabilities(sparse, dense, votes))

        return ranked("intent", self.model.intent), ranked("topic", self.model.topic)


def _ranked(classifier: CalibratedLinear, probabilities: np.ndarray) -> list[tuple[str, float]]:
    order = np.argsort(probabilities)[::-1]
    return [(str(classifier.classes[i]), float(probabilities[i])) for i in order]
