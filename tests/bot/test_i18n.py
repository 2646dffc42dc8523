"""Translations: complete, consistent with the code, compiled, and isolated per update."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.dialogue.consent import PURPOSES, VERSIONS, Policy, text_hash
from bot.dialogue.consent import text as consent_text
from bot.i18n import LOCALES_DIR, SUPPORTED, TranslationsMissing, Translator, _, current
from tests.conftest import PROJECT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# The English consent texts, pinned to their version: edit a text, bump its version.
CONSENT_HASHES = {
    ("store_profile", 1):
        "78d7ae2610c711491a41533de5a59715caaf24b30274735bb84b5b2d8b3863fd",
    ("share_with_caseworker", 1):
        "d3220fb8c0c62f52bb4e378f4bdbdbe26976167f08a91b058b90a2096ac2f4f9",
}


def catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


def texts(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple (plural entries have several)."""
    items = value if isinstance(value, tuple | list) else (value,)
    return tuple(str(item or "") for item in items)


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_message_is_translated_with_the_same_placeholders(language: str):
    messages = [m for m in catalog(language) if m.id]
    assert messages
    for message in messages:
        ids, strings = texts(message.id), texts(message.string)
        assert all(strings), f"{language}: untranslated {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        optional = {"count"} if len(ids) > 1 else set()  # a plural form may omit the number
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            assert expected - optional <= found <= expected, (language, ids[0], string)
            assert "%s" not in string and "%d" not in string  # named placeholders only


@pytest.mark.parametrize("language", SUPPORTED)
def test_plural_forms_match_the_language(language: str):
    po = catalog(language)
    assert not po.fuzzy
    for message in po:
        if isinstance(message.id, tuple):
            assert len(texts(message.string)) == po.num_plurals, (language, message.id[0])
    assert po.num_plurals == {"en": 2, "fr": 2, "ar": 6}[language]


def test_the_catalogues_match_the_code():
    """Fails when a string was added or changed without running `make i18n`."""
    found = extract_from_dir(PROJECT, method_map=[("bot/**.py", "python")],
                             keywords={**DEFAULT_KEYWORDS, "N_": None})
    in_code = {message for _file, _line, message, _comments, _context in found}
    in_code = {m if isinstance(m, str) else m[:2] for m in in_code}
    for language in SUPPORTED:
        assert in_code == {m.id for m in catalog(language) if m.id}, language


def test_a_po_without_its_compiled_mo_fails_loudly(tmp_path: Path):
    shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    (tmp_path / "locales" / "fr" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(TranslationsMissing, match="make i18n"):
        Translator.load(tmp_path / "locales")


def test_telegram_language_codes_map_to_ours(translator: Translator):
    assert translator.supported("fr-CA") == "fr"
    assert translator.supported("ar") == "ar"
    assert translator.supported("en_US") == "en"
    for unsupported in ("pt-br", "", None, "xx-!!", "😀"):
        assert translator.supported(unsupported) is None


async def test_each_task_keeps_its_own_locale(translator: Translator):
    async def speak(language: str) -> tuple[str, str]:
        translator.activate(language)
        await asyncio.sleep(0.01)  # let the other task switch locale meanwhile
        return current().code, _("Hello!")

    results = await asyncio.gather(*(speak(code) for code in ("fr", "ar", "en") * 3))
    assert [code for code, _text in results] == ["fr", "ar", "en"] * 3
    assert len({text for _code, text in results}) == 3


@pytest.mark.parametrize("purpose", PURPOSES)
def test_consent_texts_are_pinned_to_their_version(purpose: str, translator: Translator):
    with translator.use("en"):
        rendered = consent_text(purpose, Policy(profile_days=180, session_minutes=60))
    assert text_hash(rendered) == CONSENT_HASHES[(purpose, VERSIONS[purpose])], (
        "the consent text changed: bump its version in bot/dialogue/consent.py")
