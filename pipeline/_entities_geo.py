"""Geotagging for the entity stage: which country an article is about, and where its places are.

The evidence, weighed per country: places the tagger found (resolved against
the other places of the article, so an ambiguous "Hyderabad" follows the
province named beside it), nationality words ("Syrian"), countries and
provinces inside other names ("National Bank of Pakistan"), parties and armed
groups (:mod:`pipeline._entities_knowledge`), and, when none of these is
there, weaker guesses from capitalised words and from the spelling of names
no table lists. :func:`best_country` picks the article's country.

Example:
    >>> best_country(defaultdict(float, {"SY": 2.5, "RU": 1.0}), [])
    'SY'
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from pipeline import _entities_gazetteer as gazetteer
from pipeline import _entities_knowledge as knowledge
from pipeline import _entities_rules as rules
from pipeline._entities_rules import Span
from pipeline.records import Entity

HEADLINE_WEIGHT = 2.0  # a place in the headline or dateline counts double
# The source's usual country (pipeline._entities_sources) counts as much as a
# nationality word, less than one place the text names: a local paper's
# report from abroad stays abroad. (1.0 scored higher on the even half of
# acled.dev, 0.945 against 0.942, but lets the source outweigh a place.)
HOME_WEIGHT = 0.5
_DEMONYM_WEIGHT = 0.5
_ACTOR_WEIGHT = 0.5
_ACTOR_NOUNS = frozenset(
    {
        "forces",
        "force",
        "army",
        "troops",
        "soldiers",
        "military",
        "drone",
        "drones",
        "jets",
        "warplanes",
        "aircraft",
        "aircrafts",
        "coalition",
        "navy",
        "artillery",
        "airstrikes",
        # "Indian nationals", "a Chinese firm", "the Saudi embassy": people
        # and bodies from abroad, in the country of the event.
        "nationals",
        "citizens",
        "firm",
        "firms",
        "company",
        "companies",
        "owned",
        "investors",
        "embassy",
    }
)
_FALLBACK_WEIGHT = 0.3
_FALLBACK_POPULATION = 5000
_NAME_WORD_POPULATION = 100000  # "Lahore Press Club", not "Kisan Union"
_FALLBACK_WORD_POPULATION = 50000
_REGION_POPULATION = 100000  # a town this large is known context, like a province
# An untagged region counts for less than a tagged place and more than a
# nationality word (which often names a foreign actor: "Turkish forces").
REGION_WEIGHT = 0.6
# A district name of four letters ("Bhai", "Nahi") is as often a word of a
# person's or a group's name; a longer one ("Saptari", "Kurram") is a region.
_DISTRICT_VOTE_LENGTH = 5
_PLACE_NOUNS = {
    "district",
    "province",
    "village",
    "town",
    "city",
    "county",
    "region",
    "state",
    "governorate",
    "upazila",
    "tehsil",
    "municipality",
    "area",
    "division",
}  # a bare capitalised word is weaker evidence
# Capitalised words that head names of bodies and streets ("Kisan Union",
# "Post", "Science Laboratory"), and are also the names of towns somewhere.
_GENERIC_WORDS = rules.ORGANISATION_HEADS | {
    "congress",
    "post",
    "university",
    "college",
    "school",
    "hospital",
    "market",
    "road",
    "street",
    "square",
    "gate",
    "colony",
    "sector",
    "station",
    "bank",
    "court",
    "laboratory",
}
# A place across a border or of origin ("from Pakistan") says little of
# where the event was (0.25 chosen on the even half of acled.dev).
_BEYOND_WEIGHT = 0.25
_BEYOND_BEFORE = frozenset({"from", "bordering"})
# A town's reading counts in full from 100,000 people (log10 5) and at least
# 0.3 (both chosen on the even half of acled.dev).
_SURE_PLAUSIBILITY = 5.0
_VILLAGE_WEIGHT = 0.3
_NOT_A_PLACE_AFTER = {"dollar", "dollars", "cocktail", "cocktails"}
_ADJECTIVAL = {"US", "U.S.", "UK", "U.K.", "EU"}
# "KwaDwesi", "McAllen": one name with capitals inside.
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*")


Scores = defaultdict[str, float]  # country code -> weight of evidence


def evidence(tokens: rules.Tokens, text: str, spans: list[Span], headline_end: int) -> Scores:
    """Country evidence of an article besides its resolved places (nationality words, names, groups)."""
    # Nationality words anywhere (even inside "Syrian Red Crescent") and
    # country names inside other names ("National Bank of Pakistan") are the
    # unambiguous context that places are resolved against.
    scores: Scores = defaultdict(float)
    words = tokens.text
    for i, (word, position) in enumerate(zip(words, tokens.idx, strict=True)):
        if word[:1].isupper():
            # "Sri Lankan", "Costa Rican": the pair, or the word alone.
            pair = f"{words[i - 1]} {word}" if i and words[i - 1][:1].isupper() else ""
            code = (pair and gazetteer.demonym_country(pair)) or gazetteer.demonym_country(word)
            if code:
                # "Turkish forces shelled ...": an actor from abroad as often
                # as the place's own.
                actor = i + 1 < len(words) and words[i + 1].lower() in _ACTOR_NOUNS
                scores[code] += (
                    _DEMONYM_WEIGHT
                    * (HEADLINE_WEIGHT if position < headline_end else 1.0)
                    * (_ACTOR_WEIGHT if actor else 1.0)
                )
    for span in spans:
        if span.label != "LOC" or not gazetteer.candidates(text[span.start : span.end], True):
            for code, weight in _name_evidence(text[span.start : span.end]).items():
                scores[code] += weight
    # Parties, armed groups and country-specific words ("BNP-led", "upazila").
    for code in knowledge.countries_named(text):
        scores[code] += _DEMONYM_WEIGHT
    return scores


def _name_evidence(name: str) -> Scores:
    # "National Bank of Pakistan", "Tamil Nadu Highways Employees' Association":
    # a country or a province in the name gives a country.
    scores: Scores = defaultdict(float)
    words = name.split()
    countries = gazetteer._tables()[0]
    for word in words:
        # Nationality words are counted once, with every other word.
        code = countries.get(gazetteer.fold(word))
        if code:
            scores[code] += _DEMONYM_WEIGHT
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            place = gazetteer.resolve(" ".join(words[i : i + n]), ())
            if (
                place is not None
                and place.kind != "country"
                and (n > 1 or place.population >= _NAME_WORD_POPULATION)
            ):
                scores[place.country] += _FALLBACK_WEIGHT
    return scores


def place_weight(doc: Any, span: Span, surface: str, headline_end: int) -> float:
    """How much one resolved place mention says about the article's country."""
    # "US dollar" says nothing of where; "US military" says as much as
    # "American"; a place in the headline or dateline counts double, one
    # across a border or of origin ("from Pakistan") a quarter.
    weight = HEADLINE_WEIGHT if span.start < headline_end else 1.0
    token = doc.char_span(span.start, span.end, alignment_mode="expand")
    if token is not None and _beyond(doc, token.start, token.end):
        weight *= _BEYOND_WEIGHT
    following = doc[token.end] if token is not None and token.end < len(doc) else None
    if following is None:
        return weight
    if _names_something_else(following):
        return 0.0
    if surface in _ADJECTIVAL and following.is_lower and following.is_alpha:
        return weight * _DEMONYM_WEIGHT
    return weight


