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

import itertools
import re
from zlib import crc32

import numpy as np

MASK_BITS = 128
MASK_WORDS = MASK_BITS // 64  # each mask is stored as this many uint64 words
KINDS = 4  # left, right, triple, value

# Tokens: runs of ASCII letters, and numbers from a digit to the last digit of
# a run of digits and ".,/-" (other digits, like other non-ASCII characters,
# separate tokens). Any other byte separates tokens, so a text is split into
# chunks at C speed (bytes.split) and each distinct chunk is tokenised once and
# cached: news repeats its words, and a chunk with no figure (most of them)
# then costs one dict lookup.
_TOKEN = re.compile(rb"[0-9](?:[0-9.,/\-]*[0-9])?|[A-Za-z]+")
_TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,/-"
_TO_CHUNKS = bytes(c if c in _TOKEN_BYTES else 0x20 for c in range(256))
_NUMBER_BYTES = b"0123456789.,/-"
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
_FIGURE_WORDS = {k.encode(): v.encode() for k, v in (_NUMBER_WORDS | _MONTHS).items()}
# "may" and "mar" are also common words: they count as months only when
# written as a name ("May") or next to a number ("MAR 3").
_AMBIGUOUS_MONTHS = frozenset((b"may", b"mar"))

# Each item is the CRC-32 of its words joined by spaces ("before figure") and
# sets bit CRC % 128 of its kind's mask. CRC-32 appends: the CRC of A + " " + B
# is crc32(Z, crc32(A)) ^ C, where Z is len(B) + 1 zero bytes and C is
# crc32(Z) ^ crc32(" " + B), which depend on B only. So each token's CRCs are
# computed once (and cached with its chunk), and an item costs one crc32 call
# over a few zero bytes instead of a string built, encoded and hashed.
_ZEROS = [bytes(n) for n in range(256)]

# Token kinds.
_WORD, _FIGURE, _NUMBER, _MAYBE_MONTH = 0, 1, 2, 3
# A token: its kind, then as a neighbour and as a figure each its CRC, its Z
# and its C (see above).
_Token = tuple[int, int, bytes, int, int, bytes, int]
_LOW_32 = 0xFFFFFFFF
_BIT = MASK_BITS - 1  # CRC % 128 as a mask
# A chunk of plain words as all a neighbouring figure needs of it: the CRC of
# its last word, the C and len(Z) of its first word, packed in one int. The
# other chunks (with a figure, or with no token) as their tokens. Each cache
# starts over when full: about 13 MB and 7 MB at most (measured).
_PLAIN_CHUNKS_MAX = 100_000
_FIGURE_CHUNKS_MAX = 20_000  # mostly numbers, which repeat less
_plain_chunks: dict[bytes, int] = {}
_figure_chunks: dict[bytes, tuple[_Token, ...]] = {}


def figure_masks(text: str) -> tuple[int, int, int, int]:
    """The left, right, triple and value masks of a text's figures (128 bits each).

    Example:
        >>> left, right, triple, value = figure_masks("ships were six")
        >>> bin(left).count("1"), bin(right).count("1"), bin(value).count("1")
        (1, 0, 1)
    """
    chunks = text.encode("ascii", "replace").translate(_TO_CHUNKS).split()
    # -1 marks a chunk not known to hold plain words only; list.index finds
    # those in C, so this loop runs only for chunks with figures (and words
    # seen for the first time). None pads either end: no token there.
    units: list = [None, *map(_plain_chunks.get, chunks, itertools.repeat(-1)), None]
    with_figures = []
    at = 0
    while True:
        try:
            at = units.index(-1, at + 1)
        except ValueError:
            break
        unit = _figure_chunks.get(chunks[at - 1]) or _chunk(chunks[at - 1])
        units[at] = unit
        if type(unit) is tuple:
            with_figures.append(at)
    left = right = triple = value = 0
    for at in with_figures:
        tokens = units[at]
        for j, (kind, _, _, _, figure, figure_zeros, figure_spaced) in enumerate(tokens):
            if kind == _WORD:
                continue
            if j:
                before, before_number = tokens[j - 1][1], tokens[j - 1][0] == _NUMBER
            elif type(units[at - 1]) is int:
                before, before_number = units[at - 1] & _LOW_32, False
            else:
                before, before_number = _before(units, at)
            if j + 1 < len(tokens):
                after_number, _, zeros, spaced, *_ = tokens[j + 1]
                after_number = after_number == _NUMBER
            elif type(units[at + 1]) is int:
                unit = units[at + 1]
                zeros, spaced, after_number = _ZEROS[unit >> 64], unit >> 32 & _LOW_32, False
            else:
                zeros, spaced, after_number = _after(units, at)
            if kind == _MAYBE_MONTH and not (before_number or after_number):
                continue
            value |= 1 << (figure & _BIT)
            # At either end of the text the neighbour is unknown (None), not a
            # word: a copy with a footer or a byline added has one there. Such
            # a figure gives only its inner side, so the added text is no
            # replaced figure.
            if before is not None:
                item = crc32(figure_zeros, before) ^ figure_spaced
                left |= 1 << (item & _BIT)
                if zeros is not None:
                    triple |= 1 << ((crc32(zeros, item) ^ spaced) & _BIT)
            if zeros is not None:
                right |= 1 << ((crc32(zeros, figure) ^ spaced) & _BIT)
    return left, right, triple, value


