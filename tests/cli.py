"""Run the real ``docflow`` command in a test, and never hang the suite on it.

The command runs in its own process group with its output in files, not pipes: Prefect's
temporary server is a child process, and a child that outlived its parent would hold a pipe
open forever. On a timeout the command's every thread is dumped (``faulthandler`` on SIGABRT)
into the failure message, so a hang says where it hung.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DOCFLOW = Path(sys.executable).parent / "docflow"


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def run_docflow(
    *args: str, env: dict[str, str], timeout: float = 900, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [str(DOCFLOW), *args],
            env={**env, "PYTHONFAULTHANDLER": "1"},
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=True,
        )
        try:
            if stdin is not None:
                assert proc.stdin is not None
                proc.stdin.write(stdin)
                proc.stdin.close()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            err.seek(0)
            pytest.fail(
                f"`docflow {' '.join(args)}` did not finish in {timeout:.0f} s; its threads:\n"
                + err.read()[-30000:]
            )
        finally:
            _kill_group(proc.pid, signal.SIGKILL)  # stragglers of a finished command
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
