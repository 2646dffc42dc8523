"""Logging set-up. Library loggers that print requests or whole updates (which carry
message text, names, ids and the bot token) are capped, whatever the chosen level."""

from __future__ import annotations

import logging

CAPPED = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "telegram": logging.INFO,
          "apscheduler": logging.WARNING}


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cap_libraries()


def cap_libraries() -> None:
    for name, ceiling in CAPPED.items():
        logging.getLogger(name).setLevel(ceiling)
