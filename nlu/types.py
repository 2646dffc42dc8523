"""The label contract and the typed result every NLU backend returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, get_args

from services_catalog.schema import CATEGORIES

Intent = Literal[
    "greet", "goodbye", "thank", "affirm", "deny",
    "ask_info", "ask_documents", "ask_eligibility", "ask_procedure", "ask_location", "ask_cost",
    "list_services", "request_human", "emergency", "out_of_scope",
]
INTENTS: tuple[str, ...] = get_args(Intent)
QUESTION_INTENTS: tuple[str, ...] = (
    "ask_info", "ask_documents", "ask_eligibility", "ask_procedure", "ask_location", "ask_cost",
)
TOPICS: tuple[str, ...] = CATEGORIES
LANGUAGES: tuple[str, ...] = ("en", "fr", "ar")
UNKNOWN = "unknown"
NO_TOPIC = "none"


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ServiceMatch:
    service_id: str
    score: float
    category: str = ""


@dataclass(frozen=True, slots=True)
class ParseResult:
    text: str
    language: str
    intent: str
    confidence: float
    urgent: bool = False  # maybe danger now: show the emergency contacts, whatever the intent
    topic: str | None = None
    topic_confidence: float = 0.0
    service_id: str | None = None
    service_score: float = 0.0
    alternatives: tuple[ServiceMatch, ...] = ()
    entities: tuple[Entity, ...] = ()
    intent_ranking: tuple[tuple[str, float], ...] = field(default=())
    backend: str = "embedded"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["intent_ranking"] = [{"name": n, "confidence": c} for n, c in self.intent_ranking]
        return data


class Parser(Protocol):
    def parse(self, text: str, hint_language: str | None = None) -> ParseResult: ...
