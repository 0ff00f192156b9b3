"""Text features for de-duplication: normal form, shingle MinHash, repeated paragraphs.

Everything here is deterministic across processes (no salted ``hash()``), so
a signature computed before a restart equals the one computed after it.
"""

from __future__ import annotations

import hashlib
import html
import re
import string
import unicodedata

import numpy as np

from pipeline import _dedup_kernels as kernels

SHINGLE_WORDS = 5
MINHASH_SIZE = 32  # 16 LSH bands of 2 rows; also the similarity estimate
BANDS = MINHASH_SIZE // 2

# Markup tags have lower-case names; Reuters' "<Airbus Industrie>" company
# markers are upper-case and are words worth keeping.
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]{0,300})?/?>")
_BYLINE = re.compile(
    r"^[ \t]*By[ \t]+[A-Z][\w.'\-]*(?:[ \t]+[A-Z][\w.'\-]*){0,3}(?:,[ \t]*[\w .'\-]{0,40})?[ \t]*$",
    re.MULTILINE,
)
_DATELINE = re.compile(
    r"^[ \t]*[A-Z][A-Za-z .'\-]{1,40}(?:,[ \t]*[A-Z][a-z]{2,8}\.?[ \t]+\d{1,2})?"
    r"[ \t]*\((?:Reuters|Reuter|AP|AFP|UPI)\)[ \t]*[-\u2013\u2014]+[ \t]*",
    re.MULTILINE,
)
# A dateline names its service in parentheses: without one of these
# substrings the (slow, multi-line) dateline pattern cannot match.
_DATELINE_CUES = ("(Reuter", "(AP)", "(AFP)", "(UPI)")
# the cues after their "(", each ended by a 0 byte (for kernels.text_cues)
_DATELINE_TAILS = np.frombuffer(
    b"".join(cue[1:].encode() + b"\0" for cue in _DATELINE_CUES), np.uint8
)
_CORRECTED = re.compile(r"^\W*(?:corrected|correction|refile|repeat)\W*[-:]\s*", re.IGNORECASE)
_TRAILERS = frozenset(("reuter", "reuters", "ap", "afp"))
_TRAILER_BYTES = frozenset(word.encode() for word in _TRAILERS)
_PUNCTUATION = str.maketrans(
    {
        c: " "
        for c in string.punctuation
        + "\u201c\u201d\u2018\u2019\u00ab\u00bb\u2013\u2014\u2026\u2022\u00b7"
    }
)
# The same for an ASCII text as bytes (a 256-byte table translates several
# times faster than str.translate's dict). str.split also splits at the
# separators \x1c-\x1f, bytes.split does not: the table makes them spaces.
_ASCII_PUNCTUATION = bytes(
    0x20 if chr(c) in string.punctuation or 0x1C <= c <= 0x1F else c for c in range(256)
)
# Lower case, punctuation and every byte bytes.split() splits at made a space, in one table.
_WORD_BYTES = np.frombuffer(
    bytes(range(256)).lower().translate(_ASCII_PUNCTUATION), np.uint8
).copy()
_WORD_BYTES[list(b"\t\n\r\x0b\x0c")] = 0x20
_TRAILER_CODES = np.array(sorted(kernels.word_code(word) for word in _TRAILER_BYTES), np.int64)

