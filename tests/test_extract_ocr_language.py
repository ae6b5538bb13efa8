"""OCR in the page's own language: a German or French scan is read again with that language's
Tesseract data, so its accents and words survive; English pages are read once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _pdf(tmp_path: Path, *pages: list[str]) -> Path:
    path = tmp_path / "scan.pdf"
    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    for lines in pages:
        pdf.setFont("Helvetica", 12)
        for i, text in enumerate(lines):
            pdf.drawString(60, A4[1] - 80 - 24 * i, text)
        pdf.showPage()
    pdf.save()
    return path


def _count_readings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The languages of every Tesseract reading of whole pages, in the order they ran."""
    import extractors.pages as pages

    langs: list[str] = []
    real = pages.run_tesseract

    def counted(image: object, **kwargs: Any) -> Any:
        langs.append(kwargs["lang"])
        return real(image, **kwargs)

    monkeypatch.setattr(pages, "run_tesseract", counted)
    return langs


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
    assert page.ocr_lang == "deu"
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


@pytest.mark.skipif("deu" not in installed_languages(),
                    reason="German Tesseract data (tesseract-ocr-deu) is not installed")
def test_later_pages_are_read_once_in_the_language_the_first_settled_on(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    german = _pdf(tmp_path, GERMAN, GERMAN[::-1], GERMAN[3:])
    langs = _count_readings(monkeypatch)
    one = settings.model_copy(update={"workers": 1})
    pages = load_pages(german, german.name, one, force_ocr=True)
    assert [p.ocr_lang for p in pages] == ["deu"] * 3
    assert all("München" in p.text for p in pages)
    # the first page in English and then in German; the others once each, in German
    assert langs == ["eng", "deu", "deu", "deu"]

    # With two workers the first two pages are read side by side, each as a first page would
    # be; only the third waits for the first page's language.
    langs.clear()
    two = settings.model_copy(update={"workers": 2})
    pages = load_pages(german, german.name, two, force_ocr=True)
    assert [p.ocr_lang for p in pages] == ["deu"] * 3
    assert sorted(langs) == ["deu"] * 3 + ["eng"] * 2


@pytest.mark.skipif("deu" not in installed_languages(),
                    reason="German Tesseract data (tesseract-ocr-deu) is not installed")
def test_a_page_in_another_language_than_the_first_is_read_as_usual(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mixed = _pdf(tmp_path, GERMAN, ENGLISH)
    langs = _count_readings(monkeypatch)
    one = settings.model_copy(update={"workers": 1})
    pages = load_pages(mixed, mixed.name, one, force_ocr=True)
    assert [p.ocr_lang for p in pages] == ["deu", "eng"]
    assert "Invoice number" in pages[1].text
    # the English page was tried in German first, found English, and read in English
    assert langs == ["eng", "deu", "deu", "eng"]


def test_an_english_document_is_read_once_a_page(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = _pdf(tmp_path, ENGLISH, ENGLISH[::-1], ENGLISH)
    langs = _count_readings(monkeypatch)
    pages = load_pages(english, english.name, settings, force_ocr=True)
    assert [p.ocr_lang for p in pages] == ["eng"] * 3
    assert langs == ["eng"] * 3
