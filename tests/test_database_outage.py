"""The database is down: `docflow run` stops cleanly (exit 75, one clear line, no traceback),
loses nothing, and a later run with the database back processes everything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_docflow

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "invoices" / "northwind_classic.pdf"


def _run(env: dict[str, str], inbox: Path) -> subprocess.CompletedProcess[str]:
    return run_docflow("run", str(inbox), "--json", env=env, timeout=600)


def test_run_stops_cleanly_and_resumes_later(tmp_path: Path, postgres_url: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / SAMPLE.name)
    env = {
        **os.environ,
        "DOCFLOW_HOME": str(tmp_path / "home"),
        "DOCFLOW_STABLE_SECONDS": "0",
        "DOCFLOW_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/unreachable",
    }
    down = _run(env, inbox)
    assert down.returncode == 75
    assert "database is unavailable" in down.stderr and "Traceback" not in down.stderr
    assert (inbox / SAMPLE.name).exists()

    up = _run({**env, "DOCFLOW_DATABASE_URL": postgres_url}, inbox)
    assert up.returncode == 0, up.stderr
    summary = json.loads(up.stdout)
    assert summary["processed"] == 1 and summary["documents"][0]["file"] == SAMPLE.name
