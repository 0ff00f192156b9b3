"""Tests of the figure masks of de-duplication (pipeline._dedup_figures)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from pipeline import _dedup_figures as figures

ROOT = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("WIREWATCH_EVAL_DIR", ROOT / ".." / "shared" / "eval"))

AUCTION = (
    "The Treasury said it will sell 9,750 mln dlrs of two-year notes on Tuesday, "
    "raising 1.5 billion dlrs of new cash. The notes mature March 31, 1989, and "
    "bids are due at 1330 EST (1830 GMT) at the Federal Reserve Bank of New York. "
    "Reuter"
)


def _reference_masks(text: str) -> tuple[int, ...]:
    """The figure masks as the module docstring defines them, computed the plain way."""
    raw = re.findall(r"[0-9](?:[0-9.,/\-]*[0-9])?|[A-Za-z]+", text)
    kept = [(token, token.lower()) for token in raw if token.lower() not in ("reuter", "reuters")]
    tokens = [lowered for _, lowered in kept]
    words = {k.decode(): v.decode() for k, v in figures._FIGURE_WORDS.items()}
    masks = [0, 0, 0, 0, 0, 0]
    previous_figure: tuple[int, str] | None = None

    def item(kind: int, *parts: str) -> None:
        masks[kind] |= 1 << (zlib.crc32(" ".join(parts).encode()) % 128)

    def roll_item(kind: int, *parts: str) -> None:
        mixed = zlib.crc32(" ".join(parts).encode()) * 0x9E3779B1 % 2**32
        masks[kind] |= 1 << (mixed * figures.ROLL_BITS // 2**32)

    for i, (original, token) in enumerate(kept):
        previous = tokens[i - 1] if i else None
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token[0].isdigit():
            figure = token.replace(",", "")
        elif token in words:
            figure = words[token]
        elif token in ("may", "mar") and (
            (original[0].isupper() and original[1:].islower())
            or (previous or "")[:1].isdigit()
            or (following or "")[:1].isdigit()
        ):
            figure = token
        else:
            continue
        before = words.get(previous, previous) if previous else None
        after = words.get(following, following) if following else None
        item(3, figure)
        if before:
            item(0, before, figure)
        if after:
            item(1, figure, after)
        if before and after:
            item(2, before, figure, after)
            # The second of a pair: its row (the two tokens before the figure
            # that led it, not both numbers) with that figure, and with itself.
            lead_at = previous_figure[0] if previous_figure else -1
            row = [words.get(t, t) for t in tokens[lead_at - 2 : lead_at]] if lead_at >= 2 else []
            if (
                row
                and i - lead_at <= figures.PAIR_REACH
                and _shape(figure) == _shape(previous_figure[1])
                and not all(t[0].isdigit() for t in tokens[lead_at - 2 : lead_at])
            ):
                roll_item(4, "lead", *row, previous_figure[1])
                roll_item(5, "second", *row, figure)
        previous_figure = (i, figure)
    return tuple(masks)


def _shape(figure: str) -> int:
    if not figure[0].isdigit():
        return -1
    return len(figure.rpartition(".")[2]) if "." in figure else 0


EDGE_CASES = [
    "",
    "no figures at all here",
    "Reuter",
    "6 Reuter",
    "REUTERS 5 reuter",
    "six ships were waiting",
    "ships were waiting, six",
    "in May 1987 and it may be five - Reuter",
    "it may 5, MAY 7 or mar 3; Mar. 3 is a MAR",
    "mid-1987 5,000 tonnes, u.s. one-third, 10-for-1, 1987/88, 1..5, 1,-5, -5-",
    "a5b6 5th 1st A320 $5.5 mln (12.5 pct) 1,2,3",
    "caf\u00e9 \u00e9t\u00e9 5 \u201cquoted\u201d 6 \u2014 seven",
    "SEPT 30 Sept. 30 sept 30 September 30",
    "x" * 300 + " 5 " + "y" * 300,
    "1" * 300 + " tonnes",
    AUCTION,
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_masks_are_those_of_the_plain_definition(text: str) -> None:
    assert figures.figure_masks(text) == _reference_masks(text)


def test_masks_are_those_of_the_plain_definition_on_reuters() -> None:
    path = EVAL / "reuters21578" / "reuters21578.jsonl"
    if not path.exists():
        pytest.skip("no Reuters-21578 file")
    with path.open(encoding="utf-8") as handle:
        bodies = [json.loads(line).get("body") or "" for _, line in zip(range(300), handle)]
    for body in bodies:
        assert figures.figure_masks(body) == _reference_masks(body)


def _replaced(first: str, second: str, tolerance: float = 0.1) -> bool:
    theirs = np.array([figures.to_words(figures.figure_masks(first))], np.uint64)
    mine = np.array(figures.to_words(figures.figure_masks(second)), np.uint64)
    return bool(figures.too_many_replaced(theirs, mine, tolerance)[0])


def test_a_replaced_figure_is_counted_an_added_or_cut_one_is_not() -> None:
    assert _replaced(AUCTION, AUCTION.replace("9,750", "8,250"))
    assert not _replaced(AUCTION, AUCTION + " The bank will also sell 250 mln dlrs of bills.")
    assert not _replaced(AUCTION, AUCTION.replace(", raising 1.5 billion dlrs of new cash", ""))
    assert not _replaced(AUCTION, AUCTION.replace("sell 9,750", "offer 9,750"))  # an edit beside


# A monthly estimate and the next month's: this month's figures move into the
# "last month" column.
ESTIMATE = (
    "The Agriculture Department forecast Ruritania's 1986/87 barley crop at {0} mln "
    "tonnes, vs {1} mln tonnes last month. It put 1985/86 output at 4.10 mln tonnes, "
    "vs 4.10 mln last month. Barley exports in 1986/87 are forecast at {2} mln "
    "tonnes, vs {3} mln tonnes last month, and imports at 0.20 mln tonnes, vs 0.20 "
    "mln tonnes last month."
)
THIS_MONTH = ESTIMATE.format("6.30", "6.10", "2.50", "2.40")


def _rolled(first: str, second: str) -> int:
    return figures.rolled(figures.roll_items(second), figures.figure_words(first))


def test_figures_rolled_into_the_previous_column_are_counted() -> None:
    next_month = ESTIMATE.format("6.45", "6.30", "2.50", "2.50")
    assert _rolled(THIS_MONTH, next_month) == 2
    # Few figures look replaced: only the rolls tell the two reports apart.
    assert not _replaced(THIS_MONTH, next_month)


def test_a_resend_or_a_corrected_figure_rolls_nothing() -> None:
    assert _rolled(THIS_MONTH, THIS_MONTH) == 0
    assert _rolled(THIS_MONTH, THIS_MONTH.replace("2.40", "2.45")) == 0
    assert _rolled(THIS_MONTH, THIS_MONTH.replace(" last month", " in March")) == 0
    # The row "crop at" led with 6.30 there, not with 6.10.
    assert _rolled(THIS_MONTH, "Barley crop at 6.30, vs 6.10.") == 0


# A rate table whose every row reads "N pct M pct": the words beside a figure
# are the same in each row, only the row's label ("175-190 days") tells rows apart.
RATES = (
    "The bank adjusted the rates on its discount notes as follows:\n"
    "MATURITY NEW RATE OLD RATE\n"
    "30-174 days {0} pct {1} pct\n"
    "175-190 days {2} pct {3} pct\n"
    "191-270 days 5.00 pct 5.00 pct\n"
)


def test_a_rate_table_refiled_rolls_its_new_rates_into_the_old_column() -> None:
    today = RATES.format("5.85", "5.82", "5.92", "5.85")
    tomorrow = RATES.format("5.88", "5.85", "5.92", "5.92")
    # 5.85 was a new rate (a lead) in one row and an old one (a second) in the
    # other: by the words beside it alone it did not roll.
    assert _rolled(today, tomorrow) == 2
    assert _rolled(today, today) == 0
    assert _rolled(today, RATES.format("5.85", "5.82", "5.92", "5.86")) == 0  # a corrected rate


def test_a_row_of_two_numbers_gives_no_roll_items() -> None:
    # Pairs: 1,686.11 -> 1,663.69 in the row "produc 1,682.31"; 1,663.69 ->
    # 1,663.70 in the row "1,682.31 1,686.11", two numbers, so no row; the
    # first pair has no two tokens before it.
    items = figures.roll_items("Produc 1,682.31 1,686.11 1,663.69 1,663.70 x")
    assert items[:, 0].tolist() == [zlib.crc32(b"1663.69")]


def test_entries_without_roll_masks_roll_nothing() -> None:
    # Words of an entry written before the roll masks existed: the compared kinds only.
    old = figures.to_words(figures.figure_masks(THIS_MONTH))[: figures.COMPARED_WORDS]
    unpacked = figures.unpack(figures.pack(np.array(old, np.uint64)))
    assert unpacked[figures.COMPARED_WORDS :].sum() == 0
    next_month = figures.roll_items(ESTIMATE.format("6.45", "6.30", "2.50", "2.50"))
    assert figures.rolled(next_month, np.array(old, np.uint64)) == 0
    assert figures.rolled(next_month, unpacked) == 0


def test_may_and_mar_are_months_as_names_or_next_to_a_number() -> None:
    value = 3
    assert figures.figure_masks("it may rain")[value] == 0
    assert figures.figure_masks("the MAR index")[value] == 0
    assert figures.figure_masks("due in May")[value] != 0
    assert figures.figure_masks("MAR 3 delivery")[value] != 0
    assert figures.figure_masks("due 3 mar")[value] != 0


def test_a_number_word_and_its_digits_are_the_same_figure() -> None:
    assert figures.figure_masks("about six ships waited") == figures.figure_masks(
        "about 6 ships waited"
    )
    assert figures.figure_masks("sold 5,000 tonnes") == figures.figure_masks("sold 5000 tonnes")


def test_masks_do_not_depend_on_the_process() -> None:
    # Stored masks are compared with masks computed after a restart: no salted hash().
    code = (
        "from pipeline._dedup_figures import figure_masks; import sys; "
        "print(figure_masks(sys.argv[1]))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code, AUCTION],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        ).stdout
        for seed in ("1", "2")
    }
    assert seen == {f"{figures.figure_masks(AUCTION)}\n"}


def test_a_digit_of_another_script_is_a_token_but_no_figure() -> None:
    # As \d in the token pattern: "\u0663" (Arabic-Indic three) is a neighbour.
    left, right, _, value, _, _ = figures.figure_masks("sold 5 \u0663 tonnes")
    assert (left, value) == figures.figure_masks("sold 5 x tonnes")[::3]
    assert right != figures.figure_masks("sold 5 tonnes")[1]


def test_masks_pack_straight_as_their_words_do() -> None:
    rng = np.random.default_rng(4)
    full, roll_full = (1 << 128) - 1, (1 << figures.ROLL_BITS) - 1
    cases = [(0,) * 6, (full,) * 4 + (roll_full,) * 2, (1, 1 << 127, 0, 1 << 64, 1 << 255, 1)]
    for bits in (1, 5, 20, 60, 128):  # past about 60 set bits the raw 64 bytes are shorter
        for _ in range(50):
            cases.append(
                tuple(
                    sum(1 << int(b) for b in rng.choice(size, rng.integers(0, bits), replace=False))
                    for size in (128,) * figures.KINDS + (figures.ROLL_BITS,) * figures.ROLL_KINDS
                )
            )
    cases.append(figures.figure_masks(AUCTION))
    lengths = set()
    for masks in cases:
        packed = figures.pack_masks(masks)
        assert packed == figures.pack(np.array(figures.to_words(masks), np.uint64))
        assert figures.unpack(packed).tolist() == figures.to_words(masks)
        lengths.add((packed[0] == 0xFF, len(packed) > 65 and packed[-65] == 0xFF))
    assert {(True, True), (False, False)} <= lengths  # both forms met for both parts
