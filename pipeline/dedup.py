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
  and numbers; IDF derived from Reuters-21578 and shipped as a small table).
  An article joins the story of its most similar indexed article above
  ``story_threshold``; otherwise it starts a story named after its own id.

State and partitioning: the stage runs as ONE partition, so a lookup sees
every indexed article and global near-duplicate detection is trivially right.
The index is rebuilt exactly from its persisted :class:`IndexEntry` records
(:meth:`DedupIndex.restore`), which hold only primitives for the codec.
Memory per indexed article (``bench.dedup_bench``, about 297 bytes at 100k):
numpy columns (MinHash 64 bytes, story terms 64 and their weights 16, the
rest 16), the figure masks packed to the bits they set (about 38 bytes
instead of 64; :func:`pipeline._dedup_figures.pack`), about 4 bytes per
posting (a 3-byte row and a bucket's row count; keys are recomputed from the
columns, not stored) for 16 bands and up to 8 terms, fewer where a bucket
holds more than the ``_PER_KEY`` newest rows a lookup reads (common terms),
and the id strings.

Re-delivery: an article whose id is indexed with the same fingerprint gets its
first verdict's story back as ``unique`` (at-least-once delivery must not turn
an article into a duplicate of itself). Same id with different content is a
new version: the old entry is replaced, the story id is kept.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline import _dedup_figures as figures
from pipeline import _dedup_text as text
from pipeline._dedup_store import Blobs, Columns, Postings, Strings, salted_key, salted_keys
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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ``published`` is stored as int32 seconds from 2020 (1952 to 2088); a dead
# row (replaced or expired) holds _DEAD, older than any window reaches.
_EPOCH_2020 = 1_577_836_800
_DEAD = np.iinfo(np.int32).min
_INT32_MAX = np.iinfo(np.int32).max
_SALT_ID, _SALT_TERM = 1, 3  # band j uses salt 16 + j
_BAND_SALTS = np.arange(16, 16 + text.BANDS, dtype=np.uint64)
_POSTED_TERMS = 8  # story candidates come from each article's 8 rarest terms
_PER_KEY = 16  # newest rows read per posting key (bounds work on common terms)
_BAND_SALT_LIST = _BAND_SALTS.tolist()


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Thresholds of the stage, and how they were chosen.

    ``duplicate_threshold`` is on the estimated overlap coefficient of word
    5-shingles. On 4,000 Reuters pairs (2,000 perturbed copies, 2,000 other
    articles on the same topic; ``evaluate.build_dedup_pairs``) a sweep gave
    the same P 0.9995 / R 1.0 from 0.4 to 0.6 and lost recall above (0.985
    at 0.8): 0.6 is the strictest value before recall drops.
    ``number_tolerance`` is the share of the figures (of the text with fewer)
    that may be replaced by others. On the dev half (``--half even``) of the
    same-headline Reuters pairs read by hand and of the perturbed copies, 0.1
    let through the fewest different reports (1 of 12) with no perturbed copy
    lost and re-send recall 0.96; 0 and 0.05 lost perturbed copies and
    re-sends, 0.15 and above let 3 to 5 different reports through.
    ``story_threshold`` is on the cosine of story-term vectors: the lowest
    value with precision >= 0.95 on the dev half of the GVA same-incident
    pairs (0.22: P 0.952, R 0.76 there, swept in steps of 0.01); the test half
    was scored once.
    """

    window: timedelta = timedelta(hours=72)
    duplicate_threshold: float = 0.6
    story_threshold: float = 0.22
    min_size_ratio: float = 0.2  # a near duplicate has >= 20% of the other's shingles
    number_tolerance: float = 0.1  # share of the shorter text's figures that may be replaced


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed article as persisted by the agent (key: ``article_id``)."""

    article_id: str
    story_id: str
    fingerprint: str
    published_at: datetime
    shingles: int = 0
    figures: tuple[int, ...] = ()  # figure item masks (_dedup_figures.to_words)
    minhash: tuple[int, ...] = ()
    terms: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    origin: int = 0  # where the article was read (see deduplicate); 0 = unknown


