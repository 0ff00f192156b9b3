"""Country-specific bodies and words: parties, armed groups, local institutions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline import _entities_knowledge as knowledge
from pipeline.entities import tag_entities, warm_up
from pipeline.records import Article

NOW = datetime(2026, 1, 26, tzinfo=UTC)


def test_names_match_as_whole_words_longest_first() -> None:
    text = "A BNP-led blockade; the Upazila chairman of the Chhatra League; CPI(M) workers."
    assert knowledge.countries_named(text) == ["BD", "BD", "BD", "IN"]
    # Inside another word, or in the wrong case for an acronym, nothing.
    assert knowledge.countries_named("BNPX and bnp and Ambazonians") == []


def test_congress_is_the_indian_party_only_with_its_rank_and_file() -> None:
    assert knowledge.countries_named("Congress workers blocked the highway.") == ["IN"]
    assert knowledge.countries_named("Nepali Congress leaders met.") == ["NP"]
    assert knowledge.countries_named("African National Congress leaders met.") == ["ZA"]
    assert knowledge.countries_named("Members of Congress voted on the bill.") == []


def test_lower_case_words_match_in_any_case() -> None:
    assert knowledge.country_of("upazila") == "BD"
    assert knowledge.country_of("Upazila") == "BD"
    assert knowledge.country_of("Awami League") == "BD"
    assert knowledge.country_of("Awami") is None


@pytest.mark.parametrize("word", ["hartal", "Taliban", "Kurdish", "Tamil", "crore"])
def test_words_of_several_countries_are_left_out(word: str) -> None:
    assert knowledge.country_of(word) is None
    assert knowledge.countries_named(f"A {word} was called.") == []


def test_a_party_alone_gives_the_article_its_country() -> None:
    warm_up()
    body = "Activists of the Awami League and the BNP clashed; five were injured."
    article = Article(
        id="t", source="test", headline="", body=body, published_at=NOW, received_at=NOW
    )
    assert tag_entities(article).country == "BD"
