"""The rule-file format: what loads, and a clear message for each kind of mistake."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline._alert_conditions import AllOf, AnyOf, CasualtyCondition, CountryCondition, Not
from pipeline._alert_rules import TollRise
from pipeline.alerts import RuleSet, load_rules
from pipeline.errors import PipelineError, RuleError

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "deploy" / "alert-rules.yaml"


def one_rule(body: str) -> str:
    """A rule file with one rule; ``body`` is the rule's YAML mapping lines."""
    lines = body.strip().splitlines()
    return "rules:\n  - " + "\n    ".join(lines) + "\n"


def test_the_lead_example_message_is_exact() -> None:
    text = one_rule("name: syria-deaths\nseverity: warning\nwhen: {category: killed, min: ten}")
    with pytest.raises(RuleError) as caught:
        load_rules(text, "rules.yaml")
    assert str(caught.value) == (
        "rules.yaml: rule 'syria-deaths': field 'when.min': expected an integer, got 'ten'"
    )


ERROR_MATRIX = [
    pytest.param(
        "name: r1\nsevrity: info\nwhen: {category: killed}",
        ["rule 'r1': field 'sevrity': unknown field (did you mean 'severity'?)"],
        id="unknown-rule-field",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {categry: killed}",
        ["rule 'r1': field 'when.categry': unknown field (did you mean 'category'?)"],
        id="unknown-when-field",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {all: [{countries: [SY], colour: red}]}",
        ["rule 'r1': field 'when.all[0].colour': unknown field"],
        id="unknown-nested-field",
    ),
    pytest.param(
        "name: r1\nseverity: info\ntoll_rise: {category: killed, min_increse: 3}",
        ["field 'toll_rise.min_increse': unknown field (did you mean 'min_increase'?)"],
        id="unknown-toll-rise-field",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: killed, min: 2.5}",
        ["rule 'r1': field 'when.min': expected an integer, got 2.5"],
        id="wrong-type-min-float",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: killed, min: true}",
        ["field 'when.min': expected an integer, got true"],
        id="wrong-type-min-bool",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: killed}\ncooldown: soon",
        ["rule 'r1': field 'cooldown': expected a number, got 'soon'"],
        id="wrong-type-cooldown",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {entities: {name: Assad}}",
        ["rule 'r1': field 'when.entities': expected a non-empty list, got a mapping"],
        id="wrong-type-entities",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {keywords: [bomb, 7]}",
        ["rule 'r1': field 'when.keywords[1]': expected a non-empty string, got 7"],
        id="wrong-type-keyword",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {all: {countries: [SY]}}",
        ["rule 'r1': field 'when.all': expected a non-empty list, got a mapping"],
        id="wrong-type-all",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: killed, include_cumulative: maybe}",
        ["field 'when.include_cumulative': expected true or false, got 'maybe'"],
        id="wrong-type-cumulative",
    ),
    pytest.param(
        "name: r1\nseverity: info\n"
        "toll_rise: {category: killed, min_ratio: 2, include_cumulative: 1}",
        ["rule 'r1': field 'toll_rise.include_cumulative': expected true or false, got 1"],
        id="wrong-type-toll-rise-cumulative",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {countries: [Syria]}",
        ["rule 'r1': field 'when.countries[0]': 'Syria' is not an ISO 3166-1 country code"],
        id="country-name-not-code",
    ),
    pytest.param(
        "name: r1\nseverity: info\ndescription: [a, b]\nwhen: {category: killed}",
        ["rule 'r1': field 'description': expected a string, got a list"],
        id="wrong-type-description",
    ),
    pytest.param(
        "name: r1\nseverity: info\ntoll_rise: 5",
        ["rule 'r1': field 'toll_rise': expected a mapping, got 5"],
        id="wrong-type-toll-rise",
    ),
    pytest.param(
        "name: r1\nseverity: info\nbreaking: yes",
        ["rule 'r1': field 'breaking': expected a mapping, got true"],
        id="wrong-type-breaking",
    ),
    pytest.param(
        "name: r1\nseverity: info\nbreaking: {sources: 80}",
        [
            "rule 'r1': field 'breaking.sources': at most 50, got 80",
            "rule 'r1': field 'breaking.window': required (minutes)",
        ],
        id="breaking-too-many-sources-no-window",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: killed",
        ["rule 'r1': field 'when': expected a mapping, got 'killed'"],
        id="wrong-type-when",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {keywords: ['regex:(unclosed']}",
        ["rule 'r1': field 'when.keywords[0]': bad regex '(unclosed': missing ), unterminated"],
        id="bad-regex",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {keywords: ['regex:x*']}",
        ["rule 'r1': field 'when.keywords[0]': regex 'x*' matches empty text"],
        id="regex-matching-everything",
    ),
    pytest.param(
        "name: r1\nseverity: urgent\nwhen: {category: killed}",
        [
            "rule 'r1': field 'severity': unknown value 'urgent',"
            " expected one of: info, warning, critical"
        ],
        id="unknown-severity",
    ),
    pytest.param(
        "name: r1\nwhen: {category: killed}",
        ["rule 'r1': field 'severity': required (one of: info, warning, critical)"],
        id="missing-severity",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: kiled, min: 3}",
        ["rule 'r1': field 'when.category': unknown value 'kiled'", "(did you mean 'killed'?)"],
        id="unknown-category",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {min: 3}",
        ["rule 'r1': field 'when.category': required with 'min'"],
        id="min-without-category",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {countries: [SY, XX]}",
        ["rule 'r1': field 'when.countries[1]': 'XX' is not an ISO 3166-1 country code"],
        id="unknown-country",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {countries: [SE, NO]}",
        [
            "field 'when.countries[1]': expected a non-empty string, got false",
            "quote country codes",
        ],
        id="norway-problem",
    ),
    pytest.param(
        "severity: info\nwhen: {category: killed}",
        ["rule #1: field 'name': expected a non-empty string, got nothing"],
        id="missing-name",
    ),
    pytest.param(
        "name: r1\nseverity: info",
        ["rule 'r1': field 'when': required (or one of 'toll_rise', 'breaking')"],
        id="no-condition",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {}",
        ["rule 'r1': field 'when': expected at least one condition"],
        id="empty-when",
    ),
    pytest.param(
        "name: r1\nseverity: info\ntoll_rise: {category: killed}",
        ["rule 'r1': field 'toll_rise': needs 'min_increase', 'min_ratio' or both"],
        id="toll-rise-without-amount",
    ),
    pytest.param(
        "name: r1\nseverity: info\ntoll_rise: {category: killed, min_ratio: 0.5}",
        ["rule 'r1': field 'toll_rise.min_ratio': expected a ratio > 1"],
        id="toll-rise-ratio-below-one",
    ),
    pytest.param(
        "name: r1\nseverity: info\nbreaking: {sources: 1, window: 0}",
        [
            "rule 'r1': field 'breaking.sources': expected an integer >= 2, got 1",
            "rule 'r1': field 'breaking.window': expected minutes > 0",
        ],
        id="breaking-out-of-range",
    ),
    pytest.param(
        "name: r1\nseverity: info\nbreaking: {window: 30}",
        ["rule 'r1': field 'breaking.sources': required"],
        id="breaking-without-sources",
    ),
    pytest.param(
        "name: r1\nseverity: info\nbreaking: {sources: 3, window: 30}\n"
        "toll_rise: {category: killed, min_ratio: 2}",
        ["rule 'r1': field 'breaking': a rule has one kind"],
        id="two-kinds",
    ),
    pytest.param(
        "name: r1\nseverity: info\nwhen: {category: killed}\ncooldown: -5",
        ["rule 'r1': field 'cooldown': expected minutes >= 0"],
        id="negative-cooldown",
    ),
]


