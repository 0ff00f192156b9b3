"""Figures in context: do two near-identical texts report the same figures?

Wire services re-send a story trimmed, extended or reworded (a near duplicate)
but also file the same template again with new figures: tomorrow's rainfall
table, next week's auction, another hour's spreads. Shingle similarity cannot
tell these apart; the figures can. A figure that was *replaced* is the sign
of a different report, a figure that was added or cut is not.

Each figure occurrence (a number, a number word, a month name) gives four
items: (left word, figure), (figure, right word), (left, figure, right) and
the figure itself; each kind of item sets bits of its own 128-bit mask. Let
L, R, T and V count one text's items missing from the other. A replaced
figure loses its three context items; an edited word next to a figure (or a
paragraph boundary moved by a swap or a cut) loses only its side's item and
the triple, so ``L + R - T`` counts replaced figures and forgives edits
beside them; V catches a changed figure in a table whose contexts repeat. A
replaced figure shows in both directions, one added or cut in one only, so
the count is the minimum over both (:func:`too_many_replaced`). Decision
rule: more than ``tolerance`` of the figures replaced means another report.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from pipeline import _dedup_kernels as kernels

MASK_BITS = 128
MASK_WORDS = MASK_BITS // 64  # each mask is stored as this many uint64 words
# A CRC (unsigned) picks bit ``crc % MASK_BITS``: its low bits index a table of
# the masks, cheaper than shifting a new int for every item.
_LOW_BITS = MASK_BITS - 1
_BIT = [1 << i for i in range(MASK_BITS)]
KINDS = 4  # left, right, triple, value

_TOKEN = re.compile(r"\d(?:[\d.,/\-]*\d)?|[A-Za-z]+")
# A text is cut at every byte no token holds (bytes.translate, split: C
# speed); only the chunks that are neither letters only nor one number (a
# word with a full stop or a comma inside, "mid-1987") go through _TOKEN.
_TOKEN_BYTES = re.compile(rb"[0-9](?:[0-9.,/\-]*[0-9])?|[A-Za-z]+")
_NUMBER_BYTES = b"0123456789.,/-"
_TO_CHUNKS = bytes(
    c if c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + _NUMBER_BYTES else 0x20
    for c in range(256)
)
_ASCII = bytes(range(128))
_DIGIT = re.compile(r"\d")
_SKIPPED = frozenset((b"reuter", b"reuters"))  # the wire trailer is no context
_NUMBER_WORDS = {
    "nil": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_MONTHS = {
    "january": "jan",
    "february": "feb",
    "march": "mar",
    "april": "apr",
    "june": "jun",
    "july": "jul",
    "august": "aug",
    "september": "sep",
    "october": "oct",
    "november": "nov",
    "december": "dec",
    "jan": "jan",
    "feb": "feb",
    "apr": "apr",
    "jun": "jun",
    "jul": "jul",
    "aug": "aug",
    "sep": "sep",
    "sept": "sep",
    "oct": "oct",
    "nov": "nov",
    "dec": "dec",
}
# "may" and "mar" are also common words: they count as months only when
# written as a name ("May") or next to a number ("MAR 3").
_AMBIGUOUS_MONTHS = {b"may": b"may", b"mar": b"mar"}
# Tokens are bytes (UTF-8): hashed as they are, with no str built or encoded.
_FIGURE_WORDS = {k.encode(): v.encode() for k, v in (_NUMBER_WORDS | _MONTHS).items()}
_CANDIDATES = frozenset(_FIGURE_WORDS) | frozenset(_AMBIGUOUS_MONTHS)
_WORD_TABLE = kernels.word_table(_FIGURE_WORDS, _AMBIGUOUS_MONTHS)


def _ambiguous_month(token: bytes, previous: bytes, following: bytes) -> bool:
    return (
        (token[:1].isupper() and token[1:].islower())
        or _is_number(previous)
        or _is_number(following)
    )


def _is_number(token: bytes) -> bool:
    # A token that starts with a non-ASCII byte starts with a digit of another
    # script (\d): letters in tokens are ASCII.
    return token[:1].isdigit() or token[:1] >= b"\x80"


def _other_digits(text: str, data: bytes) -> bool:
    """Whether ``text`` has digits of another script (``\\d`` matches them)."""
    return not text.isascii() and _DIGIT.search(data.translate(None, _ASCII).decode()) is not None


def _tokens(text: str) -> list[bytes]:
    """``_TOKEN.findall(text)``, UTF-8 encoded."""
    data = text.encode()
    # Non-ASCII characters separate tokens (their bytes are no token bytes),
    # unless they are digits of another script (\d): then the str regex.
    if _other_digits(text, data):
        return [token.encode() for token in _TOKEN.findall(text)]
    # A "." or "," before a space ends no token: dropped, most words are letters only.
    chunks = data.translate(_TO_CHUNKS).replace(b". ", b" ").replace(b", ", b" ")
    tokens = chunks.split()
    letters = list(map(bytes.isalpha, tokens))
    at = -1
    while True:
        try:
            at = letters.index(False, at + 1)
        except ValueError:
            return tokens
        chunk = tokens[at]
        if chunk[:1].isdigit() and chunk[-1:].isdigit() and not chunk.strip(_NUMBER_BYTES):
            continue  # one number
        parts = _TOKEN_BYTES.findall(chunk)
        tokens[at : at + 1] = parts
        letters[at : at + 1] = [True] * len(parts)
        at += len(parts) - 1


def figure_words(text: str) -> np.ndarray:
    """:func:`to_words` of :func:`figure_masks` (uint64), by the compiled loop where it can.

    The loop reads UTF-8 bytes: a text with digits of another script (which
    ``\\d`` counts as digits) takes the plain code.
    """
    data = text.encode()
    if kernels.COMPILED and not _other_digits(text, data):
        return kernels.figure_words(np.frombuffer(data, np.uint8), *_WORD_TABLE, kernels.CRC_TABLE)
    return np.array(to_words(plain_figure_masks(text)), np.uint64)


def figure_masks(text: str) -> tuple[int, ...]:
    """The left, right, triple and value masks of a text's figures (128 bits each).

    Example:
        >>> left, right, triple, value = figure_masks("ships were six")
        >>> bin(left).count("1"), bin(triple).count("1")
        (1, 0)
    """
    words = figure_words(text).tolist()
    return tuple(
        sum(words[kind * MASK_WORDS + j] << (64 * j) for j in range(MASK_WORDS))
        for kind in range(KINDS)
    )


def plain_figure_masks(text: str) -> tuple[int, ...]:
    """:func:`figure_masks` in plain Python: the definition the compiled loop follows."""
    raw = _tokens(text)
    # Tokens hold no spaces: one join, lower and split is one C-level pass.
    lowered = b" ".join(raw).lower()
    tokens = lowered.split(b" ") if raw else []
    if b"reuter" in lowered:
        # list.index finds the trailers in C; most texts have one, at the end.
        for i in sorted(_positions(tokens, _SKIPPED), reverse=True):
            del raw[i], tokens[i]
    # Digits sort before letters, so t < b":" finds tokens that start with one.
    found = [i for i, t in enumerate(tokens) if t < b":" or t in _CANDIDATES]
    left = right = triple = value = 0
    last = len(tokens) - 1
    crc32 = zlib.crc32  # bound once: this loop runs for every figure of every article
    bit = _BIT
    for i in found:
        token = tokens[i]
        previous = tokens[i - 1] if i else b"^"
        following = tokens[i + 1] if i < last else b"$"
        if token < b":":
            figure = token.replace(b",", b"")
        elif token in _FIGURE_WORDS:
            figure = _FIGURE_WORDS[token]
        elif _ambiguous_month(raw[i], previous, following):
            figure = _AMBIGUOUS_MONTHS[token]
        else:
            continue
        crc = crc32(figure)
        value |= bit[crc & _LOW_BITS]
        # At either end of the text the neighbour is unknown, not a word: a
        # copy with a footer or a byline added has one there. Such a figure
        # gives only its inner side, so the added text is no replaced figure.
        # Each item is the CRC of its words joined by spaces; crc32(b, crc32(a))
        # is the CRC of a + b, so "figure after" continues the figure's CRC.
        if previous != b"^":
            before = _FIGURE_WORDS.get(previous, previous)
            pair = crc32(before + b" " + figure)
            left |= bit[pair & _LOW_BITS]
        if following != b"$":
            after = b" " + _FIGURE_WORDS.get(following, following)
            right |= bit[crc32(after, crc) & _LOW_BITS]
            if previous != b"^":
                triple |= bit[crc32(after, pair) & _LOW_BITS]
    return left, right, triple, value


def _positions(tokens: list[bytes], words: frozenset[bytes]) -> list[int]:
    found = []
    for word in words:
        at = -1
        try:
            while True:
                at = tokens.index(word, at + 1)
                found.append(at)
        except ValueError:
            pass
    return found


def to_words(masks: tuple[int, ...]) -> list[int]:
    """The masks as ``KINDS * MASK_WORDS`` unsigned 64-bit words (index storage)."""
    return [(mask >> (64 * j)) & 0xFFFFFFFFFFFFFFFF for mask in masks for j in range(MASK_WORDS)]


_WORDS = KINDS * MASK_WORDS
_PACKED_MAX = _WORDS * 8  # bytes of the words themselves, the longest packed form


def pack(words: np.ndarray) -> bytes:
    """:func:`to_words` output (uint64) in fewer bytes, losslessly (see :func:`pack_masks`)."""
    if kernels.COMPILED:
        words = np.ascontiguousarray(words, np.uint64)
        return kernels.pack_words(words, KINDS, MASK_WORDS, _PACKED_MAX).tobytes()
    values = [int(word) for word in words.tolist()]
    return pack_masks(
        tuple(
            sum(values[kind * MASK_WORDS + j] << (64 * j) for j in range(MASK_WORDS))
            for kind in range(KINDS)
        )
    )


def pack_masks(masks: tuple[int, ...]) -> bytes:
    """The figure masks in fewer bytes than their :func:`to_words` words, losslessly.

    Most texts set few bits (a median of about 24 of 512 on Reuters): the
    set bits of each mask are listed lowest first, one byte each, after the
    four counts. A text with so many that the list is no shorter keeps the 64
    raw bytes (a packed form is shorter than 64 bytes, so the length tells
    them apart). Plain Python on the few bits of one text beats array calls.
    """
    counts = []
    listed: list[int] = []
    for mask in masks:
        counts.append(mask.bit_count())
        while mask:
            lowest = mask & -mask
            listed.append(lowest.bit_length() - 1)
            mask ^= lowest
    if KINDS + len(listed) >= _PACKED_MAX:
        return b"".join(mask.to_bytes(8 * MASK_WORDS, "little") for mask in masks)
    return bytes(counts) + bytes(listed)


def unpack(packed: bytes) -> np.ndarray:
    """Inverse of :func:`pack`: ``KINDS * MASK_WORDS`` uint64 words."""
    if len(packed) == _PACKED_MAX:
        return np.frombuffer(packed, "<u8").astype(np.uint64)
    listed = np.frombuffer(packed, np.uint8)
    kinds = np.repeat(np.arange(KINDS), listed[:KINDS])
    bits = np.zeros(KINDS * MASK_BITS, np.uint8)
    bits[kinds * MASK_BITS + listed[KINDS:]] = 1
    return np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)


def too_many_replaced(theirs: np.ndarray, mine: np.ndarray, tolerance: float) -> np.ndarray:
    """Per row of ``theirs``: were more than ``tolerance`` of the figures replaced?

    ``theirs`` holds one row of :func:`to_words` per indexed text, ``mine``
    one row (or zeros) for the new text; the share is of the text with fewer
    figures.
    """
    replaced = np.minimum(_lost(theirs, mine), _lost(mine, theirs))
    shape = (-1, KINDS, MASK_WORDS)
    counts = np.bitwise_count(theirs).reshape(shape)[:, 2].sum(axis=1)
    total = np.minimum(counts, np.bitwise_count(mine).reshape(shape)[:, 2].sum(axis=1))
    return replaced > np.floor(tolerance * total)


def _lost(masks: np.ndarray, others: np.ndarray) -> np.ndarray:
    """How many figures of ``masks`` have no counterpart in ``others``.

    A replaced figure loses its left, right and triple items; an edited word
    beside a figure only one side and the triple, so ``L + R - T`` forgives
    it. A figure value that is gone counts too (``V``): in a table the same
    contexts repeat, so a changed figure may keep them. A figure replaced by
    another shows in both directions, one cut or added (a trimmed or extended
    copy) in one only, hence the minimum over both directions.
    """
    shape = (-1, KINDS, MASK_WORDS)
    missing = np.bitwise_count(masks & ~others).reshape(shape).sum(axis=2).astype(np.int64)
    left, right, triple, value = missing[:, 0], missing[:, 1], missing[:, 2], missing[:, 3]
    return np.maximum(value, left + right - triple)
