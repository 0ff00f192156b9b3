"""The one settings object, read from ``WIREWATCH_*`` environment variables once.

Only ``agents/app.py`` and the CLI call :meth:`Settings.from_env`; everything
else receives a ``Settings`` (or the values it needs) as an argument. Every
invalid variable is reported in one :class:`SettingsError` at start-up.

Example:
    >>> s = Settings.from_env({"WIREWATCH_BROKER": "kafka://localhost:9092"})
    >>> s.broker, s.embedded
    ('kafka://localhost:9092', False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "WIREWATCH_"
#: WIREWATCH_ variables that are not worker settings: the evaluation data folder
#: the tests, benchmarks and evaluation scripts read (their skip messages name it).
NOT_SETTINGS = frozenset({"WIREWATCH_EVAL_DIR"})
DEFAULT_RULES = Path(__file__).resolve().parent.parent / "deploy" / "alert-rules.yaml"


class SettingsError(ValueError):
    """One or more WIREWATCH_* variables are invalid; the message lists each."""


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names, all under one prefix."""

    raw: str
    valid: str
    unique: str
    duplicates: str
    tagged: str
    enriched: str
    alerts: str
    deadletter: str

    @classmethod
    def with_prefix(cls, prefix: str) -> Topics:
        return cls(
            raw=f"{prefix}articles.raw",
            valid=f"{prefix}articles.valid",
            unique=f"{prefix}articles.unique",
            duplicates=f"{prefix}articles.duplicates",
            tagged=f"{prefix}articles.tagged",
            enriched=f"{prefix}articles.enriched",
            alerts=f"{prefix}alerts",
            deadletter=f"{prefix}deadletter",
        )

    def all(self) -> tuple[str, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"not a port number: {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"must be > 0, got {value}")
    return value


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise ValueError(f"must be at most 1, got {text}")
    return value


def _broker(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    urls = [u.strip() for u in text.split(";") if u.strip()]
    for url in urls:
        if "://" not in url:
            raise ValueError(f"expected kafka://host:port, got {url!r}")
        scheme, _, rest = url.partition("://")
        if scheme != "kafka" or not rest:
            raise ValueError(f"expected kafka://host:port, got {url!r}")
    return text


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {text!r}")
        return text

    return parse


def _env(name: str, parse: Callable[[str], Any], doc: str, secret: bool = False) -> Any:
    return {"env": PREFIX + name, "parse": parse, "doc": doc, "secret": secret}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a worker needs, from WIREWATCH_* variables (defaults below)."""

    broker: str = field(default="", metadata=_env(
        "BROKER", _broker, "Kafka bootstrap URL(s), kafka://host:port (';' between several). "
        "Empty: `wirewatch run` starts the embedded Tansu broker."))
    broker_kind: str = field(default="kafka", metadata=_env(
        "BROKER_KIND", _choice("kafka", "tansu"),
        "tansu: the embedded broker's profile (one-record batches); set by `wirewatch run`."))
    app_id: str = field(default="wirewatch", metadata=_env(
        "APP_ID", str, "Faust app id = Kafka consumer group and table-changelog prefix."))
    topic_prefix: str = field(default="wirewatch.", metadata=_env(
        "TOPIC_PREFIX", str, "Prefix of every topic name."))
    partitions: int = field(default=4, metadata=_env(
        "PARTITIONS", _positive_int, "Partitions of the parallel stage topics (the unit of scale)."))
    replication_factor: int = field(default=1, metadata=_env(
        "REPLICATION_FACTOR", _positive_int, "Replication factor for topics wirewatch creates."))
    data_dir: Path = field(default=Path(".wirewatch"), metadata=_env(
        "DATA_DIR", Path, "Worker state directory (Faust tables' local store)."))
    store: str = field(default="memory://", metadata=_env(
        "STORE", _choice("memory://", "rocksdb://"),
        "Table store: memory:// (rebuilt from changelogs at start) or rocksdb://."))
    rules_file: Path = field(default=DEFAULT_RULES, metadata=_env(
        "RULES_FILE", Path, "Alert rules (YAML); reloaded on SIGHUP and when the file changes."))
    dedup_window_hours: float = field(default=72.0, metadata=_env(
        "DEDUP_WINDOW_HOURS", _positive_float, "How long (article time) fingerprints are kept."))
    dedup_story_threshold: float = field(default=0.13, metadata=_env(
        "DEDUP_STORY_THRESHOLD", _fraction,
        "Story-term cosine from which an article joins a story (higher: fewer wrong joins, "
        "more split stories; see README, De-duplication)."))
    story_ttl_hours: float = field(default=168.0, metadata=_env(
        "STORY_TTL_HOURS", _positive_float,
        "Alert state of a story unseen this long (article time) is dropped."))
    max_body_bytes: int = field(default=1024 * 1024, metadata=_env(
        "MAX_BODY_BYTES", _positive_int, "Articles with a larger body are dead-lettered."))
    batch_size: int = field(default=32, metadata=_env(
        "BATCH_SIZE", _positive_int, "Articles per batch in the CPU-heavy stages."))
    batch_timeout: float = field(default=0.05, metadata=_env(
        "BATCH_TIMEOUT", _positive_float, "Seconds a stage waits to fill a batch (latency bound)."))
    entity_workers: int = field(default=1, metadata=_env(
        "ENTITY_WORKERS", _positive_int, "Processes the entity stage runs its model in."))
    fetch_max_wait_ms: int = field(default=0, metadata=_env(
        "FETCH_MAX_WAIT_MS", _non_negative_int,
        "Longest wait of a consumer fetch on a quiet partition, ms (Faust hard-codes 1500). "
        "0 = by broker: 100 on the embedded broker, 10 on Kafka (see Performance)."))
    session_timeout: float = field(default=10.0, metadata=_env(
        "SESSION_TIMEOUT", _positive_float, "Consumer group session timeout, seconds."))
    stall_seconds: float = field(default=60.0, metadata=_env(
        "STALL_SECONDS", _positive_float,
        "A partition with records waiting and no commit this long is logged and fetched "
        "again from its committed offset."))
    metrics_host: str = field(default="127.0.0.1", metadata=_env(
        "METRICS_HOST", str, "Address the /metrics endpoint binds to."))
    metrics_port: int = field(default=9108, metadata=_env(
        "METRICS_PORT", _port, "Port of the /metrics endpoint (0 = pick a free port)."))
    webhook_url: str = field(default="", metadata=_env(
        "WEBHOOK_URL", str, "If set, every alert is POSTed there as JSON."))
    webhook_timeout: float = field(default=5.0, metadata=_env(
        "WEBHOOK_TIMEOUT", _positive_float, "Seconds per webhook attempt."))
    log_level: str = field(default="info", metadata=_env(
        "LOG_LEVEL", _choice("debug", "info", "warning", "error"), "Worker log level."))
    kafka_security_protocol: str = field(default="PLAINTEXT", metadata=_env(
        "KAFKA_SECURITY_PROTOCOL", _choice("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
        "Kafka security protocol."))
    kafka_sasl_mechanism: str = field(default="", metadata=_env(
        "KAFKA_SASL_MECHANISM", _choice("", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
        "SASL mechanism (with SASL_*)."))
    kafka_sasl_username: str = field(default="", metadata=_env(
        "KAFKA_SASL_USERNAME", str, "SASL user name."))
    kafka_sasl_password: str = field(default="", repr=False, metadata=_env(
        "KAFKA_SASL_PASSWORD", str, "SASL password (never logged).", secret=True))
    kafka_ssl_cafile: str = field(default="", metadata=_env(
        "KAFKA_SSL_CAFILE", str, "CA bundle for verifying the brokers (SSL/SASL_SSL)."))
    kafka_ssl_certfile: str = field(default="", metadata=_env(
        "KAFKA_SSL_CERTFILE", str, "Client certificate (mutual TLS)."))
    kafka_ssl_keyfile: str = field(default="", metadata=_env(
        "KAFKA_SSL_KEYFILE", str, "Client key (mutual TLS)."))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read every ``WIREWATCH_*`` variable; report all invalid ones at once."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        known = set()
        for f in dataclasses.fields(cls):
            meta = f.metadata
            known.add(meta["env"])
            if meta["env"] not in env:
                continue
            raw = env[meta["env"]]
            try:
                values[f.name] = meta["parse"](raw)
            except ValueError as exc:
                shown = "<hidden>" if meta["secret"] else repr(raw)
                problems.append(f"{meta['env']}={shown}: {exc}")
        unknown = sorted(k for k in env
                         if k.startswith(PREFIX) and k not in known and k not in NOT_SETTINGS)
        problems.extend(f"{name}: unknown setting (typo?)" for name in unknown)
        if problems:
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
        settings = cls(**values)
        settings._check()
        return settings

    def _check(self) -> None:
        problems = []
        if self.kafka_security_protocol.startswith("SASL") and not self.kafka_sasl_mechanism:
            problems.append("WIREWATCH_KAFKA_SASL_MECHANISM is required with SASL_* protocols")
        if self.kafka_sasl_mechanism and not self.kafka_sasl_username:
            problems.append("WIREWATCH_KAFKA_SASL_USERNAME is required with a SASL mechanism")
        if problems:
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))

    def to_env(self) -> dict[str, str]:
        """Every setting as a WIREWATCH_* variable; ``from_env`` reads it back unchanged."""
        return {f.metadata["env"]: str(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def fetch_wait_ms(self) -> int:
        """The consumer fetch wait to use: the setting, or the broker's default when 0.

        Tansu answers a fetch on a quiet partition only after about half the
        wait, whatever arrives meanwhile, and every fetch costs it time that
        grows with the records in the partition. At 10 ms the fetch polls of
        one worker kept the embedded broker busy until a 20,000-article replay
        all but stopped (6,000 done after 130 s); at 100 ms it finished in
        170 s, and a record still waits at most ~50 ms per stage. Kafka answers
        as soon as data arrives, so there the wait only bounds idle polling.
        """
        if self.fetch_max_wait_ms:
            return self.fetch_max_wait_ms
        return 100 if self.broker_kind == "tansu" else 10

    @property
    def embedded(self) -> bool:
        """True when no broker is configured and the embedded one is to be started."""
        return not self.broker

    @property
    def topics(self) -> Topics:
        return Topics.with_prefix(self.topic_prefix)

    @property
    def bootstrap_servers(self) -> list[str]:
        """host:port list for aiokafka clients."""
        return [url.strip().partition("://")[2] for url in self.broker.split(";") if url.strip()]

    def child_environment(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The environment of a child process that runs with these settings.

        ``inherited`` (the parent's environment) minus its own WIREWATCH_*
        variables, plus every setting of this object.
        """
        return {k: v for k, v in inherited.items() if not k.startswith(PREFIX)} | self.to_env()

    @classmethod
    def documentation(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting: README and --help use it."""
        rows = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else ""
            if f.name == "rules_file":
                default = "deploy/alert-rules.yaml (shipped)"
            rows.append((f.metadata["env"], str(default), f.metadata["doc"]))
        return rows
