"""Till receipts: page shape picks the OCR mode, dark scan margins go, name and address lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.models import Field, Origin, Page, Word
from core.settings import Settings
from extractors import pages
from extractors.cascade import judge, vote
from extractors.layout import assign_lines, mean_conf, page_text
from extractors.ocr import clear_dark_margins, preprocess
from extractors.pages import PAGE_PSM, RECEIPT_PSM, page_psm
from extractors.receipt import clean_company, fix_trade_words, read_receipt, repaired_dates


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
    # the TOTAL line one digit off the checked bill is that bill misread: it counts for it
    assert total.method == "plain+check"


def test_the_rounded_total_paid_wins_over_the_total_before_rounding() -> None:
    page = _page([
        "POPULAR BOOK",
        "CO. (M) SDN BHD",
        "(Co. No. 113825-W)",
        "Total RM Incl. of GST 31.47",
        "Rounding Adj -0.02",
        "Total RH 34.45",  # the paid 31.45, misread
        "Cash 80.00",
        "CHANGE 48.55",
    ])
    fields = read_receipt([page])
    assert fields["total_amount"].value == Decimal("31.45")
    assert fields["vendor_name"].value == "POPULAR BOOK CO. (M) SDN BHD"


def test_a_net_total_under_the_rounding_line_beats_the_grand_total_above_it() -> None:
    page = _page([
        "KEDAI MAJU SDN BHD",
        "Grand Total : 87.08",
        "Rounding Adjustment:",
        "Net Total : 87.10",
    ])
    assert read_receipt([page])["total_amount"].value == Decimal("87.10")


def test_a_receipt_that_stops_at_the_rounding_line_is_for_its_printed_total() -> None:
    page = _page([
        "TIMES BOOKSTORES",
        "CASH 73.00",
        "Subtotal 62.55",
        "Total: 72.93",
        "RND ADJ 0.02",
        "Change Due 0.05",
    ])
    assert read_receipt([page])["total_amount"].value == Decimal("72.93")


def test_a_tender_line_under_a_total_label_is_not_the_total() -> None:
    page = _page([
        "SLF CASH & CARRY",
        "Total Sales (Excluding GST) 20.00",
        "Rounding : 0.00",
        "(Inclusive of GST)",
        "CASH : 100.00",
        "Change : 78.80",
    ])
    assert read_receipt([page])["total_amount"].value == Decimal("21.20")


def test_owner_prefix_goes_and_a_stray_dollar_does_not_make_ringgit_dollars() -> None:
    page = _page([
        "OWN BY: CHEF LEE SDN BHD",
        "LOT 2811, JALAN ANGSA,",
        "Item $ 1 RM4.15",
        "TOTAL RM 4.15",
    ])
    fields = read_receipt([page])
    assert fields["vendor_name"].value == "CHEF LEE SDN BHD"
    assert fields["currency"].value == "MYR"


def test_dates_that_ocr_bent_are_repaired() -> None:
    assert [d for d, _, _ in repaired_dates("Date : G5 Jan 2017 12:41pm")] == ["05/01/2017"]
    assert [d for d, _, _ in repaired_dates("CB: 78293 14/dun/2017 08:34")] == ["14/06/2017"]
    assert [d for d, _, _ in repaired_dates("2703/2018 NO CS-20243")] == ["27/03/2018"]
    assert repaired_dates("Invoice 12345678901") == []
    page = _page(["KEDAI MAJU SDN BHD", "Date : G5 Jan 2017 12:41pm", "TOTAL 5.00"])
    assert read_receipt([page])["invoice_date"].value == dt.date(2017, 1, 5)


def test_a_total_beside_a_savings_column_and_one_larger_than_the_cash() -> None:
    two_columns = _page([
        "ANEKA MARKETING SDN BHD",
        "TOTAL SAVING; 0.00 TOTAL 6.85",
        "Cash 20.00",
        "CHANGE 13.15",
    ])
    assert read_receipt([two_columns])["total_amount"].value == Decimal("6.85")
    stray_digit = _page([
        "ECO-SHOP MARKETING SDN BHD",
        "Total : 716.34",  # a smudge read as a leading 7
        "Rounding Adj: -0.01",
        "Payment (Cash) : 17.00",
        "Change (Cash) : 0.70",
    ])
    assert read_receipt([stray_digit])["total_amount"].value == Decimal("16.30")


def test_names_over_three_lines_logo_fragments_and_misread_trade_words() -> None:
    three_lines = _page([
        "AIK HUAT HARDWARE",
        "ENTERPRISE (SETIA",
        "ALAM) SDN BHD",
        "922737-X",
        "NO. 17-G, JALAN SETIA INDAH",
        "TOTAL 7.00",
    ])
    assert (read_receipt([three_lines])["vendor_name"].value
            == "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD")
    logo = _page([
        "COFFEE",
        "EIGHT OUNCE COFFEE CO.",
        "F.K06, First Floor, The Gardens Mall,",
        "TOTAL 39.90",
    ])
    assert read_receipt([logo])["vendor_name"].value == "EIGHT OUNCE COFFEE CO."
    assert fix_trade_words("VERBENA CONFECTIUNERY SDN BHD") == "VERBENA CONFECTIONERY SDN BHD"
    assert fix_trade_words("KESTAURANT JIAWEI") == "RESTAURANT JIAWEI"
    assert fix_trade_words("MARK") == "MARK"  # short words lie too close to each other


def test_name_slips_ocr_makes_are_undone_and_real_abbreviations_kept() -> None:
    # four-letter trade words only for letters OCR confuses; long words two edits away
    assert fix_trade_words("MOONLIGHT GAKE HOUSE SDN BHD") == "MOONLIGHT CAKE HOUSE SDN BHD"
    assert fix_trade_words("99 SPEED WART S/B") == "99 SPEED MART S/B"
    assert fix_trade_words("WILL MARK") == "WILL MARK"  # K/T: not a confusable pair
    assert fix_trade_words("PERNEIAGAGN RIANG RIA.") == "PERNIAGAAN RIANG RIA"
    assert (fix_trade_words("AIK HUAT HARDWARE ENTERPRISE. (SETIA ALAM) SDN BHD")
            == "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD")
    assert fix_trade_words("MR. D.1.Y. (4) SDN BHD") == "MR. D.I.Y. (M) SDN BHD"
    # full stops that belong: abbreviations, initials, an all-digit name is not initials
    for kept in ("BEMED (SP) SDN. BHD.", "EIGHT OUNCE COFFEE CO.", "S.H.H. MOTOR SDN. BHD.",
                 "7.8.8 LEISURE SDN BHD", "ABC ENT."):
        assert fix_trade_words(kept) == kept


def _reading(value: object, conf: float, method: str = "company_words") -> Field:
    return Field(name="vendor_name", value=value, confidence=conf, method=method)


def test_re_readings_vote_and_enlarged_date_lines_overrule_only_together() -> None:
    book, bode = "POPULAR BOOK CO. (M) SDN BHD", "POPULAR BODE CO. (M) SDN BHD"
    voted = vote([_reading(book, 0.30), _reading(bode, 0.40), _reading(book, 0.30)])
    assert voted.value == book and voted.method == "company_words+agree"
    assert vote([_reading(book, 0.30), _reading(bode, 0.30)]).value == book  # ties: first
    page_date = _reading(dt.date(2018, 5, 26), 0.5, "pattern")
    right = _reading(dt.date(2018, 5, 28), 0.45, "pattern")
    assert judge(page_date, [right, right]).value == dt.date(2018, 5, 28)
    assert judge(page_date, [right]).value == dt.date(2018, 5, 26)
    confirmed = judge(page_date, [right, page_date])
    assert confirmed is not None and confirmed.method == "pattern+agree"
    assert judge(None, [right]) is right
    # one enlarged reading much surer than a page reading nothing confirmed replaces it …
    lone = _reading(dt.date(2018, 6, 20), 0.28, "label")
    clear, other = _reading(dt.date(2018, 5, 20), 0.48, "label"), _reading(dt.date(2018, 8, 20), 0.42)
    assert judge(lone, [clear, other]) is clear
    # … but not a page reading two readings agreed on, nor one only a little less sure
    agreed = _reading(dt.date(2018, 6, 20), 0.28, "label+agree")
    assert judge(agreed, [clear, other]) is agreed
    assert judge(_reading(dt.date(2018, 6, 20), 0.40, "label"), [clear]).value == dt.date(2018, 6, 20)


SROIE_DEV = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sroie" / "dev"


@pytest.mark.skipif(not SROIE_DEV.exists(), reason="needs ../shared/datasets (SROIE dev)")
def test_a_faint_roll_is_also_read_with_thickened_strokes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worn roll whose broken strokes Tesseract reads unsurely (mean word confidence under
    ``FAINT_CONF``) is read again thickened, and the surer reading is kept."""
    gray = cv2.imread(str(SROIE_DEV / "X51006350763.jpg"), cv2.IMREAD_GRAYSCALE)
    settings = Settings(workers=1)
    faint = pages.FAINT_CONF
    page = pages._ocr_page(gray, 0, 300, settings, None)
    monkeypatch.setattr(pages, "FAINT_CONF", 0.0)
    plain = pages._ocr_page(gray, 0, 300, settings, None)
    assert mean_conf(plain.words) < faint
    assert pages._sure_text(page.words) > 1.3 * pages._sure_text(plain.words)
    assert "104.00" in page.text


