"""The whole pipeline end to end on a real broker, with a real worker process."""

from __future__ import annotations

import json
from collections import Counter

from agents.replay import replay
from pipeline.codec import alert_from_bytes, dead_letter_from_bytes, enriched_from_bytes
from tests.integration.conftest import SEED_ARTICLE, read_topic

EXPECTED_ENTITIES = {"Russia", "Sergei Lavrov", "Syria", "Bashar al-Assad", "Damascus", "Idlib"}


async def test_seed_article_is_enriched_alerted_once_and_its_replay_is_a_duplicate(
        settings, start_worker):
    worker = start_worker()
    first = await replay(settings, [SEED_ARTICLE], show_progress=False)
    assert first.sent == 1 and not first.errors

    enriched = await read_topic(settings, settings.topics.enriched, expect=1, timeout=120)
    assert len(enriched) == 1, worker.log()[-3000:]
    record = enriched_from_bytes(enriched[0].value)
    assert record.article.id == SEED_ARTICLE.stem
    names = {entity.name for entity in record.entities.entities}
    assert EXPECTED_ENTITIES <= names, sorted(names)
    killed = [f for f in record.casualties.figures if f.category == "killed"]
    assert any(f.low >= 5000 for f in killed), killed
    # The seed file repeats its whole body; dedup removes the second copy.
    assert record.dedup.repeated_paragraphs_removed > 0
    assert record.article.body.count("Sergei Lavrov") == 1

    alerts = await read_topic(settings, settings.topics.alerts, expect=1, timeout=60)
    assert len(alerts) >= 1
    first_alerts = [alert_from_bytes(m.value) for m in alerts]
    assert all(a.article_id == SEED_ARTICLE.stem for a in first_alerts)
    assert len({a.id for a in first_alerts}) == len(first_alerts)

    # The same article again: a duplicate, and nothing new downstream.
    again = await replay(settings, [SEED_ARTICLE], show_progress=False)
    assert again.sent == 1
    duplicates = await read_topic(settings, settings.topics.duplicates, expect=1, timeout=60)
    assert len(duplicates) == 1
    duplicate = enriched_from_bytes(duplicates[0].value)
    assert duplicate.dedup.is_duplicate
    assert duplicate.dedup.duplicate_of == SEED_ARTICLE.stem
    assert len(await read_topic(settings, settings.topics.enriched, idle=3)) == 1
    assert len(await read_topic(settings, settings.topics.alerts, idle=1)) == len(alerts)

    # Accounting: valid + dead-lettered = sent; unique + duplicates = valid.
    valid = await read_topic(settings, settings.topics.valid, idle=1)
    dead = await read_topic(settings, settings.topics.deadletter, idle=1)
    unique = await read_topic(settings, settings.topics.unique, idle=1)
    assert len(valid) + len(dead) == first.sent + again.sent == 2
    assert len(unique) + len(duplicates) == len(valid)
    assert worker.alive(), worker.log()[-3000:]


async def test_bad_input_is_dead_lettered_and_the_next_article_still_flows(
        settings, start_worker):
    from tests.integration.conftest import produce

    worker = start_worker()
    good = (b'{"id": "good-1", "source": "test", "headline": "Flood kills 12 in Dhaka", '
            b'"body": "At least 12 people were killed when floods hit Dhaka, officials said."}')
    # A null value (a tombstone) needs a key; the others have none.
    await produce(settings, [b"not json", b'{"id": 7}', b'{"id": "x", "body": ""}',
                             b"\xff\xfe{bad utf8", None, good],
                  keys=[None, None, None, None, b"tombstone", None])
    dead = await read_topic(settings, settings.topics.deadletter, expect=5, timeout=120)
    letters = [dead_letter_from_bytes(m.value) for m in dead]
    assert Counter(letter.stage for letter in letters) == {"ingest": 5}
    assert all(letter.reason for letter in letters)
    assert {letter.payload for letter in letters} >= {b"not json", b"\xff\xfe{bad utf8"}
    enriched = await read_topic(settings, settings.topics.enriched, expect=1, timeout=120)
    assert [enriched_from_bytes(m.value).article.id for m in enriched] == ["good-1"]
    assert worker.alive(), worker.log()[-3000:]


async def test_a_note_naming_no_place_gets_the_country_its_source_usually_reports(
        settings, start_worker):
    # The entities agent learns each source's usual country from the articles
    # it tags (pipeline/_entities_sources.py): five notes from "Dawn" placed by
    # their own text, then one that names no place.
    from tests.integration.conftest import produce

    def note(article_id: str, headline: str, body: str) -> bytes:
        return json.dumps({"id": article_id, "source": "Dawn", "headline": headline,
                           "body": body}).encode()

    worker = start_worker()
    placed = [
        note("dawn-1", "Traders strike", "Traders in Lahore shut their shops on Monday to "
             "protest against a new sales tax."),
        note("dawn-2", "Students arrested", "Police in Karachi arrested 14 people after clashes "
             "between rival student groups."),
        note("dawn-3", "Lawyers boycott courts", "Lawyers boycotted courts in Peshawar for a "
             "second day, demanding better security."),
        note("dawn-4", "Doctors strike", "Doctors at a state hospital in Quetta went on strike "
             "over unpaid salaries."),
        note("dawn-5", "Farmers block highway", "Farmers blocked the main highway near Multan, "
             "calling for higher wheat prices."),
    ]
    await produce(settings, placed)
    first = await read_topic(settings, settings.topics.enriched, expect=5, timeout=120)
    tagged = {r.article.id: r.entities for r in map(enriched_from_bytes, (m.value for m in first))}
    assert {(t.country, t.country_from) for t in tagged.values()} == {("PK", "text")}, tagged
    await produce(settings, [note("dawn-6", "Hunger strike", "Students staged a hunger strike "
                                  "over the distribution of scholarships.")])
    every = await read_topic(settings, settings.topics.enriched, expect=6, timeout=60)
    last = next(r for r in map(enriched_from_bytes, (m.value for m in every))
                if r.article.id == "dawn-6")
    assert (last.entities.country, last.entities.country_from) == ("PK", "source")
    assert worker.alive(), worker.log()[-3000:]
