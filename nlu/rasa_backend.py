"""A `Parser` backed by a running Rasa server (`rasa run --enable-api`), with a fallback.

Rasa gives the intent, its ranking and region entities; language, topic, service and
alternatives come from the fallback parser (Rasa knows none of them). Whenever Rasa cannot
answer (timeout, connection error, non-2xx status, malformed body) the fallback's result is
returned unchanged. Logs never contain the message text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from nlu.types import INTENTS, Entity, Parser, ParseResult
from services_catalog.errors import ReturneeBotError

log = logging.getLogger(__name__)

BACKEND = "rasa"
PARSE_PATH = "/model/parse"
OUT_OF_SCOPE = "out_of_scope"
REGION = "region"


class RasaResponseError(ReturneeBotError):
    """Rasa answered with a body that is not its documented parse result."""


def intent_label(name: object) -> str:
    """Our intent for a Rasa intent name: unknown names and nlu_fallback are out_of_scope."""
    return name if isinstance(name, str) and name in INTENTS else OUT_OF_SCOPE


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    """The value as a JSON object, or RasaResponseError."""
    if not isinstance(value, Mapping):
        raise RasaResponseError(f"{what} is not an object")
    return value


def _number(value: object, what: str) -> float:
    """The value as a float, or RasaResponseError (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RasaResponseError(f"{what} is not a number")
    return float(value)


def _list(value: object, what: str) -> list[Any]:
    """The value as a JSON array (missing means empty), or RasaResponseError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RasaResponseError(f"{what} is not a list")
    return value


def ranking(body: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
    """The intent ranking with our labels, first (highest) occurrence of each label kept."""
    ranked: dict[str, float] = {}
    for item in _list(body.get("intent_ranking"), "intent_ranking"):
        entry = _mapping(item, "intent_ranking item")
        label = intent_label(entry.get("name"))
        confidence = _number(entry.get("confidence"), "ranking confidence")
        ranked.setdefault(label, confidence)
    return tuple(ranked.items())


def _entity(item: object, text: str) -> Entity | None:
    """One Rasa entity as ours; None for entities other than region."""
    entry = _mapping(item, "entity")
    if entry.get("entity") != REGION:
        return None
    start, end = entry.get("start"), entry.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
        raise RasaResponseError("entity offsets are not valid")
    value = entry.get("value")
    surface = text[start:end]
    return Entity(REGION, value if isinstance(value, str) else surface, surface, start, end)


def entities(body: Mapping[str, Any], text: str) -> tuple[Entity, ...]:
    """The region entities Rasa found in text."""
    found = (_entity(item, text) for item in _list(body.get("entities"), "entities"))
    return tuple(entity for entity in found if entity is not None)


def from_rasa(body: object, base: ParseResult) -> ParseResult:
    """Combine Rasa's parse body with the fallback's result for the same text."""
    document = _mapping(body, "body")
    intent = _mapping(document.get("intent"), "intent")
    label = intent_label(intent.get("name"))
    return replace(
        base,
        intent=label,
        urgent=base.urgent or label == "emergency",  # the lexicon's alarm stands
        confidence=_number(intent.get("confidence"), "intent confidence"),
        intent_ranking=ranking(document),
        entities=entities(document, base.text),
        backend=BACKEND,
    )


class RasaParser:
    """Parses with a Rasa server; falls back to another parser when Rasa fails."""

    def __init__(self, url: str, fallback: Parser, timeout: float = 2.0,
                 client: httpx.Client | None = None) -> None:
        self._endpoint = url.rstrip("/") + PARSE_PATH
        self._fallback = fallback
        self._timeout = timeout
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        """Rasa's intent and regions on top of the fallback's result, or that result alone."""
        base = self._fallback.parse(text, hint_language)
        try:
            response = self._client.post(self._endpoint, json={"text": text},
                                         timeout=self._timeout)
            response.raise_for_status()
            return from_rasa(response.json(), base)
        except httpx.HTTPStatusError as error:
            self._warn(f"status {error.response.status_code}")
        except httpx.TimeoutException:
            self._warn("timeout")
        except httpx.HTTPError as error:
            self._warn(type(error).__name__)
        except ValueError:
            self._warn("body is not JSON")
        except RasaResponseError as error:
            self._warn(str(error))
        return base

    def _warn(self, reason: str) -> None:
        """Log why Rasa was skipped: the endpoint and reason, never the message."""
        log.warning("Rasa parse failed at %s (%s); using the fallback parser",
                    self._endpoint, reason)

    def close(self) -> None:
        """Close the HTTP client if this parser created it."""
        if self._owns_client:
            self._client.close()
