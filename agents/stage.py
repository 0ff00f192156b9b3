"""How every agent runs its stage function on one event: retry, dead-letter, count.

Agents never die on one record (faust-streaming/faust#175): a retriable
error is retried with a bounded exponential backoff; anything else, including
a bug in a stage function, sends the record to the dead-letter topic with the
stage and the reason, and the agent goes on with the next record.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from agents.app import Context, HeldEvent
from pipeline.codec import to_bytes
from pipeline.errors import PipelineError
from pipeline.records import DeadLetter

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Backoff before each retry of a retriable error; its length bounds the retries.
RETRY_DELAYS = (0.1, 0.5, 2.0)
#: Longest reason kept; a reason never carries the whole record (it may be 10 MB).
MAX_REASON_CHARS = 500
#: Payload bytes a dead letter keeps (base64 makes them 4/3 larger on the wire,
#: which must stay under the producer's 1 MB request limit).
MAX_DEAD_LETTER_PAYLOAD = 512 * 1024


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def reason_of(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, PipelineError):
        text = f"unexpected {type(exc).__name__}: {text}"
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "..."


async def dead_letter(ctx: Context, stage: str, exc: BaseException, payload: bytes | None,
                      event: Any = None) -> None:
    """Publish a DeadLetter for ``payload`` and count it."""
    message = getattr(event, "message", None)
    payload = payload or b""
    record = DeadLetter(
        stage=stage,
        reason=reason_of(exc),
        payload=payload[:MAX_DEAD_LETTER_PAYLOAD],
        failed_at=utcnow(),
        error=type(exc).__name__,
        topic=getattr(message, "topic", None),
        partition=getattr(message, "partition", None),
        offset=getattr(message, "offset", None),
        payload_size=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        payload_truncated=len(payload) > MAX_DEAD_LETTER_PAYLOAD,
    )
    log.warning("%s: dead-lettered %s[%s]@%s: %s", stage, record.topic, record.partition,
                record.offset, record.reason)
    try:
        await ctx.topic(ctx.settings.topics.deadletter).send(value=to_bytes(record))
    except Exception:  # noqa: BLE001 - the agent must outlive a failed dead letter
        log.exception("%s: could not publish the dead letter for %s[%s]@%s", stage,
                      record.topic, record.partition, record.offset)
    ctx.metrics.dead_letters.labels(stage=stage, reason=type(exc).__name__).inc()
    ctx.metrics.stage(stage).outcome("dead_lettered").inc()


async def events_acked_when_done(ctx: Context, stage: str,
                                 stream: Any) -> AsyncIterator[Any]:
    """The events of an agent's ``stream``, each acked only when the agent asks for the next.

    Faust acks the event an agent holds when the agent is stopped, even in the
    middle of sending its output (the stream iterator acks in a ``finally``),
    and the worker then commits it: on SIGTERM that record was lost. Here the
    stream does not ack (``noack``); an event is acked once the loop body has
    finished with it (sent, dead-lettered or skipped), so a stop in between
    leaves it uncommitted, to be processed again by the next worker.

    The event being worked on is kept in ``ctx.held[stage]`` for the stall
    watch (``agents/lag.py``).
    """
    manual = stream.noack()
    task = asyncio.current_task()
    try:
        async for event in manual.events():
            message = event.message
            ctx.held[stage] = HeldEvent(message.topic, message.partition, message.offset,
                                        time.monotonic(), task)
            yield event
            # Reached only when the body asks for the next event; a cancelled
            # body closes this generator at the yield instead.
            await manual.ack(event)
            ctx.held.pop(stage, None)
    finally:
        ctx.held.pop(stage, None)


async def attempt(ctx: Context, stage: str, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call()``, retrying retriable PipelineErrors with a bounded backoff."""
    for delay in (*RETRY_DELAYS, None):
        try:
            return await call()
        except PipelineError as exc:
            if not exc.retriable or delay is None:
                raise
            ctx.metrics.retries.labels(stage=stage).inc()
            log.info("%s: retrying in %.1fs after %s", stage, delay, exc)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def run_one(ctx: Context, stage: str, event: Any, fn: Callable[..., T],
                  *args: Any) -> T | None:
    """Run the synchronous stage function ``fn(*args)`` for ``event``.

    Returns its result, or None after dead-lettering the event.
    """
    async def call() -> T:
        return fn(*args)

    started = time.perf_counter()
    try:
        return await attempt(ctx, stage, call)
    except Exception as exc:  # noqa: BLE001 - any failure must not end the agent
        await dead_letter(ctx, stage, exc, event.value, event)
        return None
    finally:
        ctx.metrics.stage(stage).duration.observe(time.perf_counter() - started)


async def emit(ctx: Context, stage: str, topic: Any, key: bytes, value: bytes,
               event: Any, headers: dict[str, bytes] | None = None) -> bool:
    """Send a stage's output; a record the broker refuses is dead-lettered instead.

    Returns True when sent. Faust raises on a record over the producer's (or
    the broker's) size limit; without this the agent would crash and be
    restarted by its supervisor on the same record.
    """
    try:
        await topic.send(key=key, value=value, headers=headers)
    except (ProducerSendError, KafkaError) as exc:
        await dead_letter(ctx, stage, exc, event.value, event)
        return False
    return True


#: Header naming the articles.raw record an article came from ("partition:offset").
ORIGIN_HEADER = "wirewatch-origin"


def origin_header(event: Any) -> dict[str, bytes]:
    """The header that records where ``event`` was read."""
    return {ORIGIN_HEADER: f"{event.message.partition}:{event.message.offset}".encode()}


def raw_position(event: Any) -> tuple[int, int]:
    """(partition, offset) of the raw record behind ``event``, from its header.

    Falls back to the event's own position for records written without it.
    """
    raw = (event.headers or {}).get(ORIGIN_HEADER)
    if raw:
        partition, _, offset = bytes(raw).decode().partition(":")
        return int(partition), int(offset)
    return event.message.partition, event.message.offset
