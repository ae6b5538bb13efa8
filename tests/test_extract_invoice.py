"""The generic invoice reader's layout rules, each on a small invoice drawn for the test.

The PDFs are generated with reportlab (no dataset file is used), read through the real text-layer
path, and only the rule under test is asserted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.models import Field, Origin, Page, Word
from core.settings import Settings
from extractors.invoice import read_invoice
from extractors.layout import assign_lines, page_text
from extractors.pages import load_pages
from tests.pdfs import Line, write_pdf


def _read(tmp_path: Path, settings: Settings, lines: list[Line], size: int = 9) -> dict[str, Field]:
    path = write_pdf(tmp_path / "invoice.pdf", lines, size)
    return read_invoice(load_pages(path, path.name, settings))


def _value(fields: dict[str, Field], name: str) -> object:
    return fields[name].value if name in fields else None


def test_stated_invoice_currency_beats_counted_codes(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Handelsrechnung Nr. 4711 vom 31.10.2018"),
            (50, 80, "Rechnungswährung : GBP"),
            (50, 95, "Währung der Umsatzsteuerbuchung : EUR"),
            (50, 200, "Steuerbetrag in EUR 183,14"),
            (50, 215, "Steuerbetrag in EUR 183,14"),
            (50, 230, "Bruttosumme 1021,91"),
        ],
    )
    assert fields["currency"].value == "GBP"
    assert fields["currency"].method == "currency_label"


def test_sums_grid_takes_the_sum_row(tmp_path: Path, settings: Settings) -> None:
    heads = [
        (60, "Warenwert"),
        (200, "Nettobetrag"),
        (300, "MwSt-Betrag"),
        (400, "MwSt-%"),
        (480, "Endbetrag"),
    ]
    rows = [
        ["326,50", "321,40", "61,07", "19,0", "382,47"],
        ["130,70", "127,59", "8,93", "7,0", "136,52"],
        ["457,20", "448,99", "70,00", "EUR", "518,99"],
    ]
    lines: list[Line] = [(50, 40, "Rechnung Nr. R-1 vom 06.08.2013")]
    lines += [(x, 700, text) for x, text in heads]
    for k, row in enumerate(rows):
        y = 712 + 10 * k + (8 if k == 2 else 0)
        lines += [(x + 5, y, v) for (x, _), v in zip(heads, row, strict=True)]
    fields = _read(tmp_path, settings, lines)
    assert fields["total_amount"].value == Decimal("518.99")
    assert fields["subtotal"].value == Decimal("448.99")
    assert fields["tax_amount"].value == Decimal("70.00")
    assert fields["total_amount"].method == "label+sum"


def test_a_per_rate_grid_without_sum_row_gives_no_total(tmp_path: Path, settings: Settings) -> None:
    lines: list[Line] = [
        (50, 40, "Facture N° F-9 du 01/02/2024"),
        (60, 300, "Prix HT"),
        (160, 300, "TVA"),
        (260, 300, "Montant total"),
        (60, 312, "1.235,40"),
        (160, 312, "123,54"),
        (260, 312, "1.358,80"),
        (60, 324, "9,90"),
        (160, 324, "0,00"),
        (260, 324, "9,90"),
    ]
    fields = _read(tmp_path, settings, lines)
    # neither rate row is the invoice's total: only the weak largest-amount guess remains
    assert fields["total_amount"].method == "fallback"
    assert "subtotal" not in fields


def test_letter_date_beats_the_print_stamp(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (80, 100, "Muster GmbH"),
            (330, 100, "Rechnungsnummer: 2015738820"),
            (330, 112, "München, den 01.11.2024"),
            (45, 790, "Bankverbindung: Deutsche Bank Datum: 30.10.2024 Zeit: 04:59:13 Seite: 1"),
        ],
    )
    assert fields["invoice_date"].value == dt.date(2024, 11, 1)


def test_number_runs_to_vom_and_its_row_dates_the_invoice(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (66, 30, "Stylesheet-Version: 2.6 vom 10.11.2025"),
            (63, 60, "Teilrechnung Bau (875) Nr. 210111 mit LV vom 30.05.2026"),
            (66, 75, "Währung: EUR"),
        ],
    )
    assert fields["invoice_number"].value == "210111 mit LV"
    assert fields["invoice_date"].value == dt.date(2026, 5, 30)


def test_due_date_from_payment_terms(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (55, 100, "Rechnungsnummer: 2019-03 Rechnungsdatum: 8. Mai 2019"),
            (57, 300, "Zahlbar innerhalb von 30 Tagen netto auf unser Konto."),
            (57, 312, "Bei Zahlung innerhalb 10 Tagen 2% Skonto."),
        ],
    )
    assert fields["due_date"].value == dt.date(2019, 6, 7)
    assert fields["due_date"].method == "terms+date"


def test_seller_named_by_its_own_domain(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (57, 28, "Invoice 103767"),
            (57, 110, "Adatum Corporation"),
            (510, 110, "CRONUS DE"),
            (57, 125, "Station Road, 21"),
            (500, 125, "Hofstraße 12"),
            (57, 745, "VAT Registration No. DE777777777 info@cronus.com"),
        ],
    )
    assert fields["vendor_name"].value == "CRONUS DE"


def test_recipient_under_a_comma_sender_line(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (180, 30, "Alphabet Fuhrparkmanagement GmbH"),
            (77, 129, "Alphabet, Lilienthalallee 26, 80786 München"),
            (330, 150, "Debitorennummer: 63/00987654"),
            (77, 163, "Muster GmbH"),
            (330, 163, "Rechnungsnummer: 2015738820"),
            (77, 175, "Musterweg 1"),
        ],
    )
    assert fields["buyer_name"].value == "Muster GmbH"


def test_a_grid_of_field_heads_under_the_sender_line_is_no_recipient(
    tmp_path: Path, settings: Settings
) -> None:
    """Under the one-line sender, the first line is a grid's heads (``Invoice number |
    Invoice date``) when the recipient stands further down: a field label is no name."""
    fields = _read(
        tmp_path,
        settings,
        [
            (180, 30, "St. Albans Lighting Ltd"),
            (77, 100, "3 Verulam Court - St Albans AL1 3XT - United Kingdom - VAT GB894852313"),
            (77, 115, "Invoice number"), (200, 115, "Invoice date"),
            (77, 127, "A25-8324"), (200, 127, "02/03/2025"),
            (77, 150, "Helvetia Feinwerk AG"),
            (77, 162, "Bahnhofstrasse 52"),
            (77, 174, "8001 Zürich"),
        ],
    )
    assert fields["buyer_name"].value == "Helvetia Feinwerk AG"
    assert fields["buyer_name"].method == "window"


def test_tax_printed_per_rate_adds_up(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 60, "Rechnungsnummer 471102"),
            (60, 383, "Rechnungssumme Netto (excl. USt.) 473,00"),
            (60, 393, "Steuerbasisbetrag USt. 7% 275,00 19,25"),
            (60, 411, "Steuerbasisbetrag USt. 19% 198,00 37,62"),
            (60, 430, "Rechnungssumme Brutto (inkl. USt.) 529,87"),
        ],
    )
    assert fields["tax_amount"].value == Decimal("56.87")
    assert fields["tax_amount"].method == "tax_rows+sum"


def test_subtotal_is_total_less_a_labelled_tax(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (257, 118, "Invoice Number: 42183017"),
            (60, 313, "Charges $4.11"),
            (60, 343, "Tax * $0.00"),
            (40, 359, "Total for this invoice $4.11"),
        ],
    )
    assert fields["subtotal"].value == Decimal("4.11")
    assert fields["subtotal"].method == "total-tax"


def test_vat_ids_of_the_bank_and_the_buyer_are_not_the_sellers(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (66, 100, "Verkäufer"),
            (66, 113, "Name: Musterbetrieb AG"),
            (66, 126, "USt.-Id.-Nr.: DE09687654321"),
            (66, 170, "Käufer/Leistungsempfänger"),
            (66, 183, "Name: Firmenkunde GmbH"),
            (66, 196, "Anschrift: Gartenstraße 12"),
            (66, 209, "USt.-Id.-Nr.: DE1234567890"),
            (40, 540, "Bank-/Steuerinformationen"),
            (40, 552, "IBAN-Nr.: DE08 7009 0100 1234 5678 90"),
        ],
    )
    assert fields["vendor_vat"].value == "DE09687654321"


def _table(head: list[tuple[float, str]], y: float, rows: list[list[tuple[float, str]]]) -> list[Line]:
    lines: list[Line] = [(x, y, text) for x, text in head]
    for k, row in enumerate(rows):
        lines += [(x, y + 14 * (k + 1), text) for x, text in row]
    return lines


def test_line_items_join_wrapped_descriptions_and_skip_notes(
    tmp_path: Path, settings: Settings
) -> None:
    head = [(66, "Pos"), (126, "Referenzen"), (186, "Beschreibung"), (278, "Nettopreis"),
            (345, "Menge"), (457, "Steuersatz"), (505, "Nettobetrag")]
    rows = [
        [
            (126, "Art-Nr: SE_KR"),
            (186, "Kunstrasen grün 3m"),
            (286, "3,3333"),
            (359, "3"),
            (471, "19%"),
            (525, "10,00"),
        ],
        [(126, "KR3M"), (186, "breit")],
        [(66, "1"), (186, "Wir erlauben uns, Ihnen folgende Positionen zu berechnen")],
        [(186, "Bruttopreis :4,0000")],
        [
            (126, "Art-Nr: SE_PF"),
            (186, "Pfand"),
            (286, "2,7700"),
            (356, "20"),
            (471, "19%"),
            (525, "55,40"),
        ],
        [(186, "Bruttopreis :2,7700")],
    ]
    lines = [(63, 40, "Handelsrechnung (380) Nr. 471102 vom 05.06.2025")]
    lines += _table(head, 100, rows)
    lines += [(226, 300, "Positionssumme 65,40"), (226, 320, "Bruttosumme 77,83")]
    fields = _read(tmp_path, settings, lines)
    items = fields["line_items"].value
    assert [i["description"] for i in items] == ["Kunstrasen grün 3m breit", "Pfand"]
    assert [i["quantity"] for i in items] == ["3", "20"]
    assert [i["unit_price"] for i in items] == [Decimal("3.33"), Decimal("2.77")]
    assert [i["amount"] for i in items] == [Decimal("10.00"), Decimal("55.40")]
    assert fields["line_items"].method == "table+sum"


def test_line_items_without_a_price_column_get_amount_over_quantity(
    tmp_path: Path, settings: Settings
) -> None:
    lines: list[Line] = [
        (57, 40, "FACTURE"),
        (57, 60, "N° FA-2026-0001"),
        (57, 200, "Désignation"),
        (410, 200, "Qté"),
        (489, 200, "Montant HT"),
        (57, 216, "Maintenance preventive CVC - aout 2026"),
        (408, 216, "1.00"),
        (499, 216, "2400.00 €"),
        (57, 230, "Deplacement technicien"),
        (408, 230, "3.00"),
        (504, 230, "135.00 €"),
        (414, 260, "Total HT 2535.00 €"),
        (434, 276, "TVA 507.00 €"),
        (407, 291, "Total TTC 3042.00 €"),
    ]
    fields = _read(tmp_path, settings, lines)
    items = fields["line_items"].value
    assert [i["unit_price"] for i in items] == [Decimal("2400.00"), Decimal("45.00")]
    assert fields["total_amount"].value == Decimal("3042.00")


def test_a_quantity_that_did_not_read_is_amount_over_price_when_whole(
    tmp_path: Path, settings: Settings
) -> None:
    """OCR read the "5" of a quantity as "fs)": the row still says 40.00 x 5 = 200.00. An
    unread quantity may be a fraction (45.00 / 30.00 = 1.5), but not one of more than two
    decimals (45.00 / 7.00)."""
    lines: list[Line] = [
        (57, 40, "Rechnung Nr. 2014-03"),
        (57, 200, "Pos."),
        (80, 200, "Artikelbeschreibung"),
        (330, 200, "Menge"),
        (410, 200, "Preis"),
        (489, 200, "Betrag"),
        (57, 216, "1"),
        (80, 216, "Superdrachen"),
        (338, 216, "2"),
        (410, 216, "20,00"),
        (489, 216, "40,00"),
        (57, 230, "2"),
        (80, 230, "Turbo Flyer"),
        (338, 230, "fs)"),
        (410, 230, "40,00"),
        (489, 230, "200,00"),
        (57, 244, "3"),
        (80, 244, "Eisvogel"),
        (338, 244, "x"),
        (410, 244, "30,00"),
        (489, 244, "45,00"),
        (57, 258, "4"),
        (80, 258, "Drachenschnur"),
        (338, 258, "x"),
        (410, 258, "7,00"),
        (489, 258, "45,00"),
        (400, 284, "Rechnungssumme netto 330,00"),
    ]
    items = _read(tmp_path, settings, lines)["line_items"].value
    assert [i["quantity"] for i in items] == ["2", "5", "1.5", None]


def test_line_items_under_a_header_printed_on_two_rows(tmp_path: Path, settings: Settings) -> None:
    lines: list[Line] = [
        (364, 83, "Rechnungsnummer 471102"),
        (306, 267, "Menge"),
        (335, 267, "Meng.-"),
        (424, 267, "Preis/"),
        (46, 276, "Pos"),
        (60, 276, "Art.Nr."),
        (187, 276, "Artikelbeschreibung"),
        (335, 276, "einheit"),
        (421, 276, "Einheit"),
        (522, 276, "Betrag"),
        (552, 276, "USt. %"),
        (52, 287, "1"),
        (60, 287, "TB100A4"),
        (187, 287, "Trennblätter A4"),
        (306, 287, "20"),
        (335, 287, "Stk."),
        (423, 287, "9,90"),
        (512, 287, "198,00"),
        (562, 287, "19"),
        (187, 296, "GTIN: 4012345001235"),
        (52, 327, "2"),
        (60, 327, "ARNR2"),
        (187, 327, "Joghurt Banane"),
        (306, 327, "50"),
        (335, 327, "Stk."),
        (423, 327, "5,50"),
        (512, 327, "275,00"),
        (562, 327, "7"),
        (200, 383, "Rechnungssumme Netto (excl. USt.) 473,00"),
    ]
    items = _read(tmp_path, settings, lines, size=7)["line_items"].value
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"]) for i in items] == [
        ("Trennblätter A4", "20", Decimal("9.90"), Decimal("198.00")),
        ("Joghurt Banane", "50", Decimal("5.50"), Decimal("275.00")),
    ]


def test_an_item_s_description_on_the_line_under_its_codes(tmp_path: Path, settings: Settings) -> None:
    """Wholesale layout: the heads' first row names the codes and numbers of an item's first
    line, the second row (``Artikelbezeichnung`` under ``Art-Nr-Lieferant``) its description
    on the line under it; lines after that are notes. A field stated just above the heads is
    no head, and a quantity that lost a digit ("5,0000" for 15) is amount / price."""
    head = [(40, 190, "GTIN"), (111, 190, "Art-Nr-Lieferant"), (241, 190, "Menge"),
            (347, 190, "Nettopreis"), (491, 190, "MwSt-%"), (524, 190, "Nettowert"),
            (39, 199, "Art-Nr-Kunde"), (111, 199, "Artikelbezeichnung")]

    def item(y: float, gtin: str, code: str, qty: str, price: str, amount: str) -> list[Line]:
        return [(40, y, gtin), (112, y, code), (-270, y, qty), (-390, y, price),
                (-515, y, "19,0"), (-568, y, amount)]

    lines: list[Line] = [
        (40, 40, "Rechnung Nr. R87654321"),
        (40, 181, "Kunden-Nr.: 009420"),
        *head,
        *item(215, "4123456000014", "ZS997", "100,0000", "1,0000", "100,00"),
        (112, 224, "Zitronensäure 100ml"),
        (112, 233, "Verpackung: Flasche"),
        *item(249, "4100130013294", "2031", "5,0000", "12,0000", "180,00"),
        (112, 258, "Mischpalette Joghurt Karton 3 x 20 Becher je 150 g"),
        (112, 267, "Artikel wie vereinbart ohne Berechnung"),
        (200, 300, "Rechnungssumme Netto 280,00"),
    ]
    items = _read(tmp_path, settings, lines, size=7)["line_items"].value
    assert [(i["description"], Decimal(i["quantity"]), i["unit_price"], i["amount"])
            for i in items] == [
        ("Zitronensäure 100ml", 100, Decimal("1.00"), Decimal("100.00")),
        ("Mischpalette Joghurt Karton 3 x 20 Becher je 150 g", 15, Decimal("12.00"),
         Decimal("180.00")),
    ]


def test_items_that_add_up_to_a_goods_value_printed_in_the_sums_grid(
    tmp_path: Path, settings: Settings
) -> None:
    """The lines add up to the grid's "Warenwert", which an allowance takes to the net sum:
    the items are kept, with the goods value as the lines' own total."""
    lines: list[Line] = [
        (57, 40, "Rechnung Nr. 2014-03"),
        (57, 200, "Artikelbeschreibung"),
        (330, 200, "Menge"),
        (410, 200, "Preis"),
        (489, 200, "Betrag"),
        (57, 216, "Superdrachen"),
        (338, 216, "2"),
        (410, 216, "20,00"),
        (489, 216, "40,00"),
        (57, 230, "Turbo Flyer"),
        (338, 230, "5"),
        (410, 230, "40,00"),
        (489, 230, "200,00"),
        (57, 300, "Warenwert"), (150, 300, "Zu-/Abschlag"), (250, 300, "Nettobetrag"),
        (350, 300, "MwSt-Betrag"), (450, 300, "Endbetrag"),
        (-95, 314, "240,00"), (-200, 314, "-24,00"), (-300, 314, "216,00"),
        (-400, 314, "41,04"), (-500, 314, "257,04"),
    ]
    fields = _read(tmp_path, settings, lines)
    assert fields["line_items"].method == "table+sum"
    assert [i["amount"] for i in fields["line_items"].value] == [Decimal("40.00"), Decimal("200.00")]
    assert fields["lines_total"].value == Decimal("240.00")
    assert fields["subtotal"].value == Decimal("216.00")


@pytest.mark.parametrize("bullet", ["•", "*", "°", "»", "+"])
def test_sender_line_bullets_as_ocr_reads_them(
    tmp_path: Path, settings: Settings, bullet: str
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (268, 21, "Kraxi GmbH"),
            (55, 135, f"Kraxi GmbH {bullet} Flugzeugallee 17 {bullet} 12345 Papierfeld"),
            (455, 148, "www.kraxi.com"),
            (55, 162, "Papierflieger-Vertriebs-GmbH"),
            (55, 175, "Rabattstr. 25"),
        ],
    )
    assert fields["buyer_name"].value == "Papierflieger-Vertriebs-GmbH"


def test_unlabelled_address_block_opposite_the_seller_is_the_buyer(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (471, 75, "FACTURE"),
            (493, 127, "nº 2023-6013"),
            (43, 169, "Société Hôtelière du Pacano"),
            (43, 184, "2, rue de la Paix"),
            (43, 198, "75000 Paris"),
            (43, 242, "info@hotel-du-pacano.fr"),
            (397, 256, "Securibox SARL"),
            (397, 271, "27, Rue de Bassano"),
            (397, 285, "75008 Paris"),
            (363, 566, "Montant Total TTC 1.368,84 €"),
            (257, 788, "Société Hôtelière du Pacano"),
        ],
    )
    assert fields["vendor_name"].value == "Société Hôtelière du Pacano"
    assert fields["invoice_number"].value == "2023-6013"
    assert fields["buyer_name"].value == "Securibox SARL"
    assert fields["buyer_name"].method == "other_block"


def test_a_line_for_whose_attention_is_no_buyer_name(tmp_path: Path, settings: Settings) -> None:
    """An unlabelled buyer's block with the line for whose attention it is sent under the name
    (``z. Hd. Kreditorenbuchhaltung``, above ``Postfach 11 22`` and the town): the name is the
    company's, not the department's (which had been taken at 0.72)."""
    fields = _read(
        tmp_path,
        settings,
        [
            (43, 60, "Groot & Klein Drukwerk B.V."), (420, 60, "INVOICE"),
            (43, 75, "Prinsengracht 811"), (43, 90, "1017 KB Amsterdam"),
            (400, 120, "Invoice No.: INV-2025-9244"),
            (43, 169, "Stadtwerke Musterstadt GmbH"),
            (43, 184, "z. Hd. Kreditorenbuchhaltung"),
            (43, 198, "Postfach 11 22"),
            (43, 212, "12345 Musterstadt"),
            (363, 566, "Total EUR 1,368.84"),
        ],
    )
    assert fields["vendor_name"].value == "Groot & Klein Drukwerk B.V."
    assert fields["buyer_name"].value == "Stadtwerke Musterstadt GmbH"


def test_address_on_one_line_with_commas() -> None:
    from extractors.invoice import format_address

    assert (
        format_address(["Lilienthalallee 26, 80786 München"], country_hint="DE")
        == "Lilienthalallee 26, 80786 München, DE"
    )
    assert format_address(["2, rue de la Paix", "75000 Paris", "France"]) == (
        "2, rue de la Paix, 75000 Paris, FR"
    )
    # Tesseract's English model reads the "ß" of a street name as B, f, k, R or s
    assert format_address(["Hofstrafe 12", "20097 Hamburg"]) == "Hofstraße 12, 20097 Hamburg"
    # an Italian town's province is two capitals: the English model reads FI as ``Fl``
    assert format_address(["Via dei Servi 18", "50122 Firenze Fl", "Italy"]) == (
        "Via dei Servi 18, 50122 Firenze FI, IT"
    )
    assert format_address(["Hauptstrasse 18", "50122 Stadt Fl", "Germany"]) == (
        "Hauptstrasse 18, 50122 Stadt Fl, DE"
    )


def test_british_and_irish_addresses_put_the_postcode_after_the_town() -> None:
    from extractors.invoice import format_address

    assert format_address(["22 Bridge St", "Cardiff CF10 2EE", "United Kingdom"]) == (
        "22 Bridge St, Cardiff CF10 2EE, GB"
    )
    assert format_address(["17 Cheapside, Manchester M2 4WB"], country_hint="GB") == (
        "17 Cheapside, Manchester M2 4WB, GB"
    )
    # a stop a speck left apart before the comma is no part of the street
    assert format_address(["17 Cheapside ., Manchester M2 4WB"], country_hint="GB") == (
        "17 Cheapside, Manchester M2 4WB, GB"
    )
    assert format_address(["Ballybrit Business Park", "Galway H91 K2P0", "Ireland"]) == (
        "Ballybrit Business Park, Galway H91 K2P0, IE"
    )
    # a free zone's name is its street (no number in it)
    assert format_address(["Shannon Free Zone East", "Shannon V14 DR59", "Ireland"]) == (
        "Shannon Free Zone East, Shannon V14 DR59, IE"
    )
    assert format_address(["Acme Ltd", "Cardiff CF10 2EE"]) is None  # no street: no address
    assert format_address(
        ["Unit 12", "Marina Commercial Park", "Centre Park Road", "Cork T12 X8N2", "Ireland"]
    ) == "Unit 12, Marina Commercial Park, Centre Park Road, Cork T12 X8N2, IE"


