"""Compiled loops (numba) for the de-duplication features.

The features are defined by the plain-Python code in :mod:`pipeline._dedup_text`,
:mod:`pipeline._dedup_figures` and :mod:`pipeline._dedup_story_terms`; these
loops compute the same values from a text's UTF-8 bytes (the story terms from
its code points) in one pass each, without a Python object per token,
shingle, figure or term. Tests compare them with the plain code on tricky texts.

Without numba installed the callers use the plain code (``COMPILED`` is
false); the functions here then stay plain Python (slow, but the same).
``cache=True`` keeps the machine code next to this module (or in the user's
cache directory where that is read-only), so a worker compiles them once.
"""

from __future__ import annotations

import zlib

import numpy as np

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a declared dependency
    njit = None

COMPILED = njit is not None


def _compiled(function):  # type: ignore[no-untyped-def]
    return njit(cache=True, nogil=True)(function) if njit is not None else function


def _inlined(function):  # type: ignore[no-untyped-def]
    # A small helper of a per-token loop: numba compiles every function on
    # its own, so a call is a real call (arrays passed field by field);
    # inlined at numba's IR level it costs nothing at run time.
    if njit is None:
        return function
    return njit(cache=True, nogil=True, inline="always")(function)


def _crc_table() -> np.ndarray:
    # zlib's CRC-32 (reflected polynomial 0xEDB88320), one entry per byte.
    table = np.zeros(256, np.int64)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
        table[byte] = crc
    return table


CRC_TABLE = _crc_table()
_CRC_START = 0xFFFFFFFF
_MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads a hash over a table's slots


@_inlined
def _crc_step(state: int, byte: int, table: np.ndarray) -> int:
    """CRC-32 state after one more byte (the state is the CRC before its final xor)."""
    return table[(state ^ byte) & 0xFF] ^ (state >> 8)


@_compiled
def crc32(data: np.ndarray, crc: int, table: np.ndarray) -> int:
    """``zlib.crc32(bytes(data), crc)`` (used by the tests; the loops inline it)."""
    state = crc ^ _CRC_START
    for byte in data:
        state = _crc_step(state, byte, table)
    return state ^ _CRC_START


# -- figures ---------------------------------------------------------------


def word_code(word: bytes) -> int:
    """A letters-only word of 1 to 12 letters as one integer (5 bits a letter, case folded)."""
    code = 0
    for position, byte in enumerate(word.lower()):
        code |= (byte - 96) << (5 * position)
    return code


def word_table(words: dict[bytes, bytes], ambiguous: dict[bytes, bytes]) -> tuple[np.ndarray, ...]:
    """The figure words as arrays for :func:`figure_words`: codes (sorted), kinds, forms.

    Kind 0 is a word that is always a figure (its form replaces it, also as
    a neighbour), kind 1 one that is a figure only beside a number or
    capitalised ("May"), written as itself.
    """
    entries = sorted(
        [(word_code(word), 0, form) for word, form in words.items()]
        + [(word_code(word), 1, form) for word, form in ambiguous.items()]
    )
    codes = np.array([code for code, _, _ in entries], np.int64)
    kinds = np.array([kind for _, kind, _ in entries], np.int64)
    forms = b"".join(form for _, _, form in entries)
    ends = np.cumsum([len(form) for _, _, form in entries]).astype(np.int64)
    return codes, kinds, np.frombuffer(forms, np.uint8).copy(), ends


_DIGIT_0, _DIGIT_9 = 48, 57
_COMMA, _SPACE = 44, 32
RAW_MARK = 0xFF  # marks a raw form in packed figures (_dedup_figures.pack)
# the wire trailer, no context (as word_code gives them)
_REUTER, _REUTERS = word_code(b"reuter"), word_code(b"reuters")
_LONGEST_CODE = 12  # letters that fit 60 bits


@_compiled
def _is_letter(byte: int) -> bool:
    return (65 <= byte <= 90) or (97 <= byte <= 122)


@_compiled
def _is_digit(byte: int) -> bool:
    return _DIGIT_0 <= byte <= _DIGIT_9


@_compiled
def _in_number(byte: int) -> bool:
    # the bytes between a number's digits: 0-9 . , / -
    return (_DIGIT_0 <= byte <= _DIGIT_9) or byte == 46 or byte == 44 or byte == 47 or byte == 45


