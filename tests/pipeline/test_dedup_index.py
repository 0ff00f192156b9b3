"""Tests for pipeline/_dedup_index.py: the index's keys, stored weights and exact-copy check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from pipeline import _dedup_index as dedup_index
from pipeline._dedup_index import DedupIndex, IndexEntry


def test_same_text_needs_the_low_fingerprint_bits_and_an_equal_minhash() -> None:
    index = DedupIndex()
    minhash = np.arange(32, dtype=np.uint16)
    other = minhash.copy()
    other[0] = 999
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n, (fingerprint, stored) in enumerate(
        [(0xAAAA_0000_1234_5678, minhash), (0xBBBB_0000_1234_5678, other), (0x1, minhash)]
    ):
        entry = IndexEntry(f"r{n}", f"r{n}", f"{fingerprint:016x}", start, 40)
        index.restore(replace(entry, minhash=tuple(stored.tolist())))
    same = dedup_index.same_text(index._columns, np.arange(3), 0xFFFF_0000_1234_5678, minhash)
    assert same.tolist() == [True, False, False]


def test_row_keys_of_one_article_equal_the_column_keys_of_the_rebuild() -> None:
    rng = np.random.default_rng(5)
    minhash = rng.integers(0, 1 << 16, size=(20, 32)).astype(np.uint16)
    terms = rng.integers(1, 1 << 32, size=(20, 16), dtype=np.uint64).astype(np.uint32)
    terms[3, 5:] = 0  # an article with five terms
    columns = np.concatenate((dedup_index.band_keys(minhash), dedup_index.term_keys(terms)), axis=1)
    for row in range(20):
        expected = [key for key in columns[row].tolist() if key]
        keys = dedup_index.row_keys(40, minhash[row].tolist(), terms[row].tolist())
        assert keys == expected
    # No shingles (an empty text): no band keys, only the terms'.
    assert dedup_index.row_keys(0, minhash[3].tolist(), terms[3].tolist()) == [
        key for key in columns[3, 16:].tolist() if key
    ]


def test_quantised_steps_in_python_equal_the_array_rounding() -> None:
    # Halves round to even in both (np.rint and round); float32 inputs as stored.
    weights = np.concatenate(
        (
            np.array([0.5 / 255, 1.5 / 255, 2.5 / 255, 0.0, 1.0], np.float32),
            np.random.default_rng(6).random(200, np.float32),
        )
    )
    array_rounding = np.clip(np.rint(weights.astype(np.float64) * 255), 0, 255).astype(np.uint8)
    assert dedup_index.quantised_steps(weights.tolist()) == array_rounding.tolist()


def test_quantised_steps_clamp_weights_outside_zero_to_one() -> None:
    # An article's weights never leave 0..1 (the unclamped path); a
    # hand-made or damaged entry may, and is stored at the nearest step.
    assert dedup_index.quantised_steps([1.5, -0.2, 0.5, 1.0]) == [255, 0, 128, 255]
    assert dedup_index.quantised_steps([]) == []
