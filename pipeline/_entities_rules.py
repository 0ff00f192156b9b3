"""Rules that correct and complete the model's spans within one article.

Spans here are token-level ``(start, end, label, source)`` tuples over a
spaCy ``Doc``. Each rule fixes one known weakness of a sentence-level tagger
on wire copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from pipeline import _entities_gazetteer as gazetteer

TokenSpan = tuple[int, int, str, str]


class Span(NamedTuple):
    """A mention before normalisation: character offsets, label and origin."""

    start: int
    end: int
    label: str
    source: str


# "al-Hasakeh", "ar-Raqqa": a place name though it starts in lower case.
ARABIC_NAME = re.compile(r"^(al|el|as|ash|ad|an|ar|at|az)-[A-Z]")
_PARTICLE = re.compile(r"^(al|el|ad|as|ash|an|ar|at|az|bin|ibn|abu)[-\u2010]", re.IGNORECASE)
# Words after which a name is a place ("in Idlib", "province of Idlib").
_PLACE_CUES = {"in", "near", "outside", "around", "across", "to"}
_PLACE_NOUNS = {"province", "city", "town", "district", "region", "village", "governorate", "state"}
# Organisations a nationality word belongs to ("Syrian Red Crescent").
_NATIONAL_ORGS = re.compile(
    r"^(Red Crescent|Red Cross|Army|Navy|Air Force|Armed Forces|Coast Guard|"
    r"Observatory\b|Revolutionary Guard|National Guard|Embassy)"
)
_MAX_NAME_TOKENS = 5
# Capitalised names ending in one of these are organisations
# ("Local Co-ordination Committees", "Pakistan Sunni Tehrik" is not caught).
ORGANISATION_HEADS = frozenset(
    {
        "committee",
        "committees",
        "council",
        "union",
        "party",
        "front",
        "army",
        "association",
        "agency",
        "ministry",
        "movement",
        "organization",
        "organisation",
        "commission",
        "league",
        "brigade",
        "brigades",
        "forces",
        "observatory",
        "network",
        "federation",
        "authority",
        "institute",
        "foundation",
        "corporation",
        "coalition",
        "alliance",
        "assembly",
        "police",
    }
)
_CONNECTORS = frozenset({"of", "for", "and", "the", "de"})
# International bodies the wire names without the context a tagger needs
# ("a new Arab League peace plan").
_ORGANISATIONS = frozenset(
    {
        "United Nations",
        "UN",
        "U.N.",
        "Security Council",
        "UN Security Council",
        "General Assembly",
        "Arab League",
        "African Union",
        "European Union",
        "EU",
        "NATO",
        "OPEC",
        "ASEAN",
        "Red Cross",
        "Red Crescent",
        "International Committee of the Red Cross",
        "ICRC",
        "World Health Organization",
        "WHO",
        "UNICEF",
        "UNHCR",
        "World Food Programme",
        "WFP",
        "World Bank",
        "International Monetary Fund",
        "IMF",
        "Amnesty International",
        "Human Rights Watch",
        "Doctors Without Borders",
        "MSF",
        "International Criminal Court",
        "Interpol",
        "Hamas",
        "Hezbollah",
        "Taliban",
        "al Qaeda",
        "al-Qaeda",
        "Al Qaeda",
        "Al-Qaeda",
        "Islamic State",
        "Boko Haram",
        "al Shabaab",
        "al-Shabaab",
        "Al Shabaab",
        "Al-Shabaab",
    }
)


class Tokens:
    """Plain lists of the token attributes the rules read (spaCy tokens are slow to create)."""

    __slots__ = ("count", "idx", "lower", "space", "text")

    def __init__(self, doc: Any, text: str) -> None:
        # One numpy call instead of a Token object per word.
        from spacy.attrs import IDX, LENGTH, SPACY  # type: ignore[import-not-found]

        rows = doc.to_array([IDX, LENGTH, SPACY]).tolist()
        self.idx: list[int] = [row[0] for row in rows]
        self.text: list[str] = [text[i : i + n] for i, n, _ in rows]
        self.space: list[str] = [" " if space else "" for _, _, space in rows]
        self.lower = [t.lower() for t in self.text]
        self.count = len(self.text)

    def span(self, start: int, end: int) -> str:
        return (
            "".join(self.text[k] + self.space[k] for k in range(start, end - 1))
            + self.text[end - 1]
        )


def apply(tokens: Tokens, spans: list[TokenSpan]) -> list[TokenSpan]:
    """Run every rule over the model's spans of a document and return the new spans."""
    spans = [
        _place_by_context(tokens, _country_name(tokens, _national_org(tokens, s))) for s in spans
    ]
    taken = bytearray(tokens.count)
    for start, end, _label, _source in spans:
        taken[start:end] = b"\x01" * (end - start)
    spans += _datelines(tokens, taken)
    spans += _propagate(tokens, spans, taken)
    spans += _known_names(tokens, taken)
    spans += _headed_organisations(tokens, taken)
    return sorted(spans)


def _national_org(tokens: Tokens, span: TokenSpan) -> TokenSpan:
    start, end, label, _source = span
    if label == "ORG" and start > 0 and _NATIONAL_ORGS.match(tokens.span(start, end)):
        before = tokens.text[start - 1]
        if before[:1].isupper() and gazetteer.demonym_country(before):
            return (start - 1, end, label, "rule")
    return span


