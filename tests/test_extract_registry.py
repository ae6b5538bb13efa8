"""Contract test: every registered extractor honours the ``Extractor`` Protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import DocType, Extraction
from core.settings import Settings
from extractors.pages import load_pages
from extractors.registry import REGISTERED, Extractor, all_extractors, calibrated, pick
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
