"""Tests of the de-duplication stage (pipeline.dedup and its private helpers)."""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from pipeline import codec
from pipeline._dedup_store import Postings, salted_keys
from pipeline._dedup_story_terms import STORY_TERMS
from pipeline.dedup import (
    DedupConfig,
    DedupIndex,
    IndexEntry,
    deduplicate,
    normalise,
    remove_repeated_paragraphs,
)
from pipeline.records import Article

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_26a858c8e60dbca3.txt"
EVAL = Path(os.environ.get("WIREWATCH_EVAL_DIR", ROOT / ".." / "shared" / "eval"))
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)

STORY = (
    "The Federal Reserve entered the government securities market to arrange 1.5 billion dlrs "
    "of customer repurchase agreements, a Fed spokesman said.\n"
    "Dealers said Federal funds were trading at 6-1/8 pct when the Fed began its temporary and "
    "indirect supply of reserves to the banking system.\n"
    "Economists said the operation was routine and expected, given the seasonal pressures on "
    "bank reserves in the middle of the statement period, and that it did not signal any "
    "change in the direction of monetary policy in the coming weeks.\n"
    "Treasury bill rates were little changed after the announcement, traders in New York said."
)
OTHER = (
    "Shipments of cocoa from the Ivory Coast fell sharply in the week to Sunday as heavy rain "
    "slowed trucks on the roads from the growing areas to the port of Abidjan, exporters said.\n"
    "Arrivals at the port totalled 12,000 tonnes, against 19,500 the week before, and traders "
    "expect the main crop to come in well below last season's record."
)


def article(id_: str, body: str, *, headline: str = "", hours: float = 0.0) -> Article:
    when = T0 + timedelta(hours=hours)
    return Article(
        id=id_, source="test", headline=headline, body=body, published_at=when, received_at=when
    )


def seed_body() -> str:
    return SEED.read_text(encoding="utf-8")


# -- text helpers ------------------------------------------------------------


def test_normalise_strips_case_markup_byline_dateline_and_punctuation() -> None:
    text = "By Jane Doe\nLONDON, March 3 (Reuters) - Oil <b>ROSE</b>,\t2 pct &amp; more.\n Reuter"
    assert normalise(text) == "oil rose 2 pct more"
    assert normalise("CORRECTED - Oil rose") == normalise("oil   ROSE!")


def test_normalise_splits_ascii_and_other_texts_at_the_same_separators() -> None:
    # ASCII texts take a bytes path; str.split also splits at \x1c-\x1f.
    assert normalise("Oil\x1crose\x1f2 PCT.\x0bReuters") == "oil rose 2 pct"
    assert normalise("Oil\x1crose\x1f2 PCT, caf\u00e9.\x0bReuters") == "oil rose 2 pct caf\u00e9"


def test_normalise_keeps_reuters_company_markers_as_words() -> None:
    assert normalise("talks with <McDonnell Douglas Corp>") == "talks with mcdonnell douglas corp"


def test_remove_repeated_paragraphs_cleans_the_seed_article() -> None:
    body = seed_body()
    lines = body.splitlines()
    cleaned, removed = remove_repeated_paragraphs(body)
    assert removed == 9
    assert cleaned.splitlines() == lines[:10]
    assert remove_repeated_paragraphs(cleaned) == (cleaned, 0)


def test_remove_repeated_paragraphs_keeps_short_legitimate_repeats() -> None:
    body = "Shr 12 cts vs 10 cts\nNine mths\nShr 12 cts vs 10 cts\nReuter\nReuter"
    assert remove_repeated_paragraphs(body) == (body, 0)


# -- verdicts ----------------------------------------------------------------


def test_first_copy_is_unique_and_starts_its_own_story() -> None:
    index = DedupIndex()
    result = deduplicate(index, article("a", STORY))
    assert result.verdict.kind == "unique"
    assert result.verdict.story_id == "a"
    assert result.entry is not None and result.entry.article_id == "a"
    assert len(index) == 1


def test_byte_different_copy_is_an_exact_duplicate_and_not_indexed() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    noisy = "By Jane Doe\n" + STORY.upper().replace(" ", "  ").replace(",", " ;")
    result = deduplicate(index, article("b", noisy, headline="CORRECTED - FED"))
    assert (result.verdict.kind, result.verdict.duplicate_of) == ("exact", "a")
    assert result.verdict.story_id == "a"
    assert result.entry is None
    assert len(index) == 1


