"""Service and region matching against the catalogue's names, keywords and synonyms.

Typos are forgiven by fuzzy token matching (rapidfuzz); every language's terms are searched
whatever the message language, since returnees mix languages. Fuzzy lookups only score
choices whose length allows the cutoff, and are remembered per token or phrase (bounded).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from nlu.normalize import WORD, normalize, tokens
from nlu.types import Entity, ServiceMatch
from services_catalog.repository import SearchTerm
from services_catalog.schema import District, Region

FUZZY_CUTOFF = 84
_REGION_CUTOFF = 88
MIN_SCORE = 0.5
TOPIC_BONUS = 0.15
_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ف", "ل")
_PREFIX_STARTS = frozenset(p[0] for p in _ARABIC_PREFIXES)
REMEMBERED = 4096  # fuzzy lookups kept per matcher: tokens recur across messages
PHRASES_REMEMBERED = 16384  # region lookups kept: phrases of up to 3 words (about 3 MB)


def _stem(token: str) -> str:
    """Drop a leading Arabic article or conjunction, so 'بالمدرسه' meets 'مدرسه'."""
    if token[:1] not in _PREFIX_STARTS:
        return token
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix):]
    return token


def _terms_tokens(text: str) -> tuple[str, ...]:
    return tuple(_stem(t) for t in tokens(normalize(text)) if len(t) > 1)


@dataclass(frozen=True, slots=True)
class _Term:
    service_id: str
    category: str
    tokens: tuple[str, ...]


def _by_length(choices: Sequence[str], cutoff: float) -> Callable[[int], tuple[str, ...]]:
    """The choices, in order, that a text of a given length could reach `cutoff` with.

    fuzz.ratio is 100 * (1 - indel distance / total length), and the distance is at least
    the length difference, so the ratio is at most 200 * shorter / (both lengths).
    """
    lengths = sorted({len(c) for c in choices})

    @lru_cache(maxsize=256)
    def within(length: int) -> tuple[str, ...]:
        fits = {n for n in lengths if 200 * min(n, length) >= (cutoff - 1e-6) * (n + length)}
        return tuple(c for c in choices if len(c) in fits)

    return within


class _TokenIndex:
    """Fuzzy lookup from a message token to vocabulary tokens."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = sorted(set(vocabulary))
        self._exact = set(self.vocabulary)
        self._choices = _by_length(self.vocabulary, FUZZY_CUTOFF)
        self.similar = lru_cache(maxsize=REMEMBERED)(self._similar)

    def _similar(self, token: str) -> tuple[tuple[str, float], ...]:
        """(vocabulary token, similarity) pairs, the token itself first if known."""
        found = {token: 1.0} if token in self._exact else {}
        choices = self._choices(len(token)) if len(token) >= 4 else ()
        if choices:
            for match, score, _ in process.extract(token, choices, scorer=fuzz.ratio,
                                                   score_cutoff=FUZZY_CUTOFF, limit=4):
                found.setdefault(match, score / 100)
        return tuple(found.items())


class ServiceMatcher:
    """Ranks services for a message by how much of their terms it contains."""

    def __init__(self, terms: Iterable[SearchTerm]) -> None:
        self._terms = [_Term(t.service_id, t.category, _terms_tokens(t.term)) for t in terms]
        self._terms = [t for t in self._terms if t.tokens]
        frequency: dict[str, int] = defaultdict(int)
        for term in self._terms:
            for token in set(term.tokens):
                frequency[token] += 1
        total = max(len(self._terms), 1)
        self._idf = {tok: math.log(1 + total / count) for tok, count in frequency.items()}
        self._by_token: dict[str, list[int]] = defaultdict(list)
        for index, term in enumerate(self._terms):
            for token in set(term.tokens):
                self._by_token[token].append(index)
        self._index = _TokenIndex(self._idf)
        # per term: its tokens with their idf, the idf's sum and the factor for its length
        self._weighted = [tuple((self._idf[t], t) for t in term.tokens) for term in self._terms]
        self._totals = [sum(idf for idf, _ in weighted) for weighted in self._weighted]
        self._factors = [0.8 + 0.05 * min(len(term.tokens), 4) for term in self._terms]

    def match(
        self, normalized: str, topic: str | None = None, limit: int = 3
    ) -> list[ServiceMatch]:
        """Best services first; empty when nothing in the message names one."""
        seen: dict[str, float] = {}
        for token in {_stem(t) for t in tokens(normalized) if len(t) > 1}:
            for match, similarity in self._index.similar(token):
                seen[match] = max(seen.get(match, 0.0), similarity)
        scores: dict[str, float] = {}
        categories: dict[str, str] = {}
        for index in {i for tok in seen for i in self._by_token[tok]}:
            term = self._terms[index]
            covered = sum(idf * seen.get(t, 0.0) for idf, t in self._weighted[index])
            covered /= self._totals[index]
            if covered >= MIN_SCORE:
                bonus = TOPIC_BONUS if term.category == topic else 0.0
                score = min(1.0, covered * self._factors[index] + bonus)
                scores[term.service_id] = max(scores.get(term.service_id, 0.0), score)
                categories[term.service_id] = term.category
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [ServiceMatch(i, round(score, 3), categories[i]) for i, score in ranked]


class RegionGazetteer:
    """Finds region and district names (any language, common variants) in a message."""

    def __init__(self, regions: Sequence[Region], variants: Mapping[str, Sequence[str]]) -> None:
        names: dict[str, str] = {}
        # districts first, so a name that is also a region's (Kolda, Thiès) means the region
        places: list[Region | District] = [*(d for r in regions for d in r.districts), *regions]
        for place in places:
            for name in place.name.values():
                names[" ".join(_terms_tokens(name))] = place.id
        for canonical, spellings in variants.items():
            code = names.get(" ".join(_terms_tokens(canonical)))
            if code:
                for spelling in spellings:
                    names.setdefault(" ".join(_terms_tokens(spelling)), code)
        self._names = {name: code for name, code in names.items() if name}
        self._choices = _by_length(list(self._names), _REGION_CUTOFF)
        self._longest = max((len(n.split()) for n in self._names), default=1)
        self._fuzzy = lru_cache(maxsize=PHRASES_REMEMBERED)(self._closest)

    def find(self, normalized: str) -> list[Entity]:
        """Region entities; `value` is the region or district code, offsets index `normalized`."""
        spans = [m.span() for m in WORD.finditer(normalized)]
        words = [_stem(normalized[a:b]) for a, b in spans]
        found: list[Entity] = []
        index = 0
        while index < len(words):
            for size in range(min(self._longest, len(words) - index), 0, -1):
                phrase = " ".join(words[index:index + size])
                code = self._names.get(phrase) or self._fuzzy(phrase)
                if code:
                    start, end = spans[index][0], spans[index + size - 1][1]
                    found.append(Entity("region", code, normalized[start:end], start, end))
                    index += size - 1
                    break
            index += 1
        return found

    def _closest(self, phrase: str) -> str | None:
        choices = self._choices(len(phrase)) if len(phrase) >= 5 else ()
        if not choices:
            return None
        best = process.extractOne(phrase, choices, scorer=fuzz.ratio, score_cutoff=_REGION_CUTOFF)
        return self._names[best[0]] if best else None
