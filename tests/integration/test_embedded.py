"""The embedded broker binds to loopback and never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from agents.embedded import EmbeddedBroker

STARTER = """
from agents.embedded import EmbeddedBroker
broker = EmbeddedBroker.start()
print(broker.process.pid, broker.port, flush=True)
import time; time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read().lower()
    except OSError:
        return False


def test_the_broker_dies_when_its_parent_is_killed_with_minus_9() -> None:
    parent = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    with parent:
        broker_pid, _port = map(int, parent.stdout.readline().split())  # type: ignore[union-attr]
        assert _alive(broker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(broker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(broker_pid)


def test_it_listens_on_loopback_only() -> None:
    with EmbeddedBroker.start() as broker:
        with open("/proc/net/tcp") as table:
            listening = table.read().splitlines()[1:]
        ours = [line for line in listening if f":{broker.port:04X} " in line and " 0A " in line]
        assert ours and all(line.split()[1].startswith("0100007F:") for line in ours)
    assert broker.process.poll() is not None
