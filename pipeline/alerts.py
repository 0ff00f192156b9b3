"""The alerts stage: match rules against enriched articles, one story at a time.

``evaluate_alerts`` is a pure step ``(rules, record, state) -> (state, alerts)``.
The state is per ``story_id`` (the agent keeps it in a table as codec bytes);
it remembers the story's sources, its best casualty figures and, per rule,
the last alert and the figure the next toll rise is measured from.

Three guarantees make alerts safe to replay:

* time comes from the record (``published_at``, capped at ``received_at``),
  never from the clock;
* an alert id is a hash of (rule, story, cooldown window) for threshold and
  breaking rules and of (rule, story, category, new figure) for toll rises,
  so a replay produces the same ids and an update ("from 12 to 40") a new one;
* a record seen again (same article id and text fingerprint: a re-delivery
  after a crash) re-emits the very alerts it caused the first time, unchanged,
  and leaves the state as it was.

A threshold rule fires at most once per story per cooldown window; when it
fires again after the window, an ``update`` fact says what changed since its
last alert. Within a window, changes are reported by ``toll_rise`` rules.

Example:
    >>> rules = load_rules(open("deploy/alert-rules.yaml").read())
    >>> state, alerts = evaluate_alerts(rules, record, None)
    >>> [a.summary for a in alerts]
    ['killed >= 100 (more than 5,000) in SY, story s-1, 1 source']
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from pipeline._alert_conditions import Hit, best_figure
from pipeline._alert_rules import SEVERITIES, Breaking, Rule, RuleSet, TollRise, load_rules
from pipeline._alert_state import (
    RuleMemory,
    SourceReport,
    StoryState,
    article_key,
    horizon,
    mark,
    observe,
)
from pipeline.errors import ExtractionError
from pipeline.records import Alert, AlertFact, EnrichedArticle

__all__ = ["SEVERITIES", "RuleSet", "StoryState", "evaluate_alerts", "load_rules"]


def evaluate_alerts(
    rules: RuleSet, record: EnrichedArticle, state: StoryState | None
) -> tuple[StoryState, tuple[Alert, ...]]:
    """Update a story's state with one article and return the alerts it causes.

    Args:
        rules: the validated rule set (see :func:`load_rules`).
        record: an enriched article; its ``story_id`` selects the state.
        state: the story's state so far, or ``None`` for a new story.

    Raises:
        ExtractionError: when ``state`` belongs to another story.

    Example:
        >>> state, alerts = evaluate_alerts(rules, first_report, None)
        >>> state, alerts = evaluate_alerts(rules, second_report, state)
        >>> alerts[0].summary
        'killed rises from 5 to 12 in SY, story s-1, 2 sources'
    """
    if state is not None and state.story_id != record.story_id:
        msg = (
            f"alerts: state of story {state.story_id!r} given for article "
            f"{record.article.id!r} of story {record.story_id!r}"
        )
        raise ExtractionError(msg)
    at = _event_time(record)
    before = state or StoryState(record.story_id, first_seen=at, last_seen=at)
    if article_key(record) in before.recent_articles:
        return before, _redelivered(rules, before, record)
    story = observe(before, record, at, horizon(rules))
    memories = {m.rule: m for m in before.rules}
    kept: list[RuleMemory] = []
    alerts: list[Alert] = []
    for rule in rules.rules:
        empty = RuleMemory(rule.name)
        memory, alert = _apply(rule, record, at, before, story, memories.get(rule.name, empty))
        if alert is not None:
            alerts.append(alert)
        if memory != empty:
            kept.append(memory)
    return replace(story, rules=tuple(kept)), tuple(alerts)


def _event_time(record: EnrichedArticle) -> datetime:
    # published_at is the story's clock; a date in the future of when the
    # article reached us is a feed error, so received_at caps it.
    return min(record.article.published_at, record.article.received_at)


def _redelivered(rules: RuleSet, state: StoryState, record: EnrichedArticle) -> tuple[Alert, ...]:
    # The same article again means a re-delivery (dedup drops true copies):
    # re-send what it caused, with the same ids, so a consumer drops repeats
    # and an alert lost in a crash between state write and send still goes out.
    wanted = set(rules.names)
    return tuple(
        m.last_alert
        for m in state.rules
        if m.rule in wanted
        and m.last_alert is not None
        and m.last_alert.article_id == record.article.id
    )


def _apply(
    rule: Rule,
    record: EnrichedArticle,
    at: datetime,
    before: StoryState,
    story: StoryState,
    memory: RuleMemory,
) -> tuple[RuleMemory, Alert | None]:
    hits = rule.when.match(record) if rule.when is not None else ()
    if hits is None:
        return memory, None
    if rule.toll_rise is not None:
        return _toll_rise(rule, rule.toll_rise, record, at, before, story, memory, hits)
    if rule.breaking is not None:
        return _breaking(rule, rule.breaking, record, at, story, memory, hits)
    if _cooling(rule, memory, at):
        return memory, None
    facts = [hit.fact for hit in hits]
    head = " + ".join(hit.label for hit in hits if hit.label) or rule.name
    summary = _summary(head, hits, record, story)
    last = memory.last_alert
    if last is not None:
        facts.append(_update_fact(last, facts, story))
        summary += f" (again since {last.created_at:%Y-%m-%d %H:%M}Z)"
    alert = _alert(rule, record, at, story, facts, summary, _window_key(rule, record, at))
    return replace(memory, last_alert=alert), alert


def _toll_rise(
    rule: Rule,
    spec: TollRise,
    record: EnrichedArticle,
    at: datetime,
    before: StoryState,
    story: StoryState,
    memory: RuleMemory,
    hits: tuple[Hit, ...],
) -> tuple[RuleMemory, Alert | None]:
    figure = best_figure(record.casualties, spec.category, spec.include_cumulative)
    if figure is None:
        return memory, None
    new = mark(figure, record, at)
    # The baseline is the figure at the last alert (or first seen), not the
    # latest one, so that a toll creeping up 5, 7, 9, 11 still alerts once.
    base = memory.baseline or before.toll(spec.category, spec.include_cumulative)
    if base is None:
        return replace(memory, baseline=new), None
    if not spec.qualifies(base.value, new.value) or _cooling(rule, memory, at):
        return replace(memory, baseline=base), None
    change = f"{spec.category} rises from {base.value:,} to {new.value:,}"
    facts = [
        AlertFact("casualties", f"{change}: {new.detail}", new.sentence),
        AlertFact(
            "previous",
            f"{base.detail} in article {base.article_id} at {base.at:%Y-%m-%d %H:%M}Z",
            base.sentence,
        ),
        *(hit.fact for hit in hits),
    ]
    summary = _summary(change, hits, record, story)
    alert = _alert(rule, record, at, story, facts, summary, f"{spec.category}={new.value}")
    return replace(memory, last_alert=alert, baseline=new), alert


def _breaking(
    rule: Rule,
    spec: Breaking,
    record: EnrichedArticle,
    at: datetime,
    story: StoryState,
    memory: RuleMemory,
    hits: tuple[Hit, ...],
) -> tuple[RuleMemory, Alert | None]:
    window = _busiest_window(story.reports, at, spec.window)
    if len(window) < spec.sources or _cooling(rule, memory, at):
        return memory, None
    minutes = f"{spec.window.total_seconds() / 60:g}"
    names = ", ".join(r.source for r in window)
    facts = [
        AlertFact("sources", f"{len(window)} sources within {minutes} min: {names}"),
        *(
            AlertFact(
                "source",
                f"{r.source} at {r.at:%Y-%m-%d %H:%M}Z ({r.article_id})",
                r.headline or None,
            )
            for r in window
        ),
        *(hit.fact for hit in hits),
    ]
    head = f"breaking: {len(window)} sources within {minutes} min"
    summary = _summary(head, hits, record, story)
    alert = _alert(rule, record, at, story, facts, summary, _window_key(rule, record, at))
    return replace(memory, last_alert=alert), alert


def _busiest_window(
    reports: tuple[SourceReport, ...], at: datetime, window: timedelta
) -> tuple[SourceReport, ...]:
    """The first report of each source in the busiest window that contains ``at``."""
    nearby = [r for r in reports if at - window <= r.at <= at + window]  # sorted by time
    best = (0, 0, 0)  # (distinct sources, start, end) of the best window so far
    counts: Counter[str] = Counter()
    end = 0
    # Slide a window starting at each report; only windows containing the
    # current article count, older ones were judged when their articles came.
    for start, first in enumerate(nearby):
        if first.at > at:
            break
        while end < len(nearby) and nearby[end].at <= first.at + window:
            counts[nearby[end].source] += 1
            end += 1
        if len(counts) > best[0]:
            best = (len(counts), start, end)
        counts[first.source] -= 1
        if not counts[first.source]:
            del counts[first.source]
    firsts: dict[str, SourceReport] = {}
    for r in nearby[best[1] : best[2]]:
        firsts.setdefault(r.source, r)
    return tuple(firsts.values())


def _cooling(rule: Rule, memory: RuleMemory, at: datetime) -> bool:
    last = memory.last_alert
    return last is not None and at - last.created_at < rule.cooldown


def _window_key(rule: Rule, record: EnrichedArticle, at: datetime) -> str:
    # Two alerts of one rule and story are at least a cooldown apart, so they
    # fall in different cooldown-long buckets: the bucket is a stable id part.
    seconds = int(rule.cooldown.total_seconds())
    if seconds <= 0:
        return f"article={record.article.id}"
    return f"window={seconds}:{int(at.timestamp()) // seconds}"


def _summary(head: str, hits: tuple[Hit, ...], record: EnrichedArticle, story: StoryState) -> str:
    country = next((hit.country for hit in hits if hit.country), None) or record.entities.country
    place = f" in {country}" if country else ""
    count = len(story.sources)
    return f"{head}{place}, story {story.story_id}, {count} source{'' if count == 1 else 's'}"


def _update_fact(last: Alert, facts: list[AlertFact], story: StoryState) -> AlertFact:
    before = {fact.detail for fact in last.facts}
    new = [fact.detail for fact in facts if fact.detail not in before]
    what = f"now {'; '.join(new)}" if new else "same facts"
    detail = (
        f"since alert {last.id} at {last.created_at:%Y-%m-%d %H:%M}Z: {what}; "
        f"sources {last.sources} -> {len(story.sources)}"
    )
    return AlertFact("update", detail)


def _alert(
    rule: Rule,
    record: EnrichedArticle,
    at: datetime,
    story: StoryState,
    facts: list[AlertFact],
    summary: str,
    key: str,
) -> Alert:
    digest = hashlib.sha256(
        "\x1f".join((rule.name, rule.kind, story.story_id, key)).encode()
    ).hexdigest()
    return Alert(
        id=digest[:32],
        rule=rule.name,
        severity=rule.severity,
        story_id=story.story_id,
        article_id=record.article.id,
        headline=record.article.headline,
        facts=tuple(facts),
        created_at=at,
        sources=len(story.sources),
        summary=summary,
    )
