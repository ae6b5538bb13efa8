"""Finalizing a chunk of decided documents in one transaction: all of it or none of it."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import pipeline.finalize as finalize_mod
from billing.costs import load_usage
from core.db import DocumentRow, PostingRow, QueueItemRow, init_db, session_scope
from core.models import Status
from core.settings import Settings
from pipeline import intake
from pipeline.analyse import Analysis, DocInput, analyse_batch
from pipeline.finalize import finalize_chunk
from storage.areas import areas_for

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "invoices"


def _decided(settings: Settings, tmp_path: Path, count: int) -> tuple[Engine, list[Analysis]]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in sorted(SAMPLES.glob("*.pdf"))[:count]:
        shutil.copy(path, inbox / path.name)
    engine = init_db(settings.db_url)
    areas = areas_for(str(inbox), "default", settings)
    objs = intake.candidates(areas, settings.model_copy(update={"stable_seconds": 0.0}))
    taken = intake.take_many(objs, areas, engine, "default", str(inbox), tmp_path / "spool")
    assert len(taken) == count and all(t.new for t in taken)
    docs = [DocInput(t.document_id, inbox / t.key, t.key) for t in taken]
    return engine, analyse_batch(docs, settings)


def _counts(engine: Engine) -> tuple[list[str], int, int]:
    with session_scope(engine) as session:
        statuses = sorted(session.scalars(select(DocumentRow.status)))
        postings = session.scalar(select(func.count()).select_from(PostingRow)) or 0
        queued = session.scalar(select(func.count()).select_from(QueueItemRow)) or 0
    return statuses, postings, queued


def test_a_failure_mid_chunk_leaves_every_document_received_and_the_retry_finishes_each_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, analyses = _decided(settings, tmp_path, 4)
    outcomes = sorted(a.outcome.value for a in analyses)
    real = finalize_mod._record_costs
    calls = []

    def fail_on_the_last(*args: Any) -> None:
        calls.append(1)
        if len(calls) == len(analyses):
            raise OSError("disk full")
        real(*args)

    monkeypatch.setattr(finalize_mod, "_record_costs", fail_on_the_last)
    with pytest.raises(OSError):
        finalize_chunk(engine, settings, analyses, tmp_path / "spool")
    assert _counts(engine) == ([Status.RECEIVED.value] * 4, 0, 0)

    monkeypatch.setattr(finalize_mod, "_record_costs", real)
    results = finalize_chunk(engine, settings, analyses, tmp_path / "spool")
    assert sorted(r.outcome for r in results) == outcomes
    after = _counts(engine)
    assert Status.RECEIVED.value not in after[0]
    assert after[1] == outcomes.count("post") and after[2] >= outcomes.count("review")

    again = finalize_chunk(engine, settings, analyses, tmp_path / "spool")
    assert [r.outcome for r in again] == [r.outcome for r in results]
    assert _counts(engine) == after


def test_the_chunks_queue_items_are_looked_up_once_and_a_done_item_is_reopened(
    settings: Settings, tmp_path: Path
) -> None:
    """Documents going to review: one query for the chunk's queue items, not one each; a
    document that comes back (reprocessed) reopens its done item instead of adding one."""
    from sqlalchemy import event

    from core.models import Outcome

    engine, analyses = _decided(settings, tmp_path, 4)
    for analysis in analyses:
        assert analysis.decision is not None
        analysis.decision.outcome = Outcome.REVIEW
    first = analyses[0].document_id
    with session_scope(engine) as session:  # reviewed and done in an earlier run
        session.add(QueueItemRow(document_id=first, client="default", state="done", queue="review",
                                 handle_seconds=0.0, resolution="rejected"))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))
    finalize_chunk(engine, settings, analyses, tmp_path / "spool")
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "queue_items" in s]
    assert len(selects) == 1, selects
    with session_scope(engine) as session:
        items = {i.document_id: i for i in session.scalars(select(QueueItemRow))}
    assert len(items) == 4 and {i.state for i in items.values()} == {"open"}
    assert items[first].resolution is None  # reopened


def test_the_cascades_seconds_are_billed_once(settings: Settings, tmp_path: Path) -> None:
    """A document's OCR seconds hold its cascade's re-readings; the ledger bills those once,
    as ``ocr_cascade``, and the rest as OCR (they had been billed twice)."""
    engine, analyses = _decided(settings, tmp_path, 1)
    (analysis,) = analyses
    assert analysis.extraction is not None
    analysis.seconds = {"ocr": 5.0, "other": 1.0}
    stats = {**analysis.extraction.stats, "cascade_seconds": 2.0}
    analysis.extraction = analysis.extraction.model_copy(update={"stats": stats})
    finalize_chunk(engine, settings, analyses, tmp_path / "spool")
    with session_scope(engine) as session:
        usage = load_usage(session, "default", select(DocumentRow.id))[analysis.document_id]
    assert usage.cpu_seconds == Decimal(6)
    assert usage.cpu_seconds_by_stage == {
        "ocr": Decimal(3), "ocr_cascade": Decimal(2), "extract_validate": Decimal(1)
    }
