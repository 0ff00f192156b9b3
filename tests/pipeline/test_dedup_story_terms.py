"""Story terms: name-like words and numbers, weighted by tf-idf, the same in every process."""

from __future__ import annotations

import re

from pipeline import _dedup_story_terms as story


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
    for word in ("a", "i", "23-year-old", "o'brien", "sheriff\u2019s", "said"):
        assert story.term_hash(word) in counted


def test_common_words_opening_a_sentence_are_no_story_terms() -> None:
    # "A" and "I" open sentences in every language register; the shipped table
    # must know them as common, or they become the heaviest terms of all.
    text = "A man was shot in Hermitage. I heard it, said Kevin Barbee. A suspect fled."
    terms = set(story.story_terms(text)[0].tolist())
    assert story.term_hash("a") not in terms and story.term_hash("i") not in terms
    assert {story.term_hash("hermitage"), story.term_hash("barbee")} <= terms


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
