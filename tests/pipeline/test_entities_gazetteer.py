"""Geotagging: the gazetteer's readings of place names and the article's country."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import _entities_gazetteer as gazetteer
from pipeline.entities import tag_entities, warm_up
from pipeline.records import Article

NOW = datetime(2026, 1, 26, tzinfo=UTC)


def _country(body: str) -> str | None:
    warm_up()
    article = Article(
        id="t", source="test", headline="", body=body, published_at=NOW, received_at=NOW
    )
    return tag_entities(article).country


def _countries(name: str) -> set[str]:
    return {p.country for p in gazetteer.candidates(name)}


def test_the_spelling_model_learns_district_names_too() -> None:
    # Nepal has 74 towns in the tables to India's 7,000: without its
    # districts the model reads Nepali names as Indian.
    assert gazetteer.country_by_spelling("Sindhupalchowk")[0] == "NP"
    assert gazetteer.country_by_spelling("Okhaldhunga")[0] == "NP"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Svitlodars'k", "svitlodarsk"),
        ("Dar\u2019a", "dara"),
        ("Ash-Shajara", "ash shajara"),
        ("Cote d'Ivoire", "cote divoire"),
    ],
)
def test_fold_ignores_apostrophes_and_hyphens(name: str, key: str) -> None:
    assert gazetteer.fold(name) == key


def test_country_aliases_still_resolve_after_folding() -> None:
    assert gazetteer.country_code("Cote d'Ivoire") == "CI"
    assert gazetteer.country_code("Congo-Brazzaville") == "CG"
    assert gazetteer.country_code("U.S.") == "US"


def test_small_towns_keep_transliterations_not_unrelated_names() -> None:
    # Svetlodarsk (11,000 people) is also spelled Svitlodarsk; a US town of
    # 3,000 called Cashmere lists "Kashmir" among its names, which must not count.
    assert _countries("Svitlodarsk") == {"UA"}
    assert "US" not in _countries("Kashmir")


def test_subdivisions_are_found_by_their_parts() -> None:
    assert gazetteer.resolve("Anbar", set()).country == "IQ"  # "Al Anbar"
    assert _countries("Kashmir") == {"IN", "PK"}  # "Jammu and Kashmir", "Azad Kashmir"


def test_compass_words_codes_and_short_words_are_not_places() -> None:
    assert not any(p.kind == "subdivision" for p in gazetteer.candidates("South"))
    assert gazetteer.candidates("SKZ") == []  # Sukkur's airport code
    assert gazetteer.candidates("Al") == []
    assert _countries("US") == {"US"}


def test_country_by_spelling() -> None:
    assert gazetteer.country_by_spelling("Kalynove-Borshchuvate")[0] == "UA"
    assert gazetteer.country_by_spelling("Chhajjubagh")[0] == "IN"
    assert gazetteer.country_by_spelling("RU") is None


def test_spelling_learns_province_names_too() -> None:
    # Without the provinces ("Madhesh", "Koshi") these read as Indian.
    assert gazetteer.country_by_spelling("Madheshi Jaleshwor")[0] == "NP"


def test_spelling_reads_each_word_with_its_own_edges() -> None:
    # Read as one string, the gaps between the names ("r a", "i c") made
    # them look like towns of Pakistan and Spain; word by word they are Indian.
    assert gazetteer.country_by_spelling("Jadavpur Abhijit Chakraborti")[0] == "IN"
    assert gazetteer.country_by_spelling("Hazare Jantar Mantar")[0] == "IN"


def test_a_province_beside_the_place_says_which_one() -> None:
    body = "Journalists protested in Hyderabad city (Hyderabad, Sindh) against an arrest."
    assert _country(body) == "PK"
    assert _country("Journalists protested in Hyderabad against an arrest.") == "IN"


def test_a_named_province_outweighs_a_foreign_force() -> None:
    body = "Turkish forces shelled regime positions in Saraqab in Idleb with artillery fire."
    assert _country(body) == "SY"


def test_generic_words_are_not_towns() -> None:
    # Union (New Jersey) is not the "Kisan Union" of Indian farmers.
    assert _country("Members of the Bharatiya Kisan Union protested on Friday.") != "US"


def test_an_unlisted_place_is_guessed_from_its_spelling() -> None:
    body = "Two people were injured when a crude bomb exploded in Chhajjubagh on Tuesday."
    assert _country(body) == "IN"


def test_eval_geo_half_keeps_even_or_odd_lines(tmp_path: Path, capsys) -> None:
    from evaluate import geo

    rows = [
        {"text": "Two people were killed in a mortar attack on Baidoa.", "country": "Somalia"},
        {"text": "A protest was held.", "country": "India"},
        {"text": "Militia fighters clashed in Goma, North Kivu.", "country": "DR Congo"},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    summaries = {}
    for half in ("even", "odd"):
        parser = argparse.ArgumentParser()
        geo.configure(parser)
        assert geo.run(parser.parse_args([str(path), "--half", half])) == 0
        summaries[half] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summaries["even"] == {"task": "geo", "n": 2, "accuracy": 1.0}
    assert summaries["odd"] == {"task": "geo", "n": 1, "accuracy": 0.0}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Idlib province", "SY"),
        ("Northern Iraq", "IQ"),
        ("Upper Kurram", "PK"),
    ],
)
def test_places_read_without_admin_nouns_and_directions(name: str, code: str) -> None:
    assert _countries(name) == set()  # only a loose reading finds them
    place = gazetteer.resolve(name, (), loose=True)
    assert place is not None and place.country == code


def test_districts_the_town_tables_lack_are_places() -> None:
    # GeoNames admin-2 units: Nepal's districts, India's, Pakistan's agencies.
    assert _countries("Saptari") == {"NP"}
    place = gazetteer.resolve("Rohtas district", (), loose=True)
    assert place is not None and (place.country, place.kind) == ("IN", "district")
    assert _countries("Lower Dir") == {"PK"}


def test_districts_weigh_like_small_towns_and_are_no_english_words() -> None:
    district = gazetteer.candidates("Saptari")[0]
    assert gazetteer.plausibility(district) < gazetteer.plausibility(
        gazetteer.Place("NP", "city", 100_000)
    )
    # "Day", "Lake", "Capital" are districts somewhere, and words on the wire.
    for word in ("Day", "Lake", "Capital", "Town"):
        assert not any(p.kind == "district" for p in gazetteer.candidates(word))


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Kabupaten Solok", "solok"),
        ("Tomioka-shi", "tomioka"),
        ("Chulymskiy Rayon", "chulymskiy"),
        ("Partido de Tandil", "tandil"),
        ("Saptari District", "saptari"),
    ],
)
def test_district_names_lose_their_administrative_words(name: str, key: str) -> None:
    assert gazetteer._district_key(name) == key


def test_spanish_states_without_the_name_they_honour() -> None:
    assert _countries("Michoacan") == {"MX"}  # pycountry: "Michoacán de Ocampo"
    assert _countries("Madre") != {"PE"}  # "Madre de Dios" keeps its whole name


def test_a_direction_alone_is_no_place() -> None:
    assert gazetteer.candidates("Centre") == []
    assert gazetteer.candidates("North", loose=True) == []


def test_arabic_article_forms() -> None:
    assert _countries("Ar-Raqqa") == {"SY"}  # listed as "Raqqa"
    # Untagged "al-Hasakeh" still says where "Turkish forces" shelled.
    assert _country("Turkish forces shelled Fakkeh in al-Hasakeh using artillery.") == "SY"


def test_a_foreign_force_counts_less_than_the_place() -> None:
    # One nationality word of an actor ("Indian forces") is outweighed by a
    # nationality word of the place's people.
    assert _country("Indian forces fired at Nepali protesters.") == "NP"


def test_a_name_called_a_district_is_read_as_one() -> None:
    # Ngao is a town in Congo and a district of Thailand; Dang a village in
    # Vietnam and a district of Nepal and of India; Zari a town of 39,000 in
    # Poland (large enough to be a district's seat) and a district of Afghanistan.
    assert _countries("Ngao") == {"CG", "TH"}
    assert {p.country for p in gazetteer.candidates("Ngao", area=True)} == {"TH"}
    assert {p.country for p in gazetteer.candidates("Dang district", loose=True)} == {"IN", "NP"}
    assert {p.country for p in gazetteer.candidates("Zari", area=True)} == {"AF", "PL"}
    assert _country("Villagers protested in Ngao district.") == "TH"
    assert _country("Villagers protested outside the Ngao district office.") == "TH"
    assert _country("Villagers protested in Ngao.") == "CG"
    # A name with no district reading keeps its other readings.
    assert {p.country for p in gazetteer.candidates("Lahore", area=True)} == {"PK"}
