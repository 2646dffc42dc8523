"""A user's conversation state: small, JSON-serialisable, tolerant of old or corrupt data."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class State:
    language: str | None = None
    region: str | None = None
    service_id: str | None = None  # the service being discussed, for follow-up questions
    pending: str | None = None  # a button action to resume once the region is known
    offer: str | None = None  # the action a "yes" accepts (e.g. a handoff offer)
    misunderstandings: int = 0
    consents: Mapping[str, int] = field(default_factory=dict)  # purpose -> version given
    asked: Mapping[str, int] = field(default_factory=dict)  # purpose -> version last asked
    draft: Mapping[str, Any] | None = None  # a handoff being prepared, see Draft
    ticket: int | None = None  # the user's open ticket
    human: bool = False  # a case worker is talking: the bot only relays
    blocked: bool = False  # the user blocked the bot: send them nothing until they write

    def replace(self, **changes: Any) -> State:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: Any) -> State:
        """Reads stored state; unknown keys and wrongly typed values fall back to defaults."""
        if not isinstance(data, Mapping):
            return cls()
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = data.get(f.name)
            if f.name in ("consents", "asked"):
                if isinstance(value, Mapping):
                    values[f.name] = {str(k): v for k, v in value.items() if type(v) is int}
            elif f.name == "draft":
                if isinstance(value, Mapping):
                    values[f.name] = dict(value)
            elif f.name in ("misunderstandings", "ticket"):
                if type(value) is int and value >= 0:
                    values[f.name] = value
            elif f.name in ("human", "blocked"):
                if type(value) is bool:
                    values[f.name] = value
            elif isinstance(value, str):
                values[f.name] = value
        return cls(**values)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value
