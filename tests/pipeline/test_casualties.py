"""Unit tests of the casualty stage: a table of hand-written sentences, the seed, the toll rule."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import pytest

from pipeline._casualties_lexicon import MAY_HOLD_TRIGGER, TRIGGER
from pipeline._numbers import parse_number
from pipeline.casualties import extract_casualties
from pipeline.records import CasualtyFigure, CasualtyReport, TaggedEntities

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_26a858c8e60dbca3.txt"

# (sentence, every figure as (category, low, high, qualifier, victim_group,
# cumulative, attribution, time_frame)), in order of the triggers.
TABLE: list[tuple[str, list[tuple[object, ...]]]] = [
    (
        "Two people were killed and 18 were wounded in a mortar attack.",
        [
            ("killed", 2, 2, "exact", None, False, None, None),
            ("injured", 18, 18, "exact", None, False, None, None),
        ],
    ),
    (
        "Gunmen killed two gendarmes and wounded a soldier.",
        [
            ("killed", 2, 2, "exact", "police", False, None, None),
            ("injured", 1, 1, "exact", "soldiers", False, None, None),
        ],
    ),
    (
        "At least 12 civilians were killed in the air strike.",
        [
            ("killed", 12, None, "at_least", "civilians", False, None, None),
        ],
    ),
    (
        "More than 5,000 people have been killed since March, the UN says.",
        [
            ("killed", 5000, None, "more_than", None, True, "the UN", "since March"),
        ],
    ),
    (
        "The violence has killed over 300 people in the past week.",
        [
            ("killed", 300, None, "more_than", None, True, None, "in the past week"),
        ],
    ),
    (
        "About 40 people were injured in the stampede.",
        [
            ("injured", 40, 40, "about", None, False, None, None),
        ],
    ),
    (
        "Nearly 200 people died in the floods.",
        [
            ("killed", 200, 200, "about", None, False, None, None),
        ],
    ),
    (
        "Up to 30 people may have been killed in the raid.",
        [
            ("killed", 1, 30, "up_to", None, False, None, None),
        ],
    ),
    (
        "Fewer than ten people were hurt.",
        [
            ("injured", 1, 9, "fewer_than", None, False, None, None),
        ],
    ),
    (
        "Between 10 and 15 soldiers were killed in the ambush.",
        [
            ("killed", 10, 15, "range", "soldiers", False, None, None),
        ],
    ),
    (
        "Officials said 10 to 15 people were missing after the landslide.",
        [
            ("missing", 10, 15, "range", None, False, "Officials", None),
        ],
    ),
    (
        "Dozens of people were wounded in the clashes.",
        [
            ("injured", 12, None, "vague", None, False, None, None),
        ],
    ),
    (
        "Hundreds of families were displaced by the fighting.",
        [
            ("displaced", 100, None, "vague", None, False, None, None),
        ],
    ),
    (
        "Scores of protesters were arrested.",
        [
            ("arrested", 20, None, "vague", "protesters", False, None, None),
        ],
    ),
    (
        "A handful of villagers were abducted by gunmen.",
        [
            ("kidnapped", 3, None, "vague", "civilians", False, None, None),
        ],
    ),
    (
        "Twenty-one miners were killed in the explosion.",
        [
            ("killed", 21, 21, "exact", "workers", False, None, None),
        ],
    ),
    (
        "One hundred and five people died in the crash.",
        [
            ("killed", 105, 105, "exact", None, False, None, None),
        ],
    ),
    (
        "The floods killed 2 thousand people and displaced 1.2 million.",
        [
            ("killed", 2000, 2000, "exact", None, False, None, None),
            ("displaced", 1200000, 1200000, "exact", None, False, None, None),
        ],
    ),
    (
        "The blast killed a dozen people.",
        [
            ("killed", 12, 12, "exact", None, False, None, None),
        ],
    ),
    (
        "No one was killed in the blast, police said.",
        [
            ("killed", 0, 0, "none", None, False, "police", None),
        ],
    ),
    (
        "There were no casualties.",
        [
            ("killed", 0, 0, "none", None, False, None, None),
            ("injured", 0, 0, "none", None, False, None, None),
        ],
    ),
    (
        "No injuries were reported.",
        [
            ("injured", 0, 0, "none", None, False, None, None),
        ],
    ),
    (
        "The driver was not injured.",
        [
            ("injured", 0, 0, "none", None, False, None, None),
        ],
    ),
    (
        "Nobody was hurt in the fire.",
        [
            ("injured", 0, 0, "none", None, False, None, None),
        ],
    ),
    (
        "The death toll rose to 47 on Sunday, according to the health ministry.",
        [
            ("killed", 47, 47, "exact", None, False, "the health ministry", None),
        ],
    ),
    (
        "The death toll from the earthquake has climbed to more than 2,300.",
        [
            ("killed", 2300, None, "more_than", None, False, None, None),
        ],
    ),
    (
        "Five policemen were killed in the attack, a police spokesman said.",
        [
            ("killed", 5, 5, "exact", "police", False, "a police spokesman", None),
        ],
    ),
    (
        "According to SANA, three children were killed by shelling.",
        [
            ("killed", 3, 3, "exact", "children", False, "SANA", None),
        ],
    ),
    (
        "Activists said 23 people were killed by security forces on Friday.",
        [
            ("killed", 23, 23, "exact", None, False, "Activists", None),
        ],
    ),
    (
        "The Syrian Observatory for Human Rights reported that 14 rebels died in the clashes.",
        [
            (
                "killed",
                14,
                14,
                "exact",
                "militants",
                False,
                "The Syrian Observatory for Human Rights",
                None,
            ),
        ],
    ),
    (
        "A soldier was killed and three others were wounded when their patrol hit a mine.",
        [
            ("killed", 1, 1, "exact", "soldiers", False, None, None),
            ("injured", 3, 3, "exact", None, False, None, None),
        ],
    ),
    (
        "Three soldiers and two civilians were killed.",
        [
            ("killed", 3, 3, "exact", "soldiers", False, None, None),
            ("killed", 2, 2, "exact", "civilians", False, None, None),
        ],
    ),
    (
        "The attack killed three soldiers and two civilians.",
        [
            ("killed", 3, 3, "exact", "soldiers", False, None, None),
            ("killed", 2, 2, "exact", "civilians", False, None, None),
        ],
    ),
    (
        "The bombing left 8 dead and 20 injured.",
        [
            ("killed", 8, 8, "exact", None, False, None, None),
            ("injured", 20, 20, "exact", None, False, None, None),
        ],
    ),
    (
        "The attack claimed 9 lives.",
        [
            ("killed", 9, 9, "exact", None, False, None, None),
        ],
    ),
    (
        "The fire claimed the lives of 6 children.",
        [
            ("killed", 6, 6, "exact", "children", False, None, None),
        ],
    ),
    (
        "Two journalists were kidnapped in the capital.",
        [
            ("kidnapped", 2, 2, "exact", "journalists", False, None, None),
        ],
    ),
    (
        "Police arrested 45 demonstrators.",
        [
            ("arrested", 45, 45, "exact", "protesters", False, None, None),
        ],
    ),
    (
        "Some 20,000 people have fled their homes since January.",
        [
            ("displaced", 20000, 20000, "about", None, True, None, "since January"),
        ],
    ),
    (
        "The floods have affected 1.5 million people this year.",
        [
            ("affected", 1500000, 1500000, "exact", None, True, None, "this year"),
        ],
    ),
    (
        "Four people are still missing.",
        [
            ("missing", 4, 4, "exact", None, False, None, None),
        ],
    ),
    (
        "The war has displaced more than 2 million people since 2011.",
        [
            ("displaced", 2000000, None, "more_than", None, True, None, "since 2011"),
        ],
    ),
    (
        "Militants abducted 30 schoolgirls on Monday.",
        [
            ("kidnapped", 30, 30, "exact", None, False, None, None),
        ],
    ),
    (
        "A 15-year-old boy was shot and killed on Saturday.",
        [
            ("killed", 1, 1, "exact", "children", False, None, None),
        ],
    ),
    (
        "John Smith, 25, was pronounced dead at the scene.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "He died of his injuries in hospital.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "Three women were stabbed to death.",
        [
            ("killed", 3, 3, "exact", "women", False, None, None),
        ],
    ),
    (
        "The shooting left one man dead and two others wounded.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
            ("injured", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "Seven people were shot dead by gunmen.",
        [
            ("killed", 7, 7, "exact", None, False, None, None),
        ],
    ),
    (
        "THREE SUBVERSIVES WERE KILLED AND SEVEN OTHERS WERE WOUNDED DURING CLASHES.",
        [
            ("killed", 3, 3, "exact", "militants", False, None, None),
            ("injured", 7, 7, "exact", None, False, None, None),
        ],
    ),
    (
        "TERRORISTS MURDERED FIVE PEASANTS IN THE TOWN.",
        [
            ("killed", 5, 5, "exact", None, False, None, None),
        ],
    ),
    (
        "The explosion resulted in one death and four injuries.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
            ("injured", 4, 4, "exact", None, False, None, None),
        ],
    ),
    (
        "Two people died and five were injured, officials said.",
        [
            ("killed", 2, 2, "exact", None, False, "officials", None),
            ("injured", 5, 5, "exact", None, False, "officials", None),
        ],
    ),
    (
        "Eleven people were killed and 30 wounded in the past 24 hours.",
        [
            ("killed", 11, 11, "exact", None, True, None, "in the past 24 hours"),
            ("injured", 30, 30, "exact", None, True, None, "in the past 24 hours"),
        ],
    ),
    (
        "So far this year, 120 people have been killed in attacks.",
        [
            ("killed", 120, 120, "exact", None, True, None, "So far this year"),
        ],
    ),
    (
        "Security forces detained 12 suspects.",
        [
            ("arrested", 12, 12, "exact", None, False, None, None),
        ],
    ),
    (
        "Six people were wounded, two of them seriously.",
        [
            ("injured", 6, 6, "exact", None, False, None, None),
        ],
    ),
    (
        "The storm killed three people, the fire service said.",
        [
            ("killed", 3, 3, "exact", None, False, "the fire service", None),
        ],
    ),
    (
        "Officials estimated that several thousand people were affected.",
        [
            ("affected", 3000, None, "vague", None, False, "Officials", None),
        ],
    ),
    (
        "The army said 25 militants were killed in the operation.",
        [
            ("killed", 25, 25, "exact", "militants", False, "The army", None),
        ],
    ),
    (
        "An estimated 300 people were killed.",
        [
            ("killed", 300, 300, "about", None, False, None, None),
        ],
    ),
    (
        "The man was shot in the leg.",
        [
            ("injured", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "A suicide bomber killed 14 worshippers at a mosque.",
        [
            ("killed", 14, 14, "exact", None, False, None, None),
        ],
    ),
    (
        "Rebels took 12 soldiers hostage.",
        [
            ("kidnapped", 12, 12, "exact", "soldiers", False, None, None),
        ],
    ),
    (
        "Eight bodies were recovered from the rubble.",
        [
            ("killed", 8, 8, "exact", None, False, None, None),
        ],
    ),
    (
        "Tens of thousands of people were displaced by the floods.",
        [
            ("displaced", 10000, None, "vague", None, False, None, None),
        ],
    ),
    (
        "A couple were shot dead outside their home.",
        [
            ("killed", 2, None, "vague", None, False, None, None),
        ],
    ),
    (
        "Rescuers found 3 bodies on Tuesday, the fire department said.",
        [
            ("killed", 3, 3, "exact", None, False, "the fire department", None),
        ],
    ),
    (
        "The man was wounded and later died in hospital.",
        [
            ("injured", 1, 1, "exact", None, False, None, None),
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "It was not immediately clear how many people were killed.",
        [],
    ),
    (
        "The 2015 attack killed 130 people.",
        [
            ("killed", 130, 130, "exact", None, False, None, None),
        ],
    ),
    (
        "Eight men were shot, two of them fatally.",
        [
            ("injured", 8, 8, "exact", None, False, None, None),
            ("killed", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "Several soldiers were killed or wounded in the clashes.",
        [],
    ),
    (
        "Five persons, including four minors, were killed.",
        [
            ("killed", 5, 5, "exact", None, False, None, None),
        ],
    ),
    (
        "Man fatally shot in Sutton",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "The 2-year-old suffered non-life-threatening injuries.",
        [
            ("injured", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "Guerrillas killed the mayor as well as two peasants.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
            ("killed", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "The massacre of 12 peasants was condemned.",
        [
            ("killed", 12, 12, "exact", None, False, None, None),
        ],
    ),
    (
        "Police arrested two murder suspects.",
        [
            ("arrested", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "He shot himself in the leg.",
        [
            ("injured", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "Four shot during gunbattle near Westport",
        [
            ("injured", 4, 4, "exact", None, False, None, None),
        ],
    ),
    (
        "The gunman shot at a dozen people.",
        [],
    ),
    (
        "Ketron Nathan, a father of three, was shot and killed.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "One of the six, a 24-year-old man, died in hospital.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "Two people had died by Friday.",
        [
            ("killed", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "He has died.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "No one has died.",
        [
            ("killed", 0, 0, "none", None, False, None, None),
        ],
    ),
    (
        "The boy remained in critical condition on Friday.",
        [
            ("injured", 1, 1, "exact", "children", False, None, None),
        ],
    ),
    (
        "Two victims are in critical condition.",
        [
            ("injured", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "The strike came after militants killed 10 soldiers.",
        [
            ("killed", 10, 10, "exact", "soldiers", False, None, None),
        ],
    ),
    (
        "Detectives are investigating a double homicide in the north of the city.",
        [
            ("killed", 2, 2, "exact", None, False, None, None),
        ],
    ),
    (
        "The murder of six priests and two women shocked the country.",
        [
            ("killed", 6, 6, "exact", None, False, None, None),
            ("killed", 2, 2, "exact", "women", False, None, None),
        ],
    ),
    (
        "Four people were taken to the hospital after the shooting.",
        [
            ("injured", 4, 4, "exact", None, False, None, None),
        ],
    ),
    (
        "A gunman opened fire on the crowd, striking five people.",
        [
            ("injured", 5, 5, "exact", None, False, None, None),
        ],
    ),
    (
        "Three bystanders were struck by gunfire.",
        [
            ("injured", 3, 3, "exact", None, False, None, None),
        ],
    ),
    (
        "Two girls were shot at a birthday party.",
        [
            ("injured", 2, 2, "exact", "children", False, None, None),
        ],
    ),
    (
        "The suspect shot at officers before he fled.",
        [],
    ),
    (
        "The victim was taken to hospital, where he passed away.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "Security became an issue after the senator's murder in August.",
        [
            ("killed", 1, 1, "exact", None, False, None, None),
        ],
    ),
    (
        "A boy has been fatally shot in Springfield.",
        [
            ("killed", 1, 1, "exact", "children", False, None, None),
        ],
    ),
]


def _project(figure: CasualtyFigure) -> tuple[object, ...]:
    return (
        figure.category,
        figure.low,
        figure.high,
        figure.qualifier,
        figure.victim_group,
        figure.cumulative,
        figure.attribution,
        figure.time_frame,
    )


def test_table_has_at_least_60_sentences() -> None:
    assert len(TABLE) >= 60


@pytest.mark.parametrize(("sentence", "expected"), TABLE, ids=[s[:40] for s, _ in TABLE])
def test_sentence_table(sentence: str, expected: list[tuple[object, ...]]) -> None:
    report = extract_casualties(sentence)
    assert [_project(f) for f in report.figures] == expected


@pytest.mark.parametrize(("sentence", "_"), TABLE, ids=[s[:40] for s, _ in TABLE])
def test_offsets_point_into_the_text(sentence: str, _: object) -> None:
    text = f"Headline here\n\nFirst sentence. {sentence} Last one."
    for figure in extract_casualties(text).figures:
        assert text[figure.start : figure.end] == figure.text
        assert text[figure.sentence_start :].startswith(figure.sentence)
        assert figure.sentence_start <= figure.start < figure.end


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("5,000", (5000, 5000, "exact")),
        ("twenty-one", (21, 21, "exact")),
        ("one hundred and five", (105, 105, "exact")),
        ("1.2 million", (1_200_000, 1_200_000, "exact")),
        ("2 thousand", (2000, 2000, "exact")),
        ("a dozen", (12, 12, "exact")),
        ("two dozen", (24, 24, "exact")),
        ("10-15", (10, 15, "range")),
        ("between 3 and 5", (3, 5, "range")),
        ("one or two", (1, 2, "range")),
        ("dozens of", (12, None, "vague")),
        ("hundreds", (100, None, "vague")),
        ("tens of thousands", (10_000, None, "vague")),
        ("a handful", (3, None, "vague")),
        ("banana", None),
    ],
)
def test_parse_number(phrase: str, expected: tuple[int, int | None, str] | None) -> None:
    assert parse_number(phrase) == expected


def _seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


def test_seed_article_yields_the_un_toll_and_the_sana_killing() -> None:
    text = _seed_text()
    report = extract_casualties(text)
    killed = [f for f in report.figures if f.category == "killed"]
    un = next(f for f in killed if f.low == 5000)
    assert (un.high, un.qualifier, un.attribution, un.time_frame, un.cumulative) == (
        None,
        "more_than",
        "the UN",
        "since March",
        True,
    )
    sana = next(f for f in killed if f.low == 1)
    assert (sana.high, sana.qualifier, sana.cumulative) == (1, "exact", False)
    assert "SANA" in (sana.attribution or "")
    assert "Red Crescent" in sana.sentence and "was killed" in sana.sentence
    # The incident figure is the article's toll, never added to the cumulative one.
    toll = report.toll("killed")
    assert toll is not None and (toll.low, toll.cumulative) == (1, False)


def test_toll_prefers_incident_over_cumulative_and_ignores_negation() -> None:
    text = (
        "Three people were killed in Monday's blast.\n\n"
        "No one was killed in a second explosion. "
        "The conflict has killed more than 10,000 people since 2014."
    )
    toll = extract_casualties(text).toll("killed")
    assert toll is not None and (toll.low, toll.qualifier) == (3, "exact")


def test_toll_falls_back_to_cumulative_and_to_zero() -> None:
    cumulative = extract_casualties("Fighting has killed 400 people since January.").toll("killed")
    assert cumulative is not None and (cumulative.low, cumulative.cumulative) == (400, True)
    zero = extract_casualties("No one was hurt, police said.").toll("injured")
    assert zero is not None and (zero.low, zero.qualifier) == (0, "none")


def test_toll_does_not_add_repeated_figures_but_adds_additional_ones() -> None:
    repeated = "2 killed in shooting\n\nTwo men were killed in a shooting on Friday, police said."
    assert extract_casualties(repeated).toll("killed").low == 2  # type: ignore[union-attr]
    additional = "Fifteen militants were killed in the raid. One soldier was also killed."
    assert extract_casualties(additional).toll("killed").low == 16  # type: ignore[union-attr]
    same_sentence = (
        "Ten militants were killed in the fighting and four soldiers were killed nearby."
    )
    assert extract_casualties(same_sentence).toll("killed").low == 14  # type: ignore[union-attr]


def test_also_marked_singular_figures_do_not_add_to_a_stated_count() -> None:
    # The lede gives the count; "also" in the details names one of those victims.
    text = "Four people were shot on Monday. A 19-year-old man was also shot in the leg."
    assert extract_casualties(text).toll("injured").low == 4  # type: ignore[union-attr]
    other_group = "Two soldiers were killed in the clash. 7 militants were also killed."
    assert extract_casualties(other_group).toll("killed").low == 9  # type: ignore[union-attr]


def test_a_part_or_a_repeat_in_one_sentence_does_not_add() -> None:
    part = extract_casualties("Five wounded in shootings, but two of them shot themselves")
    assert part.toll("injured").low == 5  # type: ignore[union-attr]
    told_twice = "Search after 4 students shot; classes resume after four students were shot"
    assert extract_casualties(told_twice).toll("injured").low == 4  # type: ignore[union-attr]
    coordinated = "Two boys and two girls were shot in the park."
    assert extract_casualties(coordinated).toll("injured").low == 4  # type: ignore[union-attr]
    parallel = "A woman was shot in the back, and a boy was shot in the arm."
    assert extract_casualties(parallel).toll("injured").low == 2  # type: ignore[union-attr]


def test_people_shot_besides_the_dead_keep_their_count() -> None:
    others = extract_casualties("Two people died. Four others were shot in the attack.")
    assert others.toll("injured").low == 4  # type: ignore[union-attr]
    also = extract_casualties("A boy was killed. His father was also shot but survived.")
    assert also.toll("injured").low == 1  # type: ignore[union-attr]


def test_stated_death_toll_wins() -> None:
    text = "Two people were killed on Monday. The death toll rose to 9 on Tuesday."
    assert extract_casualties(text).toll("killed").low == 9  # type: ignore[union-attr]


def test_no_figures_in_ordinary_copy() -> None:
    text = "Showers continued throughout the week in the Bahia cocoa zone, 155,221 bags arrived."
    assert extract_casualties(text) == CasualtyReport()
    assert extract_casualties("") == CasualtyReport()


def test_ages_times_and_years_are_not_counts() -> None:
    text = "Smith, 25, was killed at 7 p.m. in 2014 when a 15-year-old fired 3 shots."
    report = extract_casualties(text)
    assert [(f.category, f.low) for f in report.figures] == [("killed", 1)]
    for other in (
        "Timothy Nelson, 57 — shot his neighbour on Friday.",
        "A boy younger than 12 was shot in the complex.",
        "1:45 Witness describes shooting of two brothers",
        "Two deputies from Precinct 5 were shot.",
        "Six people between the ages of 18 and 22 were taken to area hospitals.",
    ):
        lows = [f.low for f in extract_casualties(other).figures]
        assert not {57, 12, 45, 5, 22} & set(lows), (other, lows)


def test_entities_are_optional() -> None:
    text = "Five soldiers were killed, the army said."
    assert extract_casualties(text, TaggedEntities()) == extract_casualties(text)


def test_shot_counts_include_the_dead() -> None:
    report = extract_casualties("Eight men were shot, two of them fatally.")
    assert [(f.category, f.low) for f in report.tolls] == [("injured", 6), ("killed", 2)]
    more = extract_casualties("Two people were killed and seven more people were shot.")
    assert more.toll("injured").low == 7  # type: ignore[union-attr]


def test_what_a_protest_is_about_is_background() -> None:
    report = extract_casualties("Students held a rally against the killing of two classmates.")
    assert [(f.low, f.background) for f in report.figures] == [(2, True)]
    assert report.tolls == ()
    earlier = extract_casualties("The raid came after militants killed 10 soldiers. Two died.")
    assert [(f.low, f.background) for f in earlier.figures] == [(10, True), (2, False)]
    assert earlier.toll("killed").low == 2  # type: ignore[union-attr]
    for protest in (
        "Students protested the horrifying murder of a blogger on the campus.",
        "Parties called a strike in protest of the killing of a youth.",
        "Residents blocked a road, demanding compensation for the death of a man.",
    ):
        assert extract_casualties(protest).tolls == (), protest


def test_single_digit_ends_a_sentence() -> None:
    report = extract_casualties("Rebels killed 5. The army said 3 soldiers were wounded.")
    assert [(f.low, f.sentence, f.attribution) for f in report.figures] == [
        (5, "Rebels killed 5.", None),
        (3, "The army said 3 soldiers were wounded.", "The army"),
    ]


def test_singular_figures_in_other_sentences_add_only_when_marked() -> None:
    also = "A reporter was killed. A sound technician was also killed."
    assert extract_casualties(also).toll("killed").low == 2  # type: ignore[union-attr]
    same = "A man was shot dead on Friday. He was killed outside his home."
    assert extract_casualties(same).toll("killed").low == 1  # type: ignore[union-attr]


def test_the_cheap_prefilter_passes_every_trigger() -> None:
    text = " ".join(sentence for sentence, _ in TABLE).lower()
    matches = list(TRIGGER.finditer(text))
    assert len(matches) > 60
    for match in matches:
        assert MAY_HOLD_TRIGGER.search(match.group(0)), match.group(0)


def test_eval_command_prints_its_json_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evaluate import casualties as evaluation

    rows = [
        {
            "text": "TWO PEOPLE WERE KILLED.",
            "text_mixed_case": "Two people were killed.",
            "killed": 2,
        },
        {"text": "Markets rose on Friday.", "killed": 0},
        {"text": "A soldier was killed.", "killed": 3},
        {"title": "Five dead in blast", "text": "Police said no one else was hurt.", "killed": 5},
        {"text": "No label here.", "killed": None},
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    parser = argparse.ArgumentParser()
    evaluation.configure(parser)
    assert evaluation.run(parser.parse_args([str(path), "--field", "killed"])) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last == {
        "task": "casualties",
        "field": "killed",
        "n": 4,
        "exact": 0.75,
        "exact_on_positive": 0.6667,
        "detect_precision": 1.0,
        "detect_recall": 1.0,
    }


def test_eval_command_scores_one_half_of_the_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evaluate import casualties as evaluation

    rows = [
        {"text": "Two people were killed.", "killed": 2},  # line 1: odd
        {"text": "A soldier was killed.", "killed": 3},  # line 2: even
        {"text": "Markets rose on Friday.", "killed": 0},  # line 3: odd
    ]
    path = tmp_path / "rows.jsonl"
    # Line 0 is blank: lines are numbered from 0 as read, blank lines included.
    path.write_text("\n" + "\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    parser = argparse.ArgumentParser()
    evaluation.configure(parser)
    scores = {}
    for half in ("even", "odd"):
        assert evaluation.run(parser.parse_args([str(path), "--half", half])) == 0
        scores[half] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (scores["even"]["n"], scores["even"]["exact"]) == (1, 0.0)
    assert (scores["odd"]["n"], scores["odd"]["exact"]) == (2, 1.0)


def test_casualty_modules_are_pure() -> None:
    banned = {"faust", "aiokafka", "prometheus_client", "asyncio", "os"}
    for path in [*(REPO / "pipeline").glob("*casualties*.py"), REPO / "pipeline" / "_numbers.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not banned.intersection(names), f"{path.name} imports {names}"
