"""De-duplication: exact and near-duplicate articles, story grouping.

One verb, :func:`deduplicate`, checks an article against a :class:`DedupIndex`
of what the stage has already seen and returns the cleaned article, its
:class:`~pipeline.records.DedupVerdict` and the :class:`IndexEntry` it added.

- **Repeated paragraphs** (a scraped body pasted twice) are removed first.
- **Exact**: a 64-bit fingerprint of the normalised body (case, whitespace,
  punctuation, markup, bylines, datelines and the wire trailer stripped),
  compared on the candidates the bands find (an exact copy shares all 16):
  the index keeps its low 32 bits, and a row with those bits and an equal
  MinHash is the same text.
- **Near**: 32 MinHash minima (16-bit) of word 5-shingles, found through 16
  LSH bands of 2 rows; ``similarity`` is the estimated overlap coefficient
  |A∩B| / min(|A|, |B|), so a copy with a trimmed lede, a cut tail or added
  boilerplate still scores near 1. The first copy wins: duplicates are not
  indexed, and a duplicate takes the story of the copy it duplicates.
- **Figures**: a near duplicate must not have *replaced* figures (numbers,
  number words, months; see :mod:`pipeline._dedup_figures`): the same
  template filed again with another day's or another company's figures is a
  different report. A story marked as a correction ("CORRECTED - ...") may
  change figures: it replaces the story it corrects.
- **Stories**: tf-idf cosine over the top name-like terms (capitalised words
  and numbers; IDF from news document frequencies shipped as a small table,
  see :mod:`pipeline._dedup_story_terms`); a shared age ("17-year-old") or
  year counts half, as every crime report gives one.
  An article joins the story of its most similar indexed article above
  ``story_threshold``; otherwise it starts a story named after its own id.
  Its candidates are the rows that share a MinHash band with it or a term
  both post (each article posts its first 8 terms); its later terms, where
  rare, are looked up too (never posted: no memory; see
  :func:`pipeline._dedup_index.later_term_keys`).

State and partitioning: the stage runs as ONE partition, so a lookup sees
every indexed article and global near-duplicate detection is trivially right.
The index is rebuilt exactly from its persisted :class:`IndexEntry` records
(:meth:`DedupIndex.restore`), which hold only primitives for the codec.
Memory per indexed article (``bench.dedup_bench``, about 290 bytes at 100k):
numpy columns (MinHash 64 bytes, 14 story terms 56 and their weights 14, the
rest 16), the figure masks packed to the bits they set (about 38 bytes
instead of 64; :func:`pipeline._dedup_figures.pack`), about 4 bytes per
posting (a 3-byte row and a bucket's row count; keys are recomputed from the
columns, not stored) for 16 bands and up to 8 terms, fewer where a bucket
holds more than the ``_PER_KEY`` newest rows a lookup reads (common terms),
and the id strings.

Speed: the loops over a text's bytes (normal form, shingles and MinHash,
figure and roll items, repeated lines, story terms) and over candidate rows (postings, equal
minima, story cosine) run compiled by numba (:mod:`pipeline._dedup_kernels`)
and give the values of the plain code kept beside them, which runs where
numba is missing. The machine code is cached next to that module on first use.

Re-delivery: an article whose id is indexed with the same fingerprint gets its
first verdict's story back as ``unique`` (at-least-once delivery must not turn
an article into a duplicate of itself). Same id with different content is a
new version: the old entry is replaced, the story id is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache

import numpy as np

from pipeline import _dedup_figures as figures
from pipeline import _dedup_kernels as kernels
from pipeline import _dedup_story_terms as story
from pipeline import _dedup_text as text
from pipeline._dedup_index import (
    LOW_32,
    WEIGHT_VALUES,
    WEIGHTS,
    DedupConfig,
    DedupIndex,
    IndexEntry,
    epoch_seconds,
    later_term_keys,
    quantised_steps,
    row_key_list,
    same_text,
    stored_time,
)
from pipeline._dedup_store import Columns
from pipeline._dedup_text import normalise, remove_repeated_paragraphs
from pipeline.records import Article, DedupVerdict

__all__ = [
    "DedupConfig",
    "DedupIndex",
    "DedupResult",
    "IndexEntry",
    "deduplicate",
    "normalise",
    "origin_of",
    "remove_repeated_paragraphs",
]


@dataclass(frozen=True, slots=True)
class DedupResult:
    """What :func:`deduplicate` returns for one article."""

    article: Article
    verdict: DedupVerdict
    entry: IndexEntry | None


class _Probe:
    """The features of the article being judged; figures are computed on demand."""

    __slots__ = (
        "_figures",
        "_rolls",
        "fingerprint",
        "minhash",
        "shingles",
        "source",
        "terms",
        "weights",
    )

    def __init__(
        self,
        fingerprint: int,
        shingles: int,
        minhash: np.ndarray,
        terms: np.ndarray,
        weights: np.ndarray,
        source: str,
    ) -> None:
        self.fingerprint = fingerprint
        self.shingles = shingles
        self.minhash = minhash
        self.terms = terms
        self.weights = weights
        self.source = source
        self._figures: np.ndarray | None = None
        self._rolls: np.ndarray | None = None

    @property
    def figures(self) -> np.ndarray:
        """The figure masks as :func:`figures.to_words` words (what the index compares)."""
        # Only a near duplicate or an article to be indexed needs its figures.
        if self._figures is None:
            self._figures, self._rolls = figures.figures_and_rolls(self.source)
        return self._figures

    @property
    def rolls(self) -> np.ndarray:
        """The roll items of the figures (:func:`figures.roll_items`), found with them."""
        _ = self.figures
        return self._rolls  # type: ignore[return-value]


def _verdict_for(
    index: DedupIndex,
    rows: np.ndarray,
    probe: _Probe,
    story_id: str,
    corrects: bool = False,
    removed: int = 0,
) -> DedupVerdict:
    fingerprint = f"{probe.fingerprint:016x}"
    columns = index._columns
    threshold = index.config.duplicate_threshold
    if probe.shingles and rows.size:
        matches = _equal_minima(columns["minhash"], rows, probe.minhash)
        most = int(matches.max())
        # Without a shared minimum (most articles) no row is the same text
        # and every overlap is 0. Most candidates share a minimum or two by
        # chance (16-bit minima): too few for any of them to be a duplicate.
        needed = _matches_needed(threshold, index.config.min_size_ratio)
        if (threshold <= 0 or most) and most >= needed:
            verdict = _duplicate_verdict(
                index, rows, matches, probe, corrects, removed, fingerprint
            )
            if verdict is not None:
                return verdict
    if rows.size and probe.terms.size:
        cosine = _cosine(columns, rows, probe.terms, probe.weights)
        best = int(cosine.argmax())
        if cosine[best] >= index.config.story_threshold:
            story_id = index._story(int(rows[best]))
    return DedupVerdict("unique", fingerprint, story_id, repeated_paragraphs_removed=removed)


def _equal_minima(minhash: np.ndarray, rows: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """How many minima of each row equal the probe's (int64)."""
    if kernels.COMPILED:
        return kernels.equal_minima(minhash, rows, probe)
    return (minhash.take(rows, axis=0) == probe).sum(axis=1)