def test_a_german_till_receipt() -> None:
    """``SUMME`` labels the total, ``Geg. BAR`` / ``Rückgeld`` are the tender and the change;
    before, the receipt was not even classified and the total came out as a repeated 1,85."""
    from extractors.classify import classify

    page = _page([
        "EDEKA Frischemarkt",
        "Lindenallee 5, 04109 Leipzig",
        "Vollmilch 3,5% 1,29 A",
        "Bio Apfel 1kg 2,99 A",
        "Spulmittel 1,85 B",
        "SUMME EUR 6,13",
        "Geg. BAR EUR 10,00",
        "Ruckgeld BAR EUR 3,87",
        "B 19% 1,55 0,30 1,85",
        "15.03.2024 18:07 Bon-Nr. 4711",
        "Vielen Dank fur Ihren Einkauf",
    ])
    assert classify([page])[0].value == "receipt"
    fields = read_receipt([page])
    assert fields["total_amount"].value == Decimal("6.13")
    assert fields["invoice_date"].value == dt.date(2024, 3, 15)


def test_a_receipt_address_ends_at_the_first_priced_item() -> None:
    fields = read_receipt([_page([
        "TRADER BEE MARKET",
        "552 SEATTLE WA",
        "BANANAS 0.99",
        "OAT MILK 3.49",
        "TOTAL 4.48",
    ])])
    assert fields["address"].value == "552 SEATTLE WA"


