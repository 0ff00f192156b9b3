"""Place chains: names that locate one place together, read as one country.

Event notes and datelines locate a place by the areas around it: "Mandoli
(Bandiagara, Mopti)", "Shahdara, Lahore", "Mansura city in Ar-Raqqa
countryside", "the Andar area of Nirkh district, Wardak". The names of one
chain lie in one country, so the chain is read jointly: each name is a vote,
split between the countries it can be in as its readings are likely (size,
the countries the article names) and worth less when its largest reading is
a village; the country with most votes wins (a tie goes to the later name,
the broader area), each name takes its reading there, and a tagged place with
no reading there is one the gazetteer lacks, not its namesake abroad. A name
the tagger called a person or an organisation ("Mastung", "Veracruz"), or did
not tag, counts as a place when it stands in a chain beside a tagged place,
after "in" or in brackets; names with only particles between them ("Khabb"
wa ash "Shaaf") are one name.

Example:
    >>> {c.country for c in chain_readings(tokens, spans).values() if c}   # "in Shahdara, Lahore"
    {'PK'}
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from pipeline import _entities_gazetteer as gazetteer
from pipeline import _entities_rules as rules
from pipeline._entities_rules import Span

_MAX_GAP = 5  # tokens between two names of one chain ("area of Nirkh district ,")
_MAX_NAME = 4  # tokens of an untagged name
_SURE_PLAUSIBILITY = 5.0  # log10 of 100,000 people
_SURE_SINGLE = 0.7  # a lone name the tagger did not call a place: a town, not a village
# Words that may stand between the names of one chain. One of _JOINS must be
# among them: names side by side with only a noun between are not a chain.
_JOINS = frozenset({",", "(", "in", "of"})
_GAP_WORDS = _JOINS | {
    ")",
    "the",
    "and",
    "-",
    "city",
    "town",
    "village",
    "villages",
    "district",
    "districts",
    "province",
    "region",
    "state",
    "governorate",
    "county",
    "department",
    "municipality",
    "subdivision",
    "division",
    "sector",
    "area",
    "areas",
    "zone",
    "camp",
    "neighbourhood",
    "neighborhood",
    "countryside",
    "upazila",
    "tehsil",
    "commune",
    "north",
    "south",
    "east",
    "west",
    "northern",
    "southern",
    "eastern",
    "western",
    "central",
    "rural",
}
# Words after which a capitalised name is a place ("in Mastung").
_PLACE_CUES = frozenset({"in", "at", "near", "of", "from", "outside"})
# Lower-case words inside a name ("Norte de Santander", "Khabb wa ash Shaaf").
_NAME_JOINERS = frozenset({"de", "del", "do", "da", "dos", "das", "al", "el", "wa", "ash", "ar"})


class _Name(NamedTuple):
    start: int  # first token
    end: int  # token after the last
    label: str  # "LOC", "PER", "ORG" or "" for a name no tagger saw


def chain_readings(
    tokens: rules.Tokens, spans: list[Span], context: Collection[str] = ()
) -> dict[int, gazetteer.Place | None]:
    """Character start of each name in a place chain -> its reading in the chain's country.

    ``None`` marks a name that has no reading in that country (a place the
    gazetteer lacks): its namesake elsewhere is no evidence.
    """
    out: dict[int, gazetteer.Place | None] = {}
    for chain in _chains(tokens, spans):
        names = [tokens.span(n.start, n.end) for n in chain]
        readings = [gazetteer.candidates(name, loose=True) for name in names]
        readable = [k for k, options in enumerate(readings) if options]
        if not readable:
            continue
        if len(readable) == 1:
            # One readable name says no more than it does alone, except that
            # a person or an organisation standing there is a place.
            k = readable[0]
            if chain[k].label != "LOC" and strength(readings[k]) >= _SURE_SINGLE:
                out[tokens.idx[chain[k].start]] = gazetteer.resolve(names[k], context, loose=True)
            continue
        country = _chain_country(readings, context)
        for name, options in zip(chain, readings, strict=True):
            here = [p for p in options if p.country == country]
            if options and options[0].kind == "country":
                continue  # "citizens from Myanmar in Thailand": both stand
            if name.label == "LOC" or here:
                out[tokens.idx[name.start]] = _best(here)
    return out


def _best(options: list[gazetteer.Place]) -> gazetteer.Place | None:
    # Own names before alternative spellings, then the largest.
    return min(options, key=lambda p: (p.alias, -p.population), default=None)


def _chain_country(readings: list[list[gazetteer.Place]], context: Collection[str]) -> str:
    # Each name is one vote, split between the countries it can be in as its
    # readings are likely (size, and the countries the article names); the
    # country with most votes wins, a tie going to the later name (the
    # broader area).
    votes: dict[str, float] = {}
    order: dict[str, int] = {}
    for position, options in enumerate(readings):
        likelihood: dict[str, float] = {}
        for place in options:
            odds = 10 ** (
                gazetteer.plausibility(place) + gazetteer.CONTEXT_BONUS * (place.country in context)
            )
            likelihood[place.country] = max(likelihood.get(place.country, 0.0), odds)
        total = sum(likelihood.values())
        for country, odds in likelihood.items():
            votes[country] = votes.get(country, 0.0) + strength(options) * odds / total
            order[country] = position
    return max(votes, key=lambda c: (round(votes[c], 6), order[c]))


def strength(options: list[gazetteer.Place]) -> float:
    """How sure a vote a name is: full for a province or a large town, less for a village."""
    # A village of the tables ("Khadir", no population given) is often a
    # namesake of a place they lack.
    best = max((gazetteer.plausibility(p) for p in options), default=0.0)
    return min(1.0, best / _SURE_PLAUSIBILITY)


def _chains(tokens: rules.Tokens, spans: list[Span]) -> list[list[_Name]]:
    names = _names(tokens, spans)
    chains: list[list[_Name]] = []
    current: list[_Name] = []
    for name in names:
        if current and _joined(tokens, current[-1].end, name.start):
            current.append(name)
            continue
        if len(current) >= 2:
            chains.append(current)
        current = [name]
    if len(current) >= 2:
        chains.append(current)
    # A tagged place or a bracket ("(Kismaayo, Lower Juba)") makes the names
    # places; else a cue does, from the first name it stands before ("Asayish
    # in Ain al Arab city in Aleppo").
    out = []
    for chain in chains:
        if (
            any(n.label == "LOC" for n in chain)
            or "(" in tokens.text[chain[0].end : chain[-1].start]
        ):
            out.append(chain)
            continue
        cued = next((k for k, name in enumerate(chain) if _cued(tokens, name)), len(chain))
        if len(chain) - cued >= 2:
            out.append(chain[cued:])
    return out


def _cued(tokens: rules.Tokens, name: _Name) -> bool:
    before = name.start - 1
    if before > 0 and tokens.lower[before] == "the":  # "in the Borgi village of ..."
        before -= 1
    return before >= 0 and tokens.lower[before] in _PLACE_CUES


def _joined(tokens: rules.Tokens, end: int, start: int) -> bool:
    gap = tokens.lower[end:start]
    return 0 < len(gap) <= _MAX_GAP and set(gap) <= _GAP_WORDS and not _JOINS.isdisjoint(gap)


def _names(tokens: rules.Tokens, spans: list[Span]) -> list[_Name]:
    # The tagger's names, then capitalised runs it left out.
    starts = {i: k for k, i in enumerate(tokens.idx)}
    names: list[_Name] = []
    taken = bytearray(tokens.count)
    english = gazetteer.english_words()
    for span in spans:
        first = starts.get(span.start)
        if first is None:
            continue
        last = first
        while last + 1 < tokens.count and tokens.idx[last + 1] < span.end:
            last += 1
        taken[first : last + 1] = b"\x01" * (last + 1 - first)
        if span.label == "LOC" or not tokens.text[first].isupper():  # "(SOL)" abbreviates a name
            names.append(_Name(first, last + 1, span.label))
    i = 0
    while i < tokens.count:
        if taken[i] or not _capitalised(tokens.text[i]) or tokens.lower[i] == "the":
            i += 1
            continue
        end = i + 1
        while end < tokens.count and end - i < _MAX_NAME and not taken[end]:
            after = _after_joiners(tokens, end)
            if not (_capitalised(tokens.text[end]) or (after > end and not taken[after])):
                break
            end = max(after, end) + 1
        if end - i > 1 or tokens.lower[i] not in english:  # "Church", not "Ain al Arab"
            names.append(_Name(i, end, ""))
        i = end
    return _joined_names(tokens, sorted(names))


def _after_joiners(tokens: rules.Tokens, start: int) -> int:
    # The capitalised word after a run of particles ("wa ash Shaaf"), or ``start``.
    k = start
    while k < tokens.count and tokens.lower[k] in _NAME_JOINERS:
        k += 1
    return k if k > start and k < tokens.count and _capitalised(tokens.text[k]) else start


def _joined_names(tokens: rules.Tokens, names: list[_Name]) -> list[_Name]:
    # The tagger splits a name at its particles ("Khabb" wa ash "Shaaf"):
    # names with only particles between them are one place.
    out: list[_Name] = []
    for name in names:
        last = out[-1] if out else None
        if (
            last is not None
            and "LOC" in (last.label, name.label)
            and last.label in ("LOC", "")
            and name.label in ("LOC", "")
            and _after_joiners(tokens, last.end) == name.start
        ):
            out[-1] = _Name(last.start, name.end, "LOC")
        else:
            out.append(name)
    return out


def _capitalised(word: str) -> bool:
    return (len(word) > 1 and word[:1].isupper() and not word.isupper()) or bool(
        rules.ARABIC_NAME.match(word)
    )
