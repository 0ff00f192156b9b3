"""The linking rules of the casualty stage (see :mod:`pipeline.casualties`).

Every pattern runs on the lower-cased text; offsets are shared with the
original text, from which figure text, sentences and attributions are cut.
"""

from __future__ import annotations

import re

from pipeline._casualties_context import Context, Count, Sentence
from pipeline._casualties_lexicon import (
    AUXILIARY_BEFORE,
    MAY_HOLD_TRIGGER,
    NEGATED_NOUN_BEFORE,
    NEGATED_SUBJECT,
    NOT_A_COUNT_AFTER,
    NOT_A_COUNT_BEFORE,
    NUMBER_RE,
    OBJECT_GAP,
    OF_NUMBER_AFTER,
    PEOPLE,
    PLURAL_NOUNS,
    QUALIFIERS,
    SINGULAR_OBJECT,
    SINGULAR_SUBJECT_BEFORE,
    SUBJECT_BREAK,
    TRIGGER,
    TRIGGER_KINDS,
)
from pipeline._numbers import parse_number
from pipeline.records import CasualtyFigure


def find_figures(sentence: Sentence) -> list[CasualtyFigure]:
    """Every casualty figure of one sentence."""
    s = sentence.lower[sentence.start : sentence.end]
    if MAY_HOLD_TRIGGER.search(s) is None:
        return []
    triggers = list(TRIGGER.finditer(s))
    if not triggers:
        return []
    counts = [c for c in (_count(s, m) for m in NUMBER_RE.finditer(s)) if c is not None]
    used: set[int] = set()
    found: list[tuple[str, Count, int, int]] = []
    for trigger in triggers:
        category, kind = TRIGGER_KINDS[trigger.lastgroup or ""]
        for linked in _link(s, trigger, kind, counts, used):
            categories = (
                ("killed", "injured")
                if category == "casualties" and linked.qualifier == "none"
                else ("killed" if category == "casualties" else category,)
            )
            found.extend((c, linked, trigger.start(), trigger.end()) for c in categories)
    if not found:
        return []
    context = Context.of(sentence, s)
    return [context.figure(category, count, t0, t1) for category, count, t0, t1 in found]


def _count(s: str, match: re.Match[str]) -> Count | None:
    before, after = s[: match.start()], s[match.end() :]
    if NOT_A_COUNT_AFTER.match(after) or NOT_A_COUNT_BEFORE.search(before):
        return None
    if before.endswith((", ", "(")) and after.startswith((",", ")", " —", " –", " - ")):
        # "John Smith, 25, was", "Timothy Obeshaw, 57 — shot"
        return None
    parsed = parse_number(match.group(0))
    if parsed is None:
        return None
    low, high, qualifier = parsed
    if qualifier == "exact" and 1900 <= low <= 2100 and _YEAR.fullmatch(match.group(0)):
        return None  # a year
    start = match.start()
    if qualifier == "exact":
        for pattern, name in QUALIFIERS:
            found = pattern.search(before)
            if found:
                qualifier, start = name, found.start()
                break
        if qualifier in ("at_least", "more_than"):
            high = None
        elif qualifier == "up_to":
            low = min(1, low)
        elif qualifier == "fewer_than":
            low, high = min(1, low - 1), max(low - 1, 0)
    return Count(start, match.end(), low, high, qualifier)


_MULTIPLE = {"double": 2, "triple": 3, "quadruple": 4, "quintuple": 5}
_SINGULAR_NOUNS = frozenset({"death", "assassination", "murder", "slaying", "killing", "shooting"})
_NEVER_NEGATED = frozenset({"executed", "executing", "displaced", "detained", "arrested"})
_SINGULAR_THEN = re.compile(
    r"\b(?:was|is)\s[^.;,]{0,60}?\band\s+(?:later\s+|subsequently\s+|then\s+)?$"
)
# "Man fatally shot in ...", "Teen killed in crash": a headline's reduced passive.
_HEADLINE_SUBJECT = re.compile(
    r"(?:^|\n)\s*(?:an?\s+)?(?:[\w'-]+\s+){0,2}?(?:man|woman|boy|girl|teen|teenager|child"
    r"|toddler|baby|officer|student|soldier|driver|mother|father|\d+-year-old)\s+$"
)
_INCLUDING = re.compile(
    r"^\s+(?:[\w'-]+\s+){0,3}?[\w'-]*,?\s*(?:including|among them|among whom|of whom|of them)\s+$"
)
_NOUN_NOT_AFTER = re.compile(
    r"\s+(?:suspects?|charges?|cases?|trials?|investigations?|attempts?|weapons?|scenes?"
    r"|counts?|rates?)\b"
)
_APPOSITIVE_BEFORE = re.compile(r"^[^,;]{3,60},[^,;]{3,100},\s+$")
_YEAR = re.compile(r"\d{4}")
_ASIDE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def _words(gap: str) -> int:
    # A parenthesis or bracket inside a subject is an aside: "two NSCN (K) cadres".
    return len(_ASIDE.sub(" ", gap).split())


