"""``--half even|odd``: one half of a development file for error analysis, the other held out.

The shared data sets ship a development file only, so rules and thresholds are
looked for on one half and reported on both. Every ``wirewatch eval`` command
numbers lines the same way: from 0, as read, blank lines included; the even
half is lines 0, 2, 4...
"""

from __future__ import annotations

import argparse
import hashlib


def add_half_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--half even|odd`` to an eval command."""
    parser.add_argument(
        "--half",
        choices=("even", "odd"),
        default=None,
        help="only the records on even or odd line numbers (from 0); the other half is held out",
    )


def in_half(line_number: int, half: str | None) -> bool:
    """Whether the record on 0-based ``line_number`` belongs to ``half`` (None: every record)."""
    return half is None or (line_number % 2 == 0) == (half == "even")


def label_half(label: str) -> str:
    """``"dev"`` or ``"test"``: the half a story label (a GVA incident id) belongs to.

    By the label's MD5, so every article of one story lands in the same half
    (``build_dedup_pairs`` and ``wirewatch eval story-stream --half``).

    Example:
        >>> label_half("101725"), label_half("101301")
        ('test', 'dev')
    """
    return "dev" if hashlib.md5(label.encode()).digest()[0] % 2 == 0 else "test"
