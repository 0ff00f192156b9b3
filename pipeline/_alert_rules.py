"""The alert rule file: its format, and a parser that names what is wrong.

A rule file is YAML with one top-level ``rules`` list (and an optional
``version: 1``). Each rule has a ``name``, a ``severity`` and either a
``when`` condition (a threshold rule) or one per-story kind, ``toll_rise`` or
``breaking`` (where ``when`` is an optional filter). Every problem is reported
as ``<source>: rule '<name>': field '<path>': <problem>``; all problems of a
file are collected into one :class:`~pipeline.errors.RuleError`.

Example:
    >>> rules = load_rules("rules: [{name: big, severity: critical, "
    ...                    "when: {category: killed, min: 100}}]")
    >>> rules.rules[0].name
    'big'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from pipeline import _alert_fields as _f
from pipeline._alert_conditions import (
    CATEGORIES,
    AllOf,
    AnyOf,
    CasualtyCondition,
    Condition,
    CountryCondition,
    EntityCondition,
    Keyword,
    Not,
    keyword_condition,
    keyword_pattern,
)
from pipeline.errors import RuleError

SEVERITIES = ("info", "warning", "critical")
#: Default cooldown per rule kind, in minutes. A toll rise is an update in
#: itself, so by default every qualifying rise is reported.
DEFAULT_COOLDOWN = {"threshold": 60.0, "toll_rise": 0.0, "breaking": 1440.0}
MAX_BREAKING_SOURCES = 50

_RULE_FIELDS = ("name", "severity", "description", "when", "toll_rise", "breaking", "cooldown")
_WHEN_FIELDS = (
    "category",
    "min",
    "include_cumulative",
    "entities",
    "countries",
    "keywords",
    "all",
    "any",
    "not",
)
_TOLL_RISE_FIELDS = ("category", "min_increase", "min_ratio", "include_cumulative")
_BREAKING_FIELDS = ("sources", "window")
_REGEX_PREFIX = "regex:"


@dataclass(frozen=True, slots=True)
class TollRise:
    """Fire when a story's figure rises by ``min_increase`` and by ``min_ratio``.

    Running totals ("5,000 since March") are left out unless
    ``include_cumulative``: next to an event's own toll they would read as a rise.
    """

    category: str
    min_increase: int | None = None
    min_ratio: float | None = None
    include_cumulative: bool = False

    def qualifies(self, before: int, after: int) -> bool:
        """Whether going from ``before`` to ``after`` is a rise worth an alert."""
        if after <= before:
            return False
        if self.min_increase is not None and after - before < self.min_increase:
            return False
        return self.min_ratio is None or before == 0 or after / before >= self.min_ratio


@dataclass(frozen=True, slots=True)
class Breaking:
    """Fire when ``sources`` distinct sources report a story within ``window``."""

    sources: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule; ``kind`` is ``threshold``, ``toll_rise`` or ``breaking``."""

    name: str
    severity: str
    cooldown: timedelta
    when: Condition | None = None
    toll_rise: TollRise | None = None
    breaking: Breaking | None = None
    description: str = ""

    @property
    def kind(self) -> str:
        if self.toll_rise is not None:
            return "toll_rise"
        if self.breaking is not None:
            return "breaking"
        return "threshold"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """An immutable, validated set of rules, safe to swap whole on reload."""

    rules: tuple[Rule, ...] = ()
    source: str = "<rules>"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)


