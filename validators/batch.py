"""Validate a batch of extractions (rules per document, one GX run per batch), or one document's
fields as a reviewer corrected them."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from core.models import DocType, Extraction, Field, Finding
from core.settings import Settings
from validators.expectations import SuiteFile, frame_row, load_suites, run_suites
from validators.history import BatchHistory, History, HistoryEntry, is_duplicate_of, vendor_key
from validators.masterdata import OpenPOs, VendorMaster, load_open_pos, load_vendor_master
from validators.models import Document, coerce, coerce_values
from validators.policy import Policy, field_findings, load_policy
from validators.rules import duplicate_finding, duplicate_keys, run_rules


@dataclass(frozen=True)
class ValidationItem:
    document_id: str
    client: str
    extraction: Extraction


@dataclass
class ValidationContext:
    """Everything the rules need besides the document: built once per client and run."""

    today: dt.date
    policy: Policy
    history: History | None = None
    vendor_master: VendorMaster | None = None
    open_pos: OpenPOs | None = None
    suites: dict[DocType, SuiteFile] | None = None
    """GX suites; None means the package's ``validators/suites``."""
    run_gx: bool = True


@dataclass
class BatchResult:
    per_document: dict[str, list[Finding]]
    """Every document id of the batch, with its findings (an empty list when clean)."""
    batch_findings: list[Finding] = field(default_factory=list)
    """Drift over the whole batch (mean confidence, share without PO…); no document to blame."""
    gx_result: Any = None
    """GX's validation result, for ``write_data_docs``; None when GX did not run."""
    seconds: float = 0.0


def load_context(
    settings: Settings, client: str, today: dt.date, history: History | None
) -> ValidationContext:
    """Policy, master data and suites of ``client``; ConfigError on any bad file."""
    policy = load_policy(settings, client)
    md = policy.master_data
    for what, path in (("vendor_master", md.vendor_master), ("open_pos", md.open_pos)):
        if path is not None and not path.is_file():
            raise ConfigError(f"policy.master_data.{what} of client {client!r}: {path} does not exist")
    return ValidationContext(
        today=today,
        policy=policy,
        history=history,
        vendor_master=load_vendor_master(md.vendor_master) if md.vendor_master else None,
        open_pos=load_open_pos(md.open_pos) if md.open_pos else None,
        suites=load_suites(policy.suites_dir),
    )


def _rules(
    doc_type: DocType, doc: Document, ctx: ValidationContext, client: str, document_id: str | None
) -> list[Finding]:
    md = ctx.policy.master_data
    return run_rules(
        doc_type,
        doc,
        today=ctx.today,
        params=ctx.policy.rules,
        client=client,
        document_id=document_id,
        history=ctx.history,
        vendor_master=ctx.vendor_master,
        open_pos=ctx.open_pos,
        vendor_match_score=md.vendor_match_score,
        vendor_doc_types=md.vendor_doc_types,
    )


def _batch_duplicates(
    item: ValidationItem, doc: Document, earlier: dict[tuple[str, str, str], list[HistoryEntry]]
) -> list[Finding]:
    """Duplicates inside the batch: compared with the documents before it (same client, type
    and vendor), which are indexed by vendor so that a batch of 1,000 stays linear."""
    keys = duplicate_keys(doc)
    doc_type = item.extraction.doc_type.value
    entry = HistoryEntry(item.document_id, item.client, doc_type, **keys)
    bucket = earlier.setdefault((item.client, doc_type, vendor_key(entry.vendor_name)), [])
    twins = [
        e.document_id for e in bucket if e.document_id != item.document_id and is_duplicate_of(e, **keys)
    ]
    bucket.append(entry)
    return [duplicate_finding(doc, twins, "document earlier in this batch:")] if twins else []


def _looked_up(
    history: History | None, coerced: list[tuple[ValidationItem, Document | None, list[Finding]]]
) -> AbstractContextManager[None]:
    """The batch's duplicate keys looked up at once where the history can (see ``BatchHistory``)."""
    if not isinstance(history, BatchHistory):
        return nullcontext()
    return history.batch(
        [
            (item.client, item.extraction.doc_type.value, dict(duplicate_keys(doc)))
            for item, doc, _ in coerced
            if doc is not None
        ]
    )


def validate_batch(items: list[ValidationItem], ctx: ValidationContext) -> BatchResult:
    """Findings per document (coercion, rules, history, master data, GX) and for the batch."""
    started = time.perf_counter()
    per_document: dict[str, list[Finding]] = {}
    rows: list[dict[str, Any]] = []
    earlier: dict[tuple[str, str, str], list[HistoryEntry]] = {}
    coerced = [(item, *coerce(item.extraction)) for item in items]
    with _looked_up(ctx.history, coerced):
        for item, doc, findings in coerced:
            extraction = item.extraction
            if doc is not None:
                findings += _rules(extraction.doc_type, doc, ctx, item.client, item.document_id)
                findings += _batch_duplicates(item, doc, earlier)
            per_document.setdefault(item.document_id, []).extend(findings)
            rows.append(frame_row(item.document_id, extraction, doc))
    result = BatchResult(per_document=per_document)
    if ctx.run_gx and rows:
        outcome = run_suites(ctx.suites if ctx.suites is not None else load_suites(), rows)
        for document_id, found in outcome.per_document.items():
            per_document[document_id].extend(found)
        result.batch_findings = outcome.batch
        result.gx_result = outcome.result
    for document_id, found in per_document.items():
        per_document[document_id] = ctx.policy.graded(found)
    result.seconds = time.perf_counter() - started
    return result


def validate_fields(
    doc_type: DocType | str,
    fields: dict[str, Any],
    ctx: ValidationContext,
    *,
    document_id: str | None = None,
    client: str | None = None,
) -> list[Finding]:
    """Re-validate one document after a reviewer's corrections (label-format values).

    The same models and rules as ``validate_batch`` plus the policy's required fields, without
    GX (one row says nothing about drift, and the page must answer in milliseconds). Pass the
    ``document_id`` so that the duplicate check does not find the document itself.
    """
    doc_type = DocType(doc_type)
    doc, findings = coerce_values(doc_type, fields)
    if doc is not None:
        findings += _rules(doc_type, doc, ctx, client or ctx.policy.client, document_id)
    as_read = Extraction(
        doc_type=doc_type,
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in fields.items()},
    )
    missing = [f for f in field_findings(as_read, ctx.policy) if f.code == "missing_field"]
    return ctx.policy.graded(missing + findings)
