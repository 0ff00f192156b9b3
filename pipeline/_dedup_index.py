"""The de-duplication index: what the stage remembers within its window.

:class:`DedupIndex` keeps every indexed article in compact numpy columns
(MinHash, shingle count, time, fingerprint bits, story terms and weights,
origin) plus packed figure masks and id strings, and finds candidate rows
through posting tables keyed by MinHash band and rare story term. It is
rebuilt exactly from the :class:`IndexEntry` records the agent persists.
:mod:`pipeline.dedup` judges an article against it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline import _dedup_figures as figures
from pipeline import _dedup_kernels as kernels
from pipeline import _dedup_story_terms as story
from pipeline import _dedup_text as text
from pipeline._dedup_store import (
    MIX,
    Blobs,
    Columns,
    Postings,
    Strings,
    salted_key,
    salted_key_list,
    salted_keys,
)

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
    pairs, swept in steps of 0.01. Now 0.13 (P 0.952, R 0.839 there; 0.12
    gave P 0.942), since a shared age or year counts half
    (:data:`pipeline._dedup_story_terms.WEAK_TERM_SHARE`); before that 0.15
    (P 0.953, R 0.838), since story terms read typographic apostrophes as
    "'" and drop possessives and rare later terms are looked up too
    (:func:`later_term_keys`); before those, 0.14 (P 0.951, R 0.827).
    14 terms were chosen on the same half: 16 gave R 0.823 (at 0.15), 12
    R 0.819 (at 0.14), and each term costs 5 bytes per indexed article.
    The test half, scored once after each choice: P 0.931, R 0.831 at 0.13
    (session 13); P 0.937, R 0.826 at 0.15 (session 8); P 0.943, R 0.820 at
    0.14 before. On 1,155 pairs dev precision is itself uncertain by about
    0.015 (resampling the dev pairs, P at the chosen edge falls below 0.95
    in a quarter to a half of the samples), and test precision has come out
    0.01-0.02 below dev.
    """

    window: timedelta = timedelta(hours=72)
    duplicate_threshold: float = 0.6
    story_threshold: float = 0.13
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


_SPECS = {
    "minhash": (np.dtype(np.uint16), (text.MINHASH_SIZE,)),
    "shingles": (np.dtype(np.uint32), ()),
    "published": (np.dtype(np.int32), ()),
    # The low 32 bits of the 64-bit fingerprint: a row is the same text only
    # if its MinHash is equal too (see same_text), which the 32 bits
    # make certain among the few rows compared.
    "fingerprint": (np.dtype(np.uint32), ()),
    "terms": (np.dtype(np.uint32), (story.STORY_TERMS,)),
    "weights": (np.dtype(np.uint8), (story.STORY_TERMS,)),  # in 255ths (see quantised_steps)
    "origin": (np.dtype(np.uint64), ()),
}
# A story-term weight (0 to 1, the weights of an article have unit norm) is
# kept in 255ths: the cosine moves by at most about 0.004.
_WEIGHT_STEPS = 255
WEIGHTS = np.arange(_WEIGHT_STEPS + 1, dtype=np.float32) / np.float32(_WEIGHT_STEPS)
# The same steps as Python floats (what an IndexEntry holds).
WEIGHT_VALUES = WEIGHTS.astype(np.float64).tolist()


def quantised_steps(weights: list[float]) -> list[int]:
    """Story-term weights (0 to 1) as stored: steps of 1/255, in plain Python for the few of one article.

    ``round`` rounds half to even, as ``np.rint`` does.
    """
    steps = [round(weight * _WEIGHT_STEPS) for weight in weights]
    # An article's weights have unit norm, so they need no clamping (checked
    # in two C-level calls); other values are clamped to the stored range.
    if steps and (min(steps) < 0 or max(steps) > _WEIGHT_STEPS):
        steps = [min(max(step, 0), _WEIGHT_STEPS) for step in steps]
    return steps


_NO_FIGURES = np.zeros(figures.WORDS, np.uint64)
_NO_FIGURES_PACKED = figures.pack(_NO_FIGURES)
_NO_MINHASH = np.zeros(text.MINHASH_SIZE, np.uint16)


LOW_32 = 0xFFFFFFFF


def same_text(
    columns: Columns, rows: np.ndarray, fingerprint: int, minhash: np.ndarray
) -> np.ndarray:
    """Which ``rows`` hold the text with this fingerprint (and so this MinHash)."""
    same = columns["fingerprint"][rows] == np.uint32(fingerprint & LOW_32)
    return same & (columns["minhash"][rows] == minhash).all(axis=1)


def epoch_seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def stored_time(seconds: int) -> int:
    return min(max(seconds - _EPOCH_2020, _DEAD + 1), _INT32_MAX)


def _id_key(article_id: str) -> int:
    return salted_key(zlib.crc32(article_id.encode()), _SALT_ID)