def reading_weight(place: gazetteer.Place) -> float:
    """How much a place's reading is worth: full for a province or a town of 100,000, less for a village.

    Example:
        >>> round(reading_weight(gazetteer.Place("FR", "city", 1000)), 1)
        0.6
    """
    # A village of the tables ("Tur", "Keri") is often the namesake of a
    # place they lack; districts and provinces are what the text says they are.
    if place.kind != "city":
        return 1.0
    return max(_VILLAGE_WEIGHT, min(1.0, gazetteer.plausibility(place) / _SURE_PLAUSIBILITY))


def _beyond(doc: Any, start: int, end: int) -> bool:
    # "near the Myanmar border", "bordering Myanmar", "terrorists from
    # Pakistan": the country next door or of origin, not where it happened.
    before = doc[start - 1].lower_ if start > 0 else ""
    before2 = doc[start - 2].lower_ if start > 1 else ""
    after = doc[end].lower_ if end < len(doc) else ""
    return before in _BEYOND_BEFORE or (before2, before) == ("border", "with") or after == "border"


def says_no_place(doc: Any, span: Span) -> bool:
    """Whether a place name is used as a word of something else ("the US dollar")."""
    token = doc.char_span(span.start, span.end, alignment_mode="expand")
    return token is not None and token.end < len(doc) and _names_something_else(doc[token.end])


def _names_something_else(following: Any) -> bool:
    # The word after a place name that makes the name part of another thing.
    return following.lower_ in _NOT_A_PLACE_AFTER


def named_countries(names: set[str]) -> set[str]:
    """The countries among ``names`` that are country names."""
    countries = gazetteer._tables()[0]
    return {countries[key] for key in map(gazetteer.fold, names) if key in countries}


def region_votes(tokens: rules.Tokens, spans: list[Span]) -> Counter[str]:
    """Votes of untagged capitalised words that can only be a region or large town of one country."""
    # Notes name the province or a large town beside the place ("Hyderabad
    # city (Hyderabad, Sindh)"), often where the model sees no place at all:
    # a capitalised word or pair outside the tagged places that can only be a
    # region, a district or a large town of one country says which Hyderabad
    # is meant ("in Rupani, Saptari").
    places = [(s.start, s.end) for s in spans if s.label == "LOC"]
    votes: Counter[str] = Counter()
    words = tokens.text
    for i, word in enumerate(words):
        if not (_titled(word) or rules.ARABIC_NAME.match(word)) or any(
            a <= tokens.idx[i] < b for a, b in places
        ):
            continue
        pair = f"{word} {words[i + 1]}" if i + 1 < len(words) and _titled(words[i + 1]) else ""
        for name in (word, pair) if pair else (word,):
            # "in Ngao district": the district, not a namesake town.
            after = i + len(name.split())
            area = after < len(words) and words[after].lower() in gazetteer.AREA_NOUNS
            readings = gazetteer.candidates(name, area=area)
            countries = {p.country for p in readings}
            if len(countries) == 1 and any(_region(p, name) for p in readings):
                votes.update(countries)
    return votes


