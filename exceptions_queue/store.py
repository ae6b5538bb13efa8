"""The exceptions queue: enqueue, claim with a lease, correct, resolve; every step audited.

Plain functions over a SQLAlchemy ``Session`` (SQLite and PostgreSQL); the caller commits.

Claims are conditional updates (``… WHERE state = 'open' OR lease expired``), so two reviewers
can never hold the same item on either database; on PostgreSQL ``claim_next`` also picks its
candidate with ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent claimers do not queue up behind
one row. An expired lease puts the item back in play: anyone may claim it, and until someone does
the previous holder may still act on it.

Only the lease holder may act on a claimed item (``ConflictError`` otherwise). Time from claim to
resolution is added to ``handle_seconds`` and to the ledger (kind ``review``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from billing import ledger
from core.db import AuditRow, CorrectionRow, DocumentRow, PostingRow, QueueItemRow, utcnow
from core.errors import ConflictError, DocflowError, NotFoundError
from core.models import (
    DocType,
    Extraction,
    Field,
    Finding,
    LedgerEvent,
    Severity,
    Status,
    to_label_value,
)
from core.settings import Settings
from exceptions_queue import fields as fv
from storage.buckets import Bucket
from storage.outbox import export_batch, post_document

DEFAULT_SLA_HOURS = 24.0
QUEUES = ("review", "senior", "qa")
OPEN, CLAIMED, DONE = "open", "claimed", "done"


class InvalidCorrectionError(DocflowError):
    """A reviewer's value cannot be read (``errors``: field → message); nothing was saved."""

    exit_code = 2

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid values: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class UnresolvedFindingsError(ConflictError):
    """Approve refused: error findings remain and the reviewer did not override them."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("cannot approve while errors remain: " + "; ".join(f.message for f in findings))
        self.findings = findings


@overload
def aware(value: dt.datetime) -> dt.datetime: ...
@overload
def aware(value: dt.datetime | None) -> dt.datetime | None: ...
def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every datetime docflow stores is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- enqueue


class _Unknown:
    """``enqueue``'s ``current`` when the caller has not looked the item up."""


LOOK_UP = _Unknown()