# Polynomial string hashing: the hash of any substring comes from two prefix
# sums, so every word shingle of a text is hashed in a handful of numpy calls.
_P = np.uint64(0x100000001B3)
_P_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_RNG = np.random.default_rng(20261126)
_MIN_A = _RNG.integers(1, 1 << 63, MINHASH_SIZE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_MIN_B = _RNG.integers(0, 1 << 63, MINHASH_SIZE, dtype=np.uint64)
_POWERS: list[np.ndarray] = []


def normalise(text: str) -> str:
    """The comparison form of a text: no markup, byline, dateline or punctuation.

    Example:
        >>> normalise("By Jane Doe\\nLONDON (Reuters) - Oil <b>ROSE</b>, 2%.\\nReuter")
        'oil rose 2'
    """
    # Each pattern runs only when its cue is present: most wire texts have
    # no markup, byline or dateline, and regexes dominate the cost.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    cues = _cues(text)
    if cues & kernels.MARKUP:
        text, count = _TAG.subn(" ", text)
        if count:
            cues = _plain_cues(text)
    if cues & kernels.ENTITY:
        unescaped = html.unescape(text)
        if unescaped != text:
            text, cues = unescaped, _plain_cues(unescaped)
    if cues & kernels.BYLINE:
        text = _BYLINE.sub(" ", text)
        cues = _plain_cues(text)
    if cues & kernels.DATELINE:
        text = _DATELINE.sub(" ", text)
    text = _CORRECTED.sub("", text.strip())
    if text.isascii():
        if kernels.COMPILED:
            data = np.frombuffer(text.encode(), np.uint8)
            words = kernels.ascii_words(data, _WORD_BYTES, _TRAILER_CODES)
            return words.tobytes().decode()
        ascii_words = text.lower().encode().translate(_ASCII_PUNCTUATION).split()
        if ascii_words and ascii_words[-1] in _TRAILER_BYTES:
            ascii_words.pop()
        return b" ".join(ascii_words).decode()
    # str.translate is several times faster than a regex substitution here.
    words = text.lower().translate(_PUNCTUATION).split()
    if words and words[-1] in _TRAILERS:
        words.pop()
    return " ".join(words)


def _cues(text: str) -> int:
    """:func:`_plain_cues`, in one compiled pass over an ASCII text."""
    if kernels.COMPILED and text.isascii():
        return kernels.text_cues(np.frombuffer(text.encode(), np.uint8), _DATELINE_TAILS)
    return _plain_cues(text)


def _plain_cues(text: str) -> int:
    """Which patterns of :func:`normalise` may match ``text`` (``kernels.MARKUP`` etc.)."""
    cues = 0
    if "<" in text:
        cues |= kernels.MARKUP
    if "&" in text:
        cues |= kernels.ENTITY
    if "By" in text:
        cues |= kernels.BYLINE
    if any(cue in text for cue in _DATELINE_CUES):
        cues |= kernels.DATELINE
    return cues


def fingerprint(normal: str) -> str:
    """64-bit hex digest of a normalised text (the exact-duplicate key)."""
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest()


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    if not _POWERS or len(_POWERS[0]) <= length:
        size = max(4096, 1 << (length + 1).bit_length())
        forward = np.full(size, _P, dtype=np.uint64)
        forward[0] = 1
        inverse = np.full(size, _P_INVERSE, dtype=np.uint64)
        inverse[0] = 1
        _POWERS[:] = [np.cumprod(forward), np.cumprod(inverse)]
    return _POWERS[0], _POWERS[1]


def shingle_hashes(normal: str) -> np.ndarray:
    """Distinct 64-bit hashes of the word 5-grams of a normalised text."""
    data = np.frombuffer(normal.encode("utf-8"), dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, dtype=np.uint64)
    forward, inverse = _powers(data.size + 1)
    prefix = np.zeros(data.size + 1, dtype=np.uint64)
    # Array methods, not np.cumsum or np.flatnonzero: their Python wrappers
    # cost more than the work on one text.
    (data.astype(np.uint64) * inverse[1 : data.size + 1]).cumsum(out=prefix[1:])
    spaces = (data == 32).nonzero()[0]
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [data.size]))
    if starts.size <= SHINGLE_WORDS:
        begin, end = starts[:1], ends[-1:]
    else:
        begin, end = starts[: -SHINGLE_WORDS + 1], ends[SHINGLE_WORDS - 1 :]
    hashes = (prefix[end] - prefix[begin]) * forward[end]
    hashes.sort()
    # Distinct by sort and neighbour comparison: several times cheaper than
    # np.unique (hash based in numpy 2) on a few hundred values.
    distinct = np.empty(hashes.size, dtype=bool)
    distinct[:1] = True
    np.not_equal(hashes[1:], hashes[:-1], out=distinct[1:])
    return hashes[distinct]


def minhash(hashes: np.ndarray) -> np.ndarray:
    """``MINHASH_SIZE`` minima (low 16 bits kept: b-bit MinHash) of the shingles."""
    if hashes.size == 0:
        return np.zeros(MINHASH_SIZE, dtype=np.uint16)
    mixed = np.multiply(_MIN_A[:, None], hashes[None, :])
    mixed += _MIN_B[:, None]
    # The shift is monotone, so it commutes with min: shift 32 minima, not 32 x n.
    minima = np.minimum.reduce(mixed, axis=1)
    return ((minima >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.uint16)


def shingles_and_minhash(normal: str) -> tuple[int, np.ndarray]:
    """How many distinct :func:`shingle_hashes` a normal form has, and their :func:`minhash`."""
    if not kernels.COMPILED:
        hashes = shingle_hashes(normal)
        return int(hashes.size), minhash(hashes)
    data = np.frombuffer(normal.encode("utf-8"), np.uint8)
    return kernels.shingles_and_minhash(data, SHINGLE_WORDS, _P, _MIN_A, _MIN_B)


def jaccard(matches: np.ndarray) -> np.ndarray:
    """Jaccard estimate from the fraction of equal 16-bit minima (chance removed)."""
    chance = 1.0 / 65536
    return np.clip((matches / MINHASH_SIZE - chance) / (1 - chance), 0.0, 1.0)


def is_correction(text: str) -> bool:
    """Whether a text opens as a correction or refile of an earlier story.

    Example:
        >>> is_correction("CORRECTED - LILLY 1ST QTR NET")
        True
    """
    return _CORRECTED.match(text.lstrip()) is not None


def remove_repeated_paragraphs(body: str, min_chars: int = 40) -> tuple[str, int]:
    """Drop paragraphs (lines) that repeat an earlier one; return text and count.

    Lines are compared ignoring case and surrounding spaces. A short line (under ``min_chars`` normalised characters, e.g. "Reuter" or a
    table row) is dropped only inside a run of repeated long lines, so a
    repeated body goes entirely while legitimate short repeats stay.

    Example:
        >>> remove_repeated_paragraphs("A long enough first paragraph of text here.\\n" * 2)
        ('A long enough first paragraph of text here.\\n', 1)
    """
    if kernels.COMPILED and min_chars > 0 and body.isascii():
        data = np.frombuffer(body.encode(), np.uint8)
        if not kernels.long_lines_may_repeat(data, min_chars, _P):
            return body, 0
    lines = body.splitlines(keepends=True)
    keys = [line.strip().lower() for line in lines]
    long = [key for key in keys if len(key) >= min_chars]
    if len(set(long)) == len(long):
        return body, 0  # no long line repeats, so nothing can be removed
    seen: set[str] = set()
    kept: list[str] = []
    removed = 0
    in_run = False
    for line, key in zip(lines, keys, strict=True):
        if not key:
            kept.append(line)
            continue
        if key in seen and (len(key) >= min_chars or in_run):
            removed += 1
            in_run = True
            continue
        in_run = False
        seen.add(key)
        kept.append(line)
    if not removed:
        return body, 0
    return "".join(kept).rstrip("\n") + ("\n" if body.endswith("\n") else ""), removed
