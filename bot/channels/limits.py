"""A per-user rate limit: a token bucket for each user, in memory. Pure; the clock is given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class RateLimiter:
    """`burst` messages at once, then `per_minute` a minute; excess is warned once, then
    dropped until the user slows down."""

    USERS = 50_000

    def __init__(self, burst: int, per_minute: int) -> None:
        self.burst, self.rate = burst, per_minute / 60
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int, now: float) -> Verdict:
        bucket = self._buckets.pop(user_id, None) or _Bucket(float(self.burst), now)
        self._buckets[user_id] = bucket  # most recently seen last
        if len(self._buckets) > self.USERS:
            self._buckets.pop(next(iter(self._buckets)))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.PASS
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN
