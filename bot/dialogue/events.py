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
class ConsentChange:
    purpose: str
    given: bool
    version: int
    text_hash: str


@dataclass(frozen=True, slots=True)
class Contact:
    """How a case worker can reach the user; stored only if the user agrees to share it."""

    chat_id: int
    first_name: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is writing, as the channel knows them. `key` is already pseudonymous."""

    key: str
    channel: Literal["telegram", "console"]
    language_code: str | None = None
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class TicketInfo:
    """The user's open ticket, as the conversation shows it."""

    id: int
    reference: str
    status: str
    response_hours: int


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """What the user agreed to share, exactly as previewed (and hashed into the consent)."""

    service_id: str | None
    topic: str | None
    region: str | None
    urgent: bool
    description: str | None
    history: tuple[str, ...]
    follow_up: bool
    consent: ConsentChange


@dataclass(frozen=True, slots=True)
class Gap:
    """An unmet need for the register: anonymised."""

    reason: str  # no_service_matched, no_service_in_region
    topic: str | None
    region: str | None


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """The user wants a person; the handoff component decides what happens."""

    service_id: str | None = None
    topic: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    """The core's answer: messages to send, and what the conversation service must record."""

    messages: tuple[Message, ...]
    consents: tuple[ConsentChange, ...] = ()
    handoff: HandoffRequest | None = None  # public contacts instead of a ticket
    ticket: TicketDraft | None = None  # create this ticket
    relay: bool = False  # copy the user's message to the case worker
    leave_human: bool = False  # the user went back to the bot
    cancel_ticket: bool = False
    follow_up: tuple[int, str] | None = None  # (ticket id, answer)
    helped: tuple[int, bool] | None = None
    gaps: tuple[Gap, ...] = ()
    erase: bool = False  # delete everything stored about the user
    export: bool = False  # send the user everything stored about them
