"""Till receipts: page shape picks the OCR mode, dark scan margins go, name and address lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import cv2
import numpy as np

from core.models import Origin, Page, Word
from extractors.layout import assign_lines, page_text
from extractors.ocr import clear_dark_margins, preprocess
from extractors.pages import PAGE_PSM, RECEIPT_PSM, page_psm
from extractors.receipt import clean_company, read_receipt


def _page(lines: list[str]) -> Page:
    """A receipt page from lines of text, each word boxed where a roll printer would put it."""
    words = []
    for row, line in enumerate(lines):
        x = 10.0
        for token in line.split():
            width = 12.0 * len(token)
            words.append(Word(text=token, box=(x, 20.0 + 30 * row, x + width, 40.0 + 30 * row),
                              conf=0.95))
            x += width + 12
    words = assign_lines(words)
    return Page(index=0, width=600, height=30 * len(lines) + 60, dpi=300, origin=Origin.OCR,
                text=page_text(words), words=words)


def test_roll_shaped_pages_get_the_roll_segmentation_mode() -> None:
    assert page_psm(np.zeros((1800, 700), np.uint8)) == RECEIPT_PSM  # 80 mm roll
    assert page_psm(np.zeros((3508, 2480), np.uint8)) == PAGE_PSM  # A4 portrait
    assert page_psm(np.zeros((2480, 3508), np.uint8)) == PAGE_PSM  # landscape


def _faint_receipt(with_margins: bool) -> np.ndarray:
    page = np.full((1400, 900), 250, np.uint8)
    for row in range(10):
        cv2.putText(page, f"TOTAL {row}.50", (120, 150 + 110 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.2,
                    190, 3)
    if with_margins:
        page[:, :25] = 5  # the scanner lid's black border beside a narrow slip
        page[:, -18:] = 10
    return page


def test_dark_scan_margins_are_whitened_and_the_print_kept() -> None:
    page = _faint_receipt(with_margins=True)
    cleared = clear_dark_margins(page)
    assert cleared[:, :25].min() > 200 and cleared[:, -18:].min() > 200
    assert np.array_equal(cleared[:, 60:-60], page[:, 60:-60])  # the print is untouched
    # Otsu on the cleared page now separates the faint print from the paper
    binary = cv2.threshold(cleared, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    assert (binary[:, 60:-60] == 0).sum() > 1000
    assert np.array_equal(clear_dark_margins(_faint_receipt(False)), _faint_receipt(False))


def test_a_dark_band_reaching_the_edge_keeps_its_inner_part() -> None:
    page = np.full((1000, 800), 250, np.uint8)
    page[100:160, :] = 0  # a black header bar across the page
    cleared = clear_dark_margins(page)
    assert (cleared[100:160, 100:700] == 0).all()
    assert preprocess(page).gray.shape == page.shape


def test_company_names_from_ocr() -> None:
    assert clean_company("AEON CO. {M) BHD") == "AEON CO. (M) BHD"
    assert clean_company("99 SPEED MART 5/8 (S19537-X)") == "99 SPEED MART S/B"
    assert clean_company("MOONLIGHT CAKE HOUSE SDN BHD 862/25-U") == "MOONLIGHT CAKE HOUSE SDN BHD"
    assert clean_company("TEO HENG STATIONERY § BOOKS") == "TEO HENG STATIONERY & BOOKS"
    assert clean_company("MR. D.I.Y¥. (M) SDN BHD") == "MR. D.I.Y. (M) SDN BHD"


def test_name_is_not_an_address_line_and_address_loses_ids_and_phone() -> None:
    page = _page([
        "99 SPEED MART 5/8 (S19537-X)",
        "(JM0517726) LOT 2811, JALAN ANGSA,",
        "TAMAN BERKELEY",
        "41150 KLANG, SELANGOR 03-3343 1234",
        "TAX INVOICE",
        "15-05-18 14:02",
        "TOTAL 137.15",
        "CASH 150.00",
        "CHANGE 12.85",
    ])
    fields = read_receipt([page])
    assert fields["vendor_name"].value == "99 SPEED MART S/B"
    assert fields["address"].value == "LOT 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR"
    assert fields["total_amount"].value == Decimal("137.15")
    assert fields["invoice_date"].value == dt.date(2018, 5, 15)


def test_street_line_above_the_name_is_not_the_name() -> None:
    page = _page([
        "NO 8, JALAN 7/118B, DESA TUN RAZAK",
        "56000 KUALA LUMPUR, MALAYSIA",
        "SUNWAY HARDWARE SDN BHD",
        "TOTAL 10.00",
    ])
    assert read_receipt([page])["vendor_name"].value == "SUNWAY HARDWARE SDN BHD"


def test_an_item_table_taxcode_header_is_not_the_gst_summary() -> None:
    page = _page([
        "SOON FATT S/B (81497-P)",
        "DESC QTY PRICE AMOUNT TAXCODE",
        "1 10.00 100.00 ZRL",
        "Total Inc. GST 6%: 362.50",
        "Final Total 362.50",
        "Cash : 400.00",
        "Change : 37.50",
        "GST Summary Amount (RM) Tax(RM)",
        "TOTAL 247.64 14.86",
    ])
    assert read_receipt([page])["total_amount"].value == Decimal("362.50")


def test_tender_and_printed_sums_agreeing_beat_a_misread_total_line() -> None:
    page = _page([
        "KEDAI RUNCIT MAJU ENTERPRISE",
        "SUB-TOTAL : 13.00",
        "GOV TAX : 0.78",
        "ROUNDING : 0.02",
        "TOTAL 43.80",  # OCR read the 1 as a 4
        "CASH 13.80",
        "CHANGE 0.00",
    ])
    total = read_receipt([page])["total_amount"]
    assert total.value == Decimal("13.80")
    assert total.method == "tender+sum"
