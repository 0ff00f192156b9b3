"""Compact numpy storage for the de-duplication index.

``Postings`` maps 32-bit keys to row numbers: one sorted run of (key, row)
arrays plus a small dict of recent postings that joins the run in one O(n)
merge when full. A lookup is two ``searchsorted`` calls and a few dict gets;
each posting costs 8 bytes, where a Python dict of lists costs over 100.
"""

from __future__ import annotations

import sys
from array import array

import numpy as np

_PENDING = 16384  # keys buffered in a dict before they join the sorted run
_MIX = np.uint64(0x9E3779B97F4A7C15)


def salted_keys(values: np.ndarray, salt: int | np.ndarray) -> np.ndarray:
    """Hash 32-bit values with a per-purpose salt into 32-bit posting keys."""
    salts = np.asarray(salt, dtype=np.uint64) << np.uint64(32)
    mixed = (values.astype(np.uint64) ^ salts) * _MIX
    return (mixed >> np.uint64(32)).astype(np.uint32)


class Postings:
    """An append-only multimap from uint32 keys to uint32 rows."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        # Recent postings wait in a dict (O(1) lookups) until there are enough
        # of them to be worth a sorted run.
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0

    def __len__(self) -> int:
        return self._pending_count + sum(keys.size for keys, _ in self._runs)

    def nbytes(self) -> int:
        """Bytes held by the arrays, plus an estimate for the pending dict."""
        runs = sum(keys.nbytes + rows.nbytes for keys, rows in self._runs)
        return runs + _PENDING * 2 * 8 + self._pending_count * 8

    def add(self, keys: np.ndarray, row: int) -> None:
        """Add ``row`` under every key in ``keys``."""
        pending = self._pending
        for key in keys.tolist():
            found = pending.get(key)
            if found is None:
                pending[key] = [row]
            else:
                found.append(row)
        self._pending_count += keys.size
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
        keys, rows = _sorted(keys, rows)
        if not self._runs:
            self._runs.append((keys, rows))
            return
        # One sorted run: new postings go in after the old ones with equal
        # keys (rows stay oldest first), an O(n) copy instead of a sort.
        old_keys, old_rows = self._runs[0]
        at = np.searchsorted(old_keys, keys, side="right")
        self._runs[0] = (np.insert(old_keys, at, keys), np.insert(old_rows, at, rows))

    def lookup(self, keys: np.ndarray, per_key: int) -> np.ndarray:
        """Rows under any of ``keys``: at most the ``per_key`` newest per key."""
        quota = np.full(keys.size, per_key, dtype=np.int64)
        recent: list[int] = []
        for i, key in enumerate(keys.tolist()):
            found = self._pending.get(key)
            if found:
                taken = found[-per_key:]
                recent.extend(taken)
                quota[i] -= len(taken)
        parts = [np.array(recent, dtype=np.uint32)] if recent else []
        # Newest run first, so a common key spends its quota on recent rows.
        for run_keys, run_rows in reversed(self._runs):
            right = np.searchsorted(run_keys, keys, side="right")
            left = np.maximum(np.searchsorted(run_keys, keys, side="left"), right - quota)
            lengths = right - left
            total = int(lengths.sum())
            if total:
                quota -= lengths
                offsets = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
                parts.append(run_rows[offsets + np.arange(total)])
        if not parts:
            return np.zeros(0, dtype=np.uint32)
        return np.unique(np.concatenate(parts))


def _sorted(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Stable, so rows stay ascending (oldest first) within one key.
    order = np.argsort(keys, kind="stable")
    return keys[order], rows[order]


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

    def append(self, **values: object) -> int:
        """Append one row; return its number."""
        if self.size == len(self._arrays[next(iter(self._arrays))]):
            for name, array in self._arrays.items():
                grown = np.zeros((max(16, self.size * 3 // 2), *array.shape[1:]), array.dtype)
                grown[: self.size] = array[: self.size]
                self._arrays[name] = grown
        for name, value in values.items():
            self._arrays[name][self.size] = value
        self.size += 1
        return self.size - 1


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