def test_an_eircode_read_with_a_speck_and_a_country_after_glued_separators() -> None:
    """Scans of a one-line sender address: OCR read the Eircode ``V14 DR59`` with an S no
    Eircode uses (``DRS59``), and the separator dot before the country as stops glued to the
    line (``DRS59.. Ireland``, ``DRS59.- Ireland``) or as a quote glued to the country."""
    from extractors.invoice import format_address

    shannon = "Shannon Free Zone East, Shannon V14 DR59, IE"
    assert format_address(["Shannon Free Zone East", "Shannon V14 DRS59", "Ireland"]) == shannon
    assert format_address(["Shannon Free Zone East", "Shannon V14 DRS59.. Ireland"]) == shannon
    assert format_address(["Shannon Free Zone East", "Shannon V14 DRS59.- Ireland"]) == shannon
    assert format_address(["Prinsengracht 811", "1017 KB Amsterdam “Netherlands"]) == (
        "Prinsengracht 811, 1017 KB Amsterdam, NL"
    )
    # five characters the code may all hold, or two it never does: left as read
    assert format_address(["Shannon Free Zone East", "Shannon V14 DR594", "Ireland"]) is None
    assert format_address(["Shannon Free Zone East", "Shannon V14 DSS59", "Ireland"]) is None


def test_a_sender_line_whose_separator_ocr_read_as_a_plus_glued_to_the_postcode(
    tmp_path: Path, settings: Settings
) -> None:
    """``Prinsengracht 811 +1017 KB Amsterdam``: the separator dot read as a plus, its space
    lost; and a row of nothing but a speck under the name is no address."""
    fields = _read(
        tmp_path,
        settings,
        [
            (55, 40, "Groot & Klein Drukwerk B.V."),
            (455, 40, "INVOICE"),
            (55, 58, "|"),
            (55, 75, "Prinsengracht 811 +1017 KB Amsterdam - Netherlands - VAT NL277910742B01 - "
                     "accounts@groot.example"),
            (55, 120, "Invoice number 15191"),
            (55, 135, "Invoice date 2026-07-14"),
            (363, 566, "Total GBP 13,370.90"),
        ],
    )
    assert fields["vendor_name"].value == "Groot & Klein Drukwerk B.V."
    assert fields["address"].value == "Prinsengracht 811, 1017 KB Amsterdam, NL"


def test_a_german_place_s_u_umlaut_read_as_ii_is_mended() -> None:
    """Tesseract's English model reads the ü of ``München`` as ``ii``, which German words do
    not hold: mended in German, Austrian and Swiss addresses only."""
    from extractors.invoice import format_address

    assert format_address(["Frankfurter Ring 150", "80807 Miinchen"], country_hint="DE") == (
        "Frankfurter Ring 150, 80807 München, DE"
    )
    assert format_address(["1 Hawaii Road", "Cardiff CF10 2EE", "United Kingdom"]) == (
        "1 Hawaii Road, Cardiff CF10 2EE, GB"
    )

def test_a_labelled_number_that_reads_like_a_date_stays_a_number(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 55, "Invoice number: 20150101"),
            (300, 67, "Invoice date: Jan 1, 2015"),
            (300, 342, "Total amount due: 143.70 EUR"),
        ],
    )
    assert fields["invoice_number"].value == "20150101"
    assert fields["invoice_date"].value == dt.date(2015, 1, 1)


def test_vat_per_rate_lines_confirm_the_net_and_gross_totals(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 55, "Invoice number: 4711"),
            (300, 300, "Total amount (excl. VAT): 120.00 EUR"),
            (300, 314, "VAT 21%: 23.10 EUR"),
            (300, 328, "VAT 6%: 0.60 EUR"),
            (300, 342, "Total amount due: 143.70 EUR"),
        ],
    )
    assert fields["subtotal"].value == Decimal("120.00")
    assert fields["tax_amount"].value == Decimal("23.70")
    assert fields["total_amount"].method == "label+sum"


SELLER_HEAD: list[Line] = [(50, 40, "Brightwater Systems B.V."), (50, 60, "Invoice BW/26/00417 2026-03-02")]
"""A seller's name and an invoice number and date, for the tests of the rules below them."""


def test_a_grid_of_labels_over_values_gives_each_its_own_date(
    tmp_path: Path, settings: Settings
) -> None:
    # "Invoice date      Due date": the words of two cells make no "date due" label, and a
    # "due" in the next cell does not make the invoice date a due date
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Brightwater Systems B.V."),
            (50, 100, "Invoice number"),
            (200, 100, "Invoice date"),
            (350, 100, "Due date"),
            (50, 112, "BW/26/00417"),
            (200, 112, "2026-03-02"),
            (350, 112, "2026-04-01"),
            (300, 300, "Total EUR 1,210.00"),
        ],
    )
    assert fields["invoice_date"].value == dt.date(2026, 3, 2)
    assert fields["invoice_date"].method == "label"
    assert fields["due_date"].value == dt.date(2026, 4, 1)


def test_net_total_is_not_the_total_and_a_rated_tax_closes_the_sum(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            *SELLER_HEAD,
            (350, 300, "Net total"),
            (480, 300, "1,000.00"),
            (350, 312, "VAT 21%"),
            (480, 312, "210.00"),
            (350, 324, "Total EUR"),
            (480, 324, "1,210.00"),
        ],
    )
    assert fields["total_amount"].value == Decimal("1210.00")
    assert fields["subtotal"].value == Decimal("1000.00")
    assert fields["tax_amount"].value == Decimal("210.00")
    assert fields["total_amount"].method == "label+sum"


def test_a_rated_tax_that_does_not_close_the_sum_is_not_taken(
    tmp_path: Path, settings: Settings
) -> None:
    # "USt 19% 100,00": the amount after the rate is the base here, not the tax
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Muster GmbH"),
            (50, 60, "Rechnung Nr. 4711 vom 02.03.2026"),
            (350, 300, "USt 19% 100,00"),
            (350, 324, "Gesamtbetrag 119,00"),
        ],
    )
    assert fields["total_amount"].value == Decimal("119.00")
    assert "tax_amount" not in fields


def test_item_code_column_beside_a_description_column(tmp_path: Path, settings: Settings) -> None:
    # "# | Item | Description": the generic "Item" head is the code column; "(100" opens a note
    # in the description rather than being a number; "Nettobetrag" ends the table
    head = [(50, "#"), (70, "Item"), (140, "Description"), (390, "Qty"), (440, "Unit price"),
            (510, "Amount")]
    rows = [
        [(50, "1"), (70, "CB-100"), (140, "Cable ties black (100 pcs)"), (395, "12"),
         (450, "5.80"), (515, "69.60")],
        [(50, "2"), (70, "GL-9"), (140, "Gloves nitrile size 9"), (395, "10"), (450, "2.35"),
         (515, "23.50")],
    ]
    lines = list(SELLER_HEAD)
    lines += _table(head, 100, rows)
    lines += [(390, 160, "Nettobetrag 93.10"), (390, 175, "Rechnungsbetrag 110.79")]
    fields = _read(tmp_path, settings, lines)
    items = fields["line_items"].value
    assert [i["description"] for i in items] == ["Cable ties black (100 pcs)", "Gloves nitrile size 9"]
    assert [i["amount"] for i in items] == [Decimal("69.60"), Decimal("23.50")]


def test_item_description_as_one_head_of_two_words(tmp_path: Path, settings: Settings) -> None:
    head = [(50, "Item Description"), (390, "Qty"), (440, "Price"), (510, "Amount")]
    rows = [[(50, "Cable ties black"), (395, "12"), (450, "5.80"), (515, "69.60")]]
    lines = list(SELLER_HEAD)
    lines += _table(head, 100, rows)
    lines += [(390, 160, "Total 69.60")]
    fields = _read(tmp_path, settings, lines)
    assert [i["description"] for i in fields["line_items"].value] == ["Cable ties black"]


def test_a_one_line_address_that_starts_with_the_street_is_no_name(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Kestrel Componenti Elettronici S.r.l."),
            (50, 80, "Via Guglielmo Marconi 112 · 40122 Bologna BO · Italy · VAT IT51123530720 · "
                     "fatture@kestrel.example"),
            (50, 120, "Invoice number KC-2025/5472"),
            (300, 300, "Total EUR 100.00"),
        ],
    )
    assert fields["vendor_name"].value == "Kestrel Componenti Elettronici S.r.l."
    assert str(fields["address"].value).startswith("Via Guglielmo Marconi 112, 40122 Bologna")


def test_invoice_number_under_a_misread_legal_form_is_no_seller(
    tmp_path: Path, settings: Settings
) -> None:
    """OCR read "S.r.l." as "S.r.1." and the header grid starts "Invoice number": the seller is
    still the company, with its legal form repaired, not the word after "Invoice"."""
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Kestrel Componenti Elettronici S.r.1."),
            (50, 80, "Invoice number"),
            (200, 80, "Invoice date"),
            (50, 95, "KC-2025/5472"),
            (200, 95, "2025-05-18"),
            (300, 300, "Total EUR 100.00"),
        ],
    )
    assert fields["vendor_name"].value == "Kestrel Componenti Elettronici S.r.l."



@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("Ferraro Arredamenti S.r.I.", "Ferraro Arredamenti S.r.l."),
        ("L'Artigiano Tessile S.r..", "L'Artigiano Tessile S.r.l."),  # the l read as nothing
        ("= Van 't Hoff Fijnmechanica B.V.", "Van 't Hoff Fijnmechanica B.V."),  # a speck before
        ("Greenway Facilities Management Ltd’", "Greenway Facilities Management Ltd"),  # after
        ("Hargreaves, Pike & Co. Ltc", "Hargreaves, Pike & Co. Ltd"),
        ("Northgate LTC", "Northgate LTC"),  # capitals: a word (long-term care), no misreading
        ('L"Artigiano Tessile S.r.l.', "L'Artigiano Tessile S.r.l."),  # apostrophe as a quote
        ('Say "Hello" GmbH', 'Say "Hello" GmbH'),  # … but quotes around a word stay
        ("Nordic Timber Imber AB", "Nordic Timber AB"),  # a word's end read twice
        ("PO Box 11223 1223", "PO Box 11223 1223"),  # … but not a number's
        ("Pacific . Northwest Research Consortium .", "Pacific Northwest Research Consortium"),
        ("Acme Ltd.", "Acme Ltd."),
        ("Kowalski & Nowak Sp. z 0.0.", "Kowalski & Nowak Sp. z o.o."),
        ("Kowalski & Nowak Sp. Z 0.0.", "Kowalski & Nowak Sp. z o.o."),  # a capital z
        ("Kowalski & Nowak Sp. zZ 0.0.", "Kowalski & Nowak Sp. z o.o."),  # the z read twice
        ("Kowalski & Nowak Sp. 20.0.", "Kowalski & Nowak Sp. z o.o."),  # the z read as a 2
        ("Weiß Elektrotechnik GmbH.", "Weiß Elektrotechnik GmbH"),  # a form written without a stop
        ("Acme Inc.", "Acme Inc."),  # … and one written with it
        ("O'Reilly Veterinary Clinic.", "O'Reilly Veterinary Clinic"),  # a whole word's stop
        ("Smith Engineering Assoc.", "Smith Engineering Assoc."),  # … an abbreviation's
    ],
)
def test_a_legal_form_ocr_misread_is_repaired(read: str, name: str) -> None:
    """Legal forms are a closed list: ``S.r.I.`` (the l read as a capital I) and a closing
    ``Ltc`` (the d read as c) are OCR's, and the name is given with the form as printed."""
    from extractors.invoice import _clean_name

    assert _clean_name(read) == name

def test_the_sellers_address_leaves_out_the_header_s_other_column(
    tmp_path: Path, settings: Settings
) -> None:
    """The right-hand column's labels sit between the address lines (as OCR lines them up):
    they are not under the seller's name and not part of its address."""
    fields = _read(
        tmp_path,
        settings,
        [
            (57, 40, "Northwind Office Supplies and Stationery Ltd"),
            (57, 55, "Unit 4, Harbourside Trade Park"),
            (57, 67, "Bristol BS1 6XN"),
            (330, 73, "Invoice No.: INV-2025-9303"),
            (57, 79, "United Kingdom"),
            (330, 87, "Invoice Date: 3 April 2025"),
            (300, 300, "Total GBP 100.00"),
        ],
    )
    assert fields["address"].value == "Unit 4, Harbourside Trade Park, Bristol BS1 6XN, GB"


def test_a_delivery_and_invoice_date_is_the_invoice_date(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Kraxi GmbH"),
            (50, 120, "Rechnungsnummer: 2014-03"),
            (250, 120, "Liefer- und Rechnungsdatum: 11. Juli 2014"),
            (50, 135, "Lieferdatum: 09.07.2014"),
            (300, 300, "Rechnungssumme brutto 100,00"),
        ],
    )
    assert fields["invoice_date"].value == dt.date(2014, 7, 11)
    assert fields["invoice_date"].method.startswith("label")


SPANISH: list[Line] = [
    (50, 60, "Distribuciones Ibéricas S.L."),
    (50, 75, "Calle Mayor 12, 28013 Madrid"),
    (350, 60, "FACTURA"),
    (350, 75, "Nº Factura: F-2024-0042"),
    (350, 90, "Fecha: 5 de febrero de 2024"),
    (350, 105, "Vencimiento: 6 de marzo de 2024"),
    (50, 130, "Cliente: Hostelería Sol S.A."),
    (50, 160, "Descripción"), (300, 160, "Cantidad"), (400, 160, "Importe"),
    (50, 175, "Aceite de oliva 5L"), (300, 175, "10"), (400, 175, "250,00"),
    (50, 190, "Vino tinto crianza"), (300, 190, "12"), (400, 190, "102,00"),
    (300, 220, "Base imponible"), (450, 220, "352,00 €"),
    (300, 235, "IVA 21%"), (450, 235, "73,92 €"),
    (300, 250, "Total factura"), (450, 250, "425,92 €"),
]
ITALIAN: list[Line] = [
    (50, 60, "Rossi Forniture S.r.l."),
    (50, 75, "Via Roma 45, 20121 Milano"),
    (350, 60, "Fattura n. 2024/118"),
    (350, 75, "Data: 15/03/2024"),
    (350, 90, "Scadenza: 14/04/2024"),
    (50, 110, "Spett.le Bianchi S.p.A."),
    (300, 200, "Totale imponibile"), (450, 200, "200,00"),
    (300, 215, "Totale IVA 22%"), (450, 215, "44,00"),
    (300, 230, "Totale documento EUR"), (450, 230, "244,00"),
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (SPANISH, {"vendor_name": "Distribuciones Ibéricas S.L.", "invoice_number": "F-2024-0042",
                   "invoice_date": dt.date(2024, 2, 5), "due_date": dt.date(2024, 3, 6),
                   "buyer_name": "Hostelería Sol S.A.", "subtotal": Decimal("352.00"),
                   "tax_amount": Decimal("73.92"), "total_amount": Decimal("425.92")}),
        (ITALIAN, {"vendor_name": "Rossi Forniture S.r.l.", "invoice_number": "2024/118",
                   "invoice_date": dt.date(2024, 3, 15), "due_date": dt.date(2024, 4, 14),
                   "subtotal": Decimal("200.00"), "tax_amount": Decimal("44.00"),
                   "total_amount": Decimal("244.00"), "currency": "EUR"}),
    ],
    ids=["spanish", "italian"],
)
def test_spanish_and_italian_labels(
    tmp_path: Path, settings: Settings, lines: list[Line], expected: dict[str, object]
) -> None:
    fields = _read(tmp_path, settings, lines)
    assert {name: _value(fields, name) for name in expected} == expected


def test_indian_grouping_of_the_total(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Sharma Electronics Pvt. Ltd."),
            (350, 60, "Tax Invoice"),
            (350, 75, "Invoice No: SE/23-24/0981"),
            (350, 90, "Invoice Date: 21-Feb-2024"),
            (50, 150, "LED TV 55 inch"), (300, 150, "2"), (450, 150, "1,05,000.00"),
            (300, 200, "Grand Total"), (450, 200, "Rs. 1,45,140.00"),
        ],
    )
    assert fields["total_amount"].value == Decimal("145140.00")
    assert fields["currency"].value == "INR"


def test_a_sender_line_imprint_ends_the_name_at_its_legal_form(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Free SAS au capital de 3 441 812 euros - 8 rue de la Ville l'Eveque - 75008 Paris"),
            (50, 110, "Jean Dupont"),
            (50, 125, "12 avenue Victor Hugo"),
            (50, 140, "69002 Lyon"),
            (350, 180, "Facture n° 2024031234"),
            (350, 195, "Date de facture : 12 mars 2024"),
            (300, 260, "Total TTC"), (450, 260, "29,99 €"),
        ],
    )
    assert fields["vendor_name"].value == "Free SAS"
    assert fields["vendor_name"].method == "sender_line"


def test_a_legal_form_line_under_the_name_is_no_name_and_n_colon_numbers(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "NETPRESSE"),
            (50, 75, "SARL au capital de 10 000 €"),
            (50, 90, "12 rue des Lilas 75011 Paris"),
            (350, 120, "M. Paul Martin"),
            (350, 135, "3 place du Marché"),
            (350, 150, "33000 Bordeaux"),
            (50, 190, "FACTURE"),
            (50, 205, "N° : FA-2019-00123"),
            (50, 220, "Date : 15/04/2019"),
            (360, 340, "Montant TTC"), (450, 340, "296,09 €"),
        ],
    )
    assert fields["vendor_name"].value == "NETPRESSE"
    assert fields["invoice_number"].value == "FA-2019-00123"


def test_a_form_of_address_line_is_not_the_buyers_name(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Müller & Söhne GmbH · Hauptstr. 5 · 80331 München"),
            (50, 100, "Firma"),
            (50, 115, "Beispiel AG"),
            (50, 130, "Am Markt 1"),
            (50, 145, "10115 Berlin"),
            (380, 100, "Rechnungsnummer: R-2024-77"),
            (380, 115, "Datum: 04.03.2024"),
            (380, 300, "Rechnungsbetrag"), (490, 300, "535,50 €"),
        ],
    )
    assert fields["buyer_name"].value == "Beispiel AG"
    assert fields["vendor_name"].value == "Müller & Söhne GmbH"


def test_a_one_line_bill_to_gives_the_name_without_the_address(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Sammy Maystone Design LLC"),
            (350, 60, "Invoice #: 10482"),
            (350, 75, "Date: Jan 15, 2024"),
            (50, 120, "Bill To: Acme Corp, 55 Market St, Chicago IL"),
            (300, 200, "Balance Due"), (450, 200, "$1,080.00"),
        ],
    )
    assert fields["buyer_name"].value == "Acme Corp"
    assert fields["total_amount"].value == Decimal("1080.00")


def test_a_line_start_label_may_start_a_right_hand_cell(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Globex Corporation"),
            (50, 75, "Springfield OR 97477"),
            (400, 60, "Invoice"),
            (400, 75, "Number: GX-7781"),
            (400, 90, "Date: 7 June 2024"),
            (380, 260, "Amount due (USD)"), (480, 260, "1,510.40"),
        ],
    )
    assert fields["invoice_number"].value == "GX-7781"


def test_gesamt_with_a_currency_code_is_the_total(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Kaffeerösterei Schmidt e.K."),
            (350, 100, "Rechnung Nr. 2024-0815"),
            (350, 115, "Rechnungsdatum 12.06.2024"),
            (50, 200, "Pos"), (100, 200, "Artikel"), (400, 200, "Menge"), (480, 200, "Gesamt"),
            (50, 215, "1"), (100, 215, "Kaffee Espresso 1kg"), (400, 215, "3"), (480, 215, "59,70"),
            (350, 240, "Summe netto EUR"), (480, 240, "55,79"),
            (350, 255, "USt 7 % EUR"), (480, 255, "3,91"),
            (350, 270, "Gesamt EUR"), (480, 270, "59,70"),
        ],
    )
    assert fields["total_amount"].value == Decimal("59.70")
    assert fields["total_amount"].method.startswith("label")


def _two_page_invoice(tmp_path: Path, settings: Settings, head_again: bool) -> dict[str, Field]:
    path = tmp_path / "two-pages.pdf"
    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    head = [(50, "Pos"), (90, "Bezeichnung"), (350, "Menge"), (420, "Preis"), (490, "Betrag")]
    first = [(50, 60, "Elektro Weber GmbH"), (350, 100, "Rechnung Nr. 77120"),
             (350, 115, "Datum 02.05.2024"), *[(x, 160, t) for x, t in head]]
    for i in range(20):
        y = 175 + 15 * i
        first += [(50, y, str(i + 1)), (90, y, f"Kabel Rolle {i + 1}"), (350, y, "2"),
                  (420, y, "49,90"), (490, y, "99,80")]
    first += [(350, 500, "Übertrag"), (490, 500, "1.996,00")]
    second = [(50, 60, "Elektro Weber GmbH - Rechnung Nr. 77120 - Seite 2")]
    second += [(x, 85, t) for x, t in head] if head_again else []
    second += [(350, 100, "Übertrag"), (490, 100, "1.996,00"),
               (50, 130, "21"), (90, 130, "Montage pauschal"), (350, 130, "1"), (420, 130, "250,00"),
               (490, 130, "250,00"), (350, 170, "Nettobetrag"), (490, 170, "2.246,00"),
               (350, 185, "zzgl. 19 % USt."), (490, 185, "426,74"),
               (350, 200, "Gesamtbetrag"), (490, 200, "2.672,74 EUR")]
    for lines in (first, second):
        pdf.setFont("Helvetica", 9)
        for x, y, text in lines:
            pdf.drawString(x, A4[1] - y, text)
        pdf.showPage()
    pdf.save()
    return read_invoice(load_pages(path, path.name, settings))


@pytest.mark.parametrize("head_again", [False, True], ids=["no-header-on-page-2", "header-again"])
def test_an_item_table_carried_over_to_the_next_page(
    tmp_path: Path, settings: Settings, head_again: bool
) -> None:
    fields = _two_page_invoice(tmp_path, settings, head_again)
    items = fields["line_items"].value
    assert len(items) == 21
    assert items[-1]["description"] == "Montage pauschal"
    assert items[-1]["amount"] == Decimal("250.00")
    assert fields["line_items"].method == "table+sum"  # they add up to the net sum
    assert fields["total_amount"].value == Decimal("2672.74")