def _link(
    s: str, trigger: re.Match[str], kind: str, counts: list[Count], used: set[int]
) -> list[Count]:
    """The counts that ``trigger`` takes (zero, one, or coordinated ones)."""
    start, end = trigger.start(), trigger.end()
    before, after = s[:start], s[end:]
    if kind == "toll":
        after_toll = [
            c
            for c in counts
            if c.start >= end
            and _words(s[end : c.start]) <= 10
            and not SUBJECT_BREAK.search(s[end : c.start])
        ]
        return _take(counts, used, after_toll[:1])
    if kind == "noun":
        return _link_noun(s, trigger, counts, used)
    if kind == "multiple":  # "a triple homicide" is three
        n = _MULTIPLE[trigger.group(0).split()[0].split("-")[0]]
        return [Count(start, end, n, n, "exact")]
    if kind == "skip":  # "several soldiers killed or wounded": no count of either
        subjects = [c for c in counts if c.end <= start and _words(s[c.end : start]) <= 4]
        _take(counts, used, subjects[-1:])
        return []
    if kind == "people":  # "affected": only an explicit count of people
        near = [
            c
            for c in counts
            if c.end <= start
            and id(c) not in used
            and PEOPLE.search(s[c.end : start])
            and _words(s[c.end : start]) <= 8
            and not SUBJECT_BREAK.search(s[c.end : start])
        ]
        near += [
            c
            for c in counts
            if c.start >= end
            and OBJECT_GAP.match(s[end : c.start])
            and PEOPLE.match(s[c.end : c.end + 12].strip())
        ]
        return _take(counts, used, near[-1:])
    aux = AUXILIARY_BEFORE.search(before)
    if aux and re.search(r"\b(?:not|never)\b", aux.group(0)) or NEGATED_SUBJECT.search(before):
        if (aux or kind in ("intr", "single")) and trigger.group(0) not in _NEVER_NEGATED:
            return [Count(start, end, 0, 0, "none")]
    if kind == "verb" and aux is None:
        objects = [c for c in counts if c.start >= end and OBJECT_GAP.match(s[end : c.start])]
        if objects:
            return _take(counts, used, _coordinated_after(s, counts, objects[0]))
        single = SINGULAR_OBJECT.match(after)
        if single and single.group(1) not in PLURAL_NOUNS and not single.group(1).endswith("s"):
            one = Count(start, end + single.end(), 1, 1, "exact")
            return [one, *_take(counts, used, _coordinated_after(s, counts, one)[1:])]
    limit = 8 if aux or kind in ("intr", "suffer", "single") else 3
    subjects = [
        c
        for c in counts
        if c.end <= start
        and id(c) not in used
        and _words(s[c.end : start]) <= limit
        and not SUBJECT_BREAK.search(s[c.end : start])
        and (aux or kind == "intr" or "," not in s[c.end : start])
    ]
    if kind == "counted":  # "four people were taken to hospital"; "he was taken" is no figure
        subjects = [c for c in subjects if c.qualifier != "none"]
        return _take(counts, used, subjects[-1:])
    if subjects:
        chosen = subjects[-1]
        total = [
            c for c in counts if c.end <= chosen.start and _INCLUDING.match(s[c.end : chosen.start])
        ]
        if total:  # "five persons, including four minors, were killed": the five
            _take(counts, used, [chosen])
            return _take(counts, used, total[-1:])
        return _take(counts, used, _coordinated_before(s, counts, chosen))
    if (
        kind in ("suffer", "single")  # "suffered injuries", "shot himself": one if no count
        or _singular_subject(before, aux, kind)
        or (kind == "verb" and aux is None and _HEADLINE_SUBJECT.search(before))
    ):
        return [Count(start, end, 1, 1, "exact")]
    return []


