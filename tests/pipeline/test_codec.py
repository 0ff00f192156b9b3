from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.codec import (
    alert_from_bytes,
    dead_letter_from_bytes,
    enriched_from_bytes,
    record_from_bytes,
    to_bytes,
)
from pipeline.errors import InvalidRecord
from pipeline.records import (
    Alert,
    AlertFact,
    Article,
    CasualtyFigure,
    CasualtyReport,
    DeadLetter,
    DedupVerdict,
    EnrichedArticle,
    Entity,
    TaggedEntities,
)

NOW = datetime(2026, 1, 25, 12, 0, tzinfo=timezone.utc)
ARTICLE = Article(id="a1", source="s", headline="H", body="B", published_at=NOW, received_at=NOW)


def test_every_record_round_trips() -> None:
    figure = CasualtyFigure("killed", 5000, None, "more_than", "more than 5,000", 3, 18, "S.",
                            attribution="the UN", time_frame="since March", cumulative=True)
    enriched = EnrichedArticle(
        article=ARTICLE, dedup=DedupVerdict("unique", "f" * 16, "a1"),
        entities=TaggedEntities(entities=(Entity("Syria", "LOC", 2, 0, ("Syrian",), "SY"),),
                                country="SY"),
        casualties=CasualtyReport(figures=(figure,), tolls=(figure,)))
    assert enriched_from_bytes(to_bytes(enriched)) == enriched
    alert = Alert("id", "rule", "critical", "a1", "a1", "H", (AlertFact("casualties", "d"),), NOW)
    assert alert_from_bytes(to_bytes(alert)) == alert
    letter = DeadLetter("ingest", "bad", b"\xff\x00raw", NOW, topic="t", partition=0, offset=5)
    assert dead_letter_from_bytes(to_bytes(letter)) == letter


@pytest.mark.parametrize(("payload", "message"), [
    (b"{", "not valid JSON"),
    (b'{"id": "a"}', "missing field"),
    (to_bytes(ARTICLE).replace(b'"id":"a1"', b'"id":1'), "Article.id: expected str"),
    (to_bytes(ARTICLE).replace(b"+00:00", b""), "has no time zone"),
    (to_bytes(ARTICLE).replace(b'"schema_version":1', b'"schema_version":true'),
     "expected int, got bool"),
])
def test_decoding_is_strict_and_names_the_field(payload: bytes, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        record_from_bytes(Article, payload)