@pytest.mark.parametrize(
    "perturb",
    [
        lambda s: s[: int(len(s) * 0.75)],
        lambda s: "\n".join(s.splitlines()[1:]),
        lambda s: s + "\nCopyright 2026 Reuters. Click here for restrictions and reprints.",
        lambda s: "\n".join(reversed(s.splitlines())),
        lambda s: s.replace("routine", "normal").replace("little", "hardly"),
    ],
    ids=["truncated", "lede_trimmed", "boilerplate", "paragraphs_swapped", "words_edited"],
)
def test_perturbed_copy_is_a_near_duplicate_of_the_first(perturb) -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    verdict = deduplicate(index, article("b", perturb(STORY))).verdict
    assert verdict.kind in ("near", "exact")
    assert verdict.duplicate_of == "a"
    assert (
        verdict.similarity is not None and verdict.similarity >= DedupConfig().duplicate_threshold
    )


def test_repeated_body_is_cleaned_and_then_recognised() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    result = deduplicate(index, article("b", STORY + "\n" + STORY))
    assert result.verdict.repeated_paragraphs_removed == 4
    assert result.verdict.duplicate_of == "a"
    assert result.article.body == STORY


def test_same_words_with_other_figures_is_not_a_duplicate() -> None:
    index = DedupIndex()
    deduplicate(index, article("monday", STORY))
    tuesday = STORY.replace("1.5 billion", "2.25 billion").replace("6-1/8", "6-3/8")
    verdict = deduplicate(index, article("tuesday", tuesday)).verdict
    assert not verdict.is_duplicate


SHIPS = (
    "GRAIN SHIPS LOADING AT PORTLAND\n\n"
    "There were six grain ships loading and six ships were waiting to load at Portland, "
    "according to the Portland Merchants Exchange, which publishes the figures every day."
)


def test_a_template_filed_again_with_one_figure_replaced_is_not_a_duplicate() -> None:
    # "six" still occurs in the new text, so comparing figure values alone
    # would miss the change; the figure's context does not.
    index = DedupIndex()
    deduplicate(index, article("monday", SHIPS))
    tuesday = SHIPS.replace("and six ships", "and eight ships")
    assert not deduplicate(index, article("tuesday", tuesday)).verdict.is_duplicate


def test_a_template_filed_for_the_next_period_is_not_a_duplicate() -> None:
    # Next month's estimate moves this month's figures into the "last month"
    # column: two figures rolled, one changed, every other word the same.
    estimate = (
        "The Agriculture Department forecast Ruritania's 1986/87 barley crop at {0} mln "
        "tonnes, vs {1} mln tonnes last month. It put 1985/86 output at 4.10 mln tonnes, "
        "vs 4.10 mln last month. Barley exports in 1986/87 are forecast at {2} mln "
        "tonnes, vs {3} mln tonnes last month, and imports at 0.20 mln tonnes, vs 0.20 "
        "mln tonnes last month."
    )
    index = DedupIndex()
    deduplicate(index, article("march", estimate.format("6.30", "6.10", "2.50", "2.40")))
    april = deduplicate(index, article("april", estimate.format("6.45", "6.30", "2.50", "2.50")))
    assert april.verdict.kind == "unique"
    # A re-send correcting one figure rolls nothing: still a duplicate.
    resent = estimate.format("6.30", "6.10", "2.50", "2.45")
    fixed = deduplicate(index, article("march-fixed", resent))
    assert fixed.verdict.duplicate_of == "march"


def test_a_month_is_a_figure() -> None:
    text = (
        "Japan bought 5,000 tonnes of Canadian rapeseed overnight at an undisclosed price for "
        "April shipment, trade sources said, adding that more business may follow this week."
    )
    index = DedupIndex()
    deduplicate(index, article("april", text))
    verdict = deduplicate(index, article("may", text.replace("April", "May"))).verdict
    assert not verdict.is_duplicate


def test_an_edit_beside_a_figure_or_a_cut_figure_keeps_the_copy_a_duplicate() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    edited = STORY.replace("arrange 1.5", "report 1.5").replace("at 6-1/8 pct", "at 6-1/8 said")
    assert deduplicate(index, article("b", edited)).verdict.duplicate_of == "a"
    cut = STORY.replace("1.5 billion dlrs of ", "")
    assert deduplicate(index, article("c", cut)).verdict.duplicate_of == "a"


@pytest.mark.parametrize("number", range(20))
def test_a_footer_or_byline_after_or_before_a_figure_at_the_edge_keeps_the_copy_a_duplicate(
    number: int,
) -> None:
    # The figure at either end of the text has no neighbour there; a reprint
    # adds one. Twenty different closing figures, so that no single lucky
    # hash decides it (the masks are 128 bits wide).
    text = STORY.rstrip(".") + f", rated BAA-{number}"
    index = DedupIndex()
    deduplicate(index, article("wire", f"{number} " + text))
    reprint = (
        "By a staff reporter\n\n"
        + f"{number} "
        + text
        + "\n\nSubscribe to our newsletter for more news like this."
    )
    assert deduplicate(index, article("portal", reprint)).verdict.duplicate_of == "wire"


