"""Names that look like what they are: no hidden characters, no look-alike letters.

Services, regions, roles and the rest are named by their keys and referred to
by name, so a name must read the same on screen as in the file. Two kinds of
character break that. A *hidden* character (Unicode format and control
characters: a right-to-left override, a zero-width space, a byte-order mark)
is invisible, or reverses the text shown around it; a name holding one is
refused. A *look-alike* letter (Cyrillic ``а`` beside Latin ``a``) shows two
different names as the same; a name mixing the Latin, Greek and Cyrillic
alphabets, or two names that differ only in look-alike letters, are accepted
with a warning, and a suggestion that looks identical to what was typed is
shown with its code points so the difference can be seen.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator

#: Alphabets whose letters are mistaken for each other; mixing them in one name is suspect.
LOOKALIKE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")

#: Greek and Cyrillic letters drawn like a Latin letter, and that letter (a practical subset of
#: Unicode's confusables: the letters of these alphabets that are seen in names).
_LATIN_LOOKALIKE = {
    # Cyrillic
    "а": "a", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "о": "o", "р": "p", "с": "c", "ѕ": "s", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ү": "y", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "γ": "y", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip


def hidden_character(text: str) -> str | None:
    """The first invisible or direction-changing character of ``text``, in words, or None.

    Format characters (Unicode category Cf: right-to-left overrides, zero-width
    spaces and joiners, the byte-order mark) and control characters (Cc).
    """
    for ch in text:
        if unicodedata.category(ch) in ("Cf", "Cc"):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, '(a control character)')}"
    return None


def check_name(v: str) -> str:
    """``v`` as a name, refused if it holds a character that is invisible or changes text direction."""
    hidden = hidden_character(v)
    if hidden is not None:
        raise ValueError(f"name {v!r} contains {hidden}, an invisible or direction-changing character")
    return v


def code_points(text: str) -> str:
    """``text`` spelt as code points: ``U+0073 U+0073 U+043E``."""
    return " ".join(f"U+{ord(ch):04X}" for ch in text)


def skeleton(text: str) -> str:
    """What ``text`` looks like: compatibility forms folded (fullwidth letters), look-alike letters made Latin."""
    return "".join(_LATIN_LOOKALIKE.get(ch, ch) for ch in unicodedata.normalize("NFKC", text))


def looks_identical(a: str, b: str) -> bool:
    """Whether two texts differ only in look-alike letters (and perhaps case): they cannot be told apart by eye."""
    return a.casefold() != b.casefold() and skeleton(a).casefold() == skeleton(b).casefold()


def _script(ch: str) -> str | None:
    """The alphabet of a letter, as the first word of its Unicode name (``CYRILLIC``); None if not a letter."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    return unicodedata.name(ch, "").split(" ", 1)[0]


def scripts(text: str) -> list[str]:
    """The look-alike alphabets (:data:`LOOKALIKE_SCRIPTS`) the letters of ``text`` come from, in order seen."""
    return list(dict.fromkeys(s for s in map(_script, text) if s in LOOKALIKE_SCRIPTS))


def lookalike_warnings(names: Iterable[str], what: str) -> Iterator[tuple[str, str]]:
    """``(name, warning)`` for each of ``names`` (the ``what``s of one file) that is easy to misread.

    A name that looks identical to one before it is named with both spellings'
    code points; otherwise a name mixing alphabets is named with its own.
    """
    seen: dict[str, str] = {}
    for name in names:
        first = seen.setdefault(skeleton(name), name)
        if first != name:
            yield (
                name,
                f"{what} {name!r} looks the same as {what} {first!r} but is a different name "
                f"({code_points(name)}, not {code_points(first)}); is one a typo?",
            )
            continue
        mixed = scripts(name)
        if len(mixed) > 1:
            main = max(mixed, key=lambda s: sum(_script(ch) == s for ch in name))
            odd = dict.fromkeys(ch for ch in name if _script(ch) in mixed and _script(ch) != main)
            letters = ", ".join(f"{ch!r} is U+{ord(ch):04X} {unicodedata.name(ch)}" for ch in odd)
            yield (
                name,
                f"{what} name {name!r} mixes {' and '.join(s.title() for s in mixed)} letters ({letters}); "
                "it may not be the name it looks like",
            )