def test_a_credit_note_is_numbered_and_its_total_is_negative(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Acme Office Supplies Ltd"),
            (350, 100, "CREDIT NOTE"),
            (350, 115, "Credit Note No: CN-0042"),
            (350, 130, "Date: 14/05/2024"),
            (50, 200, "Returned toner cartridges"), (480, 200, "-120.00"),
            (380, 240, "Subtotal"), (480, 240, "-120.00"),
            (380, 255, "VAT 20%"), (480, 255, "-24.00"),
            (380, 270, "Total credit"), (480, 270, "-£144.00"),
        ],
    )
    assert fields["invoice_number"].value == "CN-0042"
    assert fields["total_amount"].value == Decimal("-144.00")


def test_a_polish_invoice_with_seller_and_buyer_side_by_side(
    tmp_path: Path, settings: Settings
) -> None:
    """Sprzedawca / Nabywca columns, amounts grouped by spaces (``1 230,00``), which the text
    layer cuts into ``1`` and ``230,00``: before, the Brutto column summed to 230.00."""
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Faktura VAT nr FV/2024/03/118"),
            (350, 80, "Data wystawienia: 2024-03-15"),
            (350, 95, "Data sprzedazy: 2024-03-14"),
            (350, 110, "Termin platnosci: 2024-03-29"),
            (50, 140, "Sprzedawca:"), (300, 140, "Nabywca:"),
            (50, 155, "Kowalski Serwis Sp. z o.o."), (300, 155, "Nowak Handel S.A."),
            (50, 170, "ul. Polna 12/4"), (300, 170, "ul. Dluga 7"),
            (50, 185, "00-026 Warszawa"), (300, 185, "80-827 Gdansk"),
            (50, 200, "NIP: 525-123-45-67"), (300, 200, "NIP: 583-987-65-43"),
            (50, 230, "Lp."), (75, 230, "Nazwa towaru"), (280, 230, "Ilosc"),
            (355, 230, "Cena netto"), (420, 230, "Wartosc netto"), (480, 230, "VAT"),
            (515, 230, "Brutto"),
            (50, 245, "1"), (75, 245, "Serwis klimatyzacji"), (295, 245, "2"), (360, 245, "450,00"),
            (425, 245, "900,00"), (480, 245, "23%"), (515, 245, "1 107,00"),
            (50, 260, "2"), (75, 260, "Filtr kabinowy"), (295, 260, "4"), (360, 260, "25,00"),
            (425, 260, "100,00"), (480, 260, "23%"), (515, 260, "123,00"),
            (280, 290, "Razem:"), (420, 290, "1 000,00"), (480, 290, "230,00"), (515, 290, "1 230,00"),
            (50, 330, "Do zaplaty: 1 230,00 PLN"),
            (50, 360, "Nr konta: PL61 1090 1014 0000 0712 1981 2874"),
        ],
    )
    assert fields["vendor_name"].value == "Kowalski Serwis Sp. z o.o."  # not the buyer's name
    assert fields["buyer_name"].value == "Nowak Handel S.A."
    assert fields["address"].value == "ul. Polna 12/4, 00-026 Warszawa"
    assert fields["invoice_number"].value == "FV/2024/03/118"
    assert fields["invoice_date"].value == dt.date(2024, 3, 15)
    assert fields["due_date"].value == dt.date(2024, 3, 29)
    assert fields["total_amount"].value == Decimal("1230.00")
    assert [i["amount"] for i in fields["line_items"].value] == [Decimal("1107.00"), Decimal("123.00")]
    assert [i["quantity"] for i in fields["line_items"].value] == ["2", "4"]
    assert "vendor_vat" not in fields or not str(fields["vendor_vat"].value).startswith("PL61")


def test_a_swedish_invoice(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Norrsken Konsult AB"), (480, 50, "FAKTURA"),
            (50, 68, "Storgatan 5"), (50, 80, "111 51 Stockholm"),
            (350, 90, "Fakturanummer"), (480, 90, "10045"),
            (350, 104, "Fakturadatum"), (480, 104, "2024-02-01"),
            (350, 118, "Förfallodatum"), (480, 118, "2024-03-02"),
            (50, 130, "Kund"), (50, 145, "Fjällbacka Bygg AB"),
            (350, 270, "Summa exkl. moms"), (480, 270, "10 000,00"),
            (350, 284, "Moms 25%"), (480, 284, "2 500,00"),
            (350, 300, "Att betala SEK"), (480, 300, "12 500,00"),
            (50, 780, "Org.nr 556677-8899  Momsreg.nr SE556677889901  Bankgiro 123-4567"),
        ],
    )
    assert fields["vendor_name"].value == "Norrsken Konsult AB"
    assert fields["invoice_number"].value == "10045"
    assert fields["invoice_date"].value == dt.date(2024, 2, 1)
    assert fields["due_date"].value == dt.date(2024, 3, 2)
    assert fields["total_amount"].value == Decimal("12500.00")
    assert fields["subtotal"].value == Decimal("10000.00")
    assert fields["tax_amount"].value == Decimal("2500.00")
    assert fields["buyer_name"].value == "Fjällbacka Bygg AB"


def test_a_portuguese_invoice(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Lusitana Software, Lda."),
            (50, 66, "Rua Augusta 100, 1100-053 Lisboa"), (50, 78, "NIF: 509 123 456"),
            (350, 110, "FATURA"),
            (50, 130, "Exmo.(s) Sr.(s)"), (350, 130, "Fatura n.º FT 2024/155"),
            (50, 144, "Quinta do Vale, S.A."), (350, 144, "Data de emissão: 12/04/2024"),
            (50, 156, "Av. da Boavista 1200"), (350, 158, "Data de vencimento: 12/05/2024"),
            (50, 220, "Descrição"), (300, 220, "Qtd."), (360, 220, "Preço unit."),
            (440, 220, "IVA"), (500, 220, "Total"),
            (50, 235, "Licença anual ERP"), (310, 235, "1"), (360, 235, "2.000,00"),
            (440, 235, "23%"), (500, 235, "2.000,00"),
            (50, 250, "Formação (horas)"), (310, 250, "5"), (360, 250, "60,00"),
            (440, 250, "23%"), (500, 250, "300,00"),
            (360, 290, "Total ilíquido"), (500, 290, "2.300,00 €"),
            (360, 304, "IVA 23%"), (500, 304, "529,00 €"),
            (360, 320, "Total a pagar"), (500, 320, "2.829,00 €"),
        ],
    )
    assert fields["vendor_name"].value == "Lusitana Software, Lda."  # not the buyer's S.A.
    assert fields["buyer_name"].value == "Quinta do Vale, S.A."
    assert fields["invoice_number"].value == "FT 2024/155"
    assert fields["vendor_vat"].value == "PT509123456"
    assert fields["total_amount"].value == Decimal("2829.00")
    assert fields["subtotal"].value == Decimal("2300.00")
    assert len(fields["line_items"].value) == 2


def test_hours_are_a_quantity_and_a_phone_line_ends_the_address(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "BRIGHTLINE ELECTRIC LLC"), (480, 50, "INVOICE"),
            (50, 66, "4410 Commerce Blvd, Suite 200"), (50, 78, "Austin, TX 78744"),
            (50, 90, "(512) 555-0142"),
            (380, 80, "Invoice #:"), (480, 80, "2024-0091"),
            (380, 94, "Date:"), (480, 94, "March 5, 2024"),
            (50, 130, "BILL TO"), (50, 144, "Riverside Property Management"),
            (50, 210, "DESCRIPTION"), (330, 210, "HOURS"), (400, 210, "RATE"), (480, 210, "AMOUNT"),
            (50, 225, "Panel upgrade, 200A service"), (340, 225, "6.5"), (400, 225, "$95.00"),
            (480, 225, "$617.50"),
            (400, 280, "BALANCE DUE"), (480, 280, "$617.50"),
        ],
    )
    assert fields["address"].value == "4410 Commerce Blvd, Suite 200, Austin, TX 78744"
    assert fields["line_items"].value[0]["quantity"] == "6.5"
    assert fields["total_amount"].value == Decimal("617.50")


def test_space_grouped_amounts_join_only_across_a_word_space() -> None:
    from core.models import Word
    from extractors.invoice import join_space_grouped

    def words(*spec: tuple[str, float]) -> list[Word]:
        out, x = [], 0.0
        for text, gap in spec:
            x += gap
            out.append(Word(text=text, box=(x, 0.0, x + 6.0 * len(text), 10.0), conf=0.9))
            x += 6.0 * len(text)
        return out

    assert [w.text for w in join_space_grouped(words(("1", 0), ("230,00", 3)))] == ["1 230,00"]
    assert [w.text for w in join_space_grouped(words(("12", 0), ("345", 3), ("678,90", 3)))] == [
        "12 345 678,90"
    ]
    # a column gap between a quantity and a price, and an English amount, stay apart
    assert [w.text for w in join_space_grouped(words(("2", 0), ("450,00", 20)))] == ["2", "450,00"]
    assert [w.text for w in join_space_grouped(words(("2", 0), ("450.00", 3)))] == ["2", "450.00"]
    assert [w.text for w in join_space_grouped(words(("2", 0), ("450", 3)))] == ["2", "450"]


def test_a_net_column_and_amounts_that_start_with_their_currency_sign(
    tmp_path: Path, settings: Settings
) -> None:
    """``Net`` heads the line amounts; a right-aligned ``$1,188.00`` starts left of its head,
    and was put in the unit price column by its left edge."""
    uk = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Harbour & Finch Ltd"), (480, 50, "TAX INVOICE"),
            (380, 100, "Invoice No."), (480, 100, "HF-10293"),
            (380, 114, "Tax Point"), (480, 114, "28/02/2024"),
            (50, 200, "Item"), (100, 200, "Description"), (320, 200, "Qty"), (370, 200, "Price"),
            (430, 200, "VAT %"), (500, 200, "Net"),
            (50, 215, "CB-12"), (100, 215, "Oak bench"), (325, 215, "2"), (370, 215, "£240.00"),
            (440, 215, "20"), (500, 215, "£480.00"),
            (380, 270, "Net Total"), (500, 270, "£480.00"),
            (380, 284, "VAT @ 20%"), (500, 284, "£96.00"),
            (380, 300, "Total (GBP)"), (500, 300, "£576.00"),
        ],
    )
    assert [i["amount"] for i in uk["line_items"].value] == [Decimal("480.00")]
    assert uk["invoice_date"].method == "label"  # the tax point dates the invoice
    assert uk["invoice_date"].value == dt.date(2024, 2, 28)

    saas = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Invoice"), (50, 80, "Invoice number"), (150, 80, "8F2A61C3-0007"),
            (50, 140, "Cloudberry Analytics, Inc."),
            (50, 270, "Description"), (330, 270, "Qty"), (400, 270, "Unit price"),
            (-545, 270, "Amount"),
            (50, 285, "Team plan"), (-340, 285, "12"), (-460, 285, "$99.00"),
            (-545, 285, "$1,188.00"),
            (330, 330, "Subtotal"), (-545, 330, "$1,188.00"),
            (330, 344, "Amount due"), (-545, 344, "$1,188.00"),
        ],
    )
    assert saas["line_items"].value == [
        {"description": "Team plan", "quantity": "12", "unit_price": Decimal("99.00"),
         "amount": Decimal("1188.00")}
    ]


def test_a_sold_by_address_ends_at_the_pan_line(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 40, "Tax Invoice/Bill of Supply/Cash Memo"),
            (50, 70, "Sold By :"), (400, 70, "Billing Address :"),
            (50, 82, "Cocoblu Retail Private Limited"), (400, 82, "Ravi Kumar"),
            (50, 94, "Plot 12, Sector 5, IMT Manesar"), (400, 94, "44 MG Road"),
            (50, 106, "Gurugram, Haryana, 122051"), (400, 106, "Bengaluru, 560038"),
            (50, 118, "PAN No: AAJCC9783E"),
            (50, 130, "GST Registration No: 06AAJCC9783E1ZP"),
            (400, 180, "Invoice Number : DEL4-123456"),
            (400, 192, "Invoice Date : 29.01.2024"),
            (50, 300, "TOTAL:"), (480, 300, "1,198.00"),
        ],
    )
    assert fields["vendor_name"].value == "Cocoblu Retail Private Limited"
    assert fields["address"].value == "Plot 12, Sector 5, IMT Manesar, Gurugram, Haryana, 122051"
    assert fields["buyer_name"].value == "Ravi Kumar"


def test_a_paid_invoice_totals_its_gross_sum_not_the_balance_of_zero(
    tmp_path: Path, settings: Settings
) -> None:
    """``Balance Due 0.00`` is a stronger label than ``Total`` and was taken for the total at
    0.94; the discount row between net and tax closes net - discount + tax = total."""
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Summit Web Services LLC"), (480, 50, "INVOICE"),
            (380, 90, "Invoice No"), (480, 90, "SWS-3381"),
            (380, 104, "Invoice Date"), (480, 104, "04/15/2024"),
            (50, 180, "Description"), (360, 180, "Qty"), (420, 180, "Price"), (500, 180, "Total"),
            (50, 195, "Website maintenance"), (365, 195, "1"), (420, 195, "800.00"), (500, 195, "800.00"),
            (50, 210, "Hosting, annual"), (365, 210, "1"), (420, 210, "240.00"), (500, 210, "240.00"),
            (380, 250, "Subtotal"), (500, 250, "1,040.00"),
            (380, 264, "Discount (10%)"), (500, 264, "-104.00"),
            (380, 278, "Tax (7.5%)"), (500, 278, "70.20"),
            (380, 294, "Total"), (500, 294, "1,006.20"),
            (380, 310, "Amount Paid"), (500, 310, "1,006.20"),
            (380, 324, "Balance Due"), (500, 324, "0.00"),
        ],
    )
    assert fields["total_amount"].value == Decimal("1006.20")
    assert fields["total_amount"].method == "label+sum"
    assert fields["subtotal"].value == Decimal("936.00")  # the tax basis, after the discount
    assert fields["lines_total"].value == Decimal("1040.00")
    assert fields["allowance_total"].value == Decimal("104.00")
    assert fields["tax_amount"].value == Decimal("70.20")


def test_a_balance_after_a_deposit_is_not_the_invoice_total(
    tmp_path: Path, settings: Settings
) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Copper & Pine Ltd"), (480, 50, "INVOICE"),
            (380, 90, "Invoice No"), (480, 90, "CP-118"),
            (380, 250, "Total"), (500, 250, "1,200.00"),
            (380, 264, "Less deposit received"), (500, 264, "-400.00"),
            (380, 280, "Balance due"), (500, 280, "800.00"),
        ],
    )
    assert fields["total_amount"].value == Decimal("1200.00")


def test_prices_with_the_tax_in_them_leave_total_less_tax_as_the_net_sum(
    tmp_path: Path, settings: Settings
) -> None:
    """The items of a B2C invoice add up to the gross total; before, the subtotal came out as
    their sum (89.20) instead of the net 74.96."""
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Blumenladen Rosalie e.K."),
            (380, 124, "Rechnungsnummer: R-2024-311"), (380, 138, "Rechnungsdatum: 14.02.2024"),
            (50, 200, "Artikel"), (300, 200, "Anzahl"), (380, 200, "Preis"), (500, 200, "Summe"),
            (50, 215, "Rosen rot"), (305, 215, "2"), (380, 215, "39,90"), (500, 215, "79,80"),
            (50, 230, "Karte"), (305, 230, "1"), (380, 230, "3,50"), (500, 230, "3,50"),
            (50, 245, "Lieferung"), (305, 245, "1"), (380, 245, "5,90"), (500, 245, "5,90"),
            (380, 280, "Gesamtbetrag"), (500, 280, "89,20 EUR"),
            (380, 296, "darin enthaltene MwSt. 19 %"), (500, 296, "14,24 EUR"),
        ],
    )
    assert fields["total_amount"].value == Decimal("89.20")
    assert fields["tax_amount"].value == Decimal("14.24")
    assert fields["subtotal"].value == Decimal("74.96")
    assert len(fields["line_items"].value) == 3


def test_the_swiss_exkl_spelling_marks_a_net_sum(tmp_path: Path, settings: Settings) -> None:
    """``Total exkl. MWST`` was taken for the total and for the tax."""
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "Alpenblick Informatik AG"),
            (380, 110, "Rechnung Nr. 2024-1187"), (380, 124, "Datum: 22.03.2024"),
            (380, 270, "Total exkl. MWST"), (500, 270, "3'450.00"),
            (380, 284, "MWST 8.1%"), (500, 284, "279.45"),
            (380, 300, "Total CHF"), (500, 300, "3'729.45"),
        ],
    )
    assert fields["total_amount"].value == Decimal("3729.45")
    assert fields["subtotal"].value == Decimal("3450.00")
    assert fields["tax_amount"].value == Decimal("279.45")


def test_a_hotel_folio_with_gst_included(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 50, "THE HARBOURVIEW HOTEL"), (480, 50, "TAX INVOICE"),
            (350, 110, "Folio No."), (450, 110, "884213"),
            (350, 152, "Invoice Date"), (450, 152, "12/06/2024"),
            (300, 290, "Total Charges (incl. GST)"), (470, 290, "652.50"),
            (300, 304, "Total Credits"), (500, 304, "652.50"),
            (300, 318, "Balance"), (500, 318, "0.00"),
            (300, 340, "GST included (15%)"), (500, 340, "85.11"),
        ],
    )
    assert fields["invoice_number"].value == "884213"
    assert fields["total_amount"].value == Decimal("652.50")
    assert fields["tax_amount"].value == Decimal("85.11")
    assert fields["subtotal"].value == Decimal("567.39")


def test_a_date_alone_under_the_title_is_the_invoice_date(tmp_path: Path, settings: Settings) -> None:
    """``FACTURE`` / ``20/09/2023`` / ``nº 2023-6013`` at the top right: no label, but the
    block names the invoice; the service dates in the items come later on the page."""
    fields = _read(
        tmp_path,
        settings,
        [
            (420, 60, "FACTURE"),
            (430, 80, "20/09/2023"),
            (425, 95, "nº 2023-6013"),
            (50, 120, "Hôtel du Parc SARL"),
            (50, 134, "2, rue de la Paix, 75000 Paris"),
            (50, 250, "Chambre du 09/08/2023 au 15/08/2023  6  205,90  1.235,40"),
            (300, 300, "Montant Total TTC 1.368,84 €"),
        ],
    )
    assert fields["invoice_date"].value == dt.date(2023, 9, 20)
    assert fields["invoice_date"].method == "title_block"


def test_an_associated_invoice_date_is_not_the_invoice_date(
    tmp_path: Path, settings: Settings
) -> None:
    """A correction names the invoice it refers to (``Date de facture associée``); the
    invoice's own date is the one labelled ``Date``. And ``FACTURE N° :`` is no seller name."""
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 40, "FACTURE N° : F20260023"),
            (300, 54, "Date : 31/01/2026"),
            (50, 300, "N° DE FACTURE ASSOCIÉE : F20260003"),
            (50, 314, "DATE DE FACTURE ASSOCIÉE : 01/01/2026"),
            (50, 328, "Original invoice date: 02/01/2026"),
            (300, 500, "NET A PAYER 104,90 EUR"),
        ],
    )
    assert fields["invoice_date"].value == dt.date(2026, 1, 31)
    assert _value(fields, "vendor_name") != "FACTURE N°"


def test_a_british_seller_billing_in_dollars_writes_the_day_first(
    tmp_path: Path, settings: Settings
) -> None:
    """English and USD once meant month first; the invoice's own 23/06/2024 says otherwise, so
    its due date 07/08/2024 is 7 August."""
    fields = _read(tmp_path, settings, [
        (57, 40, "St. Albans Lighting Ltd"),
        (57, 52, "3 Verulam Court, St Albans AL1 3XT, United Kingdom"),
        (380, 40, "INVOICE"),
        (380, 60, "Invoice No: INV-2024-0042"),
        (380, 72, "Invoice Date: 23/06/2024"),
        (380, 84, "Due Date: 07/08/2024"),
        (380, 300, "Total USD $1,250.00"),
    ])
    assert fields["invoice_date"].value == dt.date(2024, 6, 23)
    assert fields["due_date"].value == dt.date(2024, 8, 7)


def test_date_order_from_the_documents_own_dates() -> None:
    from extractors.invoice import date_order

    assert date_order("Date 23/06/2024 due 07/08/2024") is True
    assert date_order("Date 06/23/2024 due 07/08/2024") is False
    assert date_order("Date 07/08/2024") is None  # nothing tells
    assert date_order("23/06/2024 and 06/23/2024") is None  # they disagree
    assert date_order("Tel 03-3271 9872, ISO 2024-06-23") is None


def test_a_customer_number_is_no_buyer_label(tmp_path: Path, settings: Settings) -> None:
    fields = _read(tmp_path, settings, [
        (57, 40, "Kite & Key Ltd"),
        (57, 52, "22 Bridge St, Cardiff CF10 2EE"),
        (380, 40, "INVOICE"),
        (57, 80, "Invoice number"), (200, 80, "Invoice date"),
        (57, 90, "KK-1182"), (200, 90, "2024-06-17"),
        (57, 110, "Customer no."), (200, 110, "Currency"), (300, 110, "Payment terms"),
        (57, 120, "C37276"), (200, 120, "GBP"), (300, 120, "30 days"),
        (57, 150, "Invoice to"),
        (57, 163, "O'Reilly Veterinary Clinic"),
        (57, 177, "14 Quay Street, Galway H91 X2Y4"),
        (380, 300, "Total GBP £420.00"),
    ])
    assert fields["buyer_name"].value == "O'Reilly Veterinary Clinic"


def test_a_rate_row_whose_tax_word_was_lost_closes_the_sum(tmp_path: Path, settings: Settings) -> None:
    """OCR dropped "VAT" from "VAT @ 9% € 423.20": the row between the subtotal and the total
    still starts with its rate, and its amount closes the sum, so it is the tax."""
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 60, "Invoice No. INV-5501"),
            (300, 380, "SUBTOTAL € 4,702.26"),
            (300, 400, "@ 9% € 423.20"),
            (300, 420, "TOTAL DUE (EUR) € 5,125.46"),
        ],
    )
    assert fields["tax_amount"].value == Decimal("423.20")
    assert fields["tax_amount"].method == "tax_rows+sum"


def test_a_discount_rate_row_is_no_tax(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 60, "Invoice No. INV-5502"),
            (300, 380, "SUBTOTAL € 4,702.26"),
            (300, 400, "10% discount € 423.20"),
            (300, 420, "TOTAL DUE (EUR) € 5,125.46"),
        ],
    )
    assert _value(fields, "tax_amount") != Decimal("423.20")


