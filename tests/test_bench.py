"""`docflow bench --quick` end to end: every measure runs and the JSON keeps the contract's shape.

The figures themselves are not asserted (speed is measured by the bench, never by a timed
test); what is asserted is that each measure produced a rate from real work and that the
derived figures agree with the measured ones.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from flows.bench import REPEATS
from tests.cli import run_docflow


@pytest.mark.slow
def test_quick_bench_measures_everything_and_writes_the_contract_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "DOCFLOW_HOME": str(tmp_path / "home")}
    env.pop("DOCFLOW_DATABASE_URL", None)
    proc = run_docflow("bench", "--quick", "--out", str(out), env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())

    scanned = result["scanned"]
    assert scanned["pages"] == 4
    assert len(scanned["tesseract_runs_pages_per_s"]) == REPEATS
    assert scanned["tesseract_pages_per_s"] == max(scanned["tesseract_runs_pages_per_s"]) > 0
    assert scanned["pipeline_pages_per_s"] > 0
    assert scanned["ratio"] == pytest.approx(
        scanned["pipeline_pages_per_s"] / scanned["tesseract_pages_per_s"], abs=0.002
    )
    born = result["born_digital"]
    assert born["documents"] == 40 and born["docs_per_s"] > 0 and born["invoice2data_docs_per_s"] > 0
    assert result["latency_s"] > 0 and result["peak_rss_mb"] > 0
    # the latency document is a new one, taken in and decided (not a copy seen before)
    assert born["latency_outcome"] in ("post", "review")
    cpu = born["cpu_ms_per_doc"]  # 40 PDFs: read in worker processes
    assert cpu["flow_process"] > 0 and cpu["read_workers"] > 0 and cpu["prefect_server"] > 0
    assert "pipeline / limit" in proc.stdout and "results written to" in proc.stdout


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_per_document_counts_this_process_ended_children_and_live_ones() -> None:
    """The bench's CPU split: this process, children that have ended (the read workers), and
    children still running (Prefect's temporary server), each per document."""
    from flows.bench import _children_cpu_seconds, _cpu_ms_per_doc

    live = multiprocessing.get_context("spawn").Process(target=_burn, args=(60.0,))
    live.start()
    try:
        before = (os.times(), _children_cpu_seconds())
        ended = multiprocessing.get_context("spawn").Process(target=_burn, args=(0.4,))
        ended.start()
        ended.join()
        _burn(0.2)
        cpu = _cpu_ms_per_doc(before, documents=10)
    finally:
        live.kill()
        live.join()
    assert cpu["flow_process"] is not None and cpu["flow_process"] >= 15  # 200 ms / 10 documents
    assert cpu["read_workers"] is not None and cpu["read_workers"] >= 35  # 400 ms, and its start
    assert cpu["prefect_server"] is not None and cpu["prefect_server"] > 0


def test_peak_memory_is_the_measured_processs_own_not_an_earlier_childs() -> None:
    """The memory figure is the worker's own peak: a larger child this process ran and waited
    for before (the bench's born-digital part runs several) does not stand in for it, as it did
    with the process-wide count of children."""
    import resource
    import subprocess
    import sys

    from flows.bench import peak_rss_mb

    subprocess.run([sys.executable, "-c", "x = bytearray(400 * 2**20)"], check=True)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 >= 400
    peak = peak_rss_mb([sys.executable, "-c", "x = bytearray(120 * 2**20)"])
    assert 120 <= peak < 300
    with pytest.raises(subprocess.CalledProcessError):
        peak_rss_mb([sys.executable, "-c", "raise SystemExit(3)"])