def enqueue(
    session: Session,
    document: DocumentRow,
    findings: list[Finding],
    queue: str = "review",
    due_at: dt.datetime | None = None,
    *,
    sla_hours: float = DEFAULT_SLA_HOURS,
    now: dt.datetime | None = None,
    current: QueueItemRow | _Unknown | None = LOOK_UP,
    flush: bool = True,
) -> QueueItemRow:
    """Put ``document`` in ``queue``; idempotent: an open or claimed item is returned as it is.

    A done item (the document came back, e.g. after reprocessing) is reopened. ``due_at`` defaults
    to ``now + sla_hours`` (the turnaround target). ``current``: the document's queue item as the
    caller already loaded it (None: it has none), which spares a query per document when a
    chunk is finalized; ``flush=False`` leaves the writes to the caller's next flush or commit.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    now = now or utcnow()
    reasons = [f.model_dump(mode="json") for f in findings]
    item = session.get(QueueItemRow, document.id) if isinstance(current, _Unknown) else current
    if item is not None and item.state in (OPEN, CLAIMED):
        return item
    due = due_at or now + dt.timedelta(hours=sla_hours)
    if item is None:
        item = QueueItemRow(
            document_id=document.id, client=document.client, created_at=now, handle_seconds=0.0
        )
        session.add(item)
    item.doc_type = document.doc_type
    item.queue = queue
    item.state = OPEN
    item.reasons = reasons
    item.claimed_by = None
    item.lease_expires_at = None
    item.due_at = due
    item.resolved_at = None
    item.resolution = None
    item.resolution_note = None
    if queue != "qa" and document.status != Status.POSTED.value:
        document.status = (Status.ESCALATED if queue == "senior" else Status.REVIEW).value
        document.findings = reasons
    _audit(session, document.id, "system", "enqueue", detail={"queue": queue, "reasons": reasons}, at=now)
    if flush:
        session.flush()
    return item


# --------------------------------------------------------------------------- claims


def _claimable(user: str | None, now: dt.datetime) -> Any:
    expired = and_(QueueItemRow.state == CLAIMED, QueueItemRow.lease_expires_at < now)
    conditions = [QueueItemRow.state == OPEN, expired]
    if user is not None:
        conditions.append(and_(QueueItemRow.state == CLAIMED, QueueItemRow.claimed_by == user))
    return or_(*conditions)


def _try_claim(
    session: Session, document_id: str, user: str, lease_minutes: int, now: dt.datetime, *, allow_own: bool
) -> QueueItemRow | None:
    previous = session.execute(
        select(QueueItemRow.claimed_by, QueueItemRow.state).where(QueueItemRow.document_id == document_id)
    ).one_or_none()
    result = session.execute(
        update(QueueItemRow)
        .where(QueueItemRow.document_id == document_id, _claimable(user if allow_own else None, now))
        .values(state=CLAIMED, claimed_by=user, lease_expires_at=now + dt.timedelta(minutes=lease_minutes))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    item = session.execute(
        select(QueueItemRow)
        .where(QueueItemRow.document_id == document_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    renewed = previous is not None and previous.state == CLAIMED and previous.claimed_by == user
    detail: dict[str, Any] = {"lease_minutes": lease_minutes, "queue": item.queue}
    if previous is not None and previous.state == CLAIMED and not renewed:
        detail["took_expired_lease_of"] = previous.claimed_by
    _audit(session, document_id, user, "renew" if renewed else "claim", detail=detail, at=now)
    session.flush()
    return item


def claim(
    session: Session, document_id: str, user: str, lease_minutes: int, *, now: dt.datetime | None = None
) -> QueueItemRow:
    """Claim one item (or renew the caller's own lease); ConflictError if someone else holds it."""
    now = now or utcnow()
    item = _try_claim(session, document_id, user, lease_minutes, now, allow_own=True)
    if item is not None:
        return item
    current = session.get(QueueItemRow, document_id, populate_existing=True)
    if current is None:
        raise NotFoundError(f"no queue item for document {document_id}")
    if current.state == DONE:
        raise ConflictError(f"document {document_id} is already {current.resolution}")
    raise ConflictError(f"document {document_id} is being reviewed by {current.claimed_by}")


def claim_next(
    session: Session,
    user: str,
    clients: Iterable[str] | None,
    lease_minutes: int,
    *,
    queues: Sequence[str] = ("review",),
    now: dt.datetime | None = None,
) -> QueueItemRow | None:
    """Claim the most urgent claimable item of ``clients`` (``None``: every client), or None."""
    now = now or utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    skipped: list[str] = []
    for _attempt in range(20):
        query = (
            select(QueueItemRow.document_id)
            .where(_claimable(None, now), QueueItemRow.queue.in_(list(queues)))
            .order_by(
                QueueItemRow.due_at.asc().nulls_last(), QueueItemRow.created_at, QueueItemRow.document_id
            )
            .limit(1)
        )
        if clients is not None:
            query = query.where(QueueItemRow.client.in_(list(clients)))
        if skipped:
            query = query.where(QueueItemRow.document_id.not_in(skipped))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        document_id = session.scalar(query)
        if document_id is None:
            return None
        item = _try_claim(session, document_id, user, lease_minutes, now, allow_own=False)
        if item is not None:
            return item
        skipped.append(document_id)  # lost a race on SQLite; try the next one
    return None


def _held(session: Session, document_id: str, user: str) -> QueueItemRow:
    """The item, locked, if ``user`` holds its lease (an expired lease nobody took still counts)."""
    item = session.execute(
        select(QueueItemRow)
        .where(QueueItemRow.document_id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if item is None:
        raise NotFoundError(f"no queue item for document {document_id}")
    if item.state == DONE:
        raise ConflictError(f"document {document_id} is already {item.resolution}")
    if item.state != CLAIMED or item.claimed_by != user:
        who = f"claimed by {item.claimed_by}" if item.state == CLAIMED else "not claimed"
        raise ConflictError(f"document {document_id} is {who}; claim it first")
    return item


def _document(session: Session, document_id: str) -> DocumentRow:
    document = session.get(DocumentRow, document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id}")
    return document


# --------------------------------------------------------------------------- corrections


def extraction_of(document: DocumentRow) -> Extraction:
    if document.extraction:
        return Extraction.model_validate(document.extraction)
    return Extraction(doc_type=DocType(document.doc_type or DocType.UNKNOWN.value))


def typed_fields(extraction: Extraction) -> dict[str, Field]:
    """The extraction's fields with values typed (the JSON keeps money and dates as strings)."""
    return {
        name: f.model_copy(update={"value": fv.typed_from_json(name, f.value)})
        for name, f in extraction.fields.items()
    }


def label_fields(extraction: Extraction) -> dict[str, Any]:
    """Final values in label format: what posting writes to the outbox."""
    return {
        name: to_label_value(f.value)
        for name, f in typed_fields(extraction).items()
        if f.value is not None and f.value != []
    }


def revalidate(
    document: DocumentRow,
    extraction: Extraction,
    settings: Settings | None = None,
    history: Any = None,
    *,
    today: dt.date | None = None,
) -> list[Finding]:
    """THE re-validation call point: ``validators.validate_fields`` on the corrected fields.

    Needs ``settings`` (the client's policy lives in its configuration) and optionally a
    ``validators.History`` for the duplicate check. Without settings, or while ``validators``
    cannot be imported, a small built-in check (``_fallback_checks``) still tells the reviewer
    whether the sums add up.
    """
    try:
        from validators import load_context, validate_fields
    except ImportError:
        return _fallback_checks(typed_fields(extraction))
    if settings is None:
        return _fallback_checks(typed_fields(extraction))
    ctx = load_context(settings, document.client, today or utcnow().date(), history)
    return list(
        validate_fields(
            extraction.doc_type.value,
            label_fields(extraction),
            ctx,
            document_id=document.id,
            client=document.client,
        )
    )


def _fallback_checks(fields: dict[str, Field]) -> list[Finding]:
    def money(name: str) -> Decimal | None:
        value = fields[name].value if name in fields else None
        return value if isinstance(value, Decimal) else None

    findings: list[Finding] = []
    total, subtotal, tax = money("total_amount"), money("subtotal"), money("tax_amount")
    if total is None:
        findings.append(
            Finding(code="missing_field", field="total_amount", message="The total amount is missing.")
        )
    if total is not None and subtotal is not None:
        expected = subtotal + (tax or Decimal("0"))
        if abs(expected - total) > Decimal("0.01"):
            findings.append(
                Finding(
                    code="total_mismatch",
                    field="total_amount",
                    message=f"Subtotal {subtotal:.2f} + tax {tax or 0:.2f} = {expected:.2f}, "
                    f"but the total is {total:.2f}.",
                )
            )
    items = fields["line_items"].value if "line_items" in fields else None
    # the lines' own stated sum when there is one (allowances and charges lie between it and
    # the subtotal), else the subtotal
    target, what = (money("lines_total"), "line total") if "lines_total" in fields else (
        subtotal, "subtotal")
    if isinstance(items, list) and items and target is not None:
        amounts = [r.get("amount") for r in items if isinstance(r, dict) and not r.get("parent")]
        decimals = [a for a in amounts if isinstance(a, Decimal)]
        if amounts and len(decimals) == len(amounts):
            s = sum(decimals, Decimal("0"))
            if abs(s - target) > Decimal("0.01"):
                findings.append(
                    Finding(
                        code="line_items_mismatch",
                        field="line_items",
                        severity=Severity.WARNING,
                        message=f"Line items add up to {s:.2f}, the {what} is {target:.2f}.",
                    )
                )
    return findings


def save(
    session: Session,
    document_id: str,
    user: str,
    changes: dict[str, Any],
    *,
    settings: Settings | None = None,
    history: Any = None,
    now: dt.datetime | None = None,
) -> list[Finding]:
    """Apply a reviewer's corrections, field by field, and re-validate at once.

    ``changes``: field name → text (or rows for ``line_items``/``service_lines``). Unchanged values
    (in label format) are ignored; each real change is a CorrectionRow and an AuditRow. Raises
    InvalidCorrectionError (nothing saved) if a value cannot be read.
    """
    now = now or utcnow()
    item = _held(session, document_id, user)
    document = _document(session, document_id)
    extraction = extraction_of(document)
    current = typed_fields(extraction)

    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in changes.items():
        try:
            parsed[name] = fv.parse_value(name, raw)
        except fv.FieldValueError as exc:
            errors[name] = exc.message
    if errors:
        raise InvalidCorrectionError(errors)

    new_fields = dict(extraction.fields)
    changed: list[str] = []
    for name, value in parsed.items():
        old = current.get(name)
        old_text = fv.as_text(old.value if old else None)
        new_text = fv.as_text(value)
        if old_text == new_text:
            continue
        changed.append(name)
        base = old or Field(name=name, value=None, confidence=1.0)
        new_fields[name] = base.model_copy(
            update={"value": value, "raw": new_text, "confidence": 1.0, "method": "review",
                    "doubt": None}
        )
        session.add(
            CorrectionRow(
                document_id=document_id,
                client=document.client,
                field=name,
                old_value=old_text,
                new_value=new_text,
                source="qa" if item.queue == "qa" else "review",
                reviewer=user,
                at=now,
            )
        )
        _audit(session, document_id, user, "correct", field=name, old=old_text, new=new_text, at=now)
    extraction = extraction.model_copy(update={"fields": new_fields})
    document.extraction = extraction.model_dump(mode="json")

    findings = revalidate(document, extraction, settings, history)
    dumped = [f.model_dump(mode="json") for f in findings]
    document.findings = dumped
    item.reasons = dumped
    if changed:
        _audit(
            session,
            document_id,
            user,
            "save",
            detail={"changed": changed, "findings": [f.code for f in findings]},
            at=now,
        )
    session.flush()
    return findings


# --------------------------------------------------------------------------- resolutions


def _finish(
    session: Session,
    item: QueueItemRow,
    document: DocumentRow,
    user: str,
    action: str,
    now: dt.datetime,
    *,
    resolved: bool,
    note: str | None = None,
    extra: dict[str, Any] | None = None,
) -> float:
    """Add the time since the caller's claim to handle_seconds, the audit log and the ledger."""
    started = session.scalar(
        select(AuditRow.at)
        .where(AuditRow.document_id == item.document_id, AuditRow.actor == user, AuditRow.action == "claim")
        .order_by(AuditRow.at.desc(), AuditRow.id.desc())
        .limit(1)
    )
    seconds = max(0.0, (now - aware(started)).total_seconds()) if started else 0.0
    item.handle_seconds = (item.handle_seconds or 0.0) + seconds
    detail = {"seconds": round(seconds, 3), "queue": item.queue, **(extra or {})}
    if note:
        detail["note"] = note
    _audit(session, item.document_id, user, action, detail=detail, at=now)
    ledger.record(
        session,
        LedgerEvent(
            document_id=item.document_id,
            client=document.client,
            kind="review",
            quantity=Decimal(1 if resolved else 0),
            seconds=seconds,
            detail={"action": action, "reviewer": user, "queue": item.queue},
        ),
    )
    return seconds


def approve(
    session: Session,
    document_id: str,
    user: str,
    outbox: Bucket,
    *,
    override_note: str | None = None,
    settings: Settings | None = None,
    history: Any = None,
    now: dt.datetime | None = None,
) -> bool:
    """Post the corrected document (idempotent) and close the item. True if this call posted it.

    Refused (UnresolvedFindingsError) while error findings remain, unless ``override_note`` says
    why the reviewer posts anyway.
    """
    now = now or utcnow()
    item = _held(session, document_id, user)
    document = _document(session, document_id)
    extraction = extraction_of(document)
    findings = revalidate(document, extraction, settings, history)
    errors = [f for f in findings if f.severity == Severity.ERROR]
    if errors and not (override_note and override_note.strip()):
        raise UnresolvedFindingsError(errors)
    if item.queue == "qa":  # a blind re-key of a posted document: corrections only, no posting
        posted = False
    else:
        posted = post_document(session, outbox, document, label_fields(extraction), posted_by=user)
        document.status = Status.POSTED.value
        if posted:
            session.flush()
            export_batch(session, outbox, document.client, now.date())
    document.findings = [f.model_dump(mode="json") for f in findings]
    document.decided_at = now
    _close(item, "approved", override_note, now)
    _finish(
        session,
        item,
        document,
        user,
        "approve",
        now,
        resolved=True,
        note=override_note,
        extra={"posted": posted, "findings": [f.code for f in findings]},
    )
    session.flush()
    return posted


def reject(
    session: Session, document_id: str, user: str, reason: str, *, now: dt.datetime | None = None
) -> QueueItemRow:
    if not reason or not reason.strip():
        raise InvalidCorrectionError({"reason": "a rejection needs a reason"})
    now = now or utcnow()
    item = _held(session, document_id, user)
    document = _document(session, document_id)
    if document.status != Status.POSTED.value:
        document.status = Status.REJECTED.value
        document.decided_at = now
    _close(item, "rejected", reason.strip(), now)
    _finish(session, item, document, user, "reject", now, resolved=True, note=reason.strip())
    session.flush()
    return item


def escalate(
    session: Session, document_id: str, user: str, note: str, *, now: dt.datetime | None = None
) -> QueueItemRow:
    """Move the item to the ``senior`` queue, open for a senior reviewer to claim."""
    now = now or utcnow()
    item = _held(session, document_id, user)
    document = _document(session, document_id)
    _finish(session, item, document, user, "escalate", now, resolved=False, note=(note or "").strip() or None)
    item.queue = "senior"
    item.state = OPEN
    item.claimed_by = None
    item.lease_expires_at = None
    item.resolution_note = (note or "").strip() or None
    if document.status != Status.POSTED.value:
        document.status = Status.ESCALATED.value
    session.flush()
    return item


def release(session: Session, document_id: str, user: str, *, now: dt.datetime | None = None) -> QueueItemRow:
    now = now or utcnow()
    item = _held(session, document_id, user)
    document = _document(session, document_id)
    _finish(session, item, document, user, "release", now, resolved=False)
    item.state = OPEN
    item.claimed_by = None
    item.lease_expires_at = None
    session.flush()
    return item


def _close(item: QueueItemRow, resolution: str, note: str | None, now: dt.datetime) -> None:
    item.state = DONE
    item.resolution = resolution
    item.resolution_note = note
    item.resolved_at = now
    item.lease_expires_at = None


def _audit(
    session: Session,
    document_id: str,
    actor: str,
    action: str,
    *,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    session.add(
        AuditRow(
            document_id=document_id,
            actor=actor,
            action=action,
            field=field,
            old_value=old,
            new_value=new,
            detail=detail,
            at=at or utcnow(),
        )
    )


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class QueueEntry:
    document_id: str
    client: str
    doc_type: str | None
    queue: str
    state: str
    reasons: list[dict[str, Any]]
    claimed_by: str | None
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    filename: str
    source: str
    age_seconds: float
    seconds_to_breach: float | None
    """Negative once the turnaround target has passed."""

    @property
    def reason_codes(self) -> list[str]:
        return sorted({str(r.get("code")) for r in self.reasons if r.get("code")})

    @property
    def breached(self) -> bool:
        return self.seconds_to_breach is not None and self.seconds_to_breach < 0

    def claimed_now(self, now: dt.datetime) -> bool:
        lease = aware(self.lease_expires_at)
        return self.state == CLAIMED and lease is not None and lease > now


def list_items(
    session: Session,
    clients: Iterable[str] | None,
    *,
    client: str | None = None,
    doc_type: str | None = None,
    reason: str | None = None,
    min_age_hours: float | None = None,
    max_age_hours: float | None = None,
    queue: str | None = None,
    include_done: bool = False,
    now: dt.datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[QueueEntry]:
    """Open (and claimed) items visible to ``clients`` (None: all), most urgent first.

    ``limit``/``offset`` page through a long queue; only the columns a list shows are read
    (never a document's extraction), so a page stays fast with tens of thousands of items.
    """
    now = now or utcnow()
    query = select(QueueItemRow, DocumentRow.filename, DocumentRow.source_uri).join(
        DocumentRow, DocumentRow.id == QueueItemRow.document_id
    )
    if clients is not None:
        query = query.where(QueueItemRow.client.in_(list(clients)))
    if client:
        query = query.where(QueueItemRow.client == client)
    if doc_type:
        query = query.where(QueueItemRow.doc_type == doc_type)
    if queue:
        query = query.where(QueueItemRow.queue == queue)
    if not include_done:
        query = query.where(QueueItemRow.state != DONE)
    if min_age_hours is not None:
        query = query.where(QueueItemRow.created_at <= now - dt.timedelta(hours=min_age_hours))
    if max_age_hours is not None:
        query = query.where(QueueItemRow.created_at >= now - dt.timedelta(hours=max_age_hours))
    query = query.order_by(
        QueueItemRow.due_at.asc().nulls_last(), QueueItemRow.created_at, QueueItemRow.document_id
    )
    if limit is not None and not reason:
        query = query.limit(limit).offset(offset)
    out: list[QueueEntry] = []
    skipped = 0
    for item, filename, source_uri in session.execute(query).all():
        reasons = [r for r in (item.reasons or []) if isinstance(r, dict)]
        if reason and reason not in {r.get("code") for r in reasons}:
            continue
        if reason and limit is not None:
            if skipped < offset:
                skipped += 1
                continue
            if len(out) >= limit:
                break
        created = aware(item.created_at) or now
        due = aware(item.due_at)
        out.append(
            QueueEntry(
                document_id=item.document_id,
                client=item.client,
                doc_type=item.doc_type,
                queue=item.queue,
                state=item.state,
                reasons=reasons,
                claimed_by=item.claimed_by,
                lease_expires_at=aware(item.lease_expires_at),
                created_at=created,
                due_at=due,
                filename=filename,
                source=source_uri,
                age_seconds=(now - created).total_seconds(),
                seconds_to_breach=None if due is None else (due - now).total_seconds(),
            )
        )
    return out


@dataclass(frozen=True)
class QueueSummary:
    total: int
    breached: int
    clients: list[str]
    doc_types: list[str]
    reasons: list[str]


def queue_summary(
    session: Session, clients: Iterable[str] | None, now: dt.datetime | None = None
) -> QueueSummary:
    """Counts and filter choices for the open queue, from a few small aggregate queries."""
    now = now or utcnow()
    base = select(QueueItemRow).where(QueueItemRow.state != DONE)
    if clients is not None:
        base = base.where(QueueItemRow.client.in_(list(clients)))
    sub = base.subquery()
    total = session.scalar(select(func.count()).select_from(sub)) or 0
    breached = session.scalar(select(func.count()).select_from(sub).where(sub.c.due_at < now)) or 0
    # A subquery's columns are untyped: say what QueueItemRow's columns hold.
    found_clients: Iterable[str] = session.scalars(select(sub.c.client).distinct())
    client_names = sorted(c for c in found_clients if c)
    found_types: Iterable[str | None] = session.scalars(select(sub.c.doc_type).distinct())
    doc_types = sorted(t for t in found_types if t)
    codes: set[str] = set()
    found_reasons: Iterable[list[Any] | None] = session.scalars(select(sub.c.reasons).distinct().limit(5000))
    for reasons in found_reasons:
        codes.update(code for r in (reasons or []) if isinstance(r, dict) and (code := r.get("code")))
    return QueueSummary(total, breached, client_names, doc_types, sorted(codes))


def get_item(
    session: Session, document_id: str, clients: Iterable[str] | None
) -> tuple[QueueItemRow, DocumentRow]:
    """The item and its document, or NotFoundError if it does not exist or is not visible."""
    item = session.get(QueueItemRow, document_id)
    if item is None or (clients is not None and item.client not in set(clients)):
        raise NotFoundError(f"no queue item {document_id}")
    return item, _document(session, document_id)


def queue_list_json(session: Session, client: str | None = None) -> list[dict[str, Any]]:
    """``docflow queue list --json``: every document of ``client`` that was not posted."""
    posted = select(PostingRow.document_id)
    query = (
        select(DocumentRow)
        .where(DocumentRow.status != Status.POSTED.value, DocumentRow.id.not_in(posted))
        .order_by(DocumentRow.received_at, DocumentRow.id)
    )
    if client is not None:
        query = query.where(DocumentRow.client == client)
    out = []
    for document in session.scalars(query):
        out.append(
            {
                "document_id": document.id,
                "client": document.client,
                "doc_type": document.doc_type,
                "status": document.status,
                "source": document.source_uri,
                "findings": [
                    {
                        "code": f.get("code"),
                        "field": f.get("field"),
                        "severity": f.get("severity", Severity.ERROR.value),
                        "message": f.get("message"),
                    }
                    for f in (document.findings or [])
                    if isinstance(f, dict)
                ],
            }
        )
    return out
