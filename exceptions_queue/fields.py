"""Field values as a reviewer types them ↔ the typed values of ``core.models.Field``.

A correction arrives as text (or a list of row dicts for line items); it is parsed to the type the
rest of docflow expects (Decimal money, ``datetime.date`` dates, lists), and compared in the label
format so that ``100`` → ``100.00`` is not counted as a correction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from core.models import DocType, to_label_value

MONEY_FIELDS = frozenset({"subtotal", "tax_amount", "total_amount", "amount_paid"})
DATE_FIELDS = frozenset(
    {"invoice_date", "due_date", "patient_birth_date", "service_date_from", "service_date_to"}
)
LIST_FIELDS: dict[str, tuple[str, ...]] = {
    # parent: the line a sub-invoice line details (its amount is already in the parent's)
    "line_items": ("description", "quantity", "unit_price", "amount", "parent"),
    "service_lines": (
        "date_from", "date_to", "procedure_code", "modifiers", "units", "charges",
        "rendering_npi", "pointers", "place_of_service",
    ),
}
SPARSE_COLUMNS = frozenset({"parent"})
"""Row columns the review page shows only for a document that fills them."""
SCALAR_LIST_FIELDS = frozenset({"diagnosis_codes"})
ROW_MONEY = frozenset({"quantity", "unit_price", "amount", "charges", "units"})
ROW_DATES = frozenset({"date_from", "date_to"})

CATALOG: dict[str, tuple[str, ...]] = {
    DocType.INVOICE.value: (
        "vendor_name", "address", "vendor_vat", "buyer_name", "invoice_number", "invoice_date",
        "due_date", "po_number", "currency", "subtotal", "tax_amount", "total_amount", "line_items",
    ),
    DocType.RECEIPT.value: (
        "vendor_name", "address", "invoice_date", "currency", "tax_amount", "total_amount",
    ),
    DocType.CLAIM.value: (
        "patient_name", "patient_birth_date", "insured_id", "payer_name", "vendor_name", "address",
        "billing_provider_npi", "federal_tax_id", "patient_account_number", "diagnosis_codes",
        "service_date_from", "service_date_to", "total_amount", "amount_paid", "service_lines",
    ),
}
"""The fields a reviewer can fill in per document type, in reading order."""


class FieldValueError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def catalog(doc_type: str | None, present: list[str]) -> list[str]:
    """The canonical fields of ``doc_type`` followed by any other field the extraction has."""
    names = list(CATALOG.get(doc_type or "", ()))
    return names + [n for n in present if n not in names]


def is_list_field(name: str) -> bool:
    return name in LIST_FIELDS


def columns(name: str) -> tuple[str, ...]:
    return LIST_FIELDS.get(name, ())


def _money(field: str, text: str) -> Decimal:
    cleaned = re.sub(r"[^\d,.\-]", "", text)
    if cleaned.count(",") and cleaned.count("."):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and len(cleaned.rsplit(",", 1)[1]) == 2:
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise FieldValueError(field, f"{text!r} is not an amount") from exc
    if not value.is_finite():
        raise FieldValueError(field, f"{text!r} is not an amount")
    return value


def _date(field: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise FieldValueError(field, f"{text!r} is not a date (YYYY-MM-DD)") from exc


def parse_scalar(name: str, value: Any) -> Any:
    """A typed value from text; ``None`` for blank."""
    if value is None:
        return None
    if isinstance(value, (Decimal, dt.date)) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text:
        return None
    if name in MONEY_FIELDS:
        return _money(name, text)
    if name in DATE_FIELDS:
        return _date(name, text)
    return text


def _parse_row(name: str, row: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for col in columns(name):
        raw = row.get(col)
        if isinstance(raw, list):
            out[col] = [str(v).strip() for v in raw if str(v).strip()]
            continue
        text = "" if raw is None else str(raw).strip()
        if not text:
            out[col] = None
        elif col in ROW_MONEY:
            out[col] = _money(f"{name}.{col}", text)
        elif col in ROW_DATES:
            out[col] = _date(f"{name}.{col}", text)
        elif col in {"modifiers", "pointers"}:
            out[col] = [p for p in re.split(r"[\s,]+", text) if p]
        else:
            out[col] = text
    if all(v in (None, []) for v in out.values()):
        return None
    return out


def parse_value(name: str, value: Any) -> Any:
    """Parse a reviewer's value (text, or rows for list fields); FieldValueError if unreadable."""
    if name in LIST_FIELDS:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise FieldValueError(name, "expected a table of rows") from exc
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise FieldValueError(name, "expected a table of rows")
        rows = [_parse_row(name, r) for r in value]
        return [r for r in rows if r is not None]
    if name in SCALAR_LIST_FIELDS:
        if value is None:
            return []
        items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value))
        return [str(v).strip() for v in items if str(v).strip()]
    return parse_scalar(name, value)


def typed_from_json(name: str, value: Any) -> Any:
    """The typed value of a field stored in the extraction JSON (strings for money and dates)."""
    try:
        return parse_value(name, value)
    except FieldValueError:
        return value


def as_text(value: Any) -> str | None:
    """A value in label format as one text cell (audit log, corrections)."""
    label = to_label_value(value)
    if label is None or label == [] or label == "":
        return None
    if isinstance(label, (list, dict)):
        return json.dumps(label, sort_keys=True, default=str)
    return str(label)


def display(value: Any) -> str:
    """A scalar value as the form shows it."""
    label = to_label_value(value)
    if label is None:
        return ""
    if isinstance(label, list):
        return ", ".join(str(v) for v in label)
    return str(label)
