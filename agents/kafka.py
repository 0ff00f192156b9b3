"""Plain aiokafka clients built from :class:`~agents.settings.Settings`.

The Faust worker has its own clients (agents/app.py); these are for the
programs around it: topic creation, the replay producer, the alerts tail and
the tests. TLS and SASL settings are passed the same way to both.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from agents.embedded import EMBEDDED_PRODUCER_MAX_BATCH_SIZE
from agents.settings import Settings

log = logging.getLogger(__name__)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL, or None for plaintext."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options shared by every aiokafka client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def producer(settings: Settings, embedded: bool = False, **extra: Any) -> AIOKafkaProducer:
    """A producer; on the embedded broker every record is its own batch (see embedded.py)."""
    options = client_options(settings) | {"acks": "all", "linger_ms": 5}
    if embedded:
        options["max_batch_size"] = EMBEDDED_PRODUCER_MAX_BATCH_SIZE
    return AIOKafkaProducer(**(options | extra))


def consumer(settings: Settings, *topics: str, **extra: Any) -> AIOKafkaConsumer:
    """A consumer of ``topics`` (no group unless ``group_id`` is given)."""
    options = client_options(settings) | {"auto_offset_reset": "earliest", "group_id": None}
    return AIOKafkaConsumer(*topics, **(options | extra))


def max_message_bytes(settings: Settings) -> int:
    """Largest record wirewatch writes: an enriched article at the body limit."""
    return 4 * settings.max_body_bytes + 1024 * 1024


def topic_partitions(settings: Settings) -> dict[str, int]:
    """Every topic wirewatch uses, with its partition count.

    ``articles.valid`` has ONE partition: de-duplication needs one global view
    of what has been seen, and one core de-duplicates thousands of articles a
    second (see README, "Scale out"). Every other stage scales on partitions.
    """
    topics = settings.topics
    counts = {name: settings.partitions for name in topics.all()}
    counts[topics.valid] = 1
    return counts


async def create_topics(settings: Settings, timeout: float = 60.0) -> list[str]:
    """Create wirewatch's topics with explicit partition counts; return the new ones.

    Topics that exist are left as they are. Retries until the broker answers
    or ``timeout`` passes, so a worker may start before its broker.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=10000)
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("broker %s not reachable yet; retrying", settings.broker)
            await asyncio.sleep(1.0)
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=count, replication_factor=settings.replication_factor,
                     topic_configs={"max.message.bytes": str(max_message_bytes(settings))})
            for name, count in topic_partitions(settings).items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:  # another worker won the race
                pass
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def recent_values(settings: Settings, topic: str,
                                 per_partition: int = 10_000) -> list[bytes]:
    """The values of the last ``per_partition`` records of every partition of ``topic``."""
    client = consumer(settings, enable_auto_commit=False)
    await client.start()
    values: list[bytes] = []
    try:
        if topic not in await client.topics():  # also loads the topic's metadata
            return values
        partitions = client.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        client.assign(tps)
        ends = await client.end_offsets(tps)
        starts = await client.beginning_offsets(tps)
        for tp in tps:
            client.seek(tp, max(starts[tp], ends[tp] - per_partition))
        remaining = {tp for tp in tps if ends[tp] > starts[tp]}
        while remaining:
            batches = await client.getmany(*remaining, timeout_ms=1000)
            if not batches:
                break
            for tp, records in batches.items():
                values.extend(r.value for r in records if r.value is not None)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await client.stop()
    return values
