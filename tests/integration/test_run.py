"""`wirewatch run`, as a newcomer runs it: embedded broker, seeds replayed, alerts printed."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson


def test_wirewatch_run_prints_the_seed_alerts_and_stops_cleanly(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env["WIREWATCH_METRICS_PORT"] = "0"
    result = subprocess.run(
        [sys.executable, "-m", "agents.cli", "run", "--json", "--exit-after", "75"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    alerts = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_rule = {(a["rule"], a["article_id"]) for a in alerts}
    assert ("mass-casualty", "000_26a858c8e60dbca3") in by_rule, result.stderr[-3000:]
    seed = next(a for a in alerts if a["article_id"] == "000_26a858c8e60dbca3")
    assert "5,000" in seed["summary"] and "SY" in seed["summary"]
    # The demo story, replayed in order: its toll rises twice.
    rises = [a for a in alerts if a["rule"] == "killed-toll-rise"]
    assert len(rises) == 2, [a["summary"] for a in alerts]
    assert "replayed 8 articles" in result.stderr
