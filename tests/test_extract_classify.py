"""Document type from keywords and the printed area's shape."""

from __future__ import annotations

from core.models import DocType, Origin, Page, Word
from extractors.classify import classify, shows_claim_form
from extractors.layout import assign_lines, page_text


def _page(
    rows: list[str], *, width: float, height: float, dpi: int, x0: float = 50, line_h: float = 30
) -> Page:
    words = []
    for i, row in enumerate(rows):
        x = x0
        for token in row.split():
            w = len(token) * line_h * 0.5
            words.append(
                Word(
                    text=token,
                    box=(x, 40 + i * line_h * 1.4, x + w, 40 + i * line_h * 1.4 + line_h),
                    conf=0.9,
                )
            )
            x += w + line_h * 0.4
    words = assign_lines(words)
    return Page(
        index=0,
        width=width,
        height=height,
        dpi=dpi,
        origin=Origin.OCR,
        text=page_text(words),
        words=words,
    )


def test_till_receipt_is_a_receipt() -> None:
    page = _page(
        [
            "KEDAI RUNCIT MAJU SDN BHD",
            "TAX INVOICE",
            "ITEM 1 12.00",
            "TOTAL 12.00",
            "CASH 20.00",
            "CHANGE 8.00",
            "THANK YOU",
        ],
        width=900,
        height=1800,
        dpi=300,
    )
    kind, conf = classify([page])
    assert kind == DocType.RECEIPT and conf > 0.5


def test_a4_invoice_is_an_invoice() -> None:
    rows = [
        "Muster GmbH Hauptstrasse 1 12345 Berlin Deutschland Telefon 030 123456 info@muster.de",
        "Rechnung Nr. 2024-17 Rechnungsdatum 03.02.2024 Kundennummer 4711 Seite 1 von 1",
        "Pos Beschreibung Menge Einzelpreis Betrag in EUR netto zuzueglich Umsatzsteuer",
        "1 Beratung Stunden 10 100,00 1.000,00 gemaess Vereinbarung vom 01.01.2024 erbracht",
        "Summe netto 1.000,00 MwSt 19% 190,00 Gesamtbetrag 1.190,00 zahlbar bis 17.02.2024",
        "IBAN DE89370400440532013000 BIC COBADEFFXXX USt-IdNr DE123456789 HRB 1234 Berlin",
    ]
    page = _page(rows, width=2480, height=3508, dpi=300, x0=150, line_h=28)
    kind, conf = classify([page])
    assert kind == DocType.INVOICE and conf > 0.5


def test_claim_form() -> None:
    page = _page(
        [
            "HEALTH INSURANCE CLAIM FORM",
            "APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC)",
            "1500 PICA MEDICARE MEDICAID TRICARE",
            "PATIENT'S NAME INSURED'S I.D. NUMBER",
            "FEDERAL TAX I.D. NUMBER BILLING PROVIDER INFO",
        ],
        width=1700,
        height=2200,
        dpi=200,
    )
    assert classify([page])[0] == DocType.CLAIM


def test_nothing_recognisable_is_unknown() -> None:
    page = _page(["lorem ipsum dolor", "sit amet"], width=1700, height=2200, dpi=200, x0=400)
    assert classify([page])[0] == DocType.UNKNOWN
    assert classify([])[0] == DocType.UNKNOWN


def test_spanish_and_italian_invoices_are_invoices() -> None:
    for rows in (
        ["Distribuciones Ibéricas S.L. Calle Mayor 12 28013 Madrid CIF B12345678 Tel 912345678",
         "FACTURA Nº Factura F-2024-0042 Fecha 5 de febrero de 2024 Cliente Hostelería Sol S.A.",
         "Descripción Cantidad Precio Importe Aceite de oliva 5L 10 25,00 250,00 Vino 12 8,50 102,00",
         "Base imponible 352,00 IVA 21% 73,92 Total factura 425,92 Vencimiento 6 de marzo de 2024"],
        ["Rossi Forniture S.r.l. Via Roma 45 20121 Milano P.IVA IT01234567890 Tel 02 1234567",
         "Fattura n. 2024/118 Data 15/03/2024 Spett.le Bianchi S.p.A. Via Torino 8 10121 Torino",
         "Descrizione Quantità Prezzo Importo Carta A4 risme 20 4,50 90,00 Toner 2 55,00 110,00",
         "Imponibile 200,00 IVA 22% 44,00 Totale documento 244,00 Scadenza 14/04/2024 bonifico"],
    ):
        page = _page(rows, width=2480, height=3508, dpi=300, x0=150, line_h=28)
        assert classify([page])[0] == DocType.INVOICE, rows[1]


def test_a_claim_forms_captions_show_a_claim_form_and_an_invoice_does_not() -> None:
    form = ("HEALTH INSURANCE CLAIM FORM APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) "
            "PICA MEDICARE MEDICAID 2. PATIENT'S NAME 3. PATIENT'S BIRTH DATE")
    assert shows_claim_form(form)
    assert shows_claim_form(form.lower())
    invoice = ("INVOICE No. 2041 Date 2024-03-01 Bill to: Health Insurance Partners Ltd "
               "Claim handling services 10 h 95.00 950.00 Total 950.00 EUR")
    assert not shows_claim_form(invoice)
    assert not shows_claim_form("Insurance claim form handling fee 1 x 45.00 Total 45.00")
