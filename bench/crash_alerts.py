"""Alerts after a kill -9 against an uninterrupted run of the same 5,000 Reuters articles.

A diagnostic, not a test: on one embedded broker, replays the articles through
a worker that is killed with -9 after 1,000 outcomes and restarted, then
through a fresh worker that is left alone, and prints the alert counts, the
(rule, article) pairs only one run raised, and how many articles got another
story id. Needs ../shared/eval (or WIREWATCH_EVAL_DIR). About 5 minutes.

    python -m bench.crash_alerts [--partitions N] [--no-kill]

With ``--partitions 1`` the dedup stage sees the articles in the same order in
both runs, so any difference is the crash's doing; with more, the order in
which the input partitions interleave differs from run to run as well.
``--no-kill`` leaves the first worker alone too: two uninterrupted runs, to
see what the interleaving alone changes.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from agents import kafka
from agents.embedded import EmbeddedBroker, orphan_safe
from agents.settings import Settings
from pipeline.codec import alert_from_bytes, enriched_from_bytes
from tests.conftest import eval_dir
from tests.integration.conftest import produce, read_topic
from tests.integration.test_reliability import reuters_payloads, wait_accounted

REPO = Path(__file__).resolve().parents[1]
work = Path(os.environ.get("TMPDIR", "/tmp")) / f"wirewatch-crash-alerts-{uuid.uuid4().hex[:6]}"


def start(settings, n):
    env = settings.child_environment(os.environ) | {"PYTHONUNBUFFERED": "1"}
    out = open(work / f"w{n}.log", "wb")  # noqa: SIM115 - the child process writes it
    return subprocess.Popen(
        orphan_safe([sys.executable, "-m", "agents.cli", "worker"]),
        env=env,
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


async def alerts_of(settings):
    return [
        alert_from_bytes(m.value)
        for m in await read_topic(settings, settings.topics.alerts, idle=2)
    ]


async def stories_of(settings):
    out = {}
    for t in (settings.topics.enriched, settings.topics.duplicates):
        for m in await read_topic(settings, t, idle=1):
            r = enriched_from_bytes(m.value)
            out[r.article.id] = r.story_id
    return out


async def main(partitions: int, kill: bool):
    if not (eval_dir() / "reuters21578" / "reuters21578.jsonl").exists():
        print(f"crash_alerts: skipped: no Reuters file under {eval_dir()}", file=sys.stderr)
        return
    work.mkdir(parents=True)
    payloads = reuters_payloads(5000)
    with EmbeddedBroker.start(log_path=work / "broker.log") as broker:
        res = {}
        for mode in ("kill", "clean"):
            run = uuid.uuid4().hex[:6]
            s = Settings.from_env(
                {
                    "WIREWATCH_BROKER": broker.url,
                    "WIREWATCH_BROKER_KIND": "tansu",
                    "WIREWATCH_APP_ID": f"cmp-{mode}-{run}",
                    "WIREWATCH_TOPIC_PREFIX": f"{mode}{run}.",
                    "WIREWATCH_PARTITIONS": str(partitions),
                    "WIREWATCH_DATA_DIR": str(work / f"state-{run}"),
                    "WIREWATCH_METRICS_PORT": "0",
                    "WIREWATCH_BATCH_TIMEOUT": "0.05",
                }
            )
            await kafka.create_topics(s)
            w = start(s, mode + "1")
            await produce(s, payloads)
            if mode == "kill" and kill:
                await wait_accounted(s, 1000, 300)
                w.send_signal(signal.SIGKILL)
                w.wait()
                w = start(s, mode + "2")
            await wait_accounted(s, 5000, 600)
            await asyncio.sleep(5)
            res[mode] = (await alerts_of(s), await stories_of(s))
            w.terminate()
            w.wait(60)
        (ka, ks), (ca, cs) = res["kill"], res["clean"]
        key = lambda a: (a.rule, a.article_id)
        first = "kill" if kill else "first"
        print("alerts", first, len(ka), "clean", len(ca))
        print(f"only in the {first} run:", sorted(set(map(key, ka)) - set(map(key, ca))))
        print("only in the clean run:", sorted(set(map(key, ca)) - set(map(key, ka))))
        diff = [i for i in cs if ks.get(i) != cs[i]]
        print("articles with another story id:", len(diff), diff[:10])


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--partitions", type=int, default=2, help="partitions per topic (default 2)")
parser.add_argument("--no-kill", action="store_true", help="do not kill the first worker")
options = parser.parse_args()
asyncio.run(main(options.partitions, not options.no_kill))
