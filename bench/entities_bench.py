"""Throughput of the entity stage on Reuters-21578 articles, one process on one core.

Prints a markdown table: the model alone (``nlp.pipe``) and the whole stage
function (``tag_entities_batch``: model + rules + normalisation + geotagging),
in tokens/s and articles/s. Tokens are the pipeline tokenizer's tokens.

Usage:
    python -m bench.entities_bench [--articles 1000] [--batch 64] [--file PATH]
"""

from __future__ import annotations

import os

# One core: BLAS/OpenMP threads must be pinned before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = (
    Path(os.environ.get("WIREWATCH_EVAL_DIR", ROOT / ".." / "shared" / "eval"))
    / "reuters21578"
    / "reuters21578.jsonl"
)


def _articles(path: Path, limit: int) -> list:
    from pipeline.records import Article

    now = datetime.now(UTC)
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            body = (row.get("body") or "").strip()
            if body:
                out.append(
                    Article(
                        id=str(row["id"]),
                        source="reuters",
                        headline=(row.get("title") or "").strip(),
                        body=body,
                        published_at=now,
                        received_at=now,
                    )
                )
            if len(out) >= limit:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from pipeline import entities

    started = time.perf_counter()
    entities.warm_up()
    load_seconds = time.perf_counter() - started
    articles = _articles(args.file, args.articles)
    nlp = entities._nlp()
    texts = [a.text for a in articles]
    tokens = sum(len(nlp.make_doc(t)) for t in texts)
    entities.tag_entities_batch(articles[: args.batch])  # warm caches

    def best(fn) -> float:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    model_s = best(lambda: list(nlp.pipe(texts, batch_size=args.batch)))
    stage_s = best(
        lambda: [
            entities.tag_entities_batch(articles[i : i + args.batch])
            for i in range(0, len(articles), args.batch)
        ]
    )
    print(
        f"{len(articles)} Reuters articles, {tokens:,} tokens ({tokens / len(articles):.0f}/article), "
        f"batch {args.batch}, one core; model + gazetteer load {load_seconds:.1f} s\n"
    )
    print("| measured | tokens/s | articles/s | ms/article |")
    print("|---|---:|---:|---:|")
    for name, seconds in (
        ("model only (nlp.pipe)", model_s),
        ("stage: tag_entities_batch", stage_s),
    ):
        print(
            f"| {name} | {tokens / seconds:,.0f} | {len(articles) / seconds:,.1f} | {1000 * seconds / len(articles):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