def test_dollar_invoice_of_a_seller_charging_vat_writes_its_dates_day_first(
    tmp_path: Path, settings: Settings
) -> None:
    """English and dollars mean month first, unless the page charges VAT, which an American
    seller does not: 02/08/2025 from a London branch is 2 August."""
    lines = [
        (60, 60, "Pinecrest Analytics LLC UK Branch"),
        (60, 75, "1 Finsbury Avenue, London EC2M 2PF"),
        (300, 100, "Invoice Date: 02/08/2025"),
        (300, 115, "Due Date: 01/10/2025"),
        (300, 400, "Total due USD 1,200.00"),
    ]
    us = _read(tmp_path, settings, lines)
    assert us["invoice_date"].value == dt.date(2025, 2, 8)
    (tmp_path / "invoice.pdf").unlink()
    uk = _read(tmp_path, settings, [*lines, (60, 90, "VAT Reg. No. GB570154908")])
    assert uk["invoice_date"].value == dt.date(2025, 8, 2)
    assert uk["due_date"].value == dt.date(2025, 10, 1)


def test_a_net_total_is_no_total(tmp_path: Path, settings: Settings) -> None:
    """"Net total" is the sum before tax (a subtotal label): with the total's own label unread,
    it must not be taken for the total; the amount that closes net + tax is."""
    fields = _read(
        tmp_path,
        settings,
        [
            (300, 60, "Invoice No. A24-1696"),
            (60, 380, "VAT summary Net total 66,592.59"),
            (60, 400, "Rate 7% Net 66,592.59 VAT 4,661.48"),
            (60, 420, "Please pay by 2024-05-24 quoting A24-1696 71,254.07"),
            (60, 440, "i T ot al USD"),
        ],
    )
    assert fields["subtotal"].value == Decimal("66592.59")
    # the printed amount that is the subtotal plus the tax
    assert fields["total_amount"].value == Decimal("71254.07")
    assert fields["total_amount"].method == "sum"


def test_a_quote_mark_read_before_a_seller_s_name_is_dropped() -> None:
    from extractors.invoice import _clean_name

    assert _clean_name("‘Groot & Klein Drukwerk B.V.") == "Groot & Klein Drukwerk B.V."
    assert _clean_name('"Acme Ltd,') == "Acme Ltd"
    assert _clean_name("Domino's") == "Domino's"
    # a German low quote (a scan's speck) too, unless the name closes it
    assert _clean_name("‚Weiß Elektrotechnik GmbH") == "Weiß Elektrotechnik GmbH"
    assert _clean_name("„Zur Linde“ Gastronomie GmbH") == "„Zur Linde“ Gastronomie GmbH"
    assert _clean_name(" : ") == ""


def test_the_title_on_the_seller_s_line_is_not_part_of_its_name() -> None:
    from extractors.invoice import _clean_name

    assert _clean_name("Officine Meccaniche dell'Adige S.p.A. TAXINVOICE") == (
        "Officine Meccaniche dell'Adige S.p.A."
    )
    assert _clean_name("Kite & Key Ltd Invoice") == "Kite & Key Ltd"
    assert _clean_name("Invoice") == "Invoice"  # a title alone is left to the callers


def test_a_sender_line_that_opens_with_a_business_park_names_no_seller(
    tmp_path: Path, settings: Settings
) -> None:
    """"Ballybrit Business Park - Galway H91 K2P0 - Ireland - VAT …" starts with where the
    seller is, not who: the name is the letterhead's."""
    fields = _read(
        tmp_path,
        settings,
        [
            (60, 50, "Mac Aodha Engineering Ltd"),
            (400, 50, "INVOICE"),
            (60, 110, "Ballybrit Business Park - Galway H91 K2P0 - Ireland - VAT IE3253436E"),
            (60, 150, "Invoice number INV-2026-6045"),
            (60, 400, "Total EUR 1,200.00"),
        ],
    )
    assert fields["vendor_name"].value == "Mac Aodha Engineering Ltd"


def test_the_buyer_is_the_company_over_its_attn_line(tmp_path: Path, settings: Settings) -> None:
    """"Attn: Accounts Payable" names a department of the buyer; the buyer is the name above
    it, even with a line of the other column printed between them."""
    fields = _read(
        tmp_path,
        settings,
        [
            (60, 40, "Brötchen-Technik Nord GmbH · Spaldingstraße 64 · 20097 Hamburg · Germany"),
            (350, 48, "Rechnungsnummer: 66094"),
            (60, 56, "Greenway Facilities Management Ltd"),
            (350, 61, "Rechnungsdatum: 19.11.2024"),
            (60, 69, "Attn: Accounts Payable"),
            (60, 82, "40 Temple Row"),
            (60, 95, "Birmingham B2 5HG"),
        ],
    )
    assert fields["buyer_name"].value == "Greenway Facilities Management Ltd"


def _ocr_page(lines: list[tuple[float, float, str]], conf: float = 0.9) -> list[Page]:
    """A scanned page as Tesseract would hand it over: words with boxes (x, y in pixels of a
    300 dpi A4 page, 24 px per character) and a confidence under 1."""
    words = []
    for x, y, text in lines:
        for word in text.split():
            words.append(Word(text=word, box=(x, y, x + 24 * len(word), y + 30), conf=conf))
            x += 24 * (len(word) + 1)
    words = assign_lines(words)
    return [Page(index=0, width=2480, height=3508, dpi=300, origin=Origin.OCR,
                 text=page_text(words), words=words, ocr_lang="eng")]


def _with_words(pages: list[Page], extra: list[Word]) -> list[Page]:
    """The scanned page with words Tesseract also read (specks, noise, a row boxed apart)."""
    page = pages[0]
    words = assign_lines([*page.words, *extra])
    return [page.model_copy(update={"words": words, "text": page_text(words)})]


def test_a_speck_read_as_a_minus_before_a_scanned_subtotal() -> None:
    """"SUBTOTAL - € 279,729.90" under a positive total: the net sum is positive, and the
    sum closes (subtotal + tax = total)."""
    fields = read_invoice(
        _ocr_page(
            [
                (200, 200, "Invoice No. SI/8837/24"),
                (1400, 1900, "SUBTOTAL - € 279,729.90"),
                (1400, 1960, "VAT @7% € 19,581.09"),
                (1400, 2020, "TOTAL DUE (EUR) € 299,310.99"),
            ]
        )
    )
    assert fields["subtotal"].value == Decimal("279729.90")
    assert fields["total_amount"].value == Decimal("299310.99")
    assert fields["total_amount"].method.startswith("label+sum")


def _scanned_sums(number: str, labels: Sequence[str], values: Sequence[str]) -> dict[str, Field]:
    """A scanned invoice with its number and, one row each, its net sum, tax and total."""
    rows = [(1400.0, 1900.0 + 60 * k, f"{label} {value}")
            for k, (label, value) in enumerate(zip(labels, values, strict=True))]
    return read_invoice(_ocr_page([(200, 200, number), *rows]))


def test_a_speck_read_as_a_minus_before_a_scanned_tax() -> None:
    """``VAT (20%) - £1,408.50`` (seed 54000's invoice 16) between a net sum and a total above
    zero that it closes unsigned: the tax is positive (it had been -1,408.50); a credit
    note's tax, under a net sum and a total below zero, keeps its minus."""

    def tax_for(*values: str) -> Field:
        labels = ("Subtotal", "VAT (20%)", "Total GBP")
        return _scanned_sums("Invoice No. INV-3113", labels, values)["tax_amount"]

    tax = tax_for("£7,042.50", "- £1,408.50", "£8,451.00")
    assert (tax.value, tax.method) == (Decimal("1408.50"), "label+sum")
    assert tax_for("-£7,042.50", "-£1,408.50", "-£8,451.00").value == Decimal("-1408.50")


def test_a_dash_read_as_a_minus_before_a_scanned_total() -> None:
    """``Rechnungsbetrag - 12.122,71 €`` under a positive net sum and tax that add up to it: the
    dash is no minus sign (the total had been read as -12,122.71 at 0.97). A credit note, whose
    net sum is below zero too, keeps its minus."""

    def total_for(*values: str) -> Field:
        labels = ("Nettobetrag", "zzgl. 7% MwSt.", "Rechnungsbetrag")
        return _scanned_sums("Rechnung Nr. F202408-749", labels, tuple(f"{v} €" for v in values)
                             )["total_amount"]

    total = total_for("11.329,64", "793,07", "- 12.122,71")
    assert total.value == Decimal("12122.71") and total.method.startswith("label+sum")
    assert total_for("-11.329,64", "-793,07", "-12.122,71").value == Decimal("-12122.71")


def test_a_seller_known_to_invoice2data_s_template_library_is_named_as_it_spells_it(
    tmp_path: Path, settings: Settings
) -> None:
    """invoice2data's community templates know 200+ sellers by keywords on their invoices;
    the seller is named as the template spells it, with the currency the template states."""
    fields = _read(
        tmp_path,
        settings,
        [
            (60, 50, "Oravel Stays Private Limited"),
            (60, 70, "OYO Rooms - Booking confirmation and invoice"),
            (300, 110, "Invoice No. IBZY2087  Date: 31/12/2017"),
            (300, 400, "Grand Total Rs 1939"),
        ],
    )
    assert fields["vendor_name"].value == "OYO"
    assert fields["vendor_name"].method == "template"
    assert fields["currency"].value == "INR"
    # DOCFLOW_VENDOR_LIBRARY=false: the reader names the seller itself
    path = tmp_path / "invoice.pdf"
    own = read_invoice(load_pages(path, path.name, settings), vendor_library=False)
    assert own["vendor_name"].method != "template"


def test_the_library_reads_a_template_s_own_issuer_pattern() -> None:
    """Coolblue's template reads its issuer from the page (``Coolblue B.V.`` or its Belgian
    company); a page no template knows gets no library match."""
    from extractors.vendor_library import library_match

    coolblue = library_match("Coolblue B.V.\nKlantnummer: 123\nfactuur 993548900\nTotaal € 717,97")
    assert coolblue is not None and coolblue.issuer == "Coolblue B.V."
    assert library_match("Kite & Key Ltd\nInvoice INV-1\nTotal GBP 10.00") is None


def test_a_number_inside_an_item_description_stays_in_it(tmp_path: Path, settings: Settings) -> None:
    """``LED panel …, 36 W, 4000 K`` runs close to the quantity column: ``4000``'s centre is
    past the middle between the heads, but it is printed between two words of the
    description at word spacing, so it is part of it; the quantity is the ``100`` under
    ``Menge``. ``reel of 4000`` ends a description: the quantity column has its own number
    after it, or none, and 4000 x the price is not the amount."""
    head = [(70, "Pos."), (98, "Art.-Nr."), (158, "Bezeichnung"), (354, "Menge"),
            (415, "Einzelpreis"), (483, "Gesamtpreis")]
    rows = [
        [(70, "1"), (98, "BRK-LGT"), (158, "LED panel 600 x 600 mm, 36 W, 4000 K"), (-370, "100"),
         (-464, "54,00 €"), (-539, "5.400,00 €")],
        [(70, "2"), (98, "MAT-CU"), (158, "Copper cable, per metre"), (-370, "6"),
         (-464, "2,00 €"), (-539, "12,00 €")],
        [(70, "3"), (98, "C0805"), (158, "Capacitor 0805 4U7 X7R 50V, reel of 4000"),
         (-370, "10"), (-464, "11,60 €"), (-539, "116,00 €")],
        # the quantity not read (as OCR may miss it): 4000 x 11,60 is not 58,00
        [(70, "4"), (98, "C0805"), (158, "Capacitor 0805 10N X7R 50V, reel of 4000"),
         (-464, "11,60 €"), (-539, "58,00 €")],
    ]
    lines = [(70, 40, "Rechnung Nr. 7428"), (70, 60, "Rechnungsdatum: 27.01.2026")]
    lines += _table(head, 200, rows)
    lines += [(338, 290, "Nettobetrag"), (-539, 290, "5.586,00 €")]
    items = _read(tmp_path, settings, lines)["line_items"].value
    assert [i["description"] for i in items] == [
        "LED panel 600 x 600 mm, 36 W, 4000 K", "Copper cable, per metre",
        "Capacitor 0805 4U7 X7R 50V, reel of 4000", "Capacitor 0805 10N X7R 50V, reel of 4000"]
    assert [i["quantity"] for i in items] == ["100", "6", "10", "5"]


def test_specks_on_a_scanned_item_table_neither_end_it_nor_join_a_description() -> None:
    """Between two item rows of a scan Tesseract read a speck as a row of its own (``_``,
    3 px tall: the next row lies more than five of its heights below it), and specks as
    words at either end of a description (``.``, ``:``) and an opening quote never closed;
    the table goes on, and the descriptions are the printed ones."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. RE-60553"),
            (226, 1200, "ITEM"), (535, 1200, "DESCRIPTION"), (1525, 1200, "QTY"),
            (1732, 1200, "UNIT PRICE"), (2074, 1200, "LINE TOTAL"),
            (226, 1260, "SVC-CONS"), (535, 1260, "“Consulting services"), (1560, 1260, "15"),
            (1836, 1260, "96.28"), (2137, 1260, "1,444.20"),
            (226, 1330, "FRT-LTL"), (535, 1330, "Freight, less-than-truckload"),
            (1560, 1330, "20"), (1857, 1330, "2.15"), (2187, 1330, "43.00"),
            (226, 1420, "MAT-ST12"), (535, 1420, "Steel sheet"), (1560, 1420, "36"),
            (1836, 1420, "25.12"), (2167, 1420, "904.32"),
            (1474, 1500, "SUBTOTAL € 2,391.52"),
            (1472, 1560, "TOTAL DUE (EUR) € 2,391.52"),
        ]
    )
    specks = [Word(text=".", box=(466, 1280, 469, 1283), conf=0.3),
              Word(text=":", box=(1200, 1262, 1206, 1285), conf=0.3),
              Word(text="_", box=(1026, 1368, 1030, 1371), conf=0.3)]
    pages = _with_words(pages, specks)
    items = read_invoice(pages)["line_items"].value
    assert [i["description"] for i in items] == [
        "Consulting services", "Freight, less-than-truckload", "Steel sheet"]
    assert [i["quantity"] for i in items] == ["15", "20", "36"]


def test_a_zero_tax_on_a_rate_row_beside_a_vat_summary_is_read(
    tmp_path: Path, settings: Settings
) -> None:
    """A 0 % invoice: the sums block's ``VAT 0% 0.00`` is printed on the line of the VAT
    summary grid's ``Rate 0% Net 9,165.80 VAT 0.00``. A rate row's tax counts once it closes
    the sum; with the total equal to the net total, the zero tax does."""
    fields = _read(
        tmp_path,
        settings,
        [
            (40, 40, "Pinecrest Analytics LLC"),
            (385, 60, "Invoice INV-2026-3556"),
            (40, 500, "VAT summary"), (385, 500, "Net total"), (-551, 500, "9,165.80"),
            (40, 514, "Rate 0% Net 9,165.80 VAT 0.00"), (385, 514, "VAT 0%"), (-551, 514, "0.00"),
            (385, 540, "Total USD"), (-551, 540, "9,165.80"),
        ],
    )
    assert fields["total_amount"].value == Decimal("9165.80")
    assert fields["tax_amount"].value == Decimal("0.00")
    assert fields["tax_amount"].method == "label+sum"


@pytest.mark.parametrize(("rate", "tax"), [("20%", Decimal("8.97")), ("10%", None)])
def test_a_tax_amount_ocr_lost_is_the_rate_of_the_subtotal_when_the_sums_agree(
    rate: str, tax: Decimal | None
) -> None:
    """``VAT @ 20% BROT``: the amount did not read. Total − subtotal (53.80 − 44.83 = 8.97)
    is 20 % of 44.83 to the cent, so it is the tax; at 10 % it is not, and no tax is given."""
    fields = read_invoice(
        _ocr_page(
            [
                (200, 200, "Invoice No. INV-2025-0042"),
                (1400, 1900, "SUBTOTAL $ 44.83"),
                (1400, 1960, f"VAT @ {rate} BROT"),
                (1400, 2020, "TOTAL DUE (USD) $ 53.80"),
            ]
        )
    )
    assert fields["total_amount"].value == Decimal("53.80")
    assert fields["subtotal"].value == Decimal("44.83")
    assert _value(fields, "tax_amount") == tax
    if tax is not None:
        assert fields["tax_amount"].method == "rate+sum"


Cells = Sequence[tuple[float, str]]
ITEM_HEAD: Cells = [(535, "DESCRIPTION"), (1525, "QTY"), (1732, "UNIT PRICE"), (2074, "AMOUNT")]


def _item_table(rows: Sequence[Cells], subtotal: str, head: Cells = ITEM_HEAD) -> list[Page]:
    """A scanned invoice whose item table has ``head`` and one line of (x, text) cells per row,
    70 px apart, with its subtotal and total (``subtotal`` both) under it."""
    lines = [(200.0, 200.0, "Invoice No. RE-60553")]
    lines += [(x, 1200, text) for x, text in head]
    for n, cells in enumerate(rows):
        lines += [(x, 1260 + 70 * n, text) for x, text in cells]
    lines += [(1474, 1900, f"SUBTOTAL € {subtotal}"), (1472, 1960, f"TOTAL DUE (EUR) € {subtotal}")]
    return _ocr_page(lines)


def _amount(text: str) -> tuple[float, str]:
    """An amount right-aligned at the table's right edge."""
    return (2300 - 24 * len(text), text)


def test_ocr_misreadings_in_item_rows_are_mended_by_their_arithmetic() -> None:
    """Quantities OCR misread are mended when one usual misreading gives the amount with the
    unit price: the decimal point lost (``75`` for 7.5) or read as a digit (``12075``), a unit
    against the number read as a ``1`` (``24l`` as ``241``, ``0.5l`` as ``0.51``), a unit
    glued to it (``1ea``); a quantity not read is amount / price (1.5); an amount read
    without its decimal point (``429``) is quantity x price when the digits are the same;
    ``m²`` read ``m?`` is ``m²``; a whole quantity read with a speck before it as a digit
    (``412`` for 12) or with one digit misread (``4`` for 1) is amount / price; specks read
    after a description (``: &``) are no part of it. The items then add up to the subtotal
    and are delivered."""
    head: Cells = [(226, "ITEM"), (535, "DESCRIPTION"), (1525, "QTY"), (1732, "UNIT PRICE"),
                   (2074, "LINE TOTAL")]
    rows = [
        ("Calibration of torque wrench", "75", "70.71", "530.33"),
        ("Printing A3 posters", "12075", "4.63", "59.03"),
        ("Diesel fuel, per litre", "241", "1.50", "36.00"),
        ("Mineral water 0.5 l", "0.51", "1.49", "0.75"),
        ("Freight, less-than-truckload", "", "7.28", "10.92"),
        ("Euro pallet, heat treated", "1ea", "4.29", "429"),
        ("Steel sheet S235 2 mm, per m?", "10", "21.58", "215.80"),
        ("Freight, per pallet", "412", "2.54", "30.48"),
        ("Calibration certificate : &", "4", "115.27", "115.27"),
    ]
    cells = [[(226, f"ITM-{n}"), (535, description), (1850, price), _amount(amount)]
             + ([(1560, qty)] if qty else [])
             for n, (description, qty, price, amount) in enumerate(rows)]
    fields = read_invoice(_item_table(cells, "1,002.87", head))
    items = fields["line_items"].value
    assert [i["quantity"] for i in items] == ["7.5", "12.75", "24", "0.5", "1.5", "1", "10", "12",
                                              "1"]
    assert [i["amount"] for i in items][5:7] == [Decimal("4.29"), Decimal("215.80")]
    assert items[6]["description"] == "Steel sheet S235 2 mm, per m²"
    assert items[-1]["description"] == "Calibration certificate"
    assert fields["line_items"].method == "table+sum"


def test_a_price_whose_thousands_separator_ocr_read_as_a_space_is_one_number() -> None:
    """``€27,307.98`` read ``€27 307.98`` is two numbers, and the price was taken as 307.98
    (seed 39000's invoice 24, seed 37000's 28 with ``£47 284.73``): the two joined are the price
    when they give the row's amount with its quantity, and an amount when it is the quantity x
    the price. A price and a separate number that do not (``3 pcs 12 450.00`` where 3 x 450 is
    the amount) are read as before."""
    rows: list[Cells] = [
        [(535, "Software development sprint"), (1560, "8"), (1790, "€27"), (1870, "307.98"),
         _amount("€218,463.84")],
        [(535, "Enterprise licence, annual"), (1560, "0.5"), (1790, "€47"), (1870, "284.73"),
         _amount("€23,642.37")],
        [(535, "Euro pallet, heat treated"), (1560, "3"), (1790, "€12"), (1870, "450.00"),
         _amount("€1,350.00")],
        # an amount read apart the same way (``€1 057.00``, seed 41000's invoice 28)
        [(535, "On-site training day"), (1560, "0.5"), (1810, "€2,114.00"), (2100, "€1"),
         (2156, "057.00")],
        # and another row's amount misread (mended by the sum, which mends one row only)
        [(535, "Freight, per pallet"), (1560, "2"), (1850, "€15.57"), (2156, "€34.14")],
    ]
    fields = read_invoice(_item_table(rows, "244,544.35"))
    items = fields["line_items"].value
    assert [i["unit_price"] for i in items] == [Decimal("27307.98"), Decimal("47284.73"),
                                                Decimal("450.00"), Decimal("2114.00"),
                                                Decimal("15.57")]
    assert [i["amount"] for i in items][-2:] == [Decimal("1057.00"), Decimal("31.14")]
    assert fields["line_items"].method == "table+sum"


def test_an_amount_whose_decimal_mark_ocr_read_as_a_space_is_one_number() -> None:
    """``229,451.04`` read ``229,451 04`` (seed 45000's invoice 23): neither word is an amount
    alone, so the row joined the item above as description and the items did not add up.
    Joined at the decimal mark the two are the row's amount when that is quantity x price;
    a price read apart the same way is one number too."""
    rows: list[Cells] = [
        [(535, "Rack server 2U, dual CPU"), (1560, "24"), (1830, "9,560.46"), (2090, "229,451"),
         (2260, "04")],
        [(535, "Office cleaning, monthly"), (1560, "100"), (1790, "1,091"), (1920, "32"),
         _amount("109,132.00")],
        [(535, "Printing A3 posters"), (1560, "10"), (1880, "2.46"), _amount("24.60")],
        # a thousands separator read against the second word (seed 45000's invoice 28)
        [(535, "Software development sprint"), (1560, "2"), (1790, "€31"), (1870, ",750.63"),
         _amount("€63,501.26")],
    ]
    fields = read_invoice(_item_table(rows, "402,108.90"))
    items = fields["line_items"].value
    assert [i["description"] for i in items] == ["Rack server 2U, dual CPU",
                                                 "Office cleaning, monthly", "Printing A3 posters",
                                                 "Software development sprint"]
    assert [i["amount"] for i in items] == [Decimal("229451.04"), Decimal("109132.00"),
                                            Decimal("24.60"), Decimal("63501.26")]
    assert [i["unit_price"] for i in items][1::2] == [Decimal("1091.32"), Decimal("31750.63")]
    assert fields["line_items"].method == "table+sum"


