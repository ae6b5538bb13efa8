"""Spend more OCR effort only where a required field came out unsure, within a CPU budget.

For each required field whose calibrated confidence is under the posting threshold, the band of
the page around where it was read (or the whole page when it was not found) is read again with
other Tesseract settings: another page-segmentation mode, upscaled, or binarised differently. The
band's words are replaced by the new reading, the same extractor reads the page again, and the
field keeps whichever reading it is surer of. Every Tesseract second counts against
``settings.cpu_budget_seconds`` and is reported as ``cascade_seconds``.
"""

from __future__ import annotations

import logging
import time
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


VARIANTS = (Variant(6, 2.0, "none"), Variant(4, 1.5, "otsu"), Variant(11, 2.0, "adaptive"))


def _band(page: Page, field: Field) -> tuple[int, int] | None:
    """Vertical pixel band to read again around a field (None: the whole page)."""
    if field.box is None or field.page != page.index:
        return None
    height = max(10.0, field.box[3] - field.box[1])
    if field.name == "vendor_name":
        return 0, int(min(page.height, field.box[3] + 3 * height))
    top = max(0.0, field.box[1] - 3 * height)
    bottom = min(page.height, field.box[3] + 6 * height)
    return int(top), int(bottom)


def reocr_band(gray: np.ndarray, band: tuple[int, int] | None, variant: Variant,
               settings: Settings) -> tuple[list[Word], float]:
    """Words of a horizontal band of the page image, read with ``variant``, in page pixels."""
    top, bottom = band if band is not None else (0, gray.shape[0])
    crop = gray[top:bottom, :]
    if crop.size == 0:
        return [], 0.0
    if variant.scale != 1.0:
        crop = cv2.resize(crop, None, fx=variant.scale, fy=variant.scale,
                          interpolation=cv2.INTER_CUBIC)
    if variant.binarise != "none":
        crop = binarise(cv2.medianBlur(crop, 3), variant.binarise)
    words, seconds = run_tesseract(crop, lang=settings.ocr_lang, psm=variant.psm, workers=1)
    out = []
    for w in words:
        x0, y0, x1, y1 = (v / variant.scale for v in w.box)
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
        if field is None or calibrated(field) < THRESHOLD:
            weak.append(name)
    return weak


def run_cascade(pages: list[Page], extraction: Extraction, source: Source, settings: Settings,
                extractor: Extractor) -> tuple[Extraction, float]:
    """The extraction with weak required fields re-read where that helped, and the seconds spent."""
    budget = settings.cpu_budget_seconds
    if budget <= 0 or not any(p.origin == Origin.OCR for p in pages):
        return extraction, 0.0
    weak = _weak(extraction)
    if not weak:
        return extraction, 0.0
    if BEFORE is not None and isinstance(source, Path):
        BEFORE[str(source)] = dict(extraction.fields)
    from extractors.pages import page_image

    spent = 0.0
    started = time.perf_counter()
    fields = dict(extraction.fields)
    images: dict[int, np.ndarray] = {}
    tried = 0
    for name in weak:
        current = fields.get(name)
        page = next((p for p in pages if current is not None and p.index == current.page), None)
        page = page or next((p for p in pages if p.origin == Origin.OCR), None)
        if page is None or page.origin != Origin.OCR:
            continue
        band = _band(page, current) if current is not None else None
        for variant in VARIANTS:
            if spent >= budget:
                break
            try:
                if page.index not in images:
                    images[page.index] = page_image(source, page, settings)
                words, seconds = reocr_band(images[page.index], band, variant, settings)
            except (BadDocumentError, RuntimeError, OSError) as exc:  # keep the first reading
                log.warning("cascade re-OCR failed: %s", exc)
                break
            spent += seconds
            tried += 1
            new_pages = [replace_band(p, band, words) if p.index == page.index else p for p in pages]
            again = extractor.extract(new_pages, source, settings).fields.get(name)
            if again is None or again.value is None:
                continue
            if current is not None and again.value == current.value and "+agree" not in current.method:
                # two independent readings agree: surer than either alone
                again = again.model_copy(update={
                    "confidence": round(min(1.0, max(again.confidence, current.confidence) + 0.1), 4),
                    "method": current.method + "+agree"})
            if current is None or again.confidence > current.confidence:
                current = again
                fields[name] = again
            if calibrated(current) >= THRESHOLD:
                break
    stats = {**extraction.stats, "cascade_reads": float(tried)}
    elapsed = max(spent, time.perf_counter() - started if tried else 0.0)
    return extraction.model_copy(update={"fields": fields, "stats": stats}), elapsed
