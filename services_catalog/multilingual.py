"""Multilingual text: a mapping language -> text, resolved through a fallback chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

LANGUAGES: tuple[str, ...] = ("en", "fr", "ar")


@dataclass(frozen=True, slots=True)
class Resolved:
    """A text picked for a requested language; `language` says which one was used."""

    text: str
    language: str
    requested: str

    @property
    def is_fallback(self) -> bool:
        return self.language != self.requested


@dataclass(frozen=True, slots=True)
class FallbackChain:
    """Which languages to try, in order, when a text lacks the requested one."""

    default: str = "en"
    fallbacks: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def order(self, language: str) -> tuple[str, ...]:
        chain = [language, *self.fallbacks.get(language, ()), self.default]
        return tuple(dict.fromkeys(chain))

    def resolve(self, text: Mapping[str, str] | None, language: str) -> Resolved | None:
        """The first non-empty text along the chain, or None when the text has none."""
        if not text:
            return None
        for candidate in self.order(language):
            value = text.get(candidate)
            if value:
                return Resolved(value, candidate, language)
        first = next(iter(sorted(text.items())), None)
        return Resolved(first[1], first[0], language) if first else None

    def text(self, text: Mapping[str, str] | None, language: str) -> str:
        """Just the string, '' when nothing is available."""
        resolved = self.resolve(text, language)
        return resolved.text if resolved else ""
