"""Tests for pipeline/_entities_geo.py: the country evidence of an article, without the model."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

from pipeline import _entities_geo as geo
from pipeline.records import Entity


def _entity(name: str, country: str, position: int) -> Entity:
    return Entity(
        name=name,
        label="LOC",
        mentions=1,
        first_position=position,
        variants=(name,),
        country=country,
    )


def test_best_country_is_the_one_with_most_evidence() -> None:
    scores = defaultdict(float, {"SY": 2.5, "RU": 1.0})
    assert geo.best_country(scores, []) == "SY"
    assert geo.best_country(defaultdict(float), []) is None


def test_a_tie_goes_to_the_country_named_first() -> None:
    scores = defaultdict(float, {"RU": 1.0, "SY": 1.0})
    entities = [_entity("Damascus", "SY", 40), _entity("Moscow", "RU", 10)]
    assert geo.best_country(scores, entities) == "RU"
    assert geo.best_country(scores, list(reversed(entities))) == "RU"


def test_last_resort_spelling_reads_only_words_that_are_not_english() -> None:
    assert not geo.spelling_scores("The Federation of Resident Doctors' Association protested.")
    guess = geo.spelling_scores("Shelling near Kalynove-Borshchuvate and Novohryhorivka.")
    assert max(guess, key=guess.__getitem__) == "UA"


def test_a_name_with_a_capital_inside_is_one_word() -> None:
    assert geo._CAPITALISED.findall("Residents of KwaDwesi and McAllen.") == [
        "Residents",
        "KwaDwesi",
        "McAllen",
    ]


def test_an_ambiguous_place_follows_the_votes_of_the_article() -> None:
    # Hyderabad is in India and in Pakistan; a vote for Pakistan (Sindh named
    # beside it) decides, and without votes the larger one wins.
    with_sindh = geo.resolve_places({"Hyderabad"}, set(), Counter({"PK": 1}))
    assert with_sindh["Hyderabad"] is not None and with_sindh["Hyderabad"].country == "PK"
    alone = geo.resolve_places({"Hyderabad"}, set(), Counter())
    assert alone["Hyderabad"] is not None and alone["Hyderabad"].country == "IN"


def test_only_country_names_are_named_countries() -> None:
    assert geo.named_countries({"Pakistan", "Karachi", "Syria"}) == {"PK", "SY"}


def test_a_place_across_the_border_or_of_origin_weighs_less() -> None:
    import spacy

    from pipeline._entities_rules import Span

    nlp = spacy.blank("en")

    def weight(text: str, name: str) -> float:
        start = text.index(name)
        return geo.place_weight(nlp(text), Span(start, start + len(name), "LOC", "model"), name, 0)

    assert weight("Fighting in Gedo near the border with Kenya.", "Kenya") < 1.0
    assert weight("A district bordering Myanmar.", "Myanmar") < 1.0
    assert weight("Gunmen from Pakistan attacked.", "Pakistan") < 1.0
    assert weight("Troops near the Myanmar border.", "Myanmar") < 1.0
    assert weight("Gunmen attacked in Pakistan.", "Pakistan") == 1.0


def test_an_untagged_district_votes_for_its_country_but_not_a_four_letter_one() -> None:
    import spacy

    from pipeline import _entities_rules as rules

    def votes(text: str) -> Counter[str]:
        return geo.region_votes(rules.Tokens(spacy.blank("en")(text), text), [])

    # "Rupandehi" is a district of Nepal only; "Bhai" one of Liberia, and a
    # word of Sikh names.
    assert votes("Police fired tear gas at protesters in Rupandehi on Monday.") == {"NP": 1}
    assert votes("Supporters of Bhai Sahib burned an effigy.") == Counter()


def test_a_village_reading_is_weaker_evidence_than_a_town() -> None:
    from pipeline import _entities_gazetteer as gazetteer

    village = gazetteer.Place("DE", "city", 1000)
    assert 0.3 <= geo.reading_weight(village) < 0.7
    assert geo.reading_weight(gazetteer.Place("PK", "city", 2_000_000)) == 1.0
    assert geo.reading_weight(gazetteer.Place("NP", "district", 20_000)) == 1.0
    assert geo.reading_weight(gazetteer.Place("XX", "city", 0)) == 0.3


def test_a_nationality_outweighs_a_foreign_village_of_the_same_name() -> None:
    from pipeline.entities import tag_entities, warm_up
    from pipeline.records import Article

    # Mesel is only listed as a village in Germany: a namesake of a place the
    # tables lack, so the nationality word decides.
    warm_up()
    body = "Sudanese gunmen attacked displaced people in Mesel."
    now = datetime(2026, 1, 26, tzinfo=UTC)
    article = Article(
        id="t", source="test", headline="", body=body, published_at=now, received_at=now
    )
    assert tag_entities(article).country == "SD"


def test_nationals_and_firms_from_abroad_count_less_than_the_place() -> None:
    import spacy

    from pipeline import _entities_rules as rules

    nlp = spacy.blank("en")
    text = "Indian nationals attacked Nepalese police."
    doc = nlp(text)
    scores = geo.evidence(rules.Tokens(doc, text), text, [], 0)
    assert scores["NP"] > scores["IN"] > 0
