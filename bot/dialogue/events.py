"""What goes into the dialogue core and what comes out: channel-neutral values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_TEXT = 4096  # longer input is cut before parsing; Telegram never sends more


@dataclass(frozen=True, slots=True)
class TextInput:
    text: str


@dataclass(frozen=True, slots=True)
class ButtonInput:
    data: str  # callback data: ids only, see bot.dialogue.callbacks


@dataclass(frozen=True, slots=True)
class CommandInput:
    name: str  # without the slash, lower case
    args: str = ""


@dataclass(frozen=True, slots=True)
class UnsupportedInput:
    kind: str  # voice, photo, sticker, document, location, contact, …


Event = TextInput | ButtonInput | CommandInput | UnsupportedInput


@dataclass(frozen=True, slots=True)
class Button:
    label: str  # plain text, already translated
    data: str


@dataclass(frozen=True, slots=True)
class Message:
    """One outgoing message: HTML (catalogue content already escaped) and button rows."""

    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is writing, as the channel knows them. `key` is already pseudonymous."""

    key: str
    channel: Literal["telegram", "console"]
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentChange:
    purpose: str
    given: bool
    version: int
    text_hash: str


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """The user wants a person; the handoff component decides what happens."""

    service_id: str | None = None
    topic: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    """The core's answer: messages to send, consent changes to record, a handoff to start."""

    messages: tuple[Message, ...]
    consents: tuple[ConsentChange, ...] = ()
    handoff: HandoffRequest | None = None