def test_an_amount_ocr_garbled_at_its_start_stays_in_the_amount_column() -> None:
    """``35,679.72`` read ``O0;019.12`` (seed 45000's invoice 21): no number by its look, it
    was placed by its left edge, under the unit price, so the row had no amount and was lost.
    A word ending in a number with cents and holding more digits than letters is placed by
    its centre like a number: the row is an item, and the printed sum mends its amount."""
    rows: list[Cells] = [
        [(535, "Enterprise licence, annual"), (1560, "1"), (1790, "35,679.72"),
         (2040, "O0;019.12")],
        [(535, "Isopropyl alcohol 99.9%"), (1560, "3"), (1880, "31.00"), _amount("93.00")],
        # a speck read as a copyright sign after a description is no part of it
        [(535, "Diesel fuel, per litre ©"), (1560, "2"), (1880, "1.93"), _amount("3.86")],
    ]
    fields = read_invoice(_item_table(rows, "35,776.58"))
    items = fields["line_items"].value
    assert [i["description"] for i in items][::2] == ["Enterprise licence, annual",
                                                      "Diesel fuel, per litre"]
    assert [i["amount"] for i in items] == [Decimal("35679.72"), Decimal("93.00"),
                                            Decimal("3.86")]


def test_a_quantity_beside_an_amount_one_digit_off_is_kept_and_the_sum_mends_the_amount() -> None:
    """``5kg 3,54 17,10`` for 17.70 (seed 45000's invoice 22): amount / price (4.83) had
    replaced the quantity as read, and the items then missed the net sum by 0.60. An amount
    one digit off quantity x price is the misread number: the quantity stays 5 and the
    printed sum mends the amount."""
    rows = [("Office cleaning, monthly", "5", "523.90", "2,619.50"),
            ("Euro pallet, heat treated", "2.25", "12.14", "27.32"),
            ("Freight, less-than-truckload", "5kg", "3.54", "17.10"),
            ("Ergonomic office chair", "3", "478.00", "1,434.00")]
    cells = [[(535, description), (1560, qty), (1820, price), _amount(amount)]
             for description, qty, price, amount in rows]
    items = read_invoice(_item_table(cells, "4,098.52"))["line_items"].value
    assert [i["quantity"] for i in items] == ["5", "2.25", "5", "3"]
    assert items[2]["amount"] == Decimal("17.70")


def test_a_quantity_head_whose_q_ocr_read_as_a_sign_is_the_quantity_column() -> None:
    """``Qty`` read ``@ty`` on a dark header bar (seed 44000's invoice 25): the table had no
    quantity column, and no row a quantity. ``@ty``, ``0ty`` and ``Oty`` head it."""
    for head in ("@ty", "0ty", "Oty", "Qty"):
        cells = [[(535, "Copper cable, per metre"), (1400, "5m"), (1850, "1.14"), _amount("5.70")],
                 [(535, "Consulting services"), (1400, "0.75"), (1520, "h"), (1850, "124.06"),
                  _amount("93.05")]]
        heads: Cells = [ITEM_HEAD[0], (1400, head), (1520, "Unit"), *ITEM_HEAD[2:]]
        items = read_invoice(_item_table(cells, "98.75", heads))["line_items"].value
        assert [i["quantity"] for i in items] == ["5", "0.75"], head


def test_a_square_metre_read_without_its_space_and_a_bracket_never_closed() -> None:
    """``per m²`` read ``perm?`` (seed 46000's invoices 23 and 28) is ``per m²``, as ``per m?``
    is; a description opening a bracket it never closes (``(Enterprise licence``, seed 46000's
    25) had a speck read as the bracket; one that closes it keeps it. So does a quote."""
    rows = [("Steel sheet S235 2 mm, perm?", "2", "39.69", "79.38"),
            ("(Enterprise licence, annual", "1", "100.00", "100.00"),
            ("(EU) pallet, heat treated", "2", "12.00", "24.00"),
            # a speck read as a quote before the first word, which it moves left of the head
            # (seed 48000's invoice 18: the word had gone to the item code's column)
            ('"Office cleaning, monthly', "1", "50.00", "50.00"),
            # a speck read as an apostrophe after a word not ending in s (seed 37000's invoice
            # 17, ``per metre’``); a plural's apostrophe stays
            ("Copper cable, per metre’", "1", "2.00", "2.00"),
            ("Workers’ gloves, pair", "1", "3.00", "3.00")]
    cells = [[(226, f"ITM-{n}"), (535 - 24 * description.startswith('"'), description),
              (1560, qty), (1850, price), _amount(amount)]
             for n, (description, qty, price, amount) in enumerate(rows)]
    items = read_invoice(_item_table(cells, "258.38", [(226, "ITEM"), *ITEM_HEAD]))[
        "line_items"].value
    assert [i["description"] for i in items] == ["Steel sheet S235 2 mm, per m²",
                                                 "Enterprise licence, annual",
                                                 "(EU) pallet, heat treated",
                                                 "Office cleaning, monthly",
                                                 "Copper cable, per metre",
                                                 "Workers’ gloves, pair"]


def test_a_quantity_read_with_a_colon_and_a_stop_before_a_description() -> None:
    """Seed 68000's invoices 16 and 18: a quantity right-aligned under its head whose decimal
    mark OCR read as a colon (``2:25``) starts left of the head and went to the description
    (``… 4000 K 2:25``); the quantity was amount / price all the same, and the number read is
    now left out of the description when it is that quantity. A stop read before the first word
    (``.Consulting``) is a speck, as a dash is."""
    head: Cells = [(226, "Description"), (1431, "Qty"), (1689, "Unit"), (1776, "Price"),
                   (2094, "Amount")]
    rows = [("LED panel 600 x 600 mm, 4000 K", "2:25", "€69.09", "€155.45"),
            (".Consulting services (hours)", "3", "€137.85", "€413.55")]
    cells = [[(226, description), (1404, qty), (1751, price), _amount(amount)]
             for description, qty, price, amount in rows]
    items = read_invoice(_item_table(cells, "569.00", head))["line_items"].value
    assert [(i["description"], i["quantity"]) for i in items] == [
        ("LED panel 600 x 600 mm, 4000 K", "2.25"), ("Consulting services (hours)", "3")]


def test_a_letterhead_street_line_is_no_name_though_its_first_word_is_the_mail_domain() -> None:
    """Seed 68000's invoice 20 posted ``Bramley Mill, Canal Road`` as the seller at 0.96: the
    name's own line read badly (``Beanies Precision Engineering Ltd``) and the street line
    under it starts with the mail domain's word (``accounts@bramley.example``). A line ending
    in a kind of street is the address: it is no name, and the address keeps it."""
    fields = read_invoice(_ocr_page([
        (203, 200, "Beanies Precision Engineering Ltd"), (1900, 200, "INVOICE"),
        (201, 276, "Bramley Mill, Canal Road"), (201, 328, "Stockport SK4 1AA"),
        (1603, 355, "Invoice No.: F202412-014"), (202, 381, "United Kingdom"),
        (200, 432, "accounts@bramley.example"), (200, 484, "VAT Reg. No.: GB600247981"),
        (1476, 1435, "Subtotal £6,813.50"), (1474, 1575, "Total GBP £6,813.50"),
    ]))
    assert fields["vendor_name"].value != "Bramley Mill, Canal Road"
    assert fields["vendor_name"].confidence < 0.88
    assert fields["address"].value == "Bramley Mill, Canal Road, Stockport SK4 1AA, GB"


def test_a_description_read_a_little_left_of_its_head_is_the_description_s() -> None:
    """Seed 69000's invoice 18 posted ``sheet S235 2 mm, per m²``: its ``Steel`` was boxed
    16 px left of the ``Bezeichnung`` head (a scan's skew left over), one pixel more than a
    text word was given, so it went to the article code's column and was lost. A text word
    may start three quarters of its height left of its head."""
    head: Cells = [(292, "Pos."), (408, "Art.-Nr."), (659, "Bezeichnung"), (1479, "Menge"),
                   (1733, "Einzelpreis"), (2016, "Gesamtpreis")]
    cells = [[(293, "1"), (409, "MAT-ST12"), (643, "Steel sheet S235 2 mm"), (1513, "8"),
              (1806, "39,62"), _amount("316,96")]]
    items = read_invoice(_item_table(cells, "316,96", head))["line_items"].value
    assert items[0]["description"] == "Steel sheet S235 2 mm"


def test_a_litre_glued_to_a_quantity_as_a_one_is_dropped_when_the_row_says_so() -> None:
    """``0,75l`` at 1.00 read ``0.751`` (seed 39000's invoice 26): 0.751 x 1.00 still rounds to
    0.75, so the row's arithmetic held as read. The quantity is 0.75 when that gives the amount
    exactly; a quantity of three decimals that does not round away (1.531 x 3.10 = 4.75) stays."""
    rows = [
        ("Diesel fuel, per litre", "0.751", "1.00", "0.75"),
        ("Copper wire, per kg", "1.531", "3.10", "4.75"),
        ("Diesel fuel, per litre", "2.251", "1.00", "2.25"),
    ]
    cells = [[(535, description), (1560, qty), (1850, price), _amount(amount)]
             for description, qty, price, amount in rows]
    fields = read_invoice(_item_table(cells, "7.75"))
    assert [i["quantity"] for i in fields["line_items"].value] == ["0.75", "1.531", "2.25"]


def test_a_scanned_quantity_no_misreading_explains_is_amount_over_price() -> None:
    """Quantities OCR read as other numbers (``422`` for 12, ``3`` for 250, ``4`` for 1.5; seeds
    40000, 39000, 38000) that no usual misreading turns into the amount over the price: the
    quantity is amount / price when that is a whole number or of hundredths, and most rows of
    the table hold. A row on its own may be discounted (zugferd's ``Stahlcoil``, 10 × 100.00
    = 850.00): its quantity stays as read."""
    def quantities(rows: list[tuple[str, str, str, str]], subtotal: str) -> list[object]:
        cells = [[(535, description), (1560, qty), (1800, price), _amount(amount)]
                 for description, qty, price, amount in rows]
        return [i["quantity"] for i in read_invoice(_item_table(cells, subtotal))["line_items"].value]

    rows = [("LED panel 600 x 600 mm", "422", "88.42", "1,061.04"),
            ("Steel sheet S235 2 mm", "3", "28.38", "7,095.00"),
            ("Euro pallet, heat treated", "5", "12.00", "60.00"),
            ("Freight, less-than-truckload", "36", "1.31", "47.16"),
            ("Consulting services (hours)", "8", "121.04", "968.32"),
            ("Copper cable, per metre", "10", "2.51", "25.10"),
            ("On-site training day", "4", "1,213.25", "1,819.88")]
    assert quantities(rows, "11,076.50") == ["12", "250", "5", "36", "8", "10", "1.5"]
    assert quantities([("Stahlcoil", "10", "100.00", "850.00")], "850.00") == ["10"]
    # among rows that hold, a discounted row keeps its quantity under a discount head, or with
    # the rate beside its numbers
    held = [[(535, description), (1560, qty), (1800, price), _amount(amount)]
            for description, qty, price, amount in rows[2:5]]
    discounted: Cells = [(535, "Stahlcoil"), (1560, "10"), (1800, "100.00"), _amount("900.00")]
    with_head = read_invoice(_item_table([*held, discounted], "1,975.48",
                                         [*ITEM_HEAD[:3], (1960, "DISC"), ITEM_HEAD[3]]))
    assert [i["quantity"] for i in with_head["line_items"].value] == ["5", "36", "8", "10"]
    with_rate = read_invoice(_item_table([*held, [*discounted, (1990, "-10%")]], "1,975.48"))
    assert [i["quantity"] for i in with_rate["line_items"].value] == ["5", "36", "8", "10"]


def test_item_codes_under_a_head_that_did_not_read_stay_out_of_the_description() -> None:
    """A dark header bar whose ``# Item`` heads OCR lost (seed 41000's invoice 25): the row
    numbers and item codes left of ``Description`` had joined the descriptions
    (``SVC-CONS Consulting services (hours)``). Words a column's gap left of the head are left
    out when the description starts under the head's left edge; under a centred head, where
    the descriptions start left of it, every word stays (but an article code a column's gap
    before the description, which is a cell of its own: see
    ``test_an_article_code_a_column_apart_is_no_part_of_the_description``)."""
    def items(head_x: float, codes: tuple[str, str]) -> list[dict[str, object]]:
        head: Cells = [(head_x, "DESCRIPTION"), *ITEM_HEAD[1:]]
        rows = [(codes[0], "Consulting services (hours)", "4", "97.81", "391.24"),
                (codes[1], "Euro pallet, heat treated", "5", "15.34", "76.70")]
        cells = [[(178, str(n + 1)), (260, code), (560, description), (1560, qty), (1850, price),
                  _amount(amount)] for n, (code, description, qty, price, amount) in enumerate(rows)]
        value: list[dict[str, object]] = read_invoice(_item_table(cells, "467.94", head))[
            "line_items"].value
        return value

    assert [i["description"] for i in items(556, ("SVC-CONS", "PKG-PAL"))] == [
        "Consulting services (hours)", "Euro pallet, heat treated"]
    # the head over the middle of the column: words that are no codes stay
    assert [i["description"] for i in items(900, ("Senior", "Pooled"))] == [
        "Senior Consulting services (hours)", "Pooled Euro pallet, heat treated"]


def test_an_item_row_ocr_split_in_two_is_read_as_one() -> None:
    """Tesseract boxed the description of one item row taller than its numbers (an underscore
    under ``_Ergonomic``), so the reading order put ``back`` and the numbers on one row and
    the rest of the description on a row of its own; the two share most of their height and
    fill each other's gaps, so they are one item row, read left to right."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. RE-60553"),
            (226, 1200, "ITEM"), (535, 1200, "DESCRIPTION"), (1525, 1200, "QTY"),
            (1732, 1200, "UNIT PRICE"), (2074, 1200, "LINE TOTAL"),
            (226, 1340, "MAT-CU"), (535, 1340, "Copper cable"), (1560, 1340, "10"),
            (1860, 1340, "2.00"), (2180, 1340, "20.00"),
            (1474, 1500, "SUBTOTAL € 39,273.00"),
        ]
    )
    split = [Word(text="back", box=(1019, 1248, 1097, 1278), conf=0.9),
             Word(text="100", box=(1529, 1248, 1588, 1278), conf=0.9),
             Word(text="392.53", box=(1808, 1248, 1921, 1278), conf=0.9),
             Word(text="39,253.00", box=(2106, 1248, 2271, 1278), conf=0.9),
             Word(text="OFF-CHR", box=(217, 1252, 409, 1312), conf=0.9),
             Word(text="_Ergonomic", box=(507, 1252, 703, 1312), conf=0.9),
             Word(text="office", box=(714, 1252, 802, 1285), conf=0.9),
             Word(text="chair,", box=(809, 1252, 903, 1290), conf=0.9),
             Word(text="mesh", box=(917, 1252, 1005, 1285), conf=0.9)]
    pages = _with_words(pages, split)
    assert len({w.line for w in pages[0].words if w.box[1] in (1248, 1252)}) == 2  # as read
    items = read_invoice(pages)["line_items"].value
    assert [i["description"] for i in items] == ["Ergonomic office chair, mesh back", "Copper cable"]
    assert [i["quantity"] for i in items] == ["100", "10"]


def test_a_scanned_table_whose_quantity_head_did_not_read() -> None:
    """A dark header bar read as ``Description Unit Price Amount`` (its ``Qty`` lost), a speck
    under it read as the letters ``is`` (a row 4 px tall, which must not end the table), and
    a speck before one amount read as a minus. The number between a description and its
    price that gives the amount with the price is the quantity; the one row whose quantity
    x price in place of its amount makes the items add up to the subtotal is mended. A row
    whose quantity did not read as a number (``L5`` for 1.5) has amount / price for one, as
    the other rows show the table has quantities."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. INV-24-0042"),
            (207, 1166, "Description"), (1673, 1166, "Unit Price"), (2090, 1166, "Amount"),
            (227, 1268, "Diesel fuel, per litre"), (1500, 1268, "0.75"), (1770, 1268, "£1.00"),
            (2150, 1268, "£0.75"),
            (227, 1347, "Isopropyl alcohol, 5 L can"), (1000, 1347, "3"),
            (1750, 1347, "£30.37"), (2130, 1347, "£91.11"),
            (227, 1427, "Consulting services (hours)"), (1500, 1427, "100"),
            (1740, 1427, "£177.18"), (2060, 1427, "-£17,718.00"),
            (227, 1507, "LED panel, 4000 K"), (1500, 1507, "L5"),
            (1750, 1507, "£40.00"), (2130, 1507, "£60.00"),
            (1474, 1760, "Subtotal £17,869.86"), (1474, 1900, "Total GBP £17,869.86"),
        ]
    )
    speck = Word(text="is", box=(1493, 1226, 1510, 1230), conf=0.2)
    pages = _with_words(pages, [speck])
    fields = read_invoice(pages)
    items = fields["line_items"].value
    assert [i["quantity"] for i in items] == ["0.75", "3", "100", "1.5"]
    assert [i["amount"] for i in items][:3] == [Decimal("0.75"), Decimal("91.11"),
                                                Decimal("17718.00")]
    assert [i["description"] for i in items][1] == "Isopropyl alcohol, 5 L can"


def test_noise_on_a_scanned_item_table_stays_out_of_its_items() -> None:
    """A scan's table rules read as letters (``ee``, 3 px tall and 288 px wide, between two
    items), a speck read as a quote before an amount (``"£38.56``), noise far right of a
    description (``ee``, unsure) and a unit price with one digit misread (``£1.00`` for
    1.05: 2 x 1.05 = 2.10) leave the items as printed."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. INV-24-0042"),
            (237, 1153, "Description"), (1439, 1153, "Qty"), (1696, 1153, "Unit Price"),
            (2100, 1153, "Amount"),
            (237, 1252, "Steel sheet"), (1485, 1252, "1"), (1718, 1252, "£38.56"),
            (2029, 1252, '"£38.56'),
            (237, 1340, "Diesel fuel, per litre"), (1484, 1340, "2"), (1782, 1340, "£1.00"),
            (2153, 1340, "£2.10"),
            (1487, 1500, "Subtotal £40.66"),
        ]
    )
    noise = [Word(text="ee", box=(991, 1303, 1279, 1306), conf=0.0),
             Word(text="ee", box=(1147, 1340, 1220, 1370), conf=0.1)]
    pages = _with_words(pages, noise)
    items = read_invoice(pages)["line_items"].value
    assert [i["description"] for i in items] == ["Steel sheet", "Diesel fuel, per litre"]
    assert [i["unit_price"] for i in items] == [Decimal("38.56"), Decimal("1.05")]
    assert [i["amount"] for i in items] == [Decimal("38.56"), Decimal("2.10")]


def test_a_scanned_invoice_number_is_set_right_by_its_other_reading_on_the_page() -> None:
    """The number's label reads ``S1/2211/26`` (the prefix's I taken for a 1); the payment
    line prints it again, read ``SI/2211/26``. Where the two differ only by I/1, the character
    of the kind of the rest of its part wins: ``SI`` is letters. A page that prints the
    number once keeps it as read."""
    lines = [
        (200, 200, "Invoice No. S1/2211/26"),
        (1400, 1900, "TOTAL DUE (EUR) € 2,391.52"),
        (200, 2100, "Please pay quoting SI/2211/26."),
    ]
    fields = read_invoice(_ocr_page(lines))
    assert fields["invoice_number"].value == "SI/2211/26"
    assert fields["invoice_number"].raw == "S1/2211/26"  # as read at its label
    once = read_invoice(_ocr_page(lines[:2]))
    assert once["invoice_number"].value == "S1/2211/26"


def test_a_misread_qty_head_and_minus_specks_before_price_and_amount() -> None:
    """``Oty`` is OCR's ``Qty``; specks before one row's price and amount read as minus signs
    (``-€16,061.00  -€80,305.00``), so the row's own arithmetic holds, but the items only add
    up to the subtotal with that row positive: it is turned positive."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. INV-24-0042"),
            (207, 1150, "Description"), (1440, 1150, "Oty"), (1700, 1150, "Unit Price"),
            (2100, 1150, "Amount"),
            (227, 1250, "Enterprise licence"), (1460, 1250, "5"), (1700, 1250, "-€16,061.00"),
            (2050, 1250, "-€80,305.00"),
            (227, 1330, "Office chair"), (1460, 1330, "1"), (1730, 1330, "€227.37"),
            (2110, 1330, "€227.37"),
            (1474, 1760, "Subtotal €80,532.37"),
        ]
    )
    items = read_invoice(pages)["line_items"].value
    assert [i["quantity"] for i in items] == ["5", "1"]
    assert [i["unit_price"] for i in items] == [Decimal("16061.00"), Decimal("227.37")]
    assert [i["amount"] for i in items] == [Decimal("80305.00"), Decimal("227.37")]


def test_the_imprint_gives_the_legal_form_the_letterhead_reading_lost() -> None:
    """A letterhead read without its last word (``Shannon Freight & Logistics``) over an
    imprint that prints the name with its legal form is the name with that form; a speck
    read as ``_`` before the name, or as a stop after its form where the imprint has none, is
    no part of it."""
    def page(head: str, imprint: str = "Shannon Freight & Logistics Ltd. Registered No. 154999",
             ) -> list[Page]:
        return _ocr_page(
            [
                (150, 100, head),
                (1700, 100, "TAX INVOICE"),
                (150, 200, "Shannon Free Zone East"),
                (150, 260, "Shannon V14 DR59, Ireland"),
                (150, 600, "Invoice No. F202402-878"),
                (1400, 1900, "TOTAL DUE (GBP) £ 4,037.26"),
                (150, 3300, imprint),
            ]
        )

    for pages in (page("Shannon Freight & Logistics"), page("_ Shannon Freight & Logistics Ltd"),
                  page("Shannon Freight & Logistics Ltd.",
                       "Shannon Freight & Logistics Ltd - Registered No. 154999")):
        fields = read_invoice(pages)
        assert fields["vendor_name"].value == "Shannon Freight & Logistics Ltd", pages[0].text
        assert fields["vendor_name"].method.startswith("repeated")


def _letterhead_seller(top: list[tuple[float, float, str]],
                       rest: list[tuple[float, float, str]]) -> Field:
    """The seller read from a scanned page whose letterhead reads ``top`` (the variants a test
    compares) over the same address, body and imprint (``rest``)."""
    return read_invoice(_ocr_page([*top, *rest]))["vendor_name"]


