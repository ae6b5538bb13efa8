"""The OCR cascade: merge rules, budget, and that it spends effort only on OCR pages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import cv2
import pytest

from core.models import DocType, Extraction, Field, Origin, Page
from core.settings import Settings
from extractors.cascade import Rereader, closing_tax, merge, run_cascade, vote
from extractors.ocr import installed_languages
from extractors.pages import load_pages
from extractors.registry import GUESSED_LETTER_CAP, all_extractors, apply_calibration

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _f(value: object, conf: float, method: str = "label") -> Field:
    return Field(name="total_amount", value=value, confidence=conf, method=method)


def test_agreeing_readings_are_surer() -> None:
    merged = merge(_f(Decimal("12.00"), 0.6), _f(Decimal("12.00"), 0.5))
    assert merged is not None and merged.confidence == pytest.approx(0.7)
    assert merged.method == "label+agree"
    again = merge(merged, _f(Decimal("12.00"), 0.5))
    assert again is merged  # agreement counts once
    # a first reading that doubted its total (the sum's tax misread) and a re-read whose
    # printed sum closes on the same total: read in a closed sum
    closed = merge(_f(Decimal("565.02"), 0.5, "near_sum"), _f(Decimal("565.02"), 0.87, "label+sum"))
    assert closed is not None and closed.method == "label+sum+agree"
    # … also after two guesses agreed: the closed sum's reading still counts
    guessed = merge(_f(Decimal("2851.32"), 0.44, "net_tax"), _f(Decimal("2851.32"), 0.4, "net_tax"))
    assert guessed is not None and guessed.method == "net_tax+agree"
    lifted = merge(guessed, _f(Decimal("2851.32"), 0.88, "label+sum"))
    assert lifted is not None and lifted.method == "label+sum+agree"
    assert lifted.confidence == pytest.approx(0.98)


def test_a_different_value_must_be_clearly_surer() -> None:
    first = _f(Decimal("12.00"), 0.6)
    assert merge(first, _f(Decimal("13.00"), 0.62)) is first
    better = _f(Decimal("13.00"), 0.8)
    assert merge(first, better) is better
    assert merge(None, better) is better
    assert merge(first, None) is first


def _sums(total: str | None, sub: str | None, tax: str | None) -> dict[str, Field]:
    out = {}
    for name, value in (("total_amount", total), ("subtotal", sub), ("tax_amount", tax)):
        if value is not None:
            out[name] = Field(name=name, value=Decimal(value), confidence=0.8, method="label")
    return out


def test_the_tax_of_a_reread_that_closes_the_kept_total_is_taken() -> None:
    """The first reading had the subtotal and a total it could not close (the tax row read
    ``VAT 20% 4,706.08`` but the total did not), so no tax; a re-read found the total, and
    its subtotal + tax closes it: the tax is taken. It is not taken over another subtotal,
    over a first tax that already closes the sum, or when the re-read's sums do not close."""
    first = _sums("28236.46", "23530.38", None)  # the total as the merge kept it
    again = _sums("28236.46", "23530.38", "4706.08")
    assert closing_tax(first, again)["tax_amount"].value == Decimal("4706.08")
    other_sub = _sums("28236.46", "23530.00", "4706.46")
    assert "tax_amount" not in closing_tax(first, other_sub)
    closed = _sums("28236.46", "23530.38", "4706.08")
    assert closing_tax(closed, _sums("28236.46", "23530.38", "4706.08")) is closed
    assert "tax_amount" not in closing_tax(first, _sums("28236.46", "23530.38", "4000.00"))
    assert "tax_amount" not in closing_tax(_sums("23530.38", "23530.38", None), again)
    # the first reading summed its total from the tax, as a guess: the same tax read in the
    # printed sum is surer, and taken
    guessed = {**closed, "tax_amount": closed["tax_amount"].model_copy(
        update={"confidence": 0.43, "method": "net_tax"})}
    surer = closing_tax(guessed, again)["tax_amount"]
    assert surer.confidence == 0.8 and surer.method == "label"


