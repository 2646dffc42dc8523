"""Language identification: the script decides Arabic; a character model splits en/fr.

Short messages are unreliable for any detector, so a hint (the user's chosen language or
Telegram's language_code) wins when the text is short or the model is unsure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

from nlu.linear import SparseFeatures
from nlu.normalize import scripts, tokens
from nlu.types import UNKNOWN

SHORT_WORDS = 3
SURE = 0.8


@dataclass(frozen=True)
class LanguageModel:
    """Multinomial naive Bayes over character n-grams, for Latin-script text (en vs fr)."""

    features: SparseFeatures
    classes: tuple[str, ...]
    log_prior: np.ndarray  # (C,)
    log_likelihood: np.ndarray  # (F, C)

    @classmethod
    def train(cls, texts: Sequence[str], languages: Sequence[str]) -> LanguageModel:
        latin = [(t, lang) for t, lang in zip(texts, languages, strict=True) if lang != "ar"]
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
        model = MultinomialNB(alpha=0.1).fit(vectorizer.fit_transform([t for t, _ in latin]),
                                             [lang for _, lang in latin])
        return cls(SparseFeatures.from_vectorizers([vectorizer]),
                   tuple(str(c) for c in model.classes_), model.class_log_prior_,
                   np.ascontiguousarray(model.feature_log_prob_.T))

    def probabilities(self, normalized: str) -> np.ndarray:
        indices, values = self.features.row(normalized)
        joint = values @ self.log_likelihood[indices] + self.log_prior
        exp = np.exp(joint - joint.max())
        result: np.ndarray = exp / exp.sum()
        return result

    def identify(self, normalized: str, hint: str | None = None) -> str:
        """en, fr, ar or unknown."""
        arabic, latin = scripts(normalized)
        if not arabic and not latin:
            return UNKNOWN
        if arabic >= latin:
            return "ar"
        probabilities = self.probabilities(normalized)
        best = int(probabilities.argmax())
        guess, sure = self.classes[best], float(probabilities[best]) >= SURE
        short = len(tokens(normalized)) < SHORT_WORDS
        if hint in ("en", "fr") and (short or not sure):
            return hint
        return guess
