"""The Prefect flow that takes a watched inbox through the pipeline.

Tasks are thin: each wraps one plain function from ``pipeline``/``storage`` and adds retries
where a failure can be transient (storage, database). Bad documents are not retried: they are a
``reject``/``review`` outcome, decided by the pipeline, not an exception.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from sqlalchemy.exc import OperationalError

from core.db import get_engine, init_db, utcnow
from core.errors import TransientError
from core.settings import Settings
from pipeline import intake as intake_mod
from pipeline.analyse import Analysis, DocInput, read_one, validate_and_decide
from pipeline.finalize import Result, finalize_chunk
from pipeline.history import DatabaseHistory
from pipeline.readpool import ReadPool, worth_processes
from pipeline.summary import RunSummary
from storage.archive import original_file
from storage.areas import areas_for
from storage.buckets import ObjectInfo

T = TypeVar("T")


def unvisited(value: T) -> T:
    """``value`` wrapped in Prefect's ``quote``: Prefect neither walks it for futures nor records
    it as a task input (walking every word box of a batch cost more than reading the PDFs), and
    unwraps it before the task runs, so the task receives ``value`` itself."""
    return cast(T, quote(value))


TRANSIENT = (TransientError, OSError, OperationalError)
"""Failures worth a retry with backoff: storage hiccups and dropped database connections."""


@task(
    name="intake",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=lambda t, r, s: isinstance(s.result(raise_on_failure=False), TRANSIENT),
)
def intake_task(
    objs: list[ObjectInfo], source: str, client: str, settings: Settings
) -> list[intake_mod.Taken]:
    """Take a chunk of inbox objects (idempotent: a retry takes nothing twice)."""
    areas = areas_for(source, client, settings)
    engine = get_engine(settings.db_url)
    return intake_mod.take_many(objs, areas, engine, client, source, settings.home / "spool")


@task(name="read-documents", cache_policy=NO_CACHE)
def read_task(doc_ids: list[str], settings: Settings, pool: ReadPool | None = None) -> list[Analysis]:
    """Pages, classification and extraction of a chunk of documents (in ``pool``'s workers if given)."""
    from sqlalchemy import select

    from core.db import DocumentRow, session_scope

    engine = get_engine(settings.db_url)
    with session_scope(engine) as session:
        rows = {d.id: d for d in session.scalars(select(DocumentRow).where(DocumentRow.id.in_(doc_ids)))}
    spool = settings.home / "spool"
    with contextlib.ExitStack() as originals:
        docs = []
        for doc_id in doc_ids:
            doc = rows[doc_id]
            areas = areas_for(doc.inbox, doc.client, settings)
            path = originals.enter_context(original_file(doc, areas, spool))
            docs.append(DocInput(doc_id, path, doc.filename))
        image_dirs = {d: settings.page_images_dir / d if settings.keep_page_images else None for d in doc_ids}
        if pool is not None:
            return pool.read(docs, image_dirs)
        return [read_one(doc, settings, image_dir=image_dirs[doc.document_id]) for doc in docs]


@task(name="validate-and-decide", cache_policy=NO_CACHE)
def decide_task(
    analyses: list[Analysis], settings: Settings, client: str, data_docs: Path | None = None
) -> list[Analysis]:
    """One validation run for the batch; its GX Data Docs page is written to ``data_docs``."""
    result = validate_and_decide(
        analyses, settings, client, history=DatabaseHistory(get_engine(settings.db_url))
    )
    if data_docs is not None and getattr(result, "gx_result", None) is not None:
        from validators import write_data_docs

        write_data_docs(result, data_docs.parent, name=data_docs.name)
    return analyses


@task(
    name="finalize",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=lambda t, r, s: isinstance(s.result(raise_on_failure=False), TRANSIENT),
)
def finalize_task(analyses: list[Analysis], settings: Settings) -> list[Result]:
    """Post, queue or quarantine a chunk of decided documents, in one transaction.

    A failed attempt writes nothing, so its retry finalizes the whole chunk; a document that
    another run finished meanwhile (no longer ``received``) is left alone, so nothing is
    posted, queued or charged twice.
    """
    return finalize_chunk(get_engine(settings.db_url), settings, analyses, settings.home / "spool")


def export_batches(engine: Any, areas: Any, client: str) -> None:
    """Rebuild today's CSV batch file from the postings table (crash-safe, never doubled)."""
    from core.db import session_scope
    from storage.outbox import export_batch

    with session_scope(engine) as session:
        export_batch(session, areas.outbox, client, utcnow().date())


def chunks(items: list[T], workers: int, max_size: int = 8) -> list[list[T]]:
    """Split into about ``2 × workers`` chunks of at most ``max_size`` (task overhead vs balance)."""
    if not items:
        return []
    size = max(1, min(max_size, math.ceil(len(items) / (2 * workers))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def growing_batches(items: list[T], first: int, largest: int) -> list[list[T]]:
    """``items`` in batches that double from ``first`` up to ``largest``: the first results
    come soon, and later batches spread validation's fixed cost per batch (a Great Expectations
    run, a Data Docs page) over more documents."""
    out, start, size = [], 0, max(1, first)
    while start < len(items):
        out.append(items[start : start + size])
        start += size
        size = max(size, min(size * 2, largest))  # doubled up to the largest, never smaller
    return out


def _is_pdf(name: str) -> bool:
    return name.lower().endswith(".pdf")


def _new_pdfs(objects: list[ObjectInfo], areas: Any, engine: Any, settings: Settings) -> int:
    """How many of ``objects`` are PDFs not taken in before (0 when too few to need workers)."""
    pdfs = [o for o in objects if _is_pdf(o.key)]
    if not worth_processes(len(pdfs), settings):
        return 0  # too few even if all are new: no need to ask the database
    try:
        known = intake_mod.seen_before(pdfs, areas, engine)
    except TRANSIENT:  # the database is away: intake meets it and retries; this was a head start
        return 0
    return sum(1 for o in pdfs if o.key not in known)


def _reading_pool(pdfs: int, settings: Settings, *, start: bool = False) -> ReadPool | None:
    """Worker processes for this many PDFs to read, or None where threads do better."""
    if not worth_processes(pdfs, settings):
        return None
    pool = ReadPool(settings)
    if start:
        pool.start()
    return pool


def _decide_in_batches(
    pending: list[str], pool: ReadPool | None, client: str, settings: Settings,
    summary: RunSummary, run_dir: Path, batch_size: int, max_batch_size: int, progress: Any
) -> None:
    """Read, validate, decide and finalize ``pending`` documents in growing batches."""

    def read(batch: list[str]) -> list[PrefectFuture[list[Analysis]]]:
        if pool is not None:  # one task per batch: the workers share it out among themselves
            return [read_task.submit(batch, settings, unvisited(pool))]
        return [read_task.submit(c, settings) for c in chunks(batch, settings.workers)]

    batches = growing_batches(pending, batch_size, max_batch_size)
    done_before = [0, *itertools.accumulate(len(b) for b in batches)]
    reading = read(batches[0]) if batches else []
    for number in range(len(batches)):
        analyses: list[Analysis] = []
        for fut in reading:
            analyses.extend(fut.result())
            if progress:
                progress.advance(len(analyses) + done_before[number])
        following = batches[number + 1] if number + 1 < len(batches) else []
        # Worker processes read the next batch while this one is decided and finalized here;
        # reading has no side effects, and deciding it still waits for this batch's duplicates.
        reading = read(following) if following and pool is not None else []
        decided = decide_task(
            unvisited(analyses), settings, client, run_dir / f"validation-{number + 1}.html"
        )
        finals = [
            finalize_task.submit(unvisited(c), settings)
            for c in chunks(decided, settings.workers, max_size=32)
        ]
        summary.results.extend(r for f in finals for r in f.result())
        if following and pool is None:
            reading = read(following)


def process_inbox(
    source: str, client: str, settings: Settings, *, batch_size: int = 64,
    max_batch_size: int = 256, progress: Any = None
) -> RunSummary:
    """The body of the flow: intake, then read → validate → decide → finalize in batches."""
    started = time.perf_counter()
    engine = init_db(settings.db_url)
    areas = areas_for(source, client, settings)
    summary = RunSummary(source=source, client=client, settings=settings)
    run_dir = settings.home / "runs" / utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    objects = intake_mod.candidates(areas, settings)
    summary.seen = len(objects)
    # With enough new PDFs in the inbox, the reading workers start now and load the readers
    # while intake copies the files (a watched inbox keeps the files it has seen: those do not
    # count); the count after intake decides whether they are kept.
    pool = _reading_pool(_new_pdfs(objects, areas, engine, settings), settings, start=True)
    try:
        intakes = [
            intake_task.submit(unvisited(c), source, client, settings)
            for c in chunks(objects, settings.workers, max_size=64)
        ]
        takes = [t for f in intakes for t in f.result()]
        summary.skipped = [t for t in takes if not t.new and not t.error]
        summary.not_taken = [t for t in takes if t.error]
        rows = intake_mod.pending_documents(engine, client)
        pending = [d.id for d in rows]
        if progress:
            progress.start(len(pending))
        pdfs = sum(1 for d in rows if _is_pdf(d.filename))
        if pool is not None and not worth_processes(pdfs, settings):  # the files were seen before
            pool.close()
            pool = None
        if pool is None:  # documents an interrupted run left can make enough PDFs too
            pool = _reading_pool(pdfs, settings)
        _decide_in_batches(pending, pool, client, settings, summary, run_dir, batch_size,
                           max_batch_size, progress)
    finally:
        if pool is not None:
            pool.close()
    if any(r.posted_now for r in summary.results):
        export_batches(engine, areas, client)
    summary.seconds = time.perf_counter() - started
    if run_dir.exists():
        summary.data_docs = sorted(run_dir.glob("*.html"))
    return summary


@contextlib.contextmanager
def local_server_settings() -> Iterator[None]:
    """Prefect settings for flows run in-process against its temporary server (no
    ``PREFECT_API_URL``): no flow-run heartbeats. Prefect's heartbeat thread sleeps in one-second
    steps, and a flow waits for it to notice the run has ended, which added up to a second to
    every run (half of a one-document run's latency). Heartbeats serve a lasting server's
    detection of crashed runs; the temporary server ends with the run. Flows run against a
    server (deployments, ``PREFECT_API_URL`` set) keep them."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@flow(
    name="docflow-run",
    # Prefect types task_runner as the invariant TaskRunner[PrefectFuture[Any]] (PrefectHQ/prefect#16938)
    task_runner=ThreadPoolTaskRunner(max_workers=4),  # type: ignore[arg-type]
    log_prints=False,
    validate_parameters=False,
)
def run_flow(source: str, client: str, settings: Settings, progress: Any = None) -> RunSummary:
    return process_inbox(source, client, settings, progress=progress)


def run_in_process(
    source: str, client: str, settings: Settings, progress: Any = None
) -> RunSummary:
    """One run of the flow in this process, as ``docflow run`` and the bench start it: a task
    thread per worker (two at least) and, against Prefect's temporary server, no heartbeats
    (``local_server_settings``)."""
    # Prefect types task_runner as the invariant TaskRunner[PrefectFuture[Any]] (PrefectHQ/prefect#16938)
    flow = run_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=max(2, settings.workers)))  # type: ignore[arg-type]
    with local_server_settings():
        return flow(source, client, settings, progress=progress)


def spool_dir(settings: Settings) -> Path:
    return settings.home / "spool"
