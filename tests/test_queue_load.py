"""Load: 10,000 queued documents on PostgreSQL, 20 reviewers listing, claiming and resolving
through the JSON API of a real uvicorn server at once (``docflow bench``'s queue part, on a
throw-away database). No item is ever claimed twice, every claim is audited and resolved.
The latencies are figures for ``docflow bench`` to print, not assertions."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from flows.bench import bench_queue

pytestmark = pytest.mark.slow


@pytest.mark.postgres
def test_twenty_reviewers_never_double_claim(postgres_url: str, settings: Settings) -> None:
    result = bench_queue(settings, postgres_url, items=10_000, reviewers=20, claims_each=15, say=print)
    assert result["errors"] == []
    assert result["claims"] == 20 * 15
    assert result["double_claims"] == 0, "an item was claimed twice"
    assert result["resolved"] == result["claims"] == result["claims_audited"]
    assert result["list_p95_ms"] > 0


def test_sqlite_queue_holds_under_concurrent_reviewers(tmp_path: Path, settings: Settings) -> None:
    """The embedded default has no row locks: the claim's compare-and-set must hold alone."""
    db = f"sqlite:///{tmp_path / 'queue.db'}"
    result = bench_queue(settings, db, items=300, reviewers=8, claims_each=10, say=print)
    assert result["errors"] == []
    assert result["double_claims"] == 0 and result["claims"] == 80
    assert result["resolved"] == result["claims_audited"] == 80
