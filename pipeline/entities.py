"""Entity tagging stage: people, organisations and places, normalised and geotagged.

A small CNN tagger trained on CoNLL-2003 newswire (``scripts/train_ner.py``,
shipped in ``pipeline/ner_model``) finds PER/ORG/LOC mentions; a gazetteer adds
country names the model missed, resolves places to a country and coordinates,
and reads nationality words ("Syrian") as country evidence. Variants inside one
article resolve to one canonical entity (see :mod:`pipeline._entities_normalise`).

Example:
    >>> tagged = tag_entities(article)
    >>> [(e.name, e.label, e.country) for e in tagged.entities][:2]
    [('Russia', 'LOC', 'RU'), ('Moscow', 'LOC', 'RU')]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from pipeline import _entities_gazetteer as gazetteer
from pipeline import _entities_knowledge as knowledge
from pipeline import _entities_rules as rules
from pipeline._entities_normalise import canonical_names
from pipeline.records import HEADLINE_SEPARATOR, Article, Entity, EntityMention, TaggedEntities

MODEL_PATH = Path(__file__).parent / "ner_model"
LABELS = ("PER", "ORG", "LOC")
_BATCH_SIZE = 64
_MAX_CHARS = 100_000
_MODEL_CONFIDENCE = 0.85
_PLACE_CONFIDENCE = 0.95  # a model LOC that the gazetteer also knows
_GAZETTEER_CONFIDENCE = 0.9
_HEADLINE_WEIGHT = 2.0
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
    }
)
_FALLBACK_WEIGHT = 0.3
_FALLBACK_POPULATION = 5000
_NAME_WORD_POPULATION = 100000  # "Lahore Press Club", not "Kisan Union"
_FALLBACK_WORD_POPULATION = 50000
_REGION_POPULATION = 100000  # a town this large is known context, like a province
# An untagged region counts for less than a tagged place and more than a
# nationality word (which often names a foreign actor: "Turkish forces").
_REGION_WEIGHT = 0.6
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
_NOT_A_PLACE_AFTER = {"dollar", "dollars", "cocktail", "cocktails"}
_ADJECTIVAL = {"US", "U.S.", "UK", "U.K.", "EU"}
# "al-Hasakeh", "ar-Raqqa": a name though it starts in lower case.
_ARABIC_NAME = re.compile(r"^(al|el|as|ash|ad|an|ar|at|az)-[A-Z]")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+")
_STRIP = " \t\n\"'\u2018\u2019\u201c\u201d(),.;:-"


Scores = defaultdict[str, float]  # country code -> weight of evidence


class Span(NamedTuple):
    """A mention before normalisation: character offsets, label and origin."""

    start: int
    end: int
    label: str
    source: str


@cache
def _nlp() -> Any:
    import spacy  # imported lazily: only worker processes need the model

    return spacy.load(MODEL_PATH)


def warm_up() -> None:
    """Load the model and the gazetteer once per process (the pool initializer calls it).

    Example:
        >>> warm_up()   # later calls return at once
    """
    _nlp()
    gazetteer.warm_up()
    _english_words()


def tag_entities(article: Article) -> TaggedEntities:
    """Tag, normalise and geotag the people, organisations and places of one article.

    Example:
        >>> tagged = tag_entities(article)
        >>> tagged.country
        'SY'
    """
    return tag_entities_batch([article])[0]


def tag_entities_batch(articles: Sequence[Article]) -> list[TaggedEntities]:
    """Tag a batch of articles in one pass of the model (faster than one by one).

    Example:
        >>> results = tag_entities_batch(articles)
        >>> len(results) == len(articles)
        True
    """
    nlp = _nlp()
    # Only the head of a huge text is tagged (offsets stay valid): spaCy
    # refuses texts over nlp.max_length and the tail of a wire item rarely names
    # anything new.
    texts = [a.text[:_MAX_CHARS] for a in articles]
    docs = nlp.pipe(texts, batch_size=_BATCH_SIZE)
    return [
        _tag_doc(doc, text, _headline_end(a))
        for a, text, doc in zip(articles, texts, docs, strict=True)
    ]


def _headline_end(article: Article) -> int:
    return len(article.headline) + len(HEADLINE_SEPARATOR) if article.headline else 0


def mention_spans(
    doc: Any, tokens: rules.Tokens | None = None, text: str | None = None
) -> list[Span]:
    """PER/ORG/LOC character spans of a processed spaCy ``Doc``: the model's, corrected by rules."""
    text = doc.text if text is None else text
    tokens = tokens or rules.Tokens(doc, text)
    spans = [(e.start, e.end, e.label_, "model") for e in doc.ents if e.label_ in LABELS]
    out = []
    for start, end, label, source in rules.apply(tokens, spans):
        end_char = tokens.idx[end - 1] + len(tokens.text[end - 1])
        out.append(_clean(text, Span(tokens.idx[start], end_char, label, source)))
    return out