@cache
def _matches_needed(threshold: float, min_size_ratio: float) -> int:
    """The fewest equal minima with which a row can be a duplicate (at most all: a copy).

    The overlap estimate (:func:`_overlap_of`) grows with the Jaccard estimate
    J and, where the smaller text has at least ``min_size_ratio`` of the
    larger's shingles, with their size ratio: it is at most
    J (1 + 1 / min_size_ratio) / (1 + J) there, and J elsewhere.
    """
    if min_size_ratio <= 0:
        return 0  # no bound on the size ratio, so none on the overlap
    for count in range(text.MINHASH_SIZE):
        jaccard = float(text.jaccard(np.array([count]))[0])
        bound = max(jaccard, min(1.0, jaccard * (1 + 1 / min_size_ratio) / (1 + jaccard)))
        if bound + 1e-9 >= threshold:  # a margin for rounding in the row-wise arithmetic
            return count
    return text.MINHASH_SIZE


def _duplicate_verdict(
    index: DedupIndex,
    rows: np.ndarray,
    matches: np.ndarray,
    probe: _Probe,
    corrects: bool,
    removed: int,
    fingerprint: str,
) -> DedupVerdict | None:
    """The exact or near duplicate verdict, given each row's count of equal minima."""
    columns = index._columns
    # All minima equal with the same low fingerprint bits is the same text
    # (see same_text). Only rows with all minima equal (few) need their
    # fingerprint read.
    full = rows[matches == text.MINHASH_SIZE]
    if full.size:
        exact = full[columns["fingerprint"].take(full) == np.uint32(probe.fingerprint & LOW_32)]
        if exact.size:
            first = int(exact.min())
            return DedupVerdict(
                "exact", fingerprint, index._story(first), index._ids[first], 1.0, removed
            )
    similarity = _overlap(index, rows, matches, probe, corrects)
    best = int(similarity.argmax())
    if similarity[best] < index.config.duplicate_threshold:
        return None
    row = int(rows[best])
    return DedupVerdict(
        "near",
        fingerprint,
        index._story(row),
        index._ids[row],
        round(float(similarity[best]), 4),
        removed,
    )


# Two distinct rolled figures make a later report; one could be a figure
# corrected in a re-send (_dedup_figures.rolled).
_ROLLED_REPORT = 2


