"""deploy/prometheus: the config, the rules and the rules' unit tests, through promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agents.metrics import Metrics

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
#: A metric name in PromQL: wirewatch_* series and wirewatch:* recording rules.
_METRIC = re.compile(r"\bwirewatch[_:][a-zA-Z0-9_:]*")


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool, or skip the test when it is not installed (CI installs it)."""
    exe = shutil.which("promtool")
    if exe is None:
        pytest.skip("promtool not found: install the Debian package `prometheus` "
                    "(scripts/test.sh does)")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)


def metric_names() -> set[str]:
    """Every series name a worker exports, and every recording rule of rules.yml."""
    registry = CollectorRegistry()
    Metrics.create(registry)
    names = {sample.name for family in registry.collect() for sample in family.samples}
    # A labelled metric has no sample until a label set is used, so add the
    # series names each family type exports.
    suffixes = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",),
                "gauge": ("",), "info": ("_info",)}
    for family in registry.collect():
        names |= {f"{family.name}{suffix}" for suffix in suffixes.get(family.type, ())}
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    names |= {rule["record"] for group in rules["groups"] for rule in group["rules"]
              if "record" in rule}
    return names


def referenced_metrics(exprs: list[str]) -> set[str]:
    """The wirewatch metric names used in PromQL expressions."""
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def test_config_is_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", str(PROMETHEUS / "rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(PROMETHEUS / "rules_test.yml"), cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_can_fail(tmp_path: Path) -> None:
    # A rules file whose thresholds moved must fail the same unit tests, so
    # a green `promtool test rules` means the tests check something.
    rules = (PROMETHEUS / "rules.yml").read_text().replace("> 0.05", "> 0.5")
    (tmp_path / "rules.yml").write_text(rules)
    shutil.copy(PROMETHEUS / "rules_test.yml", tmp_path / "rules_test.yml")
    result = promtool("test", "rules", "rules_test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "WirewatchDeadLetterRateHigh" in result.stdout + result.stderr


def test_every_issue_alert_exists_and_is_unit_tested() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]
              if "alert" in rule}
    assert {"WirewatchPipelineStalled", "WirewatchConsumerLagGrowing",
            "WirewatchDeadLetterRateHigh", "WirewatchWorkerDown",
            "WirewatchLatencyP95High"} <= alerts
    tests = yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])
             if case["exp_alerts"]}
    assert alerts <= fired, f"alerts never shown firing in rules_test.yml: {alerts - fired}"


def test_rules_use_only_metrics_the_workers_export() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    unknown = referenced_metrics(exprs) - metric_names()
    assert not unknown, f"rules.yml uses metrics agents/metrics.py does not define: {unknown}"


def test_scrape_config_finds_every_scaled_worker() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "wirewatch")
    # DNS service discovery: one A record per `--scale worker=N` container.
    assert job["dns_sd_configs"] == [
        {"names": ["worker"], "type": "A", "port": 9108, "refresh_interval": "15s"}]


def test_promtool_reports_a_broken_expression(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "x", "expr": "sum by (stage (rate(wirewatch_articles_total[1m]))"}]}]}))
    result = promtool("check", "rules", str(bad))
    assert result.returncode != 0

