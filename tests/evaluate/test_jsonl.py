"""The eval commands' JSONL reader: records in file order, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluate._jsonl import EvalInputError, read_records

PAIR = {"id": (str, int), "text1": str, "text2": str, "label": (int, bool)}


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_records_come_in_file_order_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"text": "a"}', "", "  ", '{"text": "b", "extra": 1}')
    assert read_records(path, {"text": str}) == [{"text": "a"}, {"text": "b", "extra": 1}]


def test_halves_number_lines_from_zero_with_blank_lines_counted(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"n": 0}', "", '{"n": 2}', '{"n": 3}')
    assert [r["n"] for r in read_records(path, {}, half="even")] == [0, 2]
    assert [r["n"] for r in read_records(path, {}, half="odd")] == [3]


def test_limit_counts_kept_records(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"n": 0}', '{"n": -1}', '{"n": 2}', '{"n": 3}')
    kept = read_records(path, {"n": int}, limit=2, keep=lambda r: r["n"] >= 0)
    assert [r["n"] for r in kept] == [0, 2]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": 1, "text1": "a", "text2": "b", "label": 1}', "{oops"], ":2: not JSON ("),
        (['["a", "b"]'], ":1: a list, not a JSON object"),
        (['{"id": 1, "text1": "a", "label": 0}'], ':1: no "text2" field (this command reads id, '),
        (['{"id": 1, "text1": "a", "text2": 7, "label": 0}'], ':1: "text2" is an integer, not a '),
        (
            ['{"id": null, "text1": "a", "text2": "b", "label": 0}'],
            ':1: "id" is null, not a string',
        ),
        (
            ['{"id": 1, "text1": "a", "text2": "b", "label": "1"}'],
            ':1: "label" is a string, not an',
        ),
    ],
)
def test_a_bad_record_names_its_line_and_what_is_wrong(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = _file(tmp_path, *lines)
    with pytest.raises(EvalInputError) as error:
        read_records(path, PAIR)
    assert str(error.value).startswith(str(path) + message)


def test_true_and_false_are_not_integers_unless_asked_for(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"killed": true}')
    with pytest.raises(EvalInputError, match='"killed" is true/false, not an integer'):
        read_records(path, {"killed": int})
    assert read_records(path, {"killed": (int, bool)}) == [{"killed": True}]


def test_check_names_the_line_of_the_record_it_rejects(tmp_path: Path) -> None:
    path = _file(tmp_path, '{"label": 1}', '{"label": 2}')
    with pytest.raises(EvalInputError) as error:
        read_records(path, {"label": int}, check=lambda r: None if r["label"] < 2 else "too big")
    assert str(error.value) == f"{path}:2: too big"


def test_a_missing_file_or_a_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match="cannot read .*missing.jsonl: No such file"):
        read_records(tmp_path / "missing.jsonl", {})
    with pytest.raises(EvalInputError, match="cannot read"):
        read_records(tmp_path, {})


def test_text_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(EvalInputError, match="not UTF-8 text"):
        read_records(path, {"text": str})