def test_a_marked_correction_may_change_a_figure() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY, headline="FED ADDS RESERVES"))
    corrected = STORY.replace("6-1/8", "6-3/16")
    silent = deduplicate(index, article("b", corrected, headline="FED ADDS RESERVES"))
    assert not silent.verdict.is_duplicate
    index = DedupIndex()
    deduplicate(index, article("a", STORY, headline="FED ADDS RESERVES"))
    marked = deduplicate(index, article("c", corrected, headline="CORRECTED - FED ADDS RESERVES"))
    assert marked.verdict.duplicate_of == "a"


def test_figure_masks_survive_the_index_entry_round_trip() -> None:
    index = DedupIndex()
    entry = deduplicate(index, article("a", SHIPS)).entry
    assert entry is not None and any(entry.figures)
    decoded = codec.record_from_bytes(IndexEntry, codec.to_bytes(entry))
    rebuilt = DedupIndex()
    rebuilt.restore(decoded)
    tuesday = SHIPS.replace("and six ships", "and eight ships")
    assert not deduplicate(rebuilt, article("b", tuesday)).verdict.is_duplicate
    assert deduplicate(rebuilt, article("c", SHIPS + " Reuter")).verdict.duplicate_of == "a"




def test_different_article_is_unique_with_its_own_story() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    verdict = deduplicate(index, article("b", OTHER)).verdict
    assert (verdict.kind, verdict.story_id, verdict.duplicate_of) == ("unique", "b", None)


def test_other_outlet_on_the_same_incident_joins_the_story() -> None:
    first = (
        "Teen charged in fatal shooting of McGavock High School student\n"
        "Metro Nashville Police say Kaemon Robinson, 17, has been charged with reckless homicide "
        "in the death of Kevin Barbee, 15, at an apartment on Burning Tree Drive in Hermitage."
    )
    second = (
        "Hermitage teenager dies after gun goes off at Burning Tree apartment\n"
        "Kevin Barbee, a McGavock freshman, was shot in the head. Detectives charged Kaemon "
        "Robinson after interviewing witnesses; Barbee died at Vanderbilt University Medical Center."
    )
    index = DedupIndex()
    deduplicate(index, article("a", first))
    verdict = deduplicate(index, article("b", second)).verdict
    assert verdict.kind == "unique"
    assert verdict.story_id == "a"


def test_two_incidents_sharing_only_an_age_and_a_year_stay_apart(monkeypatch) -> None:
    # Their story terms share "17-year-old" and "2016" only: a cosine of about
    # 0.24 at full weight, which crime reports reach by chance; counted half,
    # about 0.12, under the story threshold.
    first = (
        "Teen shot on Maple Street\nA 17-year-old was shot on Maple Street in Akron on Friday "
        "night, police said. Officers found him near Buchtel High School in 2016."
    )
    second = (
        "Boy wounded in drive-by\nA 17-year-old boy was wounded in a drive-by on Pine Avenue in "
        "Tulsa, police said. Detectives from the Gilcrease division are looking for a silver "
        "sedan, 2016."
    )
    for share, joined in ((0.5, "b"), (1.0, "a")):  # the share used, and none
        monkeypatch.setattr("pipeline._dedup_story_terms.WEAK_TERM_SHARE", share)
        index = DedupIndex()
        deduplicate(index, article("a", first))
        assert deduplicate(index, article("b", second)).verdict.story_id == joined


def test_a_name_among_the_later_terms_of_a_new_report_still_finds_the_story() -> None:
    # An article posts only its first terms; the new one looks up all of its own.
    from pipeline._dedup_index import _POSTED_TERMS
    from pipeline._dedup_story_terms import story_terms, term_hash

    first = (
        "Zubrowski was arrested in Quillfeather on Monday, deputies said. "
        "Zubrowski, 41, faces charges in the shooting."
    )
    names = ("Abernathy", "Blixen", "Corvalis", "Dunmore", "Estabrook", "Fenwright", "Galloway")
    names += ("Hollister", "Ingersoll")
    second = " ".join(f"{n} spoke. {n} left. {n} returned." for n in names)
    second += " A man named Zubrowski was mentioned."
    shared = term_hash("zubrowski")
    assert story_terms(first)[0].tolist().index(shared) < _POSTED_TERMS
    assert story_terms(second)[0].tolist().index(shared) >= _POSTED_TERMS
    index = DedupIndex(DedupConfig(story_threshold=0.1))  # their cosine is about 0.13
    deduplicate(index, article("a", first))
    verdict = deduplicate(index, article("b", second)).verdict
    assert (verdict.kind, verdict.story_id) == ("unique", "a")


