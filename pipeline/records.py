"""Typed, frozen records that cross stage boundaries.

Every record is a ``@dataclass(frozen=True, slots=True)``; stages return new
records with :func:`dataclasses.replace` and never mutate their input. The one
place records become bytes (and back) is :mod:`pipeline.codec`.

Example:
    >>> now = datetime.now(timezone.utc)
    >>> a = Article(id="a1", source="reuters", headline="H", body="B",
    ...             published_at=now, received_at=now)
    >>> a.text
    'H\\n\\nB'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone  # noqa: F401 (docstring example)

SCHEMA_VERSION = 1

#: Separator between headline and body in :attr:`Article.text`; every
#: character offset in the records below is an offset into that text.
HEADLINE_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Article:
    """One wire article as received, after validation."""

    id: str
    source: str
    headline: str
    body: str
    published_at: datetime
    received_at: datetime
    language: str = "en"
    url: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def text(self) -> str:
        """Headline and body as one string; the frame of every offset."""
        if not self.headline:
            return self.body
        return f"{self.headline}{HEADLINE_SEPARATOR}{self.body}"


@dataclass(frozen=True, slots=True)
class DedupVerdict:
    """What de-duplication decided about one article.

    ``kind`` is ``"unique"``, ``"exact"`` (same normalised text) or ``"near"``
    (similar above the duplicate threshold). ``story_id`` is the id of the
    story the article belongs to (the first article's id for a new story).
    """

    kind: str
    fingerprint: str
    story_id: str
    duplicate_of: str | None = None
    similarity: float | None = None
    repeated_paragraphs_removed: int = 0

    @property
    def is_duplicate(self) -> bool:
        return self.kind != "unique"


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One mention of a person, organisation or location in :attr:`Article.text`."""

    text: str
    label: str  # "PER", "ORG" or "LOC"
    start: int
    end: int
    sentence: str
    source: str  # "model", "gazetteer" or "rule"
    confidence: float = 1.0
    canonical: str = ""  # the entity name this mention resolves to


@dataclass(frozen=True, slots=True)
class Entity:
    """A canonical entity of one article, with its salience and place."""

    name: str
    label: str
    mentions: int
    first_position: int
    variants: tuple[str, ...] = ()
    country: str | None = None  # ISO 3166-1 alpha-2
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class TaggedEntities:
    """Output of the entity stage for one article."""

    mentions: tuple[EntityMention, ...] = ()
    entities: tuple[Entity, ...] = ()
    country: str | None = None  # the article's most likely country
    # What gave ``country``: "text" (places, nationality words, parties the
    # text names), "guess" (capitalised words and spellings, weak) or "source"
    # (the source's usual country, see pipeline._entities_sources: the text
    # gives nothing, or it outweighed the text's). Empty when there is no country.
    country_from: str = ""


@dataclass(frozen=True, slots=True)
class CasualtyFigure:
    """One casualty figure reported in an article.

    ``low``/``high`` bound the count (equal for an exact figure; ``high`` is
    ``None`` when open-ended, as in "more than 5,000").
    """

    category: str  # killed, injured, missing, kidnapped, arrested, displaced, affected
    low: int
    high: int | None
    qualifier: str  # exact, at_least, more_than, about, up_to, fewer_than, range, vague, none
    text: str
    start: int
    end: int
    sentence: str
    victim_group: str | None = None
    cumulative: bool = False
    attribution: str | None = None
    time_frame: str | None = None
    sentence_start: int = 0  # offset of ``sentence`` in the article text
    # True for what a protest is about ("a rally over the killing of 2"), not the event
    background: bool = False


@dataclass(frozen=True, slots=True)
class CasualtyReport:
    """Output of the casualty stage: every figure, and the article-level toll."""

    figures: tuple[CasualtyFigure, ...] = ()
    tolls: tuple[CasualtyFigure, ...] = ()  # the best single figure per category

    def toll(self, category: str) -> CasualtyFigure | None:
        """The article-level figure for ``category``, if any."""
        return next((f for f in self.tolls if f.category == category), None)


@dataclass(frozen=True, slots=True)
class StageTimes:
    """When each stage finished with the article (UTC)."""

    deduplicated_at: datetime | None = None
    tagged_at: datetime | None = None
    enriched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EnrichedArticle:
    """An article as it flows from de-duplication to the alerts stage."""

    article: Article
    dedup: DedupVerdict
    entities: TaggedEntities = field(default_factory=TaggedEntities)
    casualties: CasualtyReport = field(default_factory=CasualtyReport)
    times: StageTimes = field(default_factory=StageTimes)
    schema_version: int = SCHEMA_VERSION

    @property
    def story_id(self) -> str:
        return self.dedup.story_id


@dataclass(frozen=True, slots=True)
class AlertFact:
    """One fact that made a rule fire, with the sentence that states it."""

    kind: str  # e.g. "casualties", "entity", "country", "keyword", "sources"
    detail: str
    sentence: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert on the alerts topic. ``id`` is deterministic (see alerts stage)."""

    id: str
    rule: str
    severity: str
    story_id: str
    article_id: str
    headline: str
    facts: tuple[AlertFact, ...]
    created_at: datetime
    sources: int = 1
    summary: str = ""
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not be processed, with why and where.

    ``payload`` keeps the original bytes up to a limit (a 10 MB record must
    not make the dead letter itself too large to publish); ``payload_size``
    and ``payload_sha256`` describe the whole original, and ``topic``,
    ``partition`` and ``offset`` say where to read it again.
    """

    stage: str
    reason: str
    payload: bytes
    failed_at: datetime
    error: str = ""  # exception class name
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    payload_size: int = 0
    payload_sha256: str = ""
    payload_truncated: bool = False
    schema_version: int = SCHEMA_VERSION