def _deli(address: list[str], date: str) -> dict[str, Field]:
    return read_receipt([_page([
        "CORNER DELI & GROCERY",
        *address,
        f"{date} 11:52 AM REG 2",
        "TURKEY CLUB 12.95",
        "ICED COFFEE LG 4.25",
        "TOTAL 17.20",
    ])])


def test_an_american_address_writes_the_date_month_first() -> None:
    """The dollar signs did not read (a worn roll): the state and ZIP code still say that
    ``07/09/2023`` is 9 July. Before, it came out as 7 September at 0.90."""
    for address in (["145 W 23RD ST", "NEW YORK NY 10011"], ["145 W 23RD ST", "(212) 555-0134"]):
        fields = _deli(address, "07/09/2023")
        assert fields["invoice_date"].value == dt.date(2023, 7, 9)
        assert fields["invoice_date"].method != "unsure_order"


def test_a_date_whose_order_the_receipt_does_not_show_is_marked_unsure() -> None:
    unsure = _deli(["145 WEST STREET"], "07/09/2023")["invoice_date"]
    assert unsure.method == "unsure_order" and unsure.confidence <= 0.6
    clear = _deli(["145 WEST STREET"], "17/09/2023")["invoice_date"]  # no month 17
    assert clear.value == dt.date(2023, 9, 17) and clear.method != "unsure_order"
    malaysian = _deli(["NO 5, JALAN BESAR", "81200 JOHOR BAHRU"], "07/09/2023")["invoice_date"]
    assert malaysian.value == dt.date(2023, 9, 7) and malaysian.method != "unsure_order"


def test_a_company_number_is_not_the_first_line_of_the_address() -> None:
    """``(CO. NO. 3926-U)`` under the name: its ``NO. 3`` is no house number."""
    fields = read_receipt([_page([
        "SHELL MALAYSIA TRADING SDN BHD",
        "(CO. NO. 3926-U)",
        "STESEN MINYAK SHELL BANDAR PUCHONG",
        "JALAN PUCHONG, 47100 PUCHONG",
        "GST NO: 000123498765",
        "TOTAL 50.00",
    ])])
    assert fields["address"].value == "STESEN MINYAK SHELL BANDAR PUCHONG JALAN PUCHONG, 47100 PUCHONG"


