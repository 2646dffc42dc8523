"""A turn being built by the dialogue core and its flows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.dialogue.events import (
    Button,
    ConsentChange,
    Gap,
    HandoffRequest,
    Message,
    TicketDraft,
    TicketInfo,
    Turn,
    Visitor,
)
from bot.dialogue.state import State


@dataclass
class Reply:
    state: State
    visitor: Visitor
    open_ticket: TicketInfo | None = None
    recent: tuple[str, ...] = ()  # the user's last messages, kept in memory only
    messages: list[Message] = field(default_factory=list)
    consents: list[ConsentChange] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    handoff: HandoffRequest | None = None
    ticket: TicketDraft | None = None
    relay: bool = False
    leave_human: bool = False
    cancel_ticket: bool = False
    follow_up: tuple[int, str] | None = None
    helped: tuple[int, bool] | None = None
    erase: bool = False
    export: bool = False

    def say(self, html: str, *rows: Sequence[Button]) -> None:
        """Adds a message; one without buttons is joined to the next (fewer bubbles)."""
        if self.messages and not self.messages[-1].buttons:
            html = f"{self.messages.pop().html}\n\n{html}"
        self.messages.append(Message(html, tuple(tuple(row) for row in rows if row)))

    def turn(self) -> Turn:
        return Turn(tuple(self.messages), tuple(self.consents), self.handoff, self.ticket,
                    self.relay, self.leave_human, self.cancel_ticket, self.follow_up,
                    self.helped, tuple(self.gaps), self.erase, self.export)
