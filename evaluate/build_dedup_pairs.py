"""Build the de-duplication and story pair files (and the shipped IDF table).

Reads the read-only evaluation data (``WIREWATCH_EVAL_DIR`` or ../shared/eval)
and writes JSONL pair files ``{"id", "text1", "text2", "label"}``:

- ``dedup_reuters.jsonl``: real Reuters articles against perturbed copies of
  themselves (label 1: byline/boilerplate added, lede trimmed, tail cut to 75%,
  two paragraphs swapped, words edited, case/space/punctuation noise, body
  repeated twice) and against a different article on the same topic (label 0).
- ``dedup_headlines.jsonl``: distinct Reuters stories that share a headline but
  whose bodies differ (label 0 all).
- ``dedup_corrected.jsonl``: Reuters "CORRECTED" stories against the original
  they correct (label 1; matched by headline and time, see ``_corrected``).
- ``stories_gva_dev.jsonl`` / ``stories_gva_test.jsonl``: same-incident GVA
  articles from different pages (label 1) against articles on other incidents
  in the same state and month (label 0), split in halves by incident id.

Usage: ``python -m evaluate.build_dedup_pairs --out /tmp/wirewatch_pairs``;
``--idf pipeline/_dedup_idf.bin`` regenerates the shipped IDF table.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import itertools
import json
import os
import random
import re
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

from pipeline._dedup_text import term_hash

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d+")
_BOILERPLATE = (
    "Copyright 2026 Thomson Reuters. All rights reserved. Click here for restrictions.",
    "Sign up for our daily newsletter and follow us on Twitter and Facebook for the latest news.",
    "(Reporting by staff; Editing by the desk) Our Standards: The Thomson Reuters Trust Principles.",
)
_BYLINES = ("By Jane Smith", "By Peter Miller, Reuters", "By Carlos Ortega")


def eval_dir() -> Path:
    """The evaluation data folder (``WIREWATCH_EVAL_DIR`` or ../shared/eval)."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
    return Path(os.environ.get("WIREWATCH_EVAL_DIR", default))


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _reuters(folder: Path) -> list[dict]:
    rows = _read(folder / "reuters21578" / "reuters21578.jsonl")
    for row in rows:
        row["title"] = row.get("title") or ""
        row["body"] = row.get("body") or ""
    return rows


def _paragraphs(body: str) -> list[str]:
    # Reuters paragraphs start with a four-space indent after a line break.
    return [p.strip() for p in re.split(r"\n {3,}", body.strip()) if p.strip()]


def _words(text: str) -> list[str]:
    return text.split()