def test_no_budget_or_no_ocr_means_no_cascade(settings: Settings) -> None:
    pdf = DATASETS / "invoice2data" / "dev" / "coolblue1.pdf"
    pages = load_pages(pdf, pdf.name, settings)
    extractor = next(e for e in all_extractors() if e.name == "invoice")
    weak = Extraction(doc_type=DocType.INVOICE, fields={"total_amount": _f(Decimal("1"), 0.1)})
    out, seconds = run_cascade(
        pages, weak, pdf, settings, extractor
    )  # text layer: nothing to re-read
    assert out is weak and seconds == 0.0
    no_budget = settings.model_copy(update={"cpu_budget_seconds": 0.0})
    out, seconds = run_cascade(pages, weak, pdf, no_budget, extractor)
    assert out is weak and seconds == 0.0


@pytest.mark.slow
def test_cascade_rereads_a_weak_receipt_within_budget(settings: Settings) -> None:
    jpg = DATASETS / "sroie" / "dev" / "X51005361897.jpg"
    pages = load_pages(jpg, jpg.name, settings)
    extractor = next(e for e in all_extractors() if e.name == "receipt")
    extraction = extractor.extract(pages, jpg, settings)
    extraction = extraction.model_copy(
        update={
            "fields": {
                k: v.model_copy(update={"confidence": 0.05}) for k, v in extraction.fields.items()
            }
        }
    )
    # A budget smaller than any Tesseract call: the first re-read may run past it, never a second.
    budget = settings.model_copy(update={"cpu_budget_seconds": 0.001})
    out, seconds = run_cascade(pages, extraction, jpg, budget, extractor)
    assert seconds > 0.001
    assert out.stats["cascade_reads"] == 1


def test_a_reading_that_wins_a_vote_alone_is_only_as_sure_as_its_share() -> None:
    """One reading against others that read another value wins by its confidence but keeps only
    its share of it; readings that agree, or a reading nobody contradicts (a reading of some of
    its words does not), keep theirs."""
    def reading(value: str, conf: float) -> Field:
        return Field(name="vendor_name", value=value, confidence=conf, method="repeated")

    ltd, short = "Shannon Freight & Logistics Ltd", "Shannon Freight & Logistics"
    lone = vote([reading(ltd, 0.3), reading(short, 0.7)])
    assert lone.value == short and lone.confidence == pytest.approx(0.49)
    assert vote([reading(ltd, 0.65), reading(ltd, 0.45), reading(short, 0.7)]).value == ltd
    assert vote([reading(short, 0.7)]).confidence == 0.7
    assert vote([reading(short, 0.7), reading(short, 0.6)]).confidence == pytest.approx(0.8)
    # a reading that lost some of the name's words does not speak against it
    whole = reading("O'Connell & Daughters Ltd", 0.75)
    assert vote([whole, reading("& Daughters Ltd", 0.59)]) is whole
    # a re-read that dropped the last stop of a dotted legal form reads the same name
    bv = "De Vries Installatietechniek B.V."
    agreed = vote([reading(bv, 0.54), reading(bv[:-1], 0.72)])
    assert agreed.value == bv and agreed.method == "repeated+agree"
    # after a one-word form the stop may be a speck: those stay two readings
    assert vote([reading("Kite & Key Ltd.", 0.54), reading("Kite & Key Ltd", 0.72)]).value == (
        "Kite & Key Ltd"
    )
    # a re-read that cut the name inside a word is no reading of it, however sure
    weiss = reading("WeifR Elektrotechnik GmbH", 0.22)
    assert vote([weiss, reading("hnik GmbH", 0.58)]) is weiss
    # … but a whole word's end, or a reading of its own, still is
    assert vote([weiss, reading("Elektrotechnik GmbH", 0.58)]).value == "Elektrotechnik GmbH"
    assert vote([reading("hnik GmbH", 0.58)]).value == "hnik GmbH"


def test_an_amount_whose_printed_sum_closes_is_kept_over_a_surer_one_whose_does_not() -> None:
    """A re-read that lost the total's line falls back on the items' sum, surer than the first
    reading's faint total; the total that subtotal + tax close is kept all the same, and a
    re-read that closes the sum replaces a first total that did not."""
    def total(value: str, conf: float, method: str) -> Field:
        return Field(name="total_amount", value=Decimal(value), confidence=conf, method=method)

    closed = total("75043.79", 0.34, "label+sum")
    assert merge(closed, total("70129.61", 0.5, "items_sum")) is closed
    assert merge(total("5043.79", 0.8, "label"), closed) is closed
    assert merge(total("5043.79", 0.3, "label"), total("70129.61", 0.5, "items_sum")).value == Decimal(
        "70129.61"
    )


