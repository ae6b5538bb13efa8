"""Reading born-digital PDFs in worker processes.

Reading a text-layer PDF (words, classification, fields) is pure Python under one interpreter
lock, so threads cannot spread it over cores. A ``ReadPool`` sends such documents to a small
pool of worker processes (``spawn``: no process outlives the pool, nothing is forked from a
threaded parent) and reads everything else in the calling process on threads, where Tesseract
already runs as child processes.

What goes where is decided in the worker: a file that is not a PDF, or has a page without a
usable text layer, comes back unread and is read here. A worker that dies (killed, out of
memory, a crash in a native library) costs nothing but time: the documents it was reading are
read again one at a time in a fresh worker, so that a file that crashes the PDF library alone
is found and sent to a person with that reason instead of taking the run down; the others are
read normally. After ``MAX_BREAKS`` broken pools (something wrong with the machine rather than
a file) the rest of the run reads in this process. Where processes cannot be started at all,
the pool is never used and reading stays on threads.

As with any ``spawn`` pool, a worker imports the main module of the program: a script that runs
the flow must keep its work under ``if __name__ == "__main__":`` (the ``docflow`` command does).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

from core.settings import Settings
from pipeline.analyse import Analysis, DocInput, for_a_person, read_one

log = logging.getLogger(__name__)

MIN_DOCUMENTS = 24
"""Fewer born-digital documents than this are read on threads: starting the workers (a Python
interpreter each, plus the readers' imports) costs about as much as reading that many."""

MAX_BREAKS = 3
"""Broken pools (a worker died) after which a run stops using worker processes."""
MAX_SOLO_CRASHES = 3
"""Documents in a row that kill a worker reading them alone after which the rest are read in
this process: past that, the machine (memory) is the likelier cause than the files."""

CHUNK = 4
"""Documents per message to a worker: large enough to amortise the round trip, small enough to
keep both workers busy to the end of a batch."""


def _processes_help(settings: Settings) -> bool:
    """Worker processes only pay with two cores or more, and only for text-layer reading."""
    return settings.workers >= 2 and not settings.force_ocr


def worth_processes(pdf_documents: int, settings: Settings) -> bool:
    """Whether a run with this many PDFs to read should start worker processes."""
    return _processes_help(settings) and pdf_documents >= MIN_DOCUMENTS


def _watch_parent(parent: int) -> None:
    """Exit when the process that started this worker is gone (it was killed, not shut down)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker() -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    try:  # the readers' imports and data files (~1 s), before the first document arrives
        from extractors import read_document  # noqa: F401
        from extractors.registry import all_extractors

        for extractor in all_extractors():
            extractor.available()
    except Exception:  # the first read will meet the same failure and report it per document
        log.exception("warming up a reading worker failed")


def _nothing() -> None:
    """A task that only makes the pool start a worker."""


def crashed(doc: DocInput) -> Analysis:
    """A document that killed the process reading it (a crash inside the PDF library): kept,
    and sent to a person with the reason rather than read again in the run's own process."""
    return for_a_person(
        doc.document_id,
        "reading this file crashed the PDF reader (the process reading it died); "
        "the original is kept: check it and key it by hand",
    )


def read_text_layer_documents(
    docs: list[DocInput], settings: Settings, image_dirs: dict[str, Path | None]
) -> list[Analysis | None]:
    """Runs in a worker: each born-digital document read, ``None`` for the ones that need OCR
    (an image, or a PDF with a page whose text layer is unusable: those stay on threads)."""
    from extractors.pages import NeedsOcr

    out: list[Analysis | None] = []
    for doc in docs:
        try:
            analysis = read_one(doc, settings, image_dir=image_dirs.get(doc.document_id),
                                text_layer_only=True)
        except NeedsOcr:
            out.append(None)
            continue
        out.append(without_words(analysis))
    return out


def without_words(analysis: Analysis) -> Analysis:
    """``analysis`` with its pages' words and text left out: what follows reading (validation,
    decision, finalize) needs the fields and the pages' sizes, not the words, and sending ~260
    word objects a document back to the run's process cost a millisecond each way."""
    analysis.pages = [p.model_copy(update={"words": [], "text": ""}) for p in analysis.pages]
    return analysis


Work = Callable[[list[DocInput], Settings, dict[str, Path | None]], list[Analysis | None]]


class ReadPool:
    """Worker processes for one run, started on first use; ``close`` (or ``with``) stops them.

    ``work`` is what a worker runs on a chunk (importable by name; tests inject faults with it).
    """

    def __init__(self, settings: Settings, work: Work = read_text_layer_documents) -> None:
        self.settings = settings
        self.work = work
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._usable = _processes_help(settings)
        self._closed = False
        self._breaks = 0

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _new_executor(self, workers: int) -> ProcessPoolExecutor | None:
        try:
            return ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        except (OSError, ImportError, NotImplementedError, AssertionError) as exc:
            # no semaphores (some sandboxes), or this is itself a daemonic worker
            log.warning("reading on threads: worker processes unavailable (%s)", exc)
            self._usable = False
            return None

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and self._usable:
                self._executor = self._new_executor(self.settings.workers)
            return self._executor

    def _give_up(self, exc: BaseException) -> None:
        """A worker died: this pool is done; the next read starts another, up to MAX_BREAKS."""
        with self._lock:
            executor, self._executor = self._executor, None
            if executor is not None:
                self._breaks += 1
            if self._usable and self._breaks >= MAX_BREAKS:
                log.warning("reading workers failed %d times (%s); reading in this process",
                            self._breaks, exc)
                self._usable = False
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _read_alone(self, docs: list[DocInput], image_dirs: dict[str, Path | None]) -> dict[str, Analysis]:
        """The documents of a broken pool, each read alone in a fresh worker (one at a time).

        A document whose worker dies again is the cause: it goes to a person with that reason.
        Documents left unread here (no workers, or too many crashes in a row) are read in this
        process by the caller.
        """
        found: dict[str, Analysis] = {}
        executor: ProcessPoolExecutor | None = None
        crashes = 0
        try:
            for doc in docs:
                if crashes >= MAX_SOLO_CRASHES or self._closed or not self._usable:
                    break
                if executor is None:
                    executor = self._new_executor(1)
                    if executor is None:
                        break
                try:
                    result = executor.submit(self.work, [doc], self.settings, image_dirs).result()
                except BrokenProcessPool:
                    executor.shutdown(wait=True, cancel_futures=True)
                    executor = None
                    crashes += 1
                    log.warning("%s crashed the process reading it; sent to review", doc.filename)
                    found[doc.document_id] = crashed(doc)
                    continue
                except Exception as exc:  # e.g. a result that did not pickle: read it here
                    log.warning("reading %s in this process: %r", doc.filename, exc)
                    continue
                crashes = 0
                if result and result[0] is not None:
                    found[doc.document_id] = result[0]
        finally:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        if crashes >= MAX_SOLO_CRASHES:
            log.warning("%d documents in a row crashed their reader; reading in this process",
                        crashes)
            with self._lock:
                self._usable = False
        return found

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            self._usable = False
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def start(self) -> None:
        """Start the workers now, so that they load the readers while the caller does other work
        (intake); otherwise they start on the first ``read``."""
        pool = self._pool()
        if pool is None:
            return
        try:
            for _ in range(self.settings.workers):  # a submit starts a worker while none is idle
                pool.submit(_nothing)
        except Exception as exc:  # broken already: the first read starts another pool
            self._give_up(exc)

    def read(self, docs: list[DocInput], image_dirs: dict[str, Path | None] | None = None) -> list[Analysis]:
        """Every document of ``docs`` read, in order: born-digital PDFs in the workers."""
        if self._closed:
            raise RuntimeError("the read pool is closed (its run has ended)")
        image_dirs = image_dirs or {}
        found: dict[str, Analysis] = {}
        pdfs = [d for d in docs if d.filename.lower().endswith(".pdf")]
        pool = self._pool() if pdfs else None
        if pool is not None:
            size = max(1, min(CHUNK, math.ceil(len(pdfs) / self.settings.workers)))
            parts = [pdfs[start : start + size] for start in range(0, len(pdfs), size)]
            futures: list[Future[list[Analysis | None]]] = []
            try:
                for part in parts:
                    futures.append(pool.submit(self.work, part, self.settings, image_dirs))
            except Exception as exc:  # broken, or shut down by another reader that found it broken
                self._give_up(exc)
            # documents a dead worker held, or that never reached one: read alone (see above)
            suspects = [d for part in parts[len(futures) :] for d in part]
            for part, future in zip(parts, futures, strict=False):
                try:
                    results = future.result()
                except BrokenProcessPool as exc:
                    self._give_up(exc)
                    suspects.extend(part)
                    continue
                except CancelledError:  # another reader found the pool broken
                    suspects.extend(part)
                    continue
                except Exception as exc:  # e.g. a result that did not pickle
                    log.warning("reading %d document(s) in this process: %r", size, exc)
                    continue
                for analysis in results:
                    if analysis is not None:
                        found[analysis.document_id] = analysis
            if suspects:
                found.update(self._read_alone(suspects, image_dirs))
        rest = [d for d in docs if d.document_id not in found]
        for analysis in self._read_here(rest, image_dirs):
            found[analysis.document_id] = analysis
        return [found[d.document_id] for d in docs]

    def _read_here(self, docs: list[DocInput], image_dirs: dict[str, Path | None]) -> list[Analysis]:
        def one(doc: DocInput) -> Analysis:
            return read_one(doc, self.settings, image_dir=image_dirs.get(doc.document_id))

        if len(docs) <= 1:
            return [one(d) for d in docs]
        # Two documents in flight per core, as analyse_batch: Python work overlaps Tesseract.
        with ThreadPoolExecutor(max_workers=2 * self.settings.workers) as threads:
            return list(threads.map(one, docs))
