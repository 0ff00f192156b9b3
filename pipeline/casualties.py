"""Casualty figures: who was killed, injured, kidnapped... how many, per whom, since when.

:func:`extract_casualties` reads an article's text sentence by sentence with
compiled rules (no model, no download) and returns a :class:`CasualtyReport`.

How a figure is found. A *trigger* word names the category ("killed",
"wounded", "abducted", "deaths", "death toll"...). A count is linked to it by
the first rule that applies: the object of an active verb ("killed 5
people"); the subject of a passive, adjectival or intransitive trigger ("5
people were killed", "3 dead", "two died"); a count before a noun ("4
deaths") or after "of" ("the deaths of 4 people"); the count after a toll
("the death toll rose to 12"); and, without any count, a singular subject or
object ("a soldier was killed", "gunmen killed a policeman") or a possessive
("the senator's murder") counts 1. A few triggers carry their count ("a
double homicide" is 2 killed, "a triple shooting" 3 shot) or take only an
explicit one ("four people were taken to hospital" is 4 injured; "he was
hospitalized" is no figure). "Struck by gunfire" and "opened fire, striking
five" count people shot.
Coordinated counts add up ("three soldiers and two civilians were killed" is
5), a total before "including" wins ("five people, including four children").
Not counts: ages ("Smith, 25,", "Smith, 25 —", "a 15-year-old", "younger
than 12", "between the ages of 18 and 22"), years, times ("1:45"), units,
numbers of places ("Precinct 5"), a number right before another (a caption's
"2 of 9 7-year-old"), "father of three", "one of the six". Case does not
matter (MUC-4 wire copy is ALL CAPS). "killed or wounded" gives no figure
(the split is unknown).

Qualifiers (``CasualtyFigure.qualifier``) and their ranges:

* ``exact``: "12 people" -> low = high = 12.
* ``at_least``: "at least 12" -> low 12, high None (open-ended).
* ``more_than``: "more than 5,000" / "over 5,000" -> low 5,000, high None
  (low is the stated number, not number + 1, so it matches the text).
* ``about``: "about / nearly / some / an estimated 12" -> low = high = 12.
* ``up_to``: "up to / as many as 12" -> low 1, high 12.
* ``fewer_than``: "fewer than 12" -> low 1, high 11.
* ``range``: "10 to 15", "10-15", "between 10 and 15" -> low 10, high 15.
* ``vague``: "dozens" 12, "scores" 20, "hundreds" 100, "thousands" 1,000,
  "several" / "a handful" 3, "a few" / "a couple" 2 (ACLED-like conservative
  lower bounds), high None.
* ``none``: negation or zero ("no one was killed", "no casualties") -> 0, 0.

"casualties" with a count is read as killed (as ACLED's notes use it); "no
casualties" gives a zero figure for both killed and injured. "shot" alone is
``injured`` ("shot at" is nothing); "shot dead", "shot and killed", "fatally
shot" are ``killed``; "suffered injuries", "in critical condition" are one
injured unless a count is given. "affected" needs an explicit count of people.

Each figure also carries its victim group (civilians, soldiers, police,
children, women, militants, protesters, journalists, workers, migrants) when a
group word is in its phrase, the attribution of its sentence ("according to
X", "X said"), the sentence's time frame ("since March", "in the past week")
and ``cumulative`` (True when that time frame makes it a running total).

Article-level toll (``CasualtyReport.tolls``), per category:

0. Background figures (``background=True``: what a protest is about, "a
   rally against the killing of two students", or what an event came after /
   retaliated for) never make the toll.
1. Negated (zero) figures count only when the category has no other figure;
   an incident toll stated as such ("the death toll rose to 12",
   "fatalities coded as 0") wins over every other figure (the last one if
   several).
2. Incident figures are preferred; cumulative ones are used only if a
   category has nothing else, and the two kinds are never added.
3. Within one sentence, distinct figures of a category add up ("10 militants
   were killed ... and 4 soldiers were killed" is 14), but not a part of
   another figure ("five wounded, two of them shot themselves" is 5), nor the
   same count, group and trigger word told again at another trigger (a
   headline run into its lede), nor figures without a number beyond the first
   (they may name one victim twice) unless the same verb comes back ("a woman
   was shot in the back, and a boy was shot in the arm" is 2).
4. Across sentences the largest sentence total wins (headline and body repeat
   the same toll), except that a figure marked as additional ("also",
   "another", "more", "additional", "further") is added to a running toll of
   one ("A reporter was killed. A technician was also killed." is 2) or when
   it counts another victim group ("2 soldiers were killed. 7 militants were
   also killed." is 9); after a stated count of two or more, "also" names one
   of the victims already counted ("Four people were shot. A man was also
   shot in the leg." is 4). Of equal totals the attributed one is kept.
   A summed toll keeps the span and sentence of its largest part.
5. Injured: a count of people *shot* includes the dead ("8 men shot, 2
   dead" is 6 injured), so a toll of shot people has the killed toll taken
   off, unless it counts people besides the dead ("2 killed and 7 more shot",
   "four others were shot", "his father was also shot"); an explicit
   wounded/injured toll wins when it is larger.

Example:
    >>> report = extract_casualties("Two people were killed and 18 were wounded.")
    >>> [(f.category, f.low) for f in report.tolls]
    [('killed', 2), ('injured', 18)]
"""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline._casualties_context import sentences
from pipeline._casualties_lexicon import ADDITIVE, MAY_HOLD_TRIGGER, NUMBER_RE
from pipeline._casualties_rules import find_figures
from pipeline.records import CasualtyFigure, CasualtyReport, TaggedEntities

