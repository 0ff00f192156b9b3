"""Sentences, and what a sentence says about its casualty figures.

Splits an article into sentences (keeping offsets) and reads, once per
sentence, the attribution ("according to X", "X said"), the time frame
("since March") and whether the figures are cumulative; builds the
:class:`~pipeline.records.CasualtyFigure` records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline._casualties_lexicon import (
    ATTRIBUTION_AFTER,
    GROUP_WORD,
    NOT_SPEAKER_BEFORE,
    PRONOUNS,
    SAID_AFTER,
    SAY_VERB,
    SPEAKER_STOP,
    TIME_FRAME,
    VICTIM_GROUPS,
)
from pipeline.records import CasualtyFigure

_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n[ \t]*\n\s*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen col lt sgt capt maj st gov sen rep rev prof jr sr vs inc co corp no"
    " jan feb mar apr aug sept sep oct nov dec ft mt".split()
)
_CUMULATIVE_FRAME = re.compile(
    r"^(?:since|in the|over the|during the|within the|for the|so far|to date|this|in|during)\b"
)


# A protest (strike, rally...) "against / over / after" a killing: the figure is its cause.
_BACKGROUND = re.compile(
    r"\b(?:protest\w*|demonstrat\w*|rall(?:y|ies|ied)|riot\w*|strike|march(?:ed|es)?|agitat\w*"
    r"|shutdown"
    r"|bandh|hartal|walkout|boycott\w*|effigy|sit-in|dharna|blockade|justice for)\b[^.;]*?"
    r"\b(?:against|over|after|following|for|about|into|regarding|condemn\w*"
    r"|demanding)\s+(?:[\w'-]+\s+){0,4}$"
    # "students protested the murder of a blogger", "in protest of the killing of"
    r"|\bprotest(?:ed|ing|s)?\s+(?:of\s+|against\s+)?(?:[\w'-]+\s+){0,4}$"
    # "demanding compensation for the death of", "seeking justice for"
    r"|\b(?:demand\w*|seek\w*|sought)\s+(?:justice|compensation|action|the\s+arrest)\b[^.;]*?"
    r"\b(?:for|over|in|into|of)\s+(?:[\w'-]+\s+){0,6}$"
    # "came after / in retaliation for" an earlier killing: its cause, not this event
    r"|\b(?:came|comes|come)\s+(?:days?\s+|weeks?\s+|hours?\s+|shortly\s+)?after\s+(?:[\w'-]+\s+){0,6}$"
    r"|\bin\s+(?:retaliation|revenge|response)\s+(?:for|to)\s+(?:[\w'-]+\s+){0,6}$"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its span in the article and the shared texts."""

    start: int
    end: int
    text: str  # the whole article, original case
    lower: str  # the whole article, lower case


@dataclass(frozen=True, slots=True)
class Count:
    """A count linked to a trigger, with sentence-relative offsets."""

    start: int  # sentence-relative, qualifier included
    end: int
    low: int
    high: int | None
    qualifier: str


def sentences(text: str, lower: str) -> list[Sentence]:
    """Split ``text`` at sentence ends and blank lines, keeping offsets."""
    spans: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        word = lower[max(start, match.start() - 6) : match.start()].rstrip(".!?\"')]”’")
        last = re.split(r"[\s(]", word)[-1] if word else ""
        if "\n" not in match.group(0) and (
            last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
        ):
            continue
        spans.append(Sentence(start, match.start(), text, lower))
        start = match.end()
    spans.append(Sentence(start, len(text), text, lower))
    return [s for s in spans if s.end > s.start]


@dataclass(frozen=True, slots=True)
class Context:
    """What a sentence says about all its figures: who says so, and when."""

    sentence: Sentence
    attribution: str | None
    time_frame: str | None
    cumulative: bool

    @classmethod
    def of(cls, sentence: Sentence, s: str) -> Context:
        """Read the attribution and time frame of ``sentence`` (``s`` lower-cased)."""
        frame = TIME_FRAME.search(s)
        time_frame = _cut(sentence, frame.start(), frame.end()) if frame else None
        cumulative = bool(frame and _CUMULATIVE_FRAME.match(frame.group(0)))
        return cls(sentence, _attribution(sentence, s), time_frame, cumulative)

    def figure(self, category: str, count: Count, t0: int, t1: int) -> CasualtyFigure:
        """The record of ``count`` linked to the trigger at ``t0:t1``."""
        start, end = min(count.start, t0), max(count.end, t1)
        sentence = self.sentence
        return CasualtyFigure(
            category=category,
            low=count.low,
            high=count.high,
            qualifier=count.qualifier,
            text=_cut(sentence, start, end),
            start=sentence.start + start,
            end=sentence.start + end,
            sentence=sentence.text[sentence.start : sentence.end],
            victim_group=_victim_group(
                sentence.lower[sentence.start : sentence.end], count, t0, t1
            ),
            cumulative=self.cumulative,
            attribution=self.attribution,
            time_frame=self.time_frame,
            sentence_start=sentence.start,
            background=_BACKGROUND.search(
                self.sentence.lower[sentence.start : sentence.start + start]
            )
            is not None,
        )


def _cut(sentence: Sentence, start: int, end: int) -> str:
    return sentence.text[sentence.start + start : sentence.start + end]


def _victim_group(s: str, count: Count, t0: int, t1: int) -> str | None:
    if count.start > t0:  # an object count: "killed three soldiers"
        words = GROUP_WORD.findall(s[count.start : count.end + 40])[:3]
    elif count.start == t0 and count.end > t1:  # a singular object: "killed a soldier"
        words = GROUP_WORD.findall(s[t1 : count.end])
    elif count.start == t0:  # a singular subject: "a soldier was killed"
        words = GROUP_WORD.findall(s[max(0, t0 - 40) : t0])[-4:]
    else:  # a subject count: "three soldiers were killed"
        words = GROUP_WORD.findall(s[count.start : t0].split("including")[0])
    return next((VICTIM_GROUPS[w] for w in words if w in VICTIM_GROUPS), None)


def _attribution(sentence: Sentence, s: str) -> str | None:
    according = ATTRIBUTION_AFTER.search(s)
    if according:
        return _cut(sentence, according.start(1), according.end(1)).strip()
    for verb in SAY_VERB.finditer(s):
        before = s[: verb.start()]
        if NOT_SPEAKER_BEFORE.search(before):
            continue
        window_start = max(0, verb.start() - 80)
        window = before[window_start:]
        stop = SPEAKER_STOP.match(window)
        speaker_start = window_start + (stop.end() if stop else 0)
        if stop is None and window_start > 0:
            speaker_start = window_start + window.find(" ") + 1
        speaker = _cut(sentence, speaker_start, verb.start()).strip()
        if speaker and speaker.lower() not in PRONOUNS and len(speaker.split()) <= 8:
            return speaker
    said = SAID_AFTER.search(s)
    if said and said.group(1).strip() not in PRONOUNS:
        return _cut(sentence, said.start(1), said.end(1)).strip()
    return None
