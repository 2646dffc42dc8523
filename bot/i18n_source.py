"""`python -m bot.i18n_source`: the English catalogue translates each message to itself,
so every shipped locale is complete and English wording can still be edited in its .po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES_DIR


def fill(path: Path) -> int:
    with path.open("rb") as file:
        catalog = read_po(file)
    filled = 0
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(strings):
            message.string = message.id
            filled += 1
    with path.open("wb") as file:
        write_po(file, catalog, width=0, sort_by_file=True)
    return filled


if __name__ == "__main__":
    print(f"{fill(LOCALES_DIR / 'en' / 'LC_MESSAGES' / f'{DOMAIN}.po')} English messages filled")
