"""Translations with Babel and gettext. The active locale lives in a ContextVar, set per
update, so concurrent users never share a language.

Mark module-level strings with `N_` and translate them where they are shown. Use named
placeholders only: `_("Hello, %(name)s", name=...)`.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel import Locale as BabelLocale
from babel import UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import get_day_names
from babel.numbers import format_currency as babel_format_currency
from babel.numbers import format_decimal
from babel.support import Translations

from services_catalog.errors import ReturneeBotError

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED: tuple[str, ...] = ("en", "fr", "ar")
NATIVE_NAMES: Mapping[str, str] = {"en": "English", "fr": "Français", "ar": "العربية"}
_LRI, _PDI = "\u2066", "\u2069"


class TranslationsMissing(ReturneeBotError):
    """A shipped .po catalogue has no compiled, up-to-date .mo next to it."""


@dataclass(frozen=True, slots=True)
class Locale:
    code: str
    translations: stdlib_gettext.NullTranslations
    rtl: bool


_SOURCE = Locale("en", stdlib_gettext.NullTranslations(), rtl=False)
_current: ContextVar[Locale] = ContextVar("locale", default=_SOURCE)


class Translator:
    """The loaded catalogues; `use(code)` activates one for the current context."""

    def __init__(self, locales: Mapping[str, Locale], default: str = "en") -> None:
        self._locales = dict(locales)
        self.default = default

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR, default: str = "en") -> Translator:
        """Reads every shipped catalogue; fails loudly if a .po was not compiled."""
        locales = {}
        for code in SUPPORTED:
            folder = directory / code / "LC_MESSAGES"
            po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
            if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
                raise TranslationsMissing(f"{mo} is missing or older than {po.name}: run make i18n")
            translations = Translations.load(str(directory), [code], DOMAIN)
            locales[code] = Locale(code, translations, BabelLocale.parse(code).text_direction
                                   == "rtl")
        return cls(locales, default)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._locales)

    def supported(self, language_code: str | None) -> str | None:
        """Our language for a Telegram `language_code` such as 'fr-CA', or None."""
        if not language_code:
            return None
        try:
            language = BabelLocale.parse(language_code.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            return None
        return language if language in self._locales else None

    def locale(self, code: str | None) -> Locale:
        return self._locales.get(code or self.default) or self._locales[self.default]

    def activate(self, code: str | None) -> None:
        """Use this language for the rest of the current context (one update)."""
        _current.set(self.locale(code))

    @contextmanager
    def use(self, code: str | None) -> Iterator[Locale]:
        token = _current.set(self.locale(code))
        try:
            yield _current.get()
        finally:
            _current.reset(token)


def current() -> Locale:
    return _current.get()


def N_(message: str) -> str:
    """Marks a string for extraction; translate it later with `_`."""
    return message


def _(message: str, /, **params: object) -> str:
    text = _current.get().translations.gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, count: int, /, **params: object) -> str:
    """The plural form for `count`, which is also available as %(count)s."""
    text = _current.get().translations.ngettext(singular, plural, count)
    return text % {"count": format_number(count), **params}


def format_date(day: date) -> str:
    return babel_format_date(day, format="long", locale=_current.get().code)


def format_number(value: int) -> str:
    return format_decimal(value, locale=_current.get().code)


def format_money(amount: Decimal, currency: str) -> str:
    return ltr(babel_format_currency(amount, currency, locale=_current.get().code))


def day_names() -> Mapping[int, str]:
    """Monday=0 … Sunday=6, abbreviated, in the current locale."""
    return get_day_names("abbreviated", locale=_current.get().code)


def ltr(fragment: str) -> str:
    """Wraps a left-to-right fragment (phone, id, Latin name) in a Unicode isolate in RTL."""
    return f"{_LRI}{fragment}{_PDI}" if _current.get().rtl and fragment else fragment