def load_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Parse and validate a YAML rule file.

    Raises:
        RuleError: naming the source, the rule and the field of every problem.

    Example:
        >>> load_rules(open("deploy/alert-rules.yaml").read(), "alert-rules.yaml").names[0]
        'mass-casualty'
    """
    try:
        document = yaml.load(text, Loader=_f.StrictLoader)  # noqa: S506 (a SafeLoader)
    except _f.DuplicateKey as exc:
        msg = f"{source}: {exc}"
        raise RuleError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML{_f.where(exc)}"
        raise RuleError(msg) from None
    errors: list[str] = []
    rules = _parse_document(document, source, errors)
    if errors:
        raise RuleError("\n".join(errors))
    return RuleSet(rules=rules, source=source)


def _parse_document(document: Any, source: str, errors: list[str]) -> tuple[Rule, ...]:
    ctx = _f.Context(source, errors)
    if not isinstance(document, dict):
        ctx.fail("rules", f"expected a mapping with a 'rules' list, got {_f.got(document)}")
        return ()
    _f.check_fields(ctx, document, ("version", "rules"), "")
    if document.get("version", 1) != 1:
        ctx.fail("version", f"unsupported version {_f.got(document['version'])} (expected 1)")
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list):
        ctx.fail("rules", f"expected a list of rules, got {_f.got(raw_rules)}")
        return ()
    rules = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_rules, start=1):
        rule = _parse_rule(ctx, raw, index)
        if rule is None:
            continue
        if rule.name in first_index:
            ctx.rule = f"'{rule.name}'"
            ctx.fail("name", f"duplicate name (rule #{first_index[rule.name]} has it too)")
            continue
        first_index[rule.name] = index
        rules.append(rule)
    return tuple(rules)


def _parse_rule(ctx: _f.Context, raw: Any, index: int) -> Rule | None:
    ctx.rule = f"#{index}"
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping, got {_f.got(raw)}")
        return None
    before = len(ctx.errors)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        ctx.fail("name", f"expected a non-empty string, got {_f.got(name)}")
    else:
        ctx.rule = f"'{name}'"
    _f.check_fields(ctx, raw, _RULE_FIELDS, "")
    severity = _f.choice(ctx, raw, "severity", SEVERITIES)
    description = raw.get("description", "")
    if not isinstance(description, str):
        ctx.fail("description", f"expected a string, got {_f.got(description)}")
    toll_rise = _parse_toll_rise(ctx, raw["toll_rise"]) if "toll_rise" in raw else None
    breaking = _parse_breaking(ctx, raw["breaking"]) if "breaking" in raw else None
    if "toll_rise" in raw and "breaking" in raw:
        ctx.fail("breaking", "a rule has one kind: 'toll_rise' or 'breaking', not both")
    when = None
    if "when" in raw:
        when = _parse_when(ctx, raw["when"], "when")
    elif "toll_rise" not in raw and "breaking" not in raw:
        ctx.fail("when", "required (or one of 'toll_rise', 'breaking')")
    kind = "toll_rise" if "toll_rise" in raw else "breaking" if "breaking" in raw else "threshold"
    cooldown = _f.minutes(ctx, raw, "cooldown", DEFAULT_COOLDOWN[kind], allow_zero=True)
    if len(ctx.errors) > before:
        return None
    return Rule(
        name=str(name),
        severity=severity,
        cooldown=timedelta(minutes=cooldown),
        when=when,
        toll_rise=toll_rise,
        breaking=breaking,
        description=description,
    )


def _parse_toll_rise(ctx: _f.Context, value: Any) -> TollRise | None:
    raw = _f.mapping(ctx, value, "toll_rise", _TOLL_RISE_FIELDS)
    if raw is None:
        return None
    category = _f.choice(ctx, raw, "category", CATEGORIES, "toll_rise")
    increase = (
        _f.integer(ctx, raw, "min_increase", "toll_rise", 1) if "min_increase" in raw else None
    )
    ratio = None
    if "min_ratio" in raw:
        ratio = _f.number(ctx, raw["min_ratio"], "toll_rise.min_ratio")
        if ratio is not None and ratio <= 1.0:
            ctx.fail(
                "toll_rise.min_ratio",
                f"expected a ratio > 1 (1.5 = +50%), got {raw['min_ratio']!r}",
            )
    if "min_increase" not in raw and "min_ratio" not in raw:
        ctx.fail("toll_rise", "needs 'min_increase', 'min_ratio' or both")
    cumulative = _f.boolean(ctx, raw, "include_cumulative", "toll_rise", False)
    return TollRise(category, increase, ratio, cumulative)


def _parse_breaking(ctx: _f.Context, value: Any) -> Breaking | None:
    raw = _f.mapping(ctx, value, "breaking", _BREAKING_FIELDS)
    if raw is None:
        return None
    sources = None
    if "sources" not in raw:
        ctx.fail("breaking.sources", "required (how many distinct sources)")
    else:
        sources = _f.integer(ctx, raw, "sources", "breaking", 2)
        if sources is not None and sources > MAX_BREAKING_SOURCES:
            ctx.fail("breaking.sources", f"at most {MAX_BREAKING_SOURCES}, got {sources}")
    if "window" not in raw:
        ctx.fail("breaking.window", "required (minutes)")
    window = _f.minutes(ctx, raw, "window", 60.0, "breaking")
    return Breaking(sources or 2, timedelta(minutes=window))


def _parse_when(ctx: _f.Context, value: Any, path: str) -> Condition | None:
    raw = _f.mapping(ctx, value, path, _WHEN_FIELDS)
    if raw is None:
        return None
    if not raw:
        ctx.fail(path, "expected at least one condition")
        return None
    parts: list[Condition | None] = []
    if "category" in raw or "min" in raw or "include_cumulative" in raw:
        parts.append(_parse_casualty(ctx, raw, path))
    for key, parse in _LIST_CONDITIONS.items():
        if key in raw:
            parts.append(parse(ctx, raw[key], _f.join(path, key)))
    for key, combine in (("all", AllOf), ("any", AnyOf)):
        if key in raw:
            items = _f.as_list(ctx, raw[key], _f.join(path, key), allow_scalar=False)
            subs = [_parse_when(ctx, item, f"{path}.{key}[{i}]") for i, item in enumerate(items)]
            parts.append(combine(tuple(s for s in subs if s is not None)) if items else None)
    if "not" in raw:
        inner = _parse_when(ctx, raw["not"], _f.join(path, "not"))
        parts.append(Not(inner) if inner is not None else None)
    valid = tuple(p for p in parts if p is not None)
    return valid[0] if len(valid) == 1 else AllOf(valid)


def _parse_casualty(ctx: _f.Context, raw: dict[str, Any], path: str) -> Condition | None:
    if "category" not in raw:
        ctx.fail(
            _f.join(path, "category"), "required with 'min' (one of: " + ", ".join(CATEGORIES) + ")"
        )
        return None
    category = _f.choice(ctx, raw, "category", CATEGORIES, path)
    minimum = _f.integer(ctx, raw, "min", path, 1) if "min" in raw else 1
    cumulative = _f.boolean(ctx, raw, "include_cumulative", path, True)
    return CasualtyCondition(category, minimum or 1, cumulative)


def _parse_entities(ctx: _f.Context, value: Any, path: str) -> Condition | None:
    names = [name for _path, name in _f.strings(ctx, value, path)]
    return EntityCondition(tuple(names)) if names else None


def _parse_countries(ctx: _f.Context, value: Any, path: str) -> Condition | None:
    codes = []
    for item_path, text in _f.strings(ctx, value, path):
        code = _f.country_code(text)
        if code is None:
            ctx.fail(item_path, f"{text!r} is not an ISO 3166-1 country code (e.g. 'SY' or 'SYR')")
        else:
            codes.append(code)
    return CountryCondition(tuple(dict.fromkeys(codes))) if codes else None


def _parse_keywords(ctx: _f.Context, value: Any, path: str) -> Condition | None:
    keywords = []
    for item_path, text in _f.strings(ctx, value, path):
        if text.startswith(_REGEX_PREFIX):
            expression = text[len(_REGEX_PREFIX) :].strip()
            try:
                pattern = re.compile(expression, re.IGNORECASE)
            except re.error as exc:
                ctx.fail(item_path, f"bad regex {expression!r}: {exc}")
                continue
            if not expression or pattern.search("") is not None:
                ctx.fail(item_path, f"regex {expression!r} matches empty text, so every article")
                continue
        else:
            pattern = keyword_pattern(text)
        keywords.append(Keyword(text, pattern))
    return keyword_condition(tuple(keywords)) if keywords else None


_LIST_CONDITIONS: dict[str, Callable[[_f.Context, Any, str], Condition | None]] = {
    "entities": _parse_entities,
    "countries": _parse_countries,
    "keywords": _parse_keywords,
}
