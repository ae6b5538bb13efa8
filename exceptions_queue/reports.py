"""Read models over the audit log: one document's history, and the team's review analytics."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.db import AuditRow, CorrectionRow, DocumentRow, PostingRow, QueueItemRow, utcnow
from exceptions_queue import fields as fv
from exceptions_queue.store import DONE, aware, extraction_of, get_item, typed_fields

RESOLUTIONS = ("approve", "reject", "escalate")

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


@dataclass
class FieldHistory:
    name: str
    value: str | None
    automatic_value: str | None
    corrected: bool
    corrected_by: str | None = None
    corrected_at: dt.datetime | None = None
    confidence: float | None = None


@dataclass
class AuditView:
    document_id: str
    client: str
    doc_type: str | None
    filename: str
    status: str
    received_at: dt.datetime
    first_claimed_at: dt.datetime | None
    resolved_at: dt.datetime | None
    posted_at: dt.datetime | None
    posted_by: str | None
    resolution: str | None
    waiting_seconds: float
    """Received → first claimed (or now, if nobody has claimed it yet)."""
    total_seconds: float | None
    """Received → resolved."""
    handle_seconds: float
    fields: list[FieldHistory]
    events: list[dict[str, Any]]


def audit_view(
    session: Session, document_id: str, clients: Iterable[str] | None, *, now: dt.datetime | None = None
) -> AuditView:
    """What a client may be shown: fields read automatically vs corrected, by whom, and waits."""
    now = now or utcnow()
    item, document = get_item(session, document_id, clients)
    rows = session.scalars(
        select(AuditRow).where(AuditRow.document_id == document_id).order_by(AuditRow.at, AuditRow.id)
    ).all()
    corrections = session.scalars(
        select(CorrectionRow)
        .where(CorrectionRow.document_id == document_id)
        .order_by(CorrectionRow.at, CorrectionRow.id)
    ).all()
    first_old: dict[str, str | None] = {}
    last: dict[str, CorrectionRow] = {}
    for c in corrections:
        first_old.setdefault(c.field, c.old_value)
        last[c.field] = c
    current = typed_fields(extraction_of(document))
    names = fv.catalog(document.doc_type, list(current))
    histories = []
    for name in names:
        f = current.get(name)
        value = fv.as_text(f.value) if f else None
        if value is None and name not in last:
            continue
        corr = last.get(name)
        histories.append(
            FieldHistory(
                name=name,
                value=value,
                automatic_value=first_old[name] if corr else value,
                corrected=corr is not None,
                corrected_by=corr.reviewer if corr else None,
                corrected_at=aware(corr.at) if corr else None,
                confidence=None if f is None else f.confidence,
            )
        )
    claims = [aware(r.at) for r in rows if r.action == "claim"]
    received = aware(document.received_at) or now
    first_claim = claims[0] if claims else None
    resolved = aware(item.resolved_at)
    posting = session.get(PostingRow, document_id)
    return AuditView(
        document_id=document.id,
        client=document.client,
        doc_type=document.doc_type,
        filename=document.filename,
        status=document.status,
        received_at=received,
        first_claimed_at=first_claim,
        resolved_at=resolved,
        posted_at=aware(posting.posted_at) if posting else None,
        posted_by=posting.posted_by if posting else None,
        resolution=item.resolution,
        waiting_seconds=((first_claim or now) - received).total_seconds(),
        total_seconds=(resolved - received).total_seconds() if resolved else None,
        handle_seconds=item.handle_seconds or 0.0,
        fields=histories,
        events=[
            {
                "at": aware(r.at),
                "actor": r.actor,
                "action": r.action,
                "field": r.field,
                "old": r.old_value,
                "new": r.new_value,
                "detail": r.detail or {},
            }
            for r in rows
        ],
    )


@dataclass
class ReviewerStats:
    reviewer: str
    cleared: int = 0
    escalated: int = 0
    handle_seconds: float = 0.0
    corrections: int = 0

    @property
    def per_hour(self) -> float | None:
        """Items cleared per hour of handling time."""
        return self.cleared / (self.handle_seconds / 3600) if self.handle_seconds > 0 else None

    @property
    def mean_handle_seconds(self) -> float | None:
        done = self.cleared + self.escalated
        return self.handle_seconds / done if done else None


@dataclass
class Analytics:
    since: dt.datetime
    now: dt.datetime
    cleared: int
    open_items: int
    breached: int
    median_handle_seconds: float | None
    p90_handle_seconds: float | None
    cleared_by_hour: list[tuple[dt.datetime, int]]
    reviewers: list[ReviewerStats]
    field_rates: list[tuple[str, int, int, float]]
    """(field, corrected items, reviewed items having the field, rate)."""
    reason_rates: list[tuple[str, int, int, float]]
    """(reason code, items with a correction, items with the reason, rate)."""
    oldest: list[dict[str, Any]] = field(default_factory=list)


def analytics(
    session: Session, clients: Iterable[str] | None, *, hours: int = 24 * 7, now: dt.datetime | None = None
) -> Analytics:
    """Team-lead numbers over the last ``hours`` for the clients visible to the caller."""
    now = now or utcnow()
    since = now - dt.timedelta(hours=hours)
    client_list = None if clients is None else list(clients)

    def scoped(query: _Query, column: InstrumentedAttribute[str]) -> _Query:
        return query if client_list is None else query.where(column.in_(client_list))

    events = session.execute(
        scoped(
            select(AuditRow, QueueItemRow.client)
            .join(QueueItemRow, QueueItemRow.document_id == AuditRow.document_id)
            .where(AuditRow.action.in_(RESOLUTIONS), AuditRow.at >= since),
            QueueItemRow.client,
        )
    ).all()
    reviewers: dict[str, ReviewerStats] = {}
    handle: list[float] = []
    cleared_docs: set[str] = set()
    by_hour: Counter[dt.datetime] = Counter()
    for row, _client in events:
        stats = reviewers.setdefault(row.actor, ReviewerStats(row.actor))
        seconds = float((row.detail or {}).get("seconds", 0.0))
        stats.handle_seconds += seconds
        if row.action == "escalate":
            stats.escalated += 1
            continue
        stats.cleared += 1
        handle.append(seconds)
        cleared_docs.add(row.document_id)
        at = aware(row.at) or now
        by_hour[at.replace(minute=0, second=0, microsecond=0)] += 1

    corrections = session.scalars(
        scoped(
            select(CorrectionRow).where(CorrectionRow.source == "review", CorrectionRow.at >= since),
            CorrectionRow.client,
        )
    ).all()
    corrected_fields: dict[str, set[str]] = defaultdict(set)
    corrected_docs: set[str] = set()
    for c in corrections:
        if c.reviewer in reviewers:
            reviewers[c.reviewer].corrections += 1
        corrected_fields[c.field].add(c.document_id)
        corrected_docs.add(c.document_id)

    joined = select(QueueItemRow, DocumentRow).join(DocumentRow, DocumentRow.id == QueueItemRow.document_id)
    reviewed = (
        session.execute(joined.where(QueueItemRow.document_id.in_(cleared_docs))).all()
        if cleared_docs
        else []
    )
    field_total: Counter[str] = Counter()
    reason_total: Counter[str] = Counter()
    reason_corrected: Counter[str] = Counter()
    for item, document in reviewed:
        for name in set(typed_fields(extraction_of(document))) | {
            f for f, docs in corrected_fields.items() if document.id in docs
        }:
            field_total[name] += 1
        codes = {str(r.get("code")) for r in _initial_reasons(session, item) if r.get("code")}
        for code in codes:
            reason_total[code] += 1
            if document.id in corrected_docs:
                reason_corrected[code] += 1
    field_rates = sorted(
        (
            (
                name,
                len(corrected_fields[name] & cleared_docs),
                n,
                len(corrected_fields[name] & cleared_docs) / n,
            )
            for name, n in field_total.items()
        ),
        key=lambda t: (-t[3], t[0]),
    )
    reason_rates = sorted(
        ((code, reason_corrected[code], n, reason_corrected[code] / n) for code, n in reason_total.items()),
        key=lambda t: (-t[3], t[0]),
    )

    open_rows = session.execute(
        scoped(
            joined.where(QueueItemRow.state != DONE).order_by(QueueItemRow.created_at), QueueItemRow.client
        )
    ).all()
    oldest: list[dict[str, Any]] = []
    breached = 0
    for item, document in open_rows:
        due = aware(item.due_at)
        if due is not None and due < now:
            breached += 1
        if len(oldest) < 10:
            created = aware(item.created_at) or now
            oldest.append(
                {
                    "document_id": item.document_id,
                    "client": item.client,
                    "filename": document.filename,
                    "queue": item.queue,
                    "age_seconds": (now - created).total_seconds(),
                    "seconds_to_breach": None if due is None else (due - now).total_seconds(),
                    "claimed_by": item.claimed_by if item.state == "claimed" else None,
                }
            )

    start = (now - dt.timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    timeline = [
        (start + dt.timedelta(hours=h), by_hour.get(start + dt.timedelta(hours=h), 0)) for h in range(24)
    ]
    ordered = sorted(handle)
    return Analytics(
        since=since,
        now=now,
        cleared=len(handle),
        open_items=len(open_rows),
        breached=breached,
        median_handle_seconds=statistics.median(ordered) if ordered else None,
        p90_handle_seconds=(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] if ordered else None),
        cleared_by_hour=timeline,
        reviewers=sorted(reviewers.values(), key=lambda r: (-r.cleared, r.reviewer)),
        field_rates=field_rates,
        reason_rates=reason_rates,
        oldest=oldest,
    )


def _initial_reasons(session: Session, item: QueueItemRow) -> list[dict[str, Any]]:
    """The reasons the item was queued for (the enqueue audit row), not those left after review."""
    detail = session.scalar(
        select(AuditRow.detail)
        .where(AuditRow.document_id == item.document_id, AuditRow.action == "enqueue")
        .order_by(AuditRow.at.desc(), AuditRow.id.desc())
        .limit(1)
    )
    reasons = (detail or {}).get("reasons") if isinstance(detail, dict) else None
    return [r for r in (reasons or item.reasons or []) if isinstance(r, dict)]
