from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest

from pipeline.errors import InvalidRecord
from pipeline.ingest import IngestPolicy, clean_text, validate_article

NOW = datetime(2026, 1, 25, 12, 0, tzinfo=timezone.utc)
POLICY = IngestPolicy(max_body_bytes=1000)


def raw(**fields: object) -> bytes:
    return orjson.dumps({"id": "a1", "headline": "H", "body": "Body text."} | fields)


def test_a_minimal_article_gets_defaults() -> None:
    article = validate_article(raw(), POLICY, NOW)
    assert (article.id, article.source, article.language) == ("a1", "unknown", "en")
    assert article.published_at == article.received_at == NOW


def test_times_are_parsed_and_naive_times_taken_as_utc() -> None:
    article = validate_article(raw(published_at="2026-01-25T10:00:00",
                                   received_at="2026-01-25T11:00:00Z"), POLICY, NOW)
    assert article.published_at == datetime(2026, 1, 25, 10, tzinfo=timezone.utc)
    assert article.received_at == datetime(2026, 1, 25, 11, tzinfo=timezone.utc)


def test_markup_entities_and_control_characters_are_cleaned() -> None:
    text = "<p>Five &amp; six</p><script>alert(1)</script>\x00\x07 killed<br>next\u200b line"
    assert clean_text(text) == "Five & six\nkilled\nnext line"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (orjson.dumps({"headline": "x", "body": "y"}), "missing field 'id'"),
    (raw(id=7), "'id' must be a string"),
    (raw(id=""), "'id' must be 1 to"),
    (raw(body=None), "missing field 'body'"),
    (raw(body=""), "empty body"),
    (raw(body="<p> </p>"), "empty body"),
    (raw(body=["x"]), "'body' must be a string"),
    (raw(body="x" * 1001), "over the size limit"),
    (b"{" + b" " * 3_000_000 + b"}", "over the size limit"),
    (raw(published_at="yesterday"), "not an ISO 8601 time"),
    (raw(published_at="0001-01-01T00:00:00Z"), "out of range"),
    (raw(published_at="2999-01-01T00:00:00Z"), "out of range"),
    (raw(url=5), "'url' must be a string"),
])
def test_bad_input_is_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        validate_article(payload, POLICY, NOW)


def test_the_reason_for_a_huge_body_does_not_carry_the_body() -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate_article(raw(body="secret " * 500), POLICY, NOW)
    assert "secret" not in str(caught.value)
