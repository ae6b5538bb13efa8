"""Run a child process and take its own resource usage.

``os.wait4`` hands back what that one child used (CPU time, peak memory), which the
process-wide count of children cannot give while other threads run children too or once
earlier children have been waited for. Tesseract's CPU seconds (the re-reading budgets) and
the bench's peak memory of a worker both come from here.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: bytes
    errors: bytes
    """The child's standard error (empty when it went into ``output``)."""
    usage: resource.struct_rusage | None
    """The child's own resource usage (its waited-for children's too); None when the child was
    reaped elsewhere (a host that ignores SIGCHLD) and its usage and status are lost."""
    wall: float
    killed: bool
    """Killed for running longer than its timeout."""

    @property
    def cpu_seconds(self) -> float:
        """User and system CPU seconds; the wall seconds where the usage was lost."""
        if self.usage is None:
            return self.wall
        return self.usage.ru_utime + self.usage.ru_stime


def run_measured(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    merge_errors: bool = False,
) -> Finished:
    """Run ``args`` to its end (or kill it after ``timeout`` seconds) and return its output and
    its own resource usage. Raises ``FileNotFoundError`` when the program is missing."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT if merge_errors else err, env=env,
        )
        lock = threading.Lock()
        state = {"reaped": False, "killed": False}

        def kill() -> None:
            with lock:  # a reaped pid may be another process's by now
                if not state["reaped"]:
                    state["killed"] = True
                    os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout is not None else None
        started = time.perf_counter()
        if timer is not None:
            timer.start()
        usage: resource.struct_rusage | None = None
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored)
            proc.returncode = 0
        finally:
            with lock:
                state["reaped"] = True
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Finished(proc.returncode, out.read(), err.read(), usage, wall, state["killed"])
