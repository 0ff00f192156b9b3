"""De-duplication: exact and near-duplicate articles, story grouping.

One verb, :func:`deduplicate`, checks an article against a :class:`DedupIndex`
of what the stage has already seen and returns the cleaned article, its
:class:`~pipeline.records.DedupVerdict` and the :class:`IndexEntry` it added.

- **Repeated paragraphs** (a scraped body pasted twice) are removed first.
- **Exact**: a 64-bit fingerprint of the normalised body (case, whitespace,
  punctuation, markup, bylines, datelines and the wire trailer stripped).
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
from pipeline._dedup_store import Columns, Postings, Strings, salted_keys
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
_SALT_ID, _SALT_EXACT, _SALT_TERM = 1, 2, 3  # band j uses salt 16 + j
_HEAD_SALTS = np.array([_SALT_ID, _SALT_EXACT], dtype=np.uint64)
_BAND_SALTS = np.arange(16, 16 + text.BANDS, dtype=np.uint64)
_POSTED_TERMS = 8  # story candidates come from each article's 8 rarest terms
_PER_KEY = 16  # newest rows read per posting key (bounds work on common terms)


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
    "id_hash": (np.dtype(np.uint32), ()),
    "figures": (np.dtype(np.uint64), (figures.KINDS * figures.MASK_WORDS,)),
    "published": (np.dtype(np.int64), ()),
    "fingerprint": (np.dtype(np.uint64), ()),
    "terms": (np.dtype(np.uint32), (text.STORY_TERMS,)),
    "weights": (np.dtype(np.float16), (text.STORY_TERMS,)),
    "origin": (np.dtype(np.uint64), ()),
    "alive": (np.dtype(np.bool_), ()),
}


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


class DedupIndex:
    """What the stage remembers within the window, in compact numpy columns."""

    def __init__(self, config: DedupConfig = DedupConfig()) -> None:
        self.config = config
        # The newest article time seen (seconds). The window is measured back
        # from it, both when judging and when expiring, so a verdict does not
        # depend on when expire() last ran (a restarted worker calls it at
        # other moments than the worker it replaces).
        self._latest: int | None = None
        self._clear()

    def _clear(self) -> None:
        self._columns = Columns(_SPECS)
        self._postings = Postings()
        self._ids = Strings()
        # A story id equal to the row's article id (most rows) is stored as "".
        self._stories = Strings()
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def memory_bytes(self) -> int:
        """Approximate bytes held: arrays, id lists and id strings."""
        strings = self._ids.nbytes() + self._stories.nbytes()
        return self._columns.nbytes() + self._postings.nbytes() + strings

    @property
    def latest(self) -> datetime | None:
        """The newest article time the index has seen (the window ends there)."""
        return None if self._latest is None else _EPOCH + timedelta(seconds=self._latest)

    def advance(self, moment: datetime) -> None:
        """Move the newest article time forward to ``moment`` (never back)."""
        seconds = _seconds(moment)
        if self._latest is None or seconds > self._latest:
            self._latest = seconds

    def restore(self, entry: IndexEntry) -> None:
        """Re-add a persisted entry (worker restart); replaces one with the same id."""
        old = self._row_of(entry.article_id)
        if old is not None:
            self._kill(old)
        self._append(entry)
        self.advance(entry.published_at)

    def expire(self, now: datetime | None = None) -> list[str]:
        """Drop entries published before ``now - window``; return their ids.

        ``now`` defaults to :attr:`latest`; a later ``now`` moves it forward.
        """
        if now is not None:
            self.advance(now)
        if self._latest is None:
            return []
        columns = self._columns
        since = self._latest - int(self.config.window.total_seconds())
        old = columns["alive"] & (columns["published"] < since)
        rows = np.flatnonzero(old)
        columns["alive"][rows] = False
        self._live -= rows.size
        expired = [self._ids[row] for row in rows]
        if columns.size - self._live > max(1024, self._live):
            self._compact()
        return expired

    # -- internals ------------------------------------------------------------

    def _row_of(self, article_id: str) -> int | None:
        key = salted_keys(np.array([zlib.crc32(article_id.encode())], np.uint32), _SALT_ID)
        for row in self._postings.lookup(key, per_key=1 << 30):
            if self._ids[row] == article_id and self._columns["alive"][row]:
                return int(row)
        return None

    def _story(self, row: int) -> str:
        return self._stories[row] or self._ids[row]

    def _kill(self, row: int) -> None:
        self._columns["alive"][row] = False
        self._live -= 1

    def _entry(self, row: int) -> IndexEntry:
        c = self._columns
        weights = c["weights"][row]
        used = int(np.count_nonzero(weights))
        return IndexEntry(
            article_id=self._ids[row],
            story_id=self._story(row),
            fingerprint=f"{int(c['fingerprint'][row]):016x}",
            published_at=_EPOCH + timedelta(seconds=int(c["published"][row])),
            shingles=int(c["shingles"][row]),
            figures=tuple(int(v) for v in c["figures"][row]),
            minhash=tuple(int(v) for v in c["minhash"][row]),
            terms=tuple(int(v) for v in c["terms"][row][:used]),
            weights=tuple(float(v) for v in weights[:used]),
            origin=int(c["origin"][row]),
        )

    def _append(self, entry: IndexEntry, keys: np.ndarray | None = None) -> None:
        terms = np.zeros(text.STORY_TERMS, np.uint32)
        weights = np.zeros(text.STORY_TERMS, np.float16)
        terms[: len(entry.terms)] = entry.terms
        weights[: len(entry.weights)] = entry.weights
        minhash = np.array(entry.minhash or (0,) * text.MINHASH_SIZE, dtype=np.uint16)
        fingerprint = int(entry.fingerprint, 16)
        row = self._columns.append(
            minhash=minhash,
            shingles=entry.shingles,
            id_hash=zlib.crc32(entry.article_id.encode()),
            figures=np.array(
                entry.figures or (0,) * (figures.KINDS * figures.MASK_WORDS), np.uint64
            ),
            published=_seconds(entry.published_at),
            fingerprint=fingerprint,
            terms=terms,
            weights=weights,
            origin=entry.origin,
            alive=True,
        )
        self._postings.add(
            _keys(entry.article_id, fingerprint, entry.shingles, minhash, terms)
            if keys is None
            else keys,
            row,
        )
        self._ids.append(entry.article_id)
        self._stories.append("" if entry.story_id == entry.article_id else entry.story_id)
        self._live += 1

    def _compact(self) -> None:
        # Rebuilding from the live rows keeps arrays and postings proportional
        # to the window, not to everything ever seen.
        entries = [self._entry(row) for row in np.flatnonzero(self._columns["alive"])]
        self._clear()
        for entry in entries:
            self._append(entry)

    def _candidates(self, keys: np.ndarray) -> np.ndarray:
        rows = self._postings.lookup(keys, per_key=_PER_KEY)
        columns = self._columns
        # The same bound expire() uses: rows it would drop are never matched,
        # whether or not it has dropped them yet.
        since = (self._latest or 0) - int(self.config.window.total_seconds())
        keep = columns["alive"][rows] & (columns["published"][rows] >= since)
        return rows[keep]


def _keys(
    article_id: str, fingerprint: int, shingles: int, minhash: np.ndarray, terms: np.ndarray
) -> np.ndarray:
    posted = terms[:_POSTED_TERMS]
    posted = posted[posted != 0]
    head = [zlib.crc32(article_id.encode()), fingerprint & 0xFFFFFFFF]
    if shingles:
        pairs = minhash.astype(np.uint32).reshape(text.BANDS, 2)
        bands = (pairs[:, 0] << np.uint32(16)) | pairs[:, 1]
        values = np.concatenate((np.array(head, np.uint32), bands, posted))
        salts = np.concatenate((_HEAD_SALTS, _BAND_SALTS, np.full(posted.size, _SALT_TERM)))
    else:
        values = np.concatenate((np.array(head, np.uint32), posted))
        salts = np.concatenate((_HEAD_SALTS, np.full(posted.size, _SALT_TERM)))
    return salted_keys(values, salts.astype(np.uint64))


def _verdict_for(
    index: DedupIndex,
    rows: np.ndarray,
    entry: IndexEntry,
    minhash: np.ndarray,
    terms: np.ndarray,
    weights: np.ndarray,
    corrects: bool = False,
) -> DedupVerdict:
    fingerprint = int(entry.fingerprint, 16)
    columns = index._columns
    if entry.shingles and rows.size:
        exact = rows[columns["fingerprint"][rows] == fingerprint]
        if exact.size:
            first = int(exact.min())
            return DedupVerdict(
                "exact", entry.fingerprint, index._story(first), index._ids[first], 1.0
            )
        similarity = _overlap(columns, rows, minhash, entry, index.config, corrects)
        best = int(np.argmax(similarity))
        if similarity[best] >= index.config.duplicate_threshold:
            row = int(rows[best])
            return DedupVerdict(
                "near",
                entry.fingerprint,
                index._story(row),
                index._ids[row],
                round(float(similarity[best]), 4),
            )
    if rows.size and terms.size:
        cosine = _cosine(columns, rows, terms, weights)
        best = int(np.argmax(cosine))
        if cosine[best] >= index.config.story_threshold:
            return DedupVerdict("unique", entry.fingerprint, index._story(int(rows[best])))
    return DedupVerdict("unique", entry.fingerprint, entry.story_id)


def _overlap(
    columns: Columns,
    rows: np.ndarray,
    minhash: np.ndarray,
    entry: IndexEntry,
    config: DedupConfig,
    corrects: bool,
) -> np.ndarray:
    shingles = entry.shingles
    jaccard = text.jaccard((columns["minhash"][rows] == minhash).sum(axis=1))
    sizes = columns["shingles"][rows].astype(np.float64)
    small, large = np.minimum(sizes, shingles), np.maximum(sizes, shingles)
    # |A∩B| = J(|A|+|B|)/(1+J); divided by the smaller set gives the overlap.
    overlap = np.minimum(1.0, jaccard * (sizes + shingles) / ((1 + jaccard) * np.maximum(small, 1)))
    overlap = np.where(small >= config.min_size_ratio * large, overlap, jaccard)
    # A correction may change the figures of what it corrects. Only rows that
    # would be duplicates need the (costlier) figure check.
    near = np.flatnonzero(overlap >= config.duplicate_threshold)
    if near.size and not corrects:
        overlap[near[_replaced_figures(columns, rows[near], entry, config)]] = 0.0
    return overlap


def _replaced_figures(
    columns: Columns, rows: np.ndarray, entry: IndexEntry, config: DedupConfig
) -> np.ndarray:
    """Whether more than ``number_tolerance`` of the figures were replaced."""
    theirs = columns["figures"][rows]
    mine = np.array(entry.figures, np.uint64) if entry.figures else np.zeros_like(theirs[:1])
    return figures.too_many_replaced(theirs, mine, config.number_tolerance)


def _cosine(
    columns: Columns, rows: np.ndarray, terms: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    same = columns["terms"][rows][:, :, None] == terms[None, None, :]
    products = columns["weights"][rows].astype(np.float32)[:, :, None] * weights[None, None, :]
    return (products * same).sum(axis=(1, 2))


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
    terms, weights = text.story_terms(cleaned.text)
    weights16 = weights.astype(np.float16)
    entry = IndexEntry(
        origin=origin,
        article_id=article.id,
        story_id=article.id,
        fingerprint=text.fingerprint(normal),
        published_at=article.published_at,
        shingles=int(hashes.size),
        figures=tuple(figures.to_words(figures.figure_masks(source))),
        minhash=tuple(minhash.tolist()),
        terms=tuple(terms.tolist()),
        weights=tuple(weights16.astype(np.float64).tolist()),
    )
    keys = _keys(article.id, int(entry.fingerprint, 16), entry.shingles, minhash, terms)
    index.advance(article.published_at)
    rows = index._candidates(keys)
    id_hash = zlib.crc32(article.id.encode())
    maybe = rows[index._columns["id_hash"][rows] == id_hash]
    same_id = [int(row) for row in maybe if index._ids[row] == article.id]
    if same_id:
        previous = same_id[0]
        rows = rows[rows != previous]
        old = index._entry(previous)
        if old.fingerprint == entry.fingerprint:
            if origin and old.origin and origin != old.origin:
                verdict = DedupVerdict(
                    "exact",
                    old.fingerprint,
                    old.story_id,
                    article.id,
                    1.0,
                    repeated_paragraphs_removed=removed,
                )
                return DedupResult(cleaned, verdict, None)
            verdict = DedupVerdict(
                "unique", old.fingerprint, old.story_id, repeated_paragraphs_removed=removed
            )
            return DedupResult(cleaned, verdict, old)
        index._kill(previous)
        entry = replace(entry, story_id=old.story_id)
    corrects = text.is_correction(cleaned.text)
    verdict = _verdict_for(
        index, rows, entry, minhash, terms, weights16.astype(np.float32), corrects
    )
    verdict = replace(verdict, repeated_paragraphs_removed=removed)
    if verdict.is_duplicate:
        return DedupResult(cleaned, verdict, None)
    entry = replace(entry, story_id=verdict.story_id)
    index._append(entry, keys)
    return DedupResult(cleaned, verdict, entry)