def test_the_tax_summary_is_an_independent_reading_of_the_total() -> None:
    from extractors.invoice import context
    from extractors.receipt import summary_sum

    page = _page([
        "GST Summary Amount(RM) Tax(RM)",
        "SR @ 6% 127.20 7.60",  # 6 % of 127.20 is 7.63: tills round item by item
        "ZR @ 0% 2.35",
        "EX 0% 0.00 0.00",
    ])
    assert summary_sum(context([page]).rows) == Decimal("137.15")
    wrong = _page(["SR @ 6% 127.20 17.60"])  # no 6 % share: a misread, so no sum at all
    assert summary_sum(context([wrong]).rows) is None


def test_a_labelled_total_one_digit_off_the_confirmed_bill_is_that_bill_misread() -> None:
    """``TOTAL INCL GST 62.06`` (a worn 0), while the subtotal of tax-inclusive prices and the
    GST summary both say 62.00: before, the total came out 62.06."""
    fields = read_receipt([_page([
        "TANJONG BOOKCENTRE SDN BHD",
        "CALCULATOR SCIENTIFIC 1 53.08 53.08",
        "GEL PEN 1 8.92 8.92",
        "SUB-TOTAL 62.00",
        "TOTAL INCL GST RM 62.06",
        "CARD TYPE : VISA 62.88",
        "GST Taxable Amt GST Amt",
        "SR 6% 58.49 3.51",
    ])])
    assert fields["total_amount"].value == Decimal("62.00")
    assert fields["total_amount"].method == "label+check"


