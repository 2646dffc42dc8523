"""Request parameters: decoding PTB's form values and validating formatted text and keyboards."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .html import EntityParseError, clean_text, parse_html, utf16_len
from .records import ApiError, Button, JSONDict, bad_request

# PTB sends every non-string value JSON-encoded inside a form field; strings are sent raw.
# Only these fields are decoded, so a text such as "123" or "true" stays a string.
_JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "reply_parameters",
        "link_preview_options", "commands", "scope", "allowed_updates", "media", "results",
        "permissions", "options", "explanation_entities", "message_ids", "reaction",
    }
)  # fmt: skip
_INT_FIELDS = frozenset(
    {
        "chat_id", "from_chat_id", "message_id", "message_thread_id", "offset", "limit",
        "timeout", "cache_time", "icon_color", "reply_to_message_id", "user_id",
        "max_connections", "duration", "width", "height",
    }
)  # fmt: skip
_BOOL_FIELDS = frozenset(
    {
        "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "allow_paid_broadcast",
        "disable_content_type_detection", "show_caption_above_media", "has_spoiler",
    }
)  # fmt: skip
_BAD_BUTTON = "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


def decode_params(raw: Mapping[str, Any]) -> JSONDict:
    """Typed parameters from form/query strings (JSON bodies pass through unchanged)."""
    params: JSONDict = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if name in _JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise bad_request(f"can't parse {name} JSON object") from None
            elif name in _INT_FIELDS:
                value = _maybe_int(value)
            elif name in _BOOL_FIELDS:
                value = value.lower() in ("true", "1")
        params[name] = value
    return params


def _maybe_int(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # e.g. "@channelusername"


class Params:
    """Typed, Telegram-flavoured access to one request's parameters."""

    __slots__ = ("data",)

    def __init__(self, data: JSONDict) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list | bool) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool | int):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def required_int(self, name: str, missing: str | None = None) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def flag(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


@dataclass(frozen=True)
class Formatted:
    """Text after parse-mode processing, as Telegram would store it."""

    text: str
    entities: tuple[JSONDict, ...]
    raw: str
    parse_mode: str | None


def format_text(
    p: Params,
    field: str,
    entities_field: str,
    *,
    limit: int,
    too_long: str,
    empty: str | None,
) -> Formatted:
    """Parse ``field`` with ``parse_mode`` (HTML only) or explicit entities, then validate."""
    raw = p.text(field) or ""
    parse_mode = p.text("parse_mode") or None
    explicit = p.obj(entities_field)
    if explicit is not None:
        entities = _check_entities(explicit)
        text = raw
    elif parse_mode is None:
        text, entities = raw, []
    elif parse_mode.lower() == "html":
        try:
            text, entities = parse_html(raw)
        except EntityParseError as error:
            raise ApiError(400, error.description) from None
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        raise bad_request(f"can't parse entities: the fake implements only HTML, not {parse_mode}")
    else:
        raise bad_request("unsupported parse_mode")
    text, entities = clean_text(text, entities)
    if not text and empty is not None:
        raise bad_request(empty)
    if utf16_len(text) > limit:
        raise bad_request(too_long)
    return Formatted(text, tuple(entities), raw, parse_mode)


def _check_entities(value: Any) -> list[JSONDict]:
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    for entity in value:
        if not (
            isinstance(entity, dict)
            and isinstance(entity.get("type"), str)
            and isinstance(entity.get("offset"), int)
            and isinstance(entity.get("length"), int)
        ):
            raise bad_request("can't parse MessageEntity: wrong entity")
    return [dict(entity) for entity in value]


def parse_markup(value: Any) -> tuple[JSONDict | None, tuple[tuple[Button, ...], ...]]:
    """Validate ``reply_markup``; return the inline keyboard (kept on the message) and buttons.

    Reply keyboards, ReplyKeyboardRemove and ForceReply are accepted but not attached.
    """
    if value is None:
        return None, ()
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = value.get("inline_keyboard")
    if rows is None:
        return None, ()
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(_BAD_BUTTON)
    buttons = tuple(tuple(_button(button) for button in row) for row in rows)
    if not any(buttons):
        return None, ()
    return value, buttons


def _button(button: Any) -> Button:
    if not isinstance(button, dict):
        raise bad_request(_BAD_BUTTON)
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    action = next((name for name in _BUTTON_ACTIONS if name in button), None)
    if action is None:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    value = button[action]
    if action == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url" and (
        not isinstance(value, str) or not value or any(ch.isspace() for ch in value)
    ):
        raise bad_request("BUTTON_URL_INVALID")
    return text, value if isinstance(value, str) else json.dumps(value)


def reply_target(p: Params, known: Callable[[int], bool]) -> int | None:
    """The message id a send replies to; ``known(message_id)`` tells whether it exists."""
    parameters = p.obj("reply_parameters")
    if isinstance(parameters, dict):
        message_id = parameters.get("message_id")
        allow = bool(parameters.get("allow_sending_without_reply"))
    else:
        message_id = p.integer("reply_to_message_id")
        allow = p.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    if not known(int(message_id)):
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)
