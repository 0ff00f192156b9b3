"""``wirewatch eval geo FILE``: how often the article's most likely country is the labelled one.

FILE is JSONL with ``text`` and ``country`` (a country name such as
"Democratic Republic of Congo", mapped to ISO alpha-2 with the stage's own
gazetteer and pycountry). An optional ``headline`` field is used when present,
and so is an optional ``source`` (the publisher or feed, like ACLED's): the
stage learns each source's usual country from the records before, in file
order and without their labels, as the running stage does from its stream
(see :mod:`pipeline._entities_sources`). ``--ignore-source`` measures without.
The last stdout line is the JSON summary.

``--half even|odd`` keeps one half of the lines (see :mod:`evaluate._half`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from evaluate._half import add_half_option
from evaluate._jsonl import read_records

_BATCH = 64


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the FILE argument and options of ``eval geo``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="JSONL with text and country")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records")
    parser.add_argument(
        "--ignore-source",
        action="store_true",
        help="do not read the records' source field (no source's usual country is learnt)",
    )
    add_half_option(parser)


def run(args: argparse.Namespace) -> int:
    """Geotag every record of ``args.file``, print a table and the JSON summary."""
    from rich.console import Console
    from rich.table import Table

    from pipeline import _entities_gazetteer as gazetteer
    from pipeline.entities import SourceCountries, tag_entities_batch, warm_up
    from pipeline.records import Article

    # Read (and check) the file before the gazetteer takes its seconds to load.
    rows = read_records(args.file, {"text": str, "country": str}, half=args.half, limit=args.limit)
    warm_up()
    now = datetime.now(UTC)
    articles = [
        Article(
            id=str(r.get("id", i)),
            source="" if args.ignore_source else str(r.get("source") or ""),
            headline=r.get("headline") or "",
            body=r["text"],
            published_at=now,
            received_at=now,
        )
        for i, r in enumerate(rows)
    ]
    started = time.perf_counter()
    predicted = []
    by_source = 0
    sources = SourceCountries()
    for i in range(0, len(articles), _BATCH):
        batch = articles[i : i + _BATCH]
        results = tag_entities_batch(batch, sources.homes(batch))
        sources.learn_batch(batch, results)
        predicted += [t.country for t in results]
        by_source += sum(t.country_from == "source" for t in results)
    seconds = time.perf_counter() - started

    labels = [gazetteer.country_code(r["country"]) for r in rows]
    correct = sum(p is not None and p == g for p, g in zip(predicted, labels, strict=True))
    missing = sum(p is None for p in predicted)
    unmapped = sorted({r["country"] for r, g in zip(rows, labels, strict=True) if g is None})
    confusions = Counter((g, p) for p, g in zip(predicted, labels, strict=True) if p != g)
    accuracy = correct / len(rows) if rows else 0.0

    table = Table(title=f"geo on {args.file.name}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in (
        ("records", len(rows)),
        ("correct", correct),
        ("no country predicted", missing),
        ("country decided by the source", by_source),
        ("sources with a usual country", sum(1 for s in sources.sources() if sources.home(s))),
        ("labels not mapped", len(unmapped)),
        ("accuracy", f"{accuracy:.4f}"),
        ("articles/s", f"{len(rows) / seconds:,.1f}"),
    ):
        table.add_row(name, str(value))
    Console().print(table)
    errors = Table(title="most frequent errors (gold -> predicted)")
    errors.add_column("gold")
    errors.add_column("predicted")
    errors.add_column("count", justify="right")
    for (gold, pred), count in confusions.most_common(10):
        errors.add_row(str(gold), str(pred), str(count))
    Console().print(errors)
    if unmapped:
        print("unmapped labels:", ", ".join(unmapped))
    print(json.dumps({"task": "geo", "n": len(rows), "accuracy": round(accuracy, 4)}))
    return 0
