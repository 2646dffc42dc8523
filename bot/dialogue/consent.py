"""Consent texts, their versions and hashes.

Changing a text means bumping its version: the test suite pins the hash of each English
source text to its version, and users are asked again when the version changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from bot.i18n import _, ngettext

STORE_PROFILE = "store_profile"
SHARE_WITH_CASEWORKER = "share_with_caseworker"
PURPOSES: tuple[str, ...] = (STORE_PROFILE, SHARE_WITH_CASEWORKER)
VERSIONS: Mapping[str, int] = {STORE_PROFILE: 1, SHARE_WITH_CASEWORKER: 1}


@dataclass(frozen=True, slots=True)
class Policy:
    """What the consent texts promise; the same numbers drive expiry and retention."""

    profile_days: int = 180
    session_minutes: int = 60


def text(purpose: str, policy: Policy) -> str:
    """The full explanation, in the current locale (plain text, no markup)."""
    if purpose == STORE_PROFILE:
        return "\n\n".join([
            _("Can I remember your language and region?"),
            _("If you agree, I store only your language, your region and where you are in "
              "this conversation, so you do not have to choose them again. Nobody else sees "
              "them. A case worker sees something only if you agree to it at that moment."),
            ngettext("I delete them %(count)s day after your last message.",
                     "I delete them %(count)s days after your last message.",
                     policy.profile_days),
            _("Telegram keeps its own copy of this chat; I cannot delete that."),
            _("You can change your mind at any time: send /privacy."),
            ngettext("If you say no, I still answer your questions and forget you "
                     "%(count)s minute after your last message.",
                     "If you say no, I still answer your questions and forget you "
                     "%(count)s minutes after your last message.",
                     policy.session_minutes),
        ])
    if purpose == SHARE_WITH_CASEWORKER:
        return "\n\n".join([
            _("Can I share this with a case worker?"),
            _("A case worker of the organisation that runs the service will see exactly what "
              "is listed above, and can then write to you here. They use it only to help you "
              "with this request."),
            _("Telegram keeps its own copy of this chat; I cannot delete that."),
            _("You can withdraw at any time: send /privacy. If you say no, nothing is shared "
              "and I give you the service's public contact details instead."),
        ])
    raise ValueError(f"unknown consent purpose {purpose!r}")


def text_hash(rendered: str) -> str:
    return hashlib.sha256(rendered.encode("utf-8")).hexdigest()


def purpose_label(purpose: str) -> str:
    labels = {STORE_PROFILE: _("Remember my language and region"),
              SHARE_WITH_CASEWORKER: _("Share my request with a case worker")}
    return labels[purpose]
