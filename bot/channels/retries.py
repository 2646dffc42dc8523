"""Outgoing requests are paced and survive Telegram's bad moments.

Sends to one private chat are spaced by the chat pace (Telegram asks for at most one message
a second per chat); PTB's limiter keeps the overall rate and waits out 429's `retry_after`;
server errors, timeouts and dropped connections are retried with back-off."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
RETRIES = 3
FIRST_WAIT = 0.5  # seconds; doubles each time


class ChatPace:
    """Gives each send to a private chat the next free slot, `1 / per_second` apart."""

    FORGET_AFTER = 10_000  # chats remembered before past slots are dropped

    def __init__(self, per_second: float) -> None:
        self.gap = 1 / per_second if per_second else 0.0
        self._next: dict[int, float] = {}

    def wait(self, chat_id: int, now: float) -> float:
        """Seconds to wait before sending to this chat now; 0 when its slot is free."""
        if not self.gap:
            return 0.0
        if len(self._next) > self.FORGET_AFTER:
            self._next = {chat: at for chat, at in self._next.items() if at > now}
        slot = max(now, self._next.get(chat_id, now))
        self._next[chat_id] = slot + self.gap
        return slot - now


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter, plus pacing per private chat and retries of transient failures.

    A timed-out request may have reached Telegram: a retry can then deliver a message twice,
    which is better than losing it. `getUpdates` is left to the Updater's own retries."""

    def __init__(self, overall_max_rate: float, per_chat: float, max_retries: int) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=max_retries)
        self.pace = ChatPace(per_chat)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0 and endpoint != "sendChatAction":
            await asyncio.sleep(self.pace.wait(chat_id, time.monotonic()))
        wait = FIRST_WAIT
        for attempt in range(RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                      rate_limit_args)
            except NetworkError as error:  # TimedOut is one; BadRequest is not transient
                if (isinstance(error, BadRequest) or endpoint == "getUpdates"
                        or attempt == RETRIES):
                    raise
                log.warning("%s failed (%s); retrying in %.1f s", endpoint,
                            type(error).__name__, wait)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")