def test_only_rare_later_terms_are_looked_up_for_the_story() -> None:
    from pipeline import _dedup_story_terms as story
    from pipeline._dedup_index import _POSTED_TERMS, _RARE_DF, later_term_keys, term_keys

    rare, common = story.term_hash("zubrowski"), story.term_hash("washington")
    known = story._document_frequencies()
    assert known.get(rare, 0) < _RARE_DF <= known[common]
    terms = np.zeros(STORY_TERMS, np.uint32)
    terms[:_POSTED_TERMS] = np.arange(1, _POSTED_TERMS + 1)  # posted: never looked up again
    terms[_POSTED_TERMS : _POSTED_TERMS + 2] = (common, rare)
    assert later_term_keys(terms.tolist()) == term_keys(np.array([rare], np.uint32)).tolist()
    assert later_term_keys(terms[:_POSTED_TERMS].tolist()) == []


def test_redelivered_article_keeps_its_first_verdict() -> None:
    index = DedupIndex()
    first = deduplicate(index, article("a", STORY))
    again = deduplicate(index, article("a", STORY))
    assert again.verdict.kind == "unique"
    assert again.verdict.story_id == first.verdict.story_id
    assert again.entry == first.entry
    assert len(index) == 1


def test_same_id_with_new_content_replaces_the_entry_and_keeps_the_story() -> None:
    index = DedupIndex()
    deduplicate(index, article("a", STORY))
    result = deduplicate(index, article("a", OTHER))
    assert result.verdict.kind == "unique"
    assert result.verdict.story_id == "a"
    assert len(index) == 1
    assert deduplicate(index, article("b", OTHER)).verdict.duplicate_of == "a"
    assert not deduplicate(index, article("c", STORY)).verdict.is_duplicate


# -- state: persistence, window, memory --------------------------------------


def _stream(count: int, rng: random.Random) -> list[Article]:
    words = (STORY + " " + OTHER).split()
    articles = []
    for n in range(count):
        rng.shuffle(words)
        articles.append(article(f"s{n}", " ".join(words[:80]) + f" figure {n}", hours=n / 100))
    return articles


def test_index_rebuilt_from_persisted_entries_gives_the_same_verdicts() -> None:
    rng = random.Random(4)
    stream = _stream(300, rng)
    live = DedupIndex()
    persisted = [deduplicate(live, a).entry for a in stream]
    restored = DedupIndex()
    for entry in persisted:
        assert entry is not None
        restored.restore(codec.record_from_bytes(IndexEntry, codec.to_bytes(entry)))
    assert len(restored) == len(live) == 300
    probes = [replace(a, id=f"copy-{a.id}", body=a.body.upper()) for a in stream[::7]]
    probes += _stream(20, random.Random(99))
    for probe in probes:
        assert deduplicate(restored, probe).verdict == deduplicate(live, probe).verdict


def test_expire_drops_entries_outside_the_window() -> None:
    index = DedupIndex(DedupConfig(window=timedelta(hours=24)))
    deduplicate(index, article("old", STORY, hours=0))
    deduplicate(index, article("new", OTHER, hours=20))
    assert index.expire(T0 + timedelta(hours=30)) == ["old"]
    assert len(index) == 1
    assert deduplicate(index, article("again", STORY, hours=30)).verdict.kind == "unique"


def test_candidates_outside_the_window_of_article_time_do_not_match() -> None:
    index = DedupIndex(DedupConfig(window=timedelta(hours=24)))
    deduplicate(index, article("old", STORY, hours=0))
    assert not deduplicate(index, article("late", STORY, hours=48)).verdict.is_duplicate


def test_compaction_after_mass_expiry_keeps_the_index_correct() -> None:
    index = DedupIndex(DedupConfig(window=timedelta(hours=1)))
    stream = _stream(3000, random.Random(5))
    for a in stream:
        deduplicate(index, a)
    expired = index.expire(stream[-1].published_at)
    assert len(expired) + len(index) == 3000
    assert len(index) < 200
    survivor = stream[-1]
    copy = replace(survivor, id="copy", body=survivor.body.lower())
    assert deduplicate(index, copy).verdict.duplicate_of == survivor.id
    gone = replace(stream[0], id="gone-copy", published_at=survivor.published_at)
    assert not deduplicate(index, gone).verdict.is_duplicate


def test_memory_bytes_grows_with_the_index() -> None:
    index = DedupIndex()
    empty = index.memory_bytes()
    for a in _stream(500, random.Random(6)):
        deduplicate(index, a)
    assert index.memory_bytes() > empty


