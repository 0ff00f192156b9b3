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

A template filed for the next period *rolls* its figures: "wheat crop 16.70
mln tonnes, vs 17.30 last month" follows "17.30, vs 17.50 last month". The
new figure stands where the old current one stood, the old current one moves
into the previous column; every value of the second text may be in the first
and no figure looks replaced. Two more masks catch it (:func:`rolled`). For
each *pair* (a figure followed by another written alike, with as many
decimals, within ``PAIR_REACH`` tokens: the current and the previous column;
figures written alike also keep prose from pairing a year with a share) the
pair's *row* is the two tokens before its first figure: the row's label
("wheat crop", "175-190 days"), the same in every report of the template.
The *lead* item is the first figure with its row, the *second* item the
second figure with that row. A figure of the new text that is the second of
a pair has rolled when the first text has it as the lead of that row and not
as its second; two distinct rolled figures mark a later report (one could be
a corrected figure). A row of two numbers ("1,682.31 1,686.11", inside a
dense table) labels nothing and gives no roll items: in a long table those
would match another table's by chance. The words either side of the second
figure do not label a row in a table whose columns all read "5.85 pct
5.82 pct". Roll items are hashed with a multiplicative mix, not CRC bits
alone: CRC is linear, so in a symmetric table items collide in pairs.
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
KINDS = 4  # left, right, triple, value: the kinds the replaced count compares
ROLL_KINDS = 2  # lead, second (see rolled)
ALL_KINDS = KINDS + ROLL_KINDS
# A long table sets many roll items: 256 bits keep chance matches rare, and a
# set bit is still listed in one byte (pack_masks).
ROLL_BITS = 256
ROLL_WORDS = ROLL_BITS // 64
_WIDTHS = (MASK_WORDS,) * KINDS + (ROLL_WORDS,) * ROLL_KINDS  # words per mask
_OFFSETS = tuple(sum(_WIDTHS[:kind]) for kind in range(ALL_KINDS + 1))
COMPARED_WORDS = _OFFSETS[KINDS]  # the words too_many_replaced reads
WORDS = _OFFSETS[ALL_KINDS]
_BIT = [1 << i for i in range(ROLL_BITS)]
PAIR_REACH = kernels.PAIR_REACH  # tokens from a figure to the second of its pair
_LEAD, _SECOND = b"lead ", b"second "  # the two roll items of a figure and its row

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
    """:func:`to_words` of :func:`figure_masks` (uint64), by the compiled loop where it can."""
    return figures_and_rolls(text)[0]


