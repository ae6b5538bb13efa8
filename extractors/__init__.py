"""docflow extractors: from a file's bytes to typed, calibrated fields.

The pipeline calls exactly one function, :func:`read_document`:
pages (text layer or OCR) → classify → the best-scoring extractor → OCR cascade on weak fields →
calibrated confidences. Unreadable files raise ``core.errors.BadDocumentError`` subclasses.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from core.models import DocType, Extraction, Page
from core.settings import Settings

Source = bytes | Path

__all__ = ["engine_versions", "read_document"]


@lru_cache(maxsize=1)
def _static_versions() -> dict[str, str]:
    import pypdfium2

    from extractors.ocr import tesseract_version

    return {
        "tesseract": tesseract_version(),
        "pypdfium2": str(getattr(pypdfium2, "PYPDFIUM_INFO", "unknown")),
    }


def engine_versions() -> dict[str, str]:
    return dict(_static_versions())


def read_document(
    source: Source,
    filename: str,
    settings: Settings,
    *,
    force_ocr: bool = False,
    image_dir: Path | None = None,
    disabled: frozenset[str] = frozenset(),
    text_layer_only: bool = False,
) -> tuple[list[Page], Extraction]:
    """Pages and extracted fields of one document.

    ``disabled`` names extractors to leave out (evaluation uses it to measure the layout reader
    on e-invoices whose embedded XML would otherwise answer). ``text_layer_only``: raise
    ``extractors.pages.NeedsOcr`` rather than OCR a page.
    """
    from extractors.cascade import run_cascade
    from extractors.classify import classify
    from extractors.ocr import tesseract_seconds
    from extractors.pages import iter_pages
    from extractors.registry import all_extractors, apply_calibration, pick

    pages = list(iter_pages(source, filename, settings, force_ocr=force_ocr, image_dir=image_dir,
                            text_layer_only=text_layer_only))
    started = time.perf_counter()
    reading = tesseract_seconds()  # pages were read on the pool's threads; what follows, here
    doc_type, confidence = classify(pages)
    for extractor in all_extractors():  # structure beats guesswork: an e-invoice says what it is
        if (
            getattr(extractor, "self_identifying", False)
            and extractor.name not in disabled
            and extractor.available()
        ):
            for kind in extractor.doc_types:
                if extractor.score(pages, kind, source) >= 0.99:
                    doc_type, confidence = kind, 1.0
    if doc_type != DocType.CLAIM and confidence < 0.95:
        # A claim whose form print is an image (only the typed values are text) has no claim
        # vocabulary; the CMS-1500 reader recognises it by where the values sit on the page.
        claim = next((e for e in all_extractors() if DocType.CLAIM in e.doc_types
                      and e.name not in disabled and e.available()), None)
        if claim is not None and claim.score(pages, DocType.UNKNOWN, source) >= 0.9:
            doc_type, confidence = DocType.CLAIM, 0.9
    chosen = pick(pages, doc_type, source, disabled=disabled)
    if chosen is None:
        extraction = Extraction(doc_type=doc_type, doc_type_confidence=confidence)
    else:
        extraction = chosen.extract(pages, source, settings)
        extraction = extraction.model_copy(
            update={"doc_type": doc_type, "doc_type_confidence": confidence}
        )
    extract_seconds = time.perf_counter() - started
    # the claim reader's own re-readings of boxes count with the cascade's
    cascade_seconds = float(extraction.stats.get("cascade_seconds", 0.0))
    if chosen is not None:
        extraction, more = run_cascade(pages, extraction, source, settings, chosen)
        cascade_seconds += more
    extraction = apply_calibration(extraction, pages=pages)
    engine = {**engine_versions(), **extraction.engine}
    if chosen is not None:
        engine.setdefault("extractor", chosen.name)
        engine[chosen.name] = str(getattr(chosen, "version", "1"))
    stats = {
        **extraction.stats,
        "ocr_seconds": round(sum(p.ocr_seconds for p in pages), 4),
        # Tesseract CPU after the pages: a claim's boxes, the cascade's re-readings
        "extract_ocr_seconds": round(tesseract_seconds() - reading, 4),
        "extract_seconds": round(extract_seconds, 4),
        "cascade_seconds": round(cascade_seconds, 4),
        "pages": float(len(pages)),
    }
    if doc_type == DocType.UNKNOWN:
        stats["unknown_doc_type"] = 1.0
    return pages, extraction.model_copy(update={"engine": engine, "stats": stats})
