"""Language identification: the script decides Arabic; a character model splits en/fr.

Short messages are unreliable for any detector, so a hint (the user's chosen language or
Telegram's language_code) wins when the text is short or the model is unsure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline

from nlu.normalize import scripts, tokens
from nlu.types import UNKNOWN

SHORT_WORDS = 3
SURE = 0.8


@dataclass(frozen=True)
class LanguageModel:
    latin: Pipeline  # en vs fr on Latin-script text

    @classmethod
    def train(cls, texts: Sequence[str], languages: Sequence[str]) -> LanguageModel:
        latin = [(t, lang) for t, lang in zip(texts, languages, strict=True) if lang != "ar"]
        pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
            MultinomialNB(alpha=0.1),
        )
        pipeline.fit([t for t, _ in latin], [lang for _, lang in latin])
        return cls(pipeline)

    def identify(self, normalized: str, hint: str | None = None) -> str:
        """en, fr, ar or unknown."""
        arabic, latin = scripts(normalized)
        if not arabic and not latin:
            return UNKNOWN
        if arabic >= latin:
            return "ar"
        probabilities = self.latin.predict_proba([normalized])[0]
        best = int(probabilities.argmax())
        guess, sure = str(self.latin.classes_[best]), float(probabilities[best]) >= SURE
        short = len(tokens(normalized)) < SHORT_WORDS
        if hint in ("en", "fr") and (short or not sure):
            return hint
        return guess
