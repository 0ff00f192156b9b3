"""The compiled loops give the features of the plain code (pipeline._dedup_kernels)."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest

from pipeline import _dedup_figures as figures
from pipeline import _dedup_index as index_module
from pipeline import _dedup_kernels as kernels
from pipeline import _dedup_store as store
from pipeline import _dedup_text as text
from pipeline import dedup
from pipeline._dedup_store import Columns
from pipeline._dedup_story_terms import STORY_TERMS

pytestmark = pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")

TRICKY = [
    "",
    " ",
    "x",
    "Reuter",
    "REUTERS 5 reuters",
    "profit rose 5 pct to 1,234,567 dlrs from 987,654.3 dlrs\nReuter",
    "1,000,000 dlrs, 2.5 pct. 1.5. 2, 3/4 and -7 or 1990-91.",
    "a1b2 3c mid-1987 12-",
    "May 3, MAY 4, may be, mar 5, Mar 6, MAr, the market may 7 rise",
    "one two Twelve nil zero eleven Sept. sept October oct",
    "Septembers Septemberrrrrrr abcdefghijklm abcdefghijkl twelvetwelve",
    "café 12 €5 naïve 3 ½ 7\u00a08",
    "\uff11\uff12 May \u0663 and 4",  # digits of other scripts: the plain code path
    "zero\x1c5\t6\r\n7",
    "By Jane Doe\nLONDON (Reuters) - Oil rose 2% in May.\nReuter\n",
    "WASHINGTON (AP) - x (UPI y(AFP) &amp; <b>By</b> the (Reuter",
    "B",
    "(",
    "x (AP",
    "ends By",
    "&#66;y Jane Doe\nPARIS (AFP) - <i>it</i> rose",
    # rows of pairs: none before the second token, none of two numbers, number words
    "5.1 vs 5.2, 1 2 3.5 vs 3.4 and 1-2 days 4.5 pct 4.4 pct; at one 2.5 vs 2.4",
    "10 20 30 40 50, x 10 20, six May 3 vs May 4",
    # pairs of figures written alike, the roll items' inputs
    "Barley crop 6.30 mln tonnes, vs 6.10 mln last month; 1,234.5 vs 1,2,3.4,5 vs 7.0, 8",
    "six vs five tonnes, 12 vs twelve dlrs, May 3 vs May 4, 1.5 one 2.5 two 3.5 x",
    "Shr 1.20 dlrs vs 95 cts Net 5,000 vs 4,000 Revs 1.2 mln vs 1.1 mln Reuter",
]


def _random_texts(count: int) -> list[str]:
    rng = random.Random(7)
    # a separator "|": the pieces include spaces and punctuation
    pieces = "May|may|mar|MAR|one|Twelve|reuter|Reuters|dlrs|the|1|23|4,5|6.7|8/9|0-1|.|,|-|/| | |\n|é|€|a|Z|2.|,3"
    pieces = pieces.split("|")
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_crc32_equals_zlib() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 300):
        data = rng.integers(0, 256, size, dtype=np.uint8)
        assert kernels.crc32(data, 0, kernels.CRC_TABLE) == zlib.crc32(data.tobytes())
        assert kernels.crc32(data, 12345, kernels.CRC_TABLE) == zlib.crc32(data.tobytes(), 12345)


@pytest.mark.parametrize("sample", TRICKY + _random_texts(2000))
def test_figure_words_equal_the_plain_masks(sample: str) -> None:
    masks, items = figures.plain_figures(sample)
    words, rolls = figures.figures_and_rolls(sample)
    assert words.tolist() == figures.to_words(masks)
    assert rolls.tolist() == [list(item) for item in items]
    assert figures.figure_masks(sample) == figures.plain_figure_masks(sample)


def test_the_tricky_tables_set_roll_items() -> None:
    # The equality above would hold vacuously if no text set a roll bit.
    assert all(figures.roll_items(sample).size for sample in TRICKY[-3:])


def test_figure_words_of_a_text_with_figures_set_bits() -> None:
    words = figures.figure_words("sold 9,750 mln dlrs of notes on May 31")
    assert words.dtype == np.uint64 and words.shape == (figures.WORDS,)
    assert all(int(np.bitwise_count(words[2 * kind : 2 * kind + 2]).sum()) for kind in range(4))


@pytest.mark.parametrize(
    ("bits", "roll_bits"),
    [(0, 0), (1, 0), (20, 0), (59, 0), (60, 0), (200, 0), (512, 0), (0, 1), (20, 63), (60, 64)]
    + [(20, 200), (512, 512)],
)
def test_packed_words_equal_the_plain_packing(bits: int, roll_bits: int) -> None:
    rng = random.Random(bits * 1000 + roll_bits)
    masks = [0] * figures.ALL_KINDS
    for bit in rng.sample(range(512), bits):
        masks[bit // 128] |= 1 << (bit % 128)
    for bit in rng.sample(range(512), roll_bits):
        masks[figures.KINDS + bit // 256] |= 1 << (bit % 256)
    words = np.array(figures.to_words(tuple(masks)), np.uint64)
    packed = figures.pack(words)
    assert packed == figures.pack_masks(tuple(masks))
    assert figures.unpack(packed).tolist() == words.tolist()


@pytest.mark.parametrize(
    "sample",
    [
        "",
        "one",
        "a b c d e",
        "a b c d e f",
        " a  b  c ",
        "a a a a a a a a a a a a",
        "café über 12 naïve ½",
    ]
    + [text.normalise(sample) for sample in TRICKY + _random_texts(300)],
)
def test_shingles_and_minhash_equal_the_plain_functions(sample: str) -> None:
    count, minima = text.shingles_and_minhash(sample)
    expected = text.shingle_hashes(sample)
    assert count == expected.size
    assert minima.dtype == np.uint16 and minima.tolist() == text.minhash(expected).tolist()


def _plain(monkeypatch: pytest.MonkeyPatch, function, *args, **options):  # type: ignore[no-untyped-def]
    """``function(*args, **options)`` with the compiled loops switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(kernels, "COMPILED", False)
        return function(*args, **options)