def test_a_gst_line_and_a_heading_between_the_name_and_the_address_do_not_end_it() -> None:
    # The GST registration and the TAX INVOICE heading stand between the name and the address
    # on many rolls: they had ended the address before its first line (the address was none).
    fields = read_receipt([_page([
        "ECO-SHOP MARKETING SDN BHD",
        "GST Reg. No : 000313901056",
        "Company No: 734055-M",
        "Lot F1-01, 6, Jalan 8/27A,",
        "53300 Kuala Lumpur, Malaysia.",
        "Tel: 03-4142 4540",
        "19/05/2018 12:01 Cashier: 465",
        "TOTAL 12.30",
    ])])
    assert fields["vendor_name"].value == "ECO-SHOP MARKETING SDN BHD"
    assert fields["address"].value == "Lot F1-01, 6, Jalan 8/27A, 53300 Kuala Lumpur, Malaysia."
    fields = read_receipt([_page([
        "FARMASI MALURI S/B(587969-U)",
        "TAX INVOICE",
        "23, Jln Burung Jentayu,",
        "52100 KL.",
        "Receipt : 71857936 02/03/18 05:16 PM",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "23, Jln Burung Jentayu, 52100 KL."


def test_an_address_line_that_runs_on_into_the_phone_keeps_its_place() -> None:
    fields = read_receipt([_page([
        "MOONLIGHT CAKE HOUSE SDN BHD 862725-U",
        "No.1, Jalan Permas 10/5, Bandar Baru Permas Jaya",
        "81750 Johor Bahru, Johor. Tel No.: 07-387 3322",
        "Date : 04/06/2018 18:17:54",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == (
        "No.1, Jalan Permas 10/5, Bandar Baru Permas Jaya 81750 Johor Bahru, Johor."
    )
    # … but a label word left before the stop is no address line
    fields = read_receipt([_page([
        "GL HANDICRAFT & TAILORING",
        "19, JALAN KANCIL,",
        "55100 KUALA LUMPUR MALAYSIA",
        "Company Reg No. :75495-W",
        "Date : 04/06/2018 18:17:54",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "19, JALAN KANCIL, 55100 KUALA LUMPUR MALAYSIA"


def test_an_address_printed_above_the_company_name_is_read() -> None:
    # a petrol station: its site and address, then the company that runs it
    fields = read_receipt([_page([
        "TAX INVOICE",
        "BHPetrol Permas Jaya 2",
        "LOT PTD 101051",
        "Jalan Permas 10/10",
        "81750 Masai, Johor",
        "Esjay Fuel Enterprise",
        "CO. REG. NO: 001011128-T",
        "GST REG. NO: 000153358336",
        "30-06-2018 09:09:49 Cashier: 465",
        "TOTAL 12.30",
    ])])
    assert fields["vendor_name"].value == "Esjay Fuel Enterprise"
    assert fields["address"].value == "LOT PTD 101051 Jalan Permas 10/10 81750 Masai, Johor"


def test_a_misread_tax_invoice_heading_names_no_shop() -> None:
    fields = read_receipt([_page([
        "PappaRich BMC",
        "NO.19 & 21",
        "JALAN TEMENGGUNG 23/9",
        "43200 SELANGOR DARUL EHSAN, MALAYSIA",
        "TAX eOICE",
        "GST ID:0 0 0164 2 70 7 080",
        "24 Mar 18 09:12:41 PM",
        "TOTAL 12.30",
    ])])
    assert fields["vendor_name"].value == "PappaRich BMC"
    assert clean_company("POPULAR BOOK CO. (M).SDN BHD") == "POPULAR BOOK CO. (M) SDN BHD"


def test_the_outlet_line_under_the_name_is_not_the_address() -> None:
    # the shop's name again with its outlet, then the address
    fields = read_receipt([_page([
        "TAX INVOICE",
        "DOMINO'S PIZZA",
        "GST REF NO : 001694261248",
        "DOMINO'S PIZZA PERMAS JAYA",
        "No.12, Jalan Permas Jaya 10,",
        "81750 Masai Johor",
        "Order Time :10:15:18 Date :17/04/18",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "No.12, Jalan Permas Jaya 10, 81750 Masai Johor"
    # the outlet's own name between the company and its GST line, the address after it
    fields = read_receipt([_page([
        "TF Value-Mart Sdn Bhd (482123-U)",
        "Bentong 2",
        "GST Reg No 000184401920",
        "Jalan Tras Batu 1",
        "28700 Bentong",
        "Tel ; 09-2201388",
        "Tax Invoice : BTB09201805190274 19/05/18",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "Jalan Tras Batu 1 28700 Bentong"
    # … and it stays the address when no address follows the GST line
    fields = read_receipt([_page([
        "THE MARCO POLO KITCHEN",
        "BUKIT INDAH",
        "GST Reg No: 001403346944",
        "Tax Invoice",
        "Rept#:418000010451 06/05/2018 14:29",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "BUKIT INDAH"


def test_a_misread_company_number_and_a_mall_after_the_name_are_left_out() -> None:
    fields = read_receipt([_page([
        "KEDAI PAPAN YEW CHUAN",
        "(0005£83085-K)",
        "LOT 276 JALAN BANTING",
        "43800 DENGKIL, SELANGOR",
        "TEL 03-87686092",
        "19/05/2018 12:01",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "LOT 276 JALAN BANTING 43800 DENGKIL, SELANGOR"
    assert clean_company("EIGHT OUNCE COFFEE CO. THE GARDENS MALL") == "EIGHT OUNCE COFFEE CO."
    assert clean_company("POPULAR BOOK CO. (M)") == "POPULAR BOOK CO. (M)"


def test_misread_address_words_are_restored_and_real_ones_kept() -> None:
    fields = read_receipt([_page([
        "YONG SOON FATT S/B",
        "LUI 1504, BATU & 1/2, JALAN KLANG LAMA,",
        "46000 PETALING JAYA, SELANGUR.",
        "TEL 03-87686092",
        "19/05/2018 12:01",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == (
        "LOT 1504, BATU 8 1/2, JALAN KLANG LAMA, 46000 PETALING JAYA, SELANGOR."
    )
    fields = read_receipt([_page([
        "AEON CO. (M) BHD",
        "SRD FLR, LAMAN RIMBUNAN, BANDAR UTARA",
        "55100 KUALA LUMPUR",
        "TEL 03-87686092",
        "19/05/2018 12:01",
        "TOTAL 12.30",
    ])])
    assert fields["address"].value == "3RD FLR, LAMAN RIMBUNAN, BANDAR UTARA 55100 KUALA LUMPUR"


def test_a_brand_and_outlet_over_the_owning_company_are_both_the_name() -> None:
    fields = read_receipt([_page([
        "TOKYO KITCHEN (CITTA MALL)",
        "TOKYO KITCHEN SDN BHD",
        "(945402-P)",
        "G-26, GRD FLOOR,CITTA MALL,",
        "47301 PETALING JAYA, SELANGOR.",
        "19/05/2018 12:01",
        "TOTAL 12.30",
    ])])
    assert fields["vendor_name"].value == "TOKYO KITCHEN (CITTA MALL) TOKYO KITCHEN SDN BHD"
    # a brand alone over the company is no part of its name
    fields = read_receipt([_page([
        "OLD TOWN WHITE COFFEE",
        "OLD TOWN KOPITIAM SDN BHD",
        "(945402-P)",
        "No,35, Jalan Kebudayaan 8,",
        "81300 Skudai, Johor",
        "19/05/2018 12:01",
        "TOTAL 12.30",
    ])])
    assert fields["vendor_name"].value == "OLD TOWN KOPITIAM SDN BHD"