def test_a_letterhead_cut_at_an_elision_is_the_imprints_name_or_no_repeated_name() -> None:
    """``Officine Meccaniche dell'Adige S.p.A.`` read ``Officine Meccaniche dell`` and
    ``S.p.A.`` (its ``'Adige`` on a line of its own; seed 49000's invoice 24): the imprint
    ``… dell'Adige S.p.A.`` had matched the cut name, which was posted at 0.96. The piece the
    imprint prints between the name read and its legal form is part of the name; with no form
    read after the cut name, a name cut at an elision is not taken for the imprint's."""

    def vendor(head: list[tuple[float, float, str]]) -> Field:
        return _letterhead_seller(head, [
            (150, 200, "Lungadige Galtarossa 21"),
            (150, 260, "37133 Verona VR"),
            (150, 600, "Invoice No. A24-1123"),
            (1400, 1900, "TOTAL DUE (EUR) € 4,037.26"),
            (150, 3300, "Officine Meccaniche dell'Adige S.p.A. - Registered No. 636515"),
        ])

    named = vendor([(150, 100, "Officine Meccaniche dell"), (900, 100, "S.p.A."),
                    (1700, 100, "INVOICE")])
    assert named.value == "Officine Meccaniche dell'Adige S.p.A."
    cut = vendor([(150, 100, "Officine Meccaniche dell"), (1700, 100, "INVOICE")])
    assert cut.value != "Officine Meccaniche dell"


def test_a_scanned_total_that_lost_its_first_digits_is_its_net_plus_tax() -> None:
    """``Total CHF a 442.47`` (``3,`` read as ``a``) under a net total of 3,310.07 and a tax
    of 132.40: a gross total under its net sum lost digits, and the sum ends in the ones read.
    A total that is no such tail of the sum stays as read."""
    def total_of(total: str) -> Field:
        return read_invoice(
            _ocr_page(
                [
                    (200, 200, "Invoice No. SI/8837/24"),
                    (1400, 1900, "Net total 3,310.07"),
                    (1400, 1960, "VAT 4% 132.40"),
                    (1400, 2020, f"Total CHF {total}"),
                ]
            )
        )["total_amount"]

    mended = total_of("a 442.47")
    assert mended.value == Decimal("3442.47") and mended.method == "label+sum"
    assert total_of("089.00").value == Decimal("89.00")  # 3442.47 does not end in 89.00
    assert total_of("3,442.47").value == Decimal("3442.47")
    # ``26,1 03.86``: a space OCR put inside the number split off more digits than a lost
    # lead; the row read without it is the sum
    split = total_of("3,44 2.47")
    assert split.value == Decimal("3442.47") and split.method == "label+sum"
    assert total_of("3,54 2.47").value == Decimal("2.47")  # 3,542.47 is not the sum


def test_a_speck_read_as_a_digit_before_a_scanned_net_sum_is_not_a_digit_the_total_lost() -> None:
    """Seed 69000's invoice 22 posted a total of 2,279.96 at 0.98: ``Nettobetrag 2.235,26 €``
    (a speck read as ``2.``) above ``zzgl. 19 % MwSt. 44,70 €`` and ``Rechnungsbetrag
    279,96 €``. The net sum without its first digit closes the sum with the total as read, as
    the total with that digit closes it with the net sum as read; the printed rate tells
    which (19 % of 235.26 is 44.70). With no rate printed, neither is mended and the total is
    unsure; a rate that fits the net sum as read mends the total as before."""
    def sums(net: str, tax_label: str, total: str) -> dict[str, tuple[str, float]]:
        fields = _scanned_sums("Rechnung Nr. RE-2026-118", ("Nettobetrag", tax_label,
                                                             "Rechnungsbetrag"),
                               (f"{net} €", "44,70 €", f"{total} €"))
        return {name: (str(fields[name].value), fields[name].confidence)
                for name in ("subtotal", "total_amount")}

    mended = sums("2.235,26", "zzgl. 19 % MwSt.", "279,96")
    assert [mended[name][0] for name in ("subtotal", "total_amount")] == ["235.26", "279.96"]
    unsure = sums("2.235,26", "zzgl. MwSt.", "279,96")
    assert unsure["total_amount"][0] == "279.96" and unsure["total_amount"][1] < 0.5
    assert sums("2.235,00", "zzgl. 2 % MwSt.", "79,70")["total_amount"][0] == "2279.70"


def test_a_net_total_read_as_fotal_is_the_subtotal() -> None:
    """Seed 70000's invoice 29: ``VAT summary Net fotal 5,827.33`` (a t read as an f) was no
    label, so the invoice was posted without its net sum, its tax and its items, which are
    checked against the net sum."""
    fields = _scanned_sums("Invoice 007485", ("VAT summary Net fotal", "VAT 13.5%", "Total USD"),
                           ("5,827.33", "786.69", "6,614.02"))
    assert fields["subtotal"].value == Decimal("5827.33")
    assert fields["subtotal"].method == fields["total_amount"].method == "label+sum"


def test_a_rule_read_as_letters_is_no_label() -> None:
    """A table rule over a grid of heads Tesseract could not read, itself read as ``Tue
    date`` in boxes 1-3 px tall: no print is that flat, so its ``date`` labels nothing, and
    the due date under it is not taken for the invoice's date."""
    pages = _ocr_page(
        [
            (170, 100, "Groot & Klein Drukwerk B.V."),
            (190, 470, "SI/8837/24"), (905, 470, "2024-05-17"), (1620, 470, "2024-07-01"),
            (1400, 1900, "Total EUR 1,250.00"),
        ]
    )
    rule = [Word(text="Tue", box=(1193, 410, 1666, 413), conf=0.3),
            Word(text="date", box=(1681, 409, 1766, 410), conf=0.3)]
    fields = read_invoice(_with_words(pages, rule))
    assert fields["invoice_date"].value == dt.date(2024, 5, 17)
    assert fields["invoice_date"].method != "label"


def test_a_total_whose_line_did_not_read_is_the_net_plus_the_tax_as_a_guess() -> None:
    """``Total EUR 929.76`` read as ``TOMEUR © 3 O2076:``: no total label and no printed sum;
    the one labelled net total plus the one labelled tax is the total, with the confidence of
    a guess (calibration never raises it)."""
    from extractors.registry import calibrated

    fields = read_invoice(
        _ocr_page(
            [
                (200, 200, "Invoice No. INV-2026-6045"),
                (1614, 1600, "Net total 755.90"),
                (1614, 1660, "VAT 23% 173.86"),
                (1611, 1780, "TOMEUR © 3 O2076:"),
            ]
        )
    )
    total = fields["total_amount"]
    assert total.value == Decimal("929.76") and total.method == "net_tax"
    assert calibrated(total, origin="ocr", extractor="invoice") <= total.confidence < 0.5
    # the tax it was summed from is the invoice's tax, as unsure as that total
    tax = fields["tax_amount"]
    assert tax.value == Decimal("173.86") and tax.method == "net_tax"
    assert tax.confidence == total.confidence


def test_a_scanned_invoice_number_read_otherwise_elsewhere_on_the_page_is_unsure() -> None:
    """``SV/8361/25`` beside ``Invoice`` in the footer, ``SI/8361/25`` in the payment line:
    one of the two readings is wrong, so the number is not sure enough to post; a number the
    page shows one way only, or beside another document's number of its shape, keeps its
    confidence."""
    def number(payment_line: str) -> Field:
        return read_invoice(
            _ocr_page(
                [
                    (170, 100, "Kite & Key Ltd"),
                    (150, 2900, payment_line),
                    (1400, 1900, "Total GBP £1,089.00"),
                    (1900, 3300, "Invoice SV/8361/25"),
                ]
            )
        )["invoice_number"]

    doubted = number("Please pay by 2025-01-31 quoting SI/8361/25.")
    sure = number("Please pay by 2025-01-31 quoting SV/8361/25.")
    assert doubted.value == sure.value == "SV/8361/25"
    assert doubted.confidence < 0.7 * sure.confidence
    # another document's number of the same shape is its own (a delivery note's)
    assert number("Delivery note SD/8361/25").confidence == sure.confidence


def test_a_legal_form_with_stops_of_its_own_keeps_its_last_one() -> None:
    """``Groot & Klein Drukwerk B.V.`` over an imprint read ``… B.V -``: the last stop of
    ``B.V.`` is the form's own, not a speck."""
    fields = read_invoice(
        _ocr_page(
            [
                (170, 100, "Groot & Klein Drukwerk B.V."),
                (1700, 100, "INVOICE"),
                (170, 200, "Prinsengracht 811, 1017 KB Amsterdam"),
                (150, 600, "Invoice No. SI/8837/24"),
                (1400, 1900, "Total EUR 1,250.00"),
                (150, 3300, "Groot & Klein Drukwerk B.V - KvK 12345678"),
            ]
        )
    )
    assert fields["vendor_name"].value == "Groot & Klein Drukwerk B.V."


def test_a_scanned_number_cut_short_at_a_misread_dash_is_the_longer_one_on_the_page() -> None:
    """``F202501 “399`` under ``Invoice number``, the dash read as a quote (or ``RE-11 651``
    split by a gap, ``RE-11- G5I`` split after the dash with the rest misread): the page prints
    ``F202501-399`` in its payment line, and the rest of it stands after the number read, so
    the number is the longer one. Without that rest beside it, a longer number elsewhere that
    starts the same is not taken for it; a number split after its dash with something else
    beside it may be cut short, and is less sure than one that ends there."""
    def number(cell: str) -> Field:
        fields = read_invoice(
            _ocr_page(
                [
                    (170, 100, "Pinecrest Analytics LLC"),
                    (200, 400, "Invoice number"), (905, 400, "Invoice date"),
                    (200, 460, cell), (905, 460, "2025-01-22"),
                    (1400, 1900, "Total EUR 1,250.00"),
                    (200, 2400, "Please pay by 2025-02-05 quoting F202501-399 or RE-11651"),
                ]
            )
        )
        return fields["invoice_number"]

    assert number("F202501 “399").value == "F202501-399"
    assert number("F202501").value == "F202501"
    assert number("RE-11 651").value == "RE-11651"  # split by a gap
    assert number("RE-11- G5I").value == "RE-11651"  # split after the dash, the rest misread
    hanging, ended = number("RE-11- 7S1"), number("RE-11-")
    assert hanging.value == ended.value == "RE-11"  # a rest that is no reading of it
    assert hanging.confidence < 0.7 * ended.confidence


def test_a_label_in_running_text_takes_no_value_from_the_row_below() -> None:
    """The invoice number's own label unread, ``quote invoice number $1/8933/26 with your
    payment`` (its number not parsed) over the bank line: the number after the label is its
    value, so the BIC under it is no invoice number. A header label with nothing after it
    still reads its value below."""
    def number(text: str, x: int, below: str) -> object:
        fields = read_invoice(
            _ocr_page(
                [
                    (170, 100, "St. Albans Lighting Ltd"),
                    (1400, 1900, "Total USD $280.00"),
                    (170, 2200, text),
                    (x, 2260, below),  # under the label's words
                ]
            )
        )
        return fields["invoice_number"].value if "invoice_number" in fields else None

    running = "Please quote invoice number $1/8933/26 with your payment."
    assert number(running, 170 + 24 * 17, "DEMOGB2x") is None  # the BIC as OCR read it
    assert number("Invoice number", 170, "SI/8933/26") == "SI/8933/26"


def test_a_letterhead_read_with_a_logo_speck_and_an_srl_as_s_r_capital_i() -> None:
    """``S _ Ferraro Arredamenti S.r.I. TAX INVOICE |``: the l of ``S.r.l.`` read as a
    capital I still makes it a legal form, and a letter set apart by a speck before the name
    is no part of it."""
    fields = read_invoice(
        _ocr_page(
            [
                (170, 100, "S _ Ferraro Arredamenti S.r.I. TAX INVOICE |"),
                (170, 160, "Via Torino 44"),
                (170, 220, "20123 Milano MI"),
                (1400, 1900, "Total EUR 1,250.00"),
            ]
        )
    )
    assert fields["vendor_name"].value == "Ferraro Arredamenti S.r.l."


def test_a_misread_heading_is_no_name_and_a_bv_that_lost_its_first_stop_is_one() -> None:
    """``Invoice lumber`` (``Number`` misread) is a heading, not ``<Invoice> <Name>``: no
    name starts lower-case. ``Groot & Klein Drukwerk BV.``, the first stop of its ``B.V.``
    lost, is the seller's name with its legal form."""
    fields = read_invoice(
        _ocr_page(
            [
                (170, 100, "Groot & Klein Drukwerk BV."),
                (170, 160, "Prinsengracht 811 - 1017 KB Amsterdam - Netherlands"),
                (170, 400, "Invoice lumber"), (905, 400, "Invoice date"),
                (170, 460, "1234"), (905, 460, "2025-10-23"),
                (1400, 1900, "Total EUR 1,250.00"),
            ]
        )
    )
    assert fields["vendor_name"].value == "Groot & Klein Drukwerk B.V."


def test_a_date_right_after_invoice_is_the_invoice_date_when_its_label_was_lost() -> None:
    """``Invoice 11 May 2024``, the ``Date:`` of ``Invoice Date:`` lost on a scan: the date
    right after ``Invoice`` is the invoice's (the due date under it is not). A date further
    along the row (``Invoice INV-9 Order 01.02.2024``) is not labelled by it."""
    def dates(after: str) -> dict[str, Field]:
        return read_invoice(
            _ocr_page(
                [
                    (170, 100, "L'Artigiano Tessile S.r.l."),
                    (1400, 300, "Invoice No.: 2024/252"),
                    (1400, 360, "Invoice"), (1700, 360, after),  # a cell of its own
                    (1400, 420, "Due Date: 25 June 2024"),
                    (1400, 1900, "Total EUR 1,250.00"),
                ]
            )
        )

    found = dates("11 May 2024")["invoice_date"]
    assert found.value == dt.date(2024, 5, 11) and found.method == "label"
    other = dates("INV-9 Order 01.02.2024").get("invoice_date")
    assert other is None or other.method != "label"


def test_the_address_under_a_letterhead_whose_legal_form_was_misread() -> None:
    """``De Vries Installatietechniek BV. TAX INVOICE`` over its address, and the imprint
    ``… B.V. - Registered No.`` at the foot: the name the imprint repeats is the letterhead's,
    once its ``BV.`` is mended, so the address is read under the letterhead, not the imprint."""
    page = _ocr_page(
        [
            (170, 160, "Industrieweg 12"),
            (170, 220, "3542 AD Utrecht"),
            (170, 280, "Netherlands"),
            (1400, 1900, "Total EUR 1,250.00"),
            (170, 3300, "De Vries Installatietechniek B.V. - Registered No. 728928"),
        ]
    )
    letterhead = _ocr_page([(170, 100, "De Vries Installatietechniek BV. TAX INVOICE")], conf=0.1)
    fields = read_invoice(_with_words(page, letterhead[0].words))  # read with little trust
    assert fields["vendor_name"].value == "De Vries Installatietechniek B.V."
    assert fields["address"].value == "Industrieweg 12, 3542 AD Utrecht, NL"


def test_a_scanned_total_split_at_its_cents_or_with_its_cents_misread() -> None:
    """``Total GBP 250,607. 45`` (OCR's space before the cents) is 250,607.45, which the net
    and the tax close; a total that the page's subtotal + tax miss by cents or by one digit had
    a digit misread (in it or in the sum's parts): it is a guess, never calibrated up."""
    from extractors.registry import calibrated

    def fields_for(total: str) -> dict[str, Field]:
        return read_invoice(
            _ocr_page(
                [
                    (200, 200, "Invoice No. 2026/486"),
                    (1400, 1900, "Net total 208,839.54"),
                    (1400, 1960, "VAT 20% 41,767.91"),
                    (1400, 2020, f"Total GBP {total}"),
                ]
            )
        )

    split = fields_for("250,607. 45")["total_amount"]
    assert split.value == Decimal("250607.45") and split.method == "label+sum"
    off = fields_for("250,607.48")["total_amount"]
    assert off.value == Decimal("250607.48") and off.method == "near_sum"
    assert calibrated(off, origin="ocr", extractor="invoice") <= off.confidence < 0.5
    # a digit off the sum (4 for 2): either the total or a part of the sum was misread
    assert fields_for("450,607.45")["total_amount"].method == "near_sum"
    assert fields_for("450,617.45")["total_amount"].method == "label"  # two digits: no sum


@pytest.mark.parametrize("country_line", ["lreland", ""])
def test_the_sellers_country_from_a_misread_country_line_or_its_vat_id(country_line: str) -> None:
    """An Irish seller's address: its country line read ``lreland`` (the I as an l) is
    Ireland; without a country line, the country is that of the seller's VAT id (``1E…``,
    mended), not the ``DE`` of ``DEMO 0000 1245 00`` in the bank line, which has a German
    id's prefix and no German id's shape."""
    lines = [
        (170, 100, "Mac Aodha Engineering Ltd"),
        (170, 160, "Ballybrit Business Park"),
        (170, 220, "Galway H91 K2P0"),
        (170, 280, country_line),
        (170, 340, "VAT No. 1E7416712Q"),
        (1400, 1900, "Total EUR 1,250.00"),
        (170, 3300, "IBAN IE00 DEMO 0000 1245 00 - BIC DEMOIE2X"),
    ]
    fields = read_invoice(_ocr_page([line for line in lines if line[2]]))
    assert fields["address"].value == "Ballybrit Business Park, Galway H91 K2P0, IE"


def test_a_british_sellers_country_is_not_its_german_buyers() -> None:
    """A British seller's address without a country line, its VAT id ``GB238842690`` (valid
    by the British check, which the EU's list no longer holds) printed before the German
    buyer's ``DE946354638``: the country is the seller's."""
    fields = read_invoice(
        _ocr_page(
            [
                (170, 100, "Kite & Key Ltd"),
                (170, 160, "22 Bridge St"),
                (170, 220, "Cardiff CF10 2EE"),
                (170, 280, "VAT Reg. No.: GB238842690"),
                (170, 600, "Bill to: Schäfer & Kühn Maschinenbau GmbH, USt-IdNr. DE946354638"),
                (1400, 1900, "Total GBP 1,250.00"),
            ]
        )
    )
    assert fields["address"].value == "22 Bridge St, Cardiff CF10 2EE, GB"


def test_a_speck_inside_net_total_does_not_make_the_net_sum_the_total() -> None:
    """``VAT summary Net ‘total 2,999.40`` (a speck read as an opening quote) with the total
    line unreadable: the net sum had been read as the total (the word ``total`` alone) at 0.97
    and posted. A speck before a word no longer parts the words of a label."""
    for speck in ("‘", "“", ". ", ": "):
        fields = read_invoice(
            _ocr_page(
                [
                    (200, 200, "Invoice No. RE-87576"),
                    (200, 1680, f"VAT summary Net {speck}total 2,999.40"),
                    (200, 1740, "Rate 5% VAT 149.97"),
                    (1700, 1800, "Te ot al EU 3 149.37."),
                ]
            )
        )
        assert fields["subtotal"].value == Decimal("2999.40"), speck
        assert fields["total_amount"].value == Decimal("3149.37"), speck


def test_specks_between_a_label_grid_and_its_values_are_passed_over() -> None:
    """OCR read dust between a header's labels and their values as rows of their own (``_``,
    ``‘|``): the values were two rows further down than a label looks, so the invoice number,
    PO number and due date went unread."""
    page = _ocr_page(
        [
            (210, 598, "INVOICE #"),
            (637, 598, "INVOICE DATE"),
            (1065, 598, "PO NUMBER"),
            (1493, 598, "DUE DATE"),
            (209, 680, "A25-8839"),
            (636, 680, "22/06/2025"),
            (1066, 680, "16300"),
            (1492, 680, "20/09/2025"),
        ]
    )
    specks = [Word(text="_", box=(1476, 636, 1478, 638), conf=0.5),
              Word(text="‘|", box=(556, 652, 561, 657), conf=0.8)]
    fields = read_invoice(_with_words(page, specks))
    assert fields["invoice_number"].value == "A25-8839"
    assert fields["po_number"].value == "16300"
    assert fields["due_date"].value == dt.date(2025, 9, 20)


def test_a_tax_row_whose_label_ocr_lost_is_the_difference_it_prints() -> None:
    """``ot € 151.04`` between ``SUBTOTAL € 719.26`` and ``TOTAL DUE € 870.30``: the tax row's
    label did not read, but its amount is the total less the subtotal. A row with a word of
    its own (``Shipping``) between them is not taken for the tax."""

    def fields_for(middle: str) -> dict[str, Field]:
        return read_invoice(_ocr_page([
            (200, 200, "Invoice No. 95103"),
            (1472, 1835, "SUBTOTAL € 719.26"),
            (1591, 1890, middle),
            (1445, 1950, "TOTAL DUE (EUR) € 870.30"),
        ]))

    fields = fields_for("ot € 151.04")
    assert fields["tax_amount"].value == Decimal("151.04")
    assert fields["tax_amount"].method == "tax_rows+sum"
    assert fields["total_amount"].method == "label+sum"
    assert "tax_amount" not in fields_for("Shipping € 151.04")


def test_an_item_amount_read_as_letters_is_quantity_times_price_when_the_sum_closes() -> None:
    """``250 1.67 ATESO``: the amount of an item row read as letters had made the row a second
    line of the item above it, and the table, missing an item, was dropped. Its amount is the
    quantity × unit price, which the printed subtotal confirms."""

    def items_for(amount: str) -> Field | None:
        return read_invoice(_ocr_page([
            (200, 200, "Invoice No. 95103"),
            (224, 1400, "ITEM"), (533, 1400, "DESCRIPTION"), (1523, 1400, "QTY"),
            (1730, 1400, "UNIT PRICE"), (2072, 1400, "LINE TOTAL"),
            (224, 1480, "CON-1"), (533, 1480, "Consulting services"), (1544, 1480, "0.5"),
            (1810, 1480, "98.44"), (2130, 1480, "49.22"),
            (224, 1560, "FRT-LTL"), (533, 1560, "Freight, less-than-truckload"),
            (1523, 1560, "250"), (1830, 1560, "1.67"), (2131, 1560, amount),
            (224, 1640, "CAL-01"), (533, 1640, "Calibration of torque wrench"), (1560, 1640, "1"),
            (1810, 1640, "64.86"), (2130, 1640, "64.86"),
            (1472, 1800, "SUBTOTAL € 531.58"),
        ])).get("line_items")

    items = items_for("ATESO")
    assert items is not None
    assert [item["amount"] for item in items.value] == [
        Decimal("49.22"), Decimal("417.50"), Decimal("64.86")]
    assert items.value[1]["description"] == "Freight, less-than-truckload"
    assert items_for("417.50").value == items.value  # as if the amount had read
    assert items_for("Boot").value == items.value  # two characters short (seed 41000, 19)
    assert items_for("© M").value == items.value  # in two words (seed 40000, 27)


