"""Language identification: the script decides Arabic; naive Bayes over the message's
character and word n-grams splits en/fr.

Short messages are unreliable for any detector, so a hint (the user's chosen language or
Telegram's language_code) wins when the text is short or the model is unsure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlu.normalize import scripts, tokens
from nlu.types import UNKNOWN

SHORT_WORDS = 3
SURE = 0.8


@dataclass(frozen=True)
class LanguageModel:
    """Multinomial naive Bayes over a message's TF-IDF row (the classifiers' own n-grams),
    for Latin-script text (en vs fr). Trained by `nlu.training.train_language`."""

    classes: tuple[str, ...]
    log_prior: np.ndarray  # (C,)
    log_likelihood: np.ndarray  # (F, C)

    def probabilities(self, row: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        indices, values = row
        joint = values @ self.log_likelihood[indices] + self.log_prior
        exp = np.exp(joint - joint.max())
        result: np.ndarray = exp / exp.sum()
        return result

    def identify(self, normalized: str, row: tuple[np.ndarray, np.ndarray],
                 hint: str | None = None) -> str:
        """en, fr, ar or unknown, from the normalised text and its TF-IDF row."""
        arabic, latin = scripts(normalized)
        if not arabic and not latin:
            return UNKNOWN
        if arabic >= latin:
            return "ar"
        probabilities = self.probabilities(row)
        best = int(probabilities.argmax())
        guess, sure = self.classes[best], float(probabilities[best]) >= SURE
        short = len(tokens(normalized)) < SHORT_WORDS
        if hint in ("en", "fr") and (short or not sure):
            return hint
        return guess
