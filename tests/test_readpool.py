"""Reading in worker processes: same readings as in-process, nothing lost when a worker dies,
no process left behind."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from core.settings import Settings
from pipeline.analyse import Analysis, DocInput, read_one
from pipeline.readpool import (
    MAX_SOLO_CRASHES,
    MIN_DOCUMENTS,
    ReadPool,
    read_text_layer_documents,
    worth_processes,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "invoices"
ImageDirs = dict[str, Path | None]


def _docs() -> list[DocInput]:
    files = sorted(SAMPLES.glob("*.pdf"))[:4] + sorted(SAMPLES.glob("scan_*.jpg"))[:1]
    assert len(files) == 5
    return [DocInput(f"{i:064x}", path, path.name) for i, path in enumerate(files)]


def _reading(analysis: Analysis) -> tuple[object, ...]:
    """What a reading found, without its timings."""
    extraction = analysis.extraction
    assert extraction is not None
    fields = {name: (f.value, f.confidence) for name, f in extraction.fields.items()}
    pages = [(p.index, p.origin, p.width, p.height, p.dpi) for p in analysis.pages]
    return analysis.document_id, extraction.doc_type, fields, pages


def die(docs: list[DocInput], settings: Settings, image_dirs: ImageDirs) -> list[Analysis | None]:
    """A worker that dies on whatever it reads (the machine, not the files)."""
    os._exit(1)


def die_in_company(
    docs: list[DocInput], settings: Settings, image_dirs: ImageDirs
) -> list[Analysis | None]:
    """A worker killed while reading several documents (out of memory), fine with one alone."""
    if len(docs) > 1:
        os._exit(1)
    return read_text_layer_documents(docs, settings, image_dirs)


def die_on_poison(
    docs: list[DocInput], settings: Settings, image_dirs: ImageDirs
) -> list[Analysis | None]:
    """A file that crashes the PDF library of whichever process reads it."""
    if any(d.filename.startswith("poison") for d in docs):
        os._exit(1)
    return read_text_layer_documents(docs, settings, image_dirs)


def count_pdfs(docs: list[DocInput], settings: Settings, image_dirs: ImageDirs) -> list[Analysis | None]:
    """Marks what the workers read, so the test can tell it from what was read in-process."""
    out = read_text_layer_documents(docs, settings, image_dirs)
    for analysis in out:
        if analysis is not None:
            analysis.seconds["in_worker"] = 1.0
    return out


@pytest.fixture
def two_workers(settings: Settings) -> Settings:
    return settings.model_copy(update={"workers": 2, "cpu_budget_seconds": 0.0})


def test_workers_read_what_this_process_reads(two_workers: Settings) -> None:
    docs = _docs()
    expected = [_reading(read_one(d, two_workers)) for d in docs]
    with ReadPool(two_workers, work=count_pdfs) as pool:
        got = pool.read(docs)
        assert pool.started
    assert [_reading(a) for a in got] == expected
    in_worker = [a.seconds.get("in_worker") == 1.0 for a in got]
    assert in_worker == [True, True, True, True, False]  # the scan was read here, on threads
    # what comes back from a worker leaves the words behind (nothing after reading needs them)
    assert [any(p.words for p in a.pages) for a in got] == [False, False, False, False, True]
    assert multiprocessing.active_children() == []


def test_start_brings_the_workers_up_before_the_first_read(two_workers: Settings) -> None:
    with ReadPool(two_workers) as pool:
        assert multiprocessing.active_children() == []
        pool.start()
        assert pool.started
        assert len(multiprocessing.active_children()) == 2
        got = pool.read(_docs()[:2])
    assert all(a.extraction is not None and a.extraction.fields for a in got)
    assert multiprocessing.active_children() == []


def test_a_dead_worker_costs_no_document(two_workers: Settings) -> None:
    docs = _docs()[:4]
    with ReadPool(two_workers, work=die_in_company) as pool:
        got = pool.read(docs)
        assert not pool.started  # the broken pool is gone; the next read starts another
        again = pool.read(docs[:1])
    assert [a.document_id for a in got] == [d.document_id for d in docs]
    assert all(a.extraction is not None and a.extraction.fields for a in got)
    assert again[0].extraction is not None
    assert multiprocessing.active_children() == []


def test_a_file_that_crashes_the_reader_goes_to_a_person(two_workers: Settings) -> None:
    docs = _docs()[:4]
    poison = DocInput(docs[1].document_id, docs[1].source, "poison.pdf")
    docs[1] = poison
    with ReadPool(two_workers, work=die_on_poison) as pool:
        got = pool.read(docs)
    assert [a.document_id for a in got] == [d.document_id for d in docs]
    crashed = got[1]
    assert crashed.extraction is None and crashed.decision is not None
    assert crashed.decision.outcome.value == "review"
    assert [f.code for f in crashed.findings] == ["processing_error"]
    assert "crashed the PDF reader" in crashed.findings[0].message
    for other in (got[0], got[2], got[3]):
        assert other.extraction is not None and other.extraction.fields
    assert multiprocessing.active_children() == []


def test_workers_that_always_die_fall_back_to_this_process(
    two_workers: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    docs = _docs()[:4]
    with ReadPool(two_workers, work=die) as pool:
        got = pool.read(docs)
        later = pool.read(docs[:1])
        assert not pool.started
    # the first MAX_SOLO_CRASHES documents are reported as crashes, then the pool stops trying
    crashes = [a for a in got if a.extraction is None]
    assert len(crashes) == MAX_SOLO_CRASHES
    assert all(a.findings[0].code == "processing_error" for a in crashes)
    assert got[-1].extraction is not None
    assert later[0].extraction is not None
    assert "reading in this process" in caplog.text
    assert multiprocessing.active_children() == []


def test_a_closed_pool_refuses_to_read(two_workers: Settings) -> None:
    pool = ReadPool(two_workers)
    pool.close()
    with pytest.raises(RuntimeError):
        pool.read(_docs()[:1])


def test_processes_only_where_they_pay(settings: Settings) -> None:
    two = settings.model_copy(update={"workers": 2})
    assert worth_processes(100, two)
    assert not worth_processes(3, two)  # starting the workers costs more than it saves
    assert not worth_processes(100, settings.model_copy(update={"workers": 1}))
    assert not worth_processes(100, two.model_copy(update={"force_ocr": True}))
    with ReadPool(settings.model_copy(update={"workers": 1})) as pool:
        assert [a.document_id for a in pool.read(_docs()[:2])] == [d.document_id for d in _docs()[:2]]
        assert not pool.started


def test_a_scanned_pdf_is_handed_back_to_be_ocrd_here(tmp_path: Path, settings: Settings) -> None:
    import pypdfium2 as pdfium

    source = sorted(SAMPLES.glob("*.pdf"))[0]
    pdf = pdfium.PdfDocument(str(source))
    image = pdf[0].render(scale=150 / 72).to_pil().convert("L")
    pdf.close()
    scan = tmp_path / "scanned.pdf"
    image.save(scan, resolution=150)  # a PDF holding only the picture: no text layer
    docs = [DocInput("f" * 64, scan, scan.name), _docs()[0]]
    got = read_text_layer_documents(docs, settings, {})
    assert got[0] is None  # the worker hands it back instead of OCR-ing it
    assert got[1] is not None and got[1].extraction is not None


@pytest.mark.slow
def test_a_run_starts_the_workers_before_intake_only_for_new_pdfs(
    two_workers: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real flow over an inbox of PDFs, run twice: the first run starts the workers while it
    takes the files in and reads with them; the second (a watcher's next poll: the inbox keeps
    its files) finds every file seen before and starts no worker at all."""
    from prefect.testing.utilities import prefect_test_harness

    import flows.run
    from flows.run import run_flow

    events: list[str] = []

    class Watched(ReadPool):
        def start(self) -> None:
            events.append("start")
            super().start()

        def read(self, docs: list[DocInput], image_dirs: ImageDirs | None = None) -> list[Analysis]:
            events.append("read")
            return super().read(docs, image_dirs)

        def close(self) -> None:
            events.append("close")
            super().close()

    monkeypatch.setattr(flows.run, "ReadPool", Watched)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdfs = sorted(SAMPLES.glob("*.pdf"))
    for i in range(MIN_DOCUMENTS):  # distinct bytes after %%EOF, as the bench does
        src = pdfs[i % len(pdfs)]
        (inbox / f"{i:03d}-{src.name}").write_bytes(src.read_bytes() + f"\n%copy-{i}\n".encode())

    with prefect_test_harness():  # its own temporary server, stopped before the test ends
        first = run_flow(str(inbox), "default", two_workers)
        starts = events.count("start")
        first_events, events[:] = list(events), []
        second = run_flow(str(inbox), "default", two_workers)
    assert len(first.results) == MIN_DOCUMENTS
    assert first_events[0] == "start" and "read" in first_events and first_events[-1] == "close"
    assert starts == 1  # the pool started before intake is the one that read
    assert second.results == [] and len(second.skipped) == MIN_DOCUMENTS
    assert events == []
    assert multiprocessing.active_children() == []