@pytest.mark.parametrize(("rule", "expected"), ERROR_MATRIX)
def test_rule_error_names_the_rule_and_field(rule: str, expected: list[str]) -> None:
    with pytest.raises(RuleError) as caught:
        load_rules(one_rule(rule), "rules.yaml")
    message = str(caught.value)
    assert message.startswith("rules.yaml: ")
    for part in expected:
        assert part in message


def test_duplicate_rule_name_names_both_rules() -> None:
    text = (
        "rules:\n"
        "  - {name: syria, severity: info, when: {countries: [SY]}}\n"
        "  - {name: iraq, severity: info, when: {countries: [IQ]}}\n"
        "  - {name: syria, severity: warning, when: {category: killed}}\n"
    )
    with pytest.raises(RuleError, match=r"rule 'syria': field 'name': duplicate name \(rule #1"):
        load_rules(text, "rules.yaml")


def test_key_given_twice_in_yaml_is_an_error() -> None:
    text = one_rule("name: r1\nseverity: info\nseverity: critical\nwhen: {category: killed}")
    with pytest.raises(RuleError) as caught:
        load_rules(text, "rules.yaml")
    assert str(caught.value) == "rules.yaml: rule 'r1': field 'severity': given twice (line 4)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [unclosed", "rules.yaml: not valid YAML at line 1, column 17: expected ','"),
        ("rules: [\x07]", "rules.yaml: not valid YAML: unacceptable character #x0007"),
        ("", "rules.yaml: field 'rules': expected a mapping with a 'rules' list, got nothing"),
        ("- {name: a}", "field 'rules': expected a mapping with a 'rules' list, got a list"),
        ("rules: {name: a}", "field 'rules': expected a list of rules, got a mapping"),
        ("rules: []\nrulez: []", "field 'rulez': unknown field (did you mean 'rules'?)"),
        ("version: 2\nrules: []", "field 'version': unsupported version 2"),
        ("rules: [just-a-name]", "rule #1: field '': expected a mapping, got 'just-a-name'"),
    ],
)
def test_file_level_errors(text: str, expected: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rules(text, "rules.yaml")
    assert expected in str(caught.value)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (
        "rules:\n"
        "  - {name: a, severity: loud, when: {category: killed}}\n"
        "  - {name: b, severity: info, when: {keywords: ['regex:[']}}\n"
        "  - {name: c, severity: info, when: {category: killed}}\n"
    )
    with pytest.raises(RuleError) as caught:
        load_rules(text, "rules.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("rules.yaml: rule 'a': field 'severity'")
    assert lines[1].startswith("rules.yaml: rule 'b': field 'when.keywords[0]': bad regex")


def test_rule_error_is_a_non_retriable_pipeline_error() -> None:
    with pytest.raises(PipelineError) as caught:
        load_rules("rules: 3")
    assert caught.value.retriable is False
    assert str(caught.value).startswith("<rules>: ")


def test_a_valid_rule_loads_with_defaults() -> None:
    rules = load_rules(one_rule("name: r1\nseverity: critical\nwhen: {category: injured}"))
    (rule,) = rules.rules
    assert rule.kind == "threshold"
    assert rule.cooldown == timedelta(minutes=60)
    assert rule.when == CasualtyCondition("injured", 1, True)


def test_kind_defaults_and_cooldown_override() -> None:
    text = (
        "rules:\n"
        "  - {name: rise, severity: warning, toll_rise: {category: killed, min_increase: 5}}\n"
        "  - {name: news, severity: info, breaking: {sources: 3, window: 30}}\n"
        "  - {name: rise2, severity: info, cooldown: 15.5,\n"
        "     toll_rise: {category: injured, min_ratio: 2}, when: {countries: [sy]}}\n"
    )
    rise, news, rise2 = load_rules(text).rules
    assert (rise.kind, rise.cooldown) == ("toll_rise", timedelta(0))
    assert (news.kind, news.cooldown) == ("breaking", timedelta(days=1))
    assert news.breaking is not None and news.breaking.window == timedelta(minutes=30)
    assert rise2.cooldown == timedelta(minutes=15.5)
    assert rise2.when == CountryCondition(("SY",))


def test_combinations_build_the_condition_tree() -> None:
    text = one_rule(
        "name: r1\nseverity: info\n"
        "when: {countries: [SYR, IQ], any: [{category: killed, min: 5}, {keywords: shelling}],"
        " not: {entities: [Red Cross]}}"
    )
    (rule,) = load_rules(text).rules
    assert isinstance(rule.when, AllOf)
    countries, any_of, not_ = rule.when.parts
    assert countries == CountryCondition(("SY", "IQ"))  # alpha-3 becomes alpha-2
    assert isinstance(any_of, AnyOf) and len(any_of.parts) == 2
    assert isinstance(not_, Not)


def test_rule_set_is_immutable() -> None:
    rules = load_rules(one_rule("name: r1\nseverity: info\nwhen: {category: killed}"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.rules = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.rules[0].severity = "critical"  # type: ignore[misc]
    assert isinstance(rules.rules, tuple)


def test_default_rule_file_loads() -> None:
    rules = load_rules(DEFAULT_RULES.read_text(encoding="utf-8"), DEFAULT_RULES.name)
    assert isinstance(rules, RuleSet)
    assert rules.source == "alert-rules.yaml"
    kinds = {rule.kind for rule in rules.rules}
    assert kinds == {"threshold", "toll_rise", "breaking"}
    mass = next(rule for rule in rules.rules if rule.name == "mass-casualty")
    assert mass.when == CasualtyCondition("killed", 100, True)


@pytest.mark.parametrize(
    ("increase", "ratio", "before", "after", "expected"),
    [
        (None, 2.0, 0, 0, False),
        (None, 2.0, 0, 1, True),
        (None, 2.0, 10, 19, False),
        (None, 2.0, 10, 20, True),
        (5, None, 10, 15, True),
        (5, None, 10, 14, False),
        (5, None, 10, 10, False),
        (5, 1.5, 10, 15, True),
        (5, 1.5, 100, 105, False),
        (5, 1.5, 40, 12, False),
    ],
)
def test_toll_rise_qualifies(
    increase: int | None, ratio: float | None, before: int, after: int, expected: bool
) -> None:
    assert TollRise("killed", increase, ratio).qualifies(before, after) is expected


def test_kosovo_and_alpha3_codes_are_accepted() -> None:
    (rule,) = load_rules(one_rule("name: r1\nseverity: info\nwhen: {countries: [xk, UKR]}")).rules
    assert rule.when == CountryCondition(("XK", "UA"))
