"""Typed views of an extraction per document type, and ``coerce`` that never crashes.

The extractors give typed values already; the review page gives label-format strings
("123.45", "2024-05-01"). Both go through the same models, so the same value is judged the same
way wherever it comes from. A value that does not fit its type becomes an ``invalid_value``
finding (``invalid_currency`` for a currency) and is left out of the model, so that the other
rules still run on the rest of the document.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from core.models import DocType, Extraction, Finding, Severity
from validators.tables import CURRENCIES, CURRENCY_SYMBOLS

_CUSTOM_CODES = {"invalid_currency"}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _to_date(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise PydanticCustomError("date_type", "a number is not a date")
    if isinstance(value, str):
        return (
            value.strip()[:10]
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", value.strip())
            else value
        )
    return value


def _to_decimal(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _to_text(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


def _to_code(value: Any) -> Any:
    value = _to_text(value)
    return value.replace(" ", "").upper() if isinstance(value, str) else value


def _to_currency(value: Any) -> Any:
    value = _to_text(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_currency", "not a currency code")
    code = CURRENCY_SYMBOLS.get(value, value.upper())
    if code not in CURRENCIES:
        raise PydanticCustomError("invalid_currency", "not an ISO 4217 currency code")
    return code


def _to_str_list(value: Any) -> Any:
    """``"50 TC"``, ``"50,TC"`` or ``["50", "TC"]`` → ``["50", "TC"]``."""
    value = _blank_to_none(value)
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value.strip().upper()) if part]
    if isinstance(value, list):
        return [str(v).strip().upper() for v in value if v is not None and str(v).strip()]
    return value


def _to_pointers(value: Any) -> Any:
    """Box 24E: ``"AB"``, ``"A,B"`` or ``["A", "B"]`` → ``["A", "B"]`` (one letter each)."""
    value = _blank_to_none(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{1,4}", value.strip()):
        return list(value.strip().upper())
    return _to_str_list(value)


def _to_list(value: Any) -> Any:
    value = _blank_to_none(value)
    return [] if value is None else value


Money = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
Quantity = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
Date = Annotated[dt.date | None, BeforeValidator(_to_date)]
Text = Annotated[str | None, BeforeValidator(_to_text)]
Code = Annotated[str | None, BeforeValidator(_to_code)]
Currency = Annotated[str | None, BeforeValidator(_to_currency)]
CodeList = Annotated[list[str], BeforeValidator(_to_str_list)]
Pointers = Annotated[list[str], BeforeValidator(_to_pointers)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class LineItem(_Model):
    description: Text = None
    quantity: Quantity = None
    unit_price: Money = None
    amount: Money = None
    parent: Text = None
    """The line this one details (a sub-invoice line's ``ParentLineID``): its amount is already
    in the parent's, so only lines without a parent add up to the line total."""


class ServiceLine(_Model):
    date_from: Date = None
    date_to: Date = None
    place_of_service: Code = None
    procedure_code: Code = None
    modifiers: CodeList = []
    pointers: Pointers = []
    charges: Money = None
    units: Quantity = None
    rendering_npi: Code = None


class Receipt(_Model):
    vendor_name: Text = None
    address: Text = None
    vendor_vat: Code = None
    invoice_number: Text = None
    invoice_date: Date = None
    currency: Currency = None
    subtotal: Money = None
    tax_amount: Money = None
    total_amount: Money = None
    line_items: Annotated[list[LineItem], BeforeValidator(_to_list)] = []
    lines_total: Money = None
    """Sum of the line amounts as the document states it (e-invoices carry it)."""
    allowance_total: Money = None
    """Document-level discounts (Rabatt, remise) between the lines and the subtotal."""
    charge_total: Money = None
    """Document-level charges (freight, packing) between the lines and the subtotal."""


class Invoice(Receipt):
    due_date: Date = None
    po_number: Text = None
    buyer_name: Text = None
    iban: Code = None


class Claim(_Model):
    patient_name: Text = None
    patient_birth_date: Date = None
    insured_id: Text = None
    payer_name: Text = None
    vendor_name: Text = None
    address: Text = None
    billing_provider_npi: Code = None
    federal_tax_id: Text = None
    patient_account_number: Text = None
    icd_indicator: Code = None
    diagnosis_codes: CodeList = []
    service_lines: Annotated[list[ServiceLine], BeforeValidator(_to_list)] = []
    total_amount: Money = None
    amount_paid: Money = None
    currency: Currency = None
    service_date_from: Date = None
    service_date_to: Date = None


Document = Invoice | Receipt | Claim

MODELS: dict[DocType, type[Invoice] | type[Receipt] | type[Claim]] = {
    DocType.INVOICE: Invoice,
    DocType.RECEIPT: Receipt,
    DocType.CLAIM: Claim,
}

LIST_FIELDS = {"line_items", "service_lines", "diagnosis_codes"}


def field_names(doc_type: DocType) -> list[str]:
    model = MODELS.get(doc_type)
    return [] if model is None else list(model.model_fields)


def label(name: str) -> str:
    """``invoice_date`` → ``Invoice date`` (how a reviewer reads a field name)."""
    return name.replace("_", " ").capitalize()


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def human_field(loc: tuple[int | str, ...]) -> str:
    """``("line_items", 1, "amount")`` → ``Line items #2 amount``."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"#{part + 1}")
        else:
            parts.append(label(str(part)) if not parts else str(part).replace("_", " "))
    return " ".join(parts)


def _message(loc: tuple[int | str, ...], value: Any, kind: str) -> str:
    shown = repr(value) if isinstance(value, str) else str(value)
    if len(shown) > 60:
        shown = shown[:57] + "…"
    return f"{human_field(loc)} {shown} is not a valid {kind}."


_KINDS = {
    "date": "date",
    "decimal": "amount",
    "string": "text",
    "list": "list",
    "model": "entry",
    "invalid_currency": "ISO 4217 currency code",
}


def _kind(error_type: str) -> str:
    for prefix, kind in _KINDS.items():
        if error_type.startswith(prefix) or error_type == prefix:
            return kind
    return "value"


def coerce_values(
    doc_type: DocType, values: dict[str, Any]
) -> tuple[Document | None, list[Finding]]:
    """Build the typed model of ``doc_type`` from plain values; bad values become findings."""
    model = MODELS.get(doc_type)
    if model is None:
        return None, []
    data = {k: v for k, v in values.items() if k in model.model_fields}
    findings: list[Finding] = []
    for _ in range(len(data) + 1):
        try:
            return model.model_validate(data), findings
        except ValidationError as exc:
            bad_top: set[str] = set()
            for err in exc.errors():
                loc = err["loc"]
                top = str(loc[0]) if loc else ""
                field = _loc_to_field(loc) or top
                code = err["type"] if err["type"] in _CUSTOM_CODES else "invalid_value"
                findings.append(
                    Finding(
                        code=code,
                        severity=Severity.ERROR,
                        field=field,
                        message=_message(loc, err.get("input"), _kind(err["type"])),
                    )
                )
                bad_top.add(top)
            for top in bad_top:
                data.pop(top, None)
    return None, findings  # pragma: no cover - every round removes at least one field


def coerce(extraction: Extraction) -> tuple[Document | None, list[Finding]]:
    """The typed model of an extraction (bad fields left out) and one finding per bad value."""
    values = {name: f.value for name, f in extraction.fields.items()}
    return coerce_values(extraction.doc_type, values)
