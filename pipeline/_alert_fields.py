"""Field-level checks for the alert rule parser, each naming the field it checks.

Every check appends ``<source>: rule <rule>: field '<path>': <problem>`` to the
:class:`Context` and returns a fallback value, so that the parser reports every
problem of a file in one go instead of stopping at the first.

Example:
    >>> ctx = Context("rules.yaml", errors := [])
    >>> ctx.rule = "'syria'"
    >>> integer(ctx, {"min": "ten"}, "min", "when", 1) is None, errors[0]
    (True, "rules.yaml: rule 'syria': field 'when.min': expected an integer, got 'ten'")
"""

from __future__ import annotations

import difflib
from typing import Any

import pycountry
import yaml

# Codes in use for places without an ISO 3166-1 entry (GeoNames uses XK).
_EXTRA_COUNTRIES = frozenset({"XK"})


class DuplicateKey(yaml.YAMLError):
    """A key given twice in one mapping (plain YAML keeps the last silently)."""


class StrictLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                names = [
                    v.value
                    for k, v in node.value
                    if k.value == "name" and isinstance(v, yaml.ScalarNode)
                ]
                rule = f"rule {names[0]!r}: " if names else ""
                line = key_node.start_mark.line + 1
                msg = f"{rule}field {key!r}: given twice (line {line})"
                raise DuplicateKey(msg)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def where(exc: yaml.YAMLError) -> str:
    """Where in the file a YAML syntax error is, and what it is."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    if mark is None:
        return f": {problem}"
    return f" at line {mark.line + 1}, column {mark.column + 1}: {problem}"


class Context:
    """Where the parser is (source and rule), and the problems found so far."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        self.rule = ""

    def fail(self, path: str, problem: str) -> None:
        where = f"rule {self.rule}: " if self.rule else ""
        self.errors.append(f"{self.source}: {where}field '{path}': {problem}")


def got(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str | int | float):
        return repr(value)
    return {"list": "a list", "dict": "a mapping"}.get(type(value).__name__, type(value).__name__)


def check_fields(ctx: Context, raw: dict[Any, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in raw:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            extra = (
                f" (did you mean '{hint[0]}'?)"
                if hint
                else f" (expected one of: {', '.join(allowed)})"
            )
            ctx.fail(join(path, str(key)), f"unknown field{extra}")


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def choice(
    ctx: Context, raw: dict[str, Any], key: str, options: tuple[str, ...], path: str = ""
) -> str:
    value = raw.get(key)
    if value not in options:
        if value is None and key not in raw:
            ctx.fail(join(path, key), f"required (one of: {', '.join(options)})")
        else:
            hint = difflib.get_close_matches(str(value), options, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            ctx.fail(
                join(path, key),
                f"unknown value {got(value)}, expected one of: {', '.join(options)}{extra}",
            )
        return options[0]
    return str(value)


def integer(ctx: Context, raw: dict[str, Any], key: str, path: str, minimum: int) -> int | None:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.fail(join(path, key), f"expected an integer, got {got(value)}")
        return None
    if value < minimum:
        ctx.fail(join(path, key), f"expected an integer >= {minimum}, got {value}")
        return None
    return value


def number(ctx: Context, value: Any, path: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        ctx.fail(path, f"expected a number, got {got(value)}")
        return None
    return float(value)


def minutes(
    ctx: Context,
    raw: dict[str, Any],
    key: str,
    default: float,
    path: str = "",
    allow_zero: bool = False,
) -> float:
    if key not in raw:
        return default
    value = number(ctx, raw[key], join(path, key))
    if value is None:
        return default
    if value < 0 or (value == 0 and not allow_zero) or value > 366 * 24 * 60:
        low = ">= 0" if allow_zero else "> 0"
        ctx.fail(join(path, key), f"expected minutes {low} and at most a year, got {raw[key]!r}")
        return default
    return value


def mapping(ctx: Context, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping, got {got(value)}")
        return None
    check_fields(ctx, value, allowed, path)
    return value


def as_list(ctx: Context, value: Any, path: str, allow_scalar: bool = True) -> list[Any]:
    if allow_scalar and isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        ctx.fail(path, f"expected a non-empty list, got {got(value)}")
        return []
    return value


def strings(ctx: Context, value: Any, path: str) -> list[tuple[str, str]]:
    items = as_list(ctx, value, path)
    found = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]" if isinstance(value, list) else path
        if not isinstance(item, str) or not item.strip():
            ctx.fail(item_path, f"expected a non-empty string, got {got(item)}" + norway(item))
        else:
            found.append((item_path, item.strip()))
    return found


def norway(value: Any) -> str:
    # YAML 1.1 reads NO, No, off, ... as false: "the Norway problem".
    return " (quote country codes such as 'NO' in YAML)" if isinstance(value, bool) else ""


def country_code(text: str) -> str | None:
    upper = text.upper()
    if upper in _EXTRA_COUNTRIES:
        return upper
    if len(upper) == 2 and upper.isalpha():
        country = pycountry.countries.get(alpha_2=upper)
    elif len(upper) == 3 and upper.isalpha():
        country = pycountry.countries.get(alpha_3=upper)
    else:
        return None
    return country.alpha_2 if country is not None else None


def boolean(ctx: Context, raw: dict[str, Any], key: str, path: str, default: bool) -> bool:
    """``raw[key]`` as true or false (``default`` when absent)."""
    value = raw.get(key, default)
    if not isinstance(value, bool):
        ctx.fail(join(path, key), f"expected true or false, got {got(value)}")
        return default
    return value
