"""Bad input, stage faults, crashes and broker outages: nothing lost, nothing let in.

Every test ends with the accounting the service promises: each article sent
is enriched, marked duplicate or dead-lettered (by id), and the worker is
still running.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from agents.embedded import EmbeddedBroker
from agents.settings import Settings
from pipeline.codec import alert_from_bytes, dead_letter_from_bytes, enriched_from_bytes
from pipeline.wire import parse_jsonl
from tests.conftest import require_eval_file
from tests.integration.conftest import (
    group_positions,
    poll_until,
    produce,
    read_topic,
    topic_size,
    wait_committed,
)

GOOD = {"source": "test", "headline": "Flood kills 12 in Dhaka",
        "body": "At least 12 people were killed when floods hit Dhaka, officials said."}


def article(article_id: str, **fields: object) -> bytes:
    return orjson.dumps(GOOD | {"id": article_id} | fields)


async def outcome_ids(settings: Settings) -> dict[str, list[str]]:
    """Article ids on each outcome topic (with repeats, if any)."""
    topics = settings.topics
    enriched = [enriched_from_bytes(m.value).article.id
                for m in await read_topic(settings, topics.enriched, idle=1)]
    duplicates = [enriched_from_bytes(m.value).article.id
                  for m in await read_topic(settings, topics.duplicates, idle=1)]
    dead = []
    for message in await read_topic(settings, topics.deadletter, idle=1):
        letter = dead_letter_from_bytes(message.value)
        try:
            dead.append(orjson.loads(letter.payload)["id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            dead.append(f"<unparseable {letter.offset}>")
    return {"enriched": enriched, "duplicates": duplicates, "dead": dead}


async def wait_accounted(settings: Settings, expected: int, timeout: float) -> int:
    """Wait until the outcome topics hold at least ``expected`` records; return how many."""
    topics = settings.topics

    async def total() -> int:
        return sum([await topic_size(settings, topic)
                    for topic in (topics.enriched, topics.duplicates, topics.deadletter)])

    return await poll_until(total, lambda count: count >= expected, timeout)


async def wait_each_accounted(settings: Settings, sent: list[str],
                              timeout: float) -> dict[str, list[str]]:
    """Outcome ids once every id in ``sent`` is on an outcome topic, or at ``timeout``.

    Counting records is not enough after a crash: ids processed twice inflate
    the count, so it can reach ``len(sent)`` while a few ids are still in flight.
    """
    wanted = set(sent)
    in_flight: list[int] = []

    async def ids_and_missing() -> tuple[dict[str, list[str]], set[str]]:
        ids = await outcome_ids(settings)
        missing = wanted - set(ids["enriched"]) - set(ids["duplicates"]) - set(ids["dead"])
        in_flight.append(len(missing))
        return ids, missing

    ids, _ = await poll_until(ids_and_missing, lambda found: not found[1], timeout, interval=2.0)
    print(f"\n{in_flight[0]} ids were still in flight when the record count was reached; "
          f"{in_flight[-1]} after waiting")
    return ids


def warnings_of(worker, limit: int = 40) -> str:
    """The first WARNING and ERROR lines but dead letters (the log's tail may miss them)."""
    lines = [line[:400] for line in worker.log().splitlines()
             if ("[WARNING]" in line or "[ERROR]" in line) and "dead-lettered" not in line]
    return f"{worker.log_path.name}: " + "\n".join(lines[:limit]) + "\n"


def assert_each_accounted_once(ids: dict[str, list[str]], sent: list[str]) -> None:
    enriched, duplicates, dead = (set(ids[k]) for k in ("enriched", "duplicates", "dead"))
    assert enriched | duplicates | dead == set(sent)
    assert not enriched & duplicates and not enriched & dead and not duplicates & dead


def reuters_payloads(count: int) -> list[bytes]:
    path = require_eval_file("reuters21578/reuters21578.jsonl")
    payloads = []
    with path.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(count)]
    for item in parse_jsonl("".join(lines), str(path)):
        if not isinstance(item, Exception):
            payloads.append(orjson.dumps(item.payload(datetime.now(UTC))))
    return payloads


