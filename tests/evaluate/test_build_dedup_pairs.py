"""The GVA story pairs: halves by incident, and the window the stage compares within."""

from __future__ import annotations

import json
import random
from pathlib import Path

from evaluate.build_dedup_pairs import gva_pairs, gva_rows


def _row(doc: str, incident: str, dct: str, title: str) -> dict:
    return {
        "id": doc,
        "incident_id": incident,
        "title": title,
        "text": f"{title}. Police said a man was shot.",
        "dct": dct,
        "uri": f"http://example.org/{doc}",
        "incident_date": "January 27, 2014",
        "state": "Ohio",
    }


def _write_gva(folder: Path, rows: list[dict]) -> Path:
    (folder / "gva_semeval2018").mkdir(parents=True)
    path = folder / "gva_semeval2018" / "gva_semeval2018.dev.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def _pair_docs(pairs: list[dict]) -> set[tuple[str, str, int]]:
    return {(*p["id"].split("-")[1:], p["label"]) for p in pairs}


def test_the_window_keeps_only_pairs_created_close_together(tmp_path: Path) -> None:
    rows = gva_rows(_write_gva(
        tmp_path,
        [
            _row("a1", "1", "2014-01-27", "Man shot in Akron"),
            _row("a2", "1", "2014-01-29", "Akron shooting victim named"),
            _row("a3", "1", "2014-06-02", "Akron gunman sentenced"),  # months later
            _row("b1", "2", "2014-01-28", "Woman shot in Toledo"),
        ],
    ))
    everything = [
        p for half in gva_pairs(rows, random.Random(1), cap=10) for p in half
    ]
    windowed = [
        p
        for half in gva_pairs(rows, random.Random(1), cap=10, window_days=3)
        for p in half
    ]
    assert _pair_docs(everything) == {
        ("a1", "a2", 1),
        ("a1", "a3", 1),
        ("a2", "a3", 1),
        ("a1", "b1", 0),
        ("a2", "b1", 0),
        ("a3", "b1", 0),
    }
    # Within 3 days only: the sentencing story and its pairs fall out.
    assert _pair_docs(windowed) == {("a1", "a2", 1), ("a1", "b1", 0), ("a2", "b1", 0)}