__all__ = ["extract_casualties"]

# People shot (or struck by gunfire) include the dead; "wounded" and "injured" do not.
_SHOT = re.compile(
    r"\b(?:shot|shoots|shooting|gunshot|struck|hit|striking|hitting)\b"
    r"(?!\s+and\s+(?:wounded|injured))"
)
# "four others were shot", "a man was also shot": people shot besides the dead.
_NOT_THE_DEAD = re.compile(r"\b(?:also|another|more|additional|further|others?)\b")
_PARTITIVE = re.compile(r"\bof\s+(?:them|those|whom|the\s+(?:victims|wounded|injured|dead))\b")
_TOLL = re.compile(r"\btoll\b|\bcoded as\b")


def extract_casualties(text: str, entities: TaggedEntities | None = None) -> CasualtyReport:
    """Find every casualty figure in ``text`` and the article-level toll per category.

    ``entities`` (the entity stage's output for the same text) is accepted for
    the agent's convenience but not used: the attribution rules already keep
    the speaker's phrase ("the UN", "The official SANA agency").

    Example:
        >>> toll = extract_casualties("The UN says the war has killed 5,000 people.").tolls[0]
        >>> (toll.category, toll.low, toll.attribution)
        ('killed', 5000, 'The UN')
    """
    del entities  # see docstring
    lower = _lower(text)
    if MAY_HOLD_TRIGGER.search(lower) is None:  # most wire copy: nothing to read
        return CasualtyReport()
    figures: list[CasualtyFigure] = []
    for sentence in sentences(text, lower):
        figures.extend(find_figures(sentence))
    return CasualtyReport(figures=tuple(figures), tolls=_tolls(figures))


def _lower(text: str) -> str:
    # Offsets must stay valid: a few characters (e.g. "İ") lower to two.
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _tolls(figures: list[CasualtyFigure]) -> tuple[CasualtyFigure, ...]:
    tolls = {
        c: _toll([f for f in figures if f.category == c])
        for c in dict.fromkeys(f.category for f in figures)
    }
    if tolls.get("injured") is not None:
        tolls["injured"] = _injured_toll(
            [f for f in figures if f.category == "injured"], tolls.get("killed")
        )
    return tuple(toll for toll in tolls.values() if toll is not None)


def _injured_toll(
    figures: list[CasualtyFigure], killed: CasualtyFigure | None
) -> CasualtyFigure | None:
    # "8 men shot, 2 dead": a count of people shot includes the dead, so the
    # wounded are the shot minus the killed (unless it says "7 more shot").
    wounded = [f for f in figures if not _SHOT.search(f.text.lower())]
    shot = _toll([f for f in figures if f not in wounded])
    if (
        shot is None
        or killed is None
        or killed.qualifier == "none"
        or _additional(shot, _NOT_THE_DEAD)
    ):
        return _toll(figures)
    net = replace(
        shot,
        low=max(shot.low - killed.low, 0),
        high=None if shot.high is None else max(shot.high - killed.low, 0),
    )
    best = _toll(wounded)
    if best is None or best.qualifier == "none" or net.low > best.low:
        return net
    return best


