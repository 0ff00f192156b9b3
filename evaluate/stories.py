"""``wirewatch eval stories PAIRS.jsonl``: did text2 get text1's story_id?

For each pair the real stage runs on a fresh index, text1 first; a pair is
predicted positive when text2's ``story_id`` equals text1's (a duplicate
counts: it joins the story of what it duplicates). ``--sweep A:B:STEP`` also
scores ``story_threshold`` values.
"""

from __future__ import annotations

import argparse

from evaluate._pairs import configure_pairs, run_pairs
from pipeline.dedup import DedupResult


def _same_story(first: DedupResult, second: DedupResult) -> bool:
    return second.verdict.story_id == first.verdict.story_id


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the stories evaluation's arguments to ``parser``."""
    configure_pairs(parser)


def run(args: argparse.Namespace) -> int:
    """Score story grouping on ``args.file``; the last stdout line is JSON."""
    return run_pairs(args, "stories", _same_story, "story_threshold")
