"""Compact numpy storage for the de-duplication index.

``Postings`` maps 32-bit keys to row numbers as a bucketed CSR table: the
top bits of a key pick a bucket, the bucket starts say where each bucket's
rows begin in one rows array (ascending, so the newest rows of a bucket come
last), and recent postings wait in a small dict until they are merged in one
O(n) ``np.insert``. Keys are not stored. A row number takes 3 bytes (a
uint16 low part and a uint8 high part; the high part widens past 16.7M
rows); a bucket about 1 byte: its row count (uint8, wider only if a bucket
outgrows it) plus a uint32 start per 64 buckets, from which a lookup adds up
the counts before its bucket. A table whose
lookups only ever read a bucket's ``keep_newest`` newest rows drops the
older ones of crowded buckets (common story terms), a few thousand at a
time: lookups cannot tell. A
bucket may hold rows of other keys; callers verify candidates against their
own columns (a MinHash band, a term, an id), and rebuild the table from
those columns when it gets crowded.
"""

from __future__ import annotations

import sys
from array import array
from itertools import chain

import numpy as np

from pipeline import _dedup_kernels as kernels

_PENDING = 4096  # postings buffered in a dict before they join the table
_PENDING_BYTES = 120  # dict slot, list and int objects per pending posting (measured)
_LOAD = 4  # postings per bucket after a rebuild is at most this ...
_MAX_LOAD = 8  # ... and a table this full asks to be rebuilt
_MIN_BITS = 8
_GROUP_BITS = 6  # buckets sharing one uint32 start (a lookup sums up to 63 counts)
_GROUP = 1 << _GROUP_BITS
MIX = np.uint64(0x9E3779B97F4A7C15)  # the multiplier of salted keys
_MIX_INT = int(MIX)
_LOW_64 = 0xFFFFFFFFFFFFFFFF


def salted_keys(values: np.ndarray, salt: int | np.ndarray) -> np.ndarray:
    """Hash 32-bit values with a per-purpose salt into 32-bit posting keys."""
    salts = np.asarray(salt, dtype=np.uint64) << np.uint64(32)
    mixed = (values.astype(np.uint64) ^ salts) * MIX
    return (mixed >> np.uint64(32)).astype(np.uint32)


def salted_key(value: int, salt: int) -> int:
    """:func:`salted_keys` of one value, in plain Python (cheaper for one)."""
    return salted_key_list([value], [salt])[0]


def salted_key_list(values: list[int], salts: list[int]) -> list[int]:
    """:func:`salted_keys` of a few values, each with its salt, in plain Python.

    One comprehension, no call per key: an article's few keys cost less so
    than through numpy or one :func:`salted_key` call each.
    """
    return [
        (((value ^ (salt << 32)) * _MIX_INT) & _LOW_64) >> 32
        for value, salt in zip(values, salts, strict=True)
    ]


