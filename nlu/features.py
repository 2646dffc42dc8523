"""Sparse text features at parse time, as plain Python and numpy.

`Analyzer` reproduces scikit-learn's `char_wb` and word n-gram analyzers (lower-casing,
`\\w+` tokens), and `SparseFeatures` a fitted TF-IDF union's `transform` for one text
(sublinear tf, idf, l2 per block), so that parsing needs neither sklearn nor scipy.
Character n-grams never cross words, so each word's columns are remembered (bounded).
Equivalence with sklearn is checked in tests/nlu/test_features.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from itertools import chain
from typing import Any, Literal

import numpy as np

from nlu.normalize import WORD

WORDS_REMEMBERED = 4096  # per character block, about 3 MB: words recur across messages
_WHITE_SPACES = re.compile(r"\s\s+")
_SEPARATOR = "\x00"  # never in normalised text, so never in an n-gram


@dataclass(frozen=True, slots=True)
class Analyzer:
    kind: Literal["char_wb", "word"]
    low: int
    high: int

    @classmethod
    def of(cls, vectorizer: Any) -> Analyzer:
        assert vectorizer.lowercase and vectorizer.strip_accents is None
        assert vectorizer.analyzer == "char_wb" or vectorizer.token_pattern == WORD.pattern
        return cls(vectorizer.analyzer, *vectorizer.ngram_range)

    def __call__(self, text: str) -> list[str]:
        if self.kind == "word":
            return self._words(text.lower())
        return [gram for word in self.words(text) for gram in self.word_grams(word)]

    @staticmethod
    def words(text: str) -> list[str]:
        """The words that `char_wb` n-grams are taken from."""
        return _WHITE_SPACES.sub(" ", text.lower()).split()

    def word_grams(self, word: str) -> list[str]:
        """One word's `char_wb` n-grams, padded with a space each side."""
        grams: list[str] = []
        padded = f" {word} "
        size = len(padded)
        for n in range(self.low, self.high + 1):
            if size <= n:  # a word no longer than n counts once, as a whole
                grams.append(padded)
                break
            grams += [padded[i:i + n] for i in range(size - n + 1)]
        return grams

    def _words(self, text: str) -> list[str]:
        words = WORD.findall(text)
        grams = list(words) if self.low == 1 else []
        for n in range(max(self.low, 2), min(self.high, len(words)) + 1):
            grams += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        return grams


@dataclass(frozen=True)
class SparseFeatures:
    # per block: analyzer, vocabulary, idf (plain floats: quicker than numpy one at a time)
    # and the block's first column
    blocks: tuple[tuple[Analyzer, dict[str, int], tuple[float, ...], int], ...]
    size: int

    @classmethod
    def of(cls, vectorizers: list[Any]) -> SparseFeatures:
        blocks, offset = [], 0
        for vectorizer in vectorizers:
            assert vectorizer.sublinear_tf and vectorizer.norm == "l2"
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            idf = tuple(float(v) for v in vectorizer.idf_)
            blocks.append((Analyzer.of(vectorizer), vocabulary, idf, offset))
            offset += len(vocabulary)
        return cls(tuple(blocks), offset)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of one text as (column indices, values)."""
        indices: list[int] = []
        values: list[float] = []
        for (analyze, vocabulary, idf, offset), word_columns in zip(
                self.blocks, self._word_columns, strict=True):
            # counted in order of first occurrence, as sklearn counts columns
            if word_columns is None:
                counts = [(i, c) for gram, c in Counter(analyze(text)).items()
                          if (i := vocabulary.get(gram)) is not None]
            else:
                words = analyze.words(text)
                counts = list(Counter(chain.from_iterable(map(word_columns, words))).items())
            weights = [idf[i] if c == 1 else (1.0 + math.log(c)) * idf[i] for i, c in counts]
            norm = math.sqrt(sum(w * w for w in weights)) or 1.0
            indices += [offset + i for i, _ in counts]
            values += [w / norm for w in weights]
        return np.asarray(indices, dtype=np.int64), np.asarray(values)

    @cached_property
    def _word_columns(self) -> tuple[Callable[[str], tuple[int, ...]] | None, ...]:
        """Per `char_wb` block, a word's columns in n-gram order, remembered."""
        return tuple(
            lru_cache(maxsize=WORDS_REMEMBERED)(partial(_columns, analyze, vocabulary))
            if analyze.kind == "char_wb" else None
            for analyze, vocabulary, _, _ in self.blocks)

    def __getstate__(self) -> dict[str, Any]:
        """Each block's n-grams as one string and its idf as one array, not an object per
        n-gram: joblib unpickles objects one at a time in pure Python (0.5 s for 70,000),
        while it reads arrays whole or maps them. The remembered words are left out."""
        return {"size": self.size, "blocks": tuple(
            (analyze, _SEPARATOR.join(sorted(vocabulary, key=vocabulary.__getitem__)),
             np.asarray(idf), offset)
            for analyze, vocabulary, idf, offset in self.blocks)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        blocks = []
        for analyze, grams, idf, offset in state["blocks"]:
            names = grams.split(_SEPARATOR) if grams else []
            vocabulary = {name: column for column, name in enumerate(names)}
            blocks.append((analyze, vocabulary, tuple(idf.tolist()), offset))
        self.__dict__.update(blocks=tuple(blocks), size=state["size"])  # frozen: no setattr


def _columns(analyze: Analyzer, vocabulary: dict[str, int], word: str) -> tuple[int, ...]:
    return tuple(i for gram in analyze.word_grams(word) if (i := vocabulary.get(gram)) is not None)
