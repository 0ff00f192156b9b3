"""The alert rule book: loaded at start-up, reloaded when the file changes or on SIGHUP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.alerts_agent import RuleBook
from pipeline.errors import RuleError

ONE = """version: 1
rules:
  - name: deaths
    severity: warning
    when: {category: killed, min: 10}
"""
TWO = ONE + """  - name: kidnaps
    severity: info
    when: {category: kidnapped, min: 1}
"""


def write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_a_changed_file_is_reloaded_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, ONE, 1_000_000)
    book = RuleBook(path)
    assert book.rules.names == ("deaths",)
    assert book.reload() is False
    write(path, TWO, 1_000_100)
    assert book.reload() is True and book.rules.names == ("deaths", "kidnaps")


def test_an_invalid_new_file_keeps_the_old_rules(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "rules.yaml"
    write(path, ONE, 1_000_000)
    book = RuleBook(path)
    write(path, ONE.replace("min: 10", "min: ten"), 1_000_100)
    assert book.reload() is False
    assert book.rules.names == ("deaths",)
    assert "rule 'deaths'" in caplog.text and "when.min" in caplog.text


def test_sighup_forces_a_reload_even_without_a_new_mtime(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, ONE, 1_000_000)
    book = RuleBook(path)
    write(path, TWO, 1_000_000)
    assert book.reload() is False and book.reload(force=True) is True


def test_a_bad_file_at_start_up_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="not found"):
        RuleBook(tmp_path / "missing.yaml")
    path = tmp_path / "rules.yaml"
    path.write_text(ONE.replace("severity: warning", "severity: loud"))
    with pytest.raises(RuleError, match="rules.yaml: rule 'deaths': field 'severity'"):
        RuleBook(path)
