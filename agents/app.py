"""Builds the Faust app, its topics and its agents from one :class:`Settings`.

This is the only module that turns settings into a running configuration:
agent modules receive a :class:`Context` and register themselves explicitly
(no autodiscovery, no import-time side effects).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import CollectorRegistry

from agents.embedded import EMBEDDED_PRODUCER_MAX_BATCH_SIZE
from agents.kafka import max_message_bytes, ssl_context, topic_partitions
from agents.metrics import Metrics
from agents.settings import Settings

log = logging.getLogger(__name__)
#: Keys and values are bytes everywhere: pipeline.codec is the only codec, so
#: Faust never guesses a schema (see STYLE.md, principle 4). allow_empty lets
#: a null value reach the agent, which dead-letters it.
RAW_OPTIONS: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
                               "value_serializer": "raw", "allow_empty": True}


def raw_schema() -> faust.Schema:
    """A fresh bytes-in, bytes-out schema (Faust mutates schemas it is given)."""
    return faust.Schema(**RAW_OPTIONS)


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # faust-streaming hard-codes fetch_max_wait_ms=1500 for the worker
        # consumer (faust/transport/drivers/aiokafka.py). A fetch on a quiet
        # partition then waits up to 1.5 s, once per stage: 4.5 s of latency
        # over three stages. aiokafka reads the value when the consumer starts,
        # so setting it on the unstarted consumer is enough.
        consumer._fetch_max_wait_ms = self.app.conf.wirewatch_fetch_max_wait_ms
        return consumer

    async def seek_to_committed(self) -> Mapping[Any, int]:
        """Seek every stream partition to its committed offset, or to its start if it has none.

        Faust seeks back to the committed offsets after a rebalance, dropping
        what was fetched meanwhile; aiokafka's seek skips a partition with no
        committed offset, so a record fetched there during recovery was
        dropped and never read again (seen on the embedded broker: a new
        worker kept position 1 on a partition holding one record, which it
        never processed). With nothing committed, the start is where
        auto_offset_reset="earliest" reads from.
        """
        committed = await super().seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        unread = [tp for tp, offset in committed.items()
                  if not offset and tp.topic not in changelogs]
        if unread:
            await self.call_thread(self._ensure_consumer().seek_to_beginning, *unread)
        return committed

    async def on_start(self) -> None:
        await super().on_start()
        coordinator = getattr(self._consumer, "_coordinator", None)
        if isinstance(coordinator, GroupCoordinator):
            leave_group_from_any_generation(coordinator)


def leave_group_from_any_generation(coordinator: GroupCoordinator) -> None:
    """Make ``coordinator`` send LeaveGroup on close whatever its generation.

    aiokafka leaves the group on close only when ``generation > 0``; Kafka's
    first generation is 1, but Tansu (the embedded broker) numbers the first
    one 0. A worker that joined at generation 0 then stopped without leaving,
    and the worker taking over its partitions waited for the session timeout
    before the group could rebalance. "No generation" is -1 in aiokafka.
    """
    async def maybe_leave_group() -> None:
        if coordinator.generation >= 0 and coordinator._group_instance_id is None:
            request = LeaveGroupRequest(coordinator.group_id, coordinator.member_id)
            try:
                await coordinator._send_req(request)
            except KafkaError as error:
                log.warning("LeaveGroup request failed: %s", error)
            else:
                log.info("LeaveGroup request succeeded (generation %d)", coordinator.generation)
        coordinator.reset_generation()

    coordinator._maybe_leave_group = maybe_leave_group


class _Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, never committing over a record no agent finished.

    Faust commits the run of acked offsets that follows the committed one, but
    lets the run start one offset later (room for a transaction marker) and
    counts offsets its fetch loop saw skipped as done (room for compaction).
    wirewatch's topics have neither, and both let a record be committed
    unprocessed: after a restart Faust's fetch loop was still handing on a
    batch fetched before it sought the partition to its committed offset
    (committed 4590, first record 4593: 4591-4593 counted as a gap, 4590-4592
    dropped as already read when fetched again, 4590 committed over). Here the
    run must start at the committed offset (before any commit, at the lowest
    offset handed on) and a skip is logged, not counted; the partition then
    stalls and the stall watch (``agents/lag.py``) fetches it again. A
    transaction marker on an input topic would stall it for good (README).
    The seek itself now runs with the flow stopped (:meth:`perform_seek`),
    which removes the stale batch behind those skips; the rules above stay as
    the safety net.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The lowest offset handed on per partition, its head until the first commit
        #: (lowest, not first: a batch fetched before a seek back may come first).
        self._lowest_handed: dict[Any, int] = {}
        hand_on = self.callback

        async def hand_on_and_remember(message: Any) -> None:
            lowest = self._lowest_handed.get(message.tp)
            if lowest is None or message.offset < lowest:
                self._lowest_handed[message.tp] = message.offset
            await hand_on(message)

        self.callback = hand_on_and_remember
        #: The read offsets the last seek to the committed offsets set, until the flow resumes.
        self._sought: dict[Any, int | None] = {}

    async def perform_seek(self) -> None:
        """Seek the partitions to their committed offsets with the flow stopped.

        Faust's recovery resumes the stream partitions, seeks them, clears the
        stream queues and resumes the flow, in that order, with the flow
        running all along: its fetch loop went on handing on the rest of a
        batch fetched before the seek, the queue clear dropped those records,
        and when fetched again they were dropped as already read (Faust's read
        offset was past them). The partition then stalled until the stall
        watch fetched it again. Stopped, the fetch loop drops the rest of that
        batch (Faust does the same at the start of a rebalance); the recovery
        resumes the flow once it has cleared the queues.
        """
        was_active = self.flow_active
        self.stop_flow()
        try:
            await super().perform_seek()
        except BaseException:
            if was_active:
                self.resume_flow()
            raise
        # The read offsets Faust has just set from the seek (no await since).
        self._sought = dict(self._read_offset)

    def resume_flow(self) -> None:
        # A record the fetch loop was handing on when the flow stopped sets
        # its read offset after the seek may have set it: set them again from
        # the seek (nothing was handed on since, the flow being stopped).
        self._read_offset.update(self._sought)
        self._sought = {}
        super().resume_flow()

    def _new_offset(self, tp: Any) -> int | None:
        acked = self._acked[tp]
        if acked:
            lowest_acked = min(acked)
            committed = self._committed_offset[tp]
            head = committed if committed is not None else self._lowest_handed.get(tp, lowest_acked)
            if lowest_acked > head:
                return None  # the next record to commit was never finished
        offset: int | None = super()._new_offset(tp)
        if offset is not None:
            self._lowest_handed.pop(tp, None)  # committed from now on
        return offset

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        # Faust's fetch loop reports offsets it saw skipped; see the class docstring.
        log.warning("%s[%d]: offsets %d-%d were skipped by the fetch loop; not counted as "
                    "done", tp.topic, tp.partition, offset_from, offset_to)

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        for tp in revoked:
            self._lowest_handed.pop(tp, None)
            self._sought.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class WirewatchApp(faust.App):
    """faust.App with a consumer whose fetch wait comes from settings."""

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def _credentials(settings: Settings) -> Any:
    if settings.kafka_sasl_mechanism:
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=ssl_context(settings),
        )
    return ssl_context(settings)


@dataclass(frozen=True)
class HeldEvent:
    """The input record an agent is working on, and since when (``time.monotonic()``).

    Kept per stage so that a stalled partition can be explained: an agent still
    holding its record (hung) or none holding it (the record never reached it).
    """

    topic: str
    partition: int
    offset: int
    since: float
    task: asyncio.Task[Any] | None


@dataclass
class Context:
    """What every agent needs: the app, settings, topics, metrics, tables and pools."""

    settings: Settings
    app: faust.App
    metrics: Metrics
    topics: dict[str, faust.TopicT] = field(default_factory=dict)
    executor: Executor | None = None
    held: dict[str, HeldEvent] = field(default_factory=dict)

    def topic(self, name: str) -> faust.TopicT:
        return self.topics[name]


def build_app(settings: Settings, registry: CollectorRegistry | None = None) -> Context:
    """Build the Faust app with every stage agent registered."""
    from agents import (  # explicit registration, in pipeline order
        alerts_agent,
        casualties_agent,
        dedup_agent,
        entities_agent,
        ingest_agent,
        lag,
    )

    embedded = settings.broker_kind == "tansu"
    options: dict[str, Any] = {}
    if embedded:
        # See agents/embedded.py: one record per producer batch, or tables
        # recovered from changelogs on the embedded broker come back short.
        options["producer_max_batch_size"] = EMBEDDED_PRODUCER_MAX_BATCH_SIZE
    app = WirewatchApp(
        settings.app_id,
        broker=settings.broker.split(";"),
        broker_credentials=_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        autodiscover=False,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
        broker_commit_every=100,
        broker_commit_interval=1.0,
        table_cleanup_interval=60.0,
        producer_acks=-1,
        stream_wait_empty=False,
        # Room for an article at the body limit plus its entities and figures;
        # a real Kafka's topics need max.message.bytes at least this large
        # (create_topics sets it on the topics wirewatch creates).
        producer_max_request_size=max_message_bytes(settings),
        consumer_max_fetch_size=max_message_bytes(settings),
        **options,
    )
    app.conf.wirewatch_fetch_max_wait_ms = settings.fetch_wait_ms
    context = Context(settings=settings, app=app,
                      metrics=Metrics.create(registry or CollectorRegistry()))
    for name, partitions in topic_partitions(settings).items():
        context.topics[name] = app.topic(name, partitions=partitions, schema=raw_schema())
    for module in (ingest_agent, dedup_agent, entities_agent, casualties_agent, alerts_agent):
        module.register(context)
    lag.register(context)
    return context
