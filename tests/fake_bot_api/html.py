"""Telegram's HTML parse mode, ported from TDLib's ``parse_html`` (MessageEntity.cpp).

``parse_html(text)`` returns the plain text and Bot API ``MessageEntity`` dicts (offsets in
UTF-16 code units) or raises :class:`EntityParseError` carrying Telegram's description.
Like Telegram, unknown named entities such as ``&nbsp;`` are kept literally, not rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler",
}  # fmt: skip
_PRIORITY = {  # TDLib's order for entities sharing a span
    "blockquote": 0, "expandable_blockquote": 1, "pre": 11, "code": 20, "text_link": 49,
    "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93, "spoiler": 94,
    "custom_emoji": 99,
}  # fmt: skip
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = frozenset(" \t\r\n\v\0")
_SPECIAL = re.compile(r"[<&]")
_BAD_UNICODE = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)
_URL_SCHEME = re.compile(r"^(?:https?|tg|ton|ftp)://", re.IGNORECASE)


class EntityParseError(ValueError):
    """Raised for malformed HTML; ``description`` is the full Bot API error text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def description(self) -> str:
        return f"Bad Request: can't parse entities: {self.reason}"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and limits."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    text_index: int  # index into the output parts where the entity's text starts


def _decode_entity(s: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``s[pos] == '&'``; None when it must be taken literally."""
    end = pos + 1
    if s[end] == "#":
        end += 1
        value = 0
        if s[end] == "x":
            end += 1
            while s[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(s[end], 16)
                end += 1
        else:
            while s[end].isdigit() and s[end].isascii():
                value = value * 10 + int(s[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        if 0xD800 <= value <= 0xDFFF:
            raise EntityParseError(_BAD_UNICODE)
        char = chr(value)
    else:
        while s[end].isascii() and s[end].isalpha():
            end += 1
        named = _NAMED.get(s[pos + 1 : end])
        if named is None:
            return None
        char = named
    if s[end] == ";":
        end += 1
    return char, end


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _fail(text: str, reason: str, index: int) -> EntityParseError:
    return EntityParseError(f"{reason} at byte offset {_byte_offset(text, index)}")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)``; raise EntityParseError if invalid."""
    s = text + "\0"
    n = len(text)
    parts: list[str] = []
    u16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    i = 0

    while i < n:
        c = s[i]
        if c == "&":
            decoded = _decode_entity(s, i)
            if decoded is not None:
                parts.append(decoded[0])
                u16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if c != "<":
            match = _SPECIAL.search(text, i + 1)
            j = match.start() if match else n
            chunk = text[i:j]
            parts.append(chunk)
            u16 += utf16_len(chunk)
            i = j
            continue
        begin = i
        i += 1
        if s[i] != "/":
            i = _parse_start_tag(s, text, begin, stack, u16, len(parts))
            continue
        # end tag
        if not stack:
            raise _fail(text, "Unexpected end tag", begin)
        while s[i] not in _SPACE and s[i] != ">":
            i += 1
        end_name = s[begin + 2 : i]
        while s[i] in _SPACE and s[i] != "\0":
            i += 1
        if s[i] != ">":
            raise _fail(text, "Unclosed end tag", begin)
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{opened.tag}>", found "</{end_name}>"'
            )
        if u16 > opened.utf16_offset:
            _close_entity(opened, u16, "".join(parts[opened.text_index :]), entities)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language only counts inside <pre>
    entities.sort(key=_sort_key)
    return "".join(parts), entities


