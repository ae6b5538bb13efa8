"""pages → classify → extract → validate → decide, for a batch of documents, without I/O.

The same function serves the Prefect flow, ``docflow eval`` and ``docflow bench``, so what is
measured is what runs. Unreadable files come back as a ``reject`` decision carrying the
loader's reason; they never raise out of here.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import BadDocumentError
from core.models import Decision, DocType, Extraction, Finding, Outcome, Page, Severity
from core.settings import Settings

if TYPE_CHECKING:
    from validators.batch import BatchResult
    from validators.history import History

Source = bytes | Path
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocInput:
    document_id: str
    source: Source
    filename: str


@dataclass
class Analysis:
    document_id: str
    pages: list[Page] = field(default_factory=list)
    extraction: Extraction | None = None
    findings: list[Finding] = field(default_factory=list)
    decision: Decision | None = None
    error: BadDocumentError | None = None
    as_read: Extraction | None = None
    """The extraction before the vendor master confirmed it (``extraction`` is after)."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        assert self.decision is not None  # set by analyse_batch for every document
        return self.decision.outcome


def for_a_person(document_id: str, message: str, seconds: float = 0.0) -> Analysis:
    """A document docflow could not read automatically: to review with ``message`` as reason."""
    finding = Finding(code="processing_error", severity=Severity.ERROR, message=message)
    return Analysis(
        document_id,
        findings=[finding],
        decision=Decision(outcome=Outcome.REVIEW, findings=[finding]),
        seconds={"ocr": 0.0, "other": seconds},
    )


def read_one(
    doc: DocInput,
    settings: Settings,
    *,
    force_ocr: bool = False,
    image_dir: Path | None = None,
    disabled: frozenset[str] = frozenset(),
    text_layer_only: bool = False,
) -> Analysis:
    """Pages, classification and fields of one document; a bad file becomes a reject.

    ``disabled`` names extractors to leave out (evaluation measures the others alone).
    ``text_layer_only``: raise ``extractors.pages.NeedsOcr`` rather than OCR a page.
    """
    from extractors import read_document
    from extractors.pages import NeedsOcr

    started = time.perf_counter()
    cpu_started = time.thread_time()
    analysis = Analysis(doc.document_id)
    try:
        pages, extraction = read_document(
            doc.source,
            doc.filename,
            settings,
            force_ocr=force_ocr,
            image_dir=image_dir,
            disabled=disabled,
            text_layer_only=text_layer_only,
        )
    except NeedsOcr:
        raise
    except BadDocumentError as exc:
        analysis.error = exc
        finding = Finding(code=exc.code, severity=Severity.ERROR, message=exc.message)
        analysis.findings = [finding]
        analysis.decision = Decision(outcome=Outcome.REJECT, findings=[finding])
        analysis.seconds = {"ocr": 0.0, "other": time.perf_counter() - started}
        return analysis
    except Exception as exc:  # a bug or a stuck OCR must not cost the run, nor the document
        log.exception("reading %s failed", doc.filename)
        return for_a_person(
            doc.document_id,
            f"docflow could not read this document automatically ({type(exc).__name__}: "
            f"{str(exc)[:200]}); key it by hand",
            time.perf_counter() - started,
        )
    analysis.pages = pages
    analysis.extraction = extraction
    # every Tesseract CPU second: the pages', then a claim's boxes and the cascade's re-readings
    ocr = sum(p.ocr_seconds for p in pages) + extraction.stats.get("extract_ocr_seconds", 0.0)
    # "other" is this thread's CPU time (text layer, classification, fields), not wall time:
    # with several documents in flight, wall time also counts the wait for a Tesseract slot.
    analysis.seconds = {"ocr": ocr, "cpu": time.thread_time() - cpu_started}
    return analysis


def analyse_batch(
    docs: list[DocInput],
    settings: Settings,
    client: str = "default",
    *,
    force_ocr: bool = False,
    history: History | None = None,
    today: dt.date | None = None,
    image_dirs: dict[str, Path] | None = None,
    progress: Callable[[Analysis], None] | None = None,
    reader: Callable[[DocInput], Analysis] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> list[Analysis]:
    """Analyse ``docs`` in parallel, validate the batch in one run, decide each document.

    ``reader`` replaces the per-document read (the Prefect flow passes one that runs as tasks).
    """

    def default_reader(doc: DocInput) -> Analysis:
        image_dir = image_dirs.get(doc.document_id) if image_dirs else None
        return read_one(doc, settings, force_ocr=force_ocr, image_dir=image_dir, disabled=disabled)

    read = reader or default_reader
    analyses: list[Analysis] = []
    if len(docs) <= 1:
        for doc in docs:
            analyses.append(read(doc))
            if progress:
                progress(analyses[-1])
    else:
        # Twice as many documents in flight as cores: while one is in Python (layout, fields),
        # another's Tesseract keeps the core busy; Tesseract itself stays capped at one per core.
        with ThreadPoolExecutor(max_workers=2 * settings.workers) as pool:
            for analysis in pool.map(read, docs):
                analyses.append(analysis)
                if progress:
                    progress(analysis)
    validate_and_decide(analyses, settings, client, history=history, today=today)
    return analyses


def validate_and_decide(
    analyses: list[Analysis],
    settings: Settings,
    client: str,
    *,
    history: History | None = None,
    today: dt.date | None = None,
) -> BatchResult | None:
    """One validation run for the readable documents of a batch, then a decision for each."""
    import validators
    from validators.masterdata import confirm_vendor

    readable = [a for a in analyses if a.extraction is not None]
    if not readable:
        return None
    started = time.perf_counter()
    ctx = validators.load_context(settings, client, today or dt.date.today(), history)
    md = ctx.policy.master_data
    items = []
    for analysis in readable:
        assert analysis.extraction is not None
        analysis.as_read = analysis.extraction
        analysis.extraction = confirm_vendor(
            analysis.extraction, ctx.vendor_master, md.vendor_match_score, md.vendor_doc_types,
            analysis.document_id,
        )
        items.append(
            validators.ValidationItem(
                document_id=analysis.document_id, client=client, extraction=analysis.extraction
            )
        )
    result = validators.validate_batch(items, ctx)
    for analysis in readable:
        assert analysis.extraction is not None
        findings = list(result.per_document.get(analysis.document_id, []))
        if analysis.extraction.doc_type == DocType.UNKNOWN:
            findings.append(
                Finding(
                    code="unknown_doc_type",
                    severity=Severity.ERROR,
                    message="Could not tell whether this is an invoice, receipt or claim",
                )
            )
        analysis.findings = findings
        analysis.decision = validators.decide(analysis.extraction, findings, ctx.policy)
    share = (time.perf_counter() - started) / len(readable)
    for analysis in readable:
        analysis.seconds["other"] = analysis.seconds.pop("cpu", 0.0) + share
    return result
