"""The console channel: the same dialogue in a terminal, buttons as numbered choices."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Sequence

from bot.conversation import Conversation
from bot.dialogue.events import (
    Button,
    ButtonInput,
    CommandInput,
    Event,
    Message,
    TextInput,
    Visitor,
)

_TAG = re.compile(r"<[^>]*>")
QUIT = ("/quit", "/exit")


def plain(message_html: str) -> str:
    return html.unescape(_TAG.sub("", message_html))


def render(messages: Sequence[Message]) -> tuple[str, list[Button]]:
    """The messages as text, with every button numbered from 1."""
    lines: list[str] = []
    buttons: list[Button] = []
    for message in messages:
        lines += [plain(message.html), ""]
        for row in message.buttons:
            for button in row:
                buttons.append(button)
                lines.append(f"  [{len(buttons)}] {button.label}")
        if message.buttons:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n", buttons


def event_for(line: str, buttons: Sequence[Button]) -> Event:
    """A number picks a button, /word is a command, anything else is text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return ButtonInput(buttons[int(text) - 1].data)
    if text.startswith("/") and len(text) > 1:
        name, _space, args = text[1:].partition(" ")
        return CommandInput(name.lower(), args.strip())
    return TextInput(line)


async def chat(
    conversation: Conversation,
    visitor: Visitor,
    read: Callable[[], Awaitable[str | None]],
    write: Callable[[str], None],
) -> None:
    """Runs until end of input or /quit."""
    buttons: list[Button] = []
    event: Event = CommandInput("start")
    while True:
        text, buttons = render((await conversation.handle(visitor, event)).messages)
        write(text)
        line = await read()
        if line is None or line.strip().lower() in QUIT:
            return
        event = event_for(line, buttons)