def _region(place: gazetteer.Place, name: str) -> bool:
    # A province, a district (see _DISTRICT_VOTE_LENGTH) or a large town.
    return (
        place.kind == "subdivision"
        or (place.kind == "district" and len(name) >= _DISTRICT_VOTE_LENGTH)
        or place.population >= _REGION_POPULATION
    )


def _titled(word: str) -> bool:
    return len(word) > 2 and word[:1].isupper() and not word.isupper()


def resolve_places(
    names: set[str],
    context: set[str],
    votes: Counter[str],
    voters: set[str] | None = None,
    areas: Collection[str] = (),
) -> dict[str, gazetteer.Place | None]:
    """Each place name -> its most likely reading given the article's context and votes.

    ``areas`` are the names the text calls a district or a province (see
    :func:`area_names`): read as such where the gazetteer has that reading.
    """
    # Places of one article tend to share a country: names that can only be
    # in one country vote for it (all of ``names`` unless ``voters`` says
    # which), and ambiguous names follow the majority.
    votes = Counter(votes)
    for name in names if voters is None else voters:
        readings = gazetteer.candidates(name, loose=True, area=name in areas)
        countries = {p.country for p in readings}
        if len(countries) == 1:
            votes.update(countries)
    return {
        name: gazetteer.resolve(name, context, votes, loose=True, area=name in areas)
        for name in names
    }


def area_names(doc: Any, spans: list[Span], names: Mapping[tuple[str, str], str]) -> set[str]:
    """The canonical names of places the text calls a district or a province ("Dang district")."""
    out = set()
    for span in spans:
        if span.label != "LOC":
            continue
        token = doc.char_span(span.start, span.end, alignment_mode="expand")
        if (
            token is not None
            and token.end < len(doc)
            and doc[token.end].lower_ in gazetteer.AREA_NOUNS
        ):
            out.add(names[(doc.text[span.start : span.end], span.label)])
    return out


def fallback_scores(doc: Any, text: str, spans: list[Span]) -> Scores:
    """Weak evidence when an article names no place and no nationality."""
    # No place and no nationality word: the model may have called a place a
    # person or an organisation, or missed it; try those names and capitalised
    # words against the gazetteer, weakly.
    names = [
        (text[s.start : s.end], _FALLBACK_POPULATION, False) for s in spans if s.label != "LOC"
    ]
    words = list(doc)
    for i, token in enumerate(words):
        if not token.is_title:
            continue
        if not token.is_sent_start and not token.is_stop:
            names.append((token.text, _FALLBACK_WORD_POPULATION, False))
        # "Nakhon Ratchasima villagers", "in Phimai district".
        if i + 1 < len(words) and words[i + 1].is_title:
            names.append((doc[i : i + 2].text, 0, False))
        if i + 1 < len(words) and words[i + 1].lower_ in _PLACE_NOUNS:
            names.append((token.text, 0, words[i + 1].lower_ in gazetteer.AREA_NOUNS))
    scores: Scores = defaultdict(float)
    for name, population, area in names:
        if name.lower() in _GENERIC_WORDS:
            continue
        place = gazetteer.resolve(name, (), area=area)
        if place is not None and place.population >= population:
            scores[place.country] += _FALLBACK_WEIGHT
    if not scores:
        scores = spelling_scores(text)
    return scores


def spelling_scores(text: str) -> Scores:
    """The country whose town names the article's unknown capitalised words look like."""
    # Last resort: the capitalised words that are no English word still look
    # like the places of one country ("Shyamarghat", "Kalynove-Borshchuvate"),
    # read together as one guess; an acronym or "Federation" says nothing.
    known = gazetteer.english_words()
    words = [
        w
        for w in _CAPITALISED.findall(text)
        if w.lower() not in known and w.lower() not in _GENERIC_WORDS
    ]
    scores: Scores = defaultdict(float)
    guess = gazetteer.country_by_spelling(" ".join(words)) if words else None
    if guess is not None:
        scores[guess[0]] += _FALLBACK_WEIGHT * guess[1]
    return scores


def best_country(scores: Scores, entities: list[Entity]) -> str | None:
    """The country with the most evidence; ties go to the one named first."""
    if not scores:
        return None
    first = {e.country: e.first_position for e in reversed(entities) if e.country}
    return max(scores, key=lambda c: (scores[c], -first.get(c, 10**9)))
