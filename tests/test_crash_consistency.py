"""Crash consistency: `docflow run` killed (SIGKILL) at random points over 100 documents.

After a final run, every document ends exactly once in posted / queue / rejected: one postings
row and one CSV line per posted document, one outbox JSON each, no original lost.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli import run_docflow

pytestmark = pytest.mark.slow

DOCFLOW = Path(sys.executable).parent / "docflow"
DOCUMENTS = 100


def _invoice(i: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, invariant=1)
    lines = [
        f"Crashtest Supplies {i % 7} Ltd",
        "12 Dock Road, Leeds",
        "INVOICE",
        f"Invoice number: CT-{5000 + i}",
        "Invoice date: 14/03/2026",
        "Currency: GBP",
        f"Total {100 + i}.00",
    ]
    for n, text in enumerate(lines):
        pdf.drawString(72, 760 - 18 * n, text)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def test_killed_runs_resume_without_loss_or_double_post(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(DOCUMENTS):
        (inbox / f"ct-{i:03d}.pdf").write_bytes(_invoice(i))
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    home = tmp_path / "home"
    env = {**os.environ, "DOCFLOW_HOME": str(home), "DOCFLOW_STABLE_SECONDS": "0"}
    env.pop("DOCFLOW_DATABASE_URL", None)
    rng = random.Random(20261125)
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(
            [str(DOCFLOW), "run", str(inbox)],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(4.0, 16.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    final = run_docflow("run", str(inbox), "--json", env=env, timeout=900)
    assert final.returncode == 0, final.stderr
    assert kills >= 2, "the runs finished before they could be killed: make the corpus bigger"

    engine = sa.create_engine(f"sqlite:///{home / 'docflow.db'}")
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("select id, status from documents")).all())
        postings = [r[0] for r in conn.execute(sa.text("select document_id from postings"))]
        queued = [
            r[0] for r in conn.execute(sa.text("select document_id from queue_items where queue = 'review'"))
        ]
    engine.dispose()
    assert len(statuses) == DOCUMENTS + 1
    assert set(statuses.values()) <= {"posted", "review", "rejected"}, statuses
    posted = sorted(d for d, s in statuses.items() if s == "posted")
    assert sorted(postings) == posted
    assert sorted(queued) == sorted(d for d, s in statuses.items() if s == "review")
    outbox = home / "default" / "outbox"
    assert sorted(p.stem for p in outbox.rglob("*.json")) == posted
    rows = [r["document_id"] for f in (outbox / "batches").glob("*.csv") for r in csv.DictReader(f.open())]
    assert sorted(rows) == posted
    # A copy cut short by the kill stays a hidden ".tmp-" file, never listed nor taken for an original.
    archived = [
        p for p in (home / "default" / "archive").rglob("*") if p.is_file() and not p.name.startswith(".")
    ]
    assert len(archived) == DOCUMENTS + 1
    assert any(s == "rejected" for s in statuses.values())
