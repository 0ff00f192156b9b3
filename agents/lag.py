"""The consumer-lag gauge: end offset minus committed offset per assigned partition.

faust-streaming's own sensor has no lag gauge. Every ``LAG_INTERVAL_SECONDS``
a timer asks this worker's consumer for its assignment, the end offsets of
those partitions (one ListOffsets request) and the committed offsets Faust
keeps, and sets ``wirewatch_consumer_lag_messages{topic,partition}``. Label
sets of partitions no longer assigned (after a rebalance) are removed, so a
partition is only ever reported by the worker that owns it and
``sum(wirewatch_consumer_lag_messages)`` over all workers is the group's lag.

The same timer watches for a stalled partition: one with lag whose committed
offset has not moved for ``WIREWATCH_STALL_SECONDS``. That is logged with what
Faust's consumer says of the partition (flow, active, paused, buffered), which
tells a stuck fetch from a stage that stopped taking input, and with the
record each agent holds (and the agent's stack, if it has held it all that
time). If the worker is reading the partition (not paused, as it is while
tables are restored) and no agent is still working on the record at its
committed offset, it is then fetched again from that offset: Faust
commits only a contiguous run of acked offsets, so records that reached no
agent hold the partition back until the worker restarts (a CI run of the kill
-9 test once had a restarted worker sit on one, read but never processed, for
the rest of the run). Fetching again costs some repeats, which the
stages already make harmless (at-least-once, deterministic ids); the rewind
repeats every stall period while the stall lasts.

Example:
    >>> lags = compute_lag({tp: 120}, {tp: 100}, {tp: 0})
    >>> LagGauge(metrics.consumer_lag).update(lags)
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from prometheus_client import Gauge

from agents.app import Context, HeldEvent

log = logging.getLogger(__name__)
LAG_INTERVAL_SECONDS = 5.0
#: Warn once the lag could not be measured this many times in a row.
STALE_AFTER_FAILURES = 6
POSITION_TIMEOUT_SECONDS = 2.0  # aiokafka waits for a partition being reset


class Partition(NamedTuple):
    """A topic-partition (faust's ``TP`` has the same two fields)."""

    topic: str
    partition: int


def compute_lag(end_offsets: Mapping[Any, int | None], committed: Mapping[Any, int | None],
                earliest: Mapping[Any, int | None]) -> dict[Any, int]:
    """Lag per partition: end offset minus committed offset, never negative.

    A partition with no committed offset yet is read from its earliest
    offset (the app resets to ``earliest``), so its whole content is lag.
    A partition whose end offset is unknown is left out.

    Example:
        >>> compute_lag({"a": 10}, {"a": None}, {"a": 4})
        {'a': 6}
    """
    lags: dict[Any, int] = {}
    for tp, end in end_offsets.items():
        if end is None:
            continue
        position = committed.get(tp)
        if position is None:
            position = earliest.get(tp) or 0
        lags[tp] = max(int(end) - int(position), 0)
    return lags


class LagGauge:
    """Sets the lag gauge and removes the label sets of partitions no longer assigned."""

    def __init__(self, gauge: Gauge) -> None:
        """Report into ``gauge`` (labels: topic, partition)."""
        self.gauge = gauge
        self._reported: set[tuple[str, str]] = set()

    def update(self, lags: Mapping[Any, int]) -> None:
        """Report ``lags`` (keyed by anything with ``topic`` and ``partition``).

        Example:
            >>> LagGauge(metrics.consumer_lag).update({Partition("t", 0): 3})
        """
        current = {(tp.topic, str(tp.partition)): lag for tp, lag in lags.items()}
        for topic, partition in self._reported - current.keys():
            self.gauge.remove(topic, partition)
        for (topic, partition), lag in current.items():
            self.gauge.labels(topic=topic, partition=partition).set(lag)
        self._reported = set(current)


class StallWatch:
    """Finds partitions with lag whose committed offset has not moved for a while."""

    def __init__(self, after: float) -> None:
        """Report a partition each time it has been stalled another ``after`` seconds."""
        self.after = after
        self._since: dict[Any, tuple[int | None, float]] = {}

    def update(self, lags: Mapping[Any, int], committed: Mapping[Any, int | None],
               now: float) -> list[Any]:
        """The partitions stalled for ``after`` seconds since they last moved or were reported.

        Example:
            >>> watch = StallWatch(after=60)
            >>> watch.update({tp: 3}, {tp: 10}, now=0.0), watch.update({tp: 3}, {tp: 10}, now=61.0)
            ([], [tp])
        """
        stalled = []
        for tp, lag in lags.items():
            position = committed.get(tp)
            previous = self._since.get(tp)
            if lag == 0 or previous is None or previous[0] != position:
                self._since[tp] = (position, now)
                continue
            if now - previous[1] >= self.after:
                stalled.append(tp)
                self._since[tp] = (position, now)
        for tp in self._since.keys() - lags.keys():
            del self._since[tp]
        return stalled


def consumer_state(consumer: Any, tp: Any) -> str:
    """What a Faust consumer says of one partition: whether it fetches it, and why not."""
    active = getattr(consumer, "_active_partitions", None)
    return (f"flow active {getattr(consumer, 'flow_active', None)}, "
            f"partition active {None if active is None else tp in active}, "
            f"paused {tp in getattr(consumer, '_paused_partitions', ())}, "
            f"buffered {tp in getattr(consumer, '_buffered_partitions', ())}, "
            f"read offset {getattr(consumer, '_read_offset', {}).get(tp)}"
            f"{_ack_state(consumer, tp)}{_fetch_state(consumer, tp)}")


def _ack_state(consumer: Any, tp: Any) -> str:
    # Faust's bookkeeping of what may be committed: the acked offsets waiting
    # for the one before them, the offsets it counts as gaps, and the messages
    # handed to a stream and not acked yet. A hole here is why a commit stalls.
    try:
        acked = sorted(consumer._acked.get(tp, ()))
        gaps = sorted((i.begin, i.end) for i in consumer._gap.get(tp, ()))
        unacked = sorted((m.offset, m.refcount) for m in list(consumer._unacked_messages)
                         if m.tp == tp)
    except Exception:  # noqa: BLE001 - diagnostics only
        return ""
    return (f"; acked {len(acked)} from {acked[:5]}, gaps {gaps[:5]}, "
            f"unacked (offset, refs) {unacked[:5]} of {len(unacked)}")


def _fetch_state(consumer: Any, tp: Any) -> str:
    # aiokafka's own view of the partition (position, reset, pause) lives in
    # the consumer thread; a best-effort read for the warning, never raising.
    try:
        client = consumer._thread._consumer
        state = client._subscription.subscription.assignment.state_value(tp)
        fetched = tp in client._fetcher._records
    except Exception:  # noqa: BLE001 - diagnostics only
        return ""
    if state is None:
        return "; aiokafka: not assigned"
    return (f"; aiokafka: position {state._position}, status {state._status}, "
            f"paused {state._paused}, highwater {state.highwater}, fetched and held {fetched}")


def holders(held: Mapping[str, HeldEvent], tp: Any) -> list[tuple[str, HeldEvent]]:
    """The stages working on a record of ``tp`` (a finished batch task holds nothing)."""
    return [(stage, event) for stage, event in sorted(held.items())
            if (event.topic, event.partition) == (tp.topic, tp.partition)
            and not (event.task is not None and event.task.done())]


def working_on(held: Mapping[str, HeldEvent], tp: Any, offset: int) -> str | None:
    """The stage still working on record ``offset`` of ``tp``, if one is.

    Example:
        >>> working_on({"entities": HeldEvent("unique", 1, 0, 0.0, None)},
        ...            Partition("unique", 1), 0)
        'entities'
    """
    return next((stage for stage, event in holders(held, tp) if event.offset == offset), None)


def held_records(held: Mapping[str, HeldEvent], tp: Any, now: float) -> str:
    """Which agents hold a record of ``tp``, which, and for how long."""
    holding = [f"{stage} holds offset {event.offset} for {now - event.since:.0f} s"
               for stage, event in holders(held, tp)]
    return "; ".join(holding) or "no agent holds a record of it"


def task_stack(task: asyncio.Task[Any]) -> str:
    """Where ``task`` is waiting, as a traceback."""
    out = io.StringIO()
    task.print_stack(limit=30, file=out)
    return out.getvalue()


def resume_offset(committed: int | None) -> int:
    """Where a partition is read from again: its committed offset, its start if none."""
    return committed if committed is not None else 0


async def fetched_past(consumer: Any, tp: Any, start: int) -> bool:
    """Whether ``consumer`` is reading ``tp`` and has fetched records from ``start`` on.

    A partition paused (a worker restoring its tables from their changelogs
    pauses its input for as long as that takes) or not read yet has lost
    nothing: Faust seeks it to its committed offset when it resumes.
    """
    if not getattr(consumer, "flow_active", True) or tp in getattr(
            consumer, "_paused_partitions", ()):
        return False
    read = getattr(consumer, "_read_offset", {}).get(tp)
    if read is not None and read >= start:
        return True
    # Faust's read offset alone can miss a lost record: after a takeover in
    # the scale test it stood at 4 (Faust sets it at its seek to the commit)
    # while the commit stood at 8 and aiokafka's position at 9, with no agent
    # holding a record: offset 8 was fetched and never handed on, and the
    # partition stalled for good. aiokafka's position says what was fetched.
    try:
        position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - unknown: leave the partition alone this period
        return False
    return position is not None and position > start


def input_partitions(assignment: Iterable[Any], topics: Iterable[str]) -> list[Any]:
    """List the assigned partitions of ``topics``, in a stable order.

    Table changelog partitions are assigned too, but Faust never commits
    offsets for them (it reads them to recover state), so they are not lag.
    """
    names = set(topics)
    return sorted((tp for tp in assignment if tp.topic in names),
                  key=lambda tp: (tp.topic, tp.partition))


async def measure_lag(consumer: Any, topics: Iterable[str]) -> dict[Any, int]:
    """Ask a Faust consumer for the lag of its assigned partitions of ``topics``."""
    partitions = input_partitions(consumer.assignment(), topics)
    if not partitions:
        return {}
    end_offsets = await consumer.highwaters(*partitions)
    # Faust's own record of what it committed (set at assignment from the
    # broker, then on every commit): no extra round trip to the coordinator.
    committed = {tp: consumer._committed_offset.get(tp) for tp in partitions}
    missing = [tp for tp in partitions if committed[tp] is None]
    earliest = await consumer.earliest_offsets(*missing) if missing else {}
    return compute_lag(end_offsets, committed, earliest)


def register(ctx: Context) -> Any:
    """Add the timer that keeps ``ctx.metrics.consumer_lag`` current."""
    reporter = LagGauge(ctx.metrics.consumer_lag)
    stalls = StallWatch(after=ctx.settings.stall_seconds)
    topics = [topic.get_topic_name() for topic in ctx.topics.values()]
    failures = [0]

    @ctx.app.timer(LAG_INTERVAL_SECONDS, name="wirewatch.consumer_lag")
    async def report_consumer_lag() -> None:
        try:
            lags = await measure_lag(ctx.app.consumer, topics)
        except Exception as exc:  # noqa: BLE001 - a metrics hiccup must not stop the worker
            # One miss is normal during a rebalance or before the consumer
            # has started; a run of them means the gauge is going stale.
            failures[0] += 1
            level = logging.WARNING if failures[0] == STALE_AFTER_FAILURES else logging.DEBUG
            log.log(level, "consumer lag not measured (%d times in a row): %r",
                    failures[0], exc)
            return
        failures[0] = 0
        reporter.update(lags)
        consumer = ctx.app.consumer
        committed = {tp: consumer._committed_offset.get(tp) for tp in lags}
        now = time.monotonic()
        for tp in stalls.update(lags, committed, now):
            log.warning("%s[%d]: %d records waiting and no commit for %.0f s (%s; %s)",
                        tp.topic, tp.partition, lags[tp], stalls.after,
                        consumer_state(consumer, tp), held_records(ctx.held, tp, now))
            for stage, event in holders(ctx.held, tp):
                if event.task is not None and now - event.since >= stalls.after:
                    log.warning("%s has held %s[%d]@%d for %.0f s, at:\n%s", stage,
                                event.topic, event.partition, event.offset,
                                now - event.since, task_stack(event.task))
            # A stage still at work on the record the commit waits for (the
            # entities pool loading its model in the first half minute, a
            # send waiting on the broker) is slow, not short of a record:
            # fetching again would only queue hundreds of repeats behind it.
            offset = resume_offset(committed[tp])
            busy = working_on(ctx.held, tp, offset)
            if busy is not None:
                log.warning("%s[%d]: not fetched again: %s is still working on offset %d",
                            tp.topic, tp.partition, busy, offset)
                continue
            if not await fetched_past(consumer, tp, offset):
                continue
            try:
                await consumer.seek_wait({tp: offset})
            except Exception as exc:  # noqa: BLE001 - tried again at the next stall period
                log.warning("%s[%d]: could not fetch it again: %r", tp.topic, tp.partition, exc)
                continue
            ctx.metrics.rewinds.labels(topic=tp.topic, partition=str(tp.partition)).inc()
            log.warning("%s[%d]: fetching it again from offset %d", tp.topic, tp.partition,
                        offset)

    return report_consumer_lag
