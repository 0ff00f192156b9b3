"""Wire formats the replay reads: plain-text articles and Reuters-style JSONL.

Each parser turns text into :class:`WireItem` records (what a feed would
publish on ``articles.raw``) or raises :class:`~pipeline.errors.InvalidRecord`
with the file and line in the message. Reading files is the caller's job.

Example:
    >>> item = parse_text_article(path.read_text(), name="000_26a8")
    >>> item.id
    '000_26a8'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from pipeline.errors import InvalidRecord

#: A first line this short without final punctuation is a headline, not a lede.
MAX_HEADLINE_CHARS = 160
_REUTERS_TIME = "%d-%b-%Y %H:%M:%S.%f"
# Reuters bodies are hard-wrapped at ~70 columns; a new paragraph starts with
# an indented line. Rejoin wrapped lines, keep paragraphs one per line.
_PARAGRAPH = re.compile(r"\n[ \t]+")
_WRAP = re.compile(r"[ \t]*\n[ \t]*")
_TRAILER = re.compile(r"\s*\bReuter\s*$")


@dataclass(frozen=True, slots=True)
class WireItem:
    """One article as a feed publishes it (``received_at`` is stamped at send time)."""

    id: str
    source: str
    headline: str
    body: str
    published_at: datetime | None = None
    url: str | None = None
    language: str = "en"

    def payload(self, received_at: datetime) -> dict[str, Any]:
        """The JSON object for ``articles.raw``."""
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "headline": self.headline,
            "body": self.body,
            "language": self.language,
            "received_at": received_at.isoformat(),
        }
        if self.published_at is not None:
            data["published_at"] = self.published_at.isoformat()
        if self.url is not None:
            data["url"] = self.url
        return data


def parse_text_article(text: str, name: str, source: str = "file") -> WireItem:
    """One article per file, one paragraph per line; an optional short first line is the headline."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise InvalidRecord(f"{name}: empty file")
    headline = ""
    first = lines[0]
    if len(lines) > 1 and len(first) <= MAX_HEADLINE_CHARS and not first.endswith((".", '"', "”")):
        headline, lines = first, lines[1:]
    return WireItem(id=name, source=source, headline=headline, body="\n".join(lines))


def reuters_body(body: str, dateline: str = "") -> str:
    """Rejoin a hard-wrapped Reuters body, drop the "Reuter" trailer, prefix the dateline."""
    paragraphs = (_WRAP.sub(" ", p).strip() for p in _PARAGRAPH.split(body))
    text = "\n".join(p for p in paragraphs if p)
    text = _TRAILER.sub("", text)
    if dateline and text:
        text = f"{dateline.strip()} {text}"
    return text


def parse_jsonl_article(line: str, where: str) -> WireItem:
    """One JSONL line: Reuters-21578 fields (title/body/date/dateline) or our own (headline/body)."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRecord(f"{where}: expected a JSON object")
    article_id = data.get("id")
    if not isinstance(article_id, str | int) or isinstance(article_id, bool) or article_id == "":
        raise InvalidRecord(f"{where}: missing or invalid 'id'")
    is_reuters = "title" in data and "headline" not in data
    headline = data.get("title" if is_reuters else "headline") or ""
    body = data.get("body") or ""
    if not isinstance(headline, str) or not isinstance(body, str):
        raise InvalidRecord(f"{where}: 'headline'/'title' and 'body' must be strings")
    published: datetime | None = None
    if is_reuters:
        body = reuters_body(body, data.get("dateline") or "")
        published = _reuters_time(data.get("date"), where)
        item_id, source = f"reuters-{article_id}", "reuters"
    else:
        item_id, source = str(article_id), str(data.get("source") or "jsonl")
        if isinstance(data.get("published_at"), str):
            published = _iso_time(data["published_at"], where)
    return WireItem(
        id=item_id,
        source=source,
        headline=headline.strip(),
        body=body,
        published_at=published,
        url=data.get("url"),
    )


def parse_jsonl(text: str, name: str) -> Iterator[WireItem | InvalidRecord]:
    """Every line of a JSONL file: an item, or the error for that line (the rest goes on)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield parse_jsonl_article(line, f"{name}:{number}")
        except InvalidRecord as exc:
            yield exc


def _reuters_time(value: Any, where: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value).strip(), _REUTERS_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        raise InvalidRecord(f"{where}: bad Reuters date {str(value)[:40]!r}") from None


def _iso_time(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord(f"{where}: bad published_at {value[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