@_compiled
def _tokens(data: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, ends and figure-word index (-1: none) of the tokens, trailers dropped.

    A token is a run of ASCII letters or a number: a digit, then digits and
    ``.,/-``, up to its last digit (``_dedup_figures._TOKEN``); any other
    byte (non-ASCII ones included) separates tokens.
    """
    size = data.size
    # at most one token a byte ("a1b2" has four)
    starts = np.empty(size, np.int64)
    ends = np.empty(size, np.int64)
    found = np.empty(size, np.int64)
    count = 0
    at = 0
    while at < size:
        byte = data[at]
        if _is_letter(byte):
            end = at + 1
            while end < size and _is_letter(data[end]):
                end += 1
            code = -1
            # word_code and the sorted look-up written out: a call per token
            # cost about 2.5 us per seed-length article.
            if end - at <= _LONGEST_CODE:
                key = 0
                for position in range(end - at):
                    key |= ((data[at + position] | 32) - 96) << (5 * position)
                if key == _REUTER or key == _REUTERS:
                    at = end
                    continue
                match = np.searchsorted(codes, key)
                if match < codes.size and codes[match] == key:
                    code = match
            starts[count], ends[count], found[count] = at, end, code
            count += 1
            at = end
        elif _is_digit(byte):
            last = at
            end = at + 1
            while end < size and _in_number(data[end]):
                if _is_digit(data[end]):
                    last = end
                end += 1
            starts[count], ends[count], found[count] = at, last + 1, -1
            count += 1
            at = last + 1
        else:
            at += 1
    return starts[:count], ends[:count], found[:count]


@_inlined
def _feed_word(
    state: int,
    data: np.ndarray,
    start: int,
    end: int,
    code: int,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
    table: np.ndarray,
) -> int:
    """CRC state after a token as a neighbour: its figure-word form, else lower-cased."""
    if code >= 0 and kinds[code] == 0:
        for at in range(form_ends[code - 1] if code else 0, form_ends[code]):
            state = _crc_step(state, forms[at], table)
        return state
    for at in range(start, end):
        byte = data[at]
        if 65 <= byte <= 90:
            byte += 32
        state = _crc_step(state, byte, table)
    return state


@_compiled
def _set_bit(words: np.ndarray, kind: int, crc: int) -> None:
    bit = crc & 127
    words[2 * kind + (bit >> 6)] |= np.uint64(1) << np.uint64(bit & 63)


# Roll items (``_dedup_figures.rolled``) pick one of 256 bits by the top byte
# of a multiplicative mix of their CRC: CRC bits alone are linear, so in a
# symmetric table items collide in pairs.
_ROLL_MIX = 0x9E3779B1
_ROLL_SHIFT = 24  # 32 bits less the 8 of a bit number below 256
_ROLL_AT = 8  # the first word of the roll masks
_ROLL_WORDS = 4  # words per roll mask
PAIR_REACH = 4  # a figure at most this many tokens after another is the second of a pair
# CRC states after the items' prefixes (zlib.crc32(b"lead ") before its final xor)
_LEAD_STATE = zlib.crc32(b"lead ") ^ _CRC_START
_SECOND_STATE = zlib.crc32(b"second ") ^ _CRC_START


def roll_bit(crc: int) -> int:
    """The roll-mask bit of an item with CRC-32 ``crc``."""
    return ((crc * _ROLL_MIX) & 0xFFFFFFFF) >> _ROLL_SHIFT


# The loop's copy; the plain code calls the Python function, so a text that
# takes the plain path never waits for a compiler.
_roll_bit = _compiled(roll_bit)


@_compiled
def _set_roll_bit(words: np.ndarray, kind: int, bit: int) -> None:
    words[_ROLL_AT + _ROLL_WORDS * kind + (bit >> 6)] |= np.uint64(1) << np.uint64(bit & 63)


@_inlined
def _space(state: int, table: np.ndarray) -> int:
    """CRC state after a space (items join their words with one)."""
    return _crc_step(state, _SPACE, table)


@_inlined
def _feed_token(
    state: int,
    data: np.ndarray,
    at: int,
    starts: np.ndarray,
    ends: np.ndarray,
    found: np.ndarray,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
    table: np.ndarray,
) -> int:
    """CRC state after token ``at`` as a neighbour (:func:`_feed_word`)."""
    return _feed_word(state, data, starts[at], ends[at], found[at], kinds, forms, form_ends, table)


@_compiled
def _row_state(
    state: int,
    data: np.ndarray,
    lead: int,
    starts: np.ndarray,
    ends: np.ndarray,
    found: np.ndarray,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
    table: np.ndarray,
) -> int:
    """CRC state after the row of a pair whose lead figure is token ``lead``: "label label "."""
    for at in (lead - 2, lead - 1):
        state = _feed_token(state, data, at, starts, ends, found, kinds, forms, form_ends, table)
        state = _space(state, table)
    return state


@_inlined
def _feed_figure(
    state: int,
    data: np.ndarray,
    start: int,
    end: int,
    code: int,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
    table: np.ndarray,
) -> int:
    """CRC state after a figure: a number without its commas, or the word's form."""
    if _is_digit(data[start]):
        for at in range(start, end):
            if data[at] != _COMMA:
                state = _crc_step(state, data[at], table)
        return state
    return _feed_word(state, data, start, end, code, kinds, forms, form_ends, table)


@_compiled
def _shape(
    data: np.ndarray,
    start: int,
    end: int,
    code: int,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
) -> int:
    """``_dedup_figures._shape`` of the figure a token stands for."""
    if _is_digit(data[start]):
        point = -1
        for at in range(start, end):
            if data[at] == 46:  # "."
                point = at
        decimals = 0
        for at in range(point + 1, end):
            decimals += data[at] != _COMMA  # the figure is the number without commas
        return decimals if point >= 0 else 0
    # a number word's form is digits ("6"), a month's letters
    if kinds[code] == 0 and _is_digit(forms[form_ends[code - 1] if code else 0]):
        return 0
    return -1


@_compiled
def figure_words(
    data: np.ndarray,
    codes: np.ndarray,
    kinds: np.ndarray,
    forms: np.ndarray,
    form_ends: np.ndarray,
    table: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``_dedup_figures.plain_figures`` from the text's UTF-8 bytes: words and roll items.

    Valid for texts whose digits are all ASCII (the caller checks): other
    non-ASCII characters separate tokens, as in the plain code.
    """
    words = np.zeros(16, np.uint64)
    starts, ends, found = _tokens(data, codes)
    items = np.empty((starts.size, 3), np.int64)
    count = 0
    last = starts.size - 1
    pair_at, pair_shape = -PAIR_REACH - 1, -2  # the figure before this one
    for i in range(starts.size):
        start, end, code = starts[i], ends[i], found[i]
        if not _is_digit(data[start]):
            if code < 0:
                continue
            if kinds[code] == 1:
                # "may"/"mar": a month if written "May" or beside a number
                named = 65 <= data[start] <= 90
                for at in range(start + 1, end):
                    named = named and 97 <= data[at] <= 122
                beside = (i > 0 and _is_digit(data[starts[i - 1]])) or (
                    i < last and _is_digit(data[starts[i + 1]])
                )
                if not (named or beside):
                    continue
        # Each item is the CRC of its words joined by spaces; "figure after"
        # continues the figure's CRC state.
        figure_state = _feed_figure(
            _CRC_START, data, start, end, code, kinds, forms, form_ends, table
        )
        crc = figure_state ^ _CRC_START
        _set_bit(words, 3, crc)
        pair = 0
        if i > 0:
            state = _feed_token(
                _CRC_START, data, i - 1, starts, ends, found, kinds, forms, form_ends, table
            )
            state = _feed_figure(
                _space(state, table), data, start, end, code, kinds, forms, form_ends, table
            )
            pair = state ^ _CRC_START
            _set_bit(words, 0, pair)
        shape = _shape(data, start, end, code, kinds, forms, form_ends)
        if i < last:
            state = _feed_token(
                _space(figure_state, table),
                data,
                i + 1,
                starts,
                ends,
                found,
                kinds,
                forms,
                form_ends,
                table,
            )
            _set_bit(words, 1, state ^ _CRC_START)
            if i > 0:
                state = _feed_token(
                    _space(pair ^ _CRC_START, table),
                    data,
                    i + 1,
                    starts,
                    ends,
                    found,
                    kinds,
                    forms,
                    form_ends,
                    table,
                )
                _set_bit(words, 2, state ^ _CRC_START)
                # A pair's row is the two tokens before its lead; two numbers
                # label no row (``_dedup_figures``' docstring).
                if (
                    i - pair_at <= PAIR_REACH
                    and shape == pair_shape
                    and pair_at >= 2
                    and not (
                        _is_digit(data[starts[pair_at - 2]])
                        and _is_digit(data[starts[pair_at - 1]])
                    )
                ):
                    # The second of a pair with a row: "lead " + row with the
                    # figure that led and with this one, "second " + row with this.
                    at = pair_at  # the lead figure's token
                    lead = _row_state(
                        _LEAD_STATE, data, at, starts, ends, found, kinds, forms, form_ends, table
                    )
                    second = _row_state(
                        _SECOND_STATE, data, at, starts, ends, found, kinds, forms, form_ends, table
                    )
                    theirs = _feed_figure(
                        lead,
                        data,
                        starts[pair_at],
                        ends[pair_at],
                        found[pair_at],
                        kinds,
                        forms,
                        form_ends,
                        table,
                    )
                    _set_roll_bit(words, 0, _roll_bit(theirs ^ _CRC_START))
                    mine = _feed_figure(
                        lead, data, start, end, code, kinds, forms, form_ends, table
                    )
                    second = _feed_figure(
                        second, data, start, end, code, kinds, forms, form_ends, table
                    )
                    second_bit = _roll_bit(second ^ _CRC_START)
                    _set_roll_bit(words, 1, second_bit)
                    items[count, 0] = crc
                    items[count, 1] = _roll_bit(mine ^ _CRC_START)
                    items[count, 2] = second_bit
                    count += 1
        pair_at, pair_shape = i, shape
    return words, items[:count].copy()


@_compiled
def _list_bits(words: np.ndarray, first: int, count: int, listed: np.ndarray, size: int) -> int:
    """List the set bits of ``count`` words from ``first`` (their bit numbers) after ``size``."""
    for j in range(count):
        word = words[first + j]
        for bit in range(64):
            if (word >> np.uint64(bit)) & np.uint64(1):
                listed[size] = 64 * j + bit
                size += 1
    return size


@_compiled
def _raw_bytes(words: np.ndarray, first: int, count: int, listed: np.ndarray, at: int) -> int:
    """Write ``count`` words from ``first`` as little-endian bytes at ``at``; the end."""
    for j in range(count):
        word = words[first + j]
        for byte in range(8):
            listed[at] = (word >> np.uint64(8 * byte)) & np.uint64(0xFF)
            at += 1
    return at


@_compiled
def pack_words(
    words: np.ndarray, kinds: int, mask_words: int, roll_kinds: int, roll_words: int
) -> np.ndarray:
    """``_dedup_figures.pack`` of figure words: the compared masks, then the roll masks."""
    # Plain loops, no array views: this compiles in a fraction of the time.
    listed = np.empty(2 + kinds + 64 * words.size, np.uint8)
    size = kinds
    for kind in range(kinds):
        end = _list_bits(words, kind * mask_words, mask_words, listed, size)
        listed[kind] = end - size
        size = end
    compared = kinds * mask_words
    if size >= 8 * compared:  # the list is no shorter: a marker and the raw words
        listed[0] = RAW_MARK
        size = _raw_bytes(words, 0, compared, listed, 1)
    head = size
    # the roll masks after the count of the first one's bits (lead)
    size = head + 1
    leads = 0
    for kind in range(roll_kinds):
        size = _list_bits(words, compared + kind * roll_words, roll_words, listed, size)
        if kind == 0:
            leads = size - head - 1
    rolls = size - head - 1
    if rolls == 0:
        return listed[:head].copy()
    if rolls >= 8 * roll_kinds * roll_words:
        listed[head] = RAW_MARK
        size = _raw_bytes(words, compared, roll_kinds * roll_words, listed, head + 1)
    else:
        listed[head] = leads
    return listed[:size].copy()


# -- shingles and MinHash ----------------------------------------------------


@_compiled
def shingles_and_minhash(
    data: np.ndarray, shingle_words: int, prime: np.uint64, min_a: np.ndarray, min_b: np.ndarray
) -> tuple[int, np.ndarray]:
    """How many distinct ``shingle_hashes`` a normal form's UTF-8 bytes have, and their ``minhash``.

    A shingle's hash is the polynomial sum(byte * prime^(end - 1 - i)) over
    its bytes (mod 2^64): prefix[end] - prefix[start] * prime^(end - start).
    Distinct hashes are counted in a hash set (sorting them costs twice as
    much); duplicates leave the minima as they are.
    """
    size = data.size
    minima = np.zeros(min_a.size, np.uint16)
    if size == 0:
        return 0, minima
    prefix = np.empty(size + 1, np.uint64)
    powers = np.empty(size + 1, np.uint64)
    ends = np.empty(size + 1, np.int64)  # where each word ends (its space, or size)
    prefix[0], powers[0] = np.uint64(0), np.uint64(1)
    words = 0
    for at in range(size):
        byte = data[at]
        prefix[at + 1] = prefix[at] * prime + np.uint64(byte)
        powers[at + 1] = powers[at] * prime
        ends[words] = at  # no branch: overwritten until a space moves on
        words += byte == _SPACE
    ends[words] = size
    words += 1
    count = max(words - shingle_words + 1, 1)
    span = min(shingle_words, words) - 1
    bits = 1
    while (1 << bits) < 2 * count:
        bits += 1
    mask = np.int64((1 << bits) - 1)
    shift = np.uint64(64 - bits)
    seen = np.zeros(1 << bits, np.uint64)
    used = np.zeros(1 << bits, np.bool_)
    distinct = np.empty(count, np.uint64)
    found = 0
    for k in range(count):
        begin = ends[k - 1] + 1 if k else 0
        end = ends[k + span]
        value = prefix[end] - prefix[begin] * powers[end - begin]
        slot = np.int64((value * _MIX) >> shift)
        while used[slot] and seen[slot] != value:
            slot = np.int64((slot + 1) & mask)
        if not used[slot]:
            used[slot] = True
            seen[slot] = value
            distinct[found] = value
            found += 1
    for j in range(min_a.size):
        a, b = min_a[j], min_b[j]
        least = a * distinct[0] + b
        for k in range(1, found):
            least = min(least, a * distinct[k] + b)
        minima[j] = (least >> np.uint64(32)) & np.uint64(0xFFFF)
    return found, minima


# -- index lookups -----------------------------------------------------------


@_compiled
def posted_rows(
    keys: np.ndarray,
    shift: int,
    quotas: np.ndarray,
    counts: np.ndarray,
    base: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    recent: np.ndarray,
) -> np.ndarray:
    """``Postings.lookup``: the distinct rows (ascending) of the keys' buckets.

    A bucket's rows begin at its group's start plus the counts of the
    buckets before it in the group; each key takes its ``quotas`` newest
    (last) rows. ``recent`` (pending rows already taken) is added.
    """
    size = keys.size
    lefts = np.empty(size, np.int64)
    rights = np.empty(size, np.int64)
    total = recent.size
    for i in range(size):
        bucket = keys[i] >> shift
        group, at = bucket >> 6, bucket & 63
        left = base[group]
        for j in range(at):
            left += counts[group, j]
        right = left + counts[group, at]
        lefts[i] = max(left, right - quotas[i])
        rights[i] = right
        total += rights[i] - lefts[i]
    rows = np.empty(total, np.uint32)
    out = 0
    for i in range(size):
        for position in range(lefts[i], rights[i]):
            rows[out] = (np.uint32(high[position]) << np.uint32(16)) | np.uint32(low[position])
            out += 1
    for row in recent:
        rows[out] = row
        out += 1
    rows.sort()
    distinct = 0
    for k in range(total):
        if k == 0 or rows[k] != rows[distinct - 1]:
            rows[distinct] = rows[k]
            distinct += 1
    return rows[:distinct]


@_compiled
def equal_minima(minhash: np.ndarray, rows: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """How many of each row's MinHash minima equal the probe's (same position)."""
    matches = np.zeros(rows.size, np.int64)
    # The rows are scattered over a large index: reading each row's first
    # value in a loop of its own lets the CPU wait for many at once.
    first = np.empty(rows.size, np.int64)
    for i in range(rows.size):
        first[i] = minhash[rows[i], 0] == probe[0]
    for i in range(rows.size):
        row = rows[i]
        count = first[i]
        for j in range(1, probe.size):
            count += minhash[row, j] == probe[j]
        matches[i] = count
    return matches


_TERM_SLOTS = 4096  # a direct-mapped table on a term's low 12 bits


@_compiled
def story_cosine(
    terms: np.ndarray,
    steps: np.ndarray,
    rows: np.ndarray,
    ours: np.ndarray,
    our_weights: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Cosine of each row's story terms with ours, in float32 as numpy sums them.

    A row's products (its weight, ``weights[step]``, times our weight of the
    same term, or 0) are added pairwise as ``np.add.reduce`` adds a row of
    float32 values (:func:`_pairwise_sum`).
    Our terms sit in a table by their low bits, so each of a row's terms is
    one look-up with no branch; an empty slot holds a value whose low bits
    name another slot, so no term equals it. If two of ours share a slot,
    every term is compared with all of ours instead.
    """
    table = np.empty(_TERM_SLOTS, np.int64)
    table_weights = np.zeros(_TERM_SLOTS, np.float32)
    for slot in range(_TERM_SLOTS):
        table[slot] = (slot + 1) % _TERM_SLOTS
    shared = False
    for k in range(ours.size):
        slot = ours[k] % _TERM_SLOTS
        shared = shared or table[slot] % _TERM_SLOTS == slot
        table[slot] = ours[k]
        table_weights[slot] = our_weights[k]
    width = terms.shape[1]
    products = np.zeros(width, np.float32)
    cosine = np.empty(rows.size, np.float32)
    for i in range(rows.size):
        row = rows[i]
        for j in range(width):
            term = terms[row, j]
            if shared:
                matched = np.float32(0)
                for k in range(ours.size):
                    if ours[k] == term:
                        matched = our_weights[k]
            else:
                slot = term % _TERM_SLOTS
                matched = table_weights[slot] if table[slot] == term else np.float32(0)
            products[j] = weights[steps[row, j]] * matched
        cosine[i] = _pairwise_sum(products)
    return cosine


@_compiled
def _pairwise_sum(values: np.ndarray) -> np.float32:
    # numpy's pairwise float32 sum of fewer than 128 values: eight running
    # sums of every eighth value, added as a tree, then the rest in order.
    size = values.size
    total = np.float32(0)
    if size < 8:
        for k in range(size):
            total += values[k]
        return total
    s0, s1, s2, s3 = values[0], values[1], values[2], values[3]
    s4, s5, s6, s7 = values[4], values[5], values[6], values[7]
    whole = size - size % 8
    for start in range(8, whole, 8):
        s0 += values[start]
        s1 += values[start + 1]
        s2 += values[start + 2]
        s3 += values[start + 3]
        s4 += values[start + 4]
        s5 += values[start + 5]
        s6 += values[start + 6]
        s7 += values[start + 7]
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for k in range(whole, size):
        total += values[k]
    return total


@_compiled
def posting_keys(
    shingles: int,
    minhash: np.ndarray,
    terms: np.ndarray,
    first_band_salt: int,
    term_salt: int,
    posted: int,
    mix: np.uint64,
) -> np.ndarray:
    """``_dedup_index.row_keys``: salted band keys (if shingles) then term keys, no zeros."""
    keys = np.empty(minhash.size // 2 + posted, np.int64)
    count = 0
    if shingles:
        for band in range(minhash.size // 2):
            value = (np.uint64(minhash[2 * band]) << np.uint64(16)) | np.uint64(
                minhash[2 * band + 1]
            )
            keys[count] = _salted_key(value, first_band_salt + band, mix)
            count += keys[count] != 0
    for at in range(min(posted, terms.size)):
        if terms[at]:
            keys[count] = _salted_key(np.uint64(terms[at]), term_salt, mix)
            count += keys[count] != 0
    return keys[:count]


@_compiled
def _salted_key(value: np.uint64, salt: int, mix: np.uint64) -> int:
    # _dedup_store.salted_key: the salt above the 32-bit value, mixed, high half
    return np.int64(((value ^ (np.uint64(salt) << np.uint64(32))) * mix) >> np.uint64(32))


# -- normal form -----------------------------------------------------------------


@_compiled
def ascii_words(data: np.ndarray, table: np.ndarray, trailers: np.ndarray) -> np.ndarray:
    """``b" ".join(words)`` of ``data.lower().translate(punctuation).split()``, a trailer cut.

    ``data`` is ASCII; ``table`` does the lowering and the translation and
    makes every byte ``bytes.split`` splits at a space. Every byte is
    written and the end moves on unless it is a space after a space (no
    branch to mispredict at each word). A last word whose
    :func:`word_code` is in ``trailers`` (sorted) is dropped, as
    ``_dedup_text.normalise`` does.
    """
    out = np.empty(data.size + 1, np.uint8)
    size = 0
    last = 0  # where the last word starts in ``out``
    space = True  # the previous byte was a space (none is written first)
    for raw in data:
        byte = table[raw]
        blank = byte == _SPACE
        out[size] = byte
        last = size if space and not blank else last
        size += not (blank and space)
        space = blank
    if space and size:
        size -= 1  # the text ended with a space
    if size - last <= _LONGEST_CODE:
        code = 0
        for position in range(size - last):
            byte = out[last + position]
            if not 97 <= byte <= 122:
                code = -1
                break
            code |= (byte - 96) << (5 * position)
        match = np.searchsorted(trailers, code)
        if code > 0 and match < trailers.size and trailers[match] == code:
            size = max(last - 1, 0)
    return out[:size]


@_compiled
def _line_break(byte: int) -> bool:
    # str.splitlines boundaries in ASCII: \n \v \f \r and \x1c-\x1e
    return byte == 10 or byte == 11 or byte == 12 or byte == 13 or 28 <= byte <= 30


@_compiled
def _blank(byte: int) -> bool:
    # str.strip() whitespace in ASCII: \t-\r, \x1c-\x1f and space
    return 9 <= byte <= 13 or 28 <= byte <= 32


@_compiled
def long_lines_may_repeat(data: np.ndarray, min_chars: int, prime: np.uint64) -> bool:
    """Whether two lines of an ASCII text may have the same key of ``min_chars`` or more.

    A key is a line stripped and lower-cased (``remove_repeated_paragraphs``);
    keys are compared by a 64-bit hash, so False is certain and True (rare)
    sends the text to the exact comparison.
    """
    size = data.size
    hashes = np.empty(size // max(min_chars, 1) + 1, np.uint64)
    count = 0
    start = 0
    at = 0
    while at <= size:
        if at == size or _line_break(data[at]):
            first, end = start, at
            while first < end and _blank(data[first]):
                first += 1
            while end > first and _blank(data[end - 1]):
                end -= 1
            if end - first >= min_chars:
                value = np.uint64(0)
                for position in range(first, end):
                    byte = data[position]
                    value = value * prime + np.uint64(byte + 32 if 65 <= byte <= 90 else byte)
                hashes[count] = value
                count += 1
            if at + 1 < size and data[at] == 13 and data[at + 1] == 10:
                at += 1  # \r\n is one line break
            start = at + 1
        at += 1
    found = hashes[:count]
    found.sort()
    for k in range(1, count):
        if found[k] == found[k - 1]:
            return True
    return False


@_compiled
def rows_since(
    rows: np.ndarray,
    published: np.ndarray,
    since: int,
    minhash: np.ndarray,
    terms: np.ndarray,
    steps: np.ndarray,
) -> tuple[np.ndarray, int]:
    """The ``rows`` published at or after ``since``, and a checksum of what was read.

    The kept rows are scattered over a large index, and the judging loops
    (:func:`equal_minima`, :func:`story_cosine`) read their MinHash, terms
    and weights next: reading one value of each here, in a loop with no
    dependence between rows, lets the CPU fetch them all at once. The
    checksum (ignored) keeps the compiler from dropping those reads.
    """
    kept = np.empty(rows.size, rows.dtype)
    count = 0
    for row in rows:
        kept[count] = row
        count += published[row] >= since
    touched = 0
    for k in range(count):
        row = kept[k]
        # both ends: a row may straddle two cache lines
        touched += minhash[row, 0] + minhash[row, -1] + terms[row, 0] + terms[row, -1]
        touched += steps[row, 0] + steps[row, -1]
    return kept[:count], touched


MARKUP, ENTITY, BYLINE, DATELINE = 1, 2, 4, 8  # text_cues bits


@_compiled
def _follows(data: np.ndarray, at: int, words: np.ndarray, start: int, end: int) -> bool:
    if at + end - start > data.size:
        return False
    for k in range(end - start):
        if data[at + k] != words[start + k]:
            return False
    return True


@_compiled
def text_cues(data: np.ndarray, datelines: np.ndarray) -> int:
    """Which cues of ``_dedup_text.normalise``'s patterns an ASCII text holds (bits).

    "<" (MARKUP), "&" (ENTITY), "By" (BYLINE), and "(" followed by one of
    the ``datelines`` words (the rest of each dateline cue, each ended by a
    0 byte; DATELINE), in one pass.
    """
    cues = 0
    last = data.size - 1
    for at in range(data.size):
        byte = data[at]
        if byte == 60:  # <
            cues |= MARKUP
        elif byte == 38:  # &
            cues |= ENTITY
        elif byte == 66 and at < last and data[at + 1] == 121:  # By
            cues |= BYLINE
        elif byte == 40 and not cues & DATELINE:  # (
            start = 0
            for end in range(datelines.size):
                if datelines[end] == 0:
                    if _follows(data, at + 1, datelines, start, end):
                        cues |= DATELINE
                    start = end + 1
    return cues


# -- story terms -------------------------------------------------------------

_APOSTROPHE, _HYPHEN, _BAR, _MARKER = 39, 45, 124, 1
_OUTLET_SEGMENT = 80  # _dedup_story_terms._OUTLET_SUFFIX: {1,80}
_CREDIT_LONGEST = 40  # _dedup_story_terms._CREDIT: {1,40}
_IDF_SHIFT = 18  # a term's top 14 bits pick its range of the sorted IDF hashes


# Classes of the code points below 65,536 (_dedup_story_terms builds the
# table): a word's character, white space (str.isspace), punctuation that
# splits names, or one the kernel does not reproduce (a capital or a digit
# outside ASCII, a character that lower() changes, a surrogate).
_WORD, _BLANK, _SPLIT, _FOREIGN = 0, 1, 2, 3
_LEFT_QUOTE, _RIGHT_QUOTE, _EN_DASH, _EM_DASH = 0x2018, 0x2019, 0x2013, 0x2014
_LOWER_S, _UPPER_S = 115, 83


@_compiled
def _dash(code: int) -> bool:
    # the dashes _OUTLET_SUFFIX and _CREDIT know: - \u2013 \u2014
    return code == _HYPHEN or code == _EN_DASH or code == _EM_DASH


@_compiled
def _apostrophe(code: int) -> bool:
    # _term_word reads typographic single quotes as "'"
    return code == _APOSTROPHE or code == _RIGHT_QUOTE or code == _LEFT_QUOTE


@_compiled
def _stripped(code: int) -> bool:
    # _term_word strips these from a word's edges
    return code == _HYPHEN or _apostrophe(code)


@_compiled
def _term_end(text: np.ndarray, start: int, end: int) -> int:
    """Where ``_term_word`` ends the word ``text[start:end]``.

    Before apostrophes and hyphens at its end and a possessive "'s" (and
    what they leave at the end); its start is stripped apart.
    """
    while end > start and _stripped(text[end - 1]):
        end -= 1
    if (
        end - start >= 2
        and (text[end - 1] == _LOWER_S or text[end - 1] == _UPPER_S)
        and _apostrophe(text[end - 2])
    ):
        end -= 2
        while end > start and _stripped(text[end - 1]):
            end -= 1
    return end


@_compiled
def _outlet_cut(data: np.ndarray, end: int, classes: np.ndarray) -> int:
    """Where ``_OUTLET_SUFFIX`` cuts the first line ``data[:end]`` (``end``: no cut).

    The suffix is segments of white space, a dash or "|", white space and 1
    to 80 characters other than those, up to the line's end. Its
    separators are therefore exactly the dashes and "|" after its start: the
    earliest separator from which every gap to the next one (and the tail)
    can be such a segment, with white space before it, starts the cut at
    that white space.
    """
    cut = end
    after = end  # the next separator's position (end: none yet)
    for at in range(end - 1, -1, -1):
        if not (_dash(data[at]) or data[at] == _BAR):
            continue
        # the gap to the next separator (or the line's end): white space,
        # then the segment's 1 to 80 characters, then (before a separator)
        # white space; a gap of white space only needs room for all three
        lead = at + 1
        while lead < after and classes[data[lead]] == _BLANK:
            lead += 1
        if lead == after:
            fits = after - at - 1 >= (3 if after < end else 2)
        elif after < end:
            trail = after
            while classes[data[trail - 1]] == _BLANK:
                trail -= 1
            fits = lead > at + 1 and trail < after and trail - lead <= _OUTLET_SEGMENT
        else:
            fits = lead > at + 1 and after - lead <= _OUTLET_SEGMENT
        if not fits:
            break
        start = at
        while start > 0 and classes[data[start - 1]] == _BLANK:
            start -= 1
        if start < at:
            cut = start
        after = at
    return cut


@_compiled
def _term_crc(text: np.ndarray, start: int, end: int, table: np.ndarray) -> int:
    # term_hash of a word: CRC-32 of its UTF-8 bytes, lower-cased (only
    # A-Z change: the caller declines other characters lower() changes),
    # typographic single quotes as "'" (_term_word)
    state = _CRC_START
    for at in range(start, end):
        code = np.int64(text[at])
        if code == _RIGHT_QUOTE or code == _LEFT_QUOTE:
            code = _APOSTROPHE
        if code < 128:
            if 65 <= code <= 90:
                code += 32
            state = _crc_step(state, code, table)
            continue
        if code < 0x800:
            size, lead = 2, 0xC0
        else:
            size, lead = 3, 0xE0  # the caller declines code points past 0xFFFF
        shift = 6 * (size - 1)
        byte = lead | (code >> shift)
        state = _crc_step(state, byte, table)
        for _ in range(size - 1):
            shift -= 6
            byte = 0x80 | ((code >> shift) & 0x3F)
            state = _crc_step(state, byte, table)
    return state ^ _CRC_START


@_compiled
def _is_not_name(
    text: np.ndarray, start: int, end: int, crc: int, names: np.ndarray, letters: np.ndarray
) -> bool:
    # names: an open-addressing table of (hash, start, end) rows on the hash's
    # low bits (hash -1: empty), start and end into letters (lower case)
    mask = names.shape[0] - 1
    slot = crc & mask
    while names[slot, 0] >= 0:
        if names[slot, 0] == crc:
            first, last = names[slot, 1], names[slot, 2]
            same = last - first == end - start
            for k in range(end - start):
                if not same:
                    break
                code = text[start + k]
                same = (code + 32 if 65 <= code <= 90 else code) == letters[first + k]
            if same:
                return True
        slot = (slot + 1) & mask
    return False


@_compiled
def _find_term(slots: np.ndarray, keys: np.ndarray, key: int) -> int:
    # the slot of key in an open-addressing table of entry indexes (-1: empty)
    mask = slots.size - 1
    slot = key & mask
    while slots[slot] >= 0 and keys[slots[slot]] != key:
        slot = (slot + 1) & mask
    return slot


@_compiled
def _idf_row(hashes: np.ndarray, starts: np.ndarray, key: int) -> int:
    # the row of key in the sorted IDF hashes (-1: not there)
    bucket = key >> _IDF_SHIFT
    for row in range(starts[bucket], starts[bucket + 1]):
        if hashes[row] == key:
            return row
    return -1


@_compiled
def _count_term(
    slots: np.ndarray, keys: np.ndarray, tfs: np.ndarray, size: int, key: int, tf: int
) -> int:
    # dict[key] = dict.get(key, 0) + tf, entries in insertion order; the new size
    slot = _find_term(slots, keys, key)
    if slots[slot] >= 0:
        tfs[slots[slot]] += tf
        return size
    slots[slot] = size
    keys[size], tfs[size] = key, tf
    return size + 1


@_compiled
def _opens_sentence(top: np.ndarray, at: int, classes: np.ndarray) -> bool:
    """Whether ``_SENTENCE_START`` marks the capital at ``at`` (the first character too).

    It does after white space holding a line break, or after ".", "!" or
    "?" and white space (the pattern's matches end at the same capitals
    wherever the scan starts).
    """
    if at == 0:
        return True
    blank = at
    while blank > 0 and classes[top[blank - 1]] == _BLANK:
        blank -= 1
        if top[blank] == 10:
            return True
    if blank == at or blank == 0:
        return False
    before = top[blank - 1]
    return before == 46 or before == 33 or before == 63  # . ! ?


@_compiled
def story_terms(
    data: np.ndarray,
    classes: np.ndarray,
    crc_table: np.ndarray,
    not_names: np.ndarray,
    not_name_letters: np.ndarray,
    idf_hashes: np.ndarray,
    idf_starts: np.ndarray,
    frequencies: np.ndarray,
    idf: np.ndarray,
    unknown_idf: float,
    tf_weights: np.ndarray,
    common_df: int,
    wanted: int,
    compensated: bool,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``_dedup_story_terms.plain_story_terms`` of a text's first characters, and True.

    ``data`` is the text's ``STORY_PREFIX`` characters as code points and
    ``classes`` says what each code point below 65,536 is. Terms are counted
    per key as the plain code counts them (non-initial ones in order of
    first sight, then the rare sentence-initial ones), scored with the
    same float64 products (``tf_weights`` and ``idf`` are Python's logs),
    kept stably by weight and normalised by the sum of squares as Python's
    ``sum`` adds them (``compensated`` from Python 3.12). False (and no
    terms) if the text holds a character the kernel does not reproduce
    (``_FOREIGN`` or past 0xFFFF) or a count outgrows ``tf_weights``: the
    caller uses the plain code.
    """
    done = True
    for code in data:
        if code > 0xFFFF or classes[code] == _FOREIGN:
            done = False
            break
    size = data.size if done else 0  # no terms (one exit: each costs compile time)
    line_end = 0
    while line_end < size and data[line_end] != 10:
        line_end += 1
    cut = _outlet_cut(data, line_end, classes)
    top = np.empty(size - (line_end - cut), np.uint32)
    for at in range(top.size):
        top[at] = data[at if at < cut else at + line_end - cut]
    # the tokens that may be terms (_MAYBE_NAME, _token_term): words not
    # opening with a-z, then with a capital or a digit after any marker.
    # Their starts are found first without a branch per character (a branch at
    # each word's end was mispredicted as often as words end).
    size = top.size
    starts = np.empty(size + 1, np.int64)
    found = 0
    outside = True  # the previous character was no word's
    for at in range(size):
        code = top[at]
        word = classes[code] == _WORD
        starts[found] = at
        found += word & outside & ((code < 97) | (code > 122))
        outside = not word
    keys = np.empty(found, np.int64)
    opens = np.empty(found, np.bool_)
    count = 0
    for k in range(found):
        start = end = starts[k]
        while end < size and classes[top[end]] == _WORD:
            end += 1
        first = top[start]
        if first == _MARKER:  # a marker in the text itself marks its word too
            start += 1
            if start == end:
                continue
            opening = True
            first = top[start]
        else:
            opening = 65 <= first <= 90 and _opens_sentence(top, start, classes)
        digit = _DIGIT_0 <= first <= _DIGIT_9
        if not (digit or 65 <= first <= 90):
            continue
        end = _term_end(top, start, end)  # keeps top[start], a capital or digit
        crc = _term_crc(top, start, end, crc_table)
        if _is_not_name(top, start, end, crc, not_names, not_name_letters):
            continue
        keys[count] = crc
        opens[count] = opening and not digit
        count += 1
    slots = 4
    while slots < 2 * count:
        slots *= 2
    counted_slots = np.empty(slots, np.int64)
    counted_keys = np.empty(count, np.int64)
    counted_tfs = np.empty(count, np.int64)
    initial_slots = np.empty(slots, np.int64)
    for slot in range(slots):
        counted_slots[slot] = initial_slots[slot] = -1
    initial_keys = np.empty(count, np.int64)
    initial_tfs = np.empty(count, np.int64)
    counted = initial = np.int64(0)
    one = np.int64(1)
    for k in range(count):
        if opens[k]:
            initial = _count_term(initial_slots, initial_keys, initial_tfs, initial, keys[k], one)
        else:
            counted = _count_term(counted_slots, counted_keys, counted_tfs, counted, keys[k], one)
    # a capitalised word opening a sentence counts only if it is rare
    for k in range(initial):
        row = _idf_row(idf_hashes, idf_starts, initial_keys[k])
        if (frequencies[row] if row >= 0 else 0) < common_df:
            counted = _count_term(
                counted_slots, counted_keys, counted_tfs, counted, initial_keys[k], initial_tfs[k]
            )
    _drop_credits(top, classes, crc_table, counted_slots, counted_keys, counted_tfs)
    # the heaviest terms, the first of equal ones first (a stable sort)
    best = np.empty(wanted, np.float64)
    best_keys = np.empty(wanted, np.int64)
    chosen = 0
    for k in range(counted):
        tf = counted_tfs[k]
        if tf == 0:
            continue  # a credit's word
        if tf >= tf_weights.size:
            done = False
            chosen = 0
            break
        row = _idf_row(idf_hashes, idf_starts, counted_keys[k])
        weight = tf_weights[tf] * (idf[row] if row >= 0 else unknown_idf)
        if chosen == wanted and not weight > best[wanted - 1]:
            continue
        place = chosen if chosen < wanted else wanted - 1
        chosen = place + 1
        while place > 0 and best[place - 1] < weight:
            best[place], best_keys[place] = best[place - 1], best_keys[place - 1]
            place -= 1
        best[place], best_keys[place] = weight, counted_keys[k]
    # the norm as Python's sum() adds the squares (one exit: each return
    # site's arrays cost compile time)
    total = 0.0 + best[0] * best[0] if chosen else 0.0
    lost = 0.0
    for k in range(1, chosen):
        square = best[k] * best[k]
        if compensated:  # CPython's sum of floats from 3.12 (Neumaier)
            added = total + square
            if abs(total) >= abs(square):
                lost += (total - added) + square
            else:
                lost += (square - added) + total
            total = added
        else:
            total += square
    if compensated and lost != 0.0 and abs(lost) < np.inf:  # finite
        total += lost
    norm = np.sqrt(total)
    if norm == 0.0:
        norm = 1.0
    hashes = np.empty(chosen, np.uint32)
    weights = np.empty(chosen, np.float32)
    for k in range(chosen):
        hashes[k] = best_keys[k]
        weights[k] = best[k] / norm
    return hashes, weights, done


@_compiled
def _drop_credits(
    top: np.ndarray,
    classes: np.ndarray,
    crc_table: np.ndarray,
    slots: np.ndarray,
    keys: np.ndarray,
    tfs: np.ndarray,
) -> None:
    """Zero the counts of every word ``_CREDIT`` finds.

    That is "(" 1 to 40 characters ")" then a dash or ":".
    """
    size = top.size
    for at in range(size):
        if top[at] != 40:  # (
            continue
        close = at + 1
        while close < size and top[close] != 40 and top[close] != 41 and top[close] != 10:
            close += 1
        if not (close < size and top[close] == 41 and 1 <= close - at - 1 <= _CREDIT_LONGEST):
            continue
        dash = close + 1
        while dash < size and classes[top[dash]] == _BLANK:
            dash += 1
        if not (dash < size and (_dash(top[dash]) or top[dash] == 58)):  # - or :
            continue
        # document_terms of the credit: every word, any case
        word = at + 1
        while word < close:
            if classes[top[word]] != _WORD:
                word += 1
                continue
            start = word
            while word < close and classes[top[word]] == _WORD:
                word += 1
            end = _term_end(top, start, word)
            while start < end and _stripped(top[start]):
                start += 1
            if start < end:
                slot = _find_term(slots, keys, _term_crc(top, start, end, crc_table))
                if slots[slot] >= 0:
                    tfs[slots[slot]] = 0