def _clean(text: str, span: Span) -> Span:
    # Strip possessives and stray punctuation so text[start:end] is the name.
    start, end = span.start, span.end
    while start < end and text[start] in _STRIP:
        start += 1
    for suffix in ("'s", "\u2019s"):
        if text[start:end].endswith(suffix):
            end -= len(suffix)
    while end > start and text[end - 1] in _STRIP and text[end - 1] != ".":
        end -= 1
    return span._replace(start=start, end=end) if end > start else span


def _sentences(doc: Any, text: str) -> list[tuple[int, int]]:
    # The sentencizer does not split paragraphs, so blank lines split too.
    bounds: list[tuple[int, int]] = []
    for sent in doc.sents:
        start = sent.start_char
        for part in text[sent.start_char : sent.end_char].split("\n\n"):
            if part.strip():
                bounds.append((start, start + len(part)))
            start += len(part) + 2
    return bounds


def _sentence_at(text: str, bounds: list[tuple[int, int]], starts: list[int], position: int) -> str:
    k = bisect_right(starts, position) - 1
    if k < 0:
        return ""
    start, end = bounds[k]
    return text[start:end].strip()


def _evidence(tokens: rules.Tokens, text: str, spans: list[Span], headline_end: int) -> Scores:
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
                    * (_HEADLINE_WEIGHT if position < headline_end else 1.0)
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


def _tag_doc(doc: Any, text: str, headline_end: int) -> TaggedEntities:
    tokens = rules.Tokens(doc, text)
    spans = mention_spans(doc, tokens, text)
    surfaces = [(text[s.start : s.end], s.label) for s in spans]
    names = canonical_names(surfaces)
    scores = _evidence(tokens, text, spans, headline_end)
    bounds = _sentences(doc, text)
    starts = [b[0] for b in bounds]
    loc_names = {names[s] for s in surfaces if s[1] == "LOC"}
    regions = _region_votes(tokens, spans)
    places = _resolve_places(loc_names, set(scores) | _named_countries(loc_names), regions)
    for code, count in regions.items():
        scores[code] += _REGION_WEIGHT * count

    grouped: dict[tuple[str, str], list[EntityMention]] = defaultdict(list)
    for span, (surface, label) in zip(spans, surfaces, strict=True):
        canonical = names[(surface, label)]
        confidence = _GAZETTEER_CONFIDENCE if span.source == "gazetteer" else _MODEL_CONFIDENCE
        place = places.get(canonical) if label == "LOC" else None
        weight = _place_weight(doc, span, surface, headline_end) if place is not None else 0.0
        if place is not None and weight:
            scores[place.country] += weight
            if span.source == "model":
                confidence = _PLACE_CONFIDENCE
        sentence = _sentence_at(text, bounds, starts, span.start)
        grouped[(canonical, label)].append(
            EntityMention(
                text=surface,
                label=label,
                start=span.start,
                end=span.end,
                sentence=sentence,
                source=span.source,
                confidence=confidence,
                canonical=canonical,
            )
        )

    entities = [
        _entity(name, label, ms, places.get(name) if label == "LOC" else None)
        for (name, label), ms in grouped.items()
    ]
    entities.sort(key=lambda e: e.first_position)
    if not scores:
        scores = _fallback_scores(doc, text, spans)
    mentions = tuple(sorted((m for ms in grouped.values() for m in ms), key=lambda m: m.start))
    return TaggedEntities(
        mentions=mentions, entities=tuple(entities), country=_best(scores, entities)
    )


def _place_weight(doc: Any, span: Span, surface: str, headline_end: int) -> float:
    # "US dollar" says nothing of where; "US military" says as much as
    # "American"; a place in the headline or dateline counts double.
    weight = _HEADLINE_WEIGHT if span.start < headline_end else 1.0
    token = doc.char_span(span.start, span.end, alignment_mode="expand")
    following = doc[token.end] if token is not None and token.end < len(doc) else None
    if following is None:
        return weight
    if following.lower_ in _NOT_A_PLACE_AFTER:
        return 0.0
    if surface in _ADJECTIVAL and following.is_lower and following.is_alpha:
        return weight * _DEMONYM_WEIGHT
    return weight