@dataclass(frozen=True, slots=True)
class DedupResult:
    """What :func:`deduplicate` returns for one article."""

    article: Article
    verdict: DedupVerdict
    entry: IndexEntry | None


_SPECS = {
    "minhash": (np.dtype(np.uint16), (text.MINHASH_SIZE,)),
    "shingles": (np.dtype(np.uint32), ()),
    "published": (np.dtype(np.int32), ()),
    # The low 32 bits of the 64-bit fingerprint: a row is the same text only
    # if its MinHash is equal too (see _same_text), which the 32 bits
    # make certain among the few rows compared.
    "fingerprint": (np.dtype(np.uint32), ()),
    "terms": (np.dtype(np.uint32), (text.STORY_TERMS,)),
    "weights": (np.dtype(np.uint8), (text.STORY_TERMS,)),  # in 255ths (see _quantised)
    "origin": (np.dtype(np.uint64), ()),
}
# A story-term weight (0 to 1, the weights of an article have unit norm) is
# kept in 255ths: the cosine moves by at most about 0.004.
_WEIGHT_STEPS = 255
_WEIGHTS = np.arange(_WEIGHT_STEPS + 1, dtype=np.float32) / np.float32(_WEIGHT_STEPS)
# The same steps as Python floats (what an IndexEntry holds).
_WEIGHT_VALUES = _WEIGHTS.astype(np.float64).tolist()


def _quantised(weights: np.ndarray | tuple[float, ...]) -> np.ndarray:
    """Weights as stored: uint8 255ths."""
    steps = np.rint(np.asarray(weights, dtype=np.float64) * _WEIGHT_STEPS)
    return np.clip(steps, 0, _WEIGHT_STEPS).astype(np.uint8)


def _quantised_steps(weights: list[float]) -> list[int]:
    """:func:`_quantised` of a few float32 weights (as floats), in plain Python.

    ``round`` rounds half to even, as ``np.rint`` does.
    """
    return [min(max(round(weight * _WEIGHT_STEPS), 0), _WEIGHT_STEPS) for weight in weights]


_NO_FIGURES = np.zeros(figures.KINDS * figures.MASK_WORDS, np.uint64)
_NO_MINHASH = np.zeros(text.MINHASH_SIZE, np.uint16)


_LOW_32 = 0xFFFFFFFF


def _same_text(
    columns: Columns, rows: np.ndarray, fingerprint: int, minhash: np.ndarray
) -> np.ndarray:
    """Which ``rows`` hold the text with this fingerprint (and so this MinHash)."""
    same = columns["fingerprint"][rows] == np.uint32(fingerprint & _LOW_32)
    return same & (columns["minhash"][rows] == minhash).all(axis=1)


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def _stored_time(seconds: int) -> int:
    return min(max(seconds - _EPOCH_2020, _DEAD + 1), _INT32_MAX)


def _id_key(article_id: str) -> int:
    return salted_key(zlib.crc32(article_id.encode()), _SALT_ID)


def _band_keys(minhash: np.ndarray) -> np.ndarray:
    """The 16 LSH band keys of each MinHash row (shape (n, 32) -> (n, 16))."""
    pairs = minhash.astype(np.uint32).reshape(-1, text.BANDS, 2)
    return salted_keys((pairs[..., 0] << np.uint32(16)) | pairs[..., 1], _BAND_SALTS)


def _row_keys(shingles: int, minhash: list[int], terms: list[int]) -> list[int]:
    """The band and term posting keys of one article (no bands without shingles).

    The same keys as :func:`_band_keys` and :func:`_term_keys` give a whole
    column (zero keys dropped), in plain Python for the few of one article.
    """
    keys = []
    if shingles:
        for band, salt in enumerate(_BAND_SALT_LIST):
            keys.append(salted_key(minhash[2 * band] << 16 | minhash[2 * band + 1], salt))
    for term in terms[:_POSTED_TERMS]:
        if term:
            keys.append(salted_key(term, _SALT_TERM))
    return [key for key in keys if key]


