"""Scan defects undone before Tesseract: grain and pepper are smoothed (their speckle otherwise
reads as letters between the words: ``eo Harbour & Finch Lta ee``), and a shadow over part of
the page is evened out. Clean renders and the dev sets' photos are left as they are."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import cv2
import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.settings import Settings
from extractors import read_document
from extractors.ocr import NOISY, SPECKLED, even_out_light, is_grainy, noise_level, speckle
from extractors.pages import open_pdf, render_pdf_page

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _invoice_pdf(path: Path) -> Path:
    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    for x, y, text, size in [
        (50, 50, "Harbour & Finch Ltd", 14), (400, 50, "TAX INVOICE", 14),
        (50, 66, "Unit 4, Riverside Works, Bristol BS1 6UX", 9),
        (380, 100, "Invoice No.", 9), (470, 100, "HF-10293", 9),
        (380, 114, "Invoice Date", 9), (470, 114, "28/02/2024", 9),
        (380, 270, "Net Total", 9), (470, 270, "£525.00", 9),
        (380, 284, "VAT @ 20%", 9), (470, 284, "£105.00", 9),
        (380, 300, "Total (GBP)", 10), (470, 300, "£630.00", 10),
    ]:
        pdf.setFont("Helvetica", size)
        pdf.drawString(x, A4[1] - y, text)
    pdf.save()
    return path


def _peppered_scan(pdf_path: Path, share: float) -> np.ndarray:
    """A fax-like page: ``share`` of its pixels turned black, as many white."""
    page = render_pdf_page(open_pdf(pdf_path.read_bytes()), 0, 200)
    dots = np.random.default_rng(11).random(page.shape)
    page[dots < share] = 0
    page[dots > 1 - share] = 255
    return page


def _grainy_scan(pdf_path: Path, sigma: float) -> np.ndarray:
    page = render_pdf_page(open_pdf(pdf_path.read_bytes()), 0, 200)
    h, w = page.shape
    page = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), 1.5, 1.0), (w, h),
                          borderValue=255)
    page = cv2.GaussianBlur(page, (3, 3), 0.8)
    noise = np.random.default_rng(7).normal(0, sigma, page.shape)
    return np.clip(page.astype(float) + noise - 10, 0, 255).astype(np.uint8)


def test_noise_level_tells_a_grainy_scan_from_clean_print(tmp_path: Path) -> None:
    pdf = _invoice_pdf(tmp_path / "invoice.pdf")
    clean = render_pdf_page(open_pdf(pdf.read_bytes()), 0, 200)
    assert noise_level(clean) < 1.0
    assert noise_level(_grainy_scan(pdf, 6)) < NOISY  # light grain: read as it is
    assert noise_level(_grainy_scan(pdf, 18)) >= NOISY


@pytest.mark.skipif(not (SHARED / "sroie").is_dir(), reason="../shared/datasets not present")
def test_the_dev_sets_photos_and_scans_are_not_smoothed() -> None:
    images = sorted(SHARED.glob("sroie/dev/*.jpg")) + sorted(SHARED.glob("hcfa1500_synthetic/dev/*.png"))
    assert len(images) > 50
    pages = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in images]
    assert max(noise_level(page) for page in pages) < NOISY
    assert max(speckle(page) for page in pages) < SPECKLED
    assert not any(is_grainy(page) for page in pages)



def test_pepper_is_told_from_print(tmp_path: Path) -> None:
    pdf = _invoice_pdf(tmp_path / "invoice.pdf")
    clean = render_pdf_page(open_pdf(pdf.read_bytes()), 0, 200)
    assert speckle(clean) < 0.1 and not is_grainy(clean)
    assert speckle(_peppered_scan(pdf, 0.003)) >= SPECKLED
    assert is_grainy(_peppered_scan(pdf, 0.01))



def _shadowed_photo(pdf_path: Path) -> np.ndarray:
    """The page lit from the right: the paper darkens to 45 % towards its left edge."""
    page = render_pdf_page(open_pdf(pdf_path.read_bytes()), 0, 200)
    light = np.tile(np.linspace(0.45, 1.0, page.shape[1]), (page.shape[0], 1))
    return np.clip(page * light, 0, 255).astype(np.uint8)


def test_uneven_light_is_evened_out_and_even_light_left_alone(tmp_path: Path) -> None:
    pdf = _invoice_pdf(tmp_path / "invoice.pdf")
    clean = render_pdf_page(open_pdf(pdf.read_bytes()), 0, 200)
    assert even_out_light(clean) is clean
    evened = even_out_light(_shadowed_photo(pdf))
    left_paper = evened[:, : evened.shape[1] // 10]
    assert np.percentile(left_paper, 50) > 240  # the shadowed paper is white again
    assert evened.min() < 60  # and the print still black


DEFECTS: dict[str, Callable[[Path], np.ndarray]] = {
    "grain": lambda pdf: _grainy_scan(pdf, 18),
    "pepper": lambda pdf: _peppered_scan(pdf, 0.01),
    "shadow": _shadowed_photo,
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_an_invoice_scanned_with_a_defect_is_read(
    tmp_path: Path, settings: Settings, defect: str
) -> None:
    """Before the defects were undone: a seller ``a Oy`` or ``Invoice No.``, no number, a
    total of -630.00 or 240.00."""
    scan = tmp_path / f"{defect}.png"
    cv2.imwrite(str(scan), DEFECTS[defect](_invoice_pdf(tmp_path / "invoice.pdf")))
    _, extraction = read_document(scan, scan.name, settings)
    assert extraction.value("vendor_name") == "Harbour & Finch Ltd"
    assert extraction.value("invoice_number") == "HF-10293"
    assert extraction.value("total_amount") == Decimal("630.00")
