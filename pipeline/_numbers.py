"""Number phrases in lower-cased English news text, for the casualty stage.

:data:`NUMBER` is a regex fragment that matches one count phrase: digits with
separators ("5,000"), words ("twenty-one", "one hundred and two"), scaled
figures ("1.2 million", "2 thousand"), ranges ("10 to 15", "between 3 and 5")
and vague quantities ("dozens", "a handful"). :func:`parse_number` turns a
match into ``(low, high, qualifier)``.

Vague quantities follow a conservative convention close to ACLED's coding
rules: "dozens" 12, "scores" 20, "hundreds" 100, "thousands" 1,000, "tens of
thousands" 10,000, "several" and "a handful" 3, "a few" and "a couple" 2; all
are open-ended (``high=None``) with qualifier ``vague``.

Example:
    >>> parse_number("twenty-one")
    (21, 21, 'exact')
    >>> parse_number("between 10 and 15")
    (10, 15, 'range')
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "mln": 1_000_000,
    "billion": 1_000_000_000,
}
_VAGUE = {
    "dozens": 12,
    "scores": 20,
    "hundreds": 100,
    "thousands": 1_000,
    "tens of thousands": 10_000,
    "hundreds of thousands": 100_000,
    "millions": 1_000_000,
    "several": 3,
    "a handful": 3,
    "a few": 2,
    "a couple": 2,
    "several hundred": 300,
    "several thousand": 3_000,
    "a few hundred": 200,
    "a few thousand": 2_000,
}

_WORD = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_SCALE = "hundred|thousand|million|mln|billion"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?"
# One count: "5,000", "1.2 million", "twenty-one", "one hundred and two",
# "a dozen", "two dozen", "a hundred".
_ONE = (
    rf"(?:(?:{_DIGITS})(?:\s+(?:{_SCALE}))?"
    rf"|(?:(?:a|{_WORD})\s+)?dozen"
    rf"|a\s+(?:{_SCALE})(?:\s+and\s+(?:{_WORD}))?"
    rf"|(?:{_WORD})(?:[- ](?:{_WORD}|{_SCALE}))*"
    rf"(?:(?:(?<=hundred)|(?<=thousand))\s+and\s+(?:{_WORD})(?:-(?:{_WORD}))?)?)"
)
_VAGUE_RE = "|".join(sorted((v.replace(" ", r"\s+") for v in _VAGUE), key=len, reverse=True))

#: Regex fragment (no groups) for one count phrase, a range or a vague quantity.
NUMBER = (
    rf"(?:between\s+{_ONE}\s+and\s+{_ONE}"
    rf"|{_ONE}(?:\s*(?:-|–|to|or)\s*{_ONE})?"
    rf"|(?:{_VAGUE_RE})(?:\s+of)?)"
)
_RANGE_SPLIT = re.compile(rf"^(?:between\s+)?({_ONE})\s*(?:-|–|to|or|and)\s*({_ONE})$")
_TOKEN = re.compile(r"[a-z]+|\d[\d,]*(?:\.\d+)?")


def _value(phrase: str) -> int | None:
    """The integer value of one count phrase, or None if it is not one."""
    total = 0
    current: float = 0
    seen = False
    for token in _TOKEN.findall(phrase):
        if token[0].isdigit():
            current += float(token.replace(",", ""))
        elif token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token == "dozen":  # noqa: S105 (a word, not a password)
            current = (current or 1) * 12
        elif token in _SCALES:
            scale = _SCALES[token]
            current = (current or 1) * scale
            if scale >= 1_000:
                total += int(current)
                current = 0
        elif token in ("a", "and"):
            continue
        else:
            return None
        seen = True
    return int(total + current) if seen else None


def parse_number(phrase: str) -> tuple[int, int | None, str] | None:
    """Parse a :data:`NUMBER` match into ``(low, high, qualifier)``.

    Example:
        >>> parse_number("1.2 million")
        (1200000, 1200000, 'exact')
    """
    phrase = " ".join(phrase.split())
    vague = phrase.removesuffix(" of")
    if vague in _VAGUE:
        return _VAGUE[vague], None, "vague"
    split = _RANGE_SPLIT.match(phrase)
    if split and (phrase.startswith("between") or not _value(phrase)):
        low, high = _value(split.group(1)), _value(split.group(2))
        if low is not None and high is not None:
            return (low, high, "range") if low < high else (high, high, "exact")
    if split and any(sep in phrase for sep in ("-", "–", " to ", " or ")):
        low, high = _value(split.group(1)), _value(split.group(2))
        # "twenty-one" is one number; "10-15" and "10 to 15" are ranges.
        if (
            low is not None
            and high is not None
            and low < high
            and not ("-" in phrase and split.group(2) in _UNITS and split.group(1) in _TENS)
        ):
            return low, high, "range"
    value = _value(phrase)
    if value is None:
        return None
    return value, value, "exact"
