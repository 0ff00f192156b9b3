"""``wirewatch worker`` with every metric update made a no-op: the bench's baseline.

``wirewatch bench`` runs this beside the real worker to measure what the
metrics cost the deployed pipeline (issue #7: under 5% of throughput). The
metrics are still created and looked up exactly as in production; only the
updates themselves (``inc``, ``set``, ``observe``, ``info``: locks, bucket
search) do nothing, so the difference between the two runs is their cost.

    python -m bench.no_metrics_worker
"""

from __future__ import annotations

import sys
from typing import Any

from prometheus_client import metrics


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def disable_metric_updates() -> None:
    """Make every update method of prometheus_client's metric types a no-op."""
    for cls, names in ((metrics.Counter, ("inc",)), (metrics.Gauge, ("inc", "dec", "set")),
                       (metrics.Histogram, ("observe",)), (metrics.Info, ("info",))):
        for name in names:
            setattr(cls, name, _nothing)


if __name__ == "__main__":
    disable_metric_updates()
    from agents.cli import main

    sys.exit(main(["worker", *sys.argv[1:]]))
