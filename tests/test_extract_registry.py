"""Contract test: every registered extractor honours the ``Extractor`` Protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import DocType, Extraction, Field, Origin, Page
from core.settings import Settings
from extractors.pages import load_pages
from extractors.registry import (
    GUESSED_LETTER_CAP,
    REGISTERED,
    Extractor,
    all_extractors,
    apply_calibration,
    calibrated,
    pick,
)
from pipeline.scoring import FIELDS_BY_TYPE
from validators.models import field_names

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SAMPLE = {
    DocType.INVOICE: DATASETS / "invoice2data" / "dev" / "coolblue1.pdf",
    DocType.RECEIPT: DATASETS / "sroie" / "dev" / "X51005361900.jpg",
    DocType.CLAIM: DATASETS / "hcfa1500_synthetic" / "dev" / "pristine_00000.png",
}
KNOWN = (
    {name for names in FIELDS_BY_TYPE.values() for name in names}
    | {name for kind in DocType for name in field_names(kind)}  # the validators' schema
    | {"amount_due"}
)


def test_registry_lists_the_builtin_extractors() -> None:
    names = {e.name for e in all_extractors()}
    assert {"facturx", "invoice", "receipt"} <= names
    assert ("extractors.claim", "ClaimExtractor") in REGISTERED


@pytest.mark.parametrize("extractor", all_extractors(), ids=lambda e: e.name)
def test_extractor_contract(extractor: Extractor, settings: Settings) -> None:
    assert isinstance(extractor, Extractor)
    assert isinstance(extractor.available(), bool)
    assert extractor.doc_types and all(isinstance(t, DocType) for t in extractor.doc_types)
    if not extractor.available():
        pytest.skip(f"{extractor.name} cannot run here")
    kind = extractor.doc_types[0]
    sample = SAMPLE[kind]
    if extractor.name == "facturx":
        sample = next((DATASETS / "zugferd" / "dev").glob("*.pdf"))
    if kind != DocType.INVOICE and extractor.name != "facturx":
        pytest.importorskip("pytesseract")
    pages = load_pages(sample, sample.name, settings)
    for doc_type in DocType:
        score = extractor.score(pages, doc_type, sample)
        assert 0.0 <= score <= 1.0
    extraction = extractor.extract(pages, sample, settings)
    assert isinstance(extraction, Extraction)
    assert extraction.fields, f"{extractor.name} found nothing on its own sample"
    for name, field in extraction.fields.items():
        assert name == field.name
        assert name in KNOWN, f"{extractor.name} invented field {name!r}"
        assert 0.0 <= field.confidence <= 1.0
        assert 0.0 <= calibrated(field) <= 1.0


def test_embedded_xml_outranks_the_layout_reader(settings: Settings) -> None:
    pdf = next((DATASETS / "zugferd" / "dev").glob("*.pdf"))
    pages = load_pages(pdf, pdf.name, settings)
    chosen = pick(pages, DocType.INVOICE, pdf)
    assert chosen is not None and chosen.name == "facturx"
    plain = DATASETS / "invoice2data" / "dev" / "coolblue1.pdf"
    chosen = pick(load_pages(plain, plain.name, settings), DocType.INVOICE, plain)
    assert chosen is not None and chosen.name == "invoice"


def test_disabled_extractors_are_skipped(settings: Settings) -> None:
    pdf = next((DATASETS / "zugferd" / "dev").glob("*.pdf"))
    pages = load_pages(pdf, pdf.name, settings)
    chosen = pick(pages, DocType.INVOICE, pdf, disabled=frozenset({"facturx"}))
    assert chosen is not None and chosen.name == "invoice"


def _calibrated(name: str, value: str, origin: Origin, lang: str | None) -> float:
    """The confidence ``apply_calibration`` gives a field read at 0.9 from a page of that origin
    and Tesseract language, with a table that would lift it to 0.99."""
    page = Page(index=0, width=600, height=800, dpi=300, origin=origin, text=value, ocr_lang=lang)
    field = Field(name=name, value=value, confidence=0.9, page=0, method="label")
    extraction = Extraction(doc_type=DocType.INVOICE, fields={name: field},
                            engine={"extractor": "invoice"})
    out = apply_calibration(extraction, {"*|*": [[0.0, 0.99]]}, pages=[page])
    return float(out.fields[name].confidence)


def test_a_name_read_by_the_english_model_with_its_only_accent_is_not_trusted() -> None:
    """Tesseract's English model knows one accented letter, é, and reads other ones as it
    (``Brötchen`` → ``Brétchen``): such a name is capped below posting; read in German, or
    from a text layer, it is not."""
    assert _calibrated("vendor_name", "Brétchen-Technik Nord GmbH", Origin.OCR, "eng") == (
        GUESSED_LETTER_CAP
    )
    assert _calibrated("vendor_name", "Brotchen-Technik Nord GmbH", Origin.OCR, "eng") == 0.99
    # ``ii`` is how it reads ü (``Kühn``): the name lost its umlauts (``Schafer``), and had been
    # posted at 0.96
    assert _calibrated("vendor_name", "Schafer & Kiihn Maschinenbau GmbH", Origin.OCR, "eng") == (
        GUESSED_LETTER_CAP
    )
    assert _calibrated("vendor_name", "Société Générale", Origin.OCR, "fra") == 0.99
    assert _calibrated("vendor_name", "Société Générale", Origin.TEXT_LAYER, None) == 0.99


def test_a_scanned_name_with_a_mark_in_place_of_a_word_is_not_trusted() -> None:
    """``Kite | & Ltd`` (``Kite & Key Ltd`` with a word OCR lost) was read at 0.92: a mark
    standing alone among a scanned name's words caps it below posting; marks inside words, the
    ampersand and the dash do not, nor a text layer's name."""
    for capped in ("Kite | & Ltd", "Nordic ~ Timber AB", "Industrieweg 12 ¦ Utrecht"):
        name = "address" if capped.startswith("Industrieweg") else "vendor_name"
        assert _calibrated(name, capped, Origin.OCR, "eng") == GUESSED_LETTER_CAP
    for trusted in ("Kite & Key Ltd", "Smith - Jones Ltd", "O'Brien|Partners Ltd"):
        assert _calibrated("vendor_name", trusted, Origin.OCR, "eng") == 0.99
    assert _calibrated("vendor_name", "Kite | & Ltd", Origin.TEXT_LAYER, None) == 0.99


