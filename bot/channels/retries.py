"""Outgoing requests survive Telegram's bad moments: 429 waits for `retry_after` (in PTB's
limiter), and server errors, timeouts and dropped connections are retried with back-off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
RETRIES = 3
FIRST_WAIT = 0.5  # seconds; doubles each time


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter, plus retries of transient network failures.

    A timed-out request may have reached Telegram: a retry can then deliver a message twice,
    which is better than losing it. `getUpdates` is left to the Updater's own retries."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
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
