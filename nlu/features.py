"""Sparse text features at parse time, as plain Python and numpy.

`Analyzer` reproduces scikit-learn's `char_wb` and word n-gram analyzers (lower-casing,
`\\w+` tokens), and `SparseFeatures` a fitted TF-IDF union's `transform` for one text
(sublinear tf, idf, l2 per block), so that parsing needs neither sklearn nor scipy.
Equivalence with sklearn is checked in tests/nlu/test_features.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Analyzer:
    kind: Literal["char_wb", "word"]
    low: int
    high: int

    @classmethod
    def of(cls, vectorizer: Any) -> Analyzer:
        assert vectorizer.lowercase and vectorizer.strip_accents is None
        assert vectorizer.analyzer == "char_wb" or vectorizer.token_pattern == _WORD.pattern
        return cls(vectorizer.analyzer, *vectorizer.ngram_range)

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        return self._char_wb(text) if self.kind == "char_wb" else self._words(text)

    def _char_wb(self, text: str) -> list[str]:
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            padded = f" {word} "
            for n in range(self.low, self.high + 1):
                offset = 0
                grams.append(padded[offset:offset + n])
                while offset + n < len(padded):
                    offset += 1
                    grams.append(padded[offset:offset + n])
                if offset == 0:  # a word shorter than n counts once
                    break
        return grams

    def _words(self, text: str) -> list[str]:
        words = _WORD.findall(text)
        grams = list(words) if self.low == 1 else []
        for n in range(max(self.low, 2), min(self.high, len(words)) + 1):
            grams += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        return grams


@dataclass(frozen=True)
class SparseFeatures:
    blocks: tuple[tuple[Analyzer, dict[str, int], np.ndarray, int], ...]
    size: int

    @classmethod
    def of(cls, vectorizers: list[Any]) -> SparseFeatures:
        blocks, offset = [], 0
        for vectorizer in vectorizers:
            assert vectorizer.sublinear_tf and vectorizer.norm == "l2"
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            blocks.append((Analyzer.of(vectorizer), vocabulary, vectorizer.idf_, offset))
            offset += len(vocabulary)
        return cls(tuple(blocks), offset)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of one text as (column indices, values)."""
        indices: list[int] = []
        values: list[float] = []
        for analyze, vocabulary, idf, offset in self.blocks:
            counts = Counter(vocabulary[t] for t in analyze(text) if t in vocabulary)
            weights = {i: (1.0 + math.log(c)) * idf[i] for i, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for index, weight in weights.items():
                indices.append(offset + index)
                values.append(weight / norm)
        return np.asarray(indices, dtype=np.int64), np.asarray(values)