def test_postings_find_every_row_under_a_key_merged_pending_or_rebuilt() -> None:
    rng = np.random.default_rng(1)
    keys = salted_keys(rng.integers(0, 500, size=(3000, 3), dtype=np.uint32), 5)
    postings = Postings()
    for row, row_keys in enumerate(keys):  # 9,000 postings: two merges and a pending dict
        postings.add(row_keys.tolist(), row)
    query = keys[[7, 11], 0]
    expected = {row for row, ks in enumerate(keys.tolist()) if set(ks) & set(query.tolist())}
    found = set(postings.lookup(query, per_key=1 << 30).tolist())
    assert expected <= found
    assert len(found) < 3 * len(expected)  # a shared bucket adds a few rows of other keys
    rebuilt = Postings(keys.ravel(), np.repeat(np.arange(3000, dtype=np.uint32), 3))
    assert expected <= set(rebuilt.lookup(query, per_key=1 << 30).tolist())
    newest = max(row for row, ks in enumerate(keys.tolist()) if query[0] in ks)
    for table in (postings, rebuilt):
        assert newest in table.lookup(query[:1], per_key=2).tolist()


def test_postings_keeping_the_newest_rows_answer_lookups_as_a_full_table() -> None:
    # Few distinct keys: buckets far fuller than the 16 rows a lookup reads.
    rng = np.random.default_rng(2)
    keys = salted_keys(rng.integers(0, 40, size=(3000, 3), dtype=np.uint32), 5)
    full, kept = Postings(), Postings(keep_newest=16)
    for row, row_keys in enumerate(keys):
        full.add(row_keys.tolist(), row)
        kept.add(row_keys.tolist(), row)
    rows = np.repeat(np.arange(3000, dtype=np.uint32), 3)
    rebuilt = Postings(keys.ravel(), rows, keep_newest=16)
    assert len(kept) < len(full) and kept.nbytes() < full.nbytes()
    assert kept.crowded() == full.crowded()  # rebuild timing does not depend on dropping
    for query in (keys[[5, 9], 0], keys[[1000], 1], keys[-1]):
        for per_key in (1, 4, 16):
            expected = full.lookup(query, per_key=per_key).tolist()
            assert kept.lookup(query, per_key=per_key).tolist() == expected
            assert rebuilt.lookup(query, per_key=per_key).tolist() == (
                Postings(keys.ravel(), rows).lookup(query, per_key=per_key).tolist()
            )
    with pytest.raises(ValueError):
        kept.lookup(keys[0], per_key=17)


def test_postings_drop_surplus_rows_later_and_answer_lookups_as_a_full_table_meanwhile() -> None:
    # Rows beyond the newest 16 of a bucket wait until a few thousand have
    # piled up: every lookup in between must read what a full table reads.
    rng = np.random.default_rng(9)
    keys = salted_keys(rng.integers(0, 30, size=(12_000, 2), dtype=np.uint32), 5)
    full, kept = Postings(), Postings(keep_newest=16)
    waited = False
    for row, row_keys in enumerate(keys):
        full.add(row_keys.tolist(), row)
        kept.add(row_keys.tolist(), row)
        waited = waited or kept._surplus > 0
        if row % 997 == 0:
            for query in (row_keys, keys[[3, 5], 1]):
                expected = full.lookup(query, per_key=16).tolist()
                assert kept.lookup(query, per_key=16).tolist() == expected
    assert waited and kept._counts.dtype == np.uint8
    assert len(kept) <= 30 * 16 + 4096 + 4096 and kept.nbytes() < full.nbytes()


def test_postings_keep_row_numbers_past_24_bits_and_crowded_bucket_groups() -> None:
    # One key with 70,000 rows (its group's offsets outgrow uint16) and rows
    # beyond 2**24 (the 3-byte row numbers widen).
    rows = np.concatenate(
        (np.arange(70_000, dtype=np.uint32), np.array([1 << 24, (1 << 26) + 5], np.uint32))
    )
    keys = np.full(rows.size, 12345, np.uint32)
    keys[-1] = 0xF000_0000  # another bucket (the top bits pick it)
    table = Postings(keys, rows)
    assert table.rows_of(12345)[-2:] == [69_999, 1 << 24]
    assert (1 << 26) + 5 in table.rows_of(0xF000_0000)
    assert table.lookup(np.array([12345], np.uint32), per_key=2).tolist() == [69_999, 1 << 24]


def test_strings_store_returns_what_was_appended_in_fewer_bytes_than_a_list() -> None:
    from pipeline._dedup_store import Strings

    values = ["", "r1", "Zürich-2026/ü", "", *(f"article-{n:06d}" for n in range(1000))]
    strings = Strings()
    for value in values:
        strings.append(value)
    assert len(strings) == len(values)
    assert [strings[i] for i in range(len(values))] == values
    assert strings[np.uint32(2)] == "Zürich-2026/ü"
    as_list = sys.getsizeof(values) + sum(sys.getsizeof(v) for v in values)
    assert strings.nbytes() < as_list / 3


