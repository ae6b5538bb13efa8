"""Light-on-dark print (a letterhead band, a table's header bar) is turned over before OCR,
and only that: the shadow over part of a photographed page is left as it is."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.settings import Settings
from extractors.ocr import invert_dark_bands
from extractors.pages import load_pages

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _letter_page() -> np.ndarray:
    """An A4 page at 300 dpi: a black band along the top edge with the seller's name in white,
    and dark print under it."""
    page = np.full((3508, 2480), 255, np.uint8)
    page[0:330, :] = 20
    cv2.putText(page, "KESTREL COMPONENTS LTD", (160, 210), FONT, 3.2, 255, 9, cv2.LINE_AA)
    for k, line in enumerate(["INVOICE NUMBER KC-2025/5472", "TOTAL DUE 3912.78 EUR"]):
        cv2.putText(page, line, (160, 700 + 160 * k), FONT, 2.2, 0, 6, cv2.LINE_AA)
    return page


def test_a_white_on_black_letterhead_is_read(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "letter.png"
    cv2.imwrite(str(path), _letter_page())
    text = load_pages(path, path.name, settings)[0].text.upper()
    assert "KESTREL" in text and "COMPONENTS" in text
    assert "3912.78" in text  # the print under the band is read as before


def test_the_band_is_turned_over_and_the_print_under_it_is_not() -> None:
    page = _letter_page()
    out = invert_dark_bands(page, 300)
    assert out[50:300, 20:2460].mean() > 200  # the band is light now
    assert (out[500:] == page[500:]).all()  # nothing below it changed


def test_a_shadow_over_half_the_page_is_not_a_band() -> None:
    page = np.full((2200, 1700), 235, np.uint8)
    page[:, 850:] = np.linspace(235, 95, 850).astype(np.uint8)[None, :]  # light falls off
    for k in range(30):
        cv2.putText(page, "PATIENT NAME MEDINA KAREN 05 06 2026", (60, 80 + 70 * k), FONT, 1.6, 10, 4)
    assert invert_dark_bands(page, 200) is page


def test_a_receipt_on_a_dark_table_is_not_turned_over() -> None:
    page = np.full((2400, 1600), 25, np.uint8)  # the table
    page[200:2200, 500:1100] = 240  # the receipt on it
    for k in range(20):
        cv2.putText(page, "TOTAL 12.00", (540, 300 + 90 * k), FONT, 1.4, 0, 3)
    out = invert_dark_bands(page, 200)
    assert (out[200:2200, 500:1100] == page[200:2200, 500:1100]).all()
