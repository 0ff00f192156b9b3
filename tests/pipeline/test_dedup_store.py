"""Tests for pipeline/_dedup_store.py: posting keys of one article in plain Python."""

from __future__ import annotations

import numpy as np

from pipeline._dedup_store import salted_key, salted_key_list, salted_keys


def test_salted_key_list_equals_the_array_and_single_key_forms() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 1 << 32, 200, dtype=np.uint64).astype(np.uint32)
    salts = rng.integers(0, 64, 200, dtype=np.uint64)
    listed = salted_key_list(values.tolist(), salts.tolist())
    assert listed == salted_keys(values, salts).tolist()
    assert listed == [salted_key(v, s) for v, s in zip(values.tolist(), salts.tolist())]
