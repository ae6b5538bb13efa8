"""Golden tests: dataset documents beside their third-party labels, scored by the eval scorer.

Text-layer invoices are fast and checked document by document; OCR paths (scanned receipts,
rasterised invoices) are slow and checked in aggregate against measured floors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.models import to_label_value
from core.settings import Settings
from extractors import read_document
from pipeline.scoring import is_correct

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CORE = ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency")


def _labels(dataset: str) -> list[Path]:
    return sorted((DATASETS / dataset / "dev").glob("*.json"))


def _check(
    label_path: Path, settings: Settings, *, fields: tuple[str, ...] = CORE, **kwargs: object
) -> dict[str, bool]:
    label = json.loads(label_path.read_text())
    doc = label_path.parent / label["files"][0]
    _, extraction = read_document(doc, doc.name, settings, **kwargs)  # type: ignore[arg-type]
    out = {}
    for name in fields:
        expected = label["fields"].get(name)
        if expected is None:
            continue
        got = extraction.fields.get(name)
        out[name] = is_correct(name, expected, to_label_value(got.value) if got else None)
    return out


@pytest.mark.parametrize("label_path", _labels("invoice2data"), ids=lambda p: p.stem)
def test_invoice2data_text_layer(label_path: Path, settings: Settings) -> None:
    result = _check(label_path, settings)
    assert all(result.values()), result


@pytest.mark.parametrize("label_path", _labels("zugferd"), ids=lambda p: p.stem[:40])
def test_zugferd_embedded_xml(label_path: Path, settings: Settings) -> None:
    fields = tuple(json.loads(label_path.read_text())["fields"])
    result = _check(label_path, settings, fields=tuple(f for f in fields if f != "amount_due"))
    assert all(result.values()), {k: v for k, v in result.items() if not v}


def test_layout_reader_on_e_invoices_without_their_xml(settings: Settings) -> None:
    """The generic reader alone, on pages whose XML it is not allowed to see (other vendors)."""
    results = [
        ok
        for p in _labels("zugferd")
        for ok in _check(p, settings, disabled=frozenset({"facturx"})).values()
    ]
    accuracy = sum(results) / len(results)
    # 69/70 measured: the one miss is a seller name the XML prefixes with its GLN and supplier
    # number ("GLN 4333741000005 Lief-Nr: 549910 MUSTERLIEFERANT GMBH"), printed as two lines
    assert accuracy >= 0.95, f"layout reader on ZUGFeRD pages: {accuracy:.1%}"


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["AmazonWebServices", "coolblue1", "oyo"])
def test_invoice_force_ocr(stem: str, settings: Settings) -> None:
    result = _check(DATASETS / "invoice2data" / "dev" / f"{stem}.json", settings, force_ocr=True)
    assert all(result.values()), result


@pytest.mark.slow
def test_sroie_receipts_in_aggregate(settings: Settings) -> None:
    labels = _labels("sroie")[:20]
    counts = {"invoice_date": 0, "total_amount": 0, "vendor_name": 0}
    for path in labels:
        result = _check(path, settings, fields=tuple(counts))
        for name in counts:
            counts[name] += int(result.get(name, False))
    # floors a little under what this subset measures today (17 / 18 / 15), so regressions show
    assert counts["invoice_date"] >= 15, counts
    assert counts["total_amount"] >= 16, counts
    assert counts["vendor_name"] >= 13, counts