def _parse_start_tag(
    s: str,
    text: str,
    begin: int,
    stack: list[_Open],
    u16: int,
    text_index: int,
) -> int:
    i = begin + 1
    while s[i] not in _SPACE and s[i] != ">":
        i += 1
    if s[i] == "\0":
        raise _fail(text, "Unclosed start tag", begin)
    tag = s[begin + 1 : i].lower()
    if tag not in _TAGS:
        raise _fail(text, f'Unsupported start tag "{tag}"', begin)
    argument = ""
    while s[i] != ">":
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] == ">":
            break
        attr_begin = i
        while s[i] not in _SPACE and s[i] != "=" and s[i] != ">":
            i += 1
        attr = s[attr_begin:i]
        if not attr:
            raise _fail(text, f'Empty attribute name in the tag "{tag}"', begin)
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] != "=":  # an attribute without a value
            if s[i] == "\0":
                raise _fail(text, f'Unclosed start tag "{tag}"', begin)
            if tag == "blockquote" and attr == "expandable":
                argument = "1"
            continue
        i += 1
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] == "\0":
            raise _fail(text, f'Unclosed start tag "{tag}"', begin)
        if s[i] not in "'\"":
            token_begin = i
            while _is_alnum(s[i]) or s[i] in ".-":
                i += 1
            value = s[token_begin:i].lower()
            if s[i] not in _SPACE and s[i] != ">":
                raise _fail(text, "Unexpected end of name token", token_begin)
        else:
            quote = s[i]
            i += 1
            chars: list[str] = []
            while s[i] != quote and s[i] != "\0":
                if s[i] == "&":
                    decoded = _decode_entity(s, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                chars.append(s[i])
                i += 1
            if s[i] == quote:
                i += 1
            value = "".join(chars)
        if s[i] == "\0":
            raise _fail(text, "Unclosed start tag", begin)
        if tag == "a" and attr == "href":
            argument = value
        elif tag == "code" and attr == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and attr == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "tg-emoji" and attr == "emoji-id":
            argument = value
        elif tag == "blockquote" and attr == "expandable":
            argument = "1"
    if tag == "span" and argument != "spoiler":
        raise _fail(text, 'Tag "span" must have class "tg-spoiler"', begin)
    stack.append(_Open(tag, argument, u16, text_index))
    return i + 1


def _check_url(url: str) -> str | None:
    """Validate and normalise a link the way Telegram does (approximately)."""
    if not url or any(ch in _SPACE for ch in url):
        return None
    match = _URL_SCHEME.match(url)
    if match is None:
        if "://" in url:
            return None
        url = f"http://{url}"
    elif not url.lower().startswith(("http://", "https://")):
        return url  # tg://, ton://, ...: kept as is
    host_end = len(url)
    for sep in "/?#":
        pos = url.find(sep, url.index("://") + 3)
        if pos != -1:
            host_end = min(host_end, pos)
    host = url[url.index("://") + 3 : host_end]
    if "." not in host.strip(".") and host.split(":")[0] != "localhost":
        return None
    if host_end == len(url) or url[host_end] != "/":
        url = f"{url[:host_end]}/{url[host_end:]}"
    return url


def _close_entity(opened: _Open, u16: int, inner_text: str, entities: list[dict[str, Any]]) -> None:
    offset, length, tag = opened.utf16_offset, u16 - opened.utf16_offset, opened.tag
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _SIMPLE:
        entities.append({"type": _SIMPLE[tag], "offset": offset, "length": length})
    elif tag == "a":
        url = _check_url(opened.argument or inner_text)
        if url is not None:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        if last is not None and same_span and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                entity["language"] = opened.argument
            entities.append(entity)
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": opened.argument,
            }
        )
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _sort_key(entity: dict[str, Any]) -> tuple[int, int, int]:
    return entity["offset"], -entity["length"], _PRIORITY.get(entity["type"], 50)


_NEEDS_CLEANING = re.compile("[\x00-\x09\x0b-\x1f\u2028-\u202e\u030a\u0333\u033f]")
_REMOVED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u030a\u0333\u033f")
_BLANK = frozenset(" \n")


def clean_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Apply Telegram's post-processing (TDLib ``fix_formatted_text``) to a parsed text.

    Control characters become spaces, ``\\r`` and a few invisible characters are removed,
    entities covering only whitespace are dropped, and the text is trimmed (leading blanks
    only up to the first entity). Returns ``("", [])`` when nothing visible remains.
    """
    if _NEEDS_CLEANING.search(text):
        text, entities = _replace_characters(text, entities)
    units = text.encode("utf-16-le")

    def blank(entity: dict[str, Any]) -> bool:
        start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
        return not units[start:end].decode("utf-16-le", "replace").strip(" \n")

    entities = [dict(e) for e in entities if e["length"] > 0 and not blank(e)]
    stripped = text.rstrip(" \n")
    if not stripped:
        return "", []
    end = utf16_len(stripped)
    for entity in entities:
        entity["length"] = min(entity["length"], end - entity["offset"])
    first_entity = min((e["offset"] for e in entities), default=end)
    shift = 0
    while shift < first_entity and stripped[shift] in _BLANK:
        shift += 1
    for entity in entities:
        entity["offset"] -= shift
    return stripped[shift:], entities


def _replace_characters(
    text: str, entities: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    chars: list[str] = []
    mapping: dict[int, int] = {}
    old = new = 0
    for ch in text:
        mapping[old] = new
        width = 2 if ord(ch) > 0xFFFF else 1
        old += width
        if ch in _REMOVED:
            continue
        if ord(ch) < 32 and ch != "\n":
            ch = " "
        chars.append(ch)
        new += width
    mapping[old] = new
    moved = []
    for entity in entities:
        start = mapping.get(entity["offset"], new)
        stop = mapping.get(entity["offset"] + entity["length"], new)
        moved.append({**entity, "offset": start, "length": stop - start})
    return "".join(chars), moved
