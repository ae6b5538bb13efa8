"""validators.models: typed documents; bad values become findings, never exceptions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.models import DocType, Extraction, Field
from validators.models import Claim, Invoice, coerce, coerce_values


def _extraction(doc_type: DocType, **values: object) -> Extraction:
    return Extraction(
        doc_type=doc_type,
        fields={k: Field(name=k, value=v, confidence=0.99) for k, v in values.items()},
    )


def test_typed_values_pass_through() -> None:
    doc, findings = coerce(
        _extraction(
            DocType.INVOICE,
            vendor_name="Kraxi GmbH",
            invoice_date=dt.date(2019, 5, 8),
            total_amount=Decimal("1005.55"),
            currency="EUR",
            line_items=[
                {
                    "description": "Storch",
                    "quantity": Decimal("10"),
                    "unit_price": Decimal("20.00"),
                    "amount": Decimal("200.00"),
                }
            ],
        )
    )
    assert findings == []
    assert isinstance(doc, Invoice)
    assert doc.total_amount == Decimal("1005.55")
    assert doc.invoice_date == dt.date(2019, 5, 8)
    assert doc.line_items[0].amount == Decimal("200.00")


def test_label_format_strings_are_parsed() -> None:
    doc, findings = coerce_values(
        DocType.INVOICE,
        {
            "total_amount": "1939.00",
            "invoice_date": "2024-02-29",
            "currency": " usd ",
            "invoice_number": 12345,
        },
    )
    assert findings == []
    assert doc is not None and doc.total_amount == Decimal("1939.00")
    assert doc.invoice_date == dt.date(2024, 2, 29)
    assert doc.currency == "USD"
    assert doc.invoice_number == "12345"


def test_bad_values_become_findings_and_the_rest_survives() -> None:
    doc, findings = coerce_values(
        DocType.INVOICE,
        {
            "vendor_name": "ACME",
            "invoice_date": "2023-02-30",
            "total_amount": "12,3x",
            "currency": "Euro",
        },
    )
    by_field = {f.field: f for f in findings}
    assert by_field["invoice_date"].code == "invalid_value"
    assert "'2023-02-30' is not a valid date" in by_field["invoice_date"].message
    assert by_field["total_amount"].code == "invalid_value"
    assert by_field["currency"].code == "invalid_currency"
    assert isinstance(doc, Invoice)
    assert doc.vendor_name == "ACME" and doc.total_amount is None and doc.invoice_date is None


def test_bad_nested_value_names_the_line() -> None:
    _, findings = coerce_values(
        DocType.INVOICE, {"line_items": [{"amount": "1.00"}, {"amount": "n/a"}]}
    )
    assert [(f.code, f.field) for f in findings] == [("invalid_value", "line_items[1].amount")]
    assert findings[0].message.startswith("Line items #2 amount 'n/a'")


@pytest.mark.parametrize("garbage", [object(), {"a": 1}, [1, 2], float("nan"), True])
def test_garbage_never_raises(garbage: object) -> None:
    values = {name: garbage for name in Claim.model_fields}
    doc, findings = coerce_values(DocType.CLAIM, values)
    assert doc is not None
    assert findings, "garbage in every field must be reported"
    assert all(f.code in {"invalid_value", "invalid_currency"} for f in findings)


def test_claim_lists_are_normalised() -> None:
    doc, findings = coerce_values(
        DocType.CLAIM,
        {
            "diagnosis_codes": ["m54.50", "K59.00"],
            "service_lines": [
                {"pointers": "BA", "modifiers": "50 tc", "charges": "349.74", "units": "1"}
            ],
        },
    )
    assert findings == []
    assert isinstance(doc, Claim)
    assert doc.diagnosis_codes == ["M54.50", "K59.00"]
    assert doc.service_lines[0].pointers == ["B", "A"]
    assert doc.service_lines[0].modifiers == ["50", "TC"]


def test_unknown_doc_type_has_no_model() -> None:
    assert coerce(_extraction(DocType.UNKNOWN, total_amount=Decimal("1"))) == (None, [])
