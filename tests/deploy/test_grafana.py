"""deploy/grafana: provisioning files, and every dashboard query checked by promtool.

promtool has no "check this expression" command, so the queries are wrapped
in a generated recording-rule file: `promtool check rules` parses each one
and a PromQL syntax error fails the test with the panel's title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.test_prometheus import metric_names, promtool, referenced_metrics

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "wirewatch.json"
DATASOURCE_UID = "wirewatch-prometheus"
#: Grafana's variables, replaced by something Prometheus accepts in their place.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                     "$instance": ".*"}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels of a collapsed row


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every query target of the dashboard."""
    return [(panel["title"], target["expr"]) for panel in panels(dashboard)
            for target in panel.get("targets", [])]


def as_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def check_as_rules(exprs: list[tuple[str, str]], path: Path) -> Any:
    """Run promtool over ``exprs`` as recording rules named after their position."""
    rules = [{"record": f"panel_query_{index}", "expr": as_promql(expr)}
             for index, (_title, expr) in enumerate(exprs)]
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    return promtool("check", "rules", str(path))


def load() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    exprs = queries(load())
    assert len(exprs) >= 15
    result = check_as_rules(exprs, tmp_path / "dashboard_rules.yml")
    output = result.stdout + result.stderr
    if result.returncode != 0:
        # promtool names the failing rule by its index: map it back to the panel.
        bad = {int(i) for i in re.findall(r"panel_query_(\d+)", output)}
        titles = [exprs[i][0] for i in sorted(bad)]
        raise AssertionError(f"invalid PromQL in {titles}:\n{output}")  # noqa: EM102
    assert f"SUCCESS: {len(exprs)} rules found" in output


def test_the_check_catches_a_syntax_error(tmp_path: Path) -> None:
    broken = [("ok", "sum(rate(wirewatch_articles_total[$__rate_interval]))"),
              ("broken", "sum by (stage (rate(wirewatch_articles_total[$__rate_interval]))")]
    assert check_as_rules(broken, tmp_path / "broken.yml").returncode != 0


def test_panel_queries_use_only_metrics_the_workers_export() -> None:
    exprs = [expr for _title, expr in queries(load())]
    unknown = referenced_metrics(exprs) - metric_names()
    assert not unknown, f"the dashboard uses metrics agents/metrics.py does not define: {unknown}"


def test_dashboard_covers_every_worker_metric() -> None:
    used = referenced_metrics([expr for _title, expr in queries(load())])
    families = {"wirewatch_articles_total", "wirewatch_stage_duration_seconds",
                "wirewatch_end_to_end_latency_seconds", "wirewatch_consumer_lag_messages",
                "wirewatch_dead_letters_total", "wirewatch_stage_retries_total",
                "wirewatch_alerts_total", "wirewatch_entities_extracted_total",
                "wirewatch_casualty_figures_extracted_total", "wirewatch_dedup_index_entries",
                "wirewatch_dedup_index_bytes", "wirewatch_build_info"}
    missing = {f for f in families if not any(name.startswith(f) for name in used)}
    assert not missing, f"no panel shows {missing}"


def test_every_panel_uses_the_provisioned_datasource() -> None:
    dashboard = load()
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
    assert len({panel["id"] for panel in panels(dashboard)}) == len(list(panels(dashboard)))


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(load()):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_provisioning_points_at_the_dashboard_and_a_fixed_uid() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = datasources["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "prometheus"
    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "wirewatch.yml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    variable = load()["templating"]["list"][0]
    assert variable["datasource"]["uid"] == DATASOURCE_UID
