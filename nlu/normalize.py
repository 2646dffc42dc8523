"""Text normalisation for matching: pure functions, no state.

NFKC, case folding, invisible and control characters removed, French accents folded,
Arabic letters unified (alef forms, ta marbuta, alef maqsura, tatweel, diacritics).
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000  # longer messages are cut: the start carries the request

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
ARABIC_LETTERS = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ة": "ه", "ى": "ي", "ی": "ي", "ې": "ي", "ک": "ك", "ؤ": "و", "ئ": "ي",
    "ـ": "", "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4",
    "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9", "؟": "?", "،": ",", "؛": ";",
})
_INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2069\ufeff\ufe00-\ufe0f]")
_SPACES = re.compile(r"\s+")
WORD = re.compile(r"\w+")  # a token, as scikit-learn's word analyzer takes them
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[a-zA-Z\u00c0-\u024f]")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = _INVISIBLE.sub(" ", text).casefold()
    text = _ARABIC_DIACRITICS.sub("", text).translate(ARABIC_LETTERS)
    text = _fold_latin_accents(text)
    return _SPACES.sub(" ", text).strip()


def _fold_latin_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = [c for i, c in enumerate(decomposed)
            if not (unicodedata.combining(c) and i and decomposed[i - 1].isascii())]
    return unicodedata.normalize("NFC", "".join(kept)).replace("œ", "oe").replace("æ", "ae")


def tokens(normalized: str) -> list[str]:
    return WORD.findall(normalized)


def scripts(text: str) -> tuple[int, int]:
    """How many Arabic and Latin letters the text has."""
    return len(_ARABIC.findall(text)), len(_LATIN.findall(text))
