"""README.md is what a newcomer copies: keep it true."""

from __future__ import annotations

import re
from pathlib import Path

from agents.settings import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick_start, flags=re.DOTALL)


def test_the_quick_start_has_exactly_two_commands_run_and_test() -> None:
    commands = _commands()
    assert len(commands) == 2
    assert "wirewatch run" in commands[0]
    assert "test" in commands[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1].strip() in ci.splitlines()


def test_every_setting_is_documented() -> None:
    missing = [name for name, _, _ in Settings.documentation() if f"`{name}`" not in README]
    assert missing == []
