"""Keyed hashes of channel user ids: stable per user, useless without the key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    def of(self, channel: str, external_id: int | str) -> str:
        message = f"{channel}:{external_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created (readable by the owner only) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())
