"""Reading born-digital PDFs in worker processes.

Reading a text-layer PDF (words, classification, fields) is pure Python under one interpreter
lock, so threads cannot spread it over cores. A ``ReadPool`` sends such documents to a small
pool of worker processes (``spawn``: no process outlives the pool, nothing is forked from a
threaded parent) and reads everything else in the calling process on threads, where Tesseract
already runs as child processes.

What goes where is decided in the worker: a file that is not a PDF, or has a page without a
usable text layer, comes back unread and is read here. A worker that dies (killed, out of
memory, a crash in a native library) costs nothing but time: its documents are read again here,
and the rest of the run reads in this process. Where processes cannot be started at all, the
pool is never used and reading stays on threads.

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
from pipeline.analyse import Analysis, DocInput, read_one

log = logging.getLogger(__name__)

MIN_DOCUMENTS = 24
"""Fewer born-digital documents than this are read on threads: starting the workers (a Python
interpreter each, plus the readers' imports) costs about as much as reading that many."""

CHUNK = 4
"""Documents per message to a worker: large enough to amortise the round trip, small enough to
keep both workers busy to the end of a batch."""


def worth_processes(pdf_documents: int, settings: Settings) -> bool:
    """Whether a run with this many PDFs to read should start worker processes."""
    return settings.workers >= 2 and not settings.force_ocr and pdf_documents >= MIN_DOCUMENTS


def _watch_parent(parent: int) -> None:
    """Exit when the process that started this worker is gone (it was killed, not shut down)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker() -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()


def _needs_ocr(doc: DocInput) -> bool:
    """True for anything but a PDF whose every page has a text layer (those stay on threads)."""
    from extractors.pages import MIN_TEXT_LAYER_CHARS, PDFIUM_LOCK, open_pdf, sniff

    if not isinstance(doc.source, Path) or sniff(doc.source, doc.filename) != "application/pdf":
        return True
    try:
        pdf = open_pdf(doc.source)
    except Exception:  # read_one turns it into the right reject; no need to do it twice
        return False
    with PDFIUM_LOCK:
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_range()
                    finally:
                        textpage.close()
                finally:
                    page.close()
                if sum(map(str.isalnum, text)) < MIN_TEXT_LAYER_CHARS:
                    return True
        except Exception:  # a damaged page: read_one says so
            return False
        finally:
            pdf.close()
    return False


def read_text_layer_documents(
    docs: list[DocInput], settings: Settings, image_dirs: dict[str, Path | None]
) -> list[Analysis | None]:
    """Runs in a worker: each born-digital document read, ``None`` for the ones that need OCR."""
    return [
        None if _needs_ocr(doc) else read_one(doc, settings, image_dir=image_dirs.get(doc.document_id))
        for doc in docs
    ]


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
        self._usable = settings.workers >= 2 and not settings.force_ocr
        self._closed = False

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and self._usable:
                try:
                    self._executor = ProcessPoolExecutor(
                        max_workers=self.settings.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_init_worker,
                    )
                except (OSError, ImportError, NotImplementedError, AssertionError) as exc:
                    # no semaphores (some sandboxes), or this is itself a daemonic worker
                    log.warning("reading on threads: worker processes unavailable (%s)", exc)
                    self._usable = False
            return self._executor

    def _give_up(self, exc: BaseException) -> None:
        with self._lock:
            if self._usable:
                log.warning("a reading worker failed (%s); reading in this process", exc)
            self._usable = False
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            self._usable = False
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

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
            futures: list[Future[list[Analysis | None]]] = []
            try:
                for start in range(0, len(pdfs), size):
                    part = pdfs[start : start + size]
                    futures.append(pool.submit(self.work, part, self.settings, image_dirs))
            except Exception as exc:  # broken, or shut down by another reader that found it broken
                self._give_up(exc)
            for future in futures:
                try:
                    results = future.result()
                except BrokenProcessPool as exc:
                    self._give_up(exc)
                    continue
                except CancelledError:  # another reader found the pool broken
                    continue
                except Exception as exc:  # e.g. a result that did not pickle
                    log.warning("reading %d document(s) in this process: %r", size, exc)
                    continue
                for analysis in results:
                    if analysis is not None:
                        found[analysis.document_id] = analysis
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
