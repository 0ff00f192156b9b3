"""The one codec between records and bytes (orjson, at the topic boundary).

``to_bytes`` encodes any record; ``*_from_bytes`` decode and validate. Decoding
is strict: a missing field, an unknown type or a naive datetime raises
:class:`~pipeline.errors.InvalidRecord` with the field's path in the message.

Example:
    >>> raw = to_bytes(article)
    >>> article_from_bytes(raw) == article
    True
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

import orjson

from pipeline.errors import InvalidRecord
from pipeline.records import Alert, Article, DeadLetter, EnrichedArticle

T = TypeVar("T")


def _default(value: object) -> object:
    # orjson handles dataclasses and datetimes itself; bytes (the dead-letter
    # payload) travel as base64 so that any payload survives JSON.
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__}")


def to_bytes(record: object) -> bytes:
    """Encode a record (or a plain JSON value) as compact UTF-8 JSON."""
    return orjson.dumps(record, default=_default)


def to_dict(record: object) -> Any:
    """The JSON-compatible value of a record (what :func:`to_bytes` writes)."""
    return orjson.loads(to_bytes(record))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            raise InvalidRecord(f"{path}: must not be null")
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, path)
            except InvalidRecord as exc:
                errors.append(str(exc))
        raise InvalidRecord(errors[0])
    if origin is tuple:
        if not isinstance(value, list):
            raise InvalidRecord(f"{path}: expected a list, got {type(value).__name__}")
        (item_type, _ellipsis) = typing.get_args(tp)
        return tuple(_convert(item_type, v, f"{path}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, path)
    if tp is datetime:
        if not isinstance(value, str):
            raise InvalidRecord(f"{path}: expected an ISO 8601 time, got {type(value).__name__}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(f"{path}: {value[:40]!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            raise InvalidRecord(f"{path}: {value[:40]!r} has no time zone")
        return parsed
    if tp is bytes:
        if not isinstance(value, str):
            raise InvalidRecord(f"{path}: expected base64 text")
        return base64.b64decode(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRecord(f"{path}: expected a number, got {type(value).__name__}")
        return float(value)
    if tp in (str, int, bool):
        # bool is an int in Python; reject it where an int is meant.
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise InvalidRecord(f"{path}: expected {tp.__name__}, got {type(value).__name__}")
        return value
    raise InvalidRecord(f"{path}: unsupported type {tp!r}")  # pragma: no cover


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    """Build record ``cls`` from decoded JSON, validating every field."""
    name = path or cls.__name__
    if not isinstance(data, dict):
        raise InvalidRecord(f"{name}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{name}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidRecord(f"{name}: missing field {f.name!r}")
    return cls(**kwargs)


def loads(raw: bytes) -> Any:
    """Parse JSON bytes, turning every parse failure into InvalidRecord."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"not valid JSON (or not UTF-8): {exc}") from None


def record_from_bytes(cls: type[T], raw: bytes) -> T:
    """Decode and validate one record of type ``cls``."""
    return from_dict(cls, loads(raw))


def article_from_bytes(raw: bytes) -> Article:
    return record_from_bytes(Article, raw)


def enriched_from_bytes(raw: bytes) -> EnrichedArticle:
    return record_from_bytes(EnrichedArticle, raw)


def alert_from_bytes(raw: bytes) -> Alert:
    return record_from_bytes(Alert, raw)


def dead_letter_from_bytes(raw: bytes) -> DeadLetter:
    return record_from_bytes(DeadLetter, raw)
