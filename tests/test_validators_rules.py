"""validators.rules: every rule with a real failing and a real passing example."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.models import DocType
from validators.history import InMemoryHistory
from validators.masterdata import load_open_pos, load_vendor_master
from validators.models import Claim, Invoice, Receipt, coerce_values
from validators.rules import (
    RuleParams,
    check_claim,
    check_document_dates,
    check_history,
    check_identifiers,
    check_line_items,
    check_master_data,
    check_totals,
    npi_check_digit,
    npi_is_valid,
    vat_is_valid,
)

TODAY = dt.date(2026, 6, 1)
PARAMS = RuleParams()
CLAIM_LABEL = (
    Path(__file__).resolve().parents[2]
    / "shared/datasets/hcfa1500_synthetic/dev/pristine_00000.json"
)


def invoice(**values: Any) -> Invoice:
    doc, findings = coerce_values(DocType.INVOICE, values)
    assert findings == [] and isinstance(doc, Invoice)
    return doc


def codes(findings: list) -> list[str]:
    return [f.code for f in findings]


# --- arithmetic -----------------------------------------------------------------------------


def test_totals() -> None:
    ok = invoice(subtotal="845.00", tax_amount="160.55", total_amount="1005.55")
    assert check_totals(ok, PARAMS) == []
    rounded = invoice(subtotal="100.00", tax_amount="15.00", total_amount="115.01")
    assert check_totals(rounded, PARAMS) == []
    bad = check_totals(
        invoice(subtotal="100.00", tax_amount="15.00", total_amount="120.00"), PARAMS
    )
    assert codes(bad) == ["total_mismatch"]
    assert bad[0].field == "total_amount"
    assert bad[0].message == "Total 120.00 ≠ subtotal 100.00 + tax 15.00 (115.00)."
    assert codes(check_totals(invoice(subtotal="100.00", total_amount="90.00"), PARAMS)) == [
        "total_mismatch"
    ]


def test_line_items() -> None:
    lines = [
        {"description": "Superdrachen", "quantity": "2", "unit_price": "20.00", "amount": "40.00"},
        {"description": "Turbo Flyer", "quantity": "5", "unit_price": "40.00", "amount": "200.00"},
    ]
    assert (
        check_line_items(
            invoice(line_items=lines, subtotal="240.00", total_amount="285.60"), PARAMS
        )
        == []
    )
    # lines that include tax may add up to the total instead
    assert (
        check_line_items(
            invoice(line_items=lines, total_amount="240.00", tax_amount="38.32"), PARAMS
        )
        == []
    )
    bad = check_line_items(
        invoice(line_items=lines, subtotal="250.00", total_amount="297.50"), PARAMS
    )
    assert codes(bad) == ["line_items_mismatch"]
    assert "add up to 240.00, not to the subtotal 250.00" in bad[0].message
    wrong_line = [{**lines[0], "amount": "45.00"}, lines[1]]
    found = check_line_items(invoice(line_items=wrong_line, subtotal="245.00"), PARAMS)
    assert codes(found) == ["line_amount_mismatch"]
    assert found[0].field == "line_items[0].amount"


def test_document_level_allowances_and_charges_bridge_lines_and_subtotal() -> None:
    lines = [
        {"description": "Superdrachen", "quantity": "2", "unit_price": "20.00", "amount": "40.00"},
        {"description": "Turbo Flyer", "quantity": "5", "unit_price": "40.00", "amount": "200.00"},
    ]
    # 240.00 of lines − 24.00 Rabatt + 5.90 freight = 221.90
    bridged = invoice(
        line_items=lines, subtotal="221.90", allowance_total="24.00", charge_total="5.90"
    )
    assert check_line_items(bridged, PARAMS) == []
    unexplained = check_line_items(invoice(line_items=lines, subtotal="221.90"), PARAMS)
    assert codes(unexplained) == ["line_items_mismatch"]
    wrong = check_line_items(
        invoice(line_items=lines, subtotal="230.00", allowance_total="24.00"), PARAMS
    )
    assert "after 24.00 allowances and 0.00 charges: 216.00" in wrong[0].message
    # a stated line total the lines do not reach: a line is missing or misread
    short = check_line_items(invoice(line_items=lines, lines_total="280.00"), PARAMS)
    assert codes(short) == ["line_items_mismatch"] and "stated line total 280.00" in short[0].message
    # the lines reach their stated total, and what takes it to the subtotal was not read (a
    # page's "Warenwert" over allowances and freight the reader does not itemise): no finding
    read = invoice(line_items=lines, lines_total="240.00", subtotal="221.90")
    assert check_line_items(read, PARAMS) == []
    # stated as none (an e-invoice's XML), they leave the subtotal unexplained
    none = invoice(line_items=lines, lines_total="240.00", subtotal="221.90",
                   allowance_total="0.00", charge_total="0.00")
    assert codes(check_line_items(none, PARAMS)) == ["line_items_mismatch"]


# --- dates ----------------------------------------------------------------------------------


def test_dates() -> None:
    assert (
        check_document_dates(
            invoice(invoice_date="2026-05-08", due_date="2026-06-07"), TODAY, PARAMS
        )
        == []
    )
    assert codes(check_document_dates(invoice(invoice_date="2026-07-01"), TODAY, PARAMS)) == [
        "date_in_future"
    ]
    old = check_document_dates(invoice(invoice_date="2016-01-01"), TODAY, PARAMS)
    assert codes(old) == ["date_too_old"] and old[0].severity == "warning"
    due = check_document_dates(
        invoice(invoice_date="2026-05-08", due_date="2026-04-08"), TODAY, PARAMS
    )
    assert codes(due) == ["due_before_invoice_date"]


# --- identifiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["DE136695976", "NL004495445B01", "BE0411905847", "FR40303265045"]
)
def test_valid_vat_ids(number: str) -> None:
    assert vat_is_valid(number) is True
    assert check_identifiers(invoice(vendor_vat=number)) == []


def test_invalid_vat_and_iban() -> None:
    # DE123456789 is the placeholder of the ZUGFeRD sample invoices: its check digit is wrong.
    assert codes(check_identifiers(invoice(vendor_vat="DE123456789"))) == ["invalid_vat"]
    assert vat_is_valid("001234567890") is None  # no country prefix: not judged
    assert check_identifiers(invoice(iban="DE89 3704 0044 0532 0130 00")) == []
    assert codes(check_identifiers(invoice(iban="DE89370400440532013001"))) == ["invalid_iban"]


def test_currency_code_is_checked_by_the_model() -> None:
    _, findings = coerce_values(DocType.INVOICE, {"currency": "XYZ"})
    assert codes(findings) == ["invalid_currency"]
    doc, findings = coerce_values(DocType.INVOICE, {"currency": "€"})
    assert findings == [] and doc is not None and doc.currency == "EUR"


def test_npi_check_digit() -> None:
    assert npi_check_digit("123456789") == "3"  # the example of the CMS NPI check-digit paper
    assert npi_is_valid("1234567893")
    assert npi_is_valid("2881346532") and npi_is_valid("1630873820")  # from the synthetic claims
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")


# --- claims ---------------------------------------------------------------------------------


def _claim_values() -> dict[str, Any]:
    """A real (synthetic) CMS-1500 label, with 24B/24E/24J from its box-by-box ground truth."""
    label = json.loads(CLAIM_LABEL.read_text())
    values = dict(label["fields"])
    boxes = label["original"]["logical"]["box_24_service_lines"]
    values["service_lines"] = [
        {
            **line,
            "place_of_service": box["place_of_service"],
            "pointers": box["diagnosis_pointers"],
            "rendering_npi": box["rendering_provider_npi"],
        }
        for line, box in zip(values["service_lines"], boxes, strict=True)
    ]
    values["icd_indicator"] = label["original"]["logical"]["box_21_icd_indicator"]
    return values


def claim(**changes: Any) -> Claim:
    doc, findings = coerce_values(DocType.CLAIM, {**_claim_values(), **changes})
    assert findings == [] and isinstance(doc, Claim)
    return doc


def _line(index: int, **changes: Any) -> list[dict[str, Any]]:
    lines = _claim_values()["service_lines"]
    lines[index] = {**lines[index], **changes}
    return lines


def test_real_claim_passes() -> None:
    assert check_claim(claim(), TODAY, PARAMS) == []


def test_covid_diagnosis_and_vaccine_codes_are_valid() -> None:
    """U07.1 (COVID-19) and CPT codes ending in A (vaccine products) or M (multianalyte
    assays) are real codes, not misreads."""
    doc = claim(diagnosis_codes=["U07.1", "U09.9"], service_lines=_line(0, procedure_code="0001A"))
    assert check_claim(doc, TODAY, PARAMS) == []
    doc = claim(service_lines=_line(0, procedure_code="0002M"))
    assert check_claim(doc, TODAY, PARAMS) == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"billing_provider_npi": "2881346533"}, "invalid_npi", "billing_provider_npi"),
        (
            {"service_lines": _line(1, rendering_npi="1630873821")},
            "invalid_npi",
            "service_lines[1].rendering_npi",
        ),
        ({"diagnosis_codes": ["M54.50", "K59.0000X"]}, "invalid_icd10", "diagnosis_codes[1]"),
        ({"diagnosis_codes": ["M54.50", "250.00"]}, "invalid_icd10", "diagnosis_codes[1]"),
        # a category's third character is a digit, or A/B in seven categories (M1A, C4A, ...)
        ({"diagnosis_codes": ["M1A.0", "R0O.59"]}, "invalid_icd10", "diagnosis_codes[1]"),
        ({"icd_indicator": "9"}, "invalid_icd_indicator", "icd_indicator"),
        (
            {"service_lines": _line(0, procedure_code="J07")},
            "invalid_cpt",
            "service_lines[0].procedure_code",
        ),
        (
            {"service_lines": _line(2, modifiers=["50", "TCX"])},
            "invalid_modifier",
            "service_lines[2].modifiers",
        ),
        (
            {"service_lines": _line(0, pointers="C")},
            "bad_diagnosis_pointer",
            "service_lines[0].pointers",
        ),
        (
            {"service_lines": _line(0, pointers="M")},
            "bad_diagnosis_pointer",
            "service_lines[0].pointers",
        ),
        (
            {"service_lines": _line(3, place_of_service="29")},
            "invalid_place_of_service",
            "service_lines[3].place_of_service",
        ),
        ({"total_amount": "1928.60"}, "total_mismatch", "total_amount"),
        ({"amount_paid": "2000.00"}, "amount_paid_exceeds_total", "amount_paid"),
        ({"patient_birth_date": "2026-03-17"}, "service_before_birth", "service_date_from"),
        (
            {"service_lines": _line(0, date_from="2026-06-10", date_to="2026-06-10")},
            "date_in_future",
            "service_lines[0].date_from",
        ),
        ({"federal_tax_id": "00-0000000"}, "invalid_tax_id", "federal_tax_id"),
    ],
)
def test_claim_rule_fails(changes: dict[str, Any], code: str, field: str) -> None:
    findings = check_claim(claim(**changes), TODAY, PARAMS)
    assert (code, field) in [(f.code, f.field) for f in findings], findings


def test_claim_total_message_names_the_boxes() -> None:
    (finding,) = check_claim(claim(total_amount="1928.60"), TODAY, PARAMS)
    assert (
        finding.message
        == "Total charge 1928.60 (box 28) ≠ sum of the 4 line charges 1928.06 (24F)."
    )


# --- duplicates and master data -------------------------------------------------------------


def test_duplicates_against_history() -> None:
    history = InMemoryHistory()
    history.add(
        "old1", "acme", "invoice", "Kraxi GmbH", "2019-03", Decimal("1005.55"), dt.date(2019, 5, 8)
    )
    history.add("old2", "other", "invoice", "Wolf AG", "W-1", Decimal("10.00"), dt.date(2019, 5, 8))
    same_number = invoice(vendor_name="KRAXI GMBH", invoice_number="2019 03", total_amount="1.00",
                          invoice_date="2019-06-30")  # a corrected bill weeks later
    found = check_history(DocType.INVOICE, same_number, history, "acme", "new")
    assert codes(found) == ["duplicate"] and "old1" in found[0].message
    # the number used again for another bill years later (numbering that starts each year)
    reused = invoice(vendor_name="Kraxi GmbH", invoice_number="2019-03", total_amount="99.00",
                     invoice_date="2023-05-08")
    assert check_history(DocType.INVOICE, reused, history, "acme", "new") == []
    resent = invoice(vendor_name="Kraxi GmbH", invoice_number="2019-03", total_amount="1005.55",
                     invoice_date="2023-05-08")  # the same total: held, whatever the date
    assert codes(check_history(DocType.INVOICE, resent, history, "acme", "new")) == ["duplicate"]
    undated = invoice(vendor_name="Kraxi GmbH", invoice_number="2019-03", total_amount="99.00")
    assert codes(check_history(DocType.INVOICE, undated, history, "acme", "new")) == ["duplicate"]
    same_total_date = invoice(
        vendor_name="Kraxi", invoice_number="X-9", total_amount="1005.55", invoice_date="2019-05-08"
    )
    assert codes(check_history(DocType.INVOICE, same_total_date, history, "acme", "new")) == [
        "duplicate"
    ]
    other_bill = invoice(
        vendor_name="Kraxi GmbH",
        invoice_number="2019-04",
        total_amount="99.00",
        invoice_date="2019-05-08",
    )
    assert check_history(DocType.INVOICE, other_bill, history, "acme", "new") == []
    # another client's history is never consulted, and a document does not duplicate itself
    wolf = invoice(vendor_name="Wolf AG", invoice_number="W-1")
    assert check_history(DocType.INVOICE, wolf, history, "acme", "new") == []
    assert check_history(DocType.INVOICE, same_number, history, "acme", "old1") == []


def test_vendor_master_and_open_pos(tmp_path: Path) -> None:
    (tmp_path / "vendors.csv").write_text(
        "name,aliases,vat,vendor_id\nKraxi GmbH,Kraxi Drachen,DE136695976,V1\nAmazon Web "
        "Services Inc.,AWS,,V2\n"
    )
    (tmp_path / "pos.csv").write_text("po_number,vendor_name\nPO-4711,Kraxi GmbH\n")
    master = load_vendor_master(tmp_path / "vendors.csv")
    pos = load_open_pos(tmp_path / "pos.csv")
    known = invoice(vendor_name="KRAXI GMBH.", po_number="po 4711")
    assert check_master_data(DocType.INVOICE, known, master, pos, 88, [DocType.INVOICE]) == []
    fuzzy = invoice(vendor_name="Amazon Web Servces")  # OCR dropped a letter
    assert check_master_data(DocType.INVOICE, fuzzy, master, pos, 88, [DocType.INVOICE]) == []
    stranger = invoice(vendor_name="Papierflieger-Vertriebs-GmbH", po_number="PO-9999")
    found = check_master_data(DocType.INVOICE, stranger, master, pos, 88, [DocType.INVOICE])
    assert codes(found) == ["unknown_vendor", "unknown_po"]
    other_vat = invoice(vendor_name="Kraxi GmbH", vendor_vat="NL004495445B01")
    assert codes(
        check_master_data(DocType.INVOICE, other_vat, master, None, 88, [DocType.INVOICE])
    ) == ["vendor_vat_mismatch"]
    receipt, _ = coerce_values(DocType.RECEIPT, {"vendor_name": "Papierflieger"})
    assert isinstance(receipt, Receipt)
    assert check_master_data(DocType.RECEIPT, receipt, master, pos, 88, [DocType.INVOICE]) == []
