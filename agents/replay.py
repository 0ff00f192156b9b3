"""The wire-service replay: publish article files to ``articles.raw``.

Reads plain-text articles (one per file) and JSONL files (Reuters-21578 or
our own fields), and folders of either. Paces by a fixed rate, or by the
articles' own timestamps compressed by ``speedup``. A bad file or line is
reported with its name and line number and the rest still replays.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents import kafka
from agents.settings import Settings
from pipeline.codec import to_bytes
from pipeline.errors import InvalidRecord
from pipeline.wire import WireItem, parse_jsonl, parse_text_article

log = logging.getLogger(__name__)
SUFFIXES = {".txt": "text", ".jsonl": "jsonl"}


@dataclass
class ReplayStats:
    """What a replay did."""

    sent: int = 0
    errors: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def article_files(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to replay (folders walked, sorted) and errors for unusable paths."""
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                errors.append(f"{path}: no .txt or .jsonl files in this folder")
            files.extend(found)
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                errors.append(f"{path}: not a .txt or .jsonl file; skipped")
            else:
                files.append(path)
        else:
            errors.append(f"{path}: no such file or folder")
    return files, errors


def read_items(files: Sequence[Path]) -> Iterator[WireItem | InvalidRecord]:
    """Every article in ``files`` in order, or the error for a bad file or line."""
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield InvalidRecord(f"{path}: cannot read: {exc}")
            continue
        if SUFFIXES[path.suffix] == "jsonl":
            yield from parse_jsonl(text, str(path))
        else:
            try:
                yield parse_text_article(text, name=path.stem, source="seeds")
            except InvalidRecord as exc:
                yield exc


def count_items(files: Sequence[Path]) -> int:
    """How many articles the files hold (for the progress bar)."""
    total = 0
    for path in files:
        if SUFFIXES[path.suffix] == "jsonl":
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


class _Pacer:
    """Sleeps so that items go out at ``rate``/s, or at their own pace / ``speedup``."""

    def __init__(self, rate: float | None, speedup: float | None) -> None:
        self.rate, self.speedup = rate, speedup
        self.start = time.monotonic()
        self.count = 0
        self.first_time: datetime | None = None

    async def wait(self, item: WireItem) -> None:
        due: float | None = None
        if self.speedup and item.published_at is not None:
            if self.first_time is None:
                self.first_time = item.published_at
            due = max((item.published_at - self.first_time).total_seconds(), 0) / self.speedup
        elif self.rate:
            due = self.count / self.rate
        self.count += 1
        if due is not None:
            delay = self.start + due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)


async def replay(settings: Settings, paths: Sequence[Path], *, rate: float | None = None,
                 speedup: float | None = None, loop: bool = False, limit: int | None = None,
                 show_progress: bool = True, err: TextIO = sys.stderr) -> ReplayStats:
    """Publish the articles in ``paths`` to ``articles.raw``; return what was sent."""
    files, problems = article_files(paths)
    stats = ReplayStats(errors=list(problems))
    console = Console(file=err, stderr=True)
    for problem in problems:
        console.print(f"[yellow]replay: {problem}[/]")
    if not files:
        return stats
    # Create the topics with their partition counts first: a producer would
    # otherwise auto-create articles.raw with the broker's default.
    await kafka.create_topics(settings)
    producer = kafka.producer(settings, embedded=settings.broker_kind == "tansu")
    await producer.start()
    topic = settings.topics.raw
    total = None if loop else count_items(files)
    if limit is not None:
        total = limit if total is None else min(total, limit)
    progress = Progress(TextColumn("replay"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[errors]} errors"), TimeElapsedColumn(),
                        console=console, disable=not show_progress, transient=False)
    pacer = _Pacer(rate, speedup)
    pending: list[asyncio.Future[object]] = []
    try:
        with progress:
            task = progress.add_task("replay", total=total, errors=0)
            round_number = 0
            while True:
                suffix = f"~{round_number}" if round_number else ""
                for item in read_items(files):
                    if limit is not None and stats.sent >= limit:
                        break
                    if isinstance(item, InvalidRecord):
                        stats.errors.append(str(item))
                        console.print(f"[yellow]replay: {item}[/]")
                        progress.update(task, errors=len(stats.errors))
                        continue
                    await pacer.wait(item)
                    item_id = item.id + suffix
                    payload = item.payload(datetime.now(timezone.utc)) | {"id": item_id}
                    pending.append(await producer.send(topic, to_bytes(payload),
                                                       key=item_id.encode()))
                    stats.sent += 1
                    stats.ids.append(item_id)
                    progress.update(task, advance=1)
                    if len(pending) >= 1000:
                        await asyncio.gather(*pending)
                        pending.clear()
                round_number += 1
                if not loop or (limit is not None and stats.sent >= limit):
                    break
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return stats
