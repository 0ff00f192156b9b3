"""The conditions of alert rules, and how each one matches an enriched article.

A condition's :meth:`match` returns ``None`` when it does not hold, or the
:class:`Hit` tuple that explains why it holds (possibly empty, for ``not``).
Hits become the alert's facts and summary, so every alert can say why.

Example:
    >>> cond = CasualtyCondition("killed", minimum=10)
    >>> hits = cond.match(record)
    >>> hits[0].fact.detail if hits else None
    'killed 12'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from pipeline.records import AlertFact, CasualtyFigure, CasualtyReport, EnrichedArticle

#: The casualty categories the casualties stage emits.
CATEGORIES = ("killed", "injured", "missing", "kidnapped", "arrested", "displaced", "affected")

_QUALIFIER_WORDS = {
    "at_least": "at least ",
    "more_than": "more than ",
    "about": "about ",
}
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+|\n+")
_MAX_SENTENCE = 400
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


@dataclass(frozen=True, slots=True)
class Hit:
    """One reason a condition holds: the fact, a summary label, a country."""

    fact: AlertFact
    label: str | None = None
    country: str | None = None


class Condition(Protocol):
    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None: ...


def best_figure(
    report: CasualtyReport, category: str, include_cumulative: bool = True
) -> CasualtyFigure | None:
    """The figure a rule reads for ``category``: the article's toll, or a larger running total.

    The casualty stage's toll is trusted for the event itself (it already
    chose among and summed the incident figures); a running total ("more than
    5,000 since March") is a separate figure that the toll passes over, so it
    is read here when ``include_cumulative`` and larger. Background figures
    (what a protest is about) never count.

    Example:
        >>> best_figure(record.casualties, "killed").low
        12
    """
    figures = [f for f in report.figures if f.category == category and not f.background]
    toll = report.toll(category)
    if toll is not None and (toll.background or (toll.cumulative and not include_cumulative)):
        toll = None
    if toll is None:
        pool = [f for f in figures if include_cumulative or not f.cumulative]
        return max(pool, key=lambda f: f.low, default=None)
    running = [f for f in figures if include_cumulative and f.cumulative and f.low > toll.low]
    return max(running, key=lambda f: f.low, default=toll)


def describe_figure(figure: CasualtyFigure) -> str:
    """A short phrase for a figure, e.g. ``killed more than 5,000, per the UN``."""
    phrase = f"{figure.category} {_amount(figure)}"
    if figure.qualifier == "vague":
        phrase += " (vague)"
    if figure.attribution:
        phrase += f", per {figure.attribution}"
    return phrase


def _amount(figure: CasualtyFigure) -> str:
    # Upper-bounded figures keep low = 1, so they read from their high end.
    high = figure.high
    if high is not None and figure.qualifier == "range":
        return f"{figure.low:,}-{high:,}"
    if high is not None and figure.qualifier == "up_to":
        return f"up to {high:,}"
    if high is not None and figure.qualifier == "fewer_than":
        return f"fewer than {high + 1:,}"
    return f"{_QUALIFIER_WORDS.get(figure.qualifier, '')}{figure.low:,}"


def sentence_at(text: str, position: int) -> str:
    """The sentence of ``text`` around character ``position`` (trimmed, capped)."""
    start = 0
    end = len(text)
    for brk in _SENTENCE_BREAK.finditer(text):
        if brk.end() <= position:
            start = brk.end()
        elif brk.start() >= position:
            end = brk.start()
            break
    return text[start:end].strip()[:_MAX_SENTENCE]


@dataclass(frozen=True, slots=True)
class CasualtyCondition:
    """The article's figure for ``category`` is at least ``minimum``."""

    category: str
    minimum: int = 1
    include_cumulative: bool = True

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        figure = best_figure(record.casualties, self.category, self.include_cumulative)
        if figure is None or figure.low < self.minimum:
            return None
        fact = AlertFact("casualties", describe_figure(figure), figure.sentence or None)
        label = f"{self.category} >= {self.minimum:,} ({_amount(figure)})"
        return (Hit(fact, label),)


@dataclass(frozen=True, slots=True)
class EntityCondition:
    """One of the watched entities (canonical names or variants) is in the article."""

    names: tuple[str, ...]

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        watched = {n.casefold() for n in self.names}
        hits = []
        for entity in record.entities.entities:
            names = {entity.name.casefold(), *(v.casefold() for v in entity.variants)}
            if names & watched:
                fact = AlertFact(
                    "entity",
                    f"{entity.name} ({entity.label})",
                    _mention_sentence(record, entity.name),
                )
                hits.append(Hit(fact, entity.name))
        return tuple(hits) or None


@dataclass(frozen=True, slots=True)
class CountryCondition:
    """The article, or one of its entities, is in a watched country (ISO alpha-2)."""

    codes: tuple[str, ...]

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        tagged = record.entities
        hits = []
        for code in self.codes:
            if tagged.country == code:
                # The analyst should see when no word of the text placed it.
                how = "its source's usual country" if tagged.country_from == "source" else "article"
                hits.append(Hit(AlertFact("country", f"{code} ({how})"), country=code))
                continue
            # An entity placed in the country also counts: a story filed from
            # New York about Idlib is still a story about Syria.
            entity = next((e for e in tagged.entities if e.country == code), None)
            if entity is not None:
                fact = AlertFact(
                    "country", f"{code} via {entity.name}", _mention_sentence(record, entity.name)
                )
                hits.append(Hit(fact, country=code))
        return tuple(hits) or None


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword as written in the rule file, and its compiled pattern."""

    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class KeywordCondition:
    """One of the keywords (whole words, or ``regex:``) occurs in the article text."""

    keywords: tuple[Keyword, ...]
    #: All keywords as one alternation, to reject most articles in one scan.
    prefilter: re.Pattern[str] | None = None

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        text = record.article.text
        if self.prefilter is not None and self.prefilter.search(text) is None:
            return None
        hits = []
        for keyword in self.keywords:
            found = keyword.pattern.search(text)
            if found is not None:
                detail = f"{keyword.text!r} matched {found.group(0)!r}"
                fact = AlertFact("keyword", detail, sentence_at(text, found.start()))
                hits.append(Hit(fact, repr(found.group(0))))
        return tuple(hits) or None


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every part holds; the hits of all parts explain the match."""

    parts: tuple[Condition, ...]

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        found: dict[int, tuple[Hit, ...]] = {}
        # Text scans are the costly part: try every other condition first.
        for i in sorted(range(len(self.parts)), key=lambda i: _scans_text(self.parts[i])):
            part_hits = self.parts[i].match(record)
            if part_hits is None:
                return None
            found[i] = part_hits
        return tuple(hit for i in range(len(self.parts)) for hit in found[i])


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one part holds; every part that holds explains the match."""

    parts: tuple[Condition, ...]

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        matched = [hits for part in self.parts if (hits := part.match(record)) is not None]
        if not matched:
            return None
        return tuple(hit for hits in matched for hit in hits)


@dataclass(frozen=True, slots=True)
class Not:
    """The part does not hold (an exclusion; it adds no facts)."""

    part: Condition

    def match(self, record: EnrichedArticle) -> tuple[Hit, ...] | None:
        return () if self.part.match(record) is None else None


def keyword_condition(keywords: tuple[Keyword, ...]) -> KeywordCondition:
    """A keyword condition with its one-scan prefilter (when the patterns combine)."""
    sources = [k.pattern.pattern for k in keywords]
    # Group references would point at other groups once the patterns are joined.
    if any(_GROUP_REFERENCE.search(source) for source in sources):
        return KeywordCondition(keywords)
    try:
        prefilter = re.compile("|".join(f"(?:{source})" for source in sources), re.IGNORECASE)
    except re.error:  # e.g. a regex with its own global flags: scan one by one
        prefilter = None
    return KeywordCondition(keywords, prefilter)


def _scans_text(condition: Condition) -> bool:
    return isinstance(condition, KeywordCondition | Not | AnyOf | AllOf)


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Compile a plain keyword: case-insensitive, whole words, any whitespace.

    Example:
        >>> bool(keyword_pattern("air strike").search("An AIR  STRIKE hit"))
        True
    """
    body = r"\s+".join(re.escape(word) for word in keyword.split())
    # \b only next to word characters, so that "U.N." or "#tag" still match.
    lead = r"\b" if re.match(r"\w", keyword.strip()) else ""
    tail = r"\b" if re.search(r"\w$", keyword.strip()) else ""
    return re.compile(f"{lead}{body}{tail}", re.IGNORECASE)


def _mention_sentence(record: EnrichedArticle, name: str) -> str | None:
    mention = next((m for m in record.entities.mentions if (m.canonical or m.text) == name), None)
    return mention.sentence or None if mention is not None else None
