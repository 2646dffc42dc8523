"""Logging set-up. Logs must never carry personal data: no message text, names, Telegram ids,
phone numbers, nor the bot token.

Our own code logs only kinds and counts. Library loggers that print requests, SQL
parameters or whole updates are capped below the level where they do, whatever the chosen
level (`cap_libraries`). Last, a filter on the root handlers (`Guard`) blanks the known
library messages that print raw Telegram data and redacts the configured secrets (the bot
token…) wherever they would appear: a last line of defence, not the protection itself.

`LOG_FORMAT=json` writes one JSON object per line: time (ISO-8601, UTC), level, logger,
message, and exc_type and traceback when an exception is attached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

from pydantic import SecretStr
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from bot.settings import Settings

Format = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "[redacted]"
WITHHELD = "[withheld]"

CAPPED = {
    "httpx": logging.WARNING,  # INFO: request lines, whose URL contains the bot token
    "httpcore": logging.WARNING,  # DEBUG: headers and bodies
    "telegram": logging.INFO,  # DEBUG: whole updates and every API call's parameters
    "apscheduler": logging.WARNING,  # INFO: every job run
    "sqlalchemy.engine": logging.WARNING,  # INFO: SQL with bound parameters; DEBUG: rows
    "sqlalchemy.pool": logging.WARNING,
    "aiosqlite": logging.INFO,  # DEBUG: every statement with its parameters
    "asyncpg": logging.WARNING,
    "aiohttp.access": logging.WARNING,  # request lines (paths, client addresses)
    "tornado.access": logging.WARNING,  # the webhook server's request lines
    "asyncio": logging.WARNING,  # DEBUG: slow callbacks, printed with their arguments
}

# Library messages that print raw Telegram data (updates, responses): their arguments are
# withheld whatever the level. (logger prefix, start of the message template)
RAW_DATA_MESSAGES = (
    ("telegram", "Error while parsing updates! Received data was"),
    ("telegram", "Something went wrong processing the data received from Telegram"),
    ("telegram", "Can not load invalid JSON data"),
    ("telegram", "Webhook received data"),
    ("telegram", "Request had the wrong secret token"),
    ("telegram", "Error while building CallbackContext for exception"),
)


def configure(
    level: str, fmt: Format = "text", secrets: Iterable[str] = (), *,
    stream: TextIO | None = None,
) -> logging.Handler | None:
    """Sets the root level, caps the libraries and installs the `Guard` on every root handler.

    A handler with the chosen format is added when `stream` is given or when the root logger
    has no handler yet (as `logging.basicConfig` would: stderr); calling again replaces it.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_returnee_bot", False)]:
        root.removeHandler(old)
    handler: logging.Handler | None = None
    if stream is not None or not root.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler._returnee_bot = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter(fmt))
        root.addHandler(handler)
    root.setLevel(level)
    guard = Guard(secrets)
    for each in root.handlers:
        for old_guard in [f for f in each.filters if isinstance(f, Guard)]:
            each.removeFilter(old_guard)
        each.addFilter(guard)
    cap_libraries()
    return handler


def cap_libraries() -> None:
    for name, ceiling in CAPPED.items():
        logging.getLogger(name).setLevel(ceiling)


def formatter(fmt: Format) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret in the settings (each `SecretStr`, the database password), and the
    secret half of the bot token on its own."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    if settings.telegram_bot_token is not None:
        found.append(settings.telegram_bot_token.get_secret_value().partition(":")[2])
    with contextlib.suppress(Exception):  # an unparsable URL fails later, with its message
        found.append(make_url(settings.database_url).password or "")
    return [secret for secret in found if secret]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: newlines in messages and tracebacks are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            kind = record.exc_info[0]
            if kind is not None:
                entry["exc_type"] = _qualified(kind)
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _qualified(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


class Guard(logging.Filter):
    """Withholds the arguments of library messages known to print raw Telegram data, and
    replaces each secret (longest first) by [redacted] in messages, tracebacks and stacks.
    Never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.msg, str) and any(
                record.name.startswith(prefix) and record.msg.startswith(start)
                for prefix, start in RAW_DATA_MESSAGES):
            count = len(record.args) if isinstance(record.args, tuple) else 1
            record.args = (WITHHELD,) * count
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # badly formatted: the handler reports it, with the record's name
            message = str(record.msg)
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text
