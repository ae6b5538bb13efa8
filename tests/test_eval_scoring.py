"""The shared scorer: what counts as a correct field (eval and tests use the same rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.models import to_label_value
from pipeline.scoring import is_correct, normalise, score_fields, scored_fields


@pytest.mark.parametrize(
    ("name", "expected", "got", "ok"),
    [
        ("total_amount", "1939.00", "1939.00", True),
        ("total_amount", "1939.00", to_label_value(Decimal("1939")), True),
        ("total_amount", "1939.00", "1939.01", False),
        ("total_amount", "-8.79", "8.79", False),
        ("invoice_date", "2014-05-07", to_label_value(dt.date(2014, 5, 7)), True),
        ("invoice_date", "2014-05-07", "2014-07-05", False),
        ("vendor_name", "Coolblue B.V.", "COOLBLUE  B.V.", True),
        ("vendor_name", "Coolblue B.V.", "Coolblue BV", False),
        ("address", "NO.53, JALAN BESAR,45600 BATANG", "NO.53, JALAN BESAR, 45600 BATANG", True),
        ("vendor_vat", "DE 232 446 240", "DE232446240", True),
        ("invoice_number", "#BLR_WFLD20151000982590", "BLR_WFLD20151000982590", True),
        ("invoice_number", "2019-03", "2019-08", False),
        ("currency", "EUR", "eur", True),
        (
            "line_items",
            [
                {
                    "description": "Superdrachen",
                    "quantity": "2",
                    "unit_price": "20.00",
                    "amount": "40.00",
                }
            ],
            [
                {
                    "description": "superdrachen",
                    "quantity": "2.00",
                    "unit_price": "20.00",
                    "amount": "40.00",
                }
            ],
            True,
        ),
        (
            "line_items",
            [{"description": "A", "quantity": "1", "unit_price": None, "amount": "1.00"}],
            [],
            False,
        ),
        # a key the label leaves null (ZUGFeRD 1.0 BASIC has no net price) is not scored...
        (
            "line_items",
            [{"description": "Storch", "quantity": "10", "unit_price": None, "amount": "200.00"}],
            [{"description": "Storch", "quantity": "10", "unit_price": "20.00", "amount": "200.00"}],
            True,
        ),
        # ...but the keys it gives still are, and so is the number of lines
        (
            "line_items",
            [{"description": "Storch", "quantity": "10", "unit_price": None, "amount": "200.00"}],
            [{"description": "Storch", "quantity": None, "unit_price": "20.00", "amount": "200.00"}],
            False,
        ),
        (
            "line_items",
            [{"description": "Storch", "quantity": "10", "unit_price": None, "amount": "200.00"}],
            [
                {"description": "Storch", "quantity": "10", "unit_price": None, "amount": "200.00"},
                {"description": "Adler", "quantity": "1", "unit_price": None, "amount": "75.00"},
            ],
            False,
        ),
        ("diagnosis_codes", ["E11.9", "I10"], ["E119", "I10"], True),
        ("diagnosis_codes", ["E11.9", "I10"], ["I10", "E11.9"], False),
    ],
)
def test_is_correct(name: str, expected: object, got: object, ok: bool) -> None:
    assert is_correct(name, expected, got) is ok


def test_missing_prediction_is_wrong_and_null_labels_are_not_scored() -> None:
    label = {
        "vendor_name": "OYO",
        "invoice_number": None,
        "total_amount": "1939.00",
        "address": None,
    }
    assert scored_fields("invoice", label) == ["vendor_name", "total_amount"]
    assert score_fields("invoice", label, {"vendor_name": "oyo"}) == {
        "vendor_name": True,
        "total_amount": False,
    }
    with pytest.raises(ValueError):
        is_correct("invoice_number", None, "x")


def test_quantities_compare_as_numbers() -> None:
    assert normalise("quantity", "2.0000") == normalise("quantity", "2")
    assert normalise("quantity", "1.5") != normalise("quantity", "15")