def test_dedup_modules_import_no_framework_or_environment() -> None:
    banned = {"faust", "aiokafka", "prometheus_client", "asyncio", "os"}
    for path in (ROOT / "pipeline").glob("*dedup*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & banned, path.name


# -- evaluation commands -----------------------------------------------------


def _run_eval(module: str, path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    evaluation = __import__(f"evaluate.{module}", fromlist=["configure", "run"])
    parser = argparse.ArgumentParser()
    evaluation.configure(parser)
    assert evaluation.run(parser.parse_args([str(path)])) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_eval_commands_print_scores_as_the_last_json_line(tmp_path, capsys) -> None:
    pairs = [
        {"id": "dup-1", "text1": STORY, "text2": STORY.upper(), "label": 1},
        {"id": "other-1", "text1": STORY, "text2": OTHER, "label": 0},
        {"id": "dup-2", "text1": OTHER, "text2": STORY, "label": 1},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    result = _run_eval("dedup", path, capsys)
    assert result == {"task": "dedup", "n": 3, "precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert _run_eval("stories", path, capsys)["task"] == "stories"


def test_eval_short_under_scores_pairs_with_a_short_text_apart(tmp_path, capsys) -> None:
    pairs = [
        {"id": "dup-1", "text1": STORY, "text2": STORY.upper(), "label": 1},
        {"id": "dup-2", "text1": STORY, "text2": "Gunman kills two", "label": 1},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    from evaluate import dedup

    parser = argparse.ArgumentParser()
    dedup.configure(parser)
    assert dedup.run(parser.parse_args([str(path), "--short-under", "40"])) == 0
    rows = {line.split("\u2502")[1].strip(): line.split("\u2502")[2:]
            for line in capsys.readouterr().out.splitlines() if line.startswith("\u2502")}
    # n, positive, tp, fp, fn of each group: the short text is the missed copy.
    cells = {group: [c.strip() for c in row[:5]] for group, row in rows.items()}
    assert cells["long>=40"] == ["1", "1", "1", "0", "0"]
    assert cells["short<40"] == ["1", "1", "0", "0", "1"]
    assert cells["all"] == ["2", "2", "1", "0", "1"]


def test_perturbed_reuters_copies_are_found(tmp_path, capsys) -> None:
    if not (EVAL / "reuters21578").is_dir():
        pytest.skip(f"evaluation data not found at {EVAL} (set WIREWATCH_EVAL_DIR)")
    from evaluate import build_dedup_pairs

    rows = build_dedup_pairs.reuters_rows(EVAL)
    pairs = build_dedup_pairs.reuters_pairs(rows, random.Random(11), per_kind=6)
    path = tmp_path / "reuters.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    result = _run_eval("dedup", path, capsys)
    assert result["precision"] == 1.0
    assert result["recall"] == 1.0


def test_a_redelivery_keeps_its_verdict_but_the_same_article_sent_again_is_a_duplicate() -> None:
    from pipeline.dedup import origin_of

    index = DedupIndex()
    story = article(
        "redelivered",
        "Floods in Sindh killed 40 people on Friday, officials "
        "said, as rescuers reached villages cut off by the Indus river.",
    )
    first = deduplicate(index, story, origin_of(0, 7))
    again = deduplicate(index, story, origin_of(0, 7))  # re-read after a crash
    resent = deduplicate(index, story, origin_of(0, 9))  # the feed sent it again
    assert (first.verdict.kind, again.verdict.kind) == ("unique", "unique")
    assert again.verdict.story_id == first.verdict.story_id
    assert (resent.verdict.kind, resent.verdict.duplicate_of) == ("exact", "redelivered")
    assert resent.entry is None and len(index) == 1


def test_verdicts_do_not_depend_on_when_expire_runs() -> None:
    # A restarted worker collects expired ids at other moments than the one it
    # replaces; entries are dropped as the newest article time advances.
    stream = [
        article("first", STORY, hours=0),
        article("later", OTHER, hours=30),
        article("copy-of-first", STORY.upper(), hours=5),  # out of order, outside 24 h
    ]
    eager, lazy = (DedupIndex(DedupConfig(window=timedelta(hours=24))) for _ in range(2))
    verdicts = {}
    for name, index in (("eager", eager), ("lazy", lazy)):
        results = []
        for a in stream:
            if name == "eager":
                index.expire()
            results.append(deduplicate(index, a).verdict.kind)
        verdicts[name] = results
    assert verdicts["eager"] == verdicts["lazy"] == ["unique", "unique", "unique"]


def test_latest_survives_a_restore_and_only_moves_forward() -> None:
    index = DedupIndex()
    assert index.latest is None and index.expire() == []
    entry = deduplicate(index, article("a", STORY, hours=10)).entry
    assert entry is not None
    restored = DedupIndex()
    restored.restore(entry)
    assert restored.latest == T0 + timedelta(hours=10)
    restored.advance(T0)
    assert restored.latest == T0 + timedelta(hours=10)




@pytest.mark.parametrize(("threshold", "ratio"), [(0.6, 0.2), (0.3, 0.1), (0.9, 0.5), (0.6, 1.0)])
def test_rows_with_fewer_equal_minima_than_needed_never_reach_the_threshold(
    threshold: float, ratio: float
) -> None:
    # The duplicate check skips candidates below _matches_needed: none of
    # them may score the threshold, whatever the sizes.
    from pipeline import dedup

    rng = np.random.default_rng(4)
    index = DedupIndex(DedupConfig(duplicate_threshold=threshold, min_size_ratio=ratio))
    ours = rng.integers(0, 1 << 16, 32).astype(np.uint16)
    sizes = np.concatenate(([0, 1, 2], rng.integers(1, 3000, 600)))
    matches = rng.integers(0, 33, sizes.size)
    for n, (size, count) in enumerate(zip(sizes.tolist(), matches.tolist(), strict=True)):
        minhash = ours.copy()
        minhash[rng.choice(32, 32 - count, replace=False)] ^= 1
        entry = IndexEntry(f"r{n}", f"r{n}", f"{n:016x}", T0, size, minhash=tuple(minhash.tolist()))
        index.restore(entry)
    needed = dedup._matches_needed(threshold, ratio)
    rows = np.arange(sizes.size)
    for shingles in (1, 5, 50, 300, 3000):
        probe = dedup._Probe(1, shingles, ours, np.zeros(0, np.uint32), np.zeros(0, np.float32), "")
        overlap = dedup._overlap(index, rows, matches, probe, corrects=True)
        assert not (overlap[matches < needed] >= threshold).any()
    # The bound is tight enough to matter: at the default, 4 of 32 minima can
    # be a duplicate of a much longer text, 3 cannot.
    assert dedup._matches_needed(0.6, 0.2) == 4


def test_cosine_by_binary_search_equals_the_full_term_comparison() -> None:
    from pipeline import dedup

    rng = np.random.default_rng(3)
    index = DedupIndex()
    vocabulary = rng.choice(1 << 20, size=60, replace=False).astype(np.uint32) + 1
    for n in range(50):
        terms = np.zeros(STORY_TERMS, np.uint32)
        terms[:12] = rng.choice(vocabulary, size=12, replace=False)
        weights = np.zeros(STORY_TERMS, np.uint8)
        weights[:12] = rng.integers(1, 256, size=12)
        values = {"terms": terms, "weights": weights, "shingles": 0, "published": 0}
        index._add(f"r{n}", f"r{n}", values | {"minhash": np.zeros(32, np.uint16)})
    ours = rng.choice(vocabulary, size=16, replace=False)
    our_weights = rng.random(16).astype(np.float32)
    rows = np.arange(50)
    columns = index._columns
    stored = columns["weights"][rows].astype(np.float32) / 255
    same = columns["terms"][rows][:, :, None] == ours[None, None, :]
    expected = (stored[:, :, None] * our_weights[None, None, :] * same).sum(axis=(1, 2))
    found = dedup._cosine(columns, rows, ours, our_weights)
    assert np.allclose(found, expected, atol=1e-5)
    assert (expected > 0).sum() > 10  # the test compares real overlaps


def test_an_archive_replayed_after_live_copy_still_finds_its_duplicates() -> None:
    # `wirewatch run` replays an undated seed (stamped now) before a dated story.
    index = DedupIndex()
    assert deduplicate(index, article("live", OTHER, hours=2000)).verdict.kind == "unique"
    deduplicate(index, article("archived", STORY, hours=0))
    copy = deduplicate(index, article("archived-copy", STORY.upper(), hours=1))
    assert (copy.verdict.kind, copy.verdict.duplicate_of) == ("exact", "archived")


def test_entries_are_dropped_when_the_newest_time_passes_an_hour() -> None:
    index = DedupIndex()  # 72 h window: expiry passes an hour apart
    deduplicate(index, article("old", STORY, hours=0))
    deduplicate(index, article("newer", OTHER, hours=72.5))  # hour 72: cutoff 0 h, kept
    assert len(index) == 2 and index.expire() == []
    third = "Copper prices rose in London as Chilean mines reported strikes at two pits."
    deduplicate(index, article("newest", third, hours=73.2))  # hour 73: cutoff 1 h
    assert len(index) == 2 and index.expire() == ["old"]
    assert index.expire() == []


def test_packed_figure_masks_unpack_to_the_same_words_in_fewer_bytes() -> None:
    from pipeline import _dedup_figures as figures

    rng = np.random.default_rng(4)
    compared = figures.KINDS * figures.MASK_BITS
    sizes = {}
    for set_bits, roll_bits in ((0, 0), (1, 0), (24, 0), (24, 7), (59, 0), (60, 0), (300, 9)):
        bits = np.zeros(figures.WORDS * 64, np.uint8)
        bits[rng.choice(compared, set_bits, replace=False)] = 1
        bits[compared + rng.choice(bits.size - compared, roll_bits, replace=False)] = 1
        words = np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)
        packed = figures.pack(words)
        assert figures.unpack(packed).tolist() == words.tolist()
        sizes[set_bits, roll_bits] = len(packed)
    assert sizes[0, 0] == 4 and sizes[24, 0] == 28 and sizes[59, 0] == 63
    assert sizes[24, 7] == 28 + 1 + 7  # roll bits after their lead count
    assert sizes[60, 0] == 65 and sizes[300, 9] == 65 + 1 + 9  # a marker and the raw words


def test_index_keeps_figures_of_restored_and_compacted_rows() -> None:
    words = [3, 1 << 63, 0, 5, 1 << 40, 0, 7, 9, 1 << 12, 0, 0, 1 << 60, 0, 1, 0, 0]
    index = DedupIndex(DedupConfig(window=timedelta(hours=1)))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1100):  # expire enough rows to compact
        entry = IndexEntry(f"r{n}", f"r{n}", f"{n + 1:016x}", start + timedelta(minutes=n))
        if n == 1099:
            entry = replace(entry, figures=tuple(words))
        index.restore(entry)
    index.expire()
    assert len(index) < 1100
    row = index._row_of("r1099")
    assert row is not None and list(index._entry(row, 1099 + 1).figures) == words


def test_cosine_falls_back_when_two_of_our_terms_share_a_table_slot() -> None:
    from pipeline import dedup

    index = DedupIndex()
    # Two of our terms with the same low 12 bits (one table slot).
    ours = np.array([0x1000_0ABC, 0x2000_0ABC, 77], np.uint32)
    our_weights = np.array([0.6, 0.5, 0.3], np.float32)
    for n, stored in enumerate(([0x2000_0ABC, 77], [0x1000_0ABC, 5], [0x3000_0ABC, 9])):
        terms = np.zeros(STORY_TERMS, np.uint32)
        terms[:2] = stored
        weights = np.zeros(STORY_TERMS, np.uint8)
        weights[:2] = [255, 128]
        values = {"terms": terms, "weights": weights, "shingles": 0, "published": 0}
        index._add(f"r{n}", f"r{n}", values | {"minhash": np.zeros(32, np.uint16)})
    found = dedup._cosine(index._columns, np.arange(3), ours, our_weights)
    expected = [0.5 + 0.3 * np.float32(128 / 255), 0.6, 0.0]
    assert np.allclose(found, expected, atol=1e-6)
    # The same rows through the table (no shared slot) agree with a full comparison.
    distinct = np.array([0x1000_0ABC, 77], np.uint32)
    found = dedup._cosine(index._columns, np.arange(3), distinct, our_weights[[0, 2]])
    assert np.allclose(found, [0.3 * np.float32(128 / 255), 0.6, 0.0], atol=1e-6)


def test_postings_bounds_equal_the_running_sum_of_bucket_counts() -> None:
    rng = np.random.default_rng(8)
    keys = rng.integers(0, 1 << 32, size=5000, dtype=np.uint64).astype(np.uint32)
    table = Postings(keys, np.arange(5000, dtype=np.uint32))
    starts = np.concatenate(([0], np.cumsum(table._counts.reshape(-1), dtype=np.int64)))
    buckets = np.concatenate(
        (np.array([0, 63, 64, starts.size - 2]), rng.integers(0, starts.size - 1, 100))
    ).astype(np.intp)
    left, right = table._bounds(buckets)
    assert left.tolist() == starts[buckets].tolist()
    assert right.tolist() == starts[buckets + 1].tolist()
    for key in keys[:50].tolist():
        bucket = key >> (32 - table._bits)
        expected = table._rows_at(np.arange(starts[bucket], starts[bucket + 1])).tolist()
        assert table.rows_of(key) == expected



def test_an_entry_with_more_story_terms_than_kept_restores_its_strongest() -> None:
    from pipeline import _dedup_story_terms as story

    count = story.STORY_TERMS + 2  # written by a version that kept more terms
    terms = tuple(range(1, count + 1))
    weights = tuple(1.0 - n / count for n in range(count))  # strongest first
    when = datetime(2026, 1, 1, tzinfo=UTC)
    index = DedupIndex()
    index.restore(IndexEntry("old", "old", f"{1:016x}", when, terms=terms, weights=weights))
    row = index._row_of("old")
    assert row is not None
    assert index._entry(row, 1).terms == terms[: story.STORY_TERMS]
