"""Build the shipped story-term IDF table, ``pipeline/_dedup_idf.bin``.

Document frequencies of every word, tokenised as story terms are
(:func:`pipeline._dedup_story_terms.document_terms`), over news text from the
read-only evaluation data (``WIREWATCH_EVAL_DIR`` or ../shared/eval):

- ``reuters``: Reuters-21578, title and body of each of 21,578 articles (1987).
- ``conll``: the documents of CoNLL-2003 train (946 Reuters RCV1 articles, 1996).
- ``acled``: the 7,873 event notes of ``acled.dev.jsonl`` (conflict reports
  from many countries). Not in the shipped table: ACLED's terms keep its data
  for evaluation, and the notes are the geotagging evaluation set. On the dev
  half of the GVA story pairs it raised recall at P 0.95 from 0.82 to 0.85.

No GVA text is counted: the story pairs are built from it. Format: two
little-endian uint32 (documents, terms), the sorted uint32 term hashes, then
their uint16 document counts; terms in fewer than 2 documents are left out
(a name seen once weighs like one never seen).

Usage: ``python -m evaluate.build_story_idf [--out pipeline/_dedup_idf.bin]
[--corpora reuters,conll]`` (the shipped table: 22,524 documents).
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from evaluate.build_dedup_pairs import eval_dir, read_jsonl, reuters_rows
from pipeline._dedup_story_terms import document_terms

_MIN_DOCUMENTS = 2


def _reuters(folder: Path) -> Iterator[str]:
    for row in reuters_rows(folder):
        yield f"{row['title']} {row['body']}"


def _conll(folder: Path) -> Iterator[str]:
    documents: dict[int, list[str]] = collections.defaultdict(list)
    for row in read_jsonl(folder / "conll2003" / "conllpp_train.jsonl"):
        documents[row["doc"]].append(" ".join(row["tokens"]))
    for sentences in documents.values():
        yield "\n".join(sentences)


def _acled(folder: Path) -> Iterator[str]:
    for row in read_jsonl(folder / "acled" / "acled.dev.jsonl"):
        yield row.get("text") or ""


CORPORA = {"reuters": _reuters, "conll": _conll, "acled": _acled}


def document_frequencies(texts: Iterator[str]) -> tuple[int, collections.Counter[int]]:
    """The number of documents and each term's document count."""
    counts: collections.Counter[int] = collections.Counter()
    documents = 0
    for text in texts:
        counts.update(document_terms(text))
        documents += 1
    return documents, counts


def table_bytes(documents: int, counts: collections.Counter[int]) -> bytes:
    """The shipped table: header, sorted hashes, counts (capped at 65,535)."""
    kept = sorted((key, min(n, 65535)) for key, n in counts.items() if n >= _MIN_DOCUMENTS)
    header = np.array([documents, len(kept)], dtype="<u4")
    hashes = np.array([key for key, _ in kept], dtype="<u4")
    numbers = np.array([n for _, n in kept], dtype="<u2")
    return header.tobytes() + hashes.tobytes() + numbers.tobytes()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("pipeline/_dedup_idf.bin"))
    parser.add_argument(
        "--corpora",
        default="reuters,conll",
        help=f"comma-separated, from {', '.join(CORPORA)}",
    )
    args = parser.parse_args(argv)
    folder = eval_dir()
    documents, counts = 0, collections.Counter()
    for name in args.corpora.split(","):
        found, more = document_frequencies(CORPORA[name](folder))
        documents += found
        counts.update(more)
        print(f"{name}: {found} documents")
    args.out.write_bytes(table_bytes(documents, counts))
    print(f"{args.out}: {documents} documents, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