def test_postings_lookup_equals_the_plain_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 1 << 32, 5000, dtype=np.uint64).astype(np.uint32)
    keys[:2000] = keys[0]  # one crowded key
    table = store.Postings(keys, np.arange(keys.size, dtype=np.uint32), keep_newest=16)
    for row in range(keys.size, keys.size + 300):  # pending postings, some on indexed keys
        table.add([int(keys[row % 50]), int(rng.integers(0, 1 << 32))], row)
    for sample in range(40):
        wanted = [int(key) for key in rng.choice(keys, 24)] + [sample]
        for per_key in (1, 4, 16):
            found = table.lookup(wanted, per_key=per_key)
            expected = _plain(monkeypatch, table.lookup, wanted, per_key=per_key)
            assert found.dtype == expected.dtype and found.tolist() == expected.tolist()
    assert table.lookup([], per_key=16).tolist() == []


def _story_columns(rng: np.random.Generator, size: int) -> Columns:
    columns = Columns(index_module._SPECS)
    for _ in range(size):
        terms = rng.integers(1, 300, STORY_TERMS, dtype=np.uint32)
        columns.append(
            {
                "minhash": rng.integers(0, 4, text.MINHASH_SIZE, dtype=np.uint16),
                "terms": terms,
                "weights": rng.integers(0, 256, STORY_TERMS, dtype=np.uint8),
            }
        )
    return columns


