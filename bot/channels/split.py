"""Splitting long HTML messages for Telegram's 4096 UTF-16 code unit limit. Pure."""

from __future__ import annotations

import html
import re

LIMIT = 4096
_TAG = re.compile(r"<[^>]*>")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Chunks of at most `limit` units, cut at line boundaries.

    Lines keep their tags balanced (the renderer never lets a tag span lines), so each
    chunk is valid HTML. A single line that is too long loses its markup and is cut at
    spaces. Counting the markup too is conservative: Telegram counts only visible text.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in _fitting_lines(text, limit):
        extra = utf16_length(line) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = utf16_length(line)
        current.append(line)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return [chunk for chunk in chunks if chunk.strip()]


def _fitting_lines(text: str, limit: int) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        if utf16_length(line) <= limit:
            lines.append(line)
        else:
            plain = html.unescape(_TAG.sub("", line))
            lines += [html.escape(piece, quote=False) for piece in _cut(plain, limit // 6)]
    return lines


def _cut(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` units (escaping can grow a piece up to 5 times), at spaces
    when possible, never inside a surrogate pair."""
    pieces: list[str] = []
    while utf16_length(text) > limit:
        end = limit
        while utf16_length(text[:end]) > limit:
            end -= 1
        space = text.rfind(" ", 0, end)
        end = space if space > end // 2 else end
        pieces.append(text[:end])
        text = text[end:].lstrip(" ")
    return [*pieces, text]