async def test_bad_input_matrix(settings, start_worker):
    worker = start_worker({"WIREWATCH_MAX_BODY_BYTES": str(1024 * 1024)})
    cases = {
        "not-json": b"{ this is not json",
        "wrong-shape": b"[1, 2, 3]",
        "wrong-types": orjson.dumps({"id": 42, "body": ["x"]}),
        "missing-body": orjson.dumps({"id": "missing-body", "headline": "h"}),
        "empty-body": article("empty-body", body="   "),
        "too-big": article("too-big", body="word " * 300_000),
        "invalid-utf8": b'{"id": "invalid-utf8", "body": "caf\xe9"}',
        "future": article("future", published_at="2999-01-01T00:00:00Z"),
        "year-zero": article("year-zero", published_at="0000-01-01T00:00:00Z"),
        "ten-mb": article("ten-mb", body="x" * 10 * 1024 * 1024),
        "null-value": None,
    }
    accepted = {
        "html": article("html", body="<p>At least <b>12</b> killed&nbsp;in Dhaka\x07.</p>"),
        "same-id-1": article("same-id", body="A bus crash near Lahore killed 9 people."),
        "same-id-2": article("same-id", body="Floods in Sylhet displaced 5,000 families."),
        "null-key": article("null-key", body="A fire in Chittagong injured 14 workers."),
    }
    # Every record has a key but "null-key"; "null-value" is a tombstone (key, no value).
    names = list(cases) + list(accepted)
    await produce(settings, list(cases.values()) + list(accepted.values()),
                  keys=[None if name == "null-key" else name.encode() for name in names])
    letters = [dead_letter_from_bytes(m.value) for m in
               await read_topic(settings, settings.topics.deadletter, expect=len(cases),
                                timeout=120)]
    assert len(letters) == len(cases), [letter.reason for letter in letters]
    assert all(letter.stage == "ingest" and letter.reason for letter in letters)
    reasons = " | ".join(letter.reason for letter in letters)
    for fragment in ("not valid JSON", "expected a JSON object", "must be a string",
                     "missing field 'body'", "empty body", "over the size limit",
                     "out of range", "no value"):
        assert fragment in reasons
    # Payload bytes are kept as they came; a 10 MB body never reaches a log line.
    assert {letter.payload for letter in letters} >= {cases["not-json"], cases["invalid-utf8"]}
    assert "word word word" not in worker.log()
    enriched = [enriched_from_bytes(m.value) for m in
                await read_topic(settings, settings.topics.enriched, expect=4, timeout=120)]
    by_id = Counter(record.article.id for record in enriched)
    assert by_id == {"html": 1, "same-id": 2, "null-key": 1}
    html = next(r for r in enriched if r.article.id == "html")
    assert html.article.body == "At least 12 killed in Dhaka."
    assert worker.alive(), worker.log()[-3000:]


FAULT_PRELUDE = """
import pipeline.casualties as _casualties
from pipeline.errors import TransientError
_real = _casualties.extract_casualties
_attempts = {"n": 0}
def _faulty(text, entities=None):
    if "FAULT-INJECT" in text:
        raise RuntimeError("injected fault")
    if "FLAKY" in text:
        _attempts["n"] += 1
        if _attempts["n"] <= 2:
            raise TransientError("casualties: injected transient failure")
    return _real(text, entities)
_casualties.extract_casualties = _faulty
"""


async def test_a_stage_that_raises_dead_letters_one_record_and_retries_transient_errors(
        settings, start_worker):
    worker = start_worker(prelude=FAULT_PRELUDE)
    await produce(settings, [
        article("before", body="A landslide in Nepal killed 7 villagers."),
        article("faulty", body="FAULT-INJECT: a bridge collapse killed 3 in Peru."),
        article("flaky", body="FLAKY: a mine blast in Chile killed 4 workers."),
        article("after", body="Storms in Manila injured 20 people."),
    ])
    enriched = await read_topic(settings, settings.topics.enriched, expect=3, timeout=120)
    assert sorted(enriched_from_bytes(m.value).article.id for m in enriched) == \
        ["after", "before", "flaky"]
    letters = [dead_letter_from_bytes(m.value) for m in
               await read_topic(settings, settings.topics.deadletter, expect=1, idle=1)]
    assert [(x.stage, x.error) for x in letters] == [("casualties", "RuntimeError")]
    assert "injected fault" in letters[0].reason
    assert "retrying" in worker.log()
    assert worker.alive()


#: Drops the first delivery of the records named DROP inside the ingest agent:
#: taken from the stream, never processed, never acked (what a record handed on
#: and then lost inside Faust looks like to the commit and the stall watch).
DROP_PRELUDE = """
import agents.stage as _stage
_dropped = set()
async def _events_dropping(ctx, stage, stream):
    manual = stream.noack()
    async for event in manual.events():
        name = next((n for n in DROP if n.encode() in (event.value or b"")), None)
        if stage == "ingest" and name is not None and name not in _dropped:
            _dropped.add(name)
            print("test: dropped", name, "at offset", event.message.offset, flush=True)
            continue
        yield event
        await manual.ack(event)
_stage.events_acked_when_done = _events_dropping
"""


# One record: Faust alone would commit over it (agents/app.py, _Consumer).
# Two: Faust's own commit stops at them.
@pytest.mark.parametrize("dropped", [["drop-1"], ["drop-1", "drop-2"]], ids=["one", "two"])
async def test_a_record_no_agent_processed_is_fetched_again(settings, start_worker, dropped):
    names = [f'"{name}"' for name in dropped]
    worker = start_worker({"WIREWATCH_STALL_SECONDS": "10"},
                          prelude=f"DROP = {names!r}\n" + DROP_PRELUDE)
    sent = ["before", "drop-1", "drop-2", "after"]
    await produce(settings, [
        article("before", body="A landslide in Nepal killed 7 villagers."),
        article("drop-1", body="A bridge collapse in Peru killed 3 people on Monday."),
        article("drop-2", body="A mine blast in Chile killed 4 workers, the company said."),
        article("after", body="Storms in Manila injured 20 people overnight."),
    ], partition=0)
    ids = await wait_each_accounted(settings, sent, timeout=180)
    log = worker.log()
    assert log.count("test: dropped") == len(dropped), log[-3000:]
    assert set(ids["enriched"]) == set(sent), (ids, log[-3000:])
    assert "records waiting and no commit for 10 s" in log
    assert "no agent holds a record of it" in log
    assert f"{settings.topics.raw}[0]: fetching it again from offset 1" in log
    assert await wait_committed(settings, settings.topics.raw, timeout=60), \
        await group_positions(settings)
    assert worker.alive()