def _scanned_letter(tmp_path: Path, settings: Settings,
                    lines: list[tuple[int, str, str, int]]) -> tuple[Path, list[Page]]:
    """A page of ``(y, font, text, size)`` lines printed, rendered at 300 dpi and read by OCR."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from extractors.pages import open_pdf, render_pdf_page

    pdf_path = tmp_path / "invoice.pdf"
    pdf = Canvas(str(pdf_path), pagesize=A4, invariant=1)
    for y, font, text, size in lines:
        pdf.setFont(font, size)
        pdf.drawString(50, A4[1] - y, text)
    pdf.save()
    png = tmp_path / "scan.png"
    document = open_pdf(pdf_path.read_bytes())
    cv2.imwrite(str(png), render_pdf_page(document, 0, 300))
    document.close()
    return png, load_pages(png, png.name, settings)


def _in_their_language(
    tmp_path: Path, settings: Settings, title: str, body: list[tuple[int, str]], lang: str,
    size: int = 10,
) -> tuple[list[Page], dict[str, Field], dict[str, Field], Rereader]:
    """A scanned letter (``title`` in bold, ``body`` lines of (y, text) in ``size`` points)
    read by OCR, which must settle on ``lang``: its pages, its invoice fields, those fields
    after :func:`names_in_their_language`, and the re-reader that did it."""
    from extractors.cascade import names_in_their_language

    lines = [(60, "Helvetica-Bold", title, 16), *((y, "Helvetica", t, size) for y, t in body)]
    png, pages = _scanned_letter(tmp_path, settings, lines)
    assert pages[0].ocr_lang == lang
    extractor = next(e for e in all_extractors() if e.name == "invoice")
    fields = extractor.extract(pages, png, settings).fields
    r = Rereader(pages, png, settings, extractor)
    return pages, fields, names_in_their_language(r, fields), r


@pytest.mark.skipif("deu" not in installed_languages(), reason="needs Tesseract's German data")
def test_a_german_sellers_name_on_an_english_page_is_read_again_in_german(
    tmp_path: Path, settings: Settings
) -> None:
    """An English invoice from a German company, scanned: the English model has no ä, ü or ß
    and reads ``Schäfer & Kühn`` without them; the name's own line read with the German model
    puts them back, at the English reading's confidence."""
    pages, fields, out, r = _in_their_language(tmp_path, settings, "Schäfer & Kühn Maschinenbau GmbH", [
        (90, "Industriestrasse 7, 33602 Bielefeld, Germany"),
        (140, "TAX INVOICE   Invoice No. INV-2024-0117   Date: 12 March 2024"),
        (170, "Bill to: Blue Ridge Outfitters LLC, Asheville, NC"),
        (400, "Total due for the invoice: EUR 1,250.00"),
        (420, "Thank you for your payment and for your order."),
    ], "eng")
    english = fields["vendor_name"]
    assert "ü" not in english.value and "GmbH" in english.value
    assert r.spent > 0 and r.reads == 1
    assert out["vendor_name"].value == "Schäfer & Kühn Maschinenbau GmbH"
    assert out["vendor_name"].confidence == english.confidence
    # one reading of one line: the name is capped like a letter the English model guessed
    sure = {**out, "vendor_name": out["vendor_name"].model_copy(update={"confidence": 0.99})}
    extraction = Extraction(doc_type=DocType.INVOICE, fields=sure, engine={"extractor": "invoice"})
    capped = apply_calibration(extraction, pages=pages).fields["vendor_name"]
    assert capped.confidence <= GUESSED_LETTER_CAP


@pytest.mark.skipif(not {"deu", "fra"} <= installed_languages(),
                    reason="needs Tesseract's German and French data")
