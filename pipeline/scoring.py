"""The one scorer shared by ``docflow eval`` and the tests: is a predicted value right?

Values are compared in the label format after normalisation: amounts as 2-decimal strings, dates
ISO, names and addresses case-folded with whitespace removed, identifiers without spaces,
dots or dashes between their characters (``DE 232 446 240`` = ``DE232446240``; a leading ``#`` is
the word "number", not part of it), quantities numerically, lists element by element in order.
Only fields whose label is not null are scored, and within a list item (a line item, a service
line) only the keys whose label is not null: ZUGFeRD 1.0 BASIC XML carries no net unit price, so
its labels give ``unit_price: null`` for lines whose printed price a reader rightly finds.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MONEY_FIELDS = frozenset(
    {
        "total_amount",
        "subtotal",
        "tax_amount",
        "amount_due",
        "amount_paid",
        "unit_price",
        "amount",
        "charges",
    }
)
DATE_FIELDS = frozenset(
    {
        "invoice_date",
        "due_date",
        "patient_birth_date",
        "service_date_from",
        "service_date_to",
        "date_from",
        "date_to",
    }
)
ID_FIELDS = frozenset(
    {
        "invoice_number",
        "po_number",
        "vendor_vat",
        "insured_id",
        "billing_provider_npi",
        "federal_tax_id",
        "patient_account_number",
        "rendering_npi",
        "procedure_code",
        "place_of_service",
    }
)
NUMBER_FIELDS = frozenset({"quantity", "units"})
CODE_FIELDS = frozenset({"currency"})

INVOICE_FIELDS = (
    "vendor_name",
    "address",
    "vendor_vat",
    "invoice_number",
    "invoice_date",
    "due_date",
    "po_number",
    "currency",
    "subtotal",
    "tax_amount",
    "total_amount",
    "buyer_name",
    "line_items",
)
RECEIPT_FIELDS = (
    "vendor_name",
    "address",
    "invoice_date",
    "total_amount",
    "currency",
    "invoice_number",
)
CLAIM_FIELDS = (
    "patient_name",
    "patient_birth_date",
    "insured_id",
    "payer_name",
    "vendor_name",
    "address",
    "billing_provider_npi",
    "federal_tax_id",
    "patient_account_number",
    "diagnosis_codes",
    "service_lines",
    "total_amount",
    "amount_paid",
    "service_date_from",
    "service_date_to",
    "currency",
    "invoice_number",
    "invoice_date",
)
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "invoice": INVOICE_FIELDS,
    "receipt": RECEIPT_FIELDS,
    "claim": CLAIM_FIELDS,
}


def scored_fields(doc_type: str, label_fields: dict[str, Any]) -> list[str]:
    """The label's non-null fields that the product extracts for this document type."""
    known = FIELDS_BY_TYPE.get(doc_type, INVOICE_FIELDS)
    return [name for name in known if label_fields.get(name) is not None]


def _text(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text.casefold())


def _money(value: Any) -> str | None:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


def _date(value: Any) -> str | None:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    text = str(value).strip()
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text) else text


def _number(value: Any) -> Decimal | str:
    try:
        return Decimal(str(value).strip()).normalize()
    except (InvalidOperation, ValueError):
        return _text(value)


def _ident(value: Any) -> str:
    text = _text(value)
    text = re.sub(r"^(?:#|no\.?|nr\.?|n°)+", "", text)
    return re.sub(r"[.\-/_:]", "", text).upper()


def normalise(name: str, value: Any) -> Any:
    """A value in its comparable form (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [normalise(name, v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(k, v) for k, v in sorted(value.items())}
    if name in MONEY_FIELDS:
        return _money(value)
    if name in DATE_FIELDS:
        return _date(value)
    if name in NUMBER_FIELDS:
        return _number(value)
    if name in ID_FIELDS:
        return _ident(value)
    if name in CODE_FIELDS:
        return str(value).strip().upper()
    if name == "diagnosis_codes":
        return _ident(value)
    return _text(value)


LIST_ITEM_KEYS: dict[str, tuple[str, ...]] = {
    "line_items": ("description", "quantity", "unit_price", "amount"),
    "service_lines": ("date_from", "date_to", "procedure_code", "modifiers", "charges", "units"),
}
"""The keys of list items in the label schema; extra keys we extract (a service line's
rendering NPI, pointers, place of service) are not part of it and not scored."""


def label_view(name: str, value: Any) -> Any:
    """A predicted value cut to the label schema (list items keep only the schema's keys)."""
    keys = LIST_ITEM_KEYS.get(name)
    if keys and isinstance(value, list):
        return [{k: item.get(k) for k in keys} if isinstance(item, dict) else item for item in value]
    return value


def _on_given_keys(expected: list[Any], got: Any) -> tuple[list[Any], Any]:
    """Each expected list item cut to the keys its label gives (not null), and each predicted
    item, when the lists pair up, to the same keys."""
    given = [
        [k for k, v in e.items() if v is not None] if isinstance(e, dict) else None for e in expected
    ]

    def cut(item: Any, keys: list[str] | None) -> Any:
        return {k: item.get(k) for k in keys} if keys is not None and isinstance(item, dict) else item

    expected = [cut(e, keys) for e, keys in zip(expected, given, strict=True)]
    if isinstance(got, list) and len(got) == len(expected):
        got = [cut(g, keys) for g, keys in zip(got, given, strict=True)]
    return expected, got


def is_correct(name: str, expected: Any, got: Any) -> bool:
    if expected is None:
        raise ValueError(f"{name}: null labels are not scored")
    if got is None:
        return False
    expected, got = label_view(name, expected), label_view(name, got)
    if name in LIST_ITEM_KEYS and isinstance(expected, list):
        expected, got = _on_given_keys(expected, got)
    return bool(normalise(name, expected) == normalise(name, got))


def score_fields(
    doc_type: str, label_fields: dict[str, Any], predicted: dict[str, Any]
) -> dict[str, bool]:
    """{field: correct} for every scored field of one document (predicted in label format)."""
    return {
        name: is_correct(name, label_fields[name], predicted.get(name))
        for name in scored_fields(doc_type, label_fields)
    }
