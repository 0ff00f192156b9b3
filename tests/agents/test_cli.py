from __future__ import annotations

import subprocess
import sys

import pytest

from agents.cli import build_parser, main

COMMANDS = ["run", "worker", "replay", "alerts", "eval", "status", "bench", "settings"]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exit_:
            build_parser(load_eval=True).parse_args([command, "--help"])
        assert exit_.value.code == 0
        assert "usage: wirewatch" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["bogus"], ["replay"], ["replay", "--rate", "-3", "x.txt"],
                                  ["alerts", "--since", "yesterday-ish"], []])
def test_bad_options_exit_2_with_a_message(argv: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_worker_without_a_broker_says_what_to_do(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIREWATCH_BROKER", raising=False)
    assert main(["worker"]) == 2
    assert "needs a broker" in capsys.readouterr().err


def test_invalid_settings_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "agents.cli", "settings"],
                            env={"WIREWATCH_PARTITIONS": "-1", "PATH": ""},
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "WIREWATCH_PARTITIONS" in result.stderr


def test_settings_lists_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    assert capsys.readouterr().out.count("WIREWATCH_") >= 25


def test_an_invalid_rule_file_stops_the_worker_with_its_message(tmp_path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules:\n  - name: x\n    severity: loud\n"
                     "    when: {category: killed}\n")
    # A broker that is not there: the rule file is checked before anything connects.
    result = subprocess.run(
        [sys.executable, "-m", "agents.cli", "worker"], capture_output=True, text=True,
        check=False, timeout=120,
        env={"WIREWATCH_BROKER": "kafka://127.0.0.1:9", "WIREWATCH_RULES_FILE": str(rules),
             "PATH": ""})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "rule 'x': field 'severity'" in result.stderr


@pytest.mark.parametrize(
    ("task", "line", "message"),
    [
        ("dedup", '{"id": "p", "text1": "a"}', 'data.jsonl:1: no "text2" field'),
        ("stories", '{"id": "p", "text1": "a", "text2": "b", "label": 3}', '"label" is 3, not 0'),
        ("geo", '{"text": "In Idlib."}', 'data.jsonl:1: no "country" field'),
        ("casualties", "not json", "data.jsonl:1: not JSON"),
        ("entities", '{"tokens": ["Paris"], "tags": []}', "1 tokens but 0 tags"),
    ],
)
def test_eval_of_a_bad_file_exits_2_naming_the_line(
    task: str, line: str, message: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert main(["eval", task, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wirewatch eval {task}: ") and message in err
    assert "Traceback" not in err


def test_eval_of_a_missing_file_exits_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "geo", str(tmp_path / "nowhere.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
