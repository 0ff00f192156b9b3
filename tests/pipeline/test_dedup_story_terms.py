"""Story terms: name-like words and numbers, weighted by tf-idf, the same in every process."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import sys

import numpy as np
import pytest

from pipeline import _dedup_kernels as kernels
from pipeline import _dedup_story_terms as story
from tests.conftest import require_eval_file


def test_story_terms_skip_common_sentence_openers_and_the_outlet_name() -> None:
    text = (
        "Alturas shooting victims identified - KOLO Reno News\n\n"
        "There was a shooting in Alturas. When police arrive, Modoc deputies follow."
    )
    terms = set(story.story_terms(text)[0].tolist())
    for kept in ("alturas", "modoc"):  # a rare word opening the text or a sentence is a name
        assert story.term_hash(kept) in terms
    for dropped in ("there", "when", "kolo", "reno"):
        assert story.term_hash(dropped) not in terms


def test_story_terms_are_the_same_with_a_cold_or_warm_token_cache() -> None:
    text = "Kevin Barbee, 15, died in Hermitage. Metro Nashville Police charged Kaemon Robinson."
    story._TOKEN_TERMS.clear()
    cold = story.story_terms(text)
    warm = story.story_terms(text)
    assert cold[0].tolist() == warm[0].tolist() and cold[1].tolist() == warm[1].tolist()
    assert story.term_hash("barbee") in cold[0].tolist()


def test_sentence_start_pattern_matches_what_the_two_branch_pattern_matched() -> None:
    two_branch = re.compile(r"(?:[.!?]\s|\n)\s*(?=[A-Z])")
    samples = [
        "It rose. Then It fell.\nNext line\n\n  Indented. lower. U.S. Officials!  Why? \tTab",
        "end.\nStart ?\n.\n!A .B \n\nC\n",
        'no stop\nlower\n Upper. 9 Nine.  "Quoted"',
    ]
    for text in samples:
        assert story._SENTENCE_START.sub("|", text) == two_branch.sub("|", text)


def test_document_terms_count_every_story_term_under_its_own_key() -> None:
    # The IDF table is counted with document_terms: a story term it cannot
    # find would weigh as the rarest name there is.
    text = (
        "A 23-year-old was shot on O'Brien Street, the Sheriff\u2019s Office said.\n"
        "I saw it, said Ana Lopez."
    )
    counted = story.document_terms(text)
    assert set(story.story_terms(text)[0].tolist()) <= counted
    for word in ("a", "i", "23-year-old", "o'brien", "sheriff", "said"):
        assert story.term_hash(word) in counted


@pytest.mark.parametrize(
    ("token", "word"),
    [
        ("It\u2019s", "it"),
        ("it's", "it"),
        ("Sheriff\u2019s", "sheriff"),
        ("BROWN'S", "brown"),
        ("Brown\u2018s", "brown"),
        ("O\u2019Brien\u2019s", "o'brien"),
        ("O'Brien", "o'brien"),
        ("officers\u2019", "officers"),
        ("\u2018Tis", "tis"),
        ("\u2018hero\u2019", "hero"),
        ("'s", ""),
        ("\u2019s", ""),
        ("S's", "s"),
        ("al-'s", "al"),
        ("Smith\u2019\u2019", "smith"),
        ("Jones's'", "jones"),
        ("Bus", "bus"),  # no apostrophe: no possessive
        ("don\u2019t", "don't"),
        ("23-year-old", "23-year-old"),
    ],
)
def test_a_term_reads_typographic_apostrophes_as_ascii_and_drops_a_possessive(
    token: str, word: str
) -> None:
    assert story._term_word(token) == word


def test_a_possessive_and_a_typographic_apostrophe_are_the_name_s_term() -> None:
    typographic = "Sheriff\u2019s deputies found Brown\u2019s car. It\u2019s near Alturas."
    ascii_names = "Sheriff deputies found Brown car. It near Alturas."
    found = story.story_terms(typographic)
    expected = story.story_terms(ascii_names)
    assert found[0].tolist() == expected[0].tolist()
    assert found[1].tobytes() == expected[1].tobytes()
    # "It's" is the common word "it", no rare name opening a sentence
    assert story.term_hash("it") not in found[0].tolist()
    assert story.term_hash("brown") in found[0].tolist()
    # one term, counted three times, whatever the apostrophe
    three = story.story_terms("The car of Brown\u2019s, Brown's house and Brown, in Alturas.")
    ascii_three = story.story_terms("The car of Brown, Brown house and Brown, in Alturas.")
    once = story.story_terms("The car of Brown in Alturas.")
    assert three[0].tolist() == ascii_three[0].tolist() == [story.term_hash("brown"), once[0][0]]
    assert three[1].tobytes() == ascii_three[1].tobytes() != once[1].tobytes()


def test_the_idf_table_knows_common_words_written_with_a_possessive_or_contraction() -> None:
    # the shipped table is counted with the same rule: "it's" is "it"
    known = story._document_frequencies()
    assert known[story.term_hash("it")] >= story._COMMON_DF
    assert story.term_hash("it's") not in known and story.term_hash("reagan's") not in known


def test_common_words_opening_a_sentence_are_no_story_terms() -> None:
    # "A" and "I" open sentences in every language register; the shipped table
    # must know them as common, or they become the heaviest terms of all.
    text = "A man was shot in Hermitage. I heard it, said Kevin Barbee. A suspect fled."
    terms = set(story.story_terms(text)[0].tolist())
    assert story.term_hash("a") not in terms and story.term_hash("i") not in terms
    assert {story.term_hash("hermitage"), story.term_hash("barbee")} <= terms


def test_an_age_or_a_year_counts_half_in_the_cosine_and_a_name_in_full() -> None:
    terms = [story.term_hash(w) for w in ("rodger", "22-year-old", "2014", "isla")]
    weights = np.array([0.6, 0.5, 0.4, 0.3], np.float32)
    assert story.evidence_weights(terms, weights).tolist() == pytest.approx([0.6, 0.25, 0.2, 0.3])
    names = terms[:1] + terms[3:]
    kept = np.array([0.8, 0.6], np.float32)
    assert story.evidence_weights(names, kept) is kept  # nothing to discount: no copy


def test_the_outlet_a_dateline_credits_is_no_story_term() -> None:
    text = (
        "Two dead after Berclair shooting\n\n"
        "MEMPHIS, Tenn. (WMC) - Police are hunting two suspects after a shooting on "
        "Gherald Street, WMC Action News 5 has learned. (Photo: WMC)"
    )
    terms = set(story.story_terms(text)[0].tolist())
    assert story.term_hash("wmc") not in terms
    for kept in ("gherald", "berclair"):
        assert story.term_hash(kept) in terms


def test_every_outlet_segment_after_a_web_headline_is_cut() -> None:
    text = (
        "Two shot in Berclair - WMC Action News 5 - Memphis, Tennessee\n\n"
        "Police are hunting two suspects after a shooting on Gherald Street."
    )
    terms = set(story.story_terms(text)[0].tolist())
    for dropped in ("wmc", "action", "memphis", "tennessee"):
        assert story.term_hash(dropped) not in terms
    for kept in ("berclair", "gherald"):
        assert story.term_hash(kept) in terms


# -- the compiled story terms give the plain code's terms ----------------------

TRICKY = [
    "",
    " ",
    "A",
    "all lower case words, no names at all.",
    "1987 12.5 3,000 7-year-old 5% 1/2 2nd",
    "O'Brien's 'Quoted' -Edge- --- ' - '' 'A' 's Sheriff's X-",
    "E-mail FACEBOOK Police said. Said Monday: MAY May may Sept.",
    "Wheat " * 70 + "wheat Wheat. Wheat",  # more than 63 of one term
    "Ohio " * 700,  # counts of hundreds
    "BALTIMORE (AP) - Police say. (Reuters) -- x (WMC): y (AFP)\u2014 (a(b)c) - d () - e",
    "LONDON (" + "x" * 40 + ") - Forty. (" + "y" * 41 + ") - Fortyone (Z)\n- Newline (Q)\t:",
    "Two shot in Berclair - WMC Action News 5 - Memphis, Tennessee\nPolice hunt Suspects.",
    # credits of 40 and 41 characters naming a word of the story
    *(f"Headline\nLONDON ({('Credited ' + 'N' * 40)[:n]}) - Credited Credited" for n in (40, 41)),
    "Shot in Memphis (WMC) -  - News\nWMC reports on Gherald.",  # a blank segment
    "Shots fired | Fox 8 | Cleveland\n\nA man died.",
    "al-Assad rally - Reuters",
    "Deal -Reuters",
    "Deal - Reuters ",
    "Deal -  - Reuters",
    "Deal - " + "B" * 80,
    "Deal - " + "B" * 81,
    "Deal - A - " + "C " * 45 + "- D",
    "Deal\t-\tAP\r\nLine Two",
    "Really?\nYes. No!  Maybe?\tPerhaps.\n\n  Indented\n\nlower. Upper.Next U.S. Army",
    "CR\r\nLF\nTab\tVT\x0bFF\x0cFS\x1cGS\x1dRS\x1eUS\x1fEnd. \x1cFile",
    "\x01Marked \x01lower \x01 a\x01B. \x01C",
    "x \x011987 rose. \x015 a \x01-7 \x01'8",
    'Quote. "Names" (Paren) [Bracket] {Brace} <Angle> Dot.Name x.Y',
    "Start. 9 Lives. 10 Downing Street. ...And",
    "Long " + "Names and words " * 124 + "Boundaryword Tail",  # the cut inside a word
    "caf\u00e9 Z\u00fcrich M\u00fcller said. Bob \u2019s \u201cQuoted\u201d \u2013 Dash",
    "ASCII top " + "Name " * 400 + "\u00c9l\u00e8ve",  # a capital past the prefix
    # typographic punctuation and white space (the kernel's), capitals and
    # digits outside ASCII and an emoji (the plain code's)
    "Headline \u2014 Outlet\nSheriff\u2019s Office \u2019Tis \u2018Quoted\u2019 Smith\u2019\u2019",
    "Headline \u2013 Outlet | Other\nLONDON (AP) \u2014 Police. (Reuters) \u2013 Says",
    "It rose.\u00a0Then\u2009Fell.\u2028Next\u3000One?\u00a0\u00a0Two \u201cThree\u201d \u00abFour\u00bb",
    "Caf\u00e9 Ol\u00e9 na\u00efve \u00a9 2014 \u2022 \u00d7 \u2026 \u20ac5 \u00bd Zo\u00eb said\u2026 Next",
    "\u00c9lys\u00e9e Palace",
    "Paris \u00c9lys\u00e9e",
    "Rated 5\u00b2 and \u0663 Three",
    "Z\u00fcrich \U0001f600 Smiles",
    "(" + "\u00e9" * 40 + ") - Forty (" + "\u00e9" * 41 + ") \u2014 Fortyone",
    "Deal - " + "\u00e9" * 80 + "\nDeal - " + "\u00e9" * 81,
    # typographic apostrophes and possessives
    "It\u2019s Brown\u2019s BROWN'S Brown\u2018s O\u2019Brien\u2019s O'Brien's \u2019s \u2018s 's S's A\u2019S",
    "X-'s Y'-s Officers\u2019 Jones\u2019\u2019s Police's POLICE\u2019S Monday\u2019s Said's 1990's 5\u2019s",
    "It\u2019s. It's. He\u2019s here.\nThat\u2019s Reagan\u2019s. \u2018Tis \u2018Lil Wayne\u2019 Smith\u2019\u2019",
    "Headline\nLONDON (Reuters\u2019s Desk's) - Reuters Desk Desks Reuters's",
    "Headline\nLONDON (\u2019s 's \u2018S -'s) - S Ss S\u2019s",
    "Headline\nLONDON (O\u2019Brien\u2019s) \u2014 O'Brien O'Brien's Brien",
    "Brown\u2019s car \u2013 WMC\u2019s News\nBrown's house",
]


def _random_texts(count: int, seed: int = 23, apostrophes: bool = False) -> list[str]:
    rng = random.Random(seed)
    words = [
        *("Police", "Monday", "said", "The", "A", "I", "There", "When", "US", "U.S."),
        *("Obama", "Ohio", "Memphis", "WMC", "AP", "shooting", "man", "the", "of", "in"),
        *("was", "O'Brien", "al-Assad", "23-year-old", "1987", "3,000", "5", "Reuters"),
        *("News", "Facebook", "E-mail", "Twitter", "John", "Smith", "Jr.", "Co", "Inc."),
        *("'s", "-", "--", "'", "|"),
    ]
    marks = [" ", " ", " ", ". ", "? ", "!\n", "\n", "\n\n", ", ", " - ", " | ", "\t", "\r\n"]
    marks += [" (AP) - ", " (Reuters) \u2014 ", "(", ")", ": ", " \x01", "\x01", "'", "-", "\u00e9"]
    marks += ["\u2019", "\u201c", "\u201d", " \u2014 ", " \u2013 ", "\u2026", "\u00a0", ".\u00a0"]
    marks += ["\u2028", "\u00a9", "\u00c9", "\u00b2"]
    if apostrophes:  # possessives and contractions, typographic or not
        words += ["It\u2019s", "it's", "Brown's", "Sheriff\u2019s", "O\u2019Brien\u2019s"]
        words += ["Police's", "\u2018Tis", "Reagan\u2019s", "He\u2019s", "I\u2019m"]
        words += ["\u2019s", "\u2018", "S", "s", "Officers\u2019", "WMC\u2019s", "5's"]
        marks += ["'s ", "\u2019s ", "\u2018s ", "\u2018", "\u2019\u2019", "'s", "\u2019S", "-'s "]
    return [
        "".join(rng.choice(words) + rng.choice(marks) for _ in range(rng.randint(0, 60)))
        for _ in range(count)
    ]


def _real_articles(count: int) -> list[str]:
    files = [require_eval_file("reuters21578/reuters21578.jsonl")]
    files += sorted(require_eval_file("gva_semeval2018").glob("*.jsonl"))
    texts = []
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for line in itertools.islice(lines, count // len(files)):
                row = json.loads(line)
                texts.append(row.get("body") or row.get("text") or "")
    return texts


def _same(found: tuple[np.ndarray, np.ndarray], expected: tuple[np.ndarray, np.ndarray]) -> None:
    assert found[0].dtype == expected[0].dtype == np.uint32
    assert found[1].dtype == expected[1].dtype == np.float32
    assert found[0].tolist() == expected[0].tolist()  # the same terms in the same order
    assert found[1].tobytes() == expected[1].tobytes()  # the same weights, bit for bit


def _compiled_terms(
    text: str, compensated: bool | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    tables = list(story._kernel_tables())
    if compensated is not None:
        tables[-1] = compensated
    top = text[: story.STORY_PREFIX].encode("utf-32-le", "surrogatepass")
    data = np.frombuffer(top, np.uint32)
    hashes, weights, done = kernels.story_terms(data, *tables)
    return (hashes, weights) if done else None


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
@pytest.mark.parametrize(
    "text", TRICKY + _random_texts(3000) + _random_texts(1000, seed=31, apostrophes=True)
)
def test_compiled_story_terms_equal_the_plain_terms(text: str) -> None:
    expected = story.plain_story_terms(text)
    _same(story.story_terms(text), expected)
    found = _compiled_terms(text)
    if found is not None:
        _same(found, expected)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
def test_the_kernel_declines_only_characters_it_does_not_reproduce() -> None:
    typographic = [text for text in TRICKY if {"\u2014", "\u00a0", "\u00a9"} & set(text)]
    assert len(typographic) >= 3
    assert all(_compiled_terms(text) is not None for text in typographic)
    for text in ("\u00c9lys\u00e9e", "5\u00b2", "\u0663", "\U0001f600", "a\ud800b"):
        assert _compiled_terms(f"Paris {text} Palace") is None
    with pytest.raises(UnicodeEncodeError):  # as the plain code: no UTF-8 for a surrogate
        story.story_terms("Paris\ud800 Palace")


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
def test_compiled_story_terms_equal_the_plain_terms_of_real_articles() -> None:
    texts = _real_articles(2000)
    compiled = 0
    for text in texts:
        expected = story.plain_story_terms(text)
        _same(story.story_terms(text), expected)
        found = _compiled_terms(text)
        if found is not None:
            _same(found, expected)
            compiled += 1
    assert compiled > 0.9 * len(texts)


def _cpython_sum(values: list[float], compensated: bool) -> float:
    # sum() of floats as CPython adds them: plain before 3.12, Neumaier since
    total, lost = 0 + values[0], 0.0
    for value in values[1:]:
        if not compensated:
            total += value
            continue
        added = total + value
        lost += (total - added) + value if abs(total) >= abs(value) else (value - added) + total
        total = added
    return total + lost if lost and math.isfinite(lost) else total


def test_the_sum_transcription_adds_as_this_python_does() -> None:
    rng = random.Random(29)
    compensated = sys.version_info >= (3, 12)
    for size in (1, 2, 5, 14, 40):
        for _ in range(200):
            values = [rng.random() * 10 ** rng.randint(-8, 8) for _ in range(size)]
            assert _cpython_sum(values, compensated) == sum(values)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
@pytest.mark.parametrize("compensated", [False, True])
def test_compiled_norm_adds_as_either_python_does(
    monkeypatch: pytest.MonkeyPatch, compensated: bool
) -> None:
    # the other Python's sum(), in the plain code and in the kernel
    monkeypatch.setattr(
        story, "sum", lambda values: _cpython_sum(values, compensated), raising=False
    )
    for text in TRICKY + _random_texts(300):
        found = _compiled_terms(text, compensated)
        if found is not None:
            _same(found, story.plain_story_terms(text))


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
def test_a_count_the_kernel_cannot_weigh_is_left_to_the_plain_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tables = list(story._kernel_tables())
    tables[9] = tables[9][:3]  # 1 + log(tf) for tf < 3 only
    monkeypatch.setattr(story, "_kernel_tables", lambda: tuple(tables))
    text = "in Ohio and Ohio, then Ohio again"
    assert _compiled_terms(text) is None
    _same(story.story_terms(text), story.plain_story_terms(text))
    assert story.story_terms(text)[0].tolist() == [story.term_hash("ohio")]
