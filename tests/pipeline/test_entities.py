"""The entity stage: model + rules + normalisation + geotagging, and its eval commands."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import _entities_gazetteer as gazetteer
from pipeline._entities_normalise import canonical_names
from pipeline.entities import tag_entities, tag_entities_batch, warm_up
from pipeline.records import Article, TaggedEntities
from tests.conftest import REPO, require_eval_file

NOW = datetime(2026, 1, 26, tzinfo=UTC)
SEED = REPO / "seeds" / "000_26a858c8e60dbca3.txt"


def _article(body: str, headline: str = "") -> Article:
    return Article(
        id="t", source="test", headline=headline, body=body, published_at=NOW, received_at=NOW
    )


@pytest.fixture(scope="module")
def seed() -> tuple[Article, TaggedEntities]:
    warm_up()
    article = _article(SEED.read_text(encoding="utf-8"))
    return article, tag_entities(article)


def _entity(tagged: TaggedEntities, name: str, label: str | None = None):
    found = [e for e in tagged.entities if e.name == name and (label is None or e.label == label)]
    assert found, f"{name} not among {[(e.name, e.label) for e in tagged.entities]}"
    return found[0]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Russia", "LOC"),
        ("Moscow", "LOC"),
        ("Sergei Lavrov", "PER"),
        ("Syria", "LOC"),
        ("Bashar al-Assad", "PER"),
        ("United Nations", "ORG"),
        ("Security Council", "ORG"),
        ("Arab League", "ORG"),
        ("Damascus", "LOC"),
        ("China", "LOC"),
        ("SANA", "ORG"),
        ("Syrian Red Crescent", "ORG"),
        ("Idlib", "LOC"),
        ("Local Co-ordination Committees", "ORG"),
    ],
)
def test_seed_entities_are_found(seed, name: str, label: str) -> None:
    _entity(seed[1], name, label)


def test_seed_variants_resolve_to_one_entity(seed) -> None:
    tagged = seed[1]
    assad = _entity(tagged, "Bashar al-Assad")
    assert {"Assad", "al-Assad"} <= set(assad.variants)
    assert "Lavrov" in _entity(tagged, "Sergei Lavrov").variants
    assert "UN" in _entity(tagged, "United Nations").variants
    names = [e.name for e in tagged.entities]
    assert len(names) == len(set(names)), "one canonical entity per name"
    assert not {"Assad", "al-Assad", "Lavrov", "UN"} & set(names)


def test_seed_places_are_geotagged(seed) -> None:
    tagged = seed[1]
    for name in ("Idlib", "Damascus"):
        place = _entity(tagged, name)
        assert place.country == "SY"
        assert place.latitude is not None and 32 < place.latitude < 37
    assert _entity(tagged, "Moscow").country == "RU"
    assert tagged.country == "SY"


def test_mentions_point_into_the_article_text(seed) -> None:
    article, tagged = seed
    assert tagged.mentions
    for mention in tagged.mentions:
        assert article.text[mention.start : mention.end] == mention.text
        assert mention.text in mention.sentence
        assert mention.label in {"PER", "ORG", "LOC"}
        assert mention.source in {"model", "gazetteer", "rule"}
        assert 0 < mention.confidence <= 1
    counts = {e.name: e.mentions for e in tagged.entities}
    assert sum(counts.values()) == len(tagged.mentions)


def test_salience_is_first_position_and_count(seed) -> None:
    entities = seed[1].entities
    assert [e.first_position for e in entities] == sorted(e.first_position for e in entities)
    assert _entity(seed[1], "Bashar al-Assad").mentions >= 4


def test_all_caps_headline_and_dateline() -> None:
    article = _article(
        "AL-AIN, United Arab Emirates (Reuters) - Rebels shelled the city on Tuesday, "
        "officials said.",
        headline="SYRIA ACCUSES REBELS OF SHELLING",
    )
    tagged = tag_entities(article)
    assert tagged.country in {"AE", "SY"}
    assert _entity(tagged, "United Arab Emirates", "LOC").country == "AE"
    assert any(m.text == "SYRIA" and m.label == "LOC" for m in tagged.mentions)
    assert any(m.text == "AL-AIN" and m.label == "LOC" for m in tagged.mentions)
    assert (
        article.text[tagged.mentions[0].start : tagged.mentions[0].end] == tagged.mentions[0].text
    )


def test_batch_equals_one_by_one() -> None:
    articles = [
        _article("Ukrainian troops held Bakhmut, Kyiv said."),
        _article("Police in Lahore arrested 12 protesters, the Pakistani interior ministry said."),
        _article("No names here at all."),
    ]
    assert tag_entities_batch(articles) == [tag_entities(a) for a in articles]
    assert [t.country for t in tag_entities_batch(articles)] == ["UA", "PK", None]


def test_us_dollar_is_not_evidence_for_the_united_states() -> None:
    tagged = tag_entities(
        _article("Protesters in Sidon blocked roads over the falling US dollar exchange rate.")
    )
    assert tagged.country == "LB"


@pytest.mark.parametrize(
    ("mentions", "surface", "expected"),
    [
        ([("Sergei Lavrov", "PER"), ("Lavrov", "PER")], ("Lavrov", "PER"), "Sergei Lavrov"),
        (
            [("Bashar al-Assad", "PER"), ("Assad", "PER"), ("al-Assad", "PER")],
            ("al-Assad", "PER"),
            "Bashar al-Assad",
        ),
        ([("United Nations", "ORG"), ("UN", "ORG")], ("UN", "ORG"), "United Nations"),
        ([("UN", "ORG")], ("UN", "ORG"), "United Nations"),
        (
            [("UN Security Council", "ORG"), ("Security Council", "ORG")],
            ("Security Council", "ORG"),
            "UN Security Council",
        ),
        ([("South Sudan", "LOC"), ("Sudan", "LOC")], ("Sudan", "LOC"), "Sudan"),
        ([("Lavrov", "PER"), ("Lavrov", "LOC")], ("Lavrov", "LOC"), "Lavrov"),
        ([("SYRIA", "LOC"), ("Syria", "LOC")], ("SYRIA", "LOC"), "Syria"),
    ],
)
def test_canonical_names(mentions, surface, expected) -> None:
    assert canonical_names(mentions)[surface] == expected


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Democratic Republic of Congo", "CD"),
        ("Palestine", "PS"),
        ("Kosovo", "XK"),
        ("Ivory Coast", "CI"),
        ("Syria", "SY"),
        ("Puerto Rico", "PR"),
        ("Atlantis", None),
    ],
)
def test_country_code(name: str, code: str | None) -> None:
    assert gazetteer.country_code(name) == code


def test_demonyms_and_ambiguous_places() -> None:
    assert gazetteer.demonym_country("Syrian") == "SY"
    assert gazetteer.demonym_country("Russians") == "RU"
    assert gazetteer.demonym_country("Table") is None
    assert gazetteer.resolve("Hyderabad", {"PK"}).country == "PK"
    assert gazetteer.resolve("Hyderabad", set()).country == "IN"
    assert gazetteer.resolve("Georgia", set()).country == "GE"
    assert gazetteer.resolve("Georgia", {"US"}).country == "US"
    assert gazetteer.resolve("Nowhereville Xq", set()) is None


def _run(module, argv: list[str], capsys) -> dict:
    parser = argparse.ArgumentParser()
    module.configure(parser)
    assert module.run(parser.parse_args(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_eval_entities_on_any_conll_jsonl(tmp_path: Path, capsys) -> None:
    from evaluate import entities

    rows = [
        {
            "tokens": ["Sergei", "Lavrov", "visited", "Damascus", "."],
            "tags": ["B-PER", "I-PER", "O", "B-LOC", "O"],
        },
        {
            "tokens": ["The", "Arab", "League", "met", "in", "Cairo", "."],
            "tags": ["O", "B-ORG", "I-ORG", "O", "O", "B-LOC", "O"],
        },
        {"tokens": ["German", "officials", "agreed", "."], "tags": ["B-MISC", "O", "O", "O"]},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    summary = _run(entities, [str(path)], capsys)
    assert summary["task"] == "entities" and summary["n"] == 3
    assert set(summary["per"]) == {"PER", "ORG", "LOC"}
    assert summary["per"]["LOC"]["r"] == 1.0
    assert summary["micro_f1"] > 0.7 and summary["tokens_per_s"] > 0


def test_gold_spans_drop_misc_and_repair_iob() -> None:
    from evaluate.entities import gold_spans

    assert gold_spans(["B-PER", "I-PER", "B-MISC", "I-LOC", "O", "B-ORG"]) == {
        (0, 2, "PER"),
        (3, 4, "LOC"),
        (5, 6, "ORG"),
    }


def test_eval_geo_on_any_jsonl(tmp_path: Path, capsys) -> None:
    from evaluate import geo

    rows = [
        {"text": "Two people were killed in a mortar attack on Baidoa.", "country": "Somalia"},
        {
            "text": "Militia fighters clashed in Goma, North Kivu.",
            "country": "Democratic Republic of Congo",
        },
        {"text": "A protest was held.", "country": "India"},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    summary = _run(geo, [str(path)], capsys)
    assert summary == {"task": "geo", "n": 3, "accuracy": pytest.approx(2 / 3, abs=1e-3)}


def test_conll_dev_sample_scores_well(capsys) -> None:
    from evaluate import entities

    path = require_eval_file("conll2003/conllpp_dev.jsonl")
    summary = _run(entities, [str(path), "--limit", "400"], capsys)
    assert summary["micro_f1"] > 0.8


def test_huge_and_empty_articles_do_not_fail() -> None:
    huge = _article("Fighting was reported in Idlib. " + "Nothing happened. " * 70_000)
    assert len(huge.text) > 1_000_000
    empty = _article("")
    tagged, nothing = tag_entities_batch([huge, empty])
    assert tagged.country == "SY" and all(m.end <= 100_000 for m in tagged.mentions)
    assert nothing == TaggedEntities()


def test_a_note_that_names_no_place_gets_its_sources_usual_country() -> None:
    note = _article("Students staged a hunger strike over the distribution of scholarships.")
    alone, from_source = tag_entities_batch([note, note], homes=[None, "IN"])
    assert alone.country is None and alone.country_from == ""
    assert from_source.country == "IN" and from_source.country_from == "source"


def test_an_ambiguous_place_follows_its_sources_usual_country() -> None:
    # Hyderabad is in India and in Pakistan: in Dawn it is the one in Sindh.
    note = _article("Employees protested outside the press club in Hyderabad on Monday.")
    alone, in_dawn = tag_entities_batch([note, note], homes=[None, "PK"])
    assert (alone.country, alone.country_from) == ("IN", "text")
    assert (in_dawn.country, in_dawn.country_from) == ("PK", "text")


def test_a_place_the_text_names_outweighs_its_sources_usual_country() -> None:
    note = _article("Two soldiers were killed when militants attacked a checkpoint in Peshawar.")
    (tagged,) = tag_entities_batch([note], homes=["IN"])
    assert (tagged.country, tagged.country_from) == ("PK", "text")


def test_eval_geo_learns_each_sources_usual_country_from_the_records(
    tmp_path: Path, capsys
) -> None:
    from evaluate import geo

    named = ["Lahore", "Karachi", "Peshawar", "Quetta", "Multan"]
    rows = [
        {"text": f"Traders protested in {town}.", "country": "Pakistan", "source": "Dawn"}
        for town in named
    ] + [{"text": "A protest was held.", "country": "Pakistan", "source": "Dawn"}]
    path = tmp_path / "sources.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    # The eval tags 64 records at a time and learns after each batch: one
    # record per batch lets the last note use what the first five taught.
    geo_batch, geo._BATCH = geo._BATCH, 1
    try:
        assert _run(geo, [str(path)], capsys)["accuracy"] == 1.0
        assert _run(geo, [str(path), "--ignore-source"], capsys)["accuracy"] == pytest.approx(
            5 / 6, abs=1e-3
        )
    finally:
        geo._BATCH = geo_batch


def test_a_country_the_source_tipped_is_marked_as_the_sources() -> None:
    # "Afghan nationals" weighs a quarter (people from abroad); the source's
    # usual country outweighs it, and the record must not call that the text's
    # (only the text's countries are learnt).
    note = _article("Police arrested a group of Afghan nationals at a market on Sunday.")
    alone, in_dawn = tag_entities_batch([note, note], homes=[None, "PK"])
    assert (alone.country, alone.country_from) == ("AF", "text")
    assert (in_dawn.country, in_dawn.country_from) == ("PK", "source")