def test_a_french_buyer_and_a_german_address_on_an_english_page_get_their_letters(
    tmp_path: Path, settings: Settings
) -> None:
    """An English invoice from Munich to a French company, scanned: the English model reads
    ``80807 Munchen`` and ``Société d'Equipement`` (its one accented letter is é, not É). The
    address, by its country, is read again in German and the buyer, by its legal form
    (``S.A.``), in French: each takes the letters the English model lacks, nothing else."""
    _, fields, out, r = _in_their_language(tmp_path, settings, "Hofmann Logistik AG", [
        (85, "Frankfurter Ring 150"),
        (100, "80807 München"),
        (115, "Germany"),
        (160, "INVOICE   Invoice No. HL-2025-0042   Date: 12 March 2025"),
        (200, "Bill to:"),
        (215, "Société d'Équipement Alpin S.A."),
        (230, "5 avenue du Mont-Blanc"),
        (245, "74400 Chamonix, France"),
        (400, "Total due for the invoice: EUR 1,250.00"),
        (420, "Thank you for your payment and for your order."),
    ], "eng")
    assert fields["address"].value == "Frankfurter Ring 150, 80807 Munchen, DE"
    assert fields["buyer_name"].value == "Société d'Equipement Alpin S.A."
    assert r.reads == 2  # one band in German, one in French
    assert out["address"].value == "Frankfurter Ring 150, 80807 München, DE"
    assert out["buyer_name"].value == "Société d'Équipement Alpin S.A."
    assert out["vendor_name"] == fields["vendor_name"]  # AG is German, but nothing to lend
    assert out["buyer_name"].confidence == fields["buyer_name"].confidence


@pytest.mark.skipif(not {"deu", "fra"} <= installed_languages(),
                    reason="needs Tesseract's German and French data")
def test_a_french_buyer_in_a_german_letters_window_gets_the_letters_german_lacks(
    tmp_path: Path, settings: Settings
) -> None:
    """A German invoice (DIN 5008: the window address on the left, the information block on
    the right, on the same lines) to a French company, scanned: the German model has no é
    and reads ``Societe d'Equipement``. The buyer's own columns are read again in French (the
    whole band, with the information block beside it, read garbled), and lend it é and É."""
    _, fields, out, _ = _in_their_language(tmp_path, settings, "Hofmann Logistik AG", [
        (100, "Hofmann Logistik AG - Frankfurter Ring 150 - 80807 München"),
        (125, "Société d'Équipement Alpin S.A.                                  "
              "Rechnungsnummer:   A25-4075"),
        (140, "5 avenue du Mont-Blanc                                           "
              "Rechnungsdatum:   16.07.2025"),
        (155, "74400 Chamonix                                                    "
              "Kundennummer:   79764"),
        (170, "Frankreich"),
        (500, "Sehr geehrte Damen und Herren, für unsere Lieferung berechnen wir Ihnen:"),
        (540, "Nettobetrag 1.000,00 EUR    zzgl. 19 % MwSt. 190,00 EUR"),
        (560, "Rechnungsbetrag 1.190,00 EUR"),
        (600, "Zahlbar bis zum 15.08.2025 ohne Abzug. Bitte geben Sie die Rechnungsnummer an."),
        (620, "Vielen Dank für Ihre Bestellung und die gute Zusammenarbeit mit der Firma."),
    ], "deu", size=11)
    first = fields["buyer_name"].value  # ``Societe`` or ``Societ&``
    assert first.startswith("Societ") and first.endswith(" d'Equipement Alpin S.A.")
    assert out["buyer_name"].value == "Société d'Équipement Alpin S.A."
    assert out["vendor_name"] == fields["vendor_name"]


@pytest.mark.skipif("deu" not in installed_languages(), reason="needs Tesseract's German data")
def test_a_buyer_read_unsurely_is_read_again_from_its_own_columns(
    tmp_path: Path, settings: Settings
) -> None:
    """A DIN 5008 letter's window address shares its lines with the information block beside
    it, and Tesseract's line finding can garble it (``Pacific au North orthwest R Research``
    at 0.36 raw, on random invoices seed 52000). A buyer read that unsurely is read again from
    its own columns, and the clearer reading replaces it; a buyer read surely is left alone."""
    from extractors.cascade import BUYER_WEAK, buyer_in_its_columns

    pages, fields, _, _ = _in_their_language(tmp_path, settings, "Hofmann Logistik AG", [
        (100, "Hofmann Logistik AG - Frankfurter Ring 150 - 80807 München"),
        (125, "Pacific Northwest Research Consortium LLC                        "
              "Rechnungsnummer:   A25-4075"),
        (140, "2200 Westlake Ave                                                "
              "Rechnungsdatum:   16.07.2025"),
        (155, "Seattle, WA 98121                                                "
              "Kundennummer:   79764"),
        (170, "USA"),
        (500, "Sehr geehrte Damen und Herren, für unsere Lieferung berechnen wir Ihnen:"),
        (560, "Rechnungsbetrag 1.190,00 EUR"),
        (600, "Zahlbar bis zum 15.08.2025 ohne Abzug. Bitte geben Sie die Rechnungsnummer an."),
        (620, "Vielen Dank für Ihre Bestellung und die gute Zusammenarbeit mit der Firma."),
    ], "deu", size=11)
    buyer = fields["buyer_name"]
    assert buyer.value == "Pacific Northwest Research Consortium LLC"
    extractor = next(e for e in all_extractors() if e.name == "invoice")
    png = tmp_path / "scan.png"
    sure = Rereader(pages, png, settings, extractor)
    assert buyer.confidence >= BUYER_WEAK and buyer_in_its_columns(sure, fields) == fields
    assert sure.reads == 0
    garbled = buyer.model_copy(update={"value": "Pacific au North orthwest R Research",
                                       "confidence": 0.19})
    r = Rereader(pages, png, settings, extractor)
    out = buyer_in_its_columns(r, {**fields, "buyer_name": garbled})
    assert r.reads == 1
    assert out["buyer_name"].value == "Pacific Northwest Research Consortium LLC"


