"""Train the shipped PER/ORG/LOC tagger (pipeline/ner_model) on CoNLL-2003 train.

Reproducible: a fixed seed picks the held-out documents and the augmented
sentences, spaCy trains with scripts/ner.cfg (seed 0), and the best model on
the held-out part of *train* (never the CoNLL++ dev set) is saved with a rule
sentencizer in front. MISC is mapped to O. About 12% of the training
sentences are added again in ALL CAPS and 3% in lower case, because wire
headlines and datelines ("AL-AIN, United Arab Emirates") come that way.

Usage:
    OMP_NUM_THREADS=1 python scripts/train_ner.py            # ~30 min on one core
    python scripts/train_ner.py --max-steps 200 --output /tmp/ner_try
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import spacy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = Path(os.environ.get("WIREWATCH_EVAL_DIR", ROOT / ".." / "shared" / "eval"))
KEEP = {"PER", "ORG", "LOC"}


def _spans(tags: list[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    start, label = None, None
    for i, tag in enumerate([*tags, "O"]):
        if start is not None and not tag.startswith("I-"):
            spans.append((start, i, label))
            start = None
        if tag.startswith("B-") or (tag.startswith("I-") and start is None):
            start, label = i, tag[2:]
    return [s for s in spans if s[2] in KEEP]


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _docbin(rows: list[dict], out: Path, augment: bool, seed: int) -> int:
    import spacy
    from spacy.tokens import Doc, DocBin

    vocab = spacy.blank("en").vocab
    rng = random.Random(seed)
    bin_ = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    count = 0
    for row in rows:
        tokens = row["tokens"]
        if not tokens or tokens[0] == "-DOCSTART-":
            continue
        variants = [tokens]
        if augment:
            draw = rng.random()
            if draw < 0.12:
                variants.append([t.upper() for t in tokens])
            elif draw < 0.15:
                variants.append([t.lower() for t in tokens])
        for words in variants:
            doc = Doc(vocab, words=words)
            doc.ents = [
                doc.char_span(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), label=lab)
                for s, e, lab in _spans(row["tags"])
            ]
            bin_.add(doc)
            count += 1
    bin_.to_disk(out)
    return count


def wire_tokenizer(nlp: spacy.Language) -> None:
    """Keep hyphenated words whole ("al-Assad", "AL-AIN"), as CoNLL tokenises them."""
    from spacy.util import compile_infix_regex

    infixes = [p.replace("(?:-|", "(?:") for p in nlp.Defaults.infixes]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--train", type=Path, default=DEFAULT_EVAL / "conll2003" / "conllpp_train.jsonl"
    )
    parser.add_argument("--config", type=Path, default=ROOT / "scripts" / "ner.cfg")
    parser.add_argument("--output", type=Path, default=ROOT / "pipeline" / "ner_model")
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="keep the DocBins and checkpoints here"
    )
    parser.add_argument("--max-steps", type=int, default=None, help="override training.max_steps")
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=35.0,
        help="stop training after this long; the best checkpoint so far is kept",
    )
    parser.add_argument(
        "--heldout-docs",
        type=float,
        default=0.06,
        help="share of train documents held out for model selection",
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    rows = _read(args.train)
    docs = sorted({r["doc"] for r in rows})
    rng = random.Random(args.seed)
    heldout = set(rng.sample(docs, max(1, int(len(docs) * args.heldout_docs))))
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ww_ner_"))
    work.mkdir(parents=True, exist_ok=True)
    n_train = _docbin(
        [r for r in rows if r["doc"] not in heldout], work / "train.spacy", True, args.seed
    )
    n_dev = _docbin([r for r in rows if r["doc"] in heldout], work / "dev.spacy", False, args.seed)
    print(
        f"[train_ner] {n_train} training sentences (with case variants), {n_dev} held out; work dir {work}",
        flush=True,
    )

    command = [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(args.config),
        "--output",
        str(work / "out"),
        "--paths.train",
        str(work / "train.spacy"),
        "--paths.dev",
        str(work / "dev.spacy"),
    ]
    if args.max_steps is not None:
        command += ["--training.max_steps", str(args.max_steps)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    process = subprocess.Popen(command, env=env)
    try:
        process.wait(timeout=args.max_minutes * 60)
    except subprocess.TimeoutExpired:
        print(
            f"[train_ner] time limit of {args.max_minutes} min reached; keeping the best checkpoint",
            flush=True,
        )
        process.terminate()
        process.wait()
    print(f"[train_ner] training took {(time.monotonic() - started) / 60:.1f} min", flush=True)
    best = work / "out" / "model-best"
    if not best.exists():
        print("[train_ner] no checkpoint was written", file=sys.stderr)
        return 1

    import spacy

    # Null the corpus paths so that the shipped config holds no absolute path.
    nlp = spacy.load(best, config={"paths": {"train": None, "dev": None}})
    nlp.add_pipe("sentencizer", first=True)
    wire_tokenizer(nlp)
    if args.output.exists():
        shutil.rmtree(args.output)
    nlp.to_disk(args.output)
    meta = json.loads((best / "meta.json").read_text())
    print(
        f"[train_ner] held-out ents_f={meta.get('performance', {}).get('ents_f')} -> saved {args.output}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
