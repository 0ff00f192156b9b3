from __future__ import annotations

from pathlib import Path

import pytest

from agents.settings import Settings, SettingsError


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.embedded and settings.metrics_host == "127.0.0.1"
    assert settings.topics.raw == "wirewatch.articles.raw"
    assert settings.rules_file.name == "alert-rules.yaml" and settings.rules_file.exists()


def test_values_are_parsed() -> None:
    settings = Settings.from_env({
        "WIREWATCH_BROKER": "kafka://a:9092;kafka://b:9092", "WIREWATCH_PARTITIONS": "12",
        "WIREWATCH_DATA_DIR": "/var/lib/ww", "WIREWATCH_TOPIC_PREFIX": "news."})
    assert settings.bootstrap_servers == ["a:9092", "b:9092"] and not settings.embedded
    assert settings.partitions == 12 and settings.data_dir == Path("/var/lib/ww")
    assert settings.topics.alerts == "news.alerts"


def test_the_fetch_wait_follows_the_broker_unless_set() -> None:
    kafka = {"WIREWATCH_BROKER": "kafka://a:9092"}
    assert Settings.from_env(kafka).fetch_wait_ms == 10
    assert Settings.from_env(kafka | {"WIREWATCH_BROKER_KIND": "tansu"}).fetch_wait_ms == 100
    assert Settings.from_env(kafka | {"WIREWATCH_BROKER_KIND": "tansu",
                                      "WIREWATCH_FETCH_MAX_WAIT_MS": "25"}).fetch_wait_ms == 25
    with pytest.raises(SettingsError, match="WIREWATCH_FETCH_MAX_WAIT_MS"):
        Settings.from_env({"WIREWATCH_FETCH_MAX_WAIT_MS": "-1"})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WIREWATCH_PARTITIONS": "zero", "WIREWATCH_BROKER": "localhost:9092",
                           "WIREWATCH_METRICS_PORT": "70000", "WIREWATCH_LOGLEVEL": "debug"})
    message = str(caught.value)
    for name in ("WIREWATCH_PARTITIONS", "WIREWATCH_BROKER", "WIREWATCH_METRICS_PORT",
                 "WIREWATCH_LOGLEVEL: unknown setting"):
        assert name in message


def test_the_evaluation_data_folder_is_not_taken_for_a_mistyped_setting() -> None:
    # The tests' skip messages say to set it; the worker then refused to start.
    Settings.from_env({"WIREWATCH_EVAL_DIR": "/data/eval"})


def test_the_sasl_password_is_never_shown() -> None:
    env = {"WIREWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "WIREWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
           "WIREWATCH_KAFKA_SASL_USERNAME": "ww", "WIREWATCH_KAFKA_SASL_PASSWORD": "hunter2"}
    settings = Settings.from_env(env)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env | {"WIREWATCH_KAFKA_SASL_MECHANISM": "hunter2"})
    assert "WIREWATCH_KAFKA_SASL_MECHANISM" in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env | {"WIREWATCH_KAFKA_SASL_USERNAME": ""})
    assert "hunter2" not in str(caught.value)


def test_sasl_needs_a_mechanism() -> None:
    with pytest.raises(SettingsError, match="MECHANISM is required"):
        Settings.from_env({"WIREWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"})


def test_tls_and_sasl_reach_the_kafka_clients() -> None:
    from agents.app import _credentials
    from agents.kafka import client_options

    settings = Settings.from_env({
        "WIREWATCH_BROKER": "kafka://k:9093", "WIREWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "WIREWATCH_KAFKA_SASL_MECHANISM": "PLAIN", "WIREWATCH_KAFKA_SASL_USERNAME": "ww",
        "WIREWATCH_KAFKA_SASL_PASSWORD": "pw"})
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL" and options["ssl_context"] is not None
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("PLAIN", "ww")
    credentials = _credentials(settings)
    assert credentials.username == "ww" and credentials.ssl_context is not None


def test_to_env_round_trips_and_a_child_environment_replaces_the_parents_settings() -> None:
    settings = Settings.from_env({"WIREWATCH_BROKER": "kafka://k:9092",
                                  "WIREWATCH_PARTITIONS": "6", "WIREWATCH_BATCH_TIMEOUT": "0.2",
                                  "WIREWATCH_DATA_DIR": "/tmp/ww"})
    assert Settings.from_env(settings.to_env()) == settings
    child = settings.child_environment({"PATH": "/bin", "WIREWATCH_PARTITIONS": "99"})
    assert child["PATH"] == "/bin" and child["WIREWATCH_PARTITIONS"] == "6"
