"""Reading the JSONL files every ``wirewatch eval`` command takes, with errors that say where.

The eval commands exist so that a measurement can be repeated on data the team
has not seen, so a file that is not what a command reads (a truncated line, a
field named otherwise) must say which line and what it lacks, not end in a
traceback from deep inside a stage. :func:`read_records` checks each record
against the fields a command needs and raises :class:`EvalInputError`;
``wirewatch eval`` prints its message and exits with status 2.

Lines are numbered as :mod:`evaluate._half` numbers them (from 0, blank lines
included); messages give them from 1, as editors do.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.jsonl"
    >>> _ = path.write_text('{"id": 1, "text1": "a"}\\n')
    >>> try:
    ...     read_records(path, {"text1": str, "text2": str})
    ... except EvalInputError as exc:
    ...     print(str(exc).removeprefix(str(path)))
    :1: no "text2" field (this command reads text1, text2)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from evaluate._half import in_half


class EvalInputError(ValueError):
    """An eval file that cannot be read as the command's records (the message says where)."""


def read_records(
    path: Path,
    fields: Mapping[str, type | tuple[type, ...]],
    half: str | None = None,
    limit: int = 0,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> list[dict[str, Any]]:
    """The JSON objects of ``path`` that have ``fields`` of their types, in file order.

    ``half`` keeps one half of the lines (see :func:`evaluate._half.in_half`),
    ``keep`` drops records the command skips (a "-DOCSTART-" line), and
    ``limit`` stops after that many kept records (0: no limit). A missing or
    unreadable file, a line that is not a JSON object, a record without a
    field or with one of another type, and one for which ``check`` returns a
    problem ("label is 2, not 0 or 1") raise :class:`EvalInputError`.
    """
    records: list[dict[str, Any]] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvalInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        try:
            for number, line in enumerate(handle):
                if not line.strip() or not in_half(number, half):
                    continue
                record = _record(path, number + 1, line, fields)
                problem = check(record) if check is not None else None
                if problem:
                    raise EvalInputError(f"{path}:{number + 1}: {problem}")
                if keep is None or keep(record):
                    records.append(record)
                if limit and len(records) >= limit:
                    break
        except UnicodeDecodeError as exc:
            raise EvalInputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return records


def _record(
    path: Path, line_number: int, line: str, fields: Mapping[str, type | tuple[type, ...]]
) -> dict[str, Any]:
    where = f"{path}:{line_number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalInputError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(record, dict):
        raise EvalInputError(f"{where}: a {type(record).__name__}, not a JSON object")
    wanted = ", ".join(fields)
    for name, kind in fields.items():
        if name not in record:
            raise EvalInputError(f'{where}: no "{name}" field (this command reads {wanted})')
        value = record[name]
        # JSON true/false are bools, which Python also counts as ints.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
            raise EvalInputError(f'{where}: "{name}" is {_json_type(value)}, not {_names(kind)}')
    return record


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in _types(kind))


def _json_type(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)