def _toll(figures: list[CasualtyFigure]) -> CasualtyFigure | None:
    figures = [f for f in figures if not f.background]
    positive = [f for f in figures if f.qualifier != "none"]
    if not positive:
        return figures[0] if figures else None
    pool = [f for f in positive if not f.cumulative] or positive
    tolls = [f for f in figures if not f.cumulative and _TOLL.search(f.text.lower())]
    if tolls:  # a stated toll ("the death toll rose to 12") is the best single figure
        return tolls[-1]
    by_sentence: dict[int, list[CasualtyFigure]] = {}
    for figure in pool:
        by_sentence.setdefault(figure.sentence_start, []).append(figure)
    total: CasualtyFigure | None = None
    for group in by_sentence.values():
        summed = _sum(group)
        if total is None:
            total = summed
        elif any(_additional(f) for f in group) and (total.low < 2 or _other_group(summed, total)):
            total = _sum([total, summed], one_sentence=False)
        elif summed.low > total.low or (summed.low == total.low and _better_sourced(summed, total)):
            total = summed
    return total


def _other_group(figure: CasualtyFigure, than: CasualtyFigure) -> bool:
    # "7 militants were also killed" after "2 soldiers were killed": other victims.
    return (
        figure.victim_group is not None
        and than.victim_group is not None
        and figure.victim_group != than.victim_group
        and NUMBER_RE.search(figure.text.lower()) is not None
    )


def _better_sourced(figure: CasualtyFigure, than: CasualtyFigure) -> bool:
    # Same count twice (headline and body): keep the one that says who says so.
    return figure.attribution is not None and than.attribution is None


def _additional(figure: CasualtyFigure, marker: re.Pattern[str] = ADDITIVE) -> bool:
    # "One soldier was also killed", "two more people died": the words of the
    # figure and the few before it (a singular figure spans its trigger only).
    at = figure.start - figure.sentence_start
    return (
        marker.search(figure.sentence[max(0, at - 25) : at].lower() + " " + figure.text.lower())
        is not None
    )


def _sum(figures: list[CasualtyFigure], *, one_sentence: bool = True) -> CasualtyFigure:
    largest = max(figures, key=lambda f: f.low)
    if one_sentence:  # counts without a number ("a man was shot") may name one victim twice
        numbered = [f for f in figures if NUMBER_RE.search(f.text.lower())]
        unnumbered = [f for f in figures if f not in numbered]
        # ... unless the same verb comes back for another subject ("a woman was
        # shot in the back, and a boy was shot in the arm")
        repeated = [f for f in unnumbered if _last_word(f.text) == _last_word(unnumbered[0].text)]
        figures = numbered + (repeated if len(repeated) > 1 else unnumbered[:1])
        # "five wounded, but two of them shot themselves": a part of another figure
        wholes = [f for f in figures if not _PARTITIVE.search(f.text.lower())]
        figures = wholes or figures
        # "after 4 students shot ... after four students were shot": one figure told twice
        figures = [f for i, f in enumerate(figures) if not _told_before(f, figures[:i])]
    if len(figures) == 1:
        return figures[0]
    highs = [f.high for f in figures]
    qualifiers = {f.qualifier for f in figures}
    return replace(
        largest,
        low=sum(f.low for f in figures),
        high=None if None in highs else sum(h for h in highs if h is not None),
        qualifier=qualifiers.pop() if len(qualifiers) == 1 else "at_least",
    )


def _told_before(figure: CasualtyFigure, earlier: list[CasualtyFigure]) -> bool:
    # Same count, group and trigger word at another trigger; coordinated counts
    # ("two boys and two girls were shot") share their trigger and both count.
    word = _last_word(figure.text)
    return any(
        e.low == figure.low
        and e.victim_group == figure.victim_group
        and e.end != figure.end
        and _last_word(e.text) == word
        for e in earlier
    )


def _last_word(text: str) -> str:
    words = text.lower().split()
    return words[-1] if words else ""
