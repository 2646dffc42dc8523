"""Service and region matching against the catalogue's names, keywords and synonyms.

Typos are forgiven by fuzzy token matching (rapidfuzz); every language's terms are searched
whatever the message language, since returnees mix languages.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from nlu.normalize import normalize, tokens
from nlu.types import Entity, ServiceMatch
from services_catalog.repository import SearchTerm
from services_catalog.schema import District, Region

FUZZY_CUTOFF = 84
MIN_SCORE = 0.5
TOPIC_BONUS = 0.15
_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ف", "ل")


def _stem(token: str) -> str:
    """Drop a leading Arabic article or conjunction, so 'بالمدرسه' meets 'مدرسه'."""
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


class _TokenIndex:
    """Fuzzy lookup from a message token to vocabulary tokens."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = sorted(set(vocabulary))
        self._exact = set(self.vocabulary)

    def similar(self, token: str) -> dict[str, float]:
        found = {token: 1.0} if token in self._exact else {}
        if len(token) >= 4:
            for match, score, _ in process.extract(token, self.vocabulary, scorer=fuzz.ratio,
                                                   score_cutoff=FUZZY_CUTOFF, limit=4):
                found.setdefault(match, score / 100)
        return found


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

    def match(
        self, normalized: str, topic: str | None = None, limit: int = 3
    ) -> list[ServiceMatch]:
        """Best services first; empty when nothing in the message names one."""
        seen: dict[str, float] = {}
        for token in {_stem(t) for t in tokens(normalized) if len(t) > 1}:
            for match, similarity in self._index.similar(token).items():
                seen[match] = max(seen.get(match, 0.0), similarity)
        scores: dict[str, float] = {}
        categories: dict[str, str] = {}
        for index in {i for tok in seen for i in self._by_token[tok]}:
            term = self._terms[index]
            weight = sum(self._idf[t] for t in term.tokens)
            covered = sum(self._idf[t] * seen.get(t, 0.0) for t in term.tokens) / weight
            if covered >= MIN_SCORE:
                bonus = TOPIC_BONUS if term.category == topic else 0.0
                score = min(1.0, covered * (0.8 + 0.05 * min(len(term.tokens), 4)) + bonus)
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
        self._choices = list(self._names)
        self._longest = max((len(n.split()) for n in self._names), default=1)

    def find(self, normalized: str) -> list[Entity]:
        """Region entities; `value` is the region or district code, offsets index `normalized`."""
        spans = [m.span() for m in re.finditer(r"\w+", normalized)]
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

    def _fuzzy(self, phrase: str) -> str | None:
        if len(phrase) < 5:
            return None
        best = process.extractOne(phrase, self._choices, scorer=fuzz.ratio, score_cutoff=88)
        return self._names[best[0]] if best else None