def _overlap(
    index: DedupIndex, rows: np.ndarray, matches: np.ndarray, probe: _Probe, corrects: bool
) -> np.ndarray:
    # Most candidates (found by a story term) share no MinHash value: their
    # overlap is 0, and only the others need the arithmetic below.
    overlap = np.zeros(rows.size)
    shared = matches.nonzero()[0]
    if shared.size:
        overlap[shared] = _overlap_of(index, rows[shared], matches[shared], probe, corrects)
    return overlap


def _overlap_of(
    index: DedupIndex, rows: np.ndarray, matches: np.ndarray, probe: _Probe, corrects: bool
) -> np.ndarray:
    columns, config = index._columns, index.config
    shingles = probe.shingles
    jaccard = text.jaccard(matches)
    sizes = columns["shingles"][rows].astype(np.float64)
    small, large = np.minimum(sizes, shingles), np.maximum(sizes, shingles)
    # |A∩B| = J(|A|+|B|)/(1+J); divided by the smaller set gives the overlap.
    overlap = np.minimum(1.0, jaccard * (sizes + shingles) / ((1 + jaccard) * np.maximum(small, 1)))
    overlap = np.where(small >= config.min_size_ratio * large, overlap, jaccard)
    # A correction may change the figures of what it corrects. Only rows that
    # would be duplicates need the (costlier) figure check.
    near = (overlap >= config.duplicate_threshold).nonzero()[0]
    if near.size and not corrects:
        theirs = np.array([figures.unpack(index._figures[row]) for row in rows[near].tolist()])
        replaced = figures.too_many_replaced(theirs, probe.figures, config.number_tolerance)
        # A template filed for the next period keeps nearly every figure:
        # it shows as figures rolled into the previous column instead.
        later = [figures.rolled(probe.rolls, words) >= _ROLLED_REPORT for words in theirs]
        overlap[near[replaced | np.array(later, bool)]] = 0.0
    return overlap


# Story-term matching by a direct-mapped table on the low bits of a term:
# each of a row's terms is looked up in one gather (no sort, no binary
# search). A slot that holds no term of ours holds a value whose low bits
# name another slot, so no term can equal it.
_SLOT_BITS = 12
_SLOT_MASK = np.uint32((1 << _SLOT_BITS) - 1)
_EMPTY_SLOTS = (np.arange(1, (1 << _SLOT_BITS) + 1) & int(_SLOT_MASK)).astype(np.uint32)
_NO_WEIGHTS = np.zeros(1 << _SLOT_BITS, np.float32)


