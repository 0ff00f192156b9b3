"""``wirewatch eval casualties FILE [--field killed|injured]``: article-level toll accuracy.

Reads any JSONL with ``text`` and integer ``killed`` / ``injured`` labels
(ACLED, MUC-4, GVA formats), runs :func:`pipeline.casualties.extract_casualties`
on each row's text (``text_mixed_case`` when a row has it, with ``title``
prepended as the headline when the text does not already start with it) and
compares the article-level toll of ``--field`` with the label. Rows whose
label is null are skipped and counted.

The predicted count is the toll's ``low`` (``high`` for ``up_to`` /
``fewer_than``, whose ``low`` is 1 by convention), and 0 with no toll.

``--half even|odd`` keeps one half of the lines (see :mod:`evaluate._half`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaluate._half import add_half_option
from evaluate._jsonl import read_records
from pipeline.casualties import extract_casualties
from pipeline.records import HEADLINE_SEPARATOR, CasualtyReport


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the casualty evaluation's arguments to ``parser``."""
    parser.add_argument(
        "file", type=Path, metavar="FILE", help="JSONL with text and killed/injured labels"
    )
    parser.add_argument(
        "--field", choices=("killed", "injured"), default="killed", help="label to score"
    )
    parser.add_argument(
        "--errors", type=int, default=0, metavar="N", help="also print N mismatched rows"
    )
    add_half_option(parser)


def run(args: argparse.Namespace) -> int:
    """Score the casualty stage on ``args.file``; the last stdout line is one JSON object."""
    field: str = args.field
    n = exact = positives = exact_positive = predicted_positive = true_positive = skipped = 0
    mismatches: list[tuple[str, int, int]] = []
    for row in read_records(args.file, {"text": str}, half=args.half):
        label = row.get(field)
        if not isinstance(label, int) or isinstance(label, bool):
            skipped += 1
            continue
        predicted = predicted_count(extract_casualties(row_text(row)), field)
        n += 1
        exact += predicted == label
        positives += label > 0
        exact_positive += label > 0 and predicted == label
        predicted_positive += predicted > 0
        true_positive += predicted > 0 and label > 0
        if predicted != label and len(mismatches) < args.errors:
            mismatches.append((str(row.get("id", n)), label, predicted))
    result = {
        "task": "casualties",
        "field": field,
        "n": n,
        "exact": _ratio(exact, n),
        "exact_on_positive": _ratio(exact_positive, positives),
        "detect_precision": _ratio(true_positive, predicted_positive),
        "detect_recall": _ratio(true_positive, positives),
    }
    table = Table(title=f"casualties: {args.file.name} ({field})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in (
        *result.items(),
        ("positives", positives),
        ("predicted positive", predicted_positive),
        ("skipped (null label)", skipped),
    ):
        if key not in ("task", "field"):
            table.add_row(key, str(value))
    console = Console()
    console.print(table)
    for row_id, label, predicted in mismatches:
        console.print(f"{row_id}: label {label}, predicted {predicted}")
    print(json.dumps(result))
    return 0


def row_text(row: dict[str, object]) -> str:
    """The article text of one evaluation row, as the agent would build it."""
    mixed = row.get("text_mixed_case")
    text = mixed if isinstance(mixed, str) and mixed else str(row.get("text") or "")
    title = row.get("title")
    if isinstance(title, str) and title and not text.startswith(title):
        return f"{title}{HEADLINE_SEPARATOR}{text}"
    return text


def predicted_count(report: CasualtyReport, field: str) -> int:
    """The point count the evaluation compares with a label."""
    toll = report.toll(field)
    if toll is None:
        return 0
    if toll.qualifier in ("up_to", "fewer_than") and toll.high is not None:
        return toll.high
    return toll.low


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