def _term_keys(terms: np.ndarray) -> np.ndarray:
    """Posting keys of the first ``_POSTED_TERMS`` terms of each row; 0 terms give 0."""
    posted = terms[..., :_POSTED_TERMS]
    return np.where(posted != 0, salted_keys(posted, _SALT_TERM), 0).astype(np.uint32)


class DedupIndex:
    """What the stage remembers within the window, in compact numpy columns.

    Two posting tables find rows: one by article id, one by MinHash band and
    story term (one lookup for both). Keys are not stored: the tables are
    rebuilt from the columns when they grow crowded or the index is compacted.
    """

    def __init__(self, config: DedupConfig = DedupConfig()) -> None:
        self.config = config
        # Expiry is driven by the newest article time seen (seconds), inside
        # the index: whenever it passes a new step (1/72 of the window), entries
        # older than that step minus the window are dropped. The points where entries go are
        # then a function of the article sequence alone, so a verdict does not
        # depend on when the caller collects expired ids (a restarted worker
        # does so at other moments than the worker it replaces). Candidates
        # are judged in the window of the article's own time, so an archive
        # replayed after live copy still finds its own duplicates.
        self._latest: int | None = None
        self._cutoff = _DEAD  # stored time below which entries have been dropped
        self._expired: list[str] = []
        self._clear()

    def _clear(self) -> None:
        self._columns = Columns(_SPECS)
        self._by_id = Postings()
        # MinHash bands and posted story terms; lookups read at most the
        # _PER_KEY newest rows of a bucket, so older ones need not be kept.
        self._by_key = Postings(keep_newest=_PER_KEY)
        self._ids = Strings()
        # Figure masks, packed (_dedup_figures.pack): most articles set few bits.
        self._figures = Blobs()
        # A story id equal to the row's article id (most rows) is stored as "".
        self._stories = Strings()
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def memory_bytes(self) -> int:
        """Approximate bytes held: arrays, posting tables, id strings."""
        strings = self._ids.nbytes() + self._stories.nbytes() + self._figures.nbytes()
        postings = self._by_id.nbytes() + self._by_key.nbytes()
        return self._columns.nbytes() + postings + strings

    @property
    def latest(self) -> datetime | None:
        """The newest article time the index has seen (the window ends there)."""
        return None if self._latest is None else _EPOCH + timedelta(seconds=self._latest)

    def advance(self, moment: datetime) -> None:
        """Move the newest article time forward to ``moment`` (never back).

        On passing a new step (an hour for the default 72 h window), entries
        published before that step minus the window are dropped; :meth:`expire`
        hands out their ids.
        """
        seconds = _seconds(moment)
        if self._latest is not None and seconds <= self._latest:
            return
        self._latest = seconds
        window = int(self.config.window.total_seconds())
        # Expiry passes 1/72 of the window apart (an hour for 72 h): each scans
        # the columns once, and entries outlive the window by at most a step.
        step = max(60, window // 72)
        cutoff = _stored_time(seconds - seconds % step - window)
        if cutoff <= self._cutoff:
            return
        self._cutoff = cutoff
        published = self._columns["published"]
        rows = np.flatnonzero((published != _DEAD) & (published < cutoff))
        if rows.size:
            published[rows] = _DEAD
            self._live -= rows.size
            self._expired.extend(self._ids[row] for row in rows.tolist())
            if self._columns.size - self._live > max(1024, self._live):
                self._compact()

    def restore(self, entry: IndexEntry) -> None:
        """Re-add a persisted entry (worker restart); replaces one with the same id."""
        old = self._row_of(entry.article_id)
        if old is not None:
            self._kill(old)
        self._append(entry)
        self.advance(entry.published_at)

    def expire(self, now: datetime | None = None) -> list[str]:
        """The ids dropped since the last call (to delete from persisted state).

        ``now``, if given, first moves :attr:`latest` forward to it. Entries
        are dropped as the newest article time advances (see
        :meth:`advance`), not here.
        """
        if now is not None:
            self.advance(now)
        expired, self._expired = self._expired, []
        return expired

    # -- internals ------------------------------------------------------------

    def _row_of(self, article_id: str) -> int | None:
        rows = self._by_id.rows_of(_id_key(article_id))
        if not rows:
            return None
        published = self._columns["published"].take(rows).tolist()
        for row, stored in zip(rows, published, strict=True):
            if stored != _DEAD and self._ids[row] == article_id:
                return row
        return None

    def _story(self, row: int) -> str:
        return self._stories[row] or self._ids[row]

    def _kill(self, row: int) -> None:
        self._columns["published"][row] = _DEAD
        self._live -= 1

    def _entry(self, row: int, fingerprint: int) -> IndexEntry:
        """The entry of ``row``, whose text has the (64-bit) ``fingerprint``."""
        c = self._columns
        return _make_entry(
            article_id=self._ids[row],
            story_id=self._story(row),
            fingerprint=fingerprint,
            published_at=_EPOCH + timedelta(seconds=int(c["published"][row]) + _EPOCH_2020),
            shingles=int(c["shingles"][row]),
            figure_words=figures.unpack(self._figures[row]),
            minhash=c["minhash"][row],
            terms=c["terms"][row],
            weights=c["weights"][row],
            origin=int(c["origin"][row]),
        )

    def _append(self, entry: IndexEntry) -> None:
        terms = np.zeros(text.STORY_TERMS, np.uint32)
        weights = np.zeros(text.STORY_TERMS, np.uint8)
        terms[: len(entry.terms)] = entry.terms
        weights[: len(entry.weights)] = _quantised(entry.weights)
        self._add(
            entry.article_id,
            entry.story_id,
            {
                "minhash": np.array(entry.minhash, np.uint16) if entry.minhash else _NO_MINHASH,
                "shingles": entry.shingles,
                "figures": np.array(entry.figures, np.uint64) if entry.figures else _NO_FIGURES,
                "published": _stored_time(_seconds(entry.published_at)),
                "fingerprint": int(entry.fingerprint, 16) & _LOW_32,
                "terms": terms,
                "weights": weights,
                "origin": entry.origin,
            },
        )

    def _add(
        self,
        article_id: str,
        story_id: str,
        values: dict[str, object],
        keys: list[int] | None = None,
    ) -> None:
        """Append a row; ``keys`` are its band and term keys if already computed."""
        packed = figures.pack(values.pop("figures", _NO_FIGURES))
        row = self._columns.append(values)
        self._figures.append(packed)
        self._by_id.add([_id_key(article_id)], row)
        if keys is None:
            minhash, terms = values["minhash"], values["terms"]
            keys = _row_keys(values["shingles"], minhash.tolist(), terms.tolist())
        self._by_key.add(keys, row)
        self._ids.append(article_id)
        self._stories.append("" if story_id == article_id else story_id)
        self._live += 1
        if self._by_id.crowded() or self._by_key.crowded():
            self._rebuild_postings()

    def _rebuild_postings(self) -> None:
        columns = self._columns
        rows = np.flatnonzero(columns["published"] != _DEAD).astype(np.uint32)
        ids = self._ids
        hashes = np.fromiter(
            (zlib.crc32(ids[row].encode()) for row in rows.tolist()), np.uint32, rows.size
        )
        self._by_id = Postings(salted_keys(hashes, _SALT_ID), rows)
        keys = np.concatenate(
            (_band_keys(columns["minhash"][rows]), _term_keys(columns["terms"][rows])), axis=1
        )
        posted = keys != 0
        # A row without shingles has no bands (its MinHash is all zeros).
        posted[columns["shingles"][rows] == 0, : text.BANDS] = False
        self._by_key = Postings(
            keys[posted], np.repeat(rows, posted.sum(axis=1)), keep_newest=_PER_KEY
        )

    def _compact(self) -> None:
        # Dropping the dead rows keeps arrays and postings proportional to
        # the window, not to everything ever seen.
        live = np.flatnonzero(self._columns["published"] != _DEAD)
        ids, stories = self._ids, self._stories
        kept_ids = [ids[row] for row in live.tolist()]
        kept_stories = [stories[row] for row in live.tolist()]
        kept_figures = [self._figures[row] for row in live.tolist()]
        self._columns.keep(live)
        self._ids, self._stories, self._figures = Strings(), Strings(), Blobs()
        for packed in kept_figures:
            self._figures.append(packed)
        for article_id, story_id in zip(kept_ids, kept_stories, strict=True):
            self._ids.append(article_id)
            self._stories.append(story_id)
        self._rebuild_postings()

    def _candidates(self, keys: list[int], published: int) -> np.ndarray:
        """Live rows in the window sharing a band or a posted term (or a bucket)."""
        found = self._by_key.lookup(keys, per_key=_PER_KEY)
        since = _stored_time(published - int(self.config.window.total_seconds()))
        return found[self._columns["published"].take(found) >= since]


def _make_entry(
    *,
    article_id: str,
    story_id: str,
    fingerprint: int,
    published_at: datetime,
    shingles: int,
    figure_words: np.ndarray,
    minhash: np.ndarray,
    terms: np.ndarray,
    weights: np.ndarray,
    origin: int,
) -> IndexEntry:
    used = int(np.count_nonzero(terms))
    return IndexEntry(
        article_id=article_id,
        story_id=story_id,
        fingerprint=f"{fingerprint:016x}",
        published_at=published_at,
        shingles=shingles,
        figures=tuple(figure_words.tolist()),
        minhash=tuple(minhash.tolist()),
        terms=tuple(terms[:used].tolist()),
        weights=tuple(_WEIGHTS[weights[:used]].astype(np.float64).tolist()),
        origin=origin,
    )


class _Probe:
    """The features of the article being judged; figures are computed on demand."""

    __slots__ = ("_figures", "fingerprint", "minhash", "shingles", "source", "terms", "weights")

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

    @property
    def figures(self) -> np.ndarray:
        # Only a near duplicate or an article to be indexed needs its figures.
        if self._figures is None:
            self._figures = np.array(figures.to_words(figures.figure_masks(self.source)), np.uint64)
        return self._figures


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
    if probe.shingles and rows.size:
        # Equal minima per row, counted once: all equal with the same low
        # fingerprint bits is the same text (see _same_text), any is overlap.
        # Only rows with all minima equal (few) need their fingerprint read.
        matches = (columns["minhash"].take(rows, axis=0) == probe.minhash).sum(axis=1)
        full = rows[matches == text.MINHASH_SIZE]
        if full.size:
            exact = full[
                columns["fingerprint"].take(full) == np.uint32(probe.fingerprint & _LOW_32)
            ]
            if exact.size:
                first = int(exact.min())
                return DedupVerdict(
                    "exact", fingerprint, index._story(first), index._ids[first], 1.0, removed
                )
        threshold = index.config.duplicate_threshold
        # Without a shared minimum (most articles) every overlap is 0.
        if matches.any() or threshold <= 0:
            similarity = _overlap(index, rows, matches, probe, corrects)
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                row = int(rows[best])
                return DedupVerdict(
                    "near",
                    fingerprint,
                    index._story(row),
                    index._ids[row],
                    round(float(similarity[best]), 4),
                    removed,
                )
    if rows.size and probe.terms.size:
        cosine = _cosine(columns, rows, probe.terms, probe.weights)
        best = int(np.argmax(cosine))
        if cosine[best] >= index.config.story_threshold:
            story_id = index._story(int(rows[best]))
    return DedupVerdict("unique", fingerprint, story_id, repeated_paragraphs_removed=removed)


def _overlap(
    index: DedupIndex, rows: np.ndarray, matches: np.ndarray, probe: _Probe, corrects: bool
) -> np.ndarray:
    # Most candidates (found by a story term) share no MinHash value: their
    # overlap is 0, and only the others need the arithmetic below.
    overlap = np.zeros(rows.size)
    shared = np.flatnonzero(matches)
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
    near = np.flatnonzero(overlap >= config.duplicate_threshold)
    if near.size and not corrects:
        theirs = np.array([figures.unpack(index._figures[row]) for row in rows[near].tolist()])
        replaced = figures.too_many_replaced(theirs, probe.figures, config.number_tolerance)
        overlap[near[replaced]] = 0.0
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
    # Terms within one article are distinct, so each of a row's terms matches
    # at most one of ours: its slot in the table says which.
    slots = terms & _SLOT_MASK
    table = _EMPTY_SLOTS.copy()
    table[slots] = terms
    theirs = columns["terms"].take(rows, axis=0)
    if (table.take(slots) == terms).all():
        table_weights = _NO_WEIGHTS.copy()
        table_weights[slots] = weights
        at = theirs & _SLOT_MASK
        matched = table_weights.take(at) * (table.take(at) == theirs)
    else:  # two of our terms share a slot: a binary search instead
        order = np.argsort(terms)
        ours, our_weights = terms[order], weights[order]
        at = np.minimum(np.searchsorted(ours, theirs), ours.size - 1)
        matched = np.where(ours[at] == theirs, our_weights[at], np.float32(0))
    return (_WEIGHTS.take(columns["weights"].take(rows, axis=0)) * matched).sum(axis=1)


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
    hashes = text.shingle_hashes(normal) if normal else np.zeros(0, np.uint64)
    minhash = text.minhash(hashes)
    full_text = cleaned.text
    terms, weights = text.story_terms(full_text)
    # The few values of one article go through Python lists (one conversion
    # each way), cheaper than a numpy call per step.
    minhash_list, term_list = minhash.tolist(), terms.tolist()
    steps = _quantised_steps(weights.tolist())
    padding = [0] * (text.STORY_TERMS - len(steps))
    stored_weights = np.array(steps + padding, np.uint8)
    stored_terms = np.array(term_list + padding, np.uint32)
    probe = _Probe(
        int(text.fingerprint(normal), 16),
        int(hashes.size),
        minhash,
        terms,
        _WEIGHTS[stored_weights[: weights.size]],
        source,
    )
    keys = _row_keys(probe.shingles, minhash_list, term_list)
    published = _seconds(article.published_at)
    index.advance(article.published_at)
    rows = index._candidates(keys, published)
    story_id = article.id
    previous = index._row_of(article.id)
    if previous is not None:
        rows = rows[rows != previous]
        columns = index._columns
        story_id = index._story(previous)
        if _same_text(columns, np.array([previous]), probe.fingerprint, minhash)[0]:
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
        "figures": figure_words,
        "published": _stored_time(published),
        "fingerprint": probe.fingerprint & _LOW_32,
        "terms": stored_terms,
        "weights": stored_weights,
        "origin": origin,
    }
    index._add(article.id, verdict.story_id, values, keys)
    # The entry _make_entry would build from the stored arrays (terms cut at
    # their count of non-zero ones, weights as their stored 255ths), made from
    # the lists at hand instead of converting the arrays back.
    used = sum(1 for term in term_list if term)
    entry = IndexEntry(
        article_id=article.id,
        story_id=verdict.story_id,
        fingerprint=f"{probe.fingerprint:016x}",
        published_at=article.published_at,
        shingles=probe.shingles,
        figures=tuple(figure_words.tolist()),
        minhash=tuple(minhash_list),
        terms=tuple(term_list[:used]),
        weights=tuple(_WEIGHT_VALUES[step] for step in steps[:used]),
        origin=origin,
    )
    return DedupResult(cleaned, verdict, entry)