def test_only_letters_the_english_model_lacks_are_taken_from_another_languages_reading() -> None:
    from extractors.cascade import with_letters_of

    assert with_letters_of("Schafer & Kiihn Maschinenbau GmbH",
                           "Schäfer & Kühn Maschinenbav GmbH") == "Schäfer & Kühn Maschinenbau GmbH"
    assert with_letters_of("WeifR Elektrotechnik GmbH", "Weiß Elektrotechnik GmbH") == (
        "Weiß Elektrotechnik GmbH")
    # the French reading's é where English read e is not taken: English reads é itself
    assert with_letters_of("Société d'Equipement Alpin S.A.", "Société d'Équipemént Alpin S.A.") == (
        "Société d'Équipement Alpin S.A.")
    # other words, another count of words, or another value altogether: the English reading
    assert with_letters_of("Am Hafen 21, 28217 Bremen, DE", "Am Häfen 21, 28217 Brémen DE") == (
        "Am Häfen 21, 28217 Bremen, DE")
    assert with_letters_of("Hofmann Logistik AG", "Hof mann Logistik AG") == "Hofmann Logistik AG"
    assert with_letters_of("Kite & Key Ltd", "Küte & Kéy Gmbh") == "Kite & Key Ltd"
    assert with_letters_of("Munchen", None) == "Munchen"


def test_a_name_capped_for_its_letters_is_re_read_however_sure(settings: Settings) -> None:
    """The cascade re-reads a required field until the confidence the decision policy will see
    reaches the threshold: a name read ``Schafer & Kiihn Maschinenbau GmbH`` at 0.96 is capped
    for its ``ii`` (the English model's ü), so it is weak and its line is read again in German
    (it had been posted as read)."""
    from extractors.cascade import _weak

    page = Page(index=0, width=600, height=800, dpi=300, origin=Origin.OCR, text="", ocr_lang="eng")
    sure = {"vendor_name": Field(name="vendor_name", value="Schafer & Kiihn Maschinenbau GmbH",
                                 confidence=0.99, page=0, method="title")}
    assert _weak(sure, ["vendor_name"], "invoice", [page]) == ["vendor_name"]
    plain = {"vendor_name": sure["vendor_name"].model_copy(
        update={"value": "Hofmann Logistik AG"})}
    assert _weak(plain, ["vendor_name"], "invoice", [page]) == []


def _scanned_invoice(tmp_path: Path, settings: Settings) -> tuple[Path, list[Page]]:
    """A one-page invoice with an item table, printed, rendered at 300 dpi and read by OCR."""
    from extractors.pages import open_pdf, render_pdf_page
    from tests.pdfs import write_pdf

    lines = [
        (60, 60, "Hofmann Logistik AG"), (60, 120, "Invoice No. 4711"), (60, 140, "Date: 12.03.2025"),
        (60, 220, "Description"), (330, 220, "Qty"), (400, 220, "Unit price"), (-540, 220, "Amount"),
        (60, 245, "Euro pallet, heat treated"), (330, 245, "20"), (400, 245, "11.55"), (-540, 245, "231.00"),
        (60, 265, "Diesel fuel, per litre"), (330, 265, "36"), (400, 265, "1.01"), (-540, 265, "36.36"),
        (400, 310, "Subtotal"), (-540, 310, "267.36"), (400, 330, "Total EUR"), (-540, 330, "267.36"),
    ]
    pdf_path = write_pdf(tmp_path / "invoice.pdf", lines, size=11)
    png = tmp_path / "invoice.png"
    cv2.imwrite(str(png), render_pdf_page(open_pdf(pdf_path), 0, 300))
    return png, load_pages(png, png.name, settings)