def _country_name(tokens: Tokens, span: TokenSpan) -> TokenSpan:
    # A bare country name is a place (CoNLL tags national teams LOC too).
    start, end, label, _source = span
    if label != "LOC" and gazetteer.fold(tokens.span(start, end)) in gazetteer._tables()[0]:
        return (start, end, "LOC", "rule")
    return span


def _datelines(tokens: Tokens, taken: bytearray) -> list[TokenSpan]:
    # "AL-AIN, United Arab Emirates (Reuters) -": capitals then a comma at
    # the start of a paragraph name the place the story was filed from.
    found: list[TokenSpan] = []
    text = tokens.text
    for i in range(tokens.count):
        if i and "\n\n" not in text[i - 1] + tokens.space[i - 1]:
            continue
        end = i
        while (
            end < tokens.count
            and end - i < 4
            and text[end].isupper()
            and text[end][:1].isalpha()
            and not taken[end]
        ):
            end += 1
        if i < end < tokens.count and text[end] == "," and len(text[i]) > 1:
            found.append((i, end, "LOC", "rule"))
            taken[i:end] = b"\x01" * (end - i)
    return found


def _place_by_context(tokens: Tokens, span: TokenSpan) -> TokenSpan:
    start, end, label, _source = span
    if label == "LOC" or start == 0:
        return span
    before = tokens.lower[start - 1]
    cue = before in _PLACE_CUES or (
        before == "of" and start > 1 and tokens.lower[start - 2] in _PLACE_NOUNS
    )
    if not cue or (label == "PER" and end - start > 1):
        return span
    if gazetteer.candidates(tokens.span(start, end)):
        return (start, end, "LOC", "rule")
    return span


def _propagate(tokens: Tokens, spans: list[TokenSpan], taken: bytearray) -> list[TokenSpan]:
    # A name tagged once is the same name wherever else it occurs unmarked;
    # for people the surname and its particle forms ("al-Assad") count too.
    known: dict[str, str] = {}
    for start, end, label, _source in spans:
        known.setdefault(tokens.span(start, end), label)
        if label == "PER" and end - start > 1:
            last = tokens.text[end - 1]
            known.setdefault(last, "PER")
            known.setdefault(_PARTICLE.sub("", last), "PER")
    known = {k: v for k, v in known.items() if k[:1].isupper() and len(k) > 1}
    firsts = {k.split()[0] for k in known} | {_PARTICLE.sub("", k) for k in known}

    def starts_name(i: int) -> bool:
        word = tokens.text[i]
        return word in firsts or _PARTICLE.sub("", word) in firsts

    def label_of(window: str, n: int) -> str:
        return known.get(window) or (known.get(_PARTICLE.sub("", window), "") if n == 1 else "")

    return _longest_matches(tokens, taken, starts_name, label_of, "rule")


def _longest_matches(
    tokens: Tokens,
    taken: bytearray,
    starts: Callable[[int], bool],
    label_of: Callable[[str, int], str],
    source: str,
) -> list[TokenSpan]:
    # Left to right, the longest untaken window (up to _MAX_NAME_TOKENS) that
    # label_of names wins; its tokens are then taken.
    found: list[TokenSpan] = []
    i = 0
    while i < tokens.count:
        if taken[i] or not starts(i):
            i += 1
            continue
        for n in range(min(_MAX_NAME_TOKENS, tokens.count - i), 0, -1):
            if any(taken[i : i + n]):
                continue
            label = label_of(tokens.span(i, i + n), n)
            if label:
                found.append((i, i + n, label, source))
                taken[i : i + n] = b"\x01" * n
                i += n - 1
                break
        i += 1
    return found


@cache
def _first_words() -> frozenset[str]:
    names = [*_ORGANISATIONS, *gazetteer._tables()[0]]
    return frozenset(name.split()[0].lower() for name in names if name.strip())


def _known_names(tokens: Tokens, taken: bytearray) -> list[TokenSpan]:
    # Country names and international bodies the model missed (ALL-CAPS
    # headlines, unusual contexts).
    countries = gazetteer._tables()[0]
    firsts = _first_words()

    def starts_name(i: int) -> bool:
        return tokens.text[i][:1].isupper() and tokens.lower[i] in firsts

    def label_of(window: str, _n: int) -> str:
        if window in _ORGANISATIONS:
            return "ORG"
        return "LOC" if gazetteer.fold(window) in countries else ""

    return _longest_matches(tokens, taken, starts_name, label_of, "gazetteer")


def _headed_organisations(tokens: Tokens, taken: bytearray) -> list[TokenSpan]:
    # The model misses long unfamiliar organisation names; their head noun
    # gives them away.
    found: list[TokenSpan] = []
    for end in range(1, tokens.count + 1):
        if (
            tokens.lower[end - 1] not in ORGANISATION_HEADS
            or taken[end - 1]
            or not _titled(tokens.text[end - 1])
        ):
            continue
        start = end - 1
        while (
            start > 0
            and not taken[start - 1]
            and (_titled(tokens.text[start - 1]) or tokens.lower[start - 1] in _CONNECTORS)
        ):
            start -= 1
        while start < end and (tokens.lower[start] in _CONNECTORS or tokens.lower[start] == "the"):
            start += 1
        if end - start >= 2:
            found.append((start, end, "ORG", "rule"))
            taken[start:end] = b"\x01" * (end - start)
    return found


def _titled(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() and word.replace("-", "").isalpha()