def test_an_item_table_whose_description_head_did_not_read() -> None:
    """``Qty  Unit Price  Amount`` read, the description's head not (``Descript eee`` on a
    shaded band, a row of its own): the description is what stands left of the first head."""
    items = read_invoice(_ocr_page([
        (200, 200, "Invoice No. 007893"),
        (1366, 1135, "Qty"), (1700, 1135, "Unit Price"), (2050, 1135, "Amount"),
        (239, 1190, "Descript eee"),
        (229, 1250, "Calibration of torque wrench"), (1380, 1250, "24"), (1700, 1250, "£48.61"),
        (2000, 1250, "£1,166.64"),
        (230, 1330, "Diesel fuel, per litre"), (1380, 1330, "1.5"), (1700, 1330, "£1.36"),
        (2000, 1330, "£2.04"),
        (1478, 1661, "Subtotal £1,168.68"),
    ])).get("line_items")
    assert items is not None
    assert [(i["description"], i["quantity"], i["amount"]) for i in items.value] == [
        ("Calibration of torque wrench", "24", Decimal("1166.64")),
        ("Diesel fuel, per litre", "1.5", Decimal("2.04")),
    ]


def test_a_word_lost_from_the_letterhead_is_taken_from_the_imprint() -> None:
    """``Bramley Precision        Ltd`` at the top (``Engineering`` read at no confidence, so
    left out) and ``Bramley Precision Engineering Ltd - Registered No. 852435`` at the foot:
    the seller is the imprint's whole name (it had been ``Bramley Precision`` at 0.96). A
    letterhead without the legal form after the gap takes nothing from the imprint."""

    def vendor(top: list[tuple[float, float, str]]) -> object:
        return _letterhead_seller(top, [
            (201, 279, "Bramley Mill, Canal Road"),
            (201, 331, "Stockport SK4 1AA"),
            (1603, 361, "Invoice No.: RE-33827"),
            (848, 3328, "Bramley Precision Engineering Ltd - Registered No. 852435"),
        ]).value

    assert vendor([(203, 201, "Bramley Precision"), (1207, 201, "Ltd"),
                   (1823, 201, "INVOICE")]) == "Bramley Precision Engineering Ltd"
    assert vendor([(203, 201, "Bramley Precision"), (1823, 201, "INVOICE")]) != (
        "Bramley Precision Engineering Ltd")


def test_of_two_invoice_number_labels_alike_the_surer_reading_wins() -> None:
    """A header's ``Rechnungsnummer: 22.2, 52.003461:`` read at 0.40 (a re-read's noise) and the
    letter's ``Rechnung Nr. 003461`` read at 0.96: both labels stand alike, and the first one's
    value had been taken (``22.2`` at 0.80). The value more rows read, then the surer reading,
    wins."""
    noisy = _ocr_page([(1449, 573, "Rechnungsnummer: 22.2, 52.003461:")], conf=0.4)
    clear = _ocr_page([(281, 1165, "Rechnung Nr. 003461"),
                       (290, 1286, "Sehr geehrte Damen und Herren,")], conf=0.96)
    fields = read_invoice(_with_words(noisy, clear[0].words))
    assert fields["invoice_number"].value == "003461"


def test_a_vat_summary_heading_on_the_net_sums_row_is_no_tax_label() -> None:
    """``VAT Net total - 5,459.10`` (the summary's heading read onto the net sum's row, a dash
    before the amount) with the total line unread: the tax's bare word there labels no tax
    (the tax had been -5,459.10), and a scanned net sum below zero under a tax above zero is
    a dash read as a minus."""
    fields = read_invoice(_ocr_page([
        (200, 200, "Invoice No. INV-2026-4069"),
        (155, 1443, "VAT Net total - 5,459.10"),
        (232, 1500, "summary"),
        (157, 1560, "Rate 20% Net5,459.10 VAT 1,091.82 VAT 20% 1,091.82"),
        (157, 1640, "Please pay by 2026-03-23 quoting INV-2026-4069."),
    ]))
    assert fields["subtotal"].value == Decimal("5459.10")
    assert fields["tax_amount"].value == Decimal("1091.82")
    assert fields["total_amount"].value == Decimal("6550.92")


def test_item_rows_whose_header_ocr_lost_are_read_when_they_add_up() -> None:
    """The table's header, white on a dark band, read as nothing: rows that each read
    description, quantity, unit price and amount with quantity × price = amount are the items
    when their amounts add up to a printed sum (the article code before the description is
    left out); rows that do not add up to one give no items."""

    def items_for(subtotal: str) -> object:
        fields = read_invoice(_ocr_page([
            (200, 200, "Invoice No. 009378"),
            (204, 1239, "PRT-A3 Printing A3 posters, 170gsm, full colour 36 2.40 : 86.40"),
            (204, 1300, "MAT-CU Copper cable NYM-J 3x1.5, per metre 12 ea 1.70 20.40"),
            (1451, 1365, f"SUBTOTAL € {subtotal}"),
            (1450, 1430, "VAT @ 13.5% € 11.66"),
        ]))
        return fields.get("line_items")

    items = items_for("106.80")
    assert items is not None
    assert [(i["description"], i["quantity"], i["amount"]) for i in items.value] == [
        ("Printing A3 posters, 170gsm, full colour", "36", Decimal("86.40")),
        ("Copper cable NYM-J 3x1.5, per metre", "12", Decimal("20.40")),
    ]
    assert items_for("107.80") is None


def test_item_rows_without_header_or_readable_quantity_are_amount_over_price() -> None:
    """A lost header and quantities read as something else (seed 45000's invoice 17: ``Lo``
    for 7.5 l, ``=12-kq`` for 12 kg): each such row's quantity is amount / price when that is
    a quantity as printed, the word it was read as is no part of the description when it
    holds a digit, and the row's position number, article code and specks are not either.
    The rows are still the items only when they add up to a printed sum."""
    fields = read_invoice(_ocr_page([
        (200, 200, "Invoice No. SI/2159/26"),
        (180, 1239, "1 MAT-CU Copper cable NYM-J 3x1.5, per metre 0.5 m 1.66 0.83"),
        (180, 1300, "4 FUEL-D Diesel fuel, per litre Lo 1.24 9.30"),
        (180, 1361, "6 FRE-LIL Freight, less-than-truckload =12-kq 3.11 37.32"),
        # a unit of square metres after the quantity, as after any other
        (180, 1422, "7 MAT-ST12 Steel sheet S235 2 mm, per m2 2 m2 25.03 50.06"),
        # a speck before the code, a rule read as a bar between quantity and price
        (180, 1483, "9 ~~ PRT-A3 Printing A3 posters 36 | 2.40 86.40"),
        (1451, 1550, "Net total 183.91"),
    ]))
    assert [(i["description"], i["quantity"]) for i in fields["line_items"].value] == [
        ("Copper cable NYM-J 3x1.5, per metre", "0.5"),
        ("Diesel fuel, per litre", "7.5"),
        ("Freight, less-than-truckload", "12"),
        ("Steel sheet S235 2 mm, per m2", "2"),
        ("Printing A3 posters", "36"),
    ]


def test_a_net_plus_tax_total_takes_the_tax_at_the_rate_its_row_prints() -> None:
    """No total read, one net sum and one tax: the total is their sum, with the tax checked
    against the rate its row prints (``VAT 19% 497.31`` for 197.31, a 1 read as 4: the row's
    ``VAT 197.31`` is 19 % of the net sum). A tax that no amount on its row at its rate
    confirms makes no total."""

    def fields_for(rate_row: str) -> dict[str, Field]:
        return read_invoice(_ocr_page([
            (200, 200, "Invoice No. INV-2024-0291"),
            (164, 1440, "VAT summary Net total 1,038.47"),
            (165, 1501, rate_row),
            (1589, 1580, "‘Total EUR Css"),
        ]))

    fields = fields_for("Rate 19% Net 1,038.47 VAT 197.31 VAT 19% 497.31")
    assert fields["total_amount"].value == Decimal("1235.78")
    assert fields["tax_amount"].value == Decimal("197.31")
    assert fields_for("Rate 19% Net 1,038.47 VAT 19% 497.31").get(
        "total_amount", Field(name="x", value=None, confidence=0.0, method="none")
    ).value != Decimal("1535.78")


def test_a_due_date_whose_label_ocr_lost_is_the_date_the_stated_terms_give() -> None:
    """The grid's head read as noise (``sd Irwoice date ate``): of the dates under it, the one
    that falls the ``30 days`` of the payment terms after the issue date is the due date."""
    fields = read_invoice(_ocr_page([
        (170, 100, "Bramley Precision Engineering Ltd INVOICE"),
        (170, 400, "Invoice number Invoice date ate"),
        (170, 460, "2025/451 2025-02-28 2025-03-30"),
        (170, 540, "Customer no. Currency Payment terms"),
        (170, 580, "C96353 USD 30 days"),
        (1400, 1900, "TOTAL USD 1,200.00"),
    ]))
    assert _value(fields, "invoice_date") == dt.date(2025, 2, 28)
    assert _value(fields, "due_date") == dt.date(2025, 3, 30)
    assert fields["due_date"].method == "terms+printed"


def test_a_scanned_name_keeps_its_elision_and_plain_apostrophe() -> None:
    """OCR reads the apostrophe curly and may set an elided article apart from its word:
    ``Officine Meccaniche dell’ Adige S.p.A.`` was posted at 0.92. A scanned name is written
    as registered (``dell'Adige``, ``O'Connell``); a text layer's keeps its own apostrophe."""
    lines = [
        (200, 150, "Officine Meccaniche dell’ Adige S.p.A."),
        (200, 200, "Via Roma 1, 37121 Verona, Italy"),
        (1500, 150, "INVOICE"),
        (1500, 260, "Invoice No. A-1001"),
        (200, 420, "Bill to: O’Connell & Daughters Ltd"),
        (1400, 2020, "TOTAL DUE (EUR) € 1,250.00"),
    ]
    fields = read_invoice(_ocr_page(lines))
    assert fields["vendor_name"].value == "Officine Meccaniche dell'Adige S.p.A."
    assert fields["buyer_name"].value == "O'Connell & Daughters Ltd"
    text_layer = [_ocr_page(lines)[0].model_copy(update={"origin": Origin.TEXT_LAYER, "ocr_lang": None})]
    assert read_invoice(text_layer)["buyer_name"].value == "O’Connell & Daughters Ltd"


def test_a_date_right_after_the_invoice_number_is_its_date(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Fibre Services SAS"),
            (50, 75, "75371 Paris Cedex 08"),
            (350, 110, "Claire Martin"),
            (350, 125, "35 rue des Acacias"),
            (350, 140, "69100 Villeurbanne"),
            (50, 200, "Facture n°562044387 du 02 Juillet 2015"),
            (50, 215, "Date limite de paiement le 05 Juillet 2015"),
            (50, 260, "Abonnement du 1er au 31 Juillet 2015"), (450, 260, "24,99"),
            (50, 300, "Somme à payer"), (450, 300, "29,99 €"),
        ],
    )
    assert fields["invoice_number"].value == "562044387"
    assert fields["invoice_date"].value == dt.date(2015, 7, 2)
    assert fields["invoice_date"].method == "label"
    dutch = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Drukwerk Noord B.V."),
            (50, 75, "Kanaalstraat 4, 9711 AB Groningen"),
            (50, 200, "Factuurnummer 2024-017 d.d. 12-03-2024"),
            (50, 260, "Drukwerk maart 2024"), (450, 260, "€ 100,00"),
            (50, 300, "Totaal"), (450, 300, "€ 121,00"),
        ],
    )
    assert dutch["invoice_date"].value == dt.date(2024, 3, 12)
    assert dutch["invoice_date"].method == "label"


def test_a_period_on_an_item_row_is_no_invoice_date(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Fibre Services SAS"),
            (50, 200, "Facture n°562044387"),
            (50, 260, "Abonnement du 03 Juillet 2015 au 31 Juillet 2015"), (450, 260, "24,99"),
            (50, 300, "Somme à payer"), (450, 300, "29,99 €"),
        ],
    )
    assert fields["invoice_date"].method != "label"


def test_a_number_under_the_title_after_a_number_sign(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Harbour Repairs"),
            (420, 60, "INVOICE"),
            (430, 75, "# 1047"),
            (350, 110, "Date:"), (450, 110, "Jan 1, 2022"),
            (350, 125, "Due Date:"), (450, 125, "Jan 31, 2022"),
            (350, 140, "Balance Due:"), (450, 140, "$127.50"),
            (50, 200, "Item"), (350, 200, "Quantity"), (400, 200, "Rate"), (470, 200, "Amount"),
            (50, 215, "Service A"), (350, 215, "12"), (400, 215, "$10.00"), (470, 215, "$120.00"),
            (50, 230, "Service B"), (350, 230, "5"), (400, 230, "$1.50"), (470, 230, "$7.50"),
            (400, 260, "Total:"), (470, 260, "$127.50"),
        ],
    )
    assert fields["invoice_number"].value == "1047"
    assert fields["invoice_number"].method == "title_block"


def test_a_buyers_fee_is_no_buyer(tmp_path: Path, settings: Settings) -> None:
    fields = _read(
        tmp_path,
        settings,
        [
            (50, 60, "Tax Invoice"),
            (50, 75, "Marketplace Pty Ltd"),
            (350, 110, "Invoice No. 12429647"),
            (350, 125, "Order date: 28 Jan 15"),
            (50, 200, "Handling fee"), (150, 200, "$0.00"),
            (50, 215, "Buyer fee"), (150, 215, "$20.20"),
            (50, 230, "Item purchase"), (150, 230, "$80.80"),
            (50, 260, "Invoice Total: $101.00"),
        ],
    )
    assert fields.get("buyer_name") is None or "fee" not in str(fields["buyer_name"].value)


def test_a_low_opening_quote_never_closed_is_a_speck_a_closed_one_is_kept() -> None:
    """A German scan's speck read as a low opening quote (``‚Copper cable``) is dropped like an
    English one, and so are a dash glued to the first word and a closing guillemet never
    opened; a quoted name in the description (``„Premium“ support``) keeps its quotes. A
    decimal split at its mark (``3x1 .5``) is one number again."""
    pages = _ocr_page(
        [
            (200, 200, "Invoice No. RE-60553"),
            (226, 1200, "ITEM"), (535, 1200, "DESCRIPTION"), (1525, 1200, "QTY"),
            (1732, 1200, "UNIT PRICE"), (2074, 1200, "LINE TOTAL"),
            (226, 1260, "MAT-CU"), (535, 1260, "‚Copper cable, per metre"), (1560, 1260, "15"),
            (1836, 1260, "96.28"), (2137, 1260, "1,444.20"),
            (226, 1330, "SVC-SUP"), (535, 1330, "„Premium“ support"),
            (1560, 1330, "20"), (1857, 1330, "2.15"), (2187, 1330, "43.00"),
            (226, 1400, "SVC-CLN"), (535, 1400, "-Office cleaning, «monthly» contract»"),
            (226, 1440, "MAT-CU"), (535, 1440, "Cable 3x1 .5, 20 .5 m"),
            (1560, 1440, "1"), (1857, 1440, "0.00"), (2187, 1440, "0.00"),
            (1560, 1400, "1"), (1857, 1400, "9.00"), (2187, 1400, "9.00"),
            (1474, 1500, "SUBTOTAL € 1,496.20"),
            (1472, 1560, "TOTAL DUE (EUR) € 1,496.20"),
        ]
    )
    items = read_invoice(pages)["line_items"].value
    assert [i["description"] for i in items] == [
        "Copper cable, per metre", "„Premium“ support", "Office cleaning, «monthly» contract",
        "Cable 3x1.5, 20.5 m",
    ]


def _dated(tmp_path: Path, settings: Settings, date: str, *, dutch: bool) -> Field:
    lines: list[Line] = (
        [
            (50, 60, "Koffie Webwinkel B.V."),
            (50, 75, "BTW NL123456789B01"),
            (50, 120, "Factuurnummer:"), (160, 120, "100012345"),
            (50, 135, "Factuurdatum:"), (160, 135, date),
            (300, 200, "Totaal"), (450, 200, "€ 499,00"),
        ]
        if dutch
        else [
            (50, 60, "Coffee Webshop Inc."),
            (50, 120, "Invoice number:"), (160, 120, "100012345"),
            (50, 135, "Invoice date:"), (160, 135, date),
            (300, 200, "Total"), (450, 200, "$499.00"),
        ]
    )
    return _read(tmp_path, settings, lines)["invoice_date"]


def test_a_date_whose_order_the_document_tells_is_not_unsure(tmp_path: Path, settings: Settings) -> None:
    """``12-03-2016`` could be 12 March or 3 December; on an invoice in euros it is 12 March,
    as surely as ``25-03-2016`` is 25 March. On a dollar invoice with no other date to tell,
    the order is a guess and the date stays less sure."""
    dutch = _dated(tmp_path, settings, "12-03-2016", dutch=True)
    plain = _dated(tmp_path, settings, "25-03-2016", dutch=True)
    assert dutch.value == dt.date(2016, 3, 12)
    assert dutch.confidence == plain.confidence
    american = _dated(tmp_path, settings, "12-03-2016", dutch=False)
    assert american.value == dt.date(2016, 12, 3)
    assert american.confidence < _dated(tmp_path, settings, "12-23-2016", dutch=False).confidence


def test_a_name_ending_in_co_takes_the_form_wrapped_under_it_or_printed_in_the_imprint() -> None:
    """``Hargreaves, Pike & Co.`` at the top with its ``Ltd.`` wrapped onto the next line is
    ``… & Co. Ltd``, whether or not the imprint prints the whole name (it had been read without
    its ``Ltd`` at 0.96); a company number after the imprint's name (``Co. Reg. No.``) is no
    second form."""
    def vendor(imprint: str, wrapped: bool = True) -> str:
        pages = _ocr_page(
            [
                (150, 100, "Hargreaves, Pike & Co."),
                (1700, 100, "TAX INVOICE"),
                *([(150, 160, "Ltd.")] if wrapped else []),
                (150, 220, "17 Cheapside"),
                (150, 280, "Manchester M2 4WB"),
                (150, 600, "Invoice No. SI/7596/24"),
                (1400, 1900, "TOTAL DUE (GBP) £ 4,037.26"),
                (150, 3300, imprint),
            ]
        )
        return str(read_invoice(pages)["vendor_name"].value)

    whole = "Hargreaves, Pike & Co. Ltd"
    assert vendor("Hargreaves, Pike & Co. Ltd - Registered No. 130561") == whole
    assert vendor("Hargreaves, Pike & Co. Ltd - Registered No. 130561", wrapped=False) == whole
    assert vendor("Goods remain our property until paid in full.") == whole
    assert vendor("Hargreaves, Pike & Co. Co. Reg. No. 130561", wrapped=False) == "Hargreaves, Pike & Co."


def test_a_scanned_number_starting_with_a_dollar_sign_starts_with_s() -> None:
    """``$1/7596/24`` under ``INVOICE #`` on a scan is OCR's reading of ``SI/7596/24`` (the
    payment line prints it right); an S read as a dollar sign had left the invoice without a
    number. A text layer's dollar sign is what the page prints."""
    def number(pages: list[Page]) -> object:
        field = read_invoice(pages).get("invoice_number")
        return field.value if field is not None else None

    lines = [
        (150, 100, "Hargreaves, Pike & Co. Ltd"),
        (150, 500, "INVOICE #"), (700, 500, "INVOICE DATE"),
        (150, 560, "$1/7596/24"), (700, 560, "30/08/2024"),
        (1400, 1900, "TOTAL DUE (GBP) £ 4,037.26"),
        (150, 2300, "Payment reference: SI/7596/24"),
    ]
    assert number(_ocr_page(lines)) == "SI/7596/24"
    text_layer = [p.model_copy(update={"origin": Origin.TEXT_LAYER}) for p in _ocr_page(lines)]
    assert number(text_layer) != "SI/7596/24"
    # ``$V7596/24`` (``SI/`` read as ``$V``): nothing on the page confirms such a number; the
    # invoice line that prints it right gives it
    lines[3] = (150, 560, "$V7596/24")
    lines.append((150, 2400, "Invoice SI/7596/24"))
    assert number(_ocr_page(lines)) == "SI/7596/24"


def test_a_buyer_block_s_name_is_read_through_a_colon_for_a_stop_and_no_country_is_a_name() -> None:
    """``Bill to`` over ``Bakkerij 't Stoepje B.V:`` (a scan's last stop read as a colon),
    the street, the town and ``Netherlands``: the name is the first line, with its stop. When
    the name is unreadable, neither the country under the address nor the heading is a buyer."""
    def buyer(name: str) -> object:
        fields = read_invoice(
            _ocr_page(
                [
                    (170, 100, "Pinecrest Analytics LLC"),
                    (170, 400, "Invoice No. 88123"), (1400, 400, "Date: 2025-01-22"),
                    (170, 700, "BILL TO"), (170, 760, name), (170, 820, "Oudegracht 201"),
                    (170, 880, "3511 NK Utrecht"), (170, 940, "Netherlands"),
                    (1400, 1900, "Total EUR 1,250.00"),
                ]
            )
        )
        field = fields.get("buyer_name")
        return field.value if field is not None else None

    assert buyer("Bakkerij 't Stoepje B.V:") == "Bakkerij 't Stoepje B.V."
    assert buyer("Bakkerij 't Stoepje B.V.") == "Bakkerij 't Stoepje B.V."
    assert buyer("~~ 12 ~~:") is None


def test_an_unread_head_left_of_the_description_keeps_its_codes_out_of_it() -> None:
    """``ITEM`` read as ``wich`` over item codes left of ``DESCRIPTION``: the codes are a
    column of their own, not the start of each description."""
    def descriptions(head: str) -> list[str]:
        pages = _ocr_page(
            [
                (200, 200, "Invoice No. RE-60553"),
                (226, 1200, head), (535, 1200, "DESCRIPTION"), (1525, 1200, "QTY"),
                (1732, 1200, "UNIT PRICE"), (2074, 1200, "LINE TOTAL"),
                (226, 1260, "MAT-CU"), (535, 1260, "Copper cable, per metre"), (1560, 1260, "15"),
                (1836, 1260, "96.28"), (2137, 1260, "1,444.20"),
                (226, 1330, "CAL-01"), (535, 1330, "Calibration of torque wrench"),
                (1560, 1330, "20"), (1857, 1330, "2.15"), (2187, 1330, "43.00"),
                (1474, 1500, "SUBTOTAL € 1,487.20"),
                (1472, 1560, "TOTAL DUE (EUR) € 1,487.20"),
            ]
        )
        return [i["description"] for i in read_invoice(pages)["line_items"].value]

    expected = ["Copper cable, per metre", "Calibration of torque wrench"]
    assert descriptions("wich") == descriptions("ITEM") == expected