def _bits_for(postings: int) -> int:
    return max(_MIN_BITS, (max(postings, 1) // _LOAD).bit_length())


class Postings:
    """A multimap from uint32 keys to uint32 rows (a superset: buckets are shared).

    With ``keep_newest`` set, only the newest ``keep_newest`` rows of each
    bucket are kept: the caller promises to read no more (``lookup`` with
    ``per_key <= keep_newest``, no ``rows_of``).
    """

    def __init__(
        self,
        keys: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        keep_newest: int | None = None,
    ) -> None:
        keys = np.zeros(0, np.uint32) if keys is None else keys.astype(np.uint32, copy=False)
        rows = np.zeros(0, np.uint32) if rows is None else rows.astype(np.uint32, copy=False)
        self._keep = keep_newest
        # Every posting ever added since the last rebuild, dropped ones
        # included: when to rebuild (and so which keys share a bucket) must
        # not depend on dropping.
        self._count = int(keys.size)
        self._bits = _bits_for(keys.size)
        self._shift = np.uint32(32 - self._bits)
        buckets = keys >> self._shift
        order = np.lexsort((rows, buckets))  # by bucket, then oldest row first
        counts = np.bincount(buckets, minlength=1 << self._bits)
        starts = np.zeros((1 << self._bits) + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        self._store(rows[order], starts)
        self._surplus = 0  # rows beyond the newest ``keep`` of a bucket, not yet dropped
        # Recent postings wait in a dict (O(1) lookups) until there are enough
        # of them to be worth one merge into the table.
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0

    def __len__(self) -> int:
        """Postings held (the dropped old rows of crowded buckets not counted)."""
        return self._pending_count + self._low.size

    def crowded(self) -> bool:
        """Whether a rebuild (with more buckets) would pay off."""
        return self._count > _MAX_LOAD << self._bits

    def nbytes(self) -> int:
        """Bytes held by the arrays, plus an estimate for the pending dict."""
        pending = sys.getsizeof(self._pending) + self._pending_count * _PENDING_BYTES
        arrays = self._low.nbytes + self._high.nbytes + self._base.nbytes + self._counts.nbytes
        return arrays + pending

    def add(self, keys: list[int], row: int) -> None:
        """Add ``row`` under every key in ``keys``."""
        pending = self._pending
        for key in keys:
            found = pending.get(key)
            if found is None:
                pending[key] = [row]
            else:
                found.append(row)
        self._pending_count += len(keys)
        self._count += len(keys)
        if self._pending_count >= _PENDING:
            self._flush()

    # -- compact storage ------------------------------------------------------

    def _store(self, rows: np.ndarray, starts: np.ndarray) -> None:
        """Keep ``rows`` (uint32, by bucket) and ``starts`` (int64) in compact form."""
        if self._keep is not None:
            rows, starts = _newest(rows, starts, self._keep)
        self._low = (rows & np.uint32(0xFFFF)).astype(np.uint16)
        high = rows >> np.uint32(16)
        wide = high.size and int(high.max()) > 0xFF
        self._high = high.astype(np.uint16 if wide else np.uint8)
        counts = np.diff(starts)
        most = int(counts.max()) if counts.size else 0
        dtype = np.uint8 if most <= 0xFF else np.uint16 if most <= 0xFFFF else np.uint32
        self._counts = counts.astype(dtype).reshape(-1, _GROUP)
        self._base = starts[:-1:_GROUP].astype(np.int64)

    def _bounds(self, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where ``buckets`` (intp) begin and end (int64)."""
        groups = buckets >> _GROUP_BITS
        at = buckets & (_GROUP - 1)
        # The counts before each bucket in its group, as one reduceat over the
        # gathered groups: segment [row start, bucket) of each row (an empty
        # segment, bucket 0 of its group, gives that bucket's count: zeroed).
        counts = self._counts.take(groups, axis=0).reshape(-1)
        starts = np.arange(0, buckets.size * _GROUP, _GROUP)
        edges = np.empty(2 * buckets.size, np.intp)
        edges[0::2] = starts
        edges[1::2] = starts + at
        before = np.add.reduceat(counts, edges, dtype=np.int64)[0::2]
        before[at == 0] = 0
        left = self._base.take(groups) + before
        return left, left + counts.take(starts + at)

    def _rows_at(self, positions: np.ndarray) -> np.ndarray:
        high = self._high.take(positions).astype(np.uint32) << np.uint32(16)
        return high | self._low.take(positions)

    def _flush(self) -> None:
        if not self._pending_count:
            return
        lengths = np.fromiter(map(len, self._pending.values()), np.intp, len(self._pending))
        keys = np.repeat(np.fromiter(self._pending, np.uint32, len(self._pending)), lengths)
        rows = np.fromiter(chain.from_iterable(self._pending.values()), np.uint32, keys.size)
        self._pending, self._pending_count = {}, 0
        buckets = (keys >> self._shift).astype(np.intp)
        order = np.lexsort((rows, buckets))
        buckets, rows = buckets[order], rows[order]
        # New rows are newer than every row in the table: they go at the end
        # of their bucket, an O(n) copy instead of a sort; counts and group
        # starts change only where rows were added.
        ends = self._bounds(buckets)[1]
        if self._high.dtype == np.uint8 and int(rows.max()) > 0xFFFFFF:
            self._high = self._high.astype(np.uint16)
        self._low = np.insert(self._low, ends, (rows & np.uint32(0xFFFF)).astype(np.uint16))
        self._high = np.insert(self._high, ends, (rows >> np.uint32(16)).astype(self._high.dtype))
        touched, added = np.unique(buckets, return_counts=True)
        counts = self._counts.reshape(-1)
        grown = counts[touched].astype(np.int64) + added
        if int(grown.max()) > np.iinfo(counts.dtype).max:
            self._counts = self._counts.astype(np.uint32)
            counts = self._counts.reshape(-1)
        counts[touched] = grown
        self._move_starts(touched, added)
        if self._keep is None:
            return
        # Rows beyond the newest ``keep`` of a bucket are never read, so they
        # may stay a while: dropping them copies the whole table, so it waits
        # until there are _PENDING of them (a few KB) or a count needs a wider type.
        previous = grown - added
        self._surplus += int(
            (np.maximum(grown - self._keep, 0) - np.maximum(previous - self._keep, 0)).sum()
        )
        if self._surplus > _PENDING or self._counts.dtype != np.uint8:
            self._drop_surplus()

    def _drop_surplus(self) -> None:
        """Drop the rows beyond the newest ``keep`` of every bucket."""
        counts = self._counts.reshape(-1)
        over = np.flatnonzero(counts > self._keep)
        if over.size:
            first = self._bounds(over)[0]
            dropped = counts[over].astype(np.int64) - self._keep
            positions = np.repeat(first - np.cumsum(dropped) + dropped, dropped) + np.arange(
                int(dropped.sum())
            )
            self._low = np.delete(self._low, positions)
            self._high = np.delete(self._high, positions)
            counts[over] = self._keep
            self._move_starts(over, -dropped)
        if self._counts.dtype != np.uint8 and self._keep <= 0xFF:
            self._counts = self._counts.astype(np.uint8)  # a widening was only for the surplus
        self._surplus = 0

    def _move_starts(self, buckets: np.ndarray, change: np.ndarray) -> None:
        """Shift the group starts after ``buckets`` whose counts changed by ``change``."""
        groups = np.zeros(self._base.size, np.int64)
        np.add.at(groups, buckets >> _GROUP_BITS, change)
        self._base[1:] += np.cumsum(groups)[:-1]

    def lookup(self, keys: np.ndarray | list[int], per_key: int) -> np.ndarray:
        """Rows under any of ``keys`` (and their buckets): at most ``per_key`` newest each."""
        if self._keep is not None and per_key > self._keep:
            raise ValueError(f"this table keeps only the {self._keep} newest rows per bucket")
        key_list = keys.tolist() if isinstance(keys, np.ndarray) else keys
        if not key_list:
            return np.zeros(0, dtype=np.uint32)
        recent: list[int] = []
        quota = [per_key] * len(key_list)
        if self._pending_count:
            pending = self._pending
            for i, key in enumerate(key_list):
                found = pending.get(key)
                if found:
                    taken = found[-per_key:]
                    recent.extend(taken)
                    quota[i] -= len(taken)
        if kernels.COMPILED:
            return kernels.posted_rows(
                np.array(key_list, np.int64),
                32 - self._bits,
                np.array(quota, np.int64),
                self._counts,
                self._base,
                self._low,
                self._high,
                np.array(recent, np.uint32),
            )
        buckets = np.array(key_list, dtype=np.intp) >> (32 - self._bits)
        first, right = self._bounds(buckets)
        left = np.maximum(first, right - np.array(quota, dtype=np.int64))
        lengths = right - left
        total = int(lengths.sum())
        if total:
            offsets = (left - lengths.cumsum() + lengths).repeat(lengths)
            found = self._rows_at(offsets + np.arange(total))
            if recent:
                found = np.concatenate((found, np.array(recent, dtype=np.uint32)))
        elif recent:
            found = np.array(recent, dtype=np.uint32)
        else:
            return np.zeros(0, dtype=np.uint32)
        return _distinct(found)

    def rows_of(self, key: int) -> list[int]:
        """Every row under ``key`` (and its bucket), oldest first."""
        if self._keep is not None:
            raise ValueError("this table drops old rows: use lookup()")
        # One bucket: plain Python on its group's counts beats array calls.
        bucket = key >> (32 - self._bits)
        group, at = bucket >> _GROUP_BITS, bucket & (_GROUP - 1)
        counts = self._counts[group].tolist()
        left = int(self._base[group]) + sum(counts[:at])
        right = left + counts[at]
        low = self._low[left:right].tolist()
        high = self._high[left:right].tolist()
        found = [h << 16 | lo for h, lo in zip(high, low, strict=True)]
        return found + self._pending.get(key, [])


def _newest(rows: np.ndarray, starts: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Only the ``keep`` newest (last) rows of each bucket, and the new starts."""
    counts = np.diff(starts)
    over = np.flatnonzero(counts > keep)
    if not over.size:
        return rows, starts
    dropped = counts[over] - keep
    first = starts[over]
    positions = np.repeat(first - np.cumsum(dropped) + dropped, dropped) + np.arange(
        int(dropped.sum())
    )
    kept = np.ones(rows.size, dtype=bool)
    kept[positions] = False
    new_starts = np.zeros_like(starts)
    np.cumsum(np.minimum(counts, keep), out=new_starts[1:])
    return rows[kept], new_starts


def _distinct(rows: np.ndarray) -> np.ndarray:
    # np.unique's overhead dominates on the few hundred rows of one lookup;
    # the rows are the caller's own, so they are sorted in place.
    rows.sort()
    keep = np.empty(rows.size, dtype=bool)
    keep[:1] = True
    np.not_equal(rows[1:], rows[:-1], out=keep[1:])
    return rows[keep]


class Columns:
    """Growable fixed-width numpy columns, one row per indexed article."""

    def __init__(self, specs: dict[str, tuple[np.dtype, tuple[int, ...]]]) -> None:
        self._specs = specs
        self.size = 0
        self._arrays = {
            name: np.zeros((16, *shape), dtype) for name, (dtype, shape) in specs.items()
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name][: self.size]

    def nbytes(self) -> int:
        """Bytes held by the arrays (including spare capacity)."""
        return sum(a.nbytes for a in self._arrays.values())

    def append(self, values: dict[str, object]) -> int:
        """Append one row; return its number."""
        if self.size == len(self._arrays[next(iter(self._arrays))]):
            # Growing by 1/8 keeps spare capacity (counted in nbytes) small;
            # the copies still cost O(1) per row amortised.
            self._resize(max(16, self.size + self.size // 8))
        size = self.size
        arrays = self._arrays
        for name, value in values.items():
            arrays[name][size] = value
        self.size += 1
        return size

    def keep(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (ascending), renumbered from 0, without spare capacity."""
        self._arrays = {name: column[rows] for name, column in self._arrays.items()}
        self.size = rows.size
        self._resize(max(16, rows.size))

    def _resize(self, capacity: int) -> None:
        for name, column in self._arrays.items():
            grown = np.zeros((capacity, *column.shape[1:]), column.dtype)
            grown[: self.size] = column[: self.size]
            self._arrays[name] = grown


class Blobs:
    """An append-only list of byte strings in one buffer with 32-bit end offsets."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("I")

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> bytes:
        start = self._ends[index - 1] if index else 0
        return bytes(self._data[start : self._ends[index]])

    def append(self, value: bytes) -> None:
        """Add ``value`` at the end."""
        self._data += value
        self._ends.append(len(self._data))

    def nbytes(self) -> int:
        """Bytes held by the buffer and the offsets, spare capacity included."""
        return sys.getsizeof(self._data) + sys.getsizeof(self._ends)


class Strings(Blobs):
    """An append-only list of strings, stored as UTF-8 :class:`Blobs`.

    A Python ``str`` in a list costs about 57 bytes plus its length; here a
    string costs its UTF-8 length plus 4 bytes.
    """

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        start = self._ends[index - 1] if index else 0
        return self._data[start : self._ends[index]].decode("utf-8")

    def append(self, value: str) -> None:  # type: ignore[override]
        """Add ``value`` at the end."""
        super().append(value.encode("utf-8"))
