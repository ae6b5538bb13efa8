"""Great Expectations over a batch: failures map back to the right document, drift to the batch.

GX takes seconds to import, so one mixed batch is validated once for the whole module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.models import DocType, Extraction, Field, Outcome, Severity
from core.settings import Settings
from validators import (
    BatchResult,
    InMemoryHistory,
    ValidationContext,
    ValidationItem,
    check_suites,
    load_context,
    load_suites,
    validate_batch,
    write_data_docs,
)
from validators.expectations import PACKAGE_SUITES, load_suite

TODAY = dt.date(2026, 6, 1)
N_GOOD = 24  # above the suites' min_rows (20), so that batch drift is judged


def invoice(n: int, confidence: float = 0.95, **changes: object) -> Extraction:
    values: dict[str, object] = {
        "vendor_name": f"Vendor {n} Ltd",
        # a number printed after a hash sign keeps it ("#BLR_WFLD2015…", "# 1042")
        "invoice_number": f"INV-{n:04d}" if n % 5 else f"# {n:04d}" if n % 2 else f"#INV{n:04d}",
        "invoice_date": dt.date(2026, 5, 1),
        "currency": "EUR",
        "subtotal": Decimal(100 + n),
        "tax_amount": Decimal("19.00"),
        "total_amount": Decimal(119 + n),
        **changes,
    }
    return Extraction(
        doc_type=DocType.INVOICE,
        fields={
            k: Field(name=k, value=v, confidence=confidence)
            for k, v in values.items()
            if v is not None
        },
    )


def claim(confidence: float = 0.95, **changes: object) -> Extraction:
    values: dict[str, object] = {
        "patient_name": "HODGES, PAULA V",
        "patient_birth_date": dt.date(1965, 4, 13),
        "billing_provider_npi": "2881346532",
        "federal_tax_id": "10-3778018",
        "diagnosis_codes": ["M54.50"],
        "service_lines": [
            {
                "procedure_code": "J0780",
                "charges": Decimal("428.83"),
                "pointers": "A",
                "place_of_service": "11",
                "date_from": dt.date(2026, 3, 18),
            }
        ],
        "total_amount": Decimal("428.83"),
        **changes,
    }
    return Extraction(
        doc_type=DocType.CLAIM,
        fields={k: Field(name=k, value=v, confidence=confidence) for k, v in values.items()},
    )


@dataclass
class Run:
    result: BatchResult
    ctx: ValidationContext


@pytest.fixture(scope="module")
def run() -> Run:
    # The repo's default client carries the demo vendor master; these documents are not on it.
    ctx = dataclasses.replace(load_context(Settings(), "default", TODAY, InMemoryHistory()),
                              vendor_master=None)
    items = [
        ValidationItem(f"good-{n}", "default", invoice(n, confidence=0.7)) for n in range(N_GOOD)
    ]
    items += [
        ValidationItem(
            "negative-total",
            "default",
            invoice(900, subtotal=None, tax_amount=None, total_amount=Decimal("-50.00")),
        ),
        ValidationItem(
            "weird-number",
            "default",
            invoice(901, invoice_number="INV 901 / see attached letter!!"),
        ),
        ValidationItem("claim-ok", "default", claim()),
        ValidationItem("claim-bad-npi", "default", claim(billing_provider_npi="28813465")),
        ValidationItem("dupe", "default", invoice(3, confidence=0.7)),
    ]
    return Run(validate_batch(items, ctx), ctx)


def codes_of(run: Run, document_id: str) -> list[str]:
    return [f.code for f in run.result.per_document[document_id]]


def test_every_document_gets_an_entry(run: Run) -> None:
    assert len(run.result.per_document) == N_GOOD + 5
    assert run.result.gx_result is not None and run.result.seconds > 0


def test_clean_documents_have_no_findings(run: Run) -> None:
    assert all(codes_of(run, f"good-{n}") == [] for n in range(N_GOOD) if n != 3)
    assert codes_of(run, "claim-ok") == []


def test_gx_failures_map_to_their_document(run: Run) -> None:
    (finding,) = run.result.per_document["negative-total"]
    assert finding.code == "gx:expect_column_values_to_be_between"
    assert finding.field == "total_amount"
    assert (
        finding.message
        == "Total amount -50.00 is negative or implausibly large (allowed 0 to 5,000,000)."
    )
    assert codes_of(run, "weird-number") == ["gx:expect_column_values_to_match_regex"]
    assert "INV 901 / see attached letter!!" in run.result.per_document["weird-number"][0].message


def test_claim_suite_and_rules_both_report(run: Run) -> None:
    found = {(f.code, f.field) for f in run.result.per_document["claim-bad-npi"]}
    assert found == {
        ("invalid_npi", "billing_provider_npi"),
        ("gx:expect_column_values_to_match_regex", "billing_provider_npi"),
    }


def test_duplicate_inside_the_batch(run: Run) -> None:
    assert codes_of(run, "dupe") == ["duplicate"]
    assert "good-3" in run.result.per_document["dupe"][0].message
    assert codes_of(run, "good-3") == []  # the first one seen is not the duplicate


def test_batch_drift_findings(run: Run) -> None:
    found = {f.code: f for f in run.result.batch_findings}
    assert set(found) == {
        "gx:expect_column_values_to_not_be_null",
        "gx:expect_column_mean_to_be_between",
    }
    assert (
        "100% of the invoices have no PO number"
        in found["gx:expect_column_values_to_not_be_null"].message
    )
    assert found["gx:expect_column_mean_to_be_between"].message.startswith(
        "Mean field confidence 0.7"
    )
    assert "(batch of 27 invoices)" in found["gx:expect_column_mean_to_be_between"].message


def test_small_batches_are_not_judged_for_drift_and_gx_prints_nothing(
    run: Run, capfd: pytest.CaptureFixture[str]
) -> None:
    small = validate_batch([ValidationItem("one", "default", invoice(1, confidence=0.5))], run.ctx)
    assert small.batch_findings == [] and small.per_document == {"one": []}
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_data_docs(run: Run, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = write_data_docs(run.result, tmp_path / "docs")
    html = path.read_text()
    assert path.parent == tmp_path / "docs" and html.startswith("<!DOCTYPE html>")
    assert "expect_column_values_to_be_between" in html or "values must be" in html.lower()
    # the page view is kept per process: a second page is rendered whole, not from the first
    again = write_data_docs(run.result, tmp_path / "docs", name="validation-2.html").read_text()
    assert again.startswith("<!DOCTYPE html>") and len(again) > 0.9 * len(html)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_repo_suites_are_accepted_by_gx() -> None:
    check_suites(load_suites(PACKAGE_SUITES))


def _edited_suite(tmp_path: Path, change: dict[str, object]) -> Path:
    data = json.loads((PACKAGE_SUITES / "invoice.json").read_text())
    data["expectations"][0].update(change)
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kwargs": {"column": "totl_amount", "min_value": 0}}, r"unknown column\(s\) totl_amount"),
        ({"scope": "sometimes"}, r"expectations\.0\.scope"),
        ({"type": "Expect Column"}, r"expectations\.0\.type"),
    ],
)
def test_bad_suite_file_fails_clearly(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_suite(_edited_suite(tmp_path, change))


def test_bad_json_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "invoice.json").write_text(
        '{"doc_type": "invoice", "version": 1,\n "expectations": [}'
    )
    with pytest.raises(ConfigError, match=r"invoice\.json: invalid JSON at line 2"):
        load_suite(tmp_path / "invoice.json")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"type": "expect_column_values_to_be_wonderful"},
            "has no expectation 'expect_column_values_to_be_wonderful'",
        ),
        ({"kwargs": {"column": "total_amount", "minimum": 0}}, "Great Expectations rejects it"),
        (
            {"type": "expect_column_mean_to_be_between"},
            r"judges the whole batch; give it scope \"batch\"",
        ),
    ],
)
def test_suite_gx_rejects_fails_clearly(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    suite = load_suite(_edited_suite(tmp_path, change))
    with pytest.raises(ConfigError, match=expected):
        check_suites({DocType.INVOICE: suite})


def test_a_credit_note_passes_the_suite_and_posts_as_a_credit() -> None:
    """All sums below zero and adding up (a ``RECHNUNGS-KORREKTUR``): the suite judges their
    size, the rules say it is a credit, and it posts. A negative total beside a positive
    subtotal (a minus sign misread) is still rejected by the suite."""
    from validators import decide

    ctx = dataclasses.replace(load_context(Settings(), "default", TODAY, InMemoryHistory()),
                              vendor_master=None)
    credit = invoice(910, confidence=0.99, subtotal=Decimal("-7.67"), tax_amount=Decimal("-1.12"),
                     total_amount=Decimal("-8.79"))
    misread = invoice(911, confidence=0.99, total_amount=Decimal("-1030.00"))
    result = validate_batch(
        [ValidationItem("credit", "default", credit), ValidationItem("misread", "default", misread)],
        ctx,
    )
    found = result.per_document["credit"]
    assert [(f.code, f.severity) for f in found] == [("credit_note", Severity.INFO)]
    assert decide(credit, found, ctx.policy).outcome == Outcome.POST
    codes = {f.code for f in result.per_document["misread"]}
    assert "gx:expect_column_values_to_be_between" in codes and "credit_note" not in codes
