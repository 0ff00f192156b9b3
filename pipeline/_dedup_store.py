"""Compact numpy storage for the de-duplication index.

``Postings`` maps 32-bit keys to row numbers as a bucketed CSR table: the
top bits of a key pick a bucket, ``starts`` says where each bucket's rows
begin in one ``rows`` array (ascending, so the newest rows of a bucket come
last), and recent postings wait in a small dict until they are merged in one
O(n) ``np.insert``. Keys are not stored: a posting costs its 4-byte row plus
about one byte of ``starts``. A bucket may hold rows of other keys; callers
verify candidates against their own columns (a MinHash band, a term, an id),
and rebuild the table from those columns when it gets crowded.
"""

from __future__ import annotations

import sys
from array import array

import numpy as np

_PENDING = 4096  # postings buffered in a dict before they join the table
_PENDING_BYTES = 120  # dict slot, list and int objects per pending posting (measured)
_LOAD = 4  # postings per bucket after a rebuild is at most this ...
_MAX_LOAD = 8  # ... and a table this full asks to be rebuilt
_MIN_BITS = 8
_MIX = np.uint64(0x9E3779B97F4A7C15)


def salted_keys(values: np.ndarray, salt: int | np.ndarray) -> np.ndarray:
    """Hash 32-bit values with a per-purpose salt into 32-bit posting keys."""
    salts = np.asarray(salt, dtype=np.uint64) << np.uint64(32)
    mixed = (values.astype(np.uint64) ^ salts) * _MIX
    return (mixed >> np.uint64(32)).astype(np.uint32)


def salted_key(value: int, salt: int) -> int:
    """:func:`salted_keys` of one value, in plain Python (cheaper for one)."""
    return (((value ^ (salt << 32)) * int(_MIX)) & 0xFFFFFFFFFFFFFFFF) >> 32


def _bits_for(postings: int) -> int:
    return max(_MIN_BITS, (max(postings, 1) // _LOAD).bit_length())


class Postings:
    """A multimap from uint32 keys to uint32 rows (a superset: buckets are shared)."""

    def __init__(self, keys: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
        keys = np.zeros(0, np.uint32) if keys is None else keys.astype(np.uint32, copy=False)
        rows = np.zeros(0, np.uint32) if rows is None else rows.astype(np.uint32, copy=False)
        self._bits = _bits_for(keys.size)
        self._shift = np.uint32(32 - self._bits)
        buckets = keys >> self._shift
        order = np.lexsort((rows, buckets))  # by bucket, then oldest row first
        self._rows = rows[order]
        counts = np.bincount(buckets, minlength=1 << self._bits)
        self._starts = np.zeros((1 << self._bits) + 1, np.uint32)
        np.cumsum(counts, out=self._starts[1:])
        # Recent postings wait in a dict (O(1) lookups) until there are enough
        # of them to be worth one merge into the table.
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0

    def __len__(self) -> int:
        return self._pending_count + self._rows.size

    def crowded(self) -> bool:
        """Whether a rebuild (with more buckets) would pay off."""
        return len(self) > _MAX_LOAD << self._bits

    def nbytes(self) -> int:
        """Bytes held by the arrays, plus an estimate for the pending dict."""
        pending = sys.getsizeof(self._pending) + self._pending_count * _PENDING_BYTES
        return self._rows.nbytes + self._starts.nbytes + pending

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
        if self._pending_count >= _PENDING:
            self._flush()

    def _flush(self) -> None:
        if not self._pending_count:
            return
        lengths = [len(rows) for rows in self._pending.values()]
        keys = np.repeat(np.fromiter(self._pending, np.uint32, len(self._pending)), lengths)
        rows = np.fromiter(
            (row for found in self._pending.values() for row in found), np.uint32, keys.size
        )
        self._pending, self._pending_count = {}, 0
        buckets = keys >> self._shift
        order = np.lexsort((rows, buckets))
        buckets, rows = buckets[order], rows[order]
        # New rows are newer than every row in the table: they go at the end
        # of their bucket, an O(n) copy instead of a sort.
        self._rows = np.insert(self._rows, self._starts[buckets + 1].astype(np.intp), rows)
        counts = np.bincount(buckets, minlength=1 << self._bits)
        self._starts[1:] += np.cumsum(counts).astype(np.uint32)

    def lookup(self, keys: np.ndarray, per_key: int) -> np.ndarray:
        """Rows under any of ``keys`` (and their buckets): at most ``per_key`` newest each."""
        quota = np.full(keys.size, per_key, dtype=np.int64)
        parts = []
        if self._pending_count:
            recent: list[int] = []
            for i, key in enumerate(keys.tolist()):
                found = self._pending.get(key)
                if found:
                    taken = found[-per_key:]
                    recent.extend(taken)
                    quota[i] -= len(taken)
            if recent:
                parts.append(np.array(recent, dtype=np.uint32))
        buckets = (keys >> self._shift).astype(np.intp)
        right = self._starts[buckets + 1].astype(np.int64)
        left = np.maximum(self._starts[buckets], right - quota)
        lengths = right - left
        total = int(lengths.sum())
        if total:
            offsets = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
            parts.append(self._rows[offsets + np.arange(total)])
        if not parts:
            return np.zeros(0, dtype=np.uint32)
        return _distinct(np.concatenate(parts) if len(parts) > 1 else parts[0])

    def rows_of(self, key: int) -> list[int]:
        """Every row under ``key`` (and its bucket), oldest first."""
        bucket = key >> int(self._shift)
        found = self._rows[self._starts[bucket] : self._starts[bucket + 1]].tolist()
        return found + self._pending.get(key, [])


def _distinct(rows: np.ndarray) -> np.ndarray:
    # np.unique's overhead dominates on the few hundred rows of one lookup.
    rows = np.sort(rows)
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


class Strings:
    """An append-only list of strings in one byte buffer with 32-bit end offsets.

    A Python ``str`` in a list costs about 57 bytes plus its length; here a
    string costs its UTF-8 length plus 4 bytes.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("I")

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._data[start : self._ends[index]].decode("utf-8")

    def append(self, value: str) -> None:
        """Add ``value`` at the end."""
        self._data += value.encode("utf-8")
        self._ends.append(len(self._data))

    def nbytes(self) -> int:
        """Bytes held by the buffer and the offsets, spare capacity included."""
        return sys.getsizeof(self._data) + sys.getsizeof(self._ends)