def test_an_ocr_invoice_number_with_swappable_characters_is_not_trusted() -> None:
    """OCR swaps I and 1, O and 0 in identifiers: ``S1/5824/26`` for ``SI/5824/26`` was read
    at 0.96. A 1 or 0 in a scanned number's run of letters, or a letter among its digits,
    caps it below posting; a text layer's, or a number without such a character, is trusted."""
    for capped in ("S1/5824/26", "S1I/3097/26", "2O24-0117"):
        assert _calibrated("invoice_number", capped, Origin.OCR, "eng") == GUESSED_LETTER_CAP
    for trusted in ("SI/5824/26", "INV-2024-0012"):
        assert _calibrated("invoice_number", trusted, Origin.OCR, "eng") == 0.99
    assert _calibrated("invoice_number", "S1/5824/26", Origin.TEXT_LAYER, None) == 0.99


def test_a_scanned_vat_id_of_a_shape_its_country_never_gives_is_not_trusted() -> None:
    """Every scanned VAT id of the dev sets has its country's shape, so that group's accuracy
    lifted a scanned ``GB4938566466`` (a speck read as a tenth digit) and ``IE5699072`` (its
    letter lost) to 0.95: such an id is capped below posting. One whose check passes is not,
    nor a placeholder of the right shape whose check fails (sample e-invoices print
    ``DE123456789``, read right), nor a text layer's."""
    assert _calibrated("vendor_vat", "GB4938566466", Origin.OCR, "eng") == GUESSED_LETTER_CAP
    assert _calibrated("vendor_vat", "IE5699072", Origin.OCR, "eng") == GUESSED_LETTER_CAP
    assert _calibrated("vendor_vat", "GB493856646", Origin.OCR, "eng") == 0.99
    assert _calibrated("vendor_vat", "IE5699072V", Origin.OCR, "eng") == 0.99
    assert _calibrated("vendor_vat", "DE123456789", Origin.OCR, "eng") == 0.99
    assert _calibrated("vendor_vat", "GB4938566466", Origin.TEXT_LAYER, None) == 0.99