#: A stalled partition is fetched again after 30 s rather than 60, so that a
#: stall is recovered well inside the 120 s these tests wait for every id.
RECOVER_STALLS_SOON = {"WIREWATCH_STALL_SECONDS": "30"}


async def _replay_kill_restart(settings, start_worker, how: signal.Signals) -> None:
    payloads = reuters_payloads(5000)
    sent = [orjson.loads(p)["id"] for p in payloads]
    first = start_worker(RECOVER_STALLS_SOON, settings_=settings)
    await produce(settings, payloads)
    # Stop the worker once about a fifth has gone through.
    done = await wait_accounted(settings, len(sent) // 5, timeout=240)
    assert done >= len(sent) // 5, f"only {done} accounted\n" + first.log()[-3000:]
    if how == signal.SIGKILL:
        first.kill()
    else:
        assert first.terminate() == 0, first.log()[-3000:]
    second = start_worker(RECOVER_STALLS_SOON, settings_=settings)
    done = await wait_accounted(settings, len(sent), timeout=420)
    assert done >= len(sent), f"only {done} of {len(sent)} accounted\n" + second.log()[-3000:]
    ids = await wait_each_accounted(settings, sent, timeout=120)
    missing = set(sent) - {i for v in ids.values() for i in v}
    assert not missing, (f"{len(missing)} ids never accounted: {sorted(missing)[:20]}\n"
                         + await group_positions(settings) + "\n" + warnings_of(first)
                         + warnings_of(second) + second.log()[-3000:])
    assert_each_accounted_once(ids, sent)
    # Alerts come after the enriched records: read them once the alerts stage
    # has committed all of its input, so the count printed below is complete.
    assert await wait_committed(settings, settings.topics.enriched, timeout=120), \
        await group_positions(settings)
    alert_ids = [alert_from_bytes(m.value).id
                 for m in await read_topic(settings, settings.topics.alerts, idle=1)]
    assert len(alert_ids) == len(set(alert_ids))
    # At-least-once: a batch in flight when the worker stopped is processed
    # again by the next one, so an id may appear twice on a topic, never lost.
    repeats = len(ids["enriched"]) - len(set(ids["enriched"]))
    print(f"\naccounting after {how.name}: sent {len(sent)}, "
          + ", ".join(f"{k} {len(set(v))} ids ({len(v)} records)" for k, v in ids.items())
          + f", alerts {len(alert_ids)}, enriched twice {repeats}, "
          + f"partitions fetched again {(first.log() + second.log()).count('fetching it again')}")
    assert second.alive(), second.log()[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_kill_9_mid_replay_then_restart_accounts_for_every_article(own_broker_settings,
                                                                         start_worker):
    await _replay_kill_restart(own_broker_settings, start_worker, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_sigterm_mid_replay_commits_and_loses_nothing(own_broker_settings, start_worker):
    await _replay_kill_restart(own_broker_settings, start_worker, signal.SIGTERM)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_broker_frozen_for_20_s_mid_replay(tmp_path: Path, start_worker):
    with EmbeddedBroker.start(log_path=tmp_path / "frozen-broker.log") as broker:
        env = {"WIREWATCH_BROKER": broker.url, "WIREWATCH_BROKER_KIND": "tansu",
               "WIREWATCH_APP_ID": "ww-freeze", "WIREWATCH_TOPIC_PREFIX": "freeze.",
               "WIREWATCH_PARTITIONS": "2", "WIREWATCH_DATA_DIR": str(tmp_path / "state"),
               "WIREWATCH_METRICS_PORT": "0"}
        settings = Settings.from_env(env)
        payloads = reuters_payloads(1500)
        sent = [orjson.loads(p)["id"] for p in payloads]
        worker = start_worker(RECOVER_STALLS_SOON, settings_=settings)
        await produce(settings, payloads)
        done = await wait_accounted(settings, len(sent) // 4, timeout=240)
        assert done >= len(sent) // 4, f"only {done} accounted\n" + worker.log()[-3000:]
        broker.pause()
        await asyncio.sleep(20)
        broker.resume()
        done = await wait_accounted(settings, len(sent), timeout=420)
        assert done >= len(sent), f"only {done} of {len(sent)} accounted\n" + worker.log()[-3000:]
        ids = await wait_each_accounted(settings, sent, timeout=120)
        assert_each_accounted_once(ids, sent)
        print(f"\naccounting after a 20 s freeze: sent {len(sent)}, "
              + ", ".join(f"{k} {len(set(v))} ids ({len(v)} records)" for k, v in ids.items()))
        assert worker.alive(), worker.log()[-3000:]
