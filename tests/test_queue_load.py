"""Load: 10,000 queued documents on PostgreSQL, 20 reviewers working through the JSON API of a
real uvicorn server at once. No item is ever claimed twice, and the list keeps answering; its
p95 latency is written to test-artifacts/queue_load.json (a figure to watch, not a timed test).
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select

from core.db import AuditRow, DocumentRow, QueueItemRow, init_db, session_scope, utcnow
from core.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ITEMS = 10_000
REVIEWERS = 20
CLAIMS_EACH = 15
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def loaded_app(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    import uvicorn

    from exceptions_queue.users import add_user
    from exceptions_queue.web import create_app

    engine = init_db(postgres_url)
    now = utcnow()
    docs = [
        {
            "id": f"{i:064x}",
            "client": "acme",
            "source_uri": f"s3://b/acme/inbox/{i}.pdf",
            "inbox": "s3://b/acme/inbox",
            "filename": f"{i}.pdf",
            "size": 1000,
            "status": "review",
            "doc_type": "invoice",
            "received_at": now,
            "updated_at": now,
            "page_count": 1,
            "attempts": 1,
        }
        for i in range(ITEMS)
    ]
    items = [
        {
            "document_id": d["id"],
            "client": "acme",
            "doc_type": "invoice",
            "queue": "review",
            "state": "open",
            "created_at": now,
            "reasons": [
                {
                    "code": "low_confidence",
                    "field": "total_amount",
                    "severity": "error",
                    "message": "Total amount was read with confidence 0.50",
                }
            ],
            "due_at": now,
            "handle_seconds": 0.0,
        }
        for d in docs
    ]
    with session_scope(engine) as session:
        session.execute(insert(DocumentRow), docs)
        session.execute(insert(QueueItemRow), items)
        for n in range(REVIEWERS):
            add_user(session, f"rev{n}", "reviewer", ["acme"], "load-test-password")
    settings = Settings(home=tmp_path / "home", environment="test", database_url=postgres_url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_twenty_reviewers_never_double_claim(loaded_app: str, postgres_url: str) -> None:
    claimed: list[tuple[str, str]] = []
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(REVIEWERS)

    def reviewer(n: int) -> None:
        with httpx.Client(base_url=loaded_app, timeout=60) as http:
            login = http.post("/api/login", json={"username": f"rev{n}", "password": "load-test-password"})
            if login.status_code != 200:
                errors.append(f"rev{n}: login {login.status_code}")
                return
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            start.wait()
            for _ in range(CLAIMS_EACH):
                began = time.perf_counter()
                listing = http.get("/api/queue", params={"limit": 100})
                with lock:
                    latencies.append(time.perf_counter() - began)
                if listing.status_code != 200 or len(listing.json()) != 100:
                    errors.append(f"rev{n}: list {listing.status_code}")
                    return
                got = http.post("/api/queue/claim-next", headers=headers)
                document_id = got.json().get("document_id") if got.status_code == 200 else None
                if document_id is None:
                    errors.append(f"rev{n}: claim {got.status_code} {got.text[:200]}")
                    return
                with lock:
                    claimed.append((document_id, f"rev{n}"))
                done = http.post(
                    f"/api/items/{document_id}/reject", headers=headers, json={"reason": "load test"}
                )
                if done.status_code != 200:
                    errors.append(f"rev{n}: reject {done.status_code} {done.text[:200]}")
                    return

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(REVIEWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]
    ids = [d for d, _ in claimed]
    assert len(ids) == REVIEWERS * CLAIMS_EACH
    assert len(set(ids)) == len(ids), "an item was claimed twice"
    engine = init_db(postgres_url)
    with session_scope(engine) as session:
        done = session.scalar(
            select(func.count()).select_from(QueueItemRow).where(QueueItemRow.state == "done")
        )
        claims = session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "claim"))
    assert done == len(ids) and claims == len(ids)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    ARTIFACTS.mkdir(exist_ok=True)
    figures = {
        "items": ITEMS,
        "reviewers": REVIEWERS,
        "list_requests": len(latencies),
        "list_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "list_p95_ms": round(p95 * 1000, 1),
    }
    (ARTIFACTS / "queue_load.json").write_text(json.dumps(figures, indent=2))
    print(f"\nqueue load: {figures}")
