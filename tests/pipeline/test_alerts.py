"""The alerts stage: matching, per-story rules, cooldowns, ids and replays."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import codec
from pipeline.alerts import StoryState, evaluate_alerts, load_rules
from pipeline.errors import ExtractionError
from pipeline.records import (
    Alert,
    Article,
    CasualtyFigure,
    CasualtyReport,
    DedupVerdict,
    EnrichedArticle,
    Entity,
    EntityMention,
    TaggedEntities,
)

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

STORY_RULES = load_rules(
    """
rules:
  - name: syria-deaths
    severity: warning
    when: {category: killed, min: 10, countries: [SY]}
    cooldown: 60
  - name: toll-rise
    severity: warning
    toll_rise: {category: killed, min_increase: 5}
  - name: breaking
    severity: info
    breaking: {sources: 3, window: 30}
""",
    "story-rules.yaml",
)


def figure(
    category: str,
    low: int,
    *,
    qualifier: str = "exact",
    cumulative: bool = False,
    attribution: str | None = None,
    sentence: str | None = None,
) -> CasualtyFigure:
    return CasualtyFigure(
        category=category,
        low=low,
        high=low if qualifier == "exact" else None,
        qualifier=qualifier,
        text=f"{low} people",
        start=0,
        end=len(f"{low} people"),
        sentence=sentence or f"At least {low} people were {category}.",
        cumulative=cumulative,
        attribution=attribution,
    )


def enriched(
    article_id: str,
    source: str,
    minutes: float,
    *,
    story: str = "s-1",
    killed: int | None = None,
    headline: str = "Shelling hits Idlib",
    body: str = "Government forces shelled the town.",
    country: str | None = "SY",
    entities: tuple[Entity, ...] = (),
    mentions: tuple[EntityMention, ...] = (),
    tolls: tuple[CasualtyFigure, ...] | None = None,
    figures: tuple[CasualtyFigure, ...] | None = None,
    received_minutes: float | None = None,
) -> EnrichedArticle:
    published = T0 + timedelta(minutes=minutes)
    received = T0 + timedelta(minutes=minutes if received_minutes is None else received_minutes)
    killed_tolls = (figure("killed", killed),) if killed is not None else ()
    tolls = killed_tolls if tolls is None else tolls
    return EnrichedArticle(
        article=Article(article_id, source, headline, body, published, received),
        dedup=DedupVerdict("unique", f"fp-{article_id}", story),
        entities=TaggedEntities(mentions=mentions, entities=entities, country=country),
        casualties=CasualtyReport(figures=tolls if figures is None else figures, tolls=tolls),
    )


def run(rules, records, state=None):
    """Feed ``records`` in order; return the final state and alerts per record."""
    out = []
    for record in records:
        state, alerts = evaluate_alerts(rules, record, state)
        out.append(alerts)
    return state, out


def scripted_story() -> list[EnrichedArticle]:
    """Three sources, a toll rising 5 -> 12 -> 40, then a later report of 40."""
    return [
        enriched("a1", "reuters", 0, killed=5),
        enriched("a2", "ap", 10, killed=12),
        enriched("a3", "afp", 20, killed=40),
        enriched("a4", "reuters", 90, killed=40),
    ]


def test_scripted_story_gives_the_expected_alert_sequence() -> None:
    _state, out = run(STORY_RULES, scripted_story())
    got = [[(a.rule, a.article_id, a.summary) for a in alerts] for alerts in out]
    assert got == [
        [],
        [
            ("syria-deaths", "a2", "killed >= 10 (12) in SY, story s-1, 2 sources"),
            ("toll-rise", "a2", "killed rises from 5 to 12 in SY, story s-1, 2 sources"),
        ],
        [
            ("toll-rise", "a3", "killed rises from 12 to 40 in SY, story s-1, 3 sources"),
            ("breaking", "a3", "breaking: 3 sources within 30 min in SY, story s-1, 3 sources"),
        ],
        [
            (
                "syria-deaths",
                "a4",
                "killed >= 10 (40) in SY, story s-1, 3 sources (again since 2026-03-01 12:10Z)",
            ),
        ],
    ]
    ids = [a.id for alerts in out for a in alerts]
    assert len(set(ids)) == len(ids) == 5


def test_every_alert_says_why() -> None:
    _state, out = run(STORY_RULES, scripted_story())
    deaths, rise = out[1]
    assert deaths.severity == "warning" and deaths.sources == 2 and deaths.story_id == "s-1"
    assert [(f.kind, f.detail, f.sentence) for f in deaths.facts] == [
        ("casualties", "killed 12", "At least 12 people were killed."),
        ("country", "SY (article)", None),
    ]
    assert [(f.kind, f.detail, f.sentence) for f in rise.facts] == [
        ("casualties", "killed rises from 5 to 12: killed 12", "At least 12 people were killed."),
        (
            "previous",
            "killed 5 in article a1 at 2026-03-01 12:00Z",
            "At least 5 people were killed.",
        ),
    ]
    breaking = out[2][1]
    assert breaking.facts[0].detail == "3 sources within 30 min: reuters, ap, afp"
    assert [f.sentence for f in breaking.facts[1:]] == ["Shelling hits Idlib"] * 3
    update = out[3][0].facts[-1]
    assert update.kind == "update"
    assert update.detail == (
        f"since alert {deaths.id} at 2026-03-01 12:10Z: now killed 40; sources 2 -> 3"
    )
    assert out[3][0].created_at == T0 + timedelta(minutes=90)  # record time, not the clock


@pytest.mark.parametrize("cut", range(5))
def test_restart_with_state_through_codec_gives_the_same_alerts(cut: int) -> None:
    records = scripted_story()
    _state, expected = run(STORY_RULES, records)
    state, first = run(STORY_RULES, records[:cut])
    if state is not None:
        state = codec.record_from_bytes(StoryState, codec.to_bytes(state))
    _state, rest = run(STORY_RULES, records[cut:], state)
    assert first + rest == expected


def test_state_round_trips_through_codec_at_every_step() -> None:
    state = None
    for record in scripted_story():
        state, _alerts = evaluate_alerts(STORY_RULES, record, state)
        decoded = codec.record_from_bytes(StoryState, codec.to_bytes(state))
        assert decoded == state
        state = decoded


def test_replay_from_scratch_gives_identical_ids() -> None:
    _s, once = run(STORY_RULES, scripted_story())
    _s, again = run(STORY_RULES, scripted_story())
    assert once == again


def test_redelivered_article_reemits_its_alerts_unchanged() -> None:
    records = scripted_story()
    state, out = run(STORY_RULES, records[:3])
    # Crash after the state was written but before the alerts were sent:
    # processing a3 again must give the very same alerts and leave the state.
    again_state, again = evaluate_alerts(STORY_RULES, records[2], state)
    assert again == out[2]
    assert again_state == state
    # A re-delivery of a2 re-sends only what a2 caused and still stands.
    _s, older = evaluate_alerts(STORY_RULES, records[1], state)
    assert [a.rule for a in older] == ["syria-deaths"]
    assert older[0] == out[1][0]


def test_update_under_the_same_article_id_is_not_a_redelivery() -> None:
    first = enriched("y1", "ap", 0, killed=5)
    updated = dataclasses.replace(
        enriched("y1", "ap", 30, killed=40),
        dedup=DedupVerdict("unique", "fp-y1-v2", "s-1"),
    )
    state, _a = evaluate_alerts(STORY_RULES, first, None)
    _s, alerts = evaluate_alerts(STORY_RULES, updated, state)
    assert [a.summary for a in alerts] == [
        "killed >= 10 (40) in SY, story s-1, 1 source",
        "killed rises from 5 to 40 in SY, story s-1, 1 source",
    ]


def test_crash_before_state_write_gives_the_same_ids() -> None:
    records = scripted_story()
    state2, out = run(STORY_RULES, records[:2])
    _s, first = evaluate_alerts(STORY_RULES, records[2], state2)
    _s, retry = evaluate_alerts(STORY_RULES, records[2], state2)
    assert [a.id for a in first] == [a.id for a in retry]


def test_ids_differ_per_story_and_rule() -> None:
    a = evaluate_alerts(STORY_RULES, enriched("x1", "ap", 0, killed=50, story="s-1"), None)[1]
    b = evaluate_alerts(STORY_RULES, enriched("x1", "ap", 0, killed=50, story="s-2"), None)[1]
    assert [x.rule for x in a] == [x.rule for x in b] == ["syria-deaths"]
    assert a[0].id != b[0].id


def test_cooldown_suppresses_then_allows_with_a_new_id() -> None:
    records = [
        enriched("b1", "ap", 0, killed=20),
        enriched("b2", "afp", 30, killed=20),
        enriched("b3", "ap", 59, killed=20),
        enriched("b4", "bbc", 60, killed=20),
    ]
    _s, out = run(STORY_RULES, records)
    deaths = [[a for a in alerts if a.rule == "syria-deaths"] for alerts in out]
    assert [len(d) for d in deaths] == [1, 0, 0, 1]
    assert deaths[0][0].id != deaths[3][0].id
    assert deaths[3][0].facts[-1].detail.endswith("same facts; sources 1 -> 3")


def test_zero_cooldown_fires_per_article() -> None:
    rules = load_rules(
        "rules:\n  - {name: any-death, severity: info, cooldown: 0, when: {category: killed}}"
    )
    _s, out = run(rules, [enriched("c1", "ap", 0, killed=1), enriched("c2", "ap", 1, killed=1)])
    assert [len(alerts) for alerts in out] == [1, 1]
    assert out[0][0].id != out[1][0].id


def test_out_of_order_article_inside_cooldown_is_silent() -> None:
    _s, out = run(
        STORY_RULES, [enriched("d1", "ap", 30, killed=20), enriched("d2", "afp", 0, killed=20)]
    )
    assert [a.rule for a in out[0]] == ["syria-deaths"]
    assert [a.rule for a in out[1] if a.rule == "syria-deaths"] == []


def test_toll_rise_measures_from_the_last_alert_so_creep_alerts_once() -> None:
    tolls = [5, 7, 9, 11, 13]
    records = [enriched(f"e{i}", "ap", i, killed=k) for i, k in enumerate(tolls)]
    _s, out = run(STORY_RULES, records)
    rises = [a.summary.split(" in ")[0] for alerts in out for a in alerts if a.rule == "toll-rise"]
    assert rises == ["killed rises from 5 to 11"]


def test_toll_rise_needs_both_amount_and_ratio_when_both_given() -> None:
    rules = load_rules(
        "rules:\n  - {name: r, severity: info,"
        " toll_rise: {category: killed, min_increase: 5, min_ratio: 1.5}}"
    )

    def rises(values: list[int]) -> list[str]:
        records = [enriched(f"f{i}", "ap", i, killed=v) for i, v in enumerate(values)]
        return [
            a.facts[0].detail.split(":")[0] for alerts in run(rules, records)[1] for a in alerts
        ]

    assert rises([1000, 1010]) == []  # +10 but only x1.01
    assert rises([1, 4]) == []  # x4 but only +3
    assert rises([0, 6]) == ["killed rises from 0 to 6"]
    assert rises([10, 15]) == ["killed rises from 10 to 15"]


def test_toll_falling_or_missing_does_not_alert_or_move_the_baseline() -> None:
    records = [
        enriched("g1", "ap", 0, killed=40),
        enriched("g2", "afp", 1, killed=12),
        enriched("g3", "bbc", 2),
        enriched("g4", "ap", 3, killed=44),
        enriched("g5", "ap", 4, killed=45),
    ]
    state, out = run(STORY_RULES, records)
    rises = [a.summary.split(" in ")[0] for alerts in out for a in alerts if a.rule == "toll-rise"]
    assert rises == ["killed rises from 40 to 45"]
    assert state.toll("killed").value == 45


def test_toll_rise_when_filter_limits_the_articles_that_can_fire() -> None:
    rules = load_rules(
        "rules:\n  - {name: r, severity: info, when: {countries: [IQ]},"
        " toll_rise: {category: killed, min_increase: 1}}"
    )
    records = [
        enriched("h1", "ap", 0, killed=5, country="IQ"),
        enriched("h2", "ap", 1, killed=9, country="SY"),
        enriched("h3", "ap", 2, killed=12, country="IQ"),
    ]
    _s, out = run(rules, records)
    assert [[a.summary for a in alerts] for alerts in out] == [
        [],
        [],
        ["killed rises from 5 to 12 in IQ, story s-1, 1 source"],
    ]
    # The first matching article takes the story's figure so far as its
    # baseline and keeps it, so small steps still add up to one alert.
    creeping = [
        enriched("h4", "ap", 0, killed=5, country="SY"),
        enriched("h5", "ap", 1, killed=7, country="IQ"),
        enriched("h6", "ap", 2, killed=9, country="IQ"),
    ]
    step_of_four = load_rules(
        "rules:\n  - {name: r, severity: info, when: {countries: [IQ]},"
        " toll_rise: {category: killed, min_increase: 4}}"
    )
    _s, out = run(step_of_four, creeping)
    assert [[a.summary.split(" in ")[0] for a in alerts] for alerts in out] == [
        [],
        [],
        ["killed rises from 5 to 9"],
    ]


def test_toll_rise_ignores_running_totals_unless_asked() -> None:
    running = figure("killed", 5000, qualifier="more_than", cumulative=True)
    records = [
        enriched("w1", "ap", 0, killed=5),
        enriched("w2", "afp", 1, tolls=(running,), figures=(running, figure("killed", 6))),
        enriched("w3", "bbc", 2, killed=11),
    ]
    state, out = run(STORY_RULES, records)
    rises = [a.summary.split(" in ")[0] for alerts in out for a in alerts if a.rule == "toll-rise"]
    assert rises == ["killed rises from 5 to 11"]
    assert state.toll("killed").value == 5000
    assert state.toll("killed", include_cumulative=False).value == 11
    with_totals = load_rules(
        "rules:\n  - {name: r, severity: info,"
        " toll_rise: {category: killed, min_increase: 5, include_cumulative: true}}"
    )
    _s, out = run(with_totals, records)
    assert [[a.facts[0].detail for a in alerts] for alerts in out] == [
        [],
        ["killed rises from 5 to 5,000: killed more than 5,000"],
        [],
    ]


def test_breaking_needs_distinct_sources_inside_the_window() -> None:
    spread = [enriched("i1", "ap", 0), enriched("i2", "afp", 20), enriched("i3", "bbc", 45)]
    assert not any(a.rule == "breaking" for alerts in run(STORY_RULES, spread)[1] for a in alerts)
    same = [enriched("j1", "ap", 0), enriched("j2", "ap", 5), enriched("j3", "ap", 10)]
    assert not any(a.rule == "breaking" for alerts in run(STORY_RULES, same)[1] for a in alerts)
    late_first = [enriched("k1", "ap", 10), enriched("k2", "afp", 25), enriched("k3", "bbc", 0)]
    _s, out = run(STORY_RULES, late_first)
    assert [a.rule for a in out[2]] == ["breaking"]
    assert out[2][0].facts[0].detail == "3 sources within 30 min: bbc, ap, afp"


def test_breaking_fires_once_per_cooldown() -> None:
    records = [enriched(f"l{i}", f"src{i}", i) for i in range(6)]
    _s, out = run(STORY_RULES, records)
    assert [[a.rule for a in alerts] for alerts in out] == [[], [], ["breaking"], [], [], []]


def test_future_publication_time_is_capped_at_receipt() -> None:
    record = enriched("m1", "ap", 600, killed=20, received_minutes=5)
    _s, (alert,) = evaluate_alerts(STORY_RULES, record, None)
    assert alert.created_at == T0 + timedelta(minutes=5)


def test_state_of_another_story_is_refused() -> None:
    state, _a = evaluate_alerts(STORY_RULES, enriched("n1", "ap", 0, story="s-1"), None)
    with pytest.raises(ExtractionError, match="state of story 's-1' given for article 'n2'"):
        evaluate_alerts(STORY_RULES, enriched("n2", "ap", 1, story="s-2"), state)


def test_memory_of_removed_rules_is_dropped() -> None:
    state, _a = evaluate_alerts(STORY_RULES, enriched("o1", "ap", 0, killed=30), None)
    assert {m.rule for m in state.rules} == {"syria-deaths", "toll-rise"}
    fewer = load_rules(
        "rules:\n  - {name: toll-rise, severity: info, toll_rise: {category: killed, min_ratio: 2}}"
    )
    state, _a = evaluate_alerts(fewer, enriched("o2", "ap", 1, killed=31), state)
    assert [m.rule for m in state.rules] == ["toll-rise"]


def test_state_keeps_reports_inside_the_longest_window_and_bounded() -> None:
    state = None
    for i in range(80):
        state, _a = evaluate_alerts(STORY_RULES, enriched(f"p{i}", f"src{i % 7}", i), state)
    # The longest breaking window is 30 minutes: reports at minutes 49..79.
    assert [r.article_id for r in state.reports] == [f"p{i}" for i in range(49, 80)]
    assert state.recent_articles == tuple(f"p{i}#fp-p{i}" for i in range(16, 80))
    assert state.sources == tuple(sorted(f"src{i}" for i in range(7)))
    assert state.first_seen == T0 and state.last_seen == T0 + timedelta(minutes=79)
    wide = load_rules("rules:\n  - {name: b, severity: info, breaking: {sources: 9, window: 600}}")
    state = None
    for i in range(80):
        state, _a = evaluate_alerts(wide, enriched(f"p{i}", f"src{i % 7}", i), state)
    assert len(state.reports) == 64
    assert state.reports[-1].article_id == "p79"


def test_state_without_breaking_rules_keeps_only_the_latest_reports() -> None:
    rules = load_rules("rules:\n  - {name: t, severity: info, when: {category: killed}}")
    state, _a = run(rules, [enriched("x1", "ap", 0), enriched("x2", "afp", 5)])
    assert [r.article_id for r in state.reports] == ["x2"]
    assert state.recent_articles == ("x1#fp-x1", "x2#fp-x2")
    again, alerts = evaluate_alerts(rules, enriched("x1", "ap", 0), state)
    assert (again, alerts) == (state, ())


# -- conditions ---------------------------------------------------------------

ASSAD = Entity("Bashar al-Assad", "PER", 2, 10, variants=("Assad", "al-Assad"), country="SY")
DAMASCUS = Entity("Damascus", "LOC", 1, 40, country="SY")
ASSAD_MENTION = EntityMention(
    "Assad", "PER", 10, 15, "Assad spoke in Damascus.", "model", canonical="Bashar al-Assad"
)


def matches(when: str, record: EnrichedArticle) -> list[tuple[str, str, str | None]] | None:
    rules = load_rules(f"rules:\n  - {{name: t, severity: info, cooldown: 0, when: {when}}}")
    _state, alerts = evaluate_alerts(rules, record, None)
    return [(f.kind, f.detail, f.sentence) for f in alerts[0].facts] if alerts else None


def test_entity_watch_list_matches_canonical_names_and_variants_ignoring_case() -> None:
    record = enriched("q1", "ap", 0, entities=(ASSAD,), mentions=(ASSAD_MENTION,))
    expected = [("entity", "Bashar al-Assad (PER)", "Assad spoke in Damascus.")]
    assert matches("{entities: [bashar al-assad]}", record) == expected
    assert matches("{entities: [Assad]}", record) == expected
    assert matches("{entities: [Vladimir Putin]}", record) is None


def test_country_watch_list_matches_article_or_entity_country() -> None:
    article_level = enriched("r1", "ap", 0, country="SY")
    assert matches("{countries: [SY]}", article_level) == [("country", "SY (article)", None)]
    via_entity = enriched("r2", "ap", 0, country="US", entities=(ASSAD,), mentions=(ASSAD_MENTION,))
    assert matches("{countries: [SYR]}", via_entity) == [
        ("country", "SY via Bashar al-Assad", "Assad spoke in Damascus.")
    ]
    assert matches("{countries: [IQ]}", via_entity) is None


def test_a_country_only_the_source_gave_says_so() -> None:
    record = enriched("r3", "ap", 0, country="SY")
    record = dataclasses.replace(
        record, entities=dataclasses.replace(record.entities, country_from="source")
    )
    assert matches("{countries: [SY]}", record) == [
        ("country", "SY (its source's usual country)", None)
    ]


def test_keywords_are_whole_words_case_insensitive_and_regexes_work() -> None:
    record = enriched(
        "s1",
        "ap",
        0,
        headline="Blast in Kabul",
        body="A suicide bomber struck. Police shelled nothing.",
    )
    assert matches("{keywords: [SUICIDE BOMBER]}", record) == [
        ("keyword", "'SUICIDE BOMBER' matched 'suicide bomber'", "A suicide bomber struck.")
    ]
    assert matches("{keywords: [shell]}", record) is None  # "shelled" is another word
    assert matches("{keywords: ['regex:shell(ed|ing)']}", record) == [
        ("keyword", "'regex:shell(ed|ing)' matched 'shelled'", "Police shelled nothing.")
    ]
    assert matches("{keywords: [blast]}", record) == [
        ("keyword", "'blast' matched 'Blast'", "Blast in Kabul")
    ]


def test_all_any_not_combine() -> None:
    record = enriched("t1", "ap", 0, killed=12, country="SY", body="An air strike hit a market.")
    both = "{all: [{countries: [SY]}, {keywords: [air strike]}]}"
    assert [k for k, _d, _s in matches(both, record)] == ["country", "keyword"]
    either = "{any: [{countries: [IQ]}, {category: killed, min: 10}]}"
    assert matches(either, record) == [
        ("casualties", "killed 12", "At least 12 people were killed.")
    ]
    assert matches("{any: [{countries: [IQ]}, {countries: [YE]}]}", record) is None
    assert matches("{countries: [SY], not: {keywords: [football]}}", record) == [
        ("country", "SY (article)", None)
    ]
    assert matches("{countries: [SY], not: {keywords: [market]}}", record) is None


def test_casualty_threshold_reads_toll_then_figures_and_cumulative_option() -> None:
    running = figure("killed", 5000, qualifier="more_than", cumulative=True, attribution="UN")
    single = figure("killed", 3)
    record = enriched("u1", "ap", 0, tolls=(running,), figures=(running, single))
    assert matches("{category: killed, min: 100}", record) == [
        ("casualties", "killed more than 5,000, per UN", "At least 5000 people were killed.")
    ]
    assert matches("{category: killed, min: 100, include_cumulative: false}", record) is None
    assert (
        matches("{category: killed, min: 3, include_cumulative: false}", record)[0][1] == "killed 3"
    )
    incident_toll = enriched("u3", "ap", 0, tolls=(single,), figures=(running, single))
    assert matches("{category: killed, min: 100}", incident_toll)[0][1] == (
        "killed more than 5,000, per UN"
    )
    assert matches("{category: killed, min: 4, include_cumulative: false}", incident_toll) is None
    small_total = figure("killed", 2, cumulative=True)
    larger_toll = enriched("u4", "ap", 0, tolls=(single,), figures=(small_total, single))
    assert matches("{category: killed}", larger_toll)[0][1] == "killed 3"
    no_tolls = enriched("u2", "ap", 0, tolls=(), figures=(single, figure("killed", 8)))
    assert matches("{category: killed, min: 8}", no_tolls)[0][1] == "killed 8"
    assert matches("{category: injured}", no_tolls) is None


def test_figures_are_described_by_qualifier() -> None:
    between = dataclasses.replace(figure("injured", 10, qualifier="range"), high=20)
    dozens = figure("killed", 24, qualifier="vague")
    record = enriched("z1", "ap", 0, tolls=(between, dozens))
    assert [d for _k, d, _s in matches("{category: injured}", record)] == ["injured 10-20"]
    assert [d for _k, d, _s in matches("{category: killed}", record)] == ["killed 24 (vague)"]
    up_to = dataclasses.replace(figure("missing", 1, qualifier="up_to"), high=30)
    fewer = dataclasses.replace(figure("arrested", 1, qualifier="fewer_than"), high=9)
    bounded = enriched("z5", "ap", 0, tolls=(up_to, fewer))
    assert matches("{category: missing}", bounded)[0][1] == "missing up to 30"
    assert matches("{category: arrested}", bounded)[0][1] == "arrested fewer than 10"
    assert matches("{category: missing, min: 2}", bounded) is None  # low is 1


def test_keywords_with_their_own_flags_still_match_one_by_one() -> None:
    record = enriched("z2", "ap", 0, body="A car-bomb went off.")
    when = "{keywords: ['regex:(?s)car.bomb', ambush]}"
    assert matches(when, record) == [
        ("keyword", "'regex:(?s)car.bomb' matched 'car-bomb'", "A car-bomb went off.")
    ]
    assert matches(when, enriched("z3", "ap", 0, body="A quiet day.")) is None


def test_background_figures_never_count() -> None:
    protest = dataclasses.replace(figure("killed", 200), background=True)
    record = enriched("bg1", "ap", 0, tolls=(protest,), figures=(protest,))
    assert matches("{category: killed}", record) is None
    mixed = enriched("bg2", "ap", 0, tolls=(figure("killed", 2),), figures=(protest,))
    assert matches("{category: killed, min: 100}", mixed) is None


def test_default_rules_fire_on_the_seed_article() -> None:
    sentence = (
        "Veto-holding Security Council members Russia and China have blocked previous efforts "
        "for a resolution condemning al-Assad for the violence, which the UN says has killed "
        "more than 5,000 people since March."
    )
    toll = figure(
        "killed", 5000, qualifier="more_than", cumulative=True, attribution="UN", sentence=sentence
    )
    # As the casualty stage reports it: the incident figure (the Red Crescent
    # head) is the toll, the UN's running total only one of the figures.
    incident = figure("killed", 1, sentence="The head of the Syrian Red Crescent was killed.")
    seed = enriched(
        "seed-0",
        "rferl",
        0,
        story="seed-0",
        tolls=(incident,),
        figures=(toll, incident),
        headline="Russia open to proposals on Syria",
        body=sentence,
        country="SY",
    )
    rules = load_rules((REPO / "deploy" / "alert-rules.yaml").read_text(encoding="utf-8"))
    _state, alerts = evaluate_alerts(rules, seed, None)
    assert [(a.rule, a.severity) for a in alerts] == [("mass-casualty", "critical")]
    (alert,) = alerts
    assert alert.summary == "killed >= 100 (more than 5,000) in SY, story seed-0, 1 source"
    assert alert.facts == (alert.facts[0],)
    assert alert.facts[0].detail == "killed more than 5,000, per UN"
    assert alert.facts[0].sentence == sentence


def test_default_rules_on_the_scripted_story() -> None:
    rules = load_rules((REPO / "deploy" / "alert-rules.yaml").read_text(encoding="utf-8"))
    _state, out = run(rules, scripted_story()[:3])
    assert [[a.rule for a in alerts] for alerts in out] == [
        ["attack-with-deaths"],
        ["deaths-reported", "killed-toll-rise"],
        ["killed-toll-rise", "breaking-story"],
    ]


def test_alert_round_trips_through_codec() -> None:
    _s, out = run(STORY_RULES, scripted_story())
    for alerts in out:
        for alert in alerts:
            assert codec.alert_from_bytes(codec.to_bytes(alert)) == alert
            assert isinstance(alert, Alert)


def test_records_are_not_mutated() -> None:
    record = enriched("v1", "ap", 0, killed=20)
    copy = dataclasses.replace(record)
    evaluate_alerts(STORY_RULES, record, None)
    assert record == copy


def test_keyword_backreferences_are_not_broken_by_the_prefilter() -> None:
    record = enriched("z4", "ap", 0, body="They chanted: death, death to the regime.")
    when = r"{keywords: ['regex:(x)', 'regex:(death), \1']}"
    assert [d for _k, d, _s in matches(when, record)] == [
        r"'regex:(death), \\1' matched 'death, death'"  # the text's repr doubles the backslash
    ]
