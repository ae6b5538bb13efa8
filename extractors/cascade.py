"""Spend more OCR effort only where a required field came out unsure, within a CPU budget.

When a required field's calibrated confidence is under the posting threshold, the page that
holds it (the first OCR page when it was not found) is read again with other Tesseract settings —
another page-segmentation mode (psm 6 and 4 keep receipt and table rows that psm 3 drops), or
upscaled — and the same extractor reads the new words. Readings are merged field by field: a
value two readings agree on is surer than either; a different value replaces the first only when
clearly surer. Every Tesseract second counts against ``settings.cpu_budget_seconds`` and is
reported as ``cascade_seconds``. ``reocr_band``/``replace_band`` also re-read a horizontal band.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import BadDocumentError
from core.models import Box, DocType, Extraction, Field, Origin, Page, Word
from core.settings import Settings
from extractors.layout import assign_lines, page_text
from extractors.ocr import binarise, run_tesseract
from extractors.registry import Extractor, calibrated

Source = bytes | Path
log = logging.getLogger(__name__)

REQUIRED: dict[DocType, tuple[str, ...]] = {
    DocType.INVOICE: ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency"),
    DocType.RECEIPT: ("vendor_name", "invoice_date", "total_amount"),
}
"""Fields worth more OCR effort (the default policy's required fields; claims run their own)."""
THRESHOLD = 0.90

BEFORE: dict[str, dict[str, Field]] | None = None
"""When evaluation sets this to a dict, each run stores the fields it started from (keyed by the
source path) so that eval can show what the cascade changed. Unused in production."""


@dataclass(frozen=True)
class Variant:
    psm: int
    scale: float
    binarise: str


MAX_WIDTH = 2400
"""Upscaling stops at this width: a 300 dpi page is already as large as Tesseract wants."""
VARIANTS = (Variant(6, 1.0, "none"), Variant(4, 1.0, "none"), Variant(3, 2.0, "none"))
"""Whole-page re-readings, in the order tried (psm 6 reads table rows psm 3 drops)."""


def reocr_band(
    gray: np.ndarray, band: tuple[int, int] | None, variant: Variant, settings: Settings
) -> tuple[list[Word], float]:
    """Words of a horizontal band of the page image, read with ``variant``, in page pixels."""
    top, bottom = band if band is not None else (0, gray.shape[0])
    crop = gray[top:bottom, :]
    if crop.size == 0:
        return [], 0.0
    scale = max(1.0, min(variant.scale, MAX_WIDTH / max(1, crop.shape[1])))
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if variant.binarise != "none":
        crop = binarise(cv2.medianBlur(crop, 3), variant.binarise)
    words, seconds = run_tesseract(crop, lang=settings.ocr_lang, psm=variant.psm, workers=1)
    out = []
    for w in words:
        x0, y0, x1, y1 = (v / scale for v in w.box)
        box: Box = (x0, y0 + top, x1, y1 + top)
        out.append(w.model_copy(update={"box": box}))
    return out, seconds


def replace_band(page: Page, band: tuple[int, int] | None, words: list[Word]) -> Page:
    if band is None:
        kept: list[Word] = []
    else:
        top, bottom = band
        kept = [w for w in page.words if not top <= (w.box[1] + w.box[3]) / 2 <= bottom]
    merged = assign_lines(kept + words)
    return page.model_copy(update={"words": merged, "text": page_text(merged)})


def _weak(extraction: Extraction) -> list[str]:
    names = REQUIRED.get(extraction.doc_type, ())
    weak = []
    for name in names:
        field = extraction.fields.get(name)
        if field is None or calibrated(field, origin="ocr") < THRESHOLD:
            weak.append(name)
    return weak


MARGIN = 0.05
"""A different value replaces the first reading only when it is surer by this much."""


def merge(current: Field | None, again: Field | None) -> Field | None:
    """The better of two readings of one field; two agreeing readings are surer than either."""
    if again is None or again.value is None:
        return current
    if current is None:
        return again
    if again.value == current.value:
        if current.method.endswith("+agree"):
            return current
        return current.model_copy(
            update={
                "confidence": round(min(1.0, max(again.confidence, current.confidence) + 0.1), 4),
                "method": current.method + "+agree",
            }
        )
    if again.confidence > current.confidence + MARGIN:
        return again
    return current


def run_cascade(
    pages: list[Page],
    extraction: Extraction,
    source: Source,
    settings: Settings,
    extractor: Extractor,
) -> tuple[Extraction, float]:
    """The extraction with weak required fields re-read where that helped, and the seconds spent.

    Each step re-reads the pages that hold a weak field (the first OCR page for a field not found)
    with the next variant, runs the same extractor again and merges field by field; it stops
    when every required field clears the threshold or the budget is spent.
    """
    budget = settings.cpu_budget_seconds
    if budget <= 0 or not any(p.origin == Origin.OCR for p in pages):
        return extraction, 0.0
    weak = _weak(extraction)
    if not weak:
        return extraction, 0.0
    if BEFORE is not None and isinstance(source, Path):
        BEFORE[str(source)] = dict(extraction.fields)
    from extractors.pages import page_image

    fields = dict(extraction.fields)
    spent = 0.0
    reads = 0
    images: dict[int, np.ndarray] = {}
    first_ocr = next(p.index for p in pages if p.origin == Origin.OCR)
    for variant in VARIANTS:
        if not weak or spent >= budget:
            break
        wanted = sorted(
            {
                (fields[n].page if n in fields and fields[n].page is not None else first_ocr)
                for n in weak
            }
        )
        new_pages = list(pages)
        for index in wanted:
            page = pages[index] if index < len(pages) else None
            if page is None or page.origin != Origin.OCR or spent >= budget:
                continue
            if (
                variant.psm == 3
                and variant.binarise == "none"
                and page.width * variant.scale > MAX_WIDTH
            ):
                continue  # would repeat the first reading
            try:
                if index not in images:
                    images[index] = page_image(source, page, settings)
                words, seconds = reocr_band(images[index], None, variant, settings)
            except (BadDocumentError, RuntimeError, OSError) as exc:  # keep the first reading
                log.warning("cascade re-OCR failed: %s", exc)
                continue
            spent += seconds
            reads += 1
            new_pages[index] = replace_band(page, None, words)
        if new_pages == pages:
            break
        again = extractor.extract(new_pages, source, settings).fields
        for name in weak:
            merged = merge(fields.get(name), again.get(name))
            if merged is not None:
                fields[name] = merged
        weak = [
            n for n in weak if n not in fields or calibrated(fields[n], origin="ocr") < THRESHOLD
        ]
    stats = {**extraction.stats, "cascade_reads": float(reads)}
    return extraction.model_copy(update={"fields": fields, "stats": stats}), spent