def _named_countries(names: set[str]) -> set[str]:
    countries = gazetteer._tables()[0]
    return {countries[key] for key in map(gazetteer.fold, names) if key in countries}


def _region_votes(tokens: rules.Tokens, spans: list[Span]) -> Counter[str]:
    # Notes name the province or a large town beside the place ("Hyderabad
    # city (Hyderabad, Sindh)"), often where the model sees no place at all:
    # a capitalised word or pair outside the tagged places that can only be a
    # region or a large town of one country says which Hyderabad is meant.
    places = [(s.start, s.end) for s in spans if s.label == "LOC"]
    votes: Counter[str] = Counter()
    words = tokens.text
    for i, word in enumerate(words):
        if not (_titled(word) or _ARABIC_NAME.match(word)) or any(
            a <= tokens.idx[i] < b for a, b in places
        ):
            continue
        pair = f"{word} {words[i + 1]}" if i + 1 < len(words) and _titled(words[i + 1]) else ""
        for name in (word, pair) if pair else (word,):
            readings = gazetteer.candidates(name)
            countries = {p.country for p in readings}
            if len(countries) == 1 and any(
                p.kind == "subdivision" or p.population >= _REGION_POPULATION for p in readings
            ):
                votes.update(countries)
    return votes


def _titled(word: str) -> bool:
    return len(word) > 2 and word[:1].isupper() and not word.isupper()


def _resolve_places(
    names: set[str], context: set[str], votes: Counter[str]
) -> dict[str, gazetteer.Place | None]:
    # Places of one article tend to share a country: names that can only be
    # in one country vote for it, and ambiguous names follow the majority.
    votes = Counter(votes)
    for name in names:
        countries = {p.country for p in gazetteer.candidates(name, loose=True)}
        if len(countries) == 1:
            votes.update(countries)
    return {name: gazetteer.resolve(name, context, votes, loose=True) for name in names}


def _entity(
    name: str, label: str, mentions: list[EntityMention], place: gazetteer.Place | None
) -> Entity:
    country = place.country if place else None
    if label == "ORG":
        # "Syrian Red Crescent" belongs to Syria, "National Bank of Pakistan" to Pakistan.
        words = name.split()
        country = knowledge.country_of(name) or next(
            (c for c in map(gazetteer.country_in_name, words) if c), None
        )
    return Entity(
        name=name,
        label=label,
        mentions=len(mentions),
        first_position=min(m.start for m in mentions),
        variants=tuple(dict.fromkeys(m.text for m in mentions)),
        country=country,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
    )


def _fallback_scores(doc: Any, text: str, spans: list[Span]) -> Scores:
    # No place and no nationality word: the model may have called a place a
    # person or an organisation, or missed it; try those names and capitalised
    # words against the gazetteer, weakly.
    names = [(text[s.start : s.end], _FALLBACK_POPULATION) for s in spans if s.label != "LOC"]
    words = list(doc)
    for i, token in enumerate(words):
        if not token.is_title:
            continue
        if not token.is_sent_start and not token.is_stop:
            names.append((token.text, _FALLBACK_WORD_POPULATION))
        # "Nakhon Ratchasima villagers", "in Phimai district".
        if i + 1 < len(words) and words[i + 1].is_title:
            names.append((doc[i : i + 2].text, 0))
        if i + 1 < len(words) and words[i + 1].lower_ in _PLACE_NOUNS:
            names.append((token.text, 0))
    scores: Scores = defaultdict(float)
    for name, population in names:
        if name.lower() in _GENERIC_WORDS:
            continue
        place = gazetteer.resolve(name, ())
        if place is not None and place.population >= population:
            scores[place.country] += _FALLBACK_WEIGHT
    if not scores:
        scores = _spelling_scores(text)
    return scores


def _spelling_scores(text: str) -> Scores:
    # Last resort: the capitalised words that are no English word still look
    # like the places of one country ("Shyamarghat", "Kalynove-Borshchuvate"),
    # read together as one guess; an acronym or "Federation" says nothing.
    known = _english_words()
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


@cache
def _english_words() -> frozenset[str]:
    # The lower-case words of the tagger's training newswire, read from the
    # shipped vocabulary file (the live string store also grows with every
    # text tagged).
    strings = orjson.loads((MODEL_PATH / "vocab" / "strings.json").read_bytes())
    return frozenset(w for w in strings if w.isalpha() and w.islower())


def _best(scores: Scores, entities: list[Entity]) -> str | None:
    if not scores:
        return None
    first = {e.country: e.first_position for e in reversed(entities) if e.country}
    return max(scores, key=lambda c: (scores[c], -first.get(c, 10**9)))