def test_equal_minima_and_cosine_equal_the_plain_arithmetic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(9)
    columns = _story_columns(rng, 400)
    rows = np.sort(rng.choice(400, 150, replace=False)).astype(np.uint32)
    probe = rng.integers(0, 4, text.MINHASH_SIZE, dtype=np.uint16)
    found = dedup._equal_minima(columns["minhash"], rows, probe)
    expected = _plain(monkeypatch, dedup._equal_minima, columns["minhash"], rows, probe)
    assert found.dtype == expected.dtype and found.tolist() == expected.tolist()
    # terms sharing low bits (256 + 1, 4096 + 1) take both the table and the search path
    for ours in ([1, 257, 4097, 55, 2], list(range(1, STORY_TERMS + 1)), [7]):
        terms = np.array(ours, np.uint32)
        weights = (rng.random(terms.size) / np.sqrt(terms.size)).astype(np.float32)
        cosine = dedup._cosine(columns, rows, terms, weights)
        plain = _plain(monkeypatch, dedup._cosine, columns, rows, terms, weights)
        assert cosine.dtype == plain.dtype == np.float32
        assert cosine.tobytes() == plain.tobytes()  # the same float32 sums, bit for bit


def test_posting_keys_equal_the_plain_row_keys() -> None:
    rng = np.random.default_rng(11)
    for shingles in (0, 1, 300):
        for used in (0, 3, 8, STORY_TERMS):
            minhash = rng.integers(0, 1 << 16, text.MINHASH_SIZE, dtype=np.uint16)
            terms = np.zeros(STORY_TERMS, np.uint32)
            terms[:used] = rng.integers(0, 1 << 32, used, dtype=np.uint64)
            expected = index_module.row_keys(shingles, minhash.tolist(), terms.tolist())
            assert index_module.row_key_list(shingles, minhash, terms) == expected


SEPARATORS = [" ", "  ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", ". ", ", "]


def _line_texts(count: int) -> list[str]:
    rng = random.Random(13)
    lines = [
        "A long enough first paragraph of text here.",
        "a LONG enough first paragraph of TEXT here.  ",
        "  A long enough first paragraph of text here.",
        "short",
        "Reuter",
        "AP",
        "(AFP) -- word, word!",
    ]
    return [
        "".join(rng.choice(lines + SEPARATORS) for _ in range(rng.randint(0, 14)))
        for _ in range(count)
    ]


@pytest.mark.parametrize("sample", TRICKY + _line_texts(1500))
def test_normal_form_and_repeated_paragraphs_equal_the_plain_code(
    monkeypatch: pytest.MonkeyPatch, sample: str
) -> None:
    assert text.normalise(sample) == _plain(monkeypatch, text.normalise, sample)
    removed = text.remove_repeated_paragraphs(sample)
    assert removed == _plain(monkeypatch, text.remove_repeated_paragraphs, sample)


def test_rows_since_keep_the_rows_in_the_window_in_order() -> None:
    rng = np.random.default_rng(17)
    columns = _story_columns(rng, 300)
    published = rng.integers(-1000, 1000, 300).astype(np.int32)
    rows = np.sort(rng.choice(300, 120, replace=False)).astype(np.uint32)
    for since in (-2000, -3, 0, 999, 1000):
        kept, _ = kernels.rows_since(
            rows, published, since, columns["minhash"], columns["terms"], columns["weights"]
        )
        assert kept.dtype == rows.dtype
        assert kept.tolist() == rows[published[rows] >= since].tolist()


@pytest.mark.parametrize("sample", TRICKY + _line_texts(300))
def test_text_cues_equal_the_plain_checks(sample: str) -> None:
    assert text._cues(sample) == text._plain_cues(sample)


@pytest.mark.parametrize("width", [1, 5, 8, 12, 16, 17, 24, 40, 127])
def test_pairwise_sum_adds_as_numpy_reduces_a_row(width: int) -> None:
    rng = np.random.default_rng(width)
    rows = (rng.random((200, width)) * rng.choice([1e-3, 1.0, 1e3], (200, width))).astype(
        np.float32
    )
    expected = np.add.reduce(rows, axis=1)
    found = np.array([kernels._pairwise_sum(row) for row in rows], np.float32)
    assert found.tobytes() == expected.tobytes()