def test_a_quantity_boxed_with_the_description_leaves_it() -> None:
    """``… with certificate - 250`` with ``ea`` alone under ``Menge``, the quantity column set by
    the row above (``5ea``; words boxed as Tesseract gave them on a scan): the quantity not read
    in its cell is amount / price, 250, and the 250 printed at the description's end, joined
    to it by a speck, is that quantity, not part of the description."""
    spec = [
        ("Bezeichnung", 668, 902), ("Menge", 1489, 1609), ("Einzelpreis", 1747, 1941),
        ("Gesamtpreis", 2029, 2255), None,
        ("LED", 673, 742), ("panel", 754, 842), ("600", 856, 917), ("x", 928, 945),
        ("600", 958, 1019), ("mm,", 1032, 1100), ("5ea", 1537, 1609), ("41,33", 1819, 1910),
        ("€", 1922, 1946), ("206,65", 2110, 2224), ("€", 2236, 2260), None,
        ("Calibration", 672, 848), ("of", 861, 892), ("torque", 903, 1008),
        ("wrench,", 1020, 1147), ("with", 1161, 1225), ("certificate", 1238, 1398),
        ("-", 1473, 1481), ("250", 1496, 1557), ("ea", 1570, 1609), ("56,00€", 1820, 1947),
        (":", 2003, 2007), ("14.000,00", 2063, 2225), ("€", 2237, 2261),
    ]
    words, y = [], 1460
    for cell in spec:
        if cell is None:
            y += 60
            continue
        text, x0, x1 = cell
        words.append(Word(text=text, box=(x0, y, x1, y + 30), conf=0.9))
    pages = _ocr_page([(200, 200, "Rechnung Nr. 000298"), (1474, 1800, "Nettobetrag 14.206,65 €")])
    items = read_invoice(_with_words(pages, words))["line_items"].value
    assert [(i["description"], i["quantity"]) for i in items] == [
        ("LED panel 600 x 600 mm,", "5"), ("Calibration of torque wrench, with certificate", "250")
    ]


def test_a_scanned_sellers_name_is_spelled_as_most_rows_print_it() -> None:
    """The sender line's small print read ``Hofmann Loaistik AG`` (seed 44000's invoice 26),
    and it won at 0.96 over the letterhead and the imprint, which read ``Hofmann Logistik``
    three times. A candidate from another row one or two characters away that more rows
    print with its legal form is the name's spelling; with no such row the sender line's
    reading stands."""

    def vendor(footer: str, second: tuple[float, float, str] | None = None) -> str:
        fields = read_invoice(_ocr_page([
            (200, 150, "Hofmann Logistik"),
            (200, 420, "Hofmann Loaistik AG - Frankfurter Ring 150 - 80807 München"),
            (200, 480, "Stadtwerke Musterstadt GmbH"),
            (200, 530, "Postfach 11 22"),
            (200, 580, "12345 Musterstadt"),
            (1500, 480, "Rechnungsnummer: A24-8781"),
            (1500, 530, "Rechnungsdatum: 11.06.2024"),
            (1400, 1500, "Rechnungsbetrag 1.190,00 €"),
            (200, 3000, footer),
            second or (200, 3050, footer), (1200, 3050, "Geschäftsführer: Anna Beispiel"),
        ]))
        return str(fields["vendor_name"].value)

    assert vendor("Hofmann Logistik AG") == "Hofmann Logistik AG"
    # the imprint's second row reads on after the name in the same cell (seed 41000's 18)
    assert vendor("Hofmann Logistik AG", (200, 3050, "Hofmann Logistik AG Vorstand: A. Beispiel")
                  ) == "Hofmann Logistik AG"
    assert vendor("Amtsgericht München HRB 51964") == "Hofmann Loaistik AG"


def test_payment_terms_without_deduction_give_the_due_date() -> None:
    """``Zahlbar innerhalb 14 Tagen ohne Abzug`` (payable within 14 days without deduction)
    gives the due date: the item reader's discount-head words (``abzug``…) had been given the
    name the payment-terms reader uses for its cash-discount words, and the later definition
    replaced the earlier, so such terms read as a discount and gave no due date."""
    fields = read_invoice(_ocr_page([
        (200, 200, "Rechnungsnummer: A24-8781"),
        (200, 260, "Rechnungsdatum: 11.06.2024"),
        (1400, 1500, "Rechnungsbetrag 1.190,00 €"),
        (200, 2400, "Zahlbar innerhalb 14 Tagen ohne Abzug."),
    ]))
    assert fields["due_date"].value == dt.date(2024, 6, 25)


def test_an_article_code_a_column_apart_is_no_part_of_the_description() -> None:
    """``# §=Item Qty Unit price Amount`` (seed 50000's invoice 17): the ``Description`` head
    did not read, so the codes under ``Item`` and the descriptions a column's gap right of
    them made one description (``SVC-CONS Consulting services (hours)``). A code a column's
    gap before the words after it is a cell of its own; a code at word spacing stays."""
    head: Cells = [(180, "#"), (270, "Item"), (1525, "QTY"), (1732, "UNIT PRICE"),
                   (2074, "AMOUNT")]
    rows = [("1", "SVC-CONS", 570, "Consulting services (hours)", "5", "168.00", "840.00"),
            ("2", "PKG-PAL", 570, "Euro pallet, heat treated", "2", "11.22", "22.44"),
            ("3", "CAL-01", 270 + 24 * 7, "Calibration certificate", "1", "76.00", "76.00")]
    cells = [[(180, n), (270, code), (x, description), (1560, qty), (1850, price),
              _amount(amount)] for n, code, x, description, qty, price, amount in rows]
    items = read_invoice(_item_table(cells, "938.44", head))["line_items"].value
    assert [i["description"] for i in items] == ["Consulting services (hours)",
                                                 "Euro pallet, heat treated",
                                                 "CAL-01 Calibration certificate"]


def test_item_amounts_read_with_a_colon_for_the_decimal_mark() -> None:
    """``0.75 29.56 : 22:17`` (seed 54000's invoice 15) and, under a lost header, ``2.25 m
    1.00 2:25`` (its invoice 25): OCR read the amount's decimal point as a colon, which reads
    as no amount; the row then joined the item above it and the table, an item short, was
    dropped. The amount is quantity × price when its digits are the ones read."""
    head: Cells = [(226, "ITEM"), (535, "DESCRIPTION"), (1525, "QTY"), (1732, "UNIT PRICE"),
                   (2074, "LINE TOTAL")]
    rows = [("Consulting services (hours)", "1", "121.89", "121.89"),
            ("Steel sheet S235 2 mm, per m2", "0.75", "29.56", "22:17")]
    cells = [[(535, d), (1560, q), (1850, p), _amount(a)] for d, q, p, a in rows]
    items = read_invoice(_item_table(cells, "144.06", head))["line_items"].value
    assert [(i["description"], i["amount"]) for i in items] == [
        ("Consulting services (hours)", Decimal("121.89")),
        ("Steel sheet S235 2 mm, per m2", Decimal("22.17"))]
    # digits that are not quantity × price are no amount read so; nor is the first amount
    # under the item table's "LINE TOTAL" head the printed sum of the lines (the one row
    # read had added up to it)
    cells[1][-1] = _amount("22:71")
    assert "line_items" not in read_invoice(_item_table(cells, "144.06", head))
    unheaded = read_invoice(_ocr_page([
        (200, 200, "Invoice No. INV-2024-7982"),
        (180, 1239, "1 MAT-CU Copper cable NYM-J 3x1.5, per metre 2.25 m 1.00 2:25"),
        (180, 1300, "2 PKG-PAL Euro pallet, heat treated 0.5 ea 11.68 5.84"),
        (1451, 1400, "Net total 8.09"),
    ]))["line_items"].value
    assert [(i["quantity"], i["amount"]) for i in unheaded] == [
        ("2.25", Decimal("2.25")), ("0.5", Decimal("5.84"))]


def test_a_speck_read_as_a_minus_before_an_item_price_alone() -> None:
    """``2.25 -€510.00 €1,147.50`` (seed 54000's invoice 20): a price read negative beside a
    positive quantity and amount it gives unsigned is a speck's minus; a discount row, whose
    amount is negative too, keeps its sign."""
    rows = [("Office cleaning, monthly contract", "2.25", "-€510.00", "€1,147.50"),
            ("Diesel fuel, per litre", "100", "€1.31", "€131.00")]
    cells = [[(535, d), (1560, q), (1850, p), _amount(a)] for d, q, p, a in rows]
    items = read_invoice(_item_table(cells, "1,278.50"))["line_items"].value
    assert [i["unit_price"] for i in items] == [Decimal("510.00"), Decimal("1.31")]
    rows[0] = ("Loyalty discount", "1", "-€50.00", "-€50.00")
    cells = [[(535, d), (1560, q), (1850, p), _amount(a)] for d, q, p, a in rows]
    items = read_invoice(_item_table(cells, "81.00"))["line_items"].value
    assert (items[0]["unit_price"], items[0]["amount"]) == (Decimal("-50.00"), Decimal("-50.00"))


def test_an_item_amount_garbled_with_its_quantity_is_what_the_printed_sum_leaves() -> None:
    """``oe €2.39 €7.A7`` (seed 55000's invoice 28): the quantity read as letters and the
    amount with a letter for a digit, which the parser read as €7: the quantity was then
    7.00 / 2.39 = 2.93, and the table missed its sum by 17 cents and was dropped. The amount
    is what the printed subtotal leaves after the other rows when it fits what was read,
    and the quantity amount / price; when it does not fit, the table is still dropped."""

    def items_for(amount: str) -> list[dict[str, object]] | None:
        rows = [("Calibration of torque wrench", "2", "€102.54", "€205.08"),
                ("Copper cable NYM-J 3x1.5, per metre", "oe", "€2.39", amount),
                ("Euro pallet, heat treated", "12.75", "€13.25", "€168.94")]
        cells = [[(535, d), (1560, q), (1850, p), _amount(a)] for d, q, p, a in rows]
        field = read_invoice(_item_table(cells, "381.19")).get("line_items")
        return None if field is None else field.value

    items = items_for("€7.A7")
    assert items is not None
    assert (items[1]["quantity"], items[1]["amount"]) == ("3", Decimal("7.17"))
    assert all(set(item) == {"description", "quantity", "unit_price", "amount"} for item in items)
    assert items_for("€7.A8") is None  # 7.17 is not what was read
    assert items_for("€9.A7") is None


def _scanned_descriptions(rows: list[tuple[str, str, str, str, str, str]], subtotal: str) -> list[str]:
    """The descriptions read from a scanned table of (#, code, description, qty, price, amount)
    rows under ``# Item QTY UNIT PRICE AMOUNT`` that add up to ``subtotal``."""
    head: Cells = [(180, "#"), (270, "Item"), (1525, "QTY"), (1732, "UNIT PRICE"),
                   (2074, "AMOUNT")]
    cells = [[(180, n), (270, code), (570, d), (1560, q), (1850, p), _amount(a)]
             for n, code, d, q, p, a in rows]
    items = read_invoice(_item_table(cells, subtotal, head))["line_items"].value
    return [str(i["description"]) for i in items]


def test_an_article_code_read_with_a_dollar_sign_and_specks_ending_a_description() -> None:
    """``$VC-TRV Travel and accommodation`` (seed 55000's invoice 29): the code's S read as a
    dollar sign kept it in the description; a colon glued to a description's last word and a
    degree sign after it (``monthly contract:``, ``full colour °``) are specks."""
    rows = [("4", "$VC-TRV", "Travel and accommodation, per diem", "4", "176.00", "704.00"),
            ("5", "SVC-CLN", "Office cleaning, monthly contract:", "6", "559.10", "3354.60"),
            ("6", "PRT-A3", "Printing A3 posters, full colour °", "36", "8.33", "299.88")]
    assert _scanned_descriptions(rows, "4358.48") == ["Travel and accommodation, per diem",
                                                 "Office cleaning, monthly contract",
                                                 "Printing A3 posters, full colour"]


def test_an_l_read_as_an_exclamation_mark_and_a_stop_ending_a_scanned_description() -> None:
    """Tesseract reads a description's l as ``!`` (``alcoho!``, ``Stee!``) or a speck as one
    after it (``Isopropyl!``), and a speck after the last word as a stop (``heat treated.``,
    ``4000 K.``): no item description exclaims or ends a sentence. An abbreviation keeps its
    stop (``incl.``)."""
    rows = [("1", "CHM-IPA", "Isopropyl! alcoho! 99.9%, canister", "4", "176.00", "704.00"),
            ("2", "MAT-ST12", "Stee! sheet S235, heat treated.", "6", "559.10", "3354.60"),
            ("3", "LED-P", "Lamp, 40 W.", "36", "8.33", "299.88"),
            ("4", "MNT-Q", "Quarterly maintenance visit, parts incl.", "1", "10.00", "10.00")]
    assert _scanned_descriptions(rows, "4368.48") == ["Isopropyl alcohol 99.9%, canister",
                                                 "Steel sheet S235, heat treated",
                                                 "Lamp, 40 W",
                                                 "Quarterly maintenance visit, parts incl."]


def test_a_scanned_address_word_takes_the_spelling_read_surer_beside_the_same_word() -> None:
    """The sender line's small print read ``Frankfurter Rina 150`` at 0.85 (seeds 54000 and
    55000: ``Rina``, ``Spaldinastraße``), the imprint at the foot ``Frankfurter Ring 150`` at
    0.96: an address word a character away from a word read surer between the same
    neighbours takes that spelling. Read no surer, or beside other words, it stands; and specks OCR read
    in an address line are no part of it."""

    def address(imprint: str, conf: float) -> str:
        pages = _ocr_page([
            (200, 150, "Hofmann Logistik"),
            (200, 420, "Hofmann Logistik AG - Frankfurter Rina 150 - 80807 München _"),
            (200, 480, "Stadtwerke Musterstadt GmbH"),
            (1500, 480, "Rechnungsnummer: A24-8781"),
            (1400, 1500, "Rechnungsbetrag 1.190,00 €"),
        ], conf=0.85)
        x, words = 200, []
        for text in imprint.split():
            words.append(Word(text=text, box=(x, 3000, x + 24 * len(text), 3030), conf=conf))
            x += 24 * (len(text) + 1)
        return str(read_invoice(_with_words(pages, words))["address"].value)

    assert address("Frankfurter Ring 150", 0.96) == "Frankfurter Ring 150, 80807 München, DE"
    assert address("Frankfurter Ring 150", 0.8) == "Frankfurter Rina 150, 80807 München, DE"
    assert address("Am Ring 150", 0.96) == "Frankfurter Rina 150, 80807 München, DE"


def test_specks_in_an_address_line_and_a_country_after_a_separator() -> None:
    from extractors.invoice import format_address

    assert format_address(["Via Torino 44", "20123 Milano _ MI", "Italy"]) == (
        "Via Torino 44, 20123 Milano MI, IT")
    assert format_address(["Spaldingstraße 64°", '20097 Hamburg "'], country_hint="DE") == (
        "Spaldingstraße 64, 20097 Hamburg, DE")
    assert format_address(["Via dei Servi 18", "50122 Firenze FI : Italy"]) == (
        "Via dei Servi 18, 50122 Firenze FI, IT")
    # a town's name after a separator is no country
    assert format_address(["Hauptstraße 1", "80807 München - Schwabing"]) == (
        "Hauptstraße 1, 80807 München - Schwabing")


def test_a_letterhead_whose_form_reads_cut_short_is_the_imprints_name_with_its_address() -> None:
    """``“St. Albans`` … ``Lt`` at the top, ``Lighting`` read on the line under it (seed 56000's
    invoice 23), and the imprint ``St. Albans Lighting Ltd - Registered No.``: the name had
    been ``St. Albans`` at 0.96, and the address under it lost its first words, since the
    letterhead's speck-read ``“St.`` was not counted as the name's. The form read cut short
    (``Lt`` for ``Ltd``) with a word lost before it is the imprint's name; a letterhead row
    that goes on with no form leaves the name as read."""

    def fields(after: str) -> dict[str, Field]:
        return read_invoice(_ocr_page([
            (160, 150, "“St. Albans"), (938, 150, after), (1700, 150, "TAX INVOICE"),
            (604, 200, "Lighting"),
            (191, 250, "3 Verulam Court"),
            (191, 300, "St Albans AL1 3XT"),
            (192, 350, "United Kingdom"),
            (150, 600, "Invoice No. F202404-570"),
            (1400, 1900, "TOTAL DUE (GBP) £ 4,037.26"),
            (150, 3300, "St. Albans Lighting Ltd - Registered No. 289412"),
        ]))

    read = fields("Lt")
    assert read["vendor_name"].value == "St. Albans Lighting Ltd"
    assert read["address"].value == "3 Verulam Court, St Albans AL1 3XT, GB"
    assert fields("Lamps")["vendor_name"].value == "St. Albans"


def test_scanned_amounts_read_with_one_mark_throughout_or_split_before_the_thousands() -> None:
    """``Total USD 217.736.80`` (seed 57000's invoice 25: the total had been 21,773,680.00 at
    0.93) and ``Subtotal £49 ,252.51`` (seed 56000's invoice 20: 49.00): groups of three, then
    two digits, all behind one mark, are thousands and cents; a space OCR set before a
    separator of thousands is none. A number starting with 0 (a phone number) is left."""
    from extractors.invoice import money_parser

    parse = money_parser(".", ocr=True)
    assert [v for v, _, _ in parse("Total USD 217.736.80")] == [Decimal("217736.80")]
    assert [v for v, _, _ in parse("Subtotal £49 ,252.51")] == [Decimal("49252.51")]
    assert [v for v, _, _ in money_parser(",", ocr=True)("Summe 217,736,80 €")] == [
        Decimal("217736.80")]
    assert parse("Tel 030.123.45") == []
    assert [v for v, _, _ in parse("1,234.56")] == [Decimal("1234.56")]
    assert [v for v, _, _ in money_parser(".")("Total USD 217.736.80")] != [Decimal("217736.80")]
    fields = read_invoice(_ocr_page([
        (200, 200, "Invoice No. SI/1701/26"),
        (1400, 1800, "Net total 217,736.80"),
        (1400, 1860, "VAT 0% 0.00"),
        (1400, 1920, "Total USD 217.736.80"),
    ]))
    assert fields["total_amount"].value == Decimal("217736.80")


def test_a_british_vat_id_read_with_a_speck_digit_after_it() -> None:
    """``VAT Reg. No.: GB493856646 6``: a British id (whose check the EU's list no longer
    holds) read with a speck as a tenth digit is cut to the digits whose check passes, as an
    EU member's already was."""
    pages = _ocr_page([
        (200, 150, "Bramley Precision Engineering Ltd"),
        (200, 200, "17 Cheapside"),
        (200, 250, "Manchester M2 4WB"),
        (200, 400, "VAT Reg. No.: GB493856646 6"),
        (1400, 1500, "Total due £1,190.00"),
    ])
    assert read_invoice(pages)["vendor_vat"].value == "GB493856646"


def _specked_rows(head: Cells, quote_apart: bool, plus: bool) -> list[str]:
    """Descriptions of two scanned rows under ``head``: the first's first word read with a
    speck quote 90 px left of it (``"Copper``, boxed from the speck), the second's article
    code with a ``+`` speck before it."""
    rows = [("Copper cable, per metre", "6", "1.25", "7.50"),
            ("Diesel fuel, per litre", "24", "1.24", "29.76")]
    cells = [[(226, f"ITM-{n}"), (535, description), (1560, qty), (1850, price), _amount(amount)]
             for n, (description, qty, price, amount) in enumerate(rows)]
    page = _item_table(cells, "37.26", head)[0]
    words = list(page.words)
    if quote_apart:
        k, copper = next((k, w) for k, w in enumerate(words) if w.text == "Copper")
        words[k] = copper.model_copy(update={"text": '"Copper',
                                             "box": (copper.box[0] - 90, *copper.box[1:])})
    if plus:
        y = next(w for w in words if w.text == "ITM-1").box[1] + 8
        words.append(Word(text="+", box=(190, y, 197, y + 7), conf=0.93))
    items = read_invoice(_with_words([page.model_copy(update={"words": []})], words))[
        "line_items"].value
    return [str(i["description"]) for i in items]


def test_a_quote_speck_apart_from_a_description_word() -> None:
    """Seed 52000's invoice 25, once the quantity column Tesseract had left out was read: a
    speck read as a quote 90 px left of a description's first word put the word in the
    article code's column, and the description lost it."""
    head = [(226, "ITEM"), *ITEM_HEAD]
    assert _specked_rows(head, quote_apart=True, plus=False) == ["Copper cable, per metre",
                                                                 "Diesel fuel, per litre"]


def test_a_plus_speck_before_an_article_code() -> None:
    """Seed 49000's invoice 27: ``+ FUEL-D Diesel fuel`` on a table whose amount head read cut
    (``LINE T!``), so its rows are read without the head's columns; the ``+`` is a speck, and
    the article code after it is no part of the description."""
    head = [(226, "ITEM"), *ITEM_HEAD[:3], (2074, "LINE T!")]
    assert _specked_rows(head, quote_apart=False, plus=True) == ["Copper cable, per metre",
                                                                 "Diesel fuel, per litre"]


def test_a_po_label_with_a_speck_glued_on_or_a_comma_for_its_space_is_read() -> None:
    """Random scanned invoices (seeds 66000, 67000) were posted without their PO number: OCR
    read the header ``PO NUMBER`` as ``_PO NUMBER`` (the underscore made ``PO`` part of a word,
    so no label's ``\\b`` matched) and as ``PO,NUMBER``."""
    for label in ("_PO NUMBER", "PO,NUMBER", "P.O. NUMBER", "PO NUMBER"):
        fields = read_invoice(_ocr_page([
            (210, 598, "INVOICE #"), (637, 598, "INVOICE DATE"), (1065, 598, label),
            (210, 680, "A25-8839"), (636, 680, "22/06/2025"), (1066, 680, "61927"),
        ]))
        assert fields["po_number"].value == "61927", label
    # any label: the speck folds to a space
    fields = read_invoice(_ocr_page([
        (210, 598, "INVOICE #"), (637, 598, "_INVOICE DATE"), (1065, 598, "_DUE DATE"),
        (210, 680, "A25-8839"), (636, 680, "22/06/2025"), (1066, 680, "20/09/2025"),
    ]))
    assert fields["invoice_date"].value == dt.date(2025, 6, 22)
    assert fields["due_date"].value == dt.date(2025, 9, 20)
    # a word ending in ``po`` is no PO label
    fields = read_invoice(_ocr_page([(200, 200, "Invoice No. RE-1"), (200, 300, "Tempo no 44")]))
    assert "po_number" not in fields