def to_words(masks: tuple[int, ...]) -> list[int]:
    """The masks as ``KINDS * MASK_WORDS`` unsigned 64-bit words (index storage)."""
    return [(mask >> (64 * j)) & 0xFFFFFFFFFFFFFFFF for mask in masks for j in range(MASK_WORDS)]


def _before(units: list, at: int) -> tuple[int | None, bool]:
    """The CRC of the token before chunk ``at`` (None at the start), is it a number?"""
    for unit in reversed(units[:at]):
        if type(unit) is int:
            return unit & _LOW_32, False
        if unit:
            return unit[-1][1], unit[-1][0] == _NUMBER
        if unit is None:
            break
    return None, False  # (an empty tuple is punctuation only, or the wire trailer)


def _after(units: list, at: int) -> tuple[bytes | None, int, bool]:
    """Z and C of the token after chunk ``at`` (Z None at the end), is it a number?"""
    for unit in units[at + 1 :]:
        if type(unit) is int:
            return _ZEROS[unit >> 64], unit >> 32 & _LOW_32, False
        if unit:
            return unit[0][2], unit[0][3], unit[0][0] == _NUMBER
        if unit is None:
            break
    return None, 0, False


def _chunk(chunk: bytes) -> int | tuple[_Token, ...]:
    """A chunk as a plain-words int or as its tokens; cached."""
    tokens = _figure_chunks.get(chunk)
    if tokens is not None:
        return tokens
    if chunk.isalpha() or (
        chunk[:1].isdigit() and chunk[-1:].isdigit() and not chunk.translate(None, _NUMBER_BYTES)
    ):
        raws = [chunk]  # one word or one number, the common case
    else:
        raws = _TOKEN.findall(chunk)
    tokens = tuple(_token(raw) for raw in raws if raw.lower() not in _SKIPPED)
    first_length = len(tokens[0][2]) if tokens else 0
    if tokens and first_length < len(_ZEROS) and all(token[0] == _WORD for token in tokens):
        if len(_plain_chunks) >= _PLAIN_CHUNKS_MAX:
            _plain_chunks.clear()
        plain = tokens[-1][1] | tokens[0][3] << 32 | first_length << 64
        _plain_chunks[chunk] = plain
        return plain
    if len(_figure_chunks) >= _FIGURE_CHUNKS_MAX:
        _figure_chunks.clear()
    _figure_chunks[chunk] = tokens
    return tokens


def _token(raw: bytes) -> _Token:
    token = raw.lower()
    if raw[:1].isdigit():
        kind, near, figure = _NUMBER, token, token.replace(b",", b"")
    elif token in _FIGURE_WORDS:
        kind, near = _FIGURE, _FIGURE_WORDS[token]
        figure = near
    elif token in _AMBIGUOUS_MONTHS:
        titled = raw[:1].isupper() and raw[1:].islower()
        kind, near, figure = (_FIGURE if titled else _MAYBE_MONTH), token, token
    else:
        kind, near, figure = _WORD, token, token
    appended = _appended(near)
    return kind, *appended, *(appended if figure == near else _appended(figure))


def _appended(word: bytes) -> tuple[int, bytes, int]:
    """A word's CRC, and the Z and C that append it (after a space) to another CRC."""
    zeros = _ZEROS[len(word) + 1] if len(word) + 1 < len(_ZEROS) else bytes(len(word) + 1)
    return crc32(word), zeros, crc32(zeros) ^ crc32(b" " + word)


_WORDS = KINDS * MASK_WORDS
_PACKED_MAX = _WORDS * 8  # bytes of the words themselves, the longest packed form


def pack(words: np.ndarray) -> bytes:
    """:func:`to_words` output (uint64) in fewer bytes, losslessly.

    Most texts set few bits (a median of about 24 of 512 on Reuters): the
    set bits of each mask are listed, one byte each, after the four counts.
    A text with so many that the list is no shorter keeps the 64 raw bytes
    (a packed form is shorter than 64 bytes, so the length tells them apart).
    """
    bits = np.flatnonzero(np.unpackbits(words.astype("<u8").view(np.uint8), bitorder="little"))
    if KINDS + bits.size >= _PACKED_MAX:
        return words.astype("<u8").tobytes()
    counts = np.bincount(bits >> 7, minlength=KINDS).astype(np.uint8)
    return counts.tobytes() + (bits & 127).astype(np.uint8).tobytes()


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
