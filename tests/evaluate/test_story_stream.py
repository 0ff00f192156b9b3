"""``wirewatch eval story-stream``: pair counts, and a small replay through the real stage."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from evaluate import story_stream
from evaluate._jsonl import EvalInputError
from evaluate.story_stream import pair_scores

DAY = 86400.0


def test_pairs_are_counted_within_the_window_only() -> None:
    # a, b one day apart and c ten days later: all one label, a and b one story.
    stories, labels, times = ["s", "s", "t"], ["x", "x", "x"], [0.0, DAY, 10 * DAY]
    close = pair_scores(stories, labels, times, 3 * DAY)
    assert (close.together, close.same_label, close.right) == (1, 1, 1)
    every = pair_scores(stories, labels, times, None)
    assert (every.together, every.same_label, every.right) == (1, 3, 1)
    assert every.scores()[:2] == (1.0, pytest.approx(1 / 3))


def test_a_wrong_join_costs_precision() -> None:
    scores = pair_scores(["s", "s", "s"], ["x", "x", "y"], [0.0, 0.0, 0.0], None)
    assert (scores.together, scores.same_label, scores.right) == (3, 1, 1)
    assert scores.scores()[:2] == (pytest.approx(1 / 3), 1.0)


def _run(path: Path, capsys, *options: str) -> tuple[dict, str]:
    parser = argparse.ArgumentParser()
    story_stream.configure(parser)
    assert story_stream.run(parser.parse_args([str(path), *options])) == 0
    out = capsys.readouterr().out
    return json.loads(out.strip().splitlines()[-1]), out


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


ISLA_VISTA = "Elliot Rodger shot six people in Isla Vista near Santa Barbara, deputies said."


def test_a_replay_groups_one_incident_and_counts_what_it_skips(tmp_path: Path, capsys) -> None:
    records = [
        {"id": "a", "incident_id": "1", "dct": "2014-05-24", "title": "Isla Vista shooting",
         "text": ISLA_VISTA},
        {"id": "b", "incident_id": "1", "dct": "2014-05-25", "title": "Gunman named",
         "text": "Deputies named Elliot Rodger as the Isla Vista gunman in Santa Barbara."},
        {"id": "c", "incident_id": "2", "dct": "2014-05-25", "title": "Gary club shooting",
         "text": "Willie Lay heard shots at the Safe and Sound club in Gary, Indiana."},
        # Filed again under another incident, and a page with no text: skipped.
        {"id": "a", "incident_id": "2", "dct": "2014-05-24", "title": "", "text": ISLA_VISTA},
        {"id": "d", "incident_id": "1", "dct": "2014-05-25", "title": "en", "text": " "},
        # The same incident months later: out of the window row, missed in "all".
        {"id": "e", "incident_id": "1", "dct": "2014-09-01", "title": "Isla Vista report",
         "text": "A report on Elliot Rodger and the Isla Vista shooting was released."},
    ]
    summary, out = _run(_write(tmp_path / "a.jsonl", records), capsys)
    assert summary == {"task": "story-stream", "n": 4, "precision": 1.0, "recall": 1.0,
                       "f1": 1.0}
    assert "skipped 1 empty, 1 repeated ids" in out
    # Every pair: a-b joined; a-e and b-e share the label but the window forgot a and b.
    assert "│ all             │          3 │        1 │     1 │    1.0000 │ 0.3333 │" in out


def test_a_threshold_above_every_cosine_joins_nothing(tmp_path: Path, capsys) -> None:
    records = [
        {"id": "a", "incident_id": "1", "dct": "2014-05-24", "text": ISLA_VISTA},
        {"id": "b", "incident_id": "1", "dct": "2014-05-24", "text": ISLA_VISTA + " More soon."},
    ]
    path = _write(tmp_path / "b.jsonl", records)
    # b is a near duplicate of a: it takes a's story at any story threshold.
    assert _run(path, capsys, "--story-threshold", "1.0")[0]["recall"] == 1.0
    records[1]["text"] = "Deputies named Elliot Rodger as the Isla Vista gunman."
    _write(path, records)
    assert _run(path, capsys)[0]["recall"] == 1.0
    assert _run(path, capsys, "--story-threshold", "1.0")[0]["recall"] == 0.0


def test_a_time_that_is_not_a_date_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path / "c.jsonl", [
        {"id": "a", "incident_id": "1", "dct": "yesterday", "text": ISLA_VISTA}])
    with pytest.raises(EvalInputError, match='"dct" is \'yesterday\', not an ISO date'):
        _run(path, capsys)


def test_half_keeps_the_labels_build_dedup_pairs_puts_there(tmp_path: Path, capsys) -> None:
    from evaluate._half import label_half

    records = [
        {"id": str(n), "incident_id": str(n), "dct": "2014-05-24", "text": f"Report {n}."}
        for n in range(8)
    ]
    path = _write(tmp_path / "d.jsonl", records)
    dev = sum(label_half(str(n)) == "dev" for n in range(8))
    assert 0 < dev < 8
    assert _run(path, capsys, "--half", "dev")[0]["n"] == dev
    assert _run(path, capsys, "--half", "test")[0]["n"] == 8 - dev