def _perturb(kind: str, row: dict, rng: random.Random) -> str:
    title, body = row["title"], row["body"].replace(" Reuter", "\nReuter")
    paragraphs = _paragraphs(body)
    if kind == "byline":
        return f"{title}\n\n{rng.choice(_BYLINES)}\nNEW YORK, March 3 (Reuters) - {body}"
    if kind == "boilerplate":
        return f"{title}\n\n{body}\n{rng.choice(_BOILERPLATE)}\n{rng.choice(_BOILERPLATE)}"
    if kind == "lede_trimmed":
        words = _words(paragraphs[0])
        lede = " ".join(words[: max(3, len(words) // 2)])
        return "\n    ".join([title, lede, *paragraphs[1:]])
    if kind == "truncated":
        words = _words(body)
        return title + "\n\n" + " ".join(words[: int(len(words) * 0.75)])
    if kind == "swapped":
        i = rng.randrange(len(paragraphs) - 1)
        paragraphs[i], paragraphs[i + 1] = paragraphs[i + 1], paragraphs[i]
        return "\n    ".join([title, *paragraphs])
    if kind == "edited":
        words = _words(body)
        for _ in range(min(5, max(1, len(words) // 30))):
            words[rng.randrange(len(words))] = rng.choice(["the", "said", "new", "report"])
        return title + "\n\n" + " ".join(words)
    if kind == "noise":
        text = f"{title}\n\n{body}".upper()
        text = re.sub(r" ", lambda _: rng.choice([" ", "  ", " \t"]), text)
        # Sentence punctuation only: figures like 25.5 keep their points.
        return re.sub(r"[.,](?=\s)", lambda _: rng.choice([".", ",", ";", ""]), text)
    if kind == "repeated":
        return f"{title}\n\n{body}\n{body}"
    raise ValueError(kind)


_KINDS = (
    "byline",
    "boilerplate",
    "lede_trimmed",
    "truncated",
    "swapped",
    "edited",
    "noise",
    "repeated",
)


def reuters_pairs(rows: list[dict], rng: random.Random, per_kind: int) -> list[dict]:
    """Perturbed copies (label 1) and same-topic different articles (label 0)."""
    usable = [
        r
        for r in rows
        if r["text_type"] == "NORM"
        and len(_paragraphs(r["body"])) >= 3
        and len(_words(r["body"])) >= 60
    ]
    by_topic = collections.defaultdict(list)
    for row in usable:
        for topic in row["topics"][:1]:
            by_topic[topic].append(row)
    pairs = []
    for kind in _KINDS:
        for row in rng.sample(usable, per_kind):
            original = f"{row['title']}\n\n{row['body']}"
            pairs.append(
                {
                    "id": f"{kind}-{row['id']}",
                    "text1": original,
                    "text2": _perturb(kind, row, rng),
                    "label": 1,
                }
            )
    body_keys = {}
    for row in usable:
        body_keys[row["id"]] = " ".join(row["body"].split())
    negatives = 0
    for row in rng.sample(usable, len(usable)):
        peers = by_topic.get(row["topics"][0], []) if row["topics"] else []
        if len(peers) < 2:
            continue
        other = rng.choice(peers)
        if other["title"] == row["title"] or body_keys[other["id"]] == body_keys[row["id"]]:
            continue
        pairs.append(
            {
                "id": f"topic-{row['id']}-{other['id']}",
                "text1": f"{row['title']}\n\n{row['body']}",
                "text2": f"{other['title']}\n\n{other['body']}",
                "label": 0,
            }
        )
        negatives += 1
        if negatives >= per_kind * len(_KINDS):
            break
    return pairs


def headline_pairs(rows: list[dict], limit: int) -> list[dict]:
    """Stories sharing a headline whose bodies differ (label 0).

    The id prefix says whether the two were filed at least 24 hours apart
    (``headline_apart``: mostly different days' reports) or not
    (``headline_sameday``: many are re-sends or corrections of one story).
    """
    by_title = collections.defaultdict(list)
    for row in rows:
        if row["title"].strip() and row["body"].strip():
            by_title[row["title"].strip()].append(row)
    pairs = []
    for title, group in sorted(by_title.items()):
        for first, second in itertools.pairwise(group):
            if " ".join(first["body"].split()) == " ".join(second["body"].split()):
                continue
            pairs.append(
                {
                    "id": f"{_headline_group(first, second)}-{first['id']}-{second['id']}",
                    "text1": f"{title}\n\n{first['body']}",
                    "text2": f"{title}\n\n{second['body']}",
                    "label": 0,
                }
            )
    return pairs[:limit]


def _filed(row: dict) -> datetime:
    stamp = re.match(r"\s*(\d+-\w+-\d+ \d+:\d+:\d+)", row["date"])
    if stamp is None:
        return datetime.min
    return datetime.strptime(stamp.group(1), "%d-%b-%Y %H:%M:%S")


def _headline_group(first: dict, second: dict) -> str:
    apart = abs((_filed(second) - _filed(first)).total_seconds()) >= 24 * 3600
    return "headline_apart" if apart else "headline_sameday"


def _title_key(title: str) -> frozenset[str]:
    title = re.sub(r"^\W*(corrected|correction)\W*", "", title, flags=re.IGNORECASE)
    return frozenset(w.lower() for w in _WORD.findall(title) if len(w) > 2)


def corrected_pairs(rows: list[dict]) -> list[dict]:
    """Reuters "CORRECTED" stories against the original they correct (label 1).

    The original is the latest earlier article with a body whose headline,
    without the CORRECTED prefix, has word Jaccard >= 0.6 with the corrected
    one. Labels come from headlines and order only, never from body similarity.
    """
    pairs = []
    for index, row in enumerate(rows):
        if not re.match(r"^\W*corrected", row["title"], re.IGNORECASE) or not row["body"].strip():
            continue
        key = _title_key(row["title"])
        for earlier in reversed(rows[max(0, index - 400) : index]):
            other = _title_key(earlier["title"])
            if earlier["body"].strip() and key and len(key & other) / len(key | other) >= 0.6:
                pairs.append(
                    {
                        "id": f"corrected-{earlier['id']}-{row['id']}",
                        "text1": f"{earlier['title']}\n\n{earlier['body']}",
                        "text2": f"{row['title']}\n\n{row['body']}",
                        "label": 1,
                    }
                )
                break
    return pairs


def gva_pairs(folder: Path, rng: random.Random, cap: int) -> tuple[list[dict], list[dict]]:
    """Same-incident pairs (1) and same state+month other-incident pairs (0), dev/test."""
    rows = _read(folder / "gva_semeval2018" / "gva_semeval2018.dev.jsonl")

    def text(r: dict) -> str:
        return f"{r.get('title') or ''}\n\n{r.get('text') or ''}"

    def title(r: dict) -> str:
        return re.sub(r"\W+", " ", (r.get("title") or "").lower()).strip()

    def distinct(a: dict, b: dict) -> bool:
        # Same page or same headline means one article filed under two
        # incidents (GVA links an article to every incident it mentions).
        return a["uri"] != b["uri"] and title(a) != title(b) and text(a).strip() != text(b).strip()

    by_incident = collections.defaultdict(list)
    by_state_month = collections.defaultdict(list)
    for row in rows:
        by_incident[row["incident_id"]].append(row)
        month = row["incident_date"].split()[0] + row["incident_date"][-4:]
        by_state_month[(row["state"], month)].append(row)
    split: dict[str, list[dict]] = {"dev": [], "test": []}

    def half(incident: str) -> str:
        return "dev" if hashlib.md5(incident.encode()).digest()[0] % 2 == 0 else "test"

    for incident, group in sorted(by_incident.items()):
        found = [(a, b) for i, a in enumerate(group) for b in group[i + 1 :] if distinct(a, b)]
        for a, b in rng.sample(found, min(cap, len(found))):
            split[half(incident)].append(
                {"id": f"gva-{a['id']}-{b['id']}", "text1": text(a), "text2": text(b), "label": 1}
            )
    for _key, group in sorted(by_state_month.items()):
        found = [
            (a, b)
            for i, a in enumerate(group)
            for b in group[i + 1 :]
            if a["incident_id"] != b["incident_id"] and distinct(a, b)
        ]
        for a, b in rng.sample(found, min(cap, len(found))):
            # A negative goes to the half of its first incident; the other may differ.
            split[half(a["incident_id"])].append(
                {"id": f"gva-{a['id']}-{b['id']}", "text1": text(a), "text2": text(b), "label": 0}
            )
    return split["dev"], split["test"]


def write_idf(rows: list[dict], path: Path) -> None:
    """Write the shipped document-frequency table (terms in >= 2 Reuters articles)."""
    df: collections.Counter[int] = collections.Counter()
    for row in rows:
        df.update({term_hash(w) for w in _WORD.findall(f"{row['title']} {row['body']}")})
    kept = sorted((h, min(c, 65535)) for h, c in df.items() if c >= 2)
    hashes = np.array([h for h, _ in kept], dtype="<u4")
    counts = np.array([c for _, c in kept], dtype="<u2")
    header = np.array([len(rows), len(kept)], dtype="<u4")
    path.write_bytes(header.tobytes() + hashes.tobytes() + counts.tobytes())


def _write(path: Path, pairs: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair) + "\n")
    labels = collections.Counter(p["label"] for p in pairs)
    print(f"{path}: {len(pairs)} pairs ({labels[1]} positive, {labels[0]} negative)")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/wirewatch_pairs"))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--per-kind", type=int, default=250, help="perturbed pairs per kind")
    parser.add_argument("--gva-cap", type=int, default=3, help="pairs per incident / group")
    parser.add_argument("--idf", type=Path, help="also write the IDF table here")
    args = parser.parse_args(argv)
    folder = eval_dir()
    rng = random.Random(args.seed)
    reuters = _reuters(folder)
    if args.idf:
        write_idf(reuters, args.idf)
        print(f"{args.idf}: {args.idf.stat().st_size} bytes")
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / "dedup_reuters.jsonl", reuters_pairs(reuters, rng, args.per_kind))
    _write(args.out / "dedup_headlines.jsonl", headline_pairs(reuters, 5000))
    _write(args.out / "dedup_corrected.jsonl", corrected_pairs(reuters))
    dev, test = gva_pairs(folder, rng, args.gva_cap)
    _write(args.out / "stories_gva_dev.jsonl", dev)
    _write(args.out / "stories_gva_test.jsonl", test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
