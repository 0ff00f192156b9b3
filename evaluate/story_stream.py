"""``wirewatch eval story-stream ARTICLES.jsonl``: story ids over a stream, as analysts get them.

``wirewatch eval stories`` judges two articles on fresh state. The running
stage sees a stream instead: each article against every article of its window,
most of which tell other stories, and a wrong join also pulls in the articles
that later join the wrong story. This command replays labelled articles in time
order through one index (the real stage, with its window and thresholds) and
compares the story ids it gives with the labels.

Input, one JSON object per line: ``id``, ``text`` (the body), optionally
``title`` (the headline), a label (``--label-field``, default ``incident_id``:
articles with one label are one story) and a time (``--time-field``, default
``dct``: an ISO date or time). ``../shared/eval/gva_semeval2018`` is in this
format. ``--half dev|test`` keeps the labels that ``build_dedup_pairs`` puts in
that half. An article with an empty text is skipped (ingest dead-letters it)
and an id seen before is read once (GVA files a page under each incident it
names); both are counted in the table.

Scores are pairwise: precision is the share of article pairs put in one story
that share a label, recall the share of pairs sharing a label put in one
story. The first row counts the pairs at most ``--window-days`` apart (3: the
pairs the default 72 h window compares, with day-precision times), the second
every pair (recall there also counts the trial months after the shooting,
which the stage has long forgotten). The JSON line gives the first row.
"""

from __future__ import annotations

import argparse
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path

from evaluate._half import label_half
from evaluate._jsonl import EvalInputError, read_records
from evaluate._pairs import Counts

_DAY = 86400.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the file and the options of ``wirewatch eval story-stream``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="JSONL articles, one per line")
    parser.add_argument(
        "--label-field", default="incident_id", help="articles with one value tell one story"
    )
    parser.add_argument("--time-field", default="dct", help="ISO date or time of each article")
    parser.add_argument(
        "--half",
        choices=("dev", "test"),
        default=None,
        help="only the labels of one half, split as build_dedup_pairs splits them",
    )
    parser.add_argument(
        "--window-days",
        type=float,
        default=3.0,
        help="the first row scores pairs at most this many days apart (default 3)",
    )
    parser.add_argument(
        "--story-threshold", type=float, default=None, help="override DedupConfig.story_threshold"
    )


@dataclass(frozen=True)
class PairScores:
    """Pair counts of one row of the table."""

    together: int  # pairs given one story id
    same_label: int  # pairs sharing a label
    right: int  # pairs both together and sharing a label

    def scores(self) -> tuple[float, float, float]:
        """Precision, recall and F1, as every pair command computes them."""
        wrong = self.together - self.right
        return Counts(tp=self.right, fp=wrong, fn=self.same_label - self.right).scores()


def _close_pairs(times: list[float], within: float | None) -> int:
    """Pairs of ``times`` at most ``within`` apart (every pair with None)."""
    n = len(times)
    if within is None:
        return n * (n - 1) // 2
    ordered = sorted(times)
    return sum(i - bisect_left(ordered, t - within, 0, i) for i, t in enumerate(ordered))


def _grouped_pairs(keys: Sequence[Hashable], times: Sequence[float], within: float | None) -> int:
    groups: dict[Hashable, list[float]] = defaultdict(list)
    for key, time in zip(keys, times, strict=True):
        groups[key].append(time)
    return sum(_close_pairs(group, within) for group in groups.values())


def pair_scores(
    stories: Sequence[str], labels: Sequence[str], times: Sequence[float], within: float | None
) -> PairScores:
    """Pairwise counts of story ids against labels, over pairs at most ``within`` apart.

    Example:
        >>> s = pair_scores(["a", "a", "b"], ["x", "x", "x"], [0.0, 1.0, 2.0], None)
        >>> (s.together, s.same_label, s.right)
        (1, 3, 1)
    """
    return PairScores(
        together=_grouped_pairs(stories, times, within),
        same_label=_grouped_pairs(labels, times, within),
        right=_grouped_pairs(list(zip(stories, labels, strict=True)), times, within),
    )


def _time(record: dict, field: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(record[field]).replace("Z", "+00:00"))
    except ValueError:
        raise EvalInputError(f'{where}: "{field}" is {record[field]!r}, not an ISO date') from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    """Replay ``args.file`` through the stage and score its story ids; the last line is JSON."""
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from pipeline.dedup import DedupConfig, DedupIndex, deduplicate
    from pipeline.records import Article

    config = DedupConfig()
    if args.story_threshold is not None:
        config = replace(config, story_threshold=args.story_threshold)
    fields = {"id": (str, int), "text": str, args.label_field: (str, int), args.time_field: str}
    records = read_records(args.file, fields)
    articles: list[tuple[datetime, dict]] = []
    seen: set[str] = set()
    empty = repeated = 0
    for record in records:
        label = str(record[args.label_field])
        if args.half is not None and label_half(label) != args.half:
            continue
        if not record["text"].strip():
            empty += 1
            continue
        if str(record["id"]) in seen:
            repeated += 1
            continue
        seen.add(str(record["id"]))
        moment = _time(record, args.time_field, f"{args.file}: record {record['id']!r}")
        articles.append((moment, record))
    articles.sort(key=itemgetter(0))  # by time; a stable sort keeps file order within one

    index = DedupIndex(config)
    stories: list[str] = []
    labels: list[str] = []
    times: list[float] = []
    console = Console(stderr=True)
    for moment, record in track(articles, description="replay", console=console, transient=True):
        title = record.get("title")
        article = Article(
            id=str(record["id"]),
            source="eval",
            headline=title if isinstance(title, str) else "",
            body=record["text"],
            published_at=moment,
            received_at=moment,
        )
        stories.append(deduplicate(index, article).verdict.story_id)
        labels.append(str(record[args.label_field]))
        times.append(moment.timestamp())

    window = pair_scores(stories, labels, times, args.window_days * _DAY)
    every = pair_scores(stories, labels, times, None)
    table = Table(
        title=f"story-stream: {args.file.name} (story_threshold={config.story_threshold}): "
        f"{len(stories)} articles, {len(set(labels))} labels, {len(set(stories))} stories; "
        f"skipped {empty} empty, {repeated} repeated ids"
    )
    for column in ("pairs", "same label", "together", "right", "precision", "recall", "f1"):
        table.add_column(column, justify="left" if column == "pairs" else "right")
    for name, counts in ((f"<= {args.window_days:g} days apart", window), ("all", every)):
        scores = (f"{value:.4f}" for value in counts.scores())
        table.add_row(
            name, str(counts.same_label), str(counts.together), str(counts.right), *scores
        )
    Console(width=120).print(table)
    precision, recall, f1 = (round(value, 4) for value in window.scores())
    summary = {"task": "story-stream", "n": len(stories), "precision": precision}
    print(json.dumps(summary | {"recall": recall, "f1": f1}))
    return 0
