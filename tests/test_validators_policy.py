"""validators.policy: the decision follows the client's YAML; bad YAML fails clearly."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from core.models import DocType, Extraction, Field, Finding, Outcome, Severity
from core.settings import PROJECT_ROOT, Settings
from validators import InMemoryHistory, decide, load_context, load_policy, validate_fields

DEFAULT_YAML = PROJECT_ROOT / "config" / "clients" / "default.yaml"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "clients").mkdir()
    shutil.copy(DEFAULT_YAML, tmp_path / "clients" / "default.yaml")
    return tmp_path


def write_client(config_dir: Path, client: str, text: str) -> None:
    (config_dir / "clients" / f"{client}.yaml").write_text(text)


def clean_invoice(confidence: float = 0.97, total: str = "1005.55") -> Extraction:
    values = {
        "vendor_name": "Kraxi GmbH",
        "invoice_number": "2019-03",
        "invoice_date": dt.date(2026, 5, 8),
        "total_amount": Decimal(total),
        "currency": "EUR",
    }
    return Extraction(
        doc_type=DocType.INVOICE,
        fields={k: Field(name=k, value=v, confidence=confidence) for k, v in values.items()},
    )


def test_repo_default_policy_loads() -> None:
    policy = load_policy(Settings(), "default")
    assert "total_amount" in policy.required_fields[DocType.INVOICE]
    assert Decimal("0.80") <= policy.thresholds.default <= Decimal("0.95")
    assert policy.is_reject(Finding(code="encrypted", message="x"))


def test_clean_document_posts_with_no_findings() -> None:
    decision = decide(clean_invoice(), [], load_policy(Settings(), "default"))
    assert decision.outcome == Outcome.POST and decision.findings == []


def test_decision_carries_exactly_its_causes() -> None:
    policy = load_policy(Settings(), "default")
    extraction = clean_invoice()
    del extraction.fields["invoice_number"]
    extraction.fields["total_amount"] = extraction.fields["total_amount"].model_copy(
        update={"confidence": 0.5}
    )
    blocking = Finding(code="total_mismatch", field="total_amount", message="Total 120.00 ≠ …")
    warning = Finding(code="line_amount_mismatch", severity=Severity.WARNING, message="line")
    decision = decide(extraction, [blocking, warning], policy)
    assert decision.outcome == Outcome.REVIEW
    assert [(f.code, f.field) for f in decision.findings] == [
        ("missing_field", "invoice_number"),
        ("low_confidence", "total_amount"),
        ("total_mismatch", "total_amount"),
    ]
    assert f"confidence 0.50, below the {policy.thresholds.default:.2f}" in decision.findings[1].message


def test_a_low_confidence_finding_says_where_the_reader_was_unsure() -> None:
    extraction = clean_invoice()
    extraction.fields["total_amount"] = extraction.fields["total_amount"].model_copy(
        update={"confidence": 0.5, "doubt": "line 2 units: 1, also read 4"}
    )
    decision = decide(extraction, [], load_policy(Settings(), "default"))
    assert decision.findings[0].message.endswith(
        "needed to post without review. Unsure of line 2 units: 1, also read 4."
    )


def test_reject_and_unknown_type() -> None:
    policy = load_policy(Settings(), "default")
    corrupt = Finding(code="corrupt", message="The PDF cannot be opened.")
    decision = decide(Extraction(doc_type=DocType.UNKNOWN), [corrupt], policy)
    assert decision.outcome == Outcome.REJECT and decision.findings == [corrupt]
    decision = decide(Extraction(doc_type=DocType.UNKNOWN), [], policy)
    assert decision.outcome == Outcome.REVIEW
    assert [f.code for f in decision.findings] == ["unknown_doc_type"]


def test_amount_limit_sends_to_review() -> None:
    policy = load_policy(Settings(), "default")
    decision = decide(clean_invoice(total="25000.00"), [], policy)
    assert decision.outcome == Outcome.REVIEW
    assert [f.code for f in decision.findings] == ["amount_above_limit"]


def test_decision_follows_a_changed_policy_file(config_dir: Path) -> None:
    settings = Settings(config_dir=config_dir)
    extraction = clean_invoice(confidence=0.85, total="12000.00")
    unknown = Finding(code="unknown_vendor", field="vendor_name", message="Vendor not in master.")
    write_client(config_dir, "acme", "policy:\n  blocking: [unknown_vendor, total_mismatch]\n")
    before = decide(extraction, [unknown], load_policy(settings, "acme"))
    assert before.outcome == Outcome.REVIEW
    assert {f.code for f in before.findings} == {
        "low_confidence",
        "unknown_vendor",
        "amount_above_limit",
    }

    write_client(
        config_dir,
        "acme",
        "policy:\n"
        "  thresholds: {default: '0.80'}\n"
        "  warn_only: [unknown_vendor]\n"
        "  blocking: [total_mismatch]\n"
        "  approval_limits: {invoice: '50000.00'}\n",
    )
    after = load_policy(settings, "acme")
    assert after.thresholds.default == Decimal("0.80")
    assert after.required_fields[DocType.INVOICE]  # deep merge keeps what the client did not set
    assert decide(extraction, [unknown], after).outcome == Outcome.POST
    # other clients still get the default
    assert decide(extraction, [unknown], load_policy(settings, "globex")).outcome == Outcome.REVIEW


def test_per_field_threshold(config_dir: Path) -> None:
    write_client(
        config_dir,
        "acme",
        "policy:\n  thresholds:\n    fields: {total_amount: '0.99', po_number: '0.95'}\n",
    )
    policy = load_policy(Settings(config_dir=config_dir), "acme")
    extraction = clean_invoice(confidence=0.97)
    extraction.fields["po_number"] = Field(name="po_number", value="PO-1", confidence=0.9)
    decision = decide(extraction, [], policy)
    assert [(f.code, f.field) for f in decision.findings] == [
        ("low_confidence", "total_amount"),
        ("low_confidence", "po_number"),
    ]


def test_other_delivered_fields_can_be_checked_too(config_dir: Path) -> None:
    """By default only the required fields decide, and an unsure address is delivered with its
    confidence; a client that sets ``other_fields`` sends such an invoice to review, so that
    what it posts is right field by field. A field that was not found is no reason (nothing
    unsure is delivered)."""
    extraction = clean_invoice(confidence=0.97)
    extraction.fields["address"] = Field(name="address", value="Spaldinastraße 64", confidence=0.72)
    extraction.fields["buyer_name"] = Field(name="buyer_name", value=None, confidence=0.1)
    default = load_policy(Settings(config_dir=config_dir), "default")
    assert default.thresholds.other_fields is None
    assert decide(extraction, [], default).outcome == Outcome.POST

    write_client(config_dir, "strict", "policy:\n  thresholds:\n    other_fields: '0.75'\n")
    strict = load_policy(Settings(config_dir=config_dir), "strict")
    decision = decide(extraction, [], strict)
    assert decision.outcome == Outcome.REVIEW
    assert [(f.code, f.field) for f in decision.findings] == [("low_confidence", "address")]
    assert "confidence 0.72, below the 0.75 needed" in decision.findings[0].message
    sure = extraction.model_copy(deep=True)
    sure.fields["address"] = sure.fields["address"].model_copy(update={"confidence": 0.9})
    assert decide(sure, [], strict).outcome == Outcome.POST


def test_invalid_yaml_fails_clearly(config_dir: Path) -> None:
    write_client(config_dir, "acme", "policy:\n  thresholds: {default: 0.8\n  blocking: [a]\n")
    with pytest.raises(ConfigError, match=r"acme\.yaml: invalid YAML at line \d+"):
        load_policy(Settings(config_dir=config_dir), "acme")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policy:\n  thresholds: {default: '1.5'}\n", r"policy\.thresholds\.default"),
        (
            "policy:\n  required_fields: {invoice: [totl_amount]}\n",
            r"unknown field\(s\) totl_amount",
        ),
        ("policy:\n  blockng: [duplicate]\n", r"policy\.blockng: Extra inputs are not permitted"),
        ("policy:\n  approval_limits: {memo: '10'}\n", r"policy\.approval_limits\.memo"),
        ("- just\n- a list\n", r"expected a mapping"),
    ],
)
def test_invalid_policy_schema_fails_clearly(config_dir: Path, text: str, expected: str) -> None:
    write_client(config_dir, "acme", text)
    with pytest.raises(ConfigError, match=expected):
        load_policy(Settings(config_dir=config_dir), "acme")


def test_policy_section_is_required(tmp_path: Path) -> None:
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "default.yaml").write_text(
        yaml.safe_dump({"contract": {"currency": "USD"}})
    )
    with pytest.raises(ConfigError, match="no `policy:` mapping"):
        load_policy(Settings(config_dir=tmp_path), "default")


def test_master_data_files_come_from_the_config_dir(config_dir: Path) -> None:
    write_client(config_dir, "acme", "policy:\n  master_data: {vendor_master: acme/vendors.csv}\n")
    settings = Settings(config_dir=config_dir)
    with pytest.raises(ConfigError, match=r"vendors\.csv does not exist"):
        load_context(settings, "acme", dt.date(2026, 6, 1), None)
    (config_dir / "acme").mkdir()
    (config_dir / "acme" / "vendors.csv").write_text("name\nKraxi GmbH\n")
    ctx = load_context(settings, "acme", dt.date(2026, 6, 1), None)
    assert ctx.vendor_master is not None and ctx.vendor_master.match("Kraxi", 80) is not None
    (config_dir / "acme" / "vendors.csv").write_text("vendor\nKraxi GmbH\n")
    with pytest.raises(ConfigError, match="needs a 'name' column"):
        load_context(settings, "acme", dt.date(2026, 6, 1), None)


def test_validate_fields_for_the_review_page(config_dir: Path) -> None:
    write_client(config_dir, "acme", "policy:\n  master_data: {vendor_master: vendors.csv}\n")
    (config_dir / "vendors.csv").write_text("name\nKraxi GmbH\n")
    history = InMemoryHistory()
    history.add(
        "other", "acme", "invoice", "Kraxi GmbH", "2019-03", Decimal("1005.55"), dt.date(2026, 5, 8)
    )
    ctx = load_context(Settings(config_dir=config_dir), "acme", dt.date(2026, 6, 1), history)
    corrected = {
        "vendor_name": "Kraxi GmbH",
        "invoice_number": "2019-04",
        "invoice_date": "2026-05-08",
        "currency": "EUR",
        "subtotal": "845.00",
        "tax_amount": "160.55",
        "total_amount": "1005.55",
    }
    found = validate_fields("invoice", corrected, ctx, document_id="me")
    assert [f.code for f in found] == ["duplicate"]  # same vendor + total + date as "other"
    assert validate_fields("invoice", corrected, ctx, document_id="other") == []
    broken = {**corrected, "total_amount": "1100.00", "vendor_name": "Unbekannt AG", "currency": ""}
    found = validate_fields("invoice", broken, ctx, document_id="me")
    assert sorted(f.code for f in found) == ["missing_field", "total_mismatch", "unknown_vendor"]
    started = time.process_time()  # CPU, so that a busy machine does not fail it
    for _ in range(20):
        validate_fields("invoice", broken, ctx, document_id="me")
    assert (time.process_time() - started) / 20 < 0.1
