"""Tests for pipeline/_entities_sources.py: a source's usual country, learnt from its articles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline._entities_sources import SourceCountries
from pipeline.records import Article, TaggedEntities

NOW = datetime(2026, 1, 26, tzinfo=UTC)


def _learn(sources: SourceCountries, source: str, countries: str, country_from: str = "text"):
    for code in countries.split():
        sources.learn(source, code, country_from)


def test_a_source_has_a_home_once_enough_of_its_articles_agree() -> None:
    sources = SourceCountries(min_articles=5, min_share=0.6)
    _learn(sources, "Dawn", "PK PK PK IN")
    assert sources.home("Dawn") is None  # four articles are not enough
    _learn(sources, "Dawn", "PK")
    assert sources.home("Dawn") == "PK"
    assert sources.home("The Hindu") is None  # never seen


def test_a_source_that_reports_from_everywhere_has_no_home() -> None:
    sources = SourceCountries(min_articles=5, min_share=0.6)
    _learn(sources, "Reuters", "US SY RU US GB FR US CN")  # 3 of 8 in one country
    assert sources.home("Reuters") is None


def test_only_countries_the_text_gave_are_learnt() -> None:
    # A country from the source itself would only confirm the source; a
    # guess from spellings is too weak to learn from.
    sources = SourceCountries(min_articles=2)
    _learn(sources, "Dawn", "PK PK", country_from="source")
    _learn(sources, "Dawn", "PK PK", country_from="guess")
    sources.learn("Dawn", None, "")
    sources.learn("", "PK", "text")
    assert sources.home("Dawn") is None and len(sources) == 0


def test_a_source_that_changes_its_beat_is_followed() -> None:
    sources = SourceCountries(min_articles=5, min_share=0.6, window=20)
    _learn(sources, "Kyiv Post", " ".join(["RU"] * 19))
    assert sources.home("Kyiv Post") == "RU"
    _learn(sources, "Kyiv Post", " ".join(["UA"] * 30))
    # Without halving at the window it would take 19 more UA articles.
    assert sources.home("Kyiv Post") == "UA"


def test_memory_is_bounded_by_forgetting_the_source_seen_longest_ago() -> None:
    sources = SourceCountries(min_articles=1, max_sources=2)
    _learn(sources, "A", "IN")
    _learn(sources, "B", "PK")
    _learn(sources, "A", "IN")  # A is seen again: B is now the oldest
    _learn(sources, "C", "NP")
    assert sources.sources() == ["A", "C"]
    assert sources.home("B") is None and sources.home("A") == "IN"


def test_learn_batch_and_homes_read_the_articles_source() -> None:
    sources = SourceCountries(min_articles=1)
    articles = [
        Article(id=str(i), source=s, headline="", body="x", published_at=NOW, received_at=NOW)
        for i, s in enumerate(("Dawn", "Bangkok Post"))
    ]
    sources.learn_batch(
        articles,
        [TaggedEntities(country="PK", country_from="text"), TaggedEntities(country_from="")],
    )
    assert sources.homes(articles) == ["PK", None]


@pytest.mark.parametrize(
    "kwargs", [{"min_articles": 0}, {"min_share": 0.4}, {"min_articles": 10, "window": 15}]
)
def test_settings_that_cannot_work_are_refused(kwargs) -> None:
    with pytest.raises(ValueError, match="min_articles"):
        SourceCountries(**kwargs)
