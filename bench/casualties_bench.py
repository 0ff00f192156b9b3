"""Throughput of the casualty stage on one core: articles per second on Reuters-21578.

Usage::

    python -m bench.casualties_bench [--file PATH] [--limit N] [--repeat R]

Reads ``reuters21578.jsonl`` (``title`` + ``body`` as the agent's
``Article.text``), runs :func:`pipeline.casualties.extract_casualties` on each
article in this one process (one core) and prints a markdown table. The best
of ``--repeat`` passes is reported, so a busy machine understates less.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from pipeline.casualties import extract_casualties
from pipeline.records import HEADLINE_SEPARATOR

_DEFAULT = (
    Path(
        os.environ.get(
            "WIREWATCH_EVAL_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
        )
    )
    / "reuters21578"
    / "reuters21578.jsonl"
)


def _texts(path: Path, limit: int | None) -> list[str]:
    texts = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            title, body = row.get("title") or "", row.get("body") or ""
            texts.append(f"{title}{HEADLINE_SEPARATOR}{body}" if title else body)
            if limit and len(texts) >= limit:
                break
    return texts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=_DEFAULT)
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"no Reuters file at {args.file}", file=sys.stderr)
        return 1
    texts = _texts(args.file, args.limit)
    best = float("inf")
    figures = with_figures = 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        reports = [extract_casualties(text) for text in texts]
        best = min(best, time.perf_counter() - started)
        figures = sum(len(r.figures) for r in reports)
        with_figures = sum(1 for r in reports if r.figures)
    chars = sum(map(len, texts))
    print(
        "| articles | mean chars | best of | seconds | articles/s | chars/s"
        " | articles with figures | figures |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(texts)} | {chars / len(texts):.0f} | {args.repeat} | {best:.3f}"
        f" | {len(texts) / best:,.0f}"
        f" | {chars / best:,.0f} | {with_figures} | {figures} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