def test_an_item_table_that_did_not_add_up_is_read_again_in_a_table_mode(
    tmp_path: Path, settings: Settings
) -> None:
    """A scanned invoice whose items were not delivered (the reader gives them only when they
    add up) has its page read again with psm 6 / 4, and the items are kept when they add up to
    the subtotal the other readings settled; words a field re-read already took are used again."""
    from extractors.cascade import ITEM_VARIANTS, Rereader, _items_off, reread_items

    png, pages = _scanned_invoice(tmp_path, settings)
    extractor = next(e for e in all_extractors() if e.name == "invoice")
    read = extractor.extract(pages, png, settings)
    without_items = {k: v for k, v in read.fields.items() if k != "line_items"}
    assert _items_off(read.model_copy(update={"fields": without_items}))
    assert not _items_off(Extraction(doc_type=DocType.RECEIPT, fields={}))
    r = Rereader(pages, png, settings, extractor)
    fields = reread_items(r, without_items, budget=20.0)
    items = fields["line_items"].value
    assert [row["amount"] for row in items] == [Decimal("231.00"), Decimal("36.36")]
    assert r.spent > 0 and r.reads == 1 and (0, ITEM_VARIANTS[0]) in r.read_with
    # the same words again: no Tesseract call
    again = Rereader(pages, png, settings, extractor, read_with=r.read_with)
    reread_items(again, without_items, 20.0)
    assert again.spent == 0.0 and again.reads == 0
    # items that do not add up to the settled subtotal are not taken
    off = {**without_items, "subtotal": _f(Decimal("999.00"), 0.9),
           "total_amount": _f(Decimal("999.00"), 0.9)}
    fields = reread_items(again, off, 20.0)
    assert "line_items" not in fields


def test_a_sure_german_name_on_an_english_page_is_read_again_in_german(
    tmp_path: Path, settings: Settings
) -> None:
    """``Brötchen-Technik Nord GmbH`` on an English invoice, scanned: the English model reads
    ``Brdotchen`` with no guessed letter to show it, sure (0.96, and posted). However sure, a
    German company's name read in English has its line read again in German."""
    from extractors.cascade import _weak
    from extractors.pages import open_pdf, render_pdf_page
    from tests.pdfs import write_pdf

    lines = [
        (60, 60, "Brötchen-Technik Nord GmbH"), (60, 80, "Spaldingstrasse 64, 20097 Hamburg"),
        (60, 120, "TAX INVOICE   Invoice No. A25-3083   Date: 04/09/2025"),
        (60, 150, "Bill to: Blue Ridge Outfitters LLC, Asheville, NC"),
        (400, 330, "Total due EUR"), (-540, 330, "175.38"),
    ]
    pdf_path = write_pdf(tmp_path / "invoice.pdf", lines, size=14)
    png = tmp_path / "invoice.png"
    cv2.imwrite(str(png), render_pdf_page(open_pdf(pdf_path), 0, 300))
    pages = load_pages(png, png.name, settings)
    assert pages[0].ocr_lang == "eng"
    extractor = next(e for e in all_extractors() if e.name == "invoice")
    read = extractor.extract(pages, png, settings)
    english = read.fields["vendor_name"].value
    assert english.endswith("chen-Technik Nord GmbH") and "ö" not in english
    sure = {name: f.model_copy(update={"confidence": 0.99}) for name, f in read.fields.items()}
    # nothing in the reading says a letter was guessed (as ``é`` or ``ii`` would): not weak
    assert _weak(sure, ["vendor_name"], "invoice", pages) == []
    sure.setdefault("line_items", _f([], 0.99))
    out, seconds = run_cascade(pages, read.model_copy(update={"fields": sure}), png, settings,
                               extractor)
    assert seconds > 0
    assert out.fields["vendor_name"].value == "Brötchen-Technik Nord GmbH"
    # an English name is left as read
    plain = {**sure, "vendor_name": sure["vendor_name"].model_copy(
        update={"value": "Northwind Traders Ltd"})}
    out, seconds = run_cascade(pages, read.model_copy(update={"fields": plain}), png, settings,
                               extractor)
    assert out.fields["vendor_name"] == plain["vendor_name"]
