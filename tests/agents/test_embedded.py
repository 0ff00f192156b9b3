"""A model process dies with its parent, even a parent killed while the child was starting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

# The parent starts a child that takes 2 s to reach die_with_parent (as a
# model process takes seconds to import its way to the pool initializer),
# writes the child's pid to a file and dies at once, as kill -9 would leave it.
PARENT = textwrap.dedent(
    """
    import multiprocessing, os, sys, time

    def child(delay):
        time.sleep(delay)
        from agents.embedded import die_with_parent
        die_with_parent()
        time.sleep(60)  # a model process waiting for work

    if __name__ == "__main__":
        process = multiprocessing.get_context("spawn").Process(target=child, args=(DELAY,))
        process.start()
        with open(sys.argv[1], "w") as out:
            out.write(str(process.pid))
        if DELAY == 0:
            time.sleep(1)  # the child has set its signal: then die
        os._exit(0)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("delay", [0, 2])
def test_a_child_does_not_outlive_its_parent(tmp_path, delay: int) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT.replace("DELAY", str(delay)), encoding="utf-8")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # No pipe to the parent: the child would hold it open.
    subprocess.run(
        [sys.executable, str(script), str(tmp_path / "pid")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        cwd=root,
        env=os.environ | {"PYTHONPATH": root},
        check=True,
    )
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + delay + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(pid)
    if alive:
        os.kill(pid, 9)
    assert not alive, f"child {pid} outlived its parent (delay {delay} s)"
