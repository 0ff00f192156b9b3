"""The per-story state of the alerts stage, and how one article updates it.

The state is what the alerts agent keeps per ``story_id`` in a table, as
:func:`pipeline.codec.to_bytes` bytes: frozen records of primitives, tuples
and tz-aware datetimes only, each bounded so that a long story stays small.

Example:
    >>> state = observe(StoryState("s-1", now, now), record, now, timedelta(hours=1))
    >>> state.sources, state.toll("killed").value
    (('reuters',), 5)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pipeline._alert_conditions import CATEGORIES, best_figure, describe_figure
from pipeline._alert_rules import RuleSet
from pipeline.records import Alert, CasualtyFigure, EnrichedArticle

STATE_VERSION = 1
_ORDER = {category: i for i, category in enumerate(CATEGORIES)}
#: Reports kept per story for breaking-story windows (only those inside the
#: longest window of the rule set are kept at all).
MAX_REPORTS = 64
#: Article keys (id and text fingerprint) remembered per story to recognise a
#: re-delivery; an update under the same id has another fingerprint.
MAX_RECENT_ARTICLES = 64
#: Distinct source names kept per story (the count in alerts saturates here).
MAX_SOURCES = 256


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One article of the story: who reported it and when."""

    source: str
    article_id: str
    at: datetime
    headline: str = ""


@dataclass(frozen=True, slots=True)
class TollMark:
    """A casualty figure of the story at one point: value, where it was said."""

    category: str
    value: int
    article_id: str
    at: datetime
    detail: str = ""
    sentence: str | None = None
    cumulative: bool = False


@dataclass(frozen=True, slots=True)
class RuleMemory:
    """What one rule remembers about one story."""

    rule: str
    last_alert: Alert | None = None
    baseline: TollMark | None = None  # toll_rise: the figure a rise is measured from


@dataclass(frozen=True, slots=True)
class StoryState:
    """Everything the alerts stage remembers about one story (codec-safe)."""

    story_id: str
    first_seen: datetime
    last_seen: datetime
    sources: tuple[str, ...] = ()
    reports: tuple[SourceReport, ...] = ()
    recent_articles: tuple[str, ...] = ()
    tolls: tuple[TollMark, ...] = ()  # per category: best figure, and best non-cumulative
    rules: tuple[RuleMemory, ...] = ()
    schema_version: int = STATE_VERSION

    def toll(self, category: str, include_cumulative: bool = True) -> TollMark | None:
        """The story's best figure so far for ``category``."""
        marks = [
            t
            for t in self.tolls
            if t.category == category and (include_cumulative or not t.cumulative)
        ]
        return max(marks, key=lambda t: t.value, default=None)


def article_key(record: EnrichedArticle) -> str:
    """What identifies one delivery of an article: its id and text fingerprint."""
    return f"{record.article.id}#{record.dedup.fingerprint}"


def horizon(rules: RuleSet) -> timedelta:
    """How far back reports can matter: the longest breaking window of ``rules``."""
    windows = [rule.breaking.window for rule in rules.rules if rule.breaking is not None]
    return max(windows, default=timedelta(0))


def observe(
    state: StoryState, record: EnrichedArticle, at: datetime, keep: timedelta
) -> StoryState:
    """The story's state after ``record`` (at time ``at``); reports older than ``keep`` go."""
    article = record.article
    report = SourceReport(article.source, article.id, at, article.headline[:200])
    # Reports older than the longest breaking window can never count again.
    oldest = max(state.last_seen, at) - keep
    reports = sorted(
        (r for r in (*state.reports, report) if r.at >= oldest), key=lambda r: (r.at, r.article_id)
    )
    sources = state.sources
    if article.source not in sources and len(sources) < MAX_SOURCES:
        sources = tuple(sorted((*sources, article.source)))
    return replace(
        state,
        first_seen=min(state.first_seen, at),
        last_seen=max(state.last_seen, at),
        sources=sources,
        reports=tuple(reports[-MAX_REPORTS:]),
        recent_articles=(*state.recent_articles, article_key(record))[-MAX_RECENT_ARTICLES:],
        tolls=_best_tolls(state, record, at),
    )


def _best_tolls(state: StoryState, record: EnrichedArticle, at: datetime) -> tuple[TollMark, ...]:
    report = record.casualties
    present = {f.category for f in (*report.tolls, *report.figures)}
    if not present:
        return state.tolls
    tolls = [t for t in state.tolls if t.category not in present]
    for category in sorted(present):
        for cumulative in (True, False):
            best = state.toll(category, cumulative)
            figure = best_figure(record.casualties, category, cumulative)
            if figure is not None and (best is None or figure.low > best.value):
                best = mark(figure, record, at)
            # Keep the best figure and, when that is a running total, also
            # the best figure of the event itself (toll_rise reads that one).
            if best is not None and best not in tolls:
                tolls.append(best)
    return tuple(sorted(tolls, key=lambda t: (_ORDER.get(t.category, 99), t.category, t.value)))


def mark(figure: CasualtyFigure, record: EnrichedArticle, at: datetime) -> TollMark:
    """A toll mark for ``figure`` as reported by ``record`` at ``at``."""
    return TollMark(
        figure.category,
        figure.low,
        record.article.id,
        at,
        describe_figure(figure),
        figure.sentence or None,
        figure.cumulative,
    )
