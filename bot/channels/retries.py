"""Outgoing requests are paced and survive Telegram's bad moments.

Sends to one private chat are spaced by the chat pace (Telegram asks for at most one message
a second per chat); PTB's limiter keeps the overall rate and waits out 429's `retry_after`;
server errors, timeouts and dropped connections are retried with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

from bot.channels.locks import KeyedLocks

log = logging.getLogger(__name__)
RETRIES = 3
FIRST_WAIT = 0.5  # seconds; doubles each time
Result = bool | dict[str, Any] | list[dict[str, Any]]


class ChatPace:
    """Sends to one private chat go one at a time, a gap of `1 / per_second` from the end of
    one to the start of the next."""

    FORGET_AFTER = 10_000  # chats remembered before those quiet for a gap are dropped

    def __init__(self, per_second: float) -> None:
        self.gap = 1 / per_second if per_second else 0.0
        self._last: dict[int, float] = {}
        self._chats = KeyedLocks()

    def wait(self, chat_id: int, now: float) -> float:
        """Seconds to wait before sending to this chat; 0 when it has been quiet long enough."""
        last = self._last.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.gap - now)

    def sent(self, chat_id: int, now: float) -> None:
        if len(self._last) > self.FORGET_AFTER:
            self._last = {chat: at for chat, at in self._last.items() if at + self.gap > now}
        self._last[chat_id] = now

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Waits for this chat's turn; the send happens inside."""
        if not self.gap:
            yield
            return
        async with self._chats.hold(chat_id):
            await asyncio.sleep(self.wait(chat_id, time.monotonic()))
            try:
                yield
            finally:  # a failed send may have reached Telegram too
                self.sent(chat_id, time.monotonic())


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter, plus pacing per private chat and retries of transient failures.

    A timed-out request may have reached Telegram: a retry can then deliver a message twice,
    which is better than losing it. `getUpdates` is left to the Updater's own retries."""

    def __init__(self, overall_max_rate: float, per_chat: float, max_retries: int) -> None:
        # one request every 1/rate s: PTB's default bucket lets a burst of `rate` through at
        # once, then `rate` more a second, which breaks Telegram's limit in a sliding second
        super().__init__(overall_max_rate=1 if overall_max_rate else 0,
                         overall_time_period=1 / overall_max_rate if overall_max_rate else 1,
                         max_retries=max_retries)
        self.pace = ChatPace(per_chat)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        send = partial(super().process_request, callback, args, kwargs, endpoint, data,
                       rate_limit_args)
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0 and endpoint != "sendChatAction":
            async with self.pace.turn(chat_id):
                return await _with_retries(send, endpoint)
        return await _with_retries(send, endpoint)


async def _with_retries(send: Callable[[], Awaitable[Result]], endpoint: str) -> Result:
    wait = FIRST_WAIT
    for attempt in range(RETRIES + 1):
        try:
            return await send()
        except NetworkError as error:  # TimedOut is one; BadRequest is not transient
            if isinstance(error, BadRequest) or endpoint == "getUpdates" or attempt == RETRIES:
                raise
            log.warning("%s failed (%s); retrying in %.1f s", endpoint, type(error).__name__,
                        wait)
            await asyncio.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")
