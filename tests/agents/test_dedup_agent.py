"""The de-duplication agent's configuration from settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.dedup_agent import dedup_config
from agents.settings import Settings, SettingsError
from pipeline.dedup import DedupConfig


def test_the_stage_takes_its_window_and_story_threshold_from_the_settings() -> None:
    assert dedup_config(Settings.from_env({})) == DedupConfig()
    config = dedup_config(Settings.from_env({
        "WIREWATCH_DEDUP_WINDOW_HOURS": "24", "WIREWATCH_DEDUP_STORY_THRESHOLD": "0.2"}))
    assert config.window == timedelta(hours=24) and config.story_threshold == 0.2


@pytest.mark.parametrize("value", ["0", "1.5", "high"])
def test_a_story_threshold_outside_0_to_1_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="WIREWATCH_DEDUP_STORY_THRESHOLD"):
        Settings.from_env({"WIREWATCH_DEDUP_STORY_THRESHOLD": value})
