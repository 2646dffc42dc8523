"""The trained model: plain arrays and vocabularies, immutable, shared by all handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nlu.features import SparseFeatures
from nlu.language import LanguageModel
from nlu.linear import CalibratedLinear
from nlu.neighbours import Neighbours


@dataclass(frozen=True)
class Model:
    features: SparseFeatures
    intent: CalibratedLinear
    topic: CalibratedLinear
    ngram_intent: CalibratedLinear  # the first stage's, without the embedding
    ngram_topic: CalibratedLinear
    neighbours: Neighbours
    language: LanguageModel
    fingerprint: str
    # the training data's synonyms (place-name spellings): parsing needs no YAML
    synonyms: Mapping[str, tuple[str, ...]]
