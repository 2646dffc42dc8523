"""Button data: short, stable ids (never translated text), at most 64 bytes.

`decode` is strict: anything forged, foreign or stale becomes None, and the core answers
politely instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_BYTES = 64
ASPECTS = {"d": "documents", "e": "eligibility", "p": "procedure", "w": "location",
           "f": "cost", "i": "info"}
ASPECT_CODES = {name: code for code, name in ASPECTS.items()}
PURPOSE_CODES = {"p": "store_profile", "s": "share_with_caseworker"}
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_CODE = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"

Kind = Literal[
    "menu", "language", "languages", "category", "region", "regions", "service", "aspect",
    "handoff", "urgent", "consent", "withdraw", "no", "draft", "follow_up", "helped", "erase",
]


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    value: str = ""
    extra: str = ""
    page: int = 0


_RULES: tuple[tuple[str, Kind], ...] = (
    (r"m", "menu"),
    (r"L", "languages"),
    (r"n", "no"),
    (r"E", "erase"),
    (r"l:(?P<value>[a-z]{2})", "language"),
    (r"c:(?P<value>[a-z_]{3,30})(?::(?P<page>[0-9]{1,3}))?", "category"),
    (rf"r:(?P<value>{_CODE}|\*)", "region"),
    (r"R:(?P<value>[a-z_]{3,30})", "regions"),
    (rf"s:(?P<value>{_SLUG})", "service"),
    (rf"a:(?P<extra>[depwfi]):(?P<value>{_SLUG})", "aspect"),
    (rf"h(?::(?P<value>{_SLUG}))?", "handoff"),
    (rf"u(?::(?P<value>{_SLUG}))?", "urgent"),
    (r"k:(?P<value>[ps]):(?P<extra>[yn])", "consent"),
    (r"w:(?P<value>[ps])", "withdraw"),
    (r"H:(?P<value>[ynhfsxc])", "draft"),
    (r"F:(?P<value>[0-9]{1,9}):(?P<extra>[ynp])", "follow_up"),  # ids fit a 32-bit INTEGER
    (r"D:(?P<value>[0-9]{1,9}):(?P<extra>[yn])", "helped"),
)
_PATTERNS = tuple((re.compile(pattern), kind) for pattern, kind in _RULES)


def decode(data: str) -> Action | None:
    """The action a button stands for, or None for anything not made by `encode`."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(data)
        if match:
            groups = match.groupdict()
            return Action(kind, groups.get("value") or "", groups.get("extra") or "",
                          int(groups.get("page") or 0))
    return None


def menu() -> str:
    return "m"


def languages() -> str:
    return "L"


def no() -> str:
    return "n"


def erase() -> str:
    """Confirms /delete."""
    return "E"


def language(code: str) -> str:
    return _checked(f"l:{code}")


def category(name: str, page: int = 0) -> str:
    return _checked(f"c:{name}:{page}" if page else f"c:{name}")


def region(code: str | None) -> str:
    return _checked(f"r:{code or '*'}")


def regions(category: str) -> str:
    """Pick a region, then show this category again."""
    return _checked(f"R:{category}")


def service(service_id: str) -> str:
    return _checked(f"s:{service_id}")


def aspect(name: str, service_id: str) -> str:
    return _checked(f"a:{ASPECT_CODES[name]}:{service_id}")


def handoff(service_id: str | None = None) -> str:
    return _checked(f"h:{service_id}" if service_id else "h")


def urgent(service_id: str | None = None) -> str:
    return _checked(f"u:{service_id}" if service_id else "u")


def consent(purpose: str, given: bool) -> str:
    code = {v: k for k, v in PURPOSE_CODES.items()}[purpose]
    return f"k:{code}:{'y' if given else 'n'}"


def withdraw(purpose: str) -> str:
    code = {v: k for k, v in PURPOSE_CODES.items()}[purpose]
    return f"w:{code}"


DRAFT = {"share": "y", "refuse": "n", "history": "h", "follow_up": "f", "skip": "s",
         "cancel": "c", "cancel_ticket": "x"}


def draft(step: str) -> str:
    """A step of preparing a handoff: share, refuse, toggles, skip, cancel."""
    return _checked(f"H:{DRAFT[step]}")


def follow_up(ticket_id: int, answer: str) -> str:
    """An answer to "did you receive the service?": y, n or p (partly)."""
    return _checked(f"F:{ticket_id}:{answer}")


def helped(ticket_id: int, answer: bool) -> str:
    return _checked(f"D:{ticket_id}:{'y' if answer else 'n'}")


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_BYTES or decode(data) is None:
        raise ValueError(f"cannot encode button data {data!r}")
    return data
