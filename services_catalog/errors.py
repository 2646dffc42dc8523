"""The project's one exception root.

`InputError` is for mistakes a person can fix (a bad catalogue file, a wrong option); its
message is shown as is. Everything else deriving from `ReturneeBotError` is internal.
"""

from __future__ import annotations


class ReturneeBotError(Exception):
    """Root of every exception this project raises on purpose."""


class InputError(ReturneeBotError):
    """Bad input from a person: shown to them verbatim, never a traceback."""