def _cosine(
    columns: Columns, rows: np.ndarray, terms: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    if kernels.COMPILED:
        return kernels.story_cosine(
            columns["terms"], columns["weights"], rows, terms, weights, WEIGHTS
        )
    # Terms within one article are distinct, so each of a row's terms matches
    # at most one of ours: its slot in the table says which.
    slots = terms & _SLOT_MASK
    table = _EMPTY_SLOTS.copy()
    table[slots] = terms
    theirs = columns["terms"].take(rows, axis=0)
    # (ufuncs called directly: ndarray.all and .sum add Python wrappers)
    if not np.count_nonzero(table.take(slots) != terms):
        table_weights = _NO_WEIGHTS.copy()
        table_weights[slots] = weights
        at = theirs & _SLOT_MASK
        matched = table_weights.take(at) * (table.take(at) == theirs)
    else:  # two of our terms share a slot: a binary search instead
        order = np.argsort(terms)
        ours, our_weights = terms[order], weights[order]
        at = np.minimum(np.searchsorted(ours, theirs), ours.size - 1)
        matched = np.where(ours[at] == theirs, our_weights[at], np.float32(0))
    return np.add.reduce(WEIGHTS.take(columns["weights"].take(rows, axis=0)) * matched, axis=1)


def origin_of(partition: int, offset: int) -> int:
    """The ``origin`` of a record read at ``partition``/``offset`` of the input topic."""
    return (partition << 48 | offset) + 1


def deduplicate(index: DedupIndex, article: Article, origin: int = 0) -> DedupResult:
    """Clean an article, judge it against the index and index it if unique.

    ``origin`` says where the article was read (:func:`origin_of`). An
    article whose id is indexed with the same content is a *re-delivery* if
    it comes from the same origin (the stream re-read it after a crash: it
    gets its first verdict again, so at-least-once delivery never turns an
    article into a duplicate of itself) and an exact duplicate of itself if
    it comes from elsewhere (a feed sent it again). With ``origin`` 0
    (unknown) the same content under the same id counts as a re-delivery.

    Example:
        >>> index = DedupIndex()
        >>> deduplicate(index, article).verdict.kind
        'unique'
    """
    body, removed = remove_repeated_paragraphs(article.body)
    cleaned = replace(article, body=body) if removed else article
    normal = normalise(body)
    source = body if normal else cleaned.text
    normal = normal or normalise(source)
    shingles, minhash = text.shingles_and_minhash(normal)
    full_text = cleaned.text
    terms, weights = story.story_terms(full_text)
    # The few values of one article go through Python lists (one conversion
    # each way), cheaper than a numpy call per step.
    minhash_list, term_list = minhash.tolist(), terms.tolist()
    steps = quantised_steps(weights.tolist())
    padding = [0] * (story.STORY_TERMS - len(steps))
    stored_weights = np.array(steps + padding, np.uint8)
    stored_terms = np.array(term_list + padding, np.uint32)
    probe = _Probe(
        int(text.fingerprint(normal), 16),
        shingles,
        minhash,
        terms,
        # The stored weights, an age or year shared counting half (on one
        # side is enough: the cosine multiplies the two).
        story.evidence_weights(term_list, WEIGHTS[stored_weights[: weights.size]]),
        source,
    )
    keys = row_key_list(probe.shingles, minhash, stored_terms)
    published = epoch_seconds(article.published_at)
    index.advance(article.published_at)
    # One lookup finds the rows sharing a posted key and those sharing a rare
    # later term (one call costs less than two; the few rows the latter add
    # are compared as any other, and a true copy shares a band anyway).
    rows = index._candidates(keys + later_term_keys(term_list), published)
    story_id = article.id
    previous = index._row_of(article.id)
    if previous is not None:
        rows = rows[rows != previous]
        columns = index._columns
        story_id = index._story(previous)
        if same_text(columns, np.array([previous]), probe.fingerprint, minhash)[0]:
            fingerprint = f"{probe.fingerprint:016x}"
            old_origin = int(columns["origin"][previous])
            if origin and old_origin and origin != old_origin:
                verdict = DedupVerdict(
                    "exact",
                    fingerprint,
                    story_id,
                    article.id,
                    1.0,
                    repeated_paragraphs_removed=removed,
                )
                return DedupResult(cleaned, verdict, None)
            verdict = DedupVerdict(
                "unique", fingerprint, story_id, repeated_paragraphs_removed=removed
            )
            return DedupResult(cleaned, verdict, index._entry(previous, probe.fingerprint))
        index._kill(previous)
    corrects = text.is_correction(full_text)
    verdict = _verdict_for(index, rows, probe, story_id, corrects, removed)
    if verdict.is_duplicate:
        return DedupResult(cleaned, verdict, None)
    figure_words = probe.figures
    values = {
        "minhash": minhash,
        "shingles": probe.shingles,
        "figures": figures.pack(figure_words),
        "published": stored_time(published),
        "fingerprint": probe.fingerprint & LOW_32,
        "terms": stored_terms,
        "weights": stored_weights,
        "origin": origin,
    }
    index._add(article.id, verdict.story_id, values, keys)
    # The entry _make_entry would build from the stored arrays (terms cut at
    # their count of non-zero ones, weights as their stored 255ths), made from
    # the lists at hand instead of converting the arrays back.
    used = len(term_list) - term_list.count(0)
    entry = IndexEntry(
        article_id=article.id,
        story_id=verdict.story_id,
        fingerprint=f"{probe.fingerprint:016x}",
        published_at=article.published_at,
        shingles=probe.shingles,
        figures=tuple(figure_words.tolist()),
        minhash=tuple(minhash_list),
        terms=tuple(term_list[:used]),
        weights=tuple(WEIGHT_VALUES[step] for step in steps[:used]),
        origin=origin,
    )
    return DedupResult(cleaned, verdict, entry)


# A short wire item that, with a near copy of it and a third text sharing its
# names, takes every compiled path once: figures, a repeated paragraph,
# candidates, overlap and figure check, and a story cosine.
_WARM_UP_BODY = (
    "LONDON, March 3 - Wheat exports rose 4.5 pct to 1.20 mln tonnes in February, vs "
    "1.15 mln tonnes in January, the Ministry of Agriculture said on Tuesday.\n\n"
    "Barley exports were 310,000 tonnes, against 295,000, it said.\n\n"
    "Barley exports were 310,000 tonnes, against 295,000, it said.\n Reuter"
)


def warm_up() -> None:
    """Compile the stage's kernels (or load them from numba's cache) before the first article.

    The first call after an install compiles for about 18 s of CPU and stores
    the machine code next to :mod:`pipeline._dedup_kernels` (or in
    ``NUMBA_CACHE_DIR``); later processes load it in about 0.3 s. A worker
    calls this at start, so no article waits for a compiler.
    """
    index = DedupIndex()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    other = "The Ministry of Agriculture in LONDON expects Wheat exports to slow in March."
    bodies = (_WARM_UP_BODY, _WARM_UP_BODY.replace("Tuesday", "Monday"), other)
    for n, body in enumerate(bodies):
        deduplicate(index, Article(f"warm-up-{n}", "wirewatch", "", body, when, when))
