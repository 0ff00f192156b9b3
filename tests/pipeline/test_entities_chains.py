"""Tests for pipeline/_entities_chains.py: names that locate one place, read as one country."""

from __future__ import annotations

import re

import spacy

from pipeline import _entities_chains as chains
from pipeline import _entities_gazetteer as gazetteer
from pipeline import _entities_rules as rules
from pipeline._entities_rules import Span

_NLP = spacy.blank("en")


def _read(
    text: str, tagged: dict[str, str], context: set[str] | None = None
) -> dict[str, str | None]:
    # The names in ``tagged`` are the tagger's (name -> label), the others are
    # left to the chains; the answer is keyed by each name's first word.
    tokens = rules.Tokens(_NLP(text), text)
    spans = [
        Span(text.index(n), text.index(n) + len(n), label, "model") for n, label in tagged.items()
    ]
    readings = chains.chain_readings(tokens, spans, context or set())
    return {
        re.match(r"\w+", text[start:]).group(): (place.country if place else None)  # type: ignore[union-attr]
        for start, place in readings.items()
    }


def test_the_broader_area_decides_which_namesake_is_meant() -> None:
    # Alone, Shahdara is the Delhi one and Jafarabad an Indian town.
    assert gazetteer.resolve("Shahdara", ()).country == "IN"  # type: ignore[union-attr]
    assert _read("Boys protested in Shahdara, Lahore.", {"Shahdara": "LOC", "Lahore": "LOC"}) == {
        "Shahdara": None,  # no Shahdara of Pakistan in the tables: no evidence
        "Lahore": "PK",
    }
    read = _read(
        "Gunmen attacked in Jafarabad, Balochistan.", {"Jafarabad": "LOC", "Balochistan": "LOC"}
    )
    assert read == {"Jafarabad": None, "Balochistan": "PK"}


def test_a_person_or_untagged_name_in_a_chain_counts_as_a_place() -> None:
    read = _read("A bomb went off in Dasht, Mastung.", {"Dasht": "LOC", "Mastung": "PER"})
    assert read == {"Dasht": None, "Mastung": "PK"}
    read = _read("Militants attacked Mandoli (Bandiagara, Mopti).", {"Mandoli": "LOC"})
    assert set(read.values()) == {"ML", None} and read["Mopti"] == "ML"


def test_words_that_are_no_chain_are_left_alone() -> None:
    # One readable name, common English words, or names not joined by
    # "in", "of", a comma or a bracket make no chain.
    assert _read("Protesters marched in Lahore.", {"Lahore": "LOC"}) == {}
    assert _read("The Church of Our Lady in Delhi.", {"Delhi": "LOC"}) == {}
    assert _read("Lahore and Karachi saw rallies.", {"Lahore": "LOC", "Karachi": "LOC"}) == {}


def test_country_names_keep_their_own_reading() -> None:
    read = _read(
        "Citizens from Myanmar in Thailand rallied.", {"Myanmar": "LOC", "Thailand": "LOC"}
    )
    assert read == {}


def test_the_countries_the_article_names_tip_a_close_chain() -> None:
    # Rafah is a Palestinian city and a smaller Egyptian town.
    text = "Troops struck west of Rafah (Rafah, Sinai)."
    tagged = {"Rafah": "LOC"}
    assert _read(text, tagged)["Rafah"] == "PS"
    assert _read(text, tagged, {"EG"})["Rafah"] == "EG"


def test_a_village_is_a_weaker_vote_than_a_province() -> None:
    assert chains.strength(gazetteer.candidates("Balochistan")) == 1.0
    assert chains.strength(gazetteer.candidates("Shahdara")) < 0.5


def test_a_lone_known_name_beside_an_unknown_place_is_a_place() -> None:
    # "Lash Juwayn" is not in the tables; "Farah", tagged as a person, is an
    # Afghan province. A village-sized namesake ("Tirah", a town of Israel by
    # an alternative spelling) is not enough on its own.
    read = _read("Fighting in Lash Juwayn district, Farah.", {"Lash Juwayn": "LOC", "Farah": "PER"})
    assert read == {"Farah": "AF"}
    assert _read("Strikes in Tarkho Kas, Tirah.", {"Tarkho Kas": "PER", "Tirah": "PER"}) == {}


def test_an_abbreviation_in_brackets_is_no_place() -> None:
    text = "Students of the School of Open Learning (SOL) in Delhi protested."
    assert _read(text, {"Open Learning": "ORG", "SOL": "ORG", "Delhi": "LOC"}) == {}


def _tag(body: str) -> str | None:
    from datetime import UTC, datetime

    from pipeline.entities import tag_entities
    from pipeline.records import Article

    now = datetime(2026, 1, 26, tzinfo=UTC)
    article = Article(
        id="t", source="test", headline="", body=body, published_at=now, received_at=now
    )
    return tag_entities(article).country


def test_the_stage_reads_chains_and_ignores_the_us_dollar_as_context() -> None:
    # Alone, Shahdara is the one of Delhi; "US dollar" once made Tripoli the
    # small US town through the votes of the article.
    assert _tag("Boys' relatives protested in Shahdara, Lahore against the police.") == "PK"
    assert _tag("Protests over the US dollar exchange rate blocked roads in Tripoli.") == "LY"


def test_a_cue_makes_places_of_the_names_after_it_only() -> None:
    # "Asayish" (a force) is before the cue, "Ain al Arab" is unknown: Aleppo
    # is the chain's one readable name, and no tagger saw it.
    text = "A drone struck Asayish in Ain al Arab city in Aleppo countryside."
    assert _read(text, {}) == {"Aleppo": "SY"}
    assert _read("Fighting in the Borgi village of Farah.", {}) == {"Farah": "AF"}
    assert _read("Asayish of Aleppo.", {}) == {}


def test_names_split_at_their_particles_are_one_place() -> None:
    # Al Jawf is a province of Yemen and of Saudi Arabia; the district named
    # beside it, which the tagger cut at "wa ash", is only Yemeni.
    text = "Fighting near the desert (Khabb wa ash Shaaf, Al Jawf) left ten dead."
    read = _read(text, {"Khabb": "LOC", "Shaaf": "LOC", "Al Jawf": "PER"})
    assert read == {"Khabb": "YE", "Al": "YE"}
    untagged = _read("Fighting in Khabb wa ash Shaaf, Al Jawf, left ten dead.", {})
    assert untagged == {"Khabb": "YE", "Al": "YE"}


def test_an_arabic_name_in_lower_case_is_a_name_of_the_chain() -> None:
    from pipeline.entities import _nlp

    # "al-Hasakeh" is one token for the stage's tokenizer, and the province
    # that locates the village beside it.
    text = "Crops were burnt in Attia, al-Hasakeh."
    tokens = rules.Tokens(_nlp().make_doc(text), text)
    spans = [Span(text.index("Attia"), text.index("Attia") + 5, "LOC", "model")]
    readings = chains.chain_readings(tokens, spans)
    hasakeh = readings.get(text.index("al-Hasakeh"))
    assert hasakeh is not None and hasakeh.country == "SY"
