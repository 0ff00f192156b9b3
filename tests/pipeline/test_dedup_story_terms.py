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
