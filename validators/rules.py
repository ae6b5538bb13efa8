"""Business rules over one typed document: sums, dates, identifiers, claim codes, duplicates,
master data. Pure functions: the inputs they need (today, history, vendor master) are passed in.

Each rule returns findings with a code, a severity, the field and one sentence for a reviewer;
``run_rules`` runs every rule that applies to a document type.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypedDict

import stdnum
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import ein, ssn

from core.codes import CPT_HCPCS, ICD10_CM
from core.models import DocType, Finding, Severity
from validators.history import History
from validators.masterdata import OpenPOs, VendorMaster
from validators.models import Claim, Document, Receipt, ServiceLine
from validators.tables import DIAGNOSIS_POINTER_LETTERS, PLACES_OF_SERVICE

MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
NPI = re.compile(r"^[0-9]{10}$")
CENT = Decimal("0.01")


class RuleParams(BaseModel):
    """The tunable numbers of the rules (the ``rules:`` part of a client's policy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount_tolerance: Decimal = PydField(Decimal("0.02"), ge=0)
    max_age_days: int = PydField(1825, ge=1)
    future_grace_days: int = PydField(1, ge=0)
    max_patient_age_years: int = PydField(120, ge=1)


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def _f(code: str, field: str | None, message: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(code=code, severity=severity, field=field, message=message)


# --- arithmetic -----------------------------------------------------------------------------


CREDIT_AMOUNTS = ("total_amount", "subtotal", "tax_amount", "amount_due", "lines_total")
"""The amounts that a credit note or a correction states below zero, all together."""


def is_credit(doc: Document) -> bool:
    """A bill whose total and at least one other sum are below zero and none of whose sums is
    above it: a credit note, or the correction of an earlier invoice (``RECHNUNGS-KORREKTUR``:
    -7.67 + -1.12 = -8.79). A minus sign misread on one amount leaves the others positive or
    missing, so it stays a negative total that the data-quality suite rejects."""
    if not isinstance(doc, Receipt) or doc.total_amount is None or doc.total_amount >= 0:
        return False
    others = [getattr(doc, name, None) for name in CREDIT_AMOUNTS[1:]]
    present = [a for a in others if a is not None]
    return any(a < 0 for a in present) and all(a <= 0 for a in present)


def check_credit(doc: Receipt) -> list[Finding]:
    """A credit note or correction says so among the findings (an INFO: it blocks nothing)."""
    if not is_credit(doc) or doc.total_amount is None:
        return []
    return [
        _f(
            "credit_note",
            "total_amount",
            f"All amounts are below zero (total {money(doc.total_amount)}): a credit note or the "
            "correction of an earlier invoice, to be booked as a credit.",
            Severity.INFO,
        )
    ]


def check_totals(doc: Receipt, params: RuleParams) -> list[Finding]:
    """subtotal + tax = total (within the rounding tolerance)."""
    sub, tax, total, tol = doc.subtotal, doc.tax_amount, doc.total_amount, params.amount_tolerance
    if sub is None or total is None:
        return []
    if is_credit(doc):  # the sums of a credit note hold below zero: compare their sizes
        sub, total, tax = -sub, -total, (-tax if tax is not None else None)
    if tax is not None:
        expected = sub + tax
        if abs(expected - total) > tol:
            return [
                _f(
                    "total_mismatch",
                    "total_amount",
                    f"Total {money(total)} ≠ subtotal {money(sub)} + tax {money(tax)} ({money(expected)}).",
                )
            ]
    elif total + tol < sub:
        return [
            _f(
                "total_mismatch",
                "total_amount",
                f"Total {money(total)} is below the subtotal {money(sub)}.",
            )
        ]
    return []


def check_line_items(doc: Receipt, params: RuleParams) -> list[Finding]:
    """Line amounts add up to the subtotal (or to the total when lines include tax), lines that
    detail another line left out; quantity × unit price = amount on each line (a warning: unit
    prices are often rounded)."""
    findings: list[Finding] = []
    tol = params.amount_tolerance
    for i, item in enumerate(doc.line_items):
        if item.quantity is not None and item.unit_price is not None and item.amount is not None:
            expected = item.quantity * item.unit_price
            if abs(expected - item.amount) > max(tol, abs(item.quantity) * Decimal("0.005")):
                findings.append(
                    _f(
                        "line_amount_mismatch",
                        f"line_items[{i}].amount",
                        f"Line {i + 1}: {item.quantity.normalize():f} × {money(item.unit_price)} = "
                        f"{money(expected)}, but the line says {money(item.amount)}.",
                        Severity.WARNING,
                    )
                )
    amounts = [item.amount for item in doc.line_items if item.parent is None]
    if not amounts or any(a is None for a in amounts):
        return findings
    lines_sum = sum((a for a in amounts if a is not None), Decimal("0"))
    if doc.lines_total is not None and abs(lines_sum - doc.lines_total) > tol:
        findings.append(
            _f(
                "line_items_mismatch",
                "line_items",
                f"The {len(amounts)} line amounts add up to {money(lines_sum)}, not to the stated "
                f"line total {money(doc.lines_total)}.",
            )
        )
        return findings
    if doc.lines_total is not None and doc.allowance_total is None and doc.charge_total is None:
        # The lines add up to their stated sum; what takes that sum to the subtotal (allowances,
        # charges) was not read, so the subtotal cannot be checked against the lines. (An
        # e-invoice's XML states both totals: there, absent means none; see facturx.)
        return findings
    allowances, charges = doc.allowance_total or Decimal("0"), doc.charge_total or Decimal("0")
    net = lines_sum - allowances + charges
    after = ""
    if allowances or charges:
        after = f" (after {money(allowances)} allowances and {money(charges)} charges: {money(net)})"
    targets: list[tuple[str, Decimal]] = []
    if doc.subtotal is not None:
        targets.append(("subtotal", doc.subtotal))
    if doc.total_amount is not None:
        targets.append(("total", doc.total_amount))
        if doc.subtotal is None and doc.tax_amount is not None:
            targets.append(("total − tax", doc.total_amount - doc.tax_amount))
    if targets and all(abs(net - value) > tol for _, value in targets):
        name, value = targets[0]
        findings.append(
            _f(
                "line_items_mismatch",
                "line_items",
                f"The {len(amounts)} line amounts add up to {money(lines_sum)}{after}, not to the "
                f"{name} {money(value)}.",
            )
        )
    return findings


# --- dates ----------------------------------------------------------------------------------


def _future(
    field: str, what: str, value: dt.date | None, today: dt.date, params: RuleParams
) -> list[Finding]:
    if value is not None and value > today + dt.timedelta(days=params.future_grace_days):
        return [
            _f(
                "date_in_future",
                field,
                f"{what} {value.isoformat()} is in the future (today is {today.isoformat()}).",
            )
        ]
    return []


def _too_old(
    field: str, what: str, value: dt.date | None, today: dt.date, params: RuleParams
) -> list[Finding]:
    if value is not None and value < today - dt.timedelta(days=params.max_age_days):
        years = (today - value).days // 365
        return [
            _f(
                "date_too_old",
                field,
                f"{what} {value.isoformat()} is more than {years} years old; check the year.",
                Severity.WARNING,
            )
        ]
    return []


def check_document_dates(doc: Receipt, today: dt.date, params: RuleParams) -> list[Finding]:
    """Invoice date not in the future nor absurdly old; due date not before the invoice date."""
    findings = _future("invoice_date", "Invoice date", doc.invoice_date, today, params)
    findings += _too_old("invoice_date", "Invoice date", doc.invoice_date, today, params)
    due = getattr(doc, "due_date", None)
    if due is not None and doc.invoice_date is not None and due < doc.invoice_date:
        findings.append(
            _f(
                "due_before_invoice_date",
                "due_date",
                f"Due date {due.isoformat()} is before the invoice date {doc.invoice_date.isoformat()}.",
            )
        )
    return findings


# --- identifiers ----------------------------------------------------------------------------


def vat_is_valid(number: str) -> bool | None:
    """True/False when the VAT id's country can be checked (prefix ``DE``, ``GB``…), else None."""
    compact = re.sub(r"[\s.\-]", "", number).upper()
    prefix = compact[:2].lower()
    if not prefix.isalpha():
        return None
    if prefix in eu_vat.MEMBER_STATES or prefix == "el":
        return bool(eu_vat.is_valid(compact))
    module = stdnum.get_cc_module(prefix, "vat")
    if module is None:
        return None
    try:
        module.validate(compact)
    except StdnumError:
        try:
            module.validate(compact[2:])
        except StdnumError:
            return False
    return True


def check_identifiers(doc: Receipt) -> list[Finding]:
    """VAT id (python-stdnum, by country prefix) and IBAN (mod-97 check)."""
    findings: list[Finding] = []
    if doc.vendor_vat and vat_is_valid(doc.vendor_vat) is False:
        findings.append(
            _f(
                "invalid_vat",
                "vendor_vat",
                f"VAT id {doc.vendor_vat} fails its country's format or check digits.",
            )
        )
    iban = getattr(doc, "iban", None)
    if iban and not std_iban.is_valid(iban):
        findings.append(
            _f(
                "invalid_iban",
                "iban",
                f"IBAN {iban} fails its check digits or its country's length.",
            )
        )
    return findings


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit of ``80840`` + the first nine."""
    return bool(NPI.fullmatch(npi)) and luhn.is_valid("80840" + npi)


def npi_check_digit(first_nine: str) -> str:
    return luhn.calc_check_digit("80840" + first_nine)


# --- claims (CMS-1500) ----------------------------------------------------------------------


def _check_npi(field: str, what: str, npi: str | None) -> list[Finding]:
    if npi and not npi_is_valid(npi):
        why = "is not 10 digits" if not NPI.fullmatch(npi) else "fails the NPI check digit"
        return [_f("invalid_npi", field, f"{what} NPI {npi} {why}.")]
    return []


def _check_line(
    i: int,
    line: ServiceLine,
    n_diagnoses: int,
    birth: dt.date | None,
    today: dt.date,
    params: RuleParams,
) -> list[Finding]:
    at = f"service_lines[{i}]"
    name = f"Line {i + 1}"
    out = _check_npi(f"{at}.rendering_npi", f"{name}: rendering provider", line.rendering_npi)
    if line.procedure_code and not CPT_HCPCS.fullmatch(line.procedure_code):
        out.append(
            _f(
                "invalid_cpt",
                f"{at}.procedure_code",
                f"{name}: procedure code {line.procedure_code} is not a CPT or HCPCS code.",
            )
        )
    bad_mods = [m for m in line.modifiers if not MODIFIER.fullmatch(m)]
    if bad_mods or len(line.modifiers) > 4:
        why = f"{', '.join(bad_mods)} not 2 characters" if bad_mods else "more than 4 modifiers"
        out.append(_f("invalid_modifier", f"{at}.modifiers", f"{name}: modifiers {why}."))
    if not line.pointers:
        out.append(
            _f(
                "missing_diagnosis_pointer",
                f"{at}.pointers",
                f"{name}: no diagnosis pointer (box 24E).",
                Severity.WARNING,
            )
        )
    for p in line.pointers:
        index = DIAGNOSIS_POINTER_LETTERS.find(p) if len(p) == 1 else -1
        if index < 0 or index >= n_diagnoses:
            filled = DIAGNOSIS_POINTER_LETTERS[:n_diagnoses]
            where = f"A–{filled[-1]}" if filled else "none"
            out.append(
                _f(
                    "bad_diagnosis_pointer",
                    f"{at}.pointers",
                    f"{name}: pointer {p} does not point at a filled diagnosis of box 21 ({where}).",
                )
            )
    if line.place_of_service and line.place_of_service not in PLACES_OF_SERVICE:
        out.append(
            _f(
                "invalid_place_of_service",
                f"{at}.place_of_service",
                f"{name}: place of service {line.place_of_service} is not a CMS place-of-service code.",
            )
        )
    if line.units is not None and line.units <= 0:
        out.append(_f("invalid_value", f"{at}.units", f"{name}: units {line.units} must be above zero."))
    for attr in ("date_from", "date_to"):
        value = getattr(line, attr)
        out += _future(f"{at}.{attr}", f"{name}: service date", value, today, params)
        if value is not None and birth is not None and value < birth:
            out.append(
                _f(
                    "service_before_birth",
                    f"{at}.{attr}",
                    f"{name}: service date {value.isoformat()} is before the patient's birth date "
                    f"{birth.isoformat()}.",
                )
            )
    if line.date_from and line.date_to and line.date_to < line.date_from:
        out.append(
            _f(
                "bad_date_range",
                f"{at}.date_to",
                f"{name}: service ends {line.date_to.isoformat()} before it starts "
                f"{line.date_from.isoformat()}.",
            )
        )
    return out


def check_claim(doc: Claim, today: dt.date, params: RuleParams) -> list[Finding]:
    """Codes, providers, pointers, dates and money of a CMS-1500 claim."""
    out = _check_npi("billing_provider_npi", "Billing provider", doc.billing_provider_npi)
    if doc.federal_tax_id:
        digits = re.sub(r"\D", "", doc.federal_tax_id)
        if not (ein.is_valid(digits) or ssn.is_valid(digits)):
            out.append(
                _f(
                    "invalid_tax_id",
                    "federal_tax_id",
                    f"Federal tax id {doc.federal_tax_id} is neither a valid EIN nor an SSN.",
                )
            )
    if doc.icd_indicator and doc.icd_indicator != "0":
        out.append(
            _f(
                "invalid_icd_indicator",
                "icd_indicator",
                f"ICD indicator {doc.icd_indicator}: only 0 (ICD-10-CM) is accepted.",
            )
        )
    for i, code in enumerate(doc.diagnosis_codes):
        if not ICD10_CM.fullmatch(code):
            out.append(
                _f(
                    "invalid_icd10",
                    f"diagnosis_codes[{i}]",
                    f"Diagnosis {DIAGNOSIS_POINTER_LETTERS[i] if i < 12 else i + 1} {code} is not "
                    "an ICD-10-CM code.",
                )
            )
    if len(doc.diagnosis_codes) > 12:
        out.append(
            _f(
                "invalid_icd10",
                "diagnosis_codes",
                f"Box 21 holds at most 12 diagnoses; {len(doc.diagnosis_codes)} were read.",
            )
        )
    birth = doc.patient_birth_date
    out += _future("patient_birth_date", "Birth date", birth, today, params)
    if birth is not None and (today - birth).days > 366 * params.max_patient_age_years:
        out.append(
            _f(
                "date_too_old",
                "patient_birth_date",
                f"Birth date {birth.isoformat()} makes the patient older than "
                f"{params.max_patient_age_years}.",
            )
        )
    for attr in ("service_date_from", "service_date_to"):
        value = getattr(doc, attr)
        out += _future(attr, "Service date", value, today, params)
        if value is not None and birth is not None and value < birth:
            out.append(
                _f(
                    "service_before_birth",
                    attr,
                    f"Service date {value.isoformat()} is before the patient's birth date "
                    f"{birth.isoformat()}.",
                )
            )
    for i, line in enumerate(doc.service_lines):
        out += _check_line(i, line, len(doc.diagnosis_codes), birth, today, params)
    charges = [line.charges for line in doc.service_lines]
    if doc.total_amount is not None and charges and all(c is not None for c in charges):
        lines_sum = sum((c for c in charges if c is not None), Decimal("0"))
        if abs(lines_sum - doc.total_amount) > params.amount_tolerance:
            out.append(
                _f(
                    "total_mismatch",
                    "total_amount",
                    f"Total charge {money(doc.total_amount)} (box 28) ≠ sum of the {len(charges)} "
                    "line "
                    f"charges {money(lines_sum)} (24F).",
                )
            )
    if doc.amount_paid is not None and doc.total_amount is not None and doc.amount_paid > doc.total_amount:
        out.append(
            _f(
                "amount_paid_exceeds_total",
                "amount_paid",
                f"Amount paid {money(doc.amount_paid)} (box 29) is above the total charge "
                f"{money(doc.total_amount)}.",
            )
        )
    return out


# --- duplicates and master data -------------------------------------------------------------


class DuplicateKeys(TypedDict):
    """The arguments of ``History.find_duplicates`` and ``is_duplicate_of`` that identify a bill."""

    vendor_name: str | None
    invoice_number: str | None
    total_amount: Decimal | None
    invoice_date: dt.date | None


def duplicate_keys(doc: Document) -> DuplicateKeys:
    """What identifies a bill, as passed to ``History.find_duplicates`` (and stored by it).

    A claim has no invoice number: the patient account and first service date stand in for it,
    and total + date alone is not used (one provider bills the same procedure to many patients).
    """
    if isinstance(doc, Claim):
        number = None
        if doc.patient_account_number and doc.service_date_from:
            number = f"{doc.patient_account_number}:{doc.service_date_from.isoformat()}"
        return {
            "vendor_name": doc.vendor_name,
            "invoice_number": number,
            "total_amount": None,
            "invoice_date": None,
        }
    return {
        "vendor_name": doc.vendor_name,
        "invoice_number": doc.invoice_number,
        "total_amount": doc.total_amount,
        "invoice_date": doc.invoice_date,
    }


def duplicate_finding(doc: Document, others: Sequence[str], where: str) -> Finding:
    """``duplicate`` naming what matched and the (shortened) ids of the earlier documents."""
    keys = duplicate_keys(doc)
    if isinstance(doc, Claim):
        how, field = (
            f"patient account and first service date ({keys['invoice_number']})",
            "vendor_name",
        )
    elif keys["invoice_number"]:
        how, field = f"invoice number {keys['invoice_number']}", "invoice_number"
    else:
        total = money(doc.total_amount) if doc.total_amount is not None else "?"
        how, field = f"total {total} and date {keys['invoice_date']}", "total_amount"
    shown = ", ".join(o[:12] for o in others[:3]) + ("…" if len(others) > 3 else "")
    return _f("duplicate", field, f"Same vendor and {how} as {where} {shown}.")


def check_history(
    doc_type: DocType, doc: Document, history: History | None, client: str, document_id: str | None
) -> list[Finding]:
    """Same vendor + invoice number, or same vendor + total + date, already processed."""
    if history is None or not doc.vendor_name:
        return []
    keys = duplicate_keys(doc)
    found = history.find_duplicates(
        client,
        str(doc_type),
        keys["vendor_name"],
        keys["invoice_number"],
        keys["total_amount"],
        keys["invoice_date"],
        document_id,
    )
    return [duplicate_finding(doc, found, "already processed document")] if found else []


def check_master_data(
    doc_type: DocType,
    doc: Document,
    vendor_master: VendorMaster | None,
    open_pos: OpenPOs | None,
    min_score: float,
    vendor_doc_types: Sequence[DocType],
    document_id: str | None = None,
) -> list[Finding]:
    """The vendor is in the client's vendor master; the PO number is an open PO."""
    out: list[Finding] = []
    if vendor_master is not None and doc_type in vendor_doc_types and doc.vendor_name:
        vat = (getattr(doc, "vendor_vat", None) or "").upper()
        by_vat = any(v.vouches_for(document_id) for v in vendor_master.holders(vat))
        match = vendor_master.match(doc.vendor_name, min_score, document_id)
        if match is None and not by_vat:
            out.append(
                _f(
                    "unknown_vendor",
                    "vendor_name",
                    f"Vendor {doc.vendor_name!r} is not in the client's vendor master.",
                )
            )
        elif match is not None and vat and match.vendor.vat and match.vendor.vat != vat:
            out.append(
                _f(
                    "vendor_vat_mismatch",
                    "vendor_vat",
                    f"VAT id {vat} differs from {match.vendor.vat} on file for {match.vendor.name}.",
                    Severity.WARNING,
                )
            )
    po = getattr(doc, "po_number", None)
    if open_pos is not None and po and open_pos.find(po) is None:
        out.append(
            _f(
                "unknown_po",
                "po_number",
                f"PO {po} is not an open purchase order of this client.",
            )
        )
    return out


# --- all rules ------------------------------------------------------------------------------


def run_rules(
    doc_type: DocType,
    doc: Document,
    *,
    today: dt.date,
    params: RuleParams,
    client: str = "",
    document_id: str | None = None,
    history: History | None = None,
    vendor_master: VendorMaster | None = None,
    open_pos: OpenPOs | None = None,
    vendor_match_score: float = 88.0,
    vendor_doc_types: Sequence[DocType] = (DocType.INVOICE,),
) -> list[Finding]:
    checks: list[Callable[[], list[Finding]]] = []
    if isinstance(doc, Receipt):  # Invoice is a Receipt with more fields
        checks += [
            lambda: check_credit(doc),
            lambda: check_totals(doc, params),
            lambda: check_line_items(doc, params),
            lambda: check_document_dates(doc, today, params),
            lambda: check_identifiers(doc),
        ]
    if isinstance(doc, Claim):
        checks.append(lambda: check_claim(doc, today, params))
    checks.append(lambda: check_history(doc_type, doc, history, client, document_id))
    checks.append(
        lambda: check_master_data(
            doc_type, doc, vendor_master, open_pos, vendor_match_score, vendor_doc_types,
            document_id,
        )
    )
    return [finding for check in checks for finding in check()]
