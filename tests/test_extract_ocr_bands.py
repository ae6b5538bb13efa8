"""Light-on-dark print (a letterhead band, a table's header bar) is turned over before OCR,
and only that: the shadow over part of a photographed page and a line of big bold letters are
left as they are. Light-grey print is darkened so that Tesseract's one threshold keeps it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.settings import Settings
from extractors.ocr import darken_faint_print, invert_dark_bands, rotate
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


def _table_page() -> np.ndarray:
    """A page whose item table has a mid-grey header bar with white column heads, a lightly
    shaded row, and the seller's legal details in grey at the foot; the rest is black print."""
    page = np.full((3508, 2480), 255, np.uint8)
    # the letterhead: big bold letters close enough together to look like one dark block
    cv2.putText(page, "PACANO", (160, 300), cv2.FONT_HERSHEY_DUPLEX, 6.0, 0, 40, cv2.LINE_AA)
    for k in range(8):  # the body: black print, as most of a page's ink is
        cv2.putText(page, "DELIVERY NOTE 4471 PORT OF LEITH 22 05 2026", (160, 600 + 90 * k), FONT,
                    1.8, 0, 5, cv2.LINE_AA)
    page[1400:1520, 150:2330] = 90  # the header bar
    cv2.putText(page, "DESCRIPTION  QUANTITY  PRICE  TOTAL", (200, 1485), FONT, 2.0, 255, 5, cv2.LINE_AA)
    cv2.putText(page, "ROPE 20 M  6  205.90  1235.40", (200, 1640), FONT, 2.0, 0, 5, cv2.LINE_AA)
    page[1700:1800, 150:2330] = 230  # a shaded row
    cv2.putText(page, "CITY TAX  6  1.65  9.90", (200, 1775), FONT, 2.0, 0, 5, cv2.LINE_AA)
    for k in range(3):
        cv2.putText(page, "PACANO HOTELS SAS  VAT FR40123456824", (300, 3200 + 90 * k), FONT,
                    1.6, 145, 4, cv2.LINE_AA)
    return page


def test_a_grey_header_bar_becomes_dark_print_on_white() -> None:
    out = invert_dark_bands(_table_page(), 300)
    bar = out[1400:1520, 150:2330]
    assert np.median(bar) >= 250  # the bar's shade is the paper's white now, not a mid-grey
    assert bar.min() <= 40  # and its letters are dark


def test_big_bold_letters_are_not_taken_for_a_band() -> None:
    page = _table_page()
    out = invert_dark_bands(page, 300)
    assert (out[:600] == page[:600]).all()  # the letterhead name is as printed


def test_grey_print_is_darkened_and_light_shading_is_not() -> None:
    page = invert_dark_bands(_table_page(), 300)
    level = cv2.threshold(page, 0, 255, cv2.THRESH_OTSU)[0]
    assert page[3100:3500].min() > level  # one threshold for the page would lose the grey print
    out = darken_faint_print(page)
    assert out[3100:3500].min() < level
    assert (out[1700:1800] == page[1700:1800]).all()  # the shaded row, with its black print
    assert (out[:1400] == page[:1400]).all()  # the black print above the table


def test_pages_without_grey_print_are_left_alone() -> None:
    page = _letter_page()
    assert (darken_faint_print(page) == page).all()


def test_the_grey_bar_the_shaded_row_and_the_grey_footer_are_all_read(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "table.png"
    cv2.imwrite(str(path), _table_page())
    text = load_pages(path, path.name, settings)[0].text.upper()
    assert "QUANTITY" in text
    assert "9.90" in text
    assert "FR40123456824" in text


def test_a_band_split_in_two_blocks_is_turned_over_once() -> None:
    """A light emblem splits the band into two blocks that both lead to the same band: it is
    turned over once, not turned and turned back."""
    page = np.full((3508, 2480), 255, np.uint8)
    page[0:330, :] = 20
    page[10:320, 1160:1260] = 255  # the emblem, joined to the rest only by thin rims
    cv2.putText(page, "KESTREL", (160, 210), FONT, 3.2, 255, 9, cv2.LINE_AA)
    cv2.putText(page, "COMPONENTS", (1500, 210), FONT, 3.2, 255, 9, cv2.LINE_AA)
    for k in range(8):
        cv2.putText(page, "DELIVERY NOTE 4471 PORT OF LEITH", (160, 600 + 90 * k), FONT, 1.8, 0, 5)
    out = invert_dark_bands(page, 300)
    assert out[100:120, 20:100].mean() > 200
    assert out[100:120, 2300:2460].mean() > 200



def test_a_mid_grey_letterhead_bar_on_a_scan_is_read(tmp_path: Path, settings: Settings) -> None:
    """The random stress set's invoice 25 of seed 8000: a scanned invoice whose letterhead is a
    mid-grey bar (41 % as bright as the paper, noisy) with the seller's name in white, tall
    enough that evening out the light took it for a shadow and left the letters in dark
    blots. The bar is turned over before the light is evened out, and the name is read."""
    from samples.stress_invoices import write_one

    path = write_one(tmp_path, 25, 8000, scanned=True)
    page = load_pages(path, path.name, settings)[0]
    in_bar = " ".join(w.text for w in page.words if w.box[3] < 0.1 * page.height)
    assert "Albans Lighting Ltd" in in_bar  # (the footer names the seller too)
    assert "3 Verulam Court" in page.text  # the print under the bar is read as before


def test_a_header_bar_on_a_skewed_scan_is_turned_over_to_its_ends(
    tmp_path: Path, settings: Settings
) -> None:
    """Seed 68000's invoice 23: a header bar scanned 1.7° askew is 64 px higher at one end
    than at the other, so its upright box held as much paper as bar and it was left dark:
    no column head was read and the item table was lost. A band's density is now measured in
    its own tilted box, and its rows along its tilt, so it is turned over to its ends, where
    it crosses the page's rows only in part (no dark wedge is left over the heads there)."""
    page = rotate(_table_page(), 1.7)
    out = invert_dark_bands(page, 300)
    bar = rotate(out, -1.7)[1410:1510, 170:2310]
    assert np.median(bar) >= 240  # light to its ends
    assert (bar[:, :300] < 128).mean() < 0.25 and (bar[:, -300:] < 128).mean() < 0.25
    path = tmp_path / "skewed.png"
    cv2.imwrite(str(path), page)
    text = load_pages(path, path.name, settings)[0].text.upper()
    assert "DESCRIPTION" in text and "QUANTITY" in text
