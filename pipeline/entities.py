"""Entity tagging stage: people, organisations and places, normalised and geotagged.

A small CNN tagger trained on CoNLL-2003 newswire (``scripts/train_ner.py``,
shipped in ``pipeline/ner_model``) finds PER/ORG/LOC mentions; a gazetteer adds
country names the model missed, resolves places to a country and coordinates,
and reads nationality words ("Syrian") as country evidence; names that locate one
place together ("Shahdara, Lahore") are read in one country. Variants inside one
article resolve to one canonical entity (see :mod:`pipeline._entities_normalise`).

Example:
    >>> tagged = tag_entities(article)
    >>> [(e.name, e.label, e.country) for e in tagged.entities][:2]
    [('Russia', 'LOC', 'RU'), ('Moscow', 'LOC', 'RU')]
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import _entities_chains as chains
from pipeline import _entities_gazetteer as gazetteer
from pipeline import _entities_geo as geo
from pipeline import _entities_knowledge as knowledge
from pipeline import _entities_rules as rules
from pipeline._entities_normalise import canonical_names
from pipeline._entities_rules import Span
from pipeline._entities_sources import SourceCountries
from pipeline.records import HEADLINE_SEPARATOR, Article, Entity, EntityMention, TaggedEntities

MODEL_PATH = Path(__file__).parent / "ner_model"
LABELS = ("PER", "ORG", "LOC")
__all__ = ["SourceCountries", "tag_entities", "tag_entities_batch", "warm_up", "mention_spans"]
_BATCH_SIZE = 64
_MAX_CHARS = 100_000
_MODEL_CONFIDENCE = 0.85
_PLACE_CONFIDENCE = 0.95  # a model LOC that the gazetteer also knows
_GAZETTEER_CONFIDENCE = 0.9
_STRIP = " \t\n\"'\u2018\u2019\u201c\u201d(),.;:-"


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
    gazetteer.english_words()


def tag_entities(article: Article) -> TaggedEntities:
    """Tag, normalise and geotag the people, organisations and places of one article.

    Example:
        >>> tagged = tag_entities(article)
        >>> tagged.country
        'SY'
    """
    return tag_entities_batch([article])[0]


def tag_entities_batch(
    articles: Sequence[Article], homes: Sequence[str | None] | None = None
) -> list[TaggedEntities]:
    """Tag a batch of articles in one pass of the model (faster than one by one).

    ``homes`` gives each article's source's usual country, if known
    (:meth:`SourceCountries.homes`): weak evidence for the article's country.

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
        _tag_doc(doc, text, _headline_end(a), home)
        for a, text, doc, home in zip(
            articles, texts, docs, homes or [None] * len(articles), strict=True
        )
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


def _tag_doc(doc: Any, text: str, headline_end: int, home: str | None) -> TaggedEntities:
    tokens = rules.Tokens(doc, text)
    spans = mention_spans(doc, tokens, text)
    surfaces = [(text[s.start : s.end], s.label) for s in spans]
    names = canonical_names(surfaces)
    scores = geo.evidence(tokens, text, spans, headline_end)
    bounds = _sentences(doc, text)
    starts = [b[0] for b in bounds]
    loc_names = {names[s] for s in surfaces if s[1] == "LOC"}
    # "Protests over the US dollar in Tripoli": a name used as a word of
    # something else is no context for the article's other places.
    voters = {
        names[s]
        for span, s in zip(spans, surfaces, strict=True)
        if s[1] == "LOC" and not geo.says_no_place(doc, span)
    }
    regions = geo.region_votes(tokens, spans)
    context = set(scores) | geo.named_countries(voters)
    if home:
        # "Hyderabad" in Dawn is in Pakistan, in The Hindu in India.
        context.add(home)
    areas = geo.area_names(doc, spans, names)
    places = geo.resolve_places(loc_names, context, regions, voters, areas)
    for code, count in regions.items():
        scores[code] += geo.REGION_WEIGHT * count
    # Names that locate one place together ("Shahdara, Lahore") are read in
    # one country (see _entities_chains), against the context and the region
    # votes; the tagger's persons and organisations among them too.
    chained = chains.chain_readings(tokens, spans, context | set(scores))
    for span, (surface, label) in zip(spans, surfaces, strict=True):
        if label == "LOC" and span.start in chained:
            places[names[(surface, label)]] = chained[span.start]
    tagged = {span.start for span in spans}
    for start, reading in chained.items():
        if start not in tagged and reading is not None:
            scores[reading.country] += geo.HEADLINE_WEIGHT if start < headline_end else 1.0

    grouped: dict[tuple[str, str], list[EntityMention]] = defaultdict(list)
    for span, (surface, label) in zip(spans, surfaces, strict=True):
        canonical = names[(surface, label)]
        confidence = _GAZETTEER_CONFIDENCE if span.source == "gazetteer" else _MODEL_CONFIDENCE
        place = places.get(canonical) if label == "LOC" else chained.get(span.start)
        weight = (
            geo.place_weight(doc, span, surface, headline_end) * geo.reading_weight(place)
            if place is not None
            else 0.0
        )
        if place is not None and weight:
            scores[place.country] += weight
            if span.source == "model" and label == "LOC":
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
    country_from = "text"
    if not scores and not home:
        # The source's usual country is a better guess than spellings.
        scores = geo.fallback_scores(doc, text, spans)
        country_from = "guess"
    country = geo.best_country(scores, entities)
    if home:
        scores[home] += geo.HOME_WEIGHT
        with_home = geo.best_country(scores, entities)
        if with_home != country:
            # The source decided, also when it outweighed the text's own
            # evidence: only countries the text gave are learnt
            # (pipeline/_entities_sources.py).
            country, country_from = with_home, "source"
    mentions = tuple(sorted((m for ms in grouped.values() for m in ms), key=lambda m: m.start))
    return TaggedEntities(
        mentions=mentions,
        entities=tuple(entities),
        country=country,
        country_from=country_from if country else "",
    )


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
