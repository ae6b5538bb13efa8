"""Distributed mode: a scheduled watcher hands documents to workers of a Prefect work pool.

The watcher (deployment ``docflow-watch``) takes new files into the archive and the database,
then submits one ``docflow-process`` flow run per small batch of document ids. Any worker can
process any document: the original is in the archive (local disk shared, or S3) and the state in
PostgreSQL. A batch whose worker died is submitted again once its dispatch lease expires; posting
and queueing are idempotent, so a document is never posted twice.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow
from prefect.deployments import run_deployment
from sqlalchemy import or_, update

from core.db import DocumentRow, get_engine, init_db, session_scope, utcnow
from core.models import Status
from core.settings import Settings, load_settings
from flows.run import (
    chunks,
    decide_task,
    export_batches,
    finalize_task,
    intake_task,
    read_task,
    unvisited,
)
from pipeline import intake as intake_mod
from storage.areas import areas_for

PROCESS_DEPLOYMENT = "docflow-process/docflow-process"


def claim_for_dispatch(settings: Settings, client: str, limit: int = 500) -> list[str]:
    """Mark undispatched (or stale) received documents as dispatched now; return their ids."""
    engine = get_engine(settings.db_url)
    now = utcnow()
    stale = now - dt.timedelta(seconds=settings.dispatch_lease_seconds)
    ids = [d.id for d in intake_mod.pending_documents(engine, client)][:limit]
    claimed = []
    with session_scope(engine) as session:
        for doc_id in ids:
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id == doc_id,
                    DocumentRow.status == Status.RECEIVED.value,
                    or_(DocumentRow.dispatched_at.is_(None), DocumentRow.dispatched_at < stale),
                )
                .values(dispatched_at=now)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(doc_id)
    return claimed


@flow(name="docflow-watch", log_prints=False, validate_parameters=False)
def watch_flow(source: str, client: str = "default", batch_size: int = 4) -> int:
    """Intake whatever is new and submit processing runs; returns the number of runs submitted."""
    settings = load_settings()
    init_db(settings.db_url)
    areas = areas_for(source, client, settings)
    intake_task(unvisited(intake_mod.candidates(areas, settings)), source, client, settings)
    doc_ids = claim_for_dispatch(settings, client)
    batches = [doc_ids[i : i + batch_size] for i in range(0, len(doc_ids), batch_size)]
    for batch in batches:
        run_deployment(PROCESS_DEPLOYMENT, parameters={"document_ids": batch, "client": client}, timeout=0)
    return len(batches)


@flow(name="docflow-process", log_prints=False, validate_parameters=False)
def process_flow(document_ids: list[str], client: str = "default") -> list[str]:
    """Read, validate, decide and finalize the given documents (skips ones already decided)."""
    settings = load_settings()
    engine = init_db(settings.db_url)
    with session_scope(engine) as session:
        todo = [
            d
            for d in document_ids
            if (row := session.get(DocumentRow, d)) is not None and row.status == Status.RECEIVED.value
        ]
    analyses = []
    for fut in [read_task.submit(c, settings) for c in chunks(todo, settings.workers)]:
        analyses.extend(fut.result())
    decided = decide_task(unvisited(analyses), settings, client)
    finals = [finalize_task.submit(unvisited(c), settings) for c in chunks(decided, settings.workers)]
    results = [r for f in finals for r in f.result()]
    if any(r.posted_now for r in results):
        with session_scope(engine) as session:
            inbox = session.get(DocumentRow, results[0].document_id).inbox  # type: ignore[union-attr]
        export_batches(engine, areas_for(inbox, client, settings), client)
    return [f"{r.document_id}:{r.outcome}" for r in results]
