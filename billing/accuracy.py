"""Accuracy of what we deliver, measured honestly: a sample, its size and its 95 % interval.

Two measures, kept apart because they answer different questions:

- ``qa`` (the SLA measure): blind re-keying of a random sample of posted documents. Every field of
  a QA'd document was checked; a field is wrong when the QA reviewer changed it
  (``CorrectionRow.source == "qa"``), so a finished QA item without corrections counts as all
  fields correct. The sample is chosen by ``qa_sample``, a hash of the document id, so it is
  random with respect to content and reproducible.
- ``review`` (informational): fields reviewers corrected on exceptions. Exceptions are the hard
  documents, and the corrections are fixed before delivery, so this measures the extraction on
  exceptions, not the delivered data, and never decides an SLA.

The Wilson score interval is used because it stays inside [0, 1] and behaves at accuracies near
100 %, where the normal approximation claims far more certainty than a sample gives. Fields of one
document are not independent; the field-level interval is therefore somewhat optimistic, which
is why ``unit: document`` is offered too.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.db import CorrectionRow, DocumentRow, QueueItemRow

Z95 = 1.959963984540054
"""The two-sided 95 % standard normal quantile."""


def qa_sample(document_id: str, rate: float | Decimal) -> bool:
    """Whether ``document_id`` belongs to the QA sample at ``rate`` (0..1), deterministically.

    The same id always gives the same answer (retries and reprocessing never resample), and the
    share of ids selected converges to ``rate``.
    """
    share = Decimal(str(rate))
    if not Decimal(0) <= share <= Decimal(1):
        raise ValueError(f"QA sample rate must be between 0 and 1, got {rate}")
    digest = hashlib.sha256(b"docflow-qa-sample:" + document_id.encode("utf-8")).digest()
    draw = int.from_bytes(digest[:8], "big")
    return draw < share * (1 << 64)


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (no continuity correction) of ``correct`` successes in ``n``."""
    if n <= 0:
        raise ValueError("the Wilson interval needs at least one observation")
    if not 0 <= correct <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {correct}")
    p = correct / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


class AccuracyStatus(StrEnum):
    MET = "met"
    """The whole 95 % interval is at or above the SLA."""
    MISSED = "missed"
    """The whole 95 % interval is below the SLA."""
    TOO_SMALL = "sample_too_small_to_tell"
    """The interval straddles the SLA: the sample cannot say either way."""
    NO_DATA = "no_data"
    NO_SLA = "no_sla"


class Accuracy(BaseModel):
    source: Literal["qa", "review"]
    unit: Literal["field", "document"]
    value: float | None
    low: float | None
    high: float | None
    n: int
    correct: int
    documents: int
    sla: float | None
    status: AccuracyStatus
    message: str


def judge(
    correct: int,
    n: int,
    sla: float | Decimal | None,
    *,
    source: Literal["qa", "review"] = "qa",
    unit: Literal["field", "document"] = "field",
    documents: int = 0,
) -> Accuracy:
    """Point estimate, interval and an honest verdict against ``sla``."""
    target = None if sla is None else float(sla)
    what = "fields" if unit == "field" else "documents"
    if n == 0:
        return Accuracy(
            source=source,
            unit=unit,
            value=None,
            low=None,
            high=None,
            n=0,
            correct=0,
            documents=documents,
            sla=target,
            status=AccuracyStatus.NO_DATA,
            message=f"no {source} sample in this period: accuracy cannot be measured",
        )
    value = correct / n
    low, high = wilson_interval(correct, n)
    span = f"{value:.2%} (95% interval {low:.2%}–{high:.2%}, n={n} {what})"
    if target is None:
        status, message = AccuracyStatus.NO_SLA, f"accuracy {span}; no SLA in the contract"
    elif low >= target:
        status, message = AccuracyStatus.MET, f"SLA {target:.2%} met: accuracy {span}"
    elif high < target:
        status, message = AccuracyStatus.MISSED, f"SLA {target:.2%} missed: accuracy {span}"
    else:
        status = AccuracyStatus.TOO_SMALL
        message = f"sample too small to tell: accuracy {span}; the interval straddles the {target:.2%} SLA"
    return Accuracy(
        source=source,
        unit=unit,
        value=value,
        low=low,
        high=high,
        n=n,
        correct=correct,
        documents=documents,
        sla=target,
        status=status,
        message=message,
    )


class QAStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


@dataclass
class DocQuality:
    """What people checked on one document and what they had to change."""

    qa_status: QAStatus = QAStatus.NONE
    qa_checked: int = 0
    qa_wrong: int = 0
    reviewed: bool = False
    review_checked: int = 0
    review_wrong: int = 0
    qa_fields_wrong: set[str] = field(default_factory=set)


def extraction_fields(extraction: Mapping[str, Any] | None) -> set[str]:
    """The field names an extraction delivered (``Extraction.model_dump()`` shape)."""
    if not extraction:
        return set()
    fields = extraction.get("fields")
    return set(fields) if isinstance(fields, Mapping) else set()


def _fields_of(session: Session, ids: Iterable[str]) -> dict[str, set[str]]:
    wanted = sorted(set(ids))
    out: dict[str, set[str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for doc_id, extraction in session.execute(
            select(DocumentRow.id, DocumentRow.extraction).where(DocumentRow.id.in_(chunk))
        ).tuples():
            out[doc_id] = extraction_fields(extraction)
    return out


def load_quality(
    session: Session,
    client: str,
    documents: Select[Any],
    reviewed: Iterable[str] = (),
) -> dict[str, DocQuality]:
    """QA and review measurements of the documents whose ids ``documents`` selects.

    ``reviewed``: the documents a reviewer cleared; their review corrections measure the
    extraction. Only documents somebody checked get an entry.
    """
    ids = select(documents.subquery().c[0])
    qa_items = session.execute(
        select(QueueItemRow.document_id, QueueItemRow.state).where(
            QueueItemRow.client == client,
            QueueItemRow.queue == "qa",
            QueueItemRow.document_id.in_(ids),
        )
    ).all()
    changed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for doc_id, source, name, old, new in session.execute(
        select(
            CorrectionRow.document_id,
            CorrectionRow.source,
            CorrectionRow.field,
            CorrectionRow.old_value,
            CorrectionRow.new_value,
        ).where(CorrectionRow.client == client, CorrectionRow.document_id.in_(ids))
    ):
        if (old or "") != (new or ""):
            changed[(doc_id, source)].add(name)

    out: dict[str, DocQuality] = defaultdict(DocQuality)
    for doc_id, state in qa_items:
        out[doc_id].qa_status = QAStatus.PASSED if state == "done" else QAStatus.PENDING
    for doc_id, source in changed:
        if source == "qa" and out[doc_id].qa_status is QAStatus.NONE:
            out[doc_id].qa_status = QAStatus.PASSED  # QA corrections without an item: done
    reviewed = set(reviewed)
    checked = [d for d, q in out.items() if q.qa_status is QAStatus.PASSED]
    fields = _fields_of(session, [*checked, *reviewed])
    for doc_id in checked:
        q = out[doc_id]
        wrong = changed.get((doc_id, "qa"), set())
        q.qa_fields_wrong = wrong
        q.qa_checked = len(fields.get(doc_id, set()) | wrong)
        q.qa_wrong = len(wrong)
        if wrong:
            q.qa_status = QAStatus.FAILED
    for doc_id in reviewed:
        q = out[doc_id]
        wrong = changed.get((doc_id, "review"), set())
        q.reviewed = True
        q.review_checked = len(fields.get(doc_id, set()) | wrong)
        q.review_wrong = len(wrong)
    return dict(out)


def measure(
    qualities: Iterable[DocQuality],
    *,
    source: Literal["qa", "review"],
    unit: Literal["field", "document"],
    sla: float | Decimal | None,
) -> Accuracy:
    """Accuracy over ``qualities`` of one ``source``, judged against ``sla``."""
    checked = wrong = docs = docs_ok = 0
    for q in qualities:
        if source == "qa" and q.qa_status in (QAStatus.PASSED, QAStatus.FAILED):
            c, w = q.qa_checked, q.qa_wrong
        elif source == "review" and q.reviewed:
            c, w = q.review_checked, q.review_wrong
        else:
            continue
        checked, wrong, docs = checked + c, wrong + w, docs + 1
        docs_ok += w == 0
    if unit == "field":
        return judge(checked - wrong, checked, sla, source=source, unit=unit, documents=docs)
    return judge(docs_ok, docs, sla, source=source, unit=unit, documents=docs)