def band_keys(minhash: np.ndarray) -> np.ndarray:
    """The 16 LSH band keys of each MinHash row (shape (n, 32) -> (n, 16))."""
    pairs = minhash.astype(np.uint32).reshape(-1, text.BANDS, 2)
    return salted_keys((pairs[..., 0] << np.uint32(16)) | pairs[..., 1], _BAND_SALTS)


def row_keys(shingles: int, minhash: list[int], terms: list[int]) -> list[int]:
    """The band and term posting keys of one article (no bands without shingles).

    The same keys as :func:`band_keys` and :func:`term_keys` give a whole
    column (zero keys dropped), in plain Python for the few of one article.
    """
    keys = []
    if shingles:
        bands = [high << 16 | low for high, low in zip(minhash[0::2], minhash[1::2], strict=True)]
        keys = [key for key in salted_key_list(bands, _BAND_SALT_LIST) if key]
    return keys + _term_key_list([term for term in terms[:_POSTED_TERMS] if term])


def _term_key_list(terms: list[int]) -> list[int]:
    # the posting keys of a few non-zero terms (zero keys dropped)
    return [key for key in salted_key_list(terms, [_SALT_TERM] * len(terms)) if key]


# A term past the posted ones is looked up only if rare in the IDF table's
# news (unknown to it, or in fewer than this many of its documents): the
# pairs it recovers share a rare name (on the dev GVA pairs Sutton, Trenton,
# Wray), while common ones (County, Street, a city) fill their posting
# buckets and would add rows to every lookup for no story found.
_RARE_DF = 10


def later_term_keys(terms: list[int]) -> list[int]:
    """Posting keys of an article's rare terms past the posted ones (looked up, never posted).

    An article posts only its first ``_POSTED_TERMS`` terms (memory), so two
    reports whose shared name is among the later terms of the new one were
    never compared, however high their cosine. Looking the rare ones up too
    costs no memory: on the dev GVA pairs it found 3 more same-incident pairs
    above the story threshold and no other-incident one (all later terms: 8
    and 22 more compared, the same 3 and 0 above the threshold).
    """
    known = story._document_frequencies()
    return _term_key_list(
        [term for term in terms[_POSTED_TERMS:] if term and known.get(term, 0) < _RARE_DF]
    )


def row_key_list(shingles: int, minhash: np.ndarray, terms: np.ndarray) -> list[int]:
    """:func:`row_keys` of one article's MinHash (uint16) and terms (uint32) arrays."""
    if kernels.COMPILED:
        keys = kernels.posting_keys(
            shingles, minhash, terms, _BAND_SALT_LIST[0], _SALT_TERM, _POSTED_TERMS, MIX
        )
        return keys.tolist()
    return row_keys(shingles, minhash.tolist(), terms.tolist())


def term_keys(terms: np.ndarray) -> np.ndarray:
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
        seconds = epoch_seconds(moment)
        if self._latest is not None and seconds <= self._latest:
            return
        self._latest = seconds
        window = int(self.config.window.total_seconds())
        # Expiry passes 1/72 of the window apart (an hour for 72 h): each scans
        # the columns once, and entries outlive the window by at most a step.
        step = max(60, window // 72)
        cutoff = stored_time(seconds - seconds % step - window)
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
        terms = np.zeros(story.STORY_TERMS, np.uint32)
        weights = np.zeros(story.STORY_TERMS, np.uint8)
        # An entry written when articles kept more terms keeps its strongest
        # ones (terms are stored strongest first).
        kept = min(len(entry.terms), story.STORY_TERMS)
        terms[:kept] = entry.terms[:kept]
        weights[:kept] = quantised_steps(list(entry.weights[:kept]))
        self._add(
            entry.article_id,
            entry.story_id,
            {
                "minhash": np.array(entry.minhash, np.uint16) if entry.minhash else _NO_MINHASH,
                "shingles": entry.shingles,
                "figures": figures.pack(
                    np.array(entry.figures, np.uint64) if entry.figures else _NO_FIGURES
                ),
                "published": stored_time(epoch_seconds(entry.published_at)),
                "fingerprint": int(entry.fingerprint, 16) & LOW_32,
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
        """Append a row; ``keys`` are its band and term keys if already computed.

        ``values["figures"]`` holds the figure masks packed (:func:`figures.pack`).
        """
        packed = values.pop("figures", _NO_FIGURES_PACKED)
        row = self._columns.append(values)
        self._figures.append(packed)
        self._by_id.add([_id_key(article_id)], row)
        if keys is None:
            minhash, terms = values["minhash"], values["terms"]
            keys = row_keys(values["shingles"], minhash.tolist(), terms.tolist())
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
            (band_keys(columns["minhash"][rows]), term_keys(columns["terms"][rows])), axis=1
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
        since = stored_time(published - int(self.config.window.total_seconds()))
        columns = self._columns
        if kernels.COMPILED:
            return kernels.rows_since(
                found,
                columns["published"],
                since,
                columns["minhash"],
                columns["terms"],
                columns["weights"],
            )[0]
        return found[columns["published"].take(found) >= since]


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
        weights=tuple(WEIGHTS[weights[:used]].astype(np.float64).tolist()),
        origin=origin,
    )
