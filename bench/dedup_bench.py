"""Throughput and memory of the de-duplication index; prints a markdown table.

Usage: ``python -m bench.dedup_bench [--indexed 100000] [--memory-sizes 100000,1000000]``

- Throughput: the index is filled with ``--indexed`` entries (restored, as a
  worker does after a restart) made from real Reuters-21578 articles, each
  copy with a fresh id, fingerprint and MinHash (so copies do not match each
  other as duplicates) but its real story terms (so story lookups meet real
  term frequencies). Then :func:`pipeline.dedup.deduplicate` runs on
  ``--articles`` Reuters articles as they are and at seed length (four
  articles joined, about the 3 KB of the seed article), one core, timed
  with ``time.perf_counter``.
- Memory: ``DedupIndex.memory_bytes()`` and the bytes tracemalloc sees
  allocated while the index is built, per indexed entry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evaluate.build_dedup_pairs import eval_dir
from pipeline.dedup import DedupIndex, IndexEntry, deduplicate
from pipeline.records import Article

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _articles(folder: Path, limit: int) -> list[Article]:
    articles = []
    with (folder / "reuters21578" / "reuters21578.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("body"):
                articles.append(
                    Article(
                        id=f"r{row['id']}",
                        source="reuters",
                        headline=row.get("title") or "",
                        body=row["body"],
                        published_at=_NOW,
                        received_at=_NOW,
                    )
                )
            if len(articles) >= limit:
                break
    return articles


def _templates(articles: list[Article]) -> list[IndexEntry]:
    entries = []
    for article in articles:
        entry = deduplicate(DedupIndex(), article).entry
        if entry is not None:
            entries.append(entry)
    return entries


def _fill(index: DedupIndex, templates: list[IndexEntry], count: int, rng: random.Random) -> None:
    step = timedelta(hours=60) / max(count, 1)  # spread over most of the window
    for n in range(count):
        template = templates[n % len(templates)]
        index.restore(
            replace(
                template,
                article_id=f"x{n:07d}",
                story_id=f"x{n:07d}",
                fingerprint=f"{rng.getrandbits(64):016x}",
                published_at=_NOW - step * (count - n),
                minhash=tuple(rng.getrandbits(16) for _ in template.minhash),
            )
        )


def _throughput(index: DedupIndex, articles: list[Article]) -> str:
    # Wall-clock rate, and the rate per CPU second of this process (what one
    # whole core would give when the machine is shared).
    started, cpu = time.perf_counter(), time.process_time()
    for article in articles:
        deduplicate(index, article)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    return (
        f"{len(articles) / wall:,.0f} articles/s wall, {len(articles) / used:,.0f} per CPU second"
    )


def _seed_length(articles: list[Article]) -> list[Article]:
    joined = []
    for i in range(0, len(articles) - 3, 4):
        group = articles[i : i + 4]
        joined.append(
            replace(group[0], id=f"{group[0].id}+4", body="\n".join(a.body for a in group))
        )
    return joined


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--indexed", type=int, default=100_000, help="entries indexed for throughput"
    )
    parser.add_argument("--articles", type=int, default=2000, help="articles timed per row")
    parser.add_argument(
        "--memory-sizes",
        default="100000,1000000",
        help="comma-separated index sizes for the memory rows",
    )
    parser.add_argument(
        "--tracemalloc-max",
        type=int,
        default=100_000,
        help="also trace allocations up to this size",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    folder = eval_dir()
    articles = _articles(folder, 12_000)
    templates = _templates(articles[:10_000])
    probe = articles[10_000 : 10_000 + args.articles]
    rows = []

    index = DedupIndex()
    _fill(index, templates, args.indexed, rng)
    indexed = f"{args.indexed:,} indexed"
    rows.append(("throughput, Reuters-length articles", indexed, _throughput(index, probe)))
    seed_probe = _seed_length(articles[: 4 * args.articles])
    length = sum(len(a.body) for a in seed_probe) // max(len(seed_probe), 1)
    rows.append(
        (
            f"throughput, seed-length articles ({length:,} chars)",
            indexed,
            _throughput(index, seed_probe),
        )
    )
    del index

    for size in (int(s) for s in args.memory_sizes.split(",") if s):
        # tracemalloc slows the fill several times over; it confirmed
        # memory_bytes() within 1% at 100k and 1M, so it runs only up to a size.
        traced = size <= args.tracemalloc_max
        if traced:
            tracemalloc.start()
        index = DedupIndex()
        _fill(index, templates, size, rng)
        per_entry = f"{index.memory_bytes() / len(index):,.0f} bytes/article"
        rows.append(("memory, memory_bytes()", f"{size:,} indexed", per_entry))
        if traced:
            allocated = tracemalloc.get_traced_memory()[0] / len(index)
            tracemalloc.stop()
            rows.append(
                ("memory, tracemalloc", f"{size:,} indexed", f"{allocated:,.0f} bytes/article")
            )
        del index

    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores")
    print("| measurement | index | result |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
