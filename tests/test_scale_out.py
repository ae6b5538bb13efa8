"""Scale-out: a Prefect server on PostgreSQL, two workers, 50 documents, one worker killed.

Every document must end decided exactly once: posted once (one postings row, one CSV line) or
queued, none lost, none left behind — including the batches the killed worker was holding,
which the watcher hands out again once their dispatch lease expires.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _invoice(i: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, invariant=1)
    lines = [
        f"Vendor {i} Trading Ltd",
        "1 High Street, London",
        "INVOICE",
        f"Invoice number: SO-{1000 + i}",
        "Invoice date: 03/02/2026",
        "Currency: GBP",
        "Subtotal 100.00",
        "VAT 20.00",
        f"Total {120 + i}.00",
    ]
    for n, text in enumerate(lines):
        pdf.drawString(72, 760 - 18 * n, text)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


@pytest.fixture
def prefect_db() -> Iterator[str]:
    _postgres_or_skip()
    name = f"prefect_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg", "+asyncpg") + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_two_workers_one_killed_every_document_once(
    tmp_path: Path, postgres_url: str, prefect_db: str
) -> None:
    port = _free_port()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        # Workers ask for new flow runs every 2 s rather than Prefect's 10: the test waits less
        # between batches, and what it checks (every document once) does not depend on it.
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "DOCFLOW_DATABASE_URL": postgres_url,
        "DOCFLOW_HOME": str(tmp_path / "home"),
        "DOCFLOW_STABLE_SECONDS": "0",
        "DOCFLOW_WORKERS": "1",
        "DOCFLOW_DISPATCH_LEASE_SECONDS": "20",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            _spawn(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env,
                tmp_path / "server.log",
            )
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
                time.sleep(1)
        subprocess.run(
            [str(BIN / "docflow"), "deploy", str(inbox)],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        for i in range(DOCUMENTS):
            (inbox / f"invoice-{i:03d}.pdf").write_bytes(_invoice(i))
        workers = [
            _spawn([str(BIN / "docflow"), "worker", "--limit", "2"], env, tmp_path / f"worker{n}.log")
            for n in range(2)
        ]
        procs += workers
        from core.db import init_db

        engine = init_db(postgres_url)

        def counts() -> dict[str, int]:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("select status, count(*) from documents group by status"))
                return {status: n for status, n in rows}

        def trigger_watch() -> None:
            subprocess.run(
                [str(BIN / "prefect"), "deployment", "run", "docflow-watch/docflow-watch"],
                env=env,
                check=True,
                capture_output=True,
                timeout=60,
            )

        trigger_watch()
        killed = False
        deadline = time.monotonic() + 900
        last_trigger = time.monotonic()
        while True:
            state = counts()
            decided = sum(n for s, n in state.items() if s != "received")
            if not killed and decided >= 8:
                _kill(workers[0])  # mid-run: it holds dispatched batches
                killed = True
            if killed and sum(state.values()) == DOCUMENTS and decided == DOCUMENTS:
                break
            assert time.monotonic() < deadline, (state, (tmp_path / "worker1.log").read_text()[-3000:])
            if time.monotonic() - last_trigger > 25:
                trigger_watch()
                last_trigger = time.monotonic()
            time.sleep(2)
        assert killed
        with engine.connect() as conn:
            posted = conn.execute(sa.text("select count(*) from documents where status='posted'")).scalar()
            postings = conn.execute(
                sa.text("select count(*), count(distinct document_id) from postings")
            ).one()
            open_items = conn.execute(
                sa.text("select count(*), count(distinct document_id) from queue_items where queue='review'")
            ).one()
            review = conn.execute(sa.text("select count(*) from documents where status='review'")).scalar()
        assert postings[0] == postings[1] == posted
        assert open_items[0] == open_items[1] == review
        batches = (tmp_path / "home" / "default" / "outbox" / "batches").glob("*.csv")
        csv_lines = [row["document_id"] for f in batches for row in csv.DictReader(f.open())]
        assert len(csv_lines) == len(set(csv_lines)) == posted
        archived = list((tmp_path / "home" / "default" / "archive").rglob("*.pdf"))
        assert len(archived) == DOCUMENTS
    finally:
        for proc in reversed(procs):
            _kill(proc)