def figures_and_rolls(text: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`figure_words` and :func:`roll_items` of a text in one pass.

    The compiled loop reads UTF-8 bytes: a text with digits of another
    script (which ``\\d`` counts as digits) takes the plain code.
    """
    data = text.encode()
    if kernels.COMPILED and not _other_digits(text, data):
        return kernels.figure_words(np.frombuffer(data, np.uint8), *_WORD_TABLE, kernels.CRC_TABLE)
    masks, items = plain_figures(text)
    return np.array(to_words(masks), np.uint64), np.array(items, np.int64).reshape(-1, 3)


def figure_masks(text: str) -> tuple[int, ...]:
    """The masks of a text's figures: left, right, triple, value (128 bits), lead, second (256).

    Example:
        >>> left, right, triple, value, lead, second = figure_masks("ships were six")
        >>> bin(left).count("1"), bin(triple).count("1")
        (1, 0)
    """
    return _masks_of(figure_words(text).tolist())


def plain_figure_masks(text: str) -> tuple[int, ...]:
    """:func:`figure_masks` in plain Python: the definition the compiled loop follows."""
    return plain_figures(text)[0]


def _roll_bit(item: bytes) -> int:
    return kernels.roll_bit(zlib.crc32(item))


def plain_figures(text: str) -> tuple[tuple[int, ...], list[tuple[int, int, int, int]]]:
    """The figure masks and the roll items of a text, in plain Python.

    The roll items are those of each figure that is the second of a pair
    with a row: the figure's CRC-32 (its value item), the bit its lead item
    with this row would set and the bit of its second item (:func:`rolled`
    reads them).
    """
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
    left = right = triple = value = lead = second = 0
    items = []
    last = len(tokens) - 1
    pair_at, pair_figure = -PAIR_REACH - 1, b""  # the figure before this one
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
                if (
                    i - pair_at <= PAIR_REACH
                    and _shape(figure) == _shape(pair_figure)
                    and pair_at >= 2
                    and not (tokens[pair_at - 2] < b":" and tokens[pair_at - 1] < b":")
                ):
                    label, more = tokens[pair_at - 2], tokens[pair_at - 1]
                    row = (
                        _FIGURE_WORDS.get(label, label)
                        + b" "
                        + _FIGURE_WORDS.get(more, more)
                        + b" "
                    )
                    lead |= bit[_roll_bit(_LEAD + row + pair_figure)]
                    second_bit = _roll_bit(_SECOND + row + figure)
                    second |= bit[second_bit]
                    items.append((crc, _roll_bit(_LEAD + row + figure), second_bit))
        pair_at, pair_figure = i, figure
    return (left, right, triple, value, lead, second), items


def _shape(figure: bytes) -> int:
    """Digits after the decimal point of a number, -1 for a month.

    The two figures of a current/previous pair are written alike ("17.30 ...
    vs 17.50", "13 cts vs 28 cts").
    """
    if not figure[:1].isdigit():
        return -1
    point = figure.rfind(b".")
    return 0 if point < 0 else len(figure) - point - 1


def roll_items(text: str) -> np.ndarray:
    """The roll items of a text (:func:`plain_figures`), one row of three per pair's second."""
    return figures_and_rolls(text)[1]


def rolled(items: np.ndarray, theirs: np.ndarray) -> int:
    """How many distinct figures of a text (its :func:`roll_items`) rolled from ``theirs``.

    ``theirs`` is the other text's :func:`to_words`. A figure has rolled when
    it is the second of a pair here and, in the same row (the two tokens
    before the pair), the lead of a pair there but not its second (see the module
    docstring), and it is a figure of theirs: a figure new to theirs (a copy
    with text added) is no roll, and its value bit keeps a chance lead bit
    from counting. Figures are told apart by their CRC-32.
    """
    if not items.size or theirs.size < WORDS:  # an entry without roll masks rolls nothing
        return 0
    lead_at, second_at = _OFFSETS[KINDS], _OFFSETS[KINDS + 1]
    figure, lead, second = items.T

    def has(offset: int, bits: np.ndarray) -> np.ndarray:
        words = theirs[offset + (bits >> 6)]
        return (words >> (bits & 63).astype(np.uint64)) & np.uint64(1) != 0

    value = figure & _LOW_BITS  # the value item's bit
    found = has(lead_at, lead) & ~has(second_at, second) & has(_OFFSETS[3], value)
    return int(np.unique(figure[found]).size)


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
    """The masks as ``WORDS`` unsigned 64-bit words (index storage)."""
    return [
        (mask >> (64 * j)) & 0xFFFFFFFFFFFFFFFF
        for mask, width in zip(masks, _WIDTHS, strict=True)
        for j in range(width)
    ]


def _masks_of(words: list[int]) -> tuple[int, ...]:
    """Inverse of :func:`to_words`; missing words (an entry written before the
    roll kinds existed) read as empty masks."""
    words = words + [0] * (WORDS - len(words))
    return tuple(
        sum(words[_OFFSETS[kind] + j] << (64 * j) for j in range(_WIDTHS[kind]))
        for kind in range(ALL_KINDS)
    )


_COMPARED_BYTES = COMPARED_WORDS * 8  # the raw words of the compared kinds
_RAW = kernels.RAW_MARK  # marks a raw form: no count in a listed form reaches 255
_ROLL_BYTES = ROLL_KINDS * ROLL_BITS // 8  # the raw roll masks


def pack(words: np.ndarray) -> bytes:
    """:func:`to_words` output (uint64) in fewer bytes, losslessly (see :func:`pack_masks`).

    Words of an entry written before the roll kinds existed (fewer than
    ``WORDS``) pack as if their roll masks were empty.
    """
    if kernels.COMPILED:
        if words.size < WORDS:
            words = np.concatenate([words, np.zeros(WORDS - words.size, np.uint64)])
        return kernels.pack_words(words, KINDS, MASK_WORDS, ROLL_KINDS, ROLL_WORDS).tobytes()
    return pack_masks(_masks_of([int(word) for word in words.tolist()]))


def pack_masks(masks: tuple[int, ...]) -> bytes:
    """The figure masks in fewer bytes than their :func:`to_words` words, losslessly.

    Most texts set few bits (a median of about 24 of 512 on Reuters): the
    set bits of each compared mask are listed lowest first, one byte each,
    after the four counts; a text with so many that the list is no shorter
    keeps the 64 raw bytes after a marker byte. The roll masks follow only
    when set (a text with no figure pairs, about 30% on Reuters, pays
    nothing): the count of lead bits, the lead bits, the second bits, or the
    marker and the 64 raw bytes. Plain Python on the few bits of one text
    beats array calls.
    """
    counts = []
    listed: list[int] = []
    for mask in masks:
        counts.append(mask.bit_count())
        while mask:
            lowest = mask & -mask
            listed.append(lowest.bit_length() - 1)
            mask ^= lowest
    compared = sum(counts[:KINDS])
    if KINDS + compared >= _COMPARED_BYTES:
        head = bytes([_RAW]) + b"".join(
            mask.to_bytes(8 * MASK_WORDS, "little") for mask in masks[:KINDS]
        )
    else:
        head = bytes(counts[:KINDS]) + bytes(listed[:compared])
    rolls = listed[compared:]
    if not rolls:
        return head
    if len(rolls) >= _ROLL_BYTES:
        return (
            head
            + bytes([_RAW])
            + b"".join(mask.to_bytes(ROLL_BITS // 8, "little") for mask in masks[KINDS:])
        )
    return head + bytes([counts[KINDS]]) + bytes(rolls)


def unpack(packed: bytes) -> np.ndarray:
    """Inverse of :func:`pack`: ``WORDS`` uint64 words."""
    data = np.frombuffer(packed, np.uint8).astype(np.intp)
    bits = np.zeros(WORDS * 64, np.uint8)
    if packed[:1] == bytes([_RAW]):
        end = 1 + _COMPARED_BYTES
        raw = np.frombuffer(packed[1:end], np.uint8)
        bits[: COMPARED_WORDS * 64] = np.unpackbits(raw, bitorder="little")
    else:
        end = KINDS + int(data[:KINDS].sum())
        kinds = np.repeat(np.arange(KINDS), data[:KINDS])
        bits[kinds * MASK_BITS + data[KINDS:end]] = 1
    if end < len(packed) and packed[end] == _RAW:
        raw = np.frombuffer(packed[end + 1 :], np.uint8)
        bits[COMPARED_WORDS * 64 :] = np.unpackbits(raw, bitorder="little")
    elif end < len(packed):
        leads = int(data[end])
        roll = data[end + 1 :]
        bits[_OFFSETS[KINDS] * 64 + roll[:leads]] = 1
        bits[_OFFSETS[KINDS + 1] * 64 + roll[leads:]] = 1
    return np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)


def too_many_replaced(theirs: np.ndarray, mine: np.ndarray, tolerance: float) -> np.ndarray:
    """Per row of ``theirs``: were more than ``tolerance`` of the figures replaced?

    ``theirs`` holds one row of :func:`to_words` per indexed text, ``mine``
    one row (or zeros) for the new text; the share is of the text with fewer
    figures.
    """
    theirs, mine = theirs[..., :COMPARED_WORDS], mine[..., :COMPARED_WORDS]
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
