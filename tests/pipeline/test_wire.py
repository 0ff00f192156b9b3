from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.errors import InvalidRecord
from pipeline.wire import parse_jsonl, parse_jsonl_article, parse_text_article, reuters_body

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_26a858c8e60dbca3.txt"


def test_the_seed_file_has_no_headline_line_and_keeps_its_paragraphs() -> None:
    item = parse_text_article(SEED.read_text(), name=SEED.stem)
    assert item.id == SEED.stem and item.headline == ""
    assert item.body.startswith("Russia's foreign minister says Moscow")
    assert item.body.count("\n") == 18  # 19 paragraphs, the body twice over


def test_a_short_first_line_is_the_headline() -> None:
    item = parse_text_article("Flood kills 12\n\nAt least 12 died.\nMore rain is due.\n", "f")
    assert (item.headline, item.body) == ("Flood kills 12", "At least 12 died.\nMore rain is due.")


def test_reuters_lines_become_articles_with_their_time_and_dateline() -> None:
    line = ('{"id": "2", "title": "STANDARD OIL TO FORM UNIT", "body": "Standard Oil Co and BP\\n'
            'said they plan a venture.\\n    The venture will\\nbe called X.\\n Reuter", '
            '"dateline": "CLEVELAND, Feb 26 -", "date": "26-FEB-1987 15:02:20.00"}')
    item = parse_jsonl_article(line, "r.jsonl:1")
    assert item.id == "reuters-2" and item.source == "reuters"
    assert item.body == ("CLEVELAND, Feb 26 - Standard Oil Co and BP said they plan a venture.\n"
                         "The venture will be called X.")
    assert item.published_at == datetime(1987, 2, 26, 15, 2, 20, tzinfo=timezone.utc)


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_parsed() -> None:
    text = '{"id": "1", "headline": "a", "body": "b"}\nnot json\n\n{"body": "x"}\n' \
           '{"id": "2", "headline": "c", "body": "d"}\n'
    results = list(parse_jsonl(text, "f.jsonl"))
    assert [r.id for r in results if not isinstance(r, InvalidRecord)] == ["1", "2"]
    errors = [str(r) for r in results if isinstance(r, InvalidRecord)]
    assert errors[0].startswith("f.jsonl:2: not valid JSON")
    assert errors[1].startswith("f.jsonl:4: missing or invalid 'id'")


def test_reuters_body_without_dateline() -> None:
    assert reuters_body("One\ntwo.\n Reuter") == "One two."


def test_an_empty_text_file_is_an_error() -> None:
    with pytest.raises(InvalidRecord, match="empty file"):
        parse_text_article("\n \n", "empty")
