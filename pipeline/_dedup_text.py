"""Text features for de-duplication: normal form, shingle MinHash, story terms.

Everything here is deterministic across processes (no salted ``hash()``), so
a signature computed before a restart equals the one computed after it.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import string
import unicodedata
import zlib
from collections import Counter
from functools import cache
from importlib import resources
from operator import itemgetter

import numpy as np

SHINGLE_WORDS = 5
MINHASH_SIZE = 32  # 16 LSH bands of 2 rows; also the similarity estimate
BANDS = MINHASH_SIZE // 2
STORY_TERMS = 16
STORY_PREFIX = 2000  # characters of an article read for its story terms

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
_CORRECTED = re.compile(r"^\W*(?:corrected|correction|refile|repeat)\W*[-:]\s*", re.IGNORECASE)
_TRAILERS = frozenset(("reuter", "reuters", "ap", "afp"))
_PUNCTUATION = str.maketrans(
    {
        c: " "
        for c in string.punctuation
        + "\u201c\u201d\u2018\u2019\u00ab\u00bb\u2013\u2014\u2026\u2022\u00b7"
    }
)
_NAME_PUNCTUATION = str.maketrans(
    {
        c: " "
        for c in string.punctuation.replace("'", "").replace("-", "")
        + "\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026"
    }
)

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
    # Each pattern runs only when its cue character is present: most wire
    # texts have no markup, byline or dateline, and regexes dominate the cost.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if "By" in text:
        text = _BYLINE.sub(" ", text)
    if any(cue in text for cue in _DATELINE_CUES):
        text = _DATELINE.sub(" ", text)
    text = _CORRECTED.sub("", text.strip())
    # str.translate is several times faster than a regex substitution here.
    words = text.lower().translate(_PUNCTUATION).split()
    if words and words[-1] in _TRAILERS:
        words.pop()
    return " ".join(words)


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
    np.cumsum(data.astype(np.uint64) * inverse[1 : data.size + 1], out=prefix[1:])
    spaces = np.flatnonzero(data == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [data.size]))
    if starts.size <= SHINGLE_WORDS:
        begin, end = starts[:1], ends[-1:]
    else:
        begin, end = starts[: -SHINGLE_WORDS + 1], ends[SHINGLE_WORDS - 1 :]
    hashes = np.sort((prefix[end] - prefix[begin]) * forward[end])
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
    return ((mixed.min(axis=1) >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.uint16)


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


def term_hash(word: str) -> int:
    """Deterministic 32-bit hash of a lower-cased term."""
    return zlib.crc32(word.lower().encode("utf-8"))


@cache
def _idf_table() -> tuple[int, np.ndarray, np.ndarray]:
    raw = resources.files("pipeline").joinpath("_dedup_idf.bin").read_bytes()
    header = np.frombuffer(raw[:8], dtype="<u4")
    documents, size = int(header[0]), int(header[1])
    hashes = np.frombuffer(raw[8 : 8 + 4 * size], dtype="<u4")
    counts = np.frombuffer(raw[8 + 4 * size : 8 + 6 * size], dtype="<u2")
    return documents, hashes, counts


@cache
def _document_frequencies() -> dict[int, int]:
    # A dict (about 30k entries, about 2 MB once per process): the ~30 terms of
    # one article are looked up faster than numpy's per-call overhead allows.
    _, hashes, counts = _idf_table()
    return dict(zip(hashes.tolist(), counts.tolist(), strict=True))


# Capitalised words that name no story: web page furniture (unknown to the
# 1987 IDF table, so otherwise weighted as rare names), calendar words, and
# words every crime report has. Dropping them raised dev recall at P 0.95
# from 0.71 to 0.74 on GVA same-incident pairs.
_NOT_NAMES = frozenset(
    [
        "facebook",
        "twitter",
        "email",
        "e-mail",
        "copyright",
        "rights",
        "reserved",
        "share",
        "comments",
        "comment",
        "video",
        "photo",
        "photos",
        "caption",
        "click",
        "subscribe",
        "newsletter",
        "advertisement",
        "posted",
        "updated",
        "related",
        "close",
        "image",
        "gallery",
        "print",
        "reddit",
        "linkedin",
        "google",
        "pinterest",
        "sign",
        "log",
        "login",
        "account",
        "terms",
        "privacy",
        "policy",
        "cookies",
        "inc",
        "llc",
        "news",
        "media",
        "tv",
        "channel",
        "weather",
        "sports",
        "traffic",
        "home",
        "contact",
        "am",
        "pm",
        "edt",
        "est",
        "cst",
        "pdt",
        "mst",
        "et",
        "ct",
        "pt",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "police",
        "officers",
        "said",
    ]
)


# A capitalised word opening a sentence is a name only if it is rare: "There",
# "Police" or "Whenever" open sentences (and web-page furniture) everywhere.
# Words in >= 20 Reuters-21578 articles are common; on the dev half of the GVA
# pairs this raised recall at P 0.95 from 0.70 to 0.75 (the opening word of
# the text, always skipped before, is now judged the same way).
_COMMON_DF = 20
# A sentence opens after ". " (or "!", "?") or a line break; the start of the
# text is checked apart. The pattern opens with one character set (a line
# break needs no space after it: the lookbehind), which lets the regex
# engine skip ahead; it matches what "(?:[.!?]\s|\n)\s*(?=[A-Z])" does, in
# about two thirds of the time.
_SENTENCE_START = re.compile(r"[.!?\n](?:(?<=\n)|\s)\s*(?=[A-Z])")
_INITIAL = "\x01"  # marks a sentence-initial token before tokenising
# The match is punctuation and white space, which tokenising turns into a
# space anyway: a literal replacement (no group reference) keeps re.sub in C.
_MARK = " " + _INITIAL
# Tokens that do not open with a lower-case ASCII letter: only these can be
# names or numbers (a lower-case word is neither), found in one C-level pass.
_MAYBE_NAME = re.compile(r"\s([^\sa-z]\S*)")  # on the text after a leading space
# A web headline often ends in " - Outlet Name" (or " | Outlet"): furniture
# shared by every story of that outlet, not a name of this story.
_OUTLET_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\n]{1,80}$")


def _without_outlet(text: str) -> str:
    first, separator, rest = text.partition("\n")
    return _OUTLET_SUFFIX.sub("", first) + separator + rest


# Token -> (term key or -1, counts as sentence-initial): news repeats its
# names and numbers, so most tokens of an article were seen before.
_TOKEN_TERMS: dict[str, tuple[int, bool]] = {}
_TOKEN_CACHE = 100_000  # entries before the cache starts over (a few MB at most)


def _token_term(token: str) -> tuple[int, bool]:
    opens = token[0] == _INITIAL
    if opens:
        token = token[1:]
    if token and (token[0].isupper() or token[0].isdigit()):
        word = token.strip("'-\u2019").lower()
        if word and word not in _NOT_NAMES:
            return zlib.crc32(word.encode("utf-8")), opens and not token[0].isdigit()
    return -1, False


# 1 + log(tf) for the small counts most terms have (the same floats).
_TF_WEIGHTS = [0.0] + [1 + math.log(tf) for tf in range(1, 64)]


@cache
def _inverse_frequencies() -> tuple[dict[int, float], float]:
    documents = _idf_table()[0] + 1
    idf = {key: math.log(documents / (df + 1)) for key, df in _document_frequencies().items()}
    return idf, math.log(documents / 1)


def story_terms(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The top ``STORY_TERMS`` name-like terms of a text with unit-norm tf-idf weights.

    Only capitalised words and numbers count: two outlets telling one story
    share names, places and figures, not phrasing. A common word opening a
    sentence and the outlet's name after a web headline do not count. IDF
    comes from document frequencies derived from Reuters-21578.
    """
    # The top of an article names its story; reading only that bounds the cost.
    top = _without_outlet(text[:STORY_PREFIX])
    marked = _SENTENCE_START.sub(_MARK, top)
    if top[:1].isascii() and top[:1].isupper():
        marked = _MARK + marked
    tokens = _MAYBE_NAME.findall(" " + marked.translate(_NAME_PUNCTUATION))
    counts: dict[int, int] = {}
    initial: dict[int, int] = {}
    terms = _TOKEN_TERMS
    for token, count in Counter(tokens).items():
        term = terms.get(token)
        if term is None:
            if len(terms) >= _TOKEN_CACHE:
                terms.clear()
            term = terms[token] = _token_term(token)
        key, opens = term
        if key >= 0:
            target = initial if opens else counts
            target[key] = target.get(key, 0) + count
    known = _document_frequencies()
    for key, count in initial.items():
        if known.get(key, 0) < _COMMON_DF:
            counts[key] = counts.get(key, 0) + count
    if not counts:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.float32)
    # Plain Python on a few dozen terms: cheaper than a dozen numpy calls.
    idf, unknown = _inverse_frequencies()
    tf_weights = _TF_WEIGHTS
    scored = [
        ((tf_weights[tf] if tf < 64 else 1 + math.log(tf)) * idf.get(key, unknown), key)
        for key, tf in counts.items()
    ]
    # Heaviest first; a stable sort (reverse keeps the order of ties).
    weighted = sorted(scored, key=itemgetter(0), reverse=True)[:STORY_TERMS]
    norm = math.sqrt(sum(weight * weight for weight, _ in weighted)) or 1.0
    hashes = np.array([key for _, key in weighted], dtype=np.uint32)
    return hashes, np.array([weight / norm for weight, _ in weighted], dtype=np.float32)


def remove_repeated_paragraphs(body: str, min_chars: int = 40) -> tuple[str, int]:
    """Drop paragraphs (lines) that repeat an earlier one; return text and count.

    Lines are compared ignoring case and surrounding spaces. A short line (under ``min_chars`` normalised characters, e.g. "Reuter" or a
    table row) is dropped only inside a run of repeated long lines, so a
    repeated body goes entirely while legitimate short repeats stay.

    Example:
        >>> remove_repeated_paragraphs("A long enough first paragraph of text here.\\n" * 2)
        ('A long enough first paragraph of text here.\\n', 1)
    """
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
