"""Ingest: turn raw bytes from ``articles.raw`` into a clean, valid :class:`Article`.

Wire feeds are messy. What a reader would want cleaned is cleaned (HTML tags
and entities, control characters, Unicode forms); what cannot be trusted is
rejected with :class:`~pipeline.errors.InvalidRecord` and a reason naming the
field, so the agent can dead-letter it.

Example:
    >>> now = datetime(2026, 1, 25, tzinfo=timezone.utc)
    >>> validate_article(b'{"id": "a1", "body": "<p>Five&nbsp;killed</p>"}',
    ...                  IngestPolicy(), now).body
    'Five killed'
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.codec import loads
from pipeline.errors import InvalidRecord
from pipeline.records import Article

_TAG = re.compile(
    r"<(?:script|style)\b[^>]*>.*?</(?:script|style)\s*>|<[^>]{0,500}>", re.IGNORECASE | re.DOTALL
)
_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
# Control characters other than tab and newline; also lone surrogates' neighbours.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class IngestPolicy:
    """Limits of what ingest accepts."""

    max_body_bytes: int = 1024 * 1024
    max_headline_chars: int = 1000
    max_id_chars: int = 200
    #: How far in the future a published_at may be (clock skew between feeds).
    max_clock_skew: timedelta = timedelta(days=1)


def clean_text(text: str) -> str:
    """Strip markup and control characters; normalise Unicode and spacing."""
    if "<" in text:
        text = _BLOCK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _string(data: dict[str, Any], name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if value is None:
        raise InvalidRecord(f"ingest: missing field {name!r}")
    if not isinstance(value, str):
        raise InvalidRecord(f"ingest: field {name!r} must be a string, got {type(value).__name__}")
    return value


def _time(data: dict[str, Any], name: str, now: datetime, policy: IngestPolicy) -> datetime:
    value = data.get(name)
    if value is None:
        return now
    if not isinstance(value, str):
        raise InvalidRecord(f"ingest: field {name!r} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord(
            f"ingest: field {name!r}: {value[:40]!r} is not an ISO 8601 time"
        ) from None
    if parsed.tzinfo is None:  # wire timestamps without a zone are UTC by convention
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed < _EARLIEST or parsed > now + policy.max_clock_skew:
        raise InvalidRecord(
            f"ingest: field {name!r}: {value[:40]!r} is out of range (before 1900 or in the future)"
        )
    return parsed


def validate_article(raw: bytes, policy: IngestPolicy, now: datetime) -> Article:
    """Decode, check and clean one raw article; raise InvalidRecord with the reason.

    Required: ``id`` and a non-empty ``body``. Optional: ``headline``,
    ``source`` ("unknown"), ``language`` ("en"), ``url``, ``published_at`` and
    ``received_at`` (both default to ``now``).
    """
    if len(raw) > policy.max_body_bytes * 2 + 64 * 1024:
        # Decoding a huge record just to reject it would block the loop.
        raise InvalidRecord(
            f"ingest: record of {len(raw):,} bytes is over the size limit "
            f"({policy.max_body_bytes:,} bytes of body)"
        )
    data = loads(raw)
    if not isinstance(data, dict):
        raise InvalidRecord(f"ingest: expected a JSON object, got {type(data).__name__}")
    article_id = _string(data, "id").strip()
    if not article_id or len(article_id) > policy.max_id_chars:
        raise InvalidRecord(f"ingest: 'id' must be 1 to {policy.max_id_chars} characters")
    body_raw = _string(data, "body")
    if len(body_raw.encode("utf-8", "surrogatepass")) > policy.max_body_bytes:
        raise InvalidRecord(
            f"ingest: article {article_id!r}: body is over the size limit "
            f"({policy.max_body_bytes:,} bytes)"
        )
    body = clean_text(body_raw)
    if not body:
        raise InvalidRecord(f"ingest: article {article_id!r} has an empty body")
    headline = clean_text(_string(data, "headline", "")).replace("\n", " ")
    if len(headline) > policy.max_headline_chars:
        headline = headline[: policy.max_headline_chars]
    url = data.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidRecord(f"ingest: field 'url' must be a string, got {type(url).__name__}")
    return Article(
        id=article_id,
        source=clean_text(_string(data, "source", "unknown")) or "unknown",
        headline=headline,
        body=body,
        language=_string(data, "language", "en").strip().lower() or "en",
        url=url,
        published_at=_time(data, "published_at", now, policy),
        received_at=_time(data, "received_at", now, policy),
    )
