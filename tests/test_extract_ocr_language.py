"""OCR in the page's own language: a German or French scan is read again with that language's
Tesseract data, so its accents and words survive; English pages are read once."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.settings import Settings
from extractors.ocr import guess_language, installed_languages
from extractors.pages import load_pages

GERMAN = [
    "Kraxi GmbH - Flugzeugallee 17 - 12345 Papierfeld",
    "Rechnung Nr. 2019-03",
    "Rechnungsdatum: 08.05.2019",
    "Beträge in EUR",
    "Menge Preis Betrag",
    "Superdrachen 2 20,00 40,00",
    "Summe netto 845,00",
    "zuzüglich 19% MwSt. 160,55",
    "Gesamtbetrag brutto 1005,55",
    "Zahlbar bis 07.06.2019 ohne Abzug. Skontoabzüge werden nicht akzeptiert.",
    "Sitz der Gesellschaft München, Geschäftsführer Paul Kraxi",
]
ENGLISH = [
    "Acme Supplies Ltd, 12 High Street, London",
    "Invoice number INV-2041",
    "Invoice date: 3 March 2025",
    "Description Quantity Price Amount",
    "Paper clips 10 1.20 12.00",
    "Total amount due 12.00",
    "Please pay within 30 days. Thank you for your order.",
]


def _pdf(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "scan.pdf"
    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setFont("Helvetica", 12)
    for i, text in enumerate(lines):
        pdf.drawString(60, A4[1] - 80 - 24 * i, text)
    pdf.save()
    return path


def test_language_is_guessed_from_common_business_words() -> None:
    assert guess_language(" ".join(GERMAN)) == "deu"
    assert guess_language(" ".join(ENGLISH)) == "eng"
    french = "Facture n° 41 du 12/03/2024. Montant total TTC à payer: 120,00 EUR. TVA 20 % " \
             "Prix unitaire, quantité, date d'échéance: règlement à réception de la facture."
    assert guess_language(french) == "fra"
    # a Malaysian till receipt (English and Malay words) is no European-language page
    receipt = "TAX INVOICE KEDAI RUNCIT CHONG HWA JALAN 2 TOTAL 33.90 CASH 50.00 CHANGE 16.10 " \
              "TERIMA KASIH THANK YOU PLEASE COME AGAIN GST SUMMARY AMOUNT TAX"
    assert guess_language(receipt) == "eng"
    assert guess_language("12.00 34.50") is None


@pytest.mark.skipif("deu" not in installed_languages(),
                    reason="German Tesseract data (tesseract-ocr-deu) is not installed")
def test_german_scan_is_read_again_with_german_data(tmp_path: Path, settings: Settings) -> None:
    pdf = _pdf(tmp_path, GERMAN)
    page = load_pages(pdf, pdf.name, settings, force_ocr=True)[0]
    assert page.ocr_lang == "deu+eng"
    assert "München" in page.text
    assert "Beträge" in page.text

    once = settings.model_copy(update={"ocr_auto_langs": []})
    plain = load_pages(pdf, pdf.name, once, force_ocr=True)[0]
    assert plain.ocr_lang == "eng"


def test_english_scan_is_read_once_in_english(tmp_path: Path, settings: Settings) -> None:
    pdf = _pdf(tmp_path, ENGLISH)
    page = load_pages(pdf, pdf.name, settings, force_ocr=True)[0]
    assert page.ocr_lang == "eng"
    assert "Invoice number" in page.text


def test_text_layer_pages_carry_no_ocr_language(tmp_path: Path, settings: Settings) -> None:
    pdf = _pdf(tmp_path, ENGLISH)
    page = load_pages(pdf, pdf.name, settings)[0]
    assert page.ocr_lang is None