def _link_noun(s: str, trigger: re.Match[str], counts: list[Count], used: set[int]) -> list[Count]:
    start, end = trigger.start(), trigger.end()
    if _NOUN_NOT_AFTER.match(s[end:]):  # "two murder suspects"
        return []
    if NEGATED_NOUN_BEFORE.search(s[:start]):
        return [Count(start, end, 0, 0, "none")]
    near = [
        c
        for c in counts
        if c.end <= start
        and _words(s[c.end : start]) <= 2
        and not SUBJECT_BREAK.search(s[c.end : start])
    ]
    if near:  # "4 deaths"
        return _take(counts, used, near[-1:])
    of = OF_NUMBER_AFTER.match(s[end:])
    if of is None:
        if trigger.group(0) in _SINGULAR_NOUNS and re.search(r"\w(?:'s|’s)\s+$", s[:start]):
            return [Count(start, end, 1, 1, "exact")]  # "Galan's murder"
        return []
    at = end + of.end()
    following = [c for c in counts if end <= c.start <= at + 1 and c.end > at]
    if following:  # "the deaths of 4 people", "the murder of six priests and two women"
        return _take(counts, used, _coordinated_after(s, counts, following[0]))
    if trigger.group(0) in _SINGULAR_NOUNS and not re.match(
        r"(?:those|these|people|men|women|children|civilians)\b", s[at:]
    ):
        return [Count(start, end, 1, 1, "exact")]  # "the death of a soldier"
    return []


def _singular_subject(before: str, aux: re.Match[str] | None, kind: str) -> bool:
    if aux is not None:
        word = aux.group("aux")
        if word in ("was", "is") or (
            word == "been" and re.search(r"\bhas\s+$", before[: aux.start()])
        ):
            return not re.search(r"\b(?:there|it|who|which|that)\s+$", before[: aux.start()])
        return False
    # "he died", "the man was wounded and later died", "Carlos Pizarro, a candidate, died"
    return kind == "intr" and (
        SINGULAR_SUBJECT_BEFORE.search(before) is not None
        or _SINGULAR_THEN.search(before) is not None
        or _APPOSITIVE_BEFORE.search(before) is not None
    )


def _take(counts: list[Count], used: set[int], chosen: list[Count]) -> list[Count]:
    fresh = [c for c in chosen if id(c) not in used]
    used.update(id(c) for c in fresh)
    return fresh


_COORDINATION = re.compile(
    r"^\s+(?:[\w'-]+\s+){0,3}?(?:and|,|as well as|plus)\s+(?:(?![\w'-]*(?:ed"
    r"|ing)\s)[\w'-]+\s+)?$|^\s*(?:and|,)\s+$"
)
_CLAUSE_AFTER = re.compile(
    r"^(?:\s+[\w'-]+){0,3}?\s+(?:were|was|are|is|have|has|had|killed|wounded|injured|died|dead"
    r"|missing)\b"
)


def _coordinated_before(s: str, counts: list[Count], last: Count) -> list[Count]:
    # "three soldiers and two civilians were killed": both counts.
    group = [last]
    for c in reversed([c for c in counts if c.end <= last.start]):
        gap = s[c.end : group[0].start]
        if not _COORDINATION.match(gap) or TRIGGER.search(gap):
            break
        group.insert(0, c)
    return group


def _coordinated_after(s: str, counts: list[Count], first: Count) -> list[Count]:
    # "killed two soldiers and three civilians", but not "killed 3 and 5 were wounded".
    group = [first]
    for c in [c for c in counts if c.start >= first.end]:
        gap = s[group[-1].end : c.start]
        if not _COORDINATION.match(gap) or TRIGGER.search(gap) or _CLAUSE_AFTER.match(s[c.end :]):
            break
        group.append(c)
    return group
