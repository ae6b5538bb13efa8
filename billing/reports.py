"""The billing report: per document what it cost, what it is billed and why; then the month.

A period is a calendar month of ``received_at`` in UTC. Each document of the client received in
that month is one line; its outcome comes from the document's status and its posting:

- ``auto_posted``: posted by the pipeline (``PostingRow.posted_by == "auto"``);
- ``reviewed``: posted by a person after review (``posted_by`` is a user name);
- ``rejected``: rejected, automatically as unreadable or by a reviewer;
- ``pending``: not finished when the report was built; billed 0 until it is.

The month's bill: ``lines_total`` (Σ line ``price``) − ``credits`` (SLA service credits, a share
of ``lines_total``, capped) + ``minimum_fee_topup`` (what ``lines_total`` falls short of the
monthly minimum) = ``amount_due``. Money is ``Decimal``; the JSON shows it as decimal strings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billing.accuracy import (
    Accuracy,
    AccuracyStatus,
    DocQuality,
    QAStatus,
    load_quality,
    measure,
)
from billing.contracts import (
    BILLABLE,
    BillOutcome,
    Contract,
    CreditStep,
    Money,
    Quantity,
    load_contract,
    validate_client_name,
)
from billing.costs import COMPONENTS, Usage, load_usage, price_usage
from core.db import DocumentRow, PostingRow, QueueItemRow
from core.errors import ConfigError
from core.settings import Settings

CENT = Decimal("0.01")
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TREND_MONTHS = 6


class ReportLine(BaseModel):
    document_id: str
    outcome: BillOutcome
    cost: Money
    price: Money
    margin: Money
    source: str
    filename: str
    doc_type: str | None
    status: str
    received_at: dt.datetime
    posted_at: dt.datetime | None
    completed_at: dt.datetime | None
    posted_by: str | None
    turnaround_hours: float | None
    within_turnaround: bool | None
    pages: int
    pages_ocr: Quantity
    pages_text_layer: Quantity
    cpu_seconds: Quantity
    review_seconds: Quantity
    storage_bytes: Quantity
    reprocess_runs: int
    cost_ocr_pages: Money
    cost_text_pages: Money
    cost_cpu: Money
    cost_review: Money
    cost_storage: Money
    cost_reprocess: Money
    cost_direct: Money
    tier: int
    """0 for the base prices, i for the contract's i-th volume tier."""
    qa_status: QAStatus
    qa_fields_checked: int
    qa_fields_wrong: int


LINE_COLUMNS = tuple(ReportLine.model_fields)


class TurnaroundResult(BaseModel):
    hours: Quantity | None
    target: Quantity | None
    measured: int
    within: int
    late_pending: int
    """Documents still unfinished and already older than the SLA: counted as late."""
    rate: float | None
    status: str
    credit_percent: Quantity


class AccuracySummary(Accuracy):
    credit_percent: Quantity


class Summary(BaseModel):
    currency: str
    documents: int
    billable_documents: int
    volume: dict[str, int]
    revenue_by_outcome: dict[str, Money]
    lines_total: Money
    credits: Money
    credit_percent: Quantity
    minimum_fee: Money
    minimum_fee_topup: Money
    amount_due: Money
    stp_rate: float | None
    accuracy: AccuracySummary
    extraction_accuracy: Accuracy
    turnaround: TurnaroundResult
    cost_total: Money
    cost_by_component: dict[str, Money]
    margin_total: Money
    usage: dict[str, Quantity]
    cpu_seconds_by_stage: dict[str, Quantity]
    ledger_events: int
    unpriced_kinds: list[str]
    notes: list[str]


class DailyRow(BaseModel):
    day: dt.date
    volume: dict[str, int]
    cost: Money
    price: Money


class TrendPoint(BaseModel):
    period: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    status: AccuracyStatus


class Report(BaseModel):
    client: str
    period: str
    generated_at: dt.datetime
    contract_sources: list[str]
    lines: list[ReportLine]
    summary: Summary
    daily: list[DailyRow]
    accuracy_trend: list[TrendPoint]


def parse_period(period: str) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-MM`` → [first instant, first instant of the next month) in UTC."""
    match = PERIOD.match(period)
    if not match:
        raise ConfigError(f"invalid period {period!r}: expected YYYY-MM, e.g. 2026-11")
    year, month = int(match.group(1)), int(match.group(2))
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def _shift(period: str, months: int) -> str:
    year, month = map(int, period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without a zone; they were stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _period_ids(client: str, start: dt.datetime, end: dt.datetime) -> Select[Any]:
    return select(DocumentRow.id).where(
        DocumentRow.client == client,
        DocumentRow.received_at >= start,
        DocumentRow.received_at < end,
    )


def _outcome(status: str, posted_by: str | None, had_review: bool) -> BillOutcome:
    if status == "posted":
        if posted_by is None:
            return BillOutcome.REVIEWED if had_review else BillOutcome.AUTO_POSTED
        return BillOutcome.AUTO_POSTED if posted_by == "auto" else BillOutcome.REVIEWED
    if status == "rejected":
        return BillOutcome.REJECTED
    return BillOutcome.PENDING


def _credit(steps: list[CreditStep], value: float | None) -> Decimal:
    if value is None:
        return Decimal(0)
    hits = [s.percent for s in steps if Decimal(str(value)) < s.below]
    return max(hits, default=Decimal(0))


def _accuracy_credit(contract: Contract, acc: Accuracy) -> Decimal:
    sla = contract.accuracy_sla
    if sla is None or acc.value is None:
        return Decimal(0)
    return _credit(sla.credits, acc.value if sla.credit_when == "point" else acc.high)


def _turnaround(
    contract: Contract,
    lines: list[ReportLine],
    as_of: dt.datetime,
) -> TurnaroundResult:
    sla = contract.turnaround_sla
    if sla is None:
        return TurnaroundResult(
            hours=None,
            target=None,
            measured=0,
            within=0,
            late_pending=0,
            rate=None,
            status="no_sla",
            credit_percent=Decimal(0),
        )
    limit = dt.timedelta(hours=float(sla.hours))
    measured = within = late_pending = 0
    for line in lines:
        if line.within_turnaround is not None:
            measured += 1
            within += line.within_turnaround
        elif as_of - line.received_at > limit:
            measured += 1
            late_pending += 1
    if measured == 0:
        return TurnaroundResult(
            hours=sla.hours,
            target=sla.target,
            measured=0,
            within=0,
            late_pending=0,
            rate=None,
            status="no_data",
            credit_percent=Decimal(0),
        )
    rate = within / measured
    return TurnaroundResult(
        hours=sla.hours,
        target=sla.target,
        measured=measured,
        within=within,
        late_pending=late_pending,
        rate=rate,
        status="met" if Decimal(within) >= sla.target * measured else "missed",
        credit_percent=_credit(sla.credits, rate),
    )


def _qa_accuracy(
    session: Session,
    contract: Contract,
    client: str,
    period: str,
    quality: dict[str, DocQuality] | None = None,
) -> Accuracy:
    sla = contract.accuracy_sla
    if quality is None:
        start, end = parse_period(period)
        quality = load_quality(session, client, _period_ids(client, start, end))
    return measure(
        quality.values(),
        source="qa",
        unit=sla.unit if sla else "field",
        sla=sla.target if sla else None,
    )


def build_report(
    session: Session,
    settings: Settings,
    client: str,
    period: str,
    *,
    as_of: dt.datetime | None = None,
    contract: Contract | None = None,
) -> Report:
    """The client's report for ``period`` (``YYYY-MM``), as the database stands at ``as_of``."""
    validate_client_name(client)
    start, end = parse_period(period)
    contract = contract or load_contract(settings, client)
    now = _utc(as_of) or dt.datetime.now(dt.UTC)
    ids = _period_ids(client, start, end)

    docs = session.execute(
        select(
            DocumentRow.id,
            DocumentRow.source_uri,
            DocumentRow.filename,
            DocumentRow.doc_type,
            DocumentRow.status,
            DocumentRow.received_at,
            DocumentRow.posted_at,
            DocumentRow.decided_at,
            DocumentRow.updated_at,
            DocumentRow.page_count,
            PostingRow.posted_by,
            PostingRow.posted_at.label("posting_at"),
        )
        .outerjoin(PostingRow, PostingRow.document_id == DocumentRow.id)
        .where(DocumentRow.id.in_(ids))
        .order_by(DocumentRow.received_at, DocumentRow.id)
    ).all()
    reviewed_queue = set(
        session.scalars(
            select(QueueItemRow.document_id).where(
                QueueItemRow.client == client,
                QueueItemRow.queue.in_(("review", "senior")),
                QueueItemRow.document_id.in_(ids),
            )
        )
    )
    usage = load_usage(session, client, ids)
    outcomes = {d.id: _outcome(d.status, d.posted_by, d.id in reviewed_queue) for d in docs}
    reviewed = [i for i, o in outcomes.items() if o is BillOutcome.REVIEWED]
    quality = load_quality(session, client, ids, reviewed)

    billable = [d.id for d in docs if outcomes[d.id] in BILLABLE]
    rank_of = {doc_id: rank for rank, doc_id in enumerate(billable, start=1)}
    volume_rank = len(billable)
    tier_bounds = [t.above for t in contract.tiers]

    sla_hours = contract.turnaround_sla.hours if contract.turnaround_sla else None
    lines: list[ReportLine] = []
    for d in docs:
        outcome = outcomes[d.id]
        use = usage.get(d.id, Usage())
        cost = price_usage(use, contract.costs)
        rank = rank_of.get(d.id)
        if rank is None:
            price, tier = Decimal(0), 0
        else:
            at = rank if contract.tier_mode == "graduated" else volume_rank
            price = contract.prices_at(at).of(outcome)
            tier = sum(at > bound for bound in tier_bounds)
        received = _utc(d.received_at) or start
        posted = _utc(d.posting_at if d.posting_at is not None else d.posted_at)
        if outcome in (BillOutcome.AUTO_POSTED, BillOutcome.REVIEWED):
            completed = posted or _utc(d.decided_at) or _utc(d.updated_at)
        elif outcome is BillOutcome.REJECTED:
            completed = _utc(d.decided_at) or _utc(d.updated_at)
        else:
            completed = None
        hours = None if completed is None else (completed - received).total_seconds() / 3600
        q = quality.get(d.id, DocQuality())
        lines.append(
            ReportLine(
                document_id=d.id,
                outcome=outcome,
                cost=cost.total,
                price=price,
                margin=price - cost.total,
                source=d.source_uri,
                filename=d.filename,
                doc_type=d.doc_type,
                status=d.status,
                received_at=received,
                posted_at=posted
                if outcome in (BillOutcome.AUTO_POSTED, BillOutcome.REVIEWED)
                else None,
                completed_at=completed,
                posted_by=d.posted_by,
                turnaround_hours=None if hours is None else round(hours, 3),
                within_turnaround=None
                if hours is None or sla_hours is None
                else Decimal(str(hours)) <= sla_hours,
                pages=d.page_count or 0,
                pages_ocr=use.pages_ocr,
                pages_text_layer=use.pages_text_layer,
                cpu_seconds=use.cpu_seconds,
                review_seconds=use.review_seconds,
                storage_bytes=use.storage_bytes,
                reprocess_runs=use.reprocess_runs,
                **{f"cost_{c}": getattr(cost, c) for c in COMPONENTS},
                tier=tier,
                qa_status=q.qa_status,
                qa_fields_checked=q.qa_checked,
                qa_fields_wrong=q.qa_wrong,
            )
        )

    accuracy = _qa_accuracy(session, contract, client, period, quality)
    sla = contract.accuracy_sla
    extraction = measure(
        quality.values(), source="review", unit=sla.unit if sla else "field", sla=None
    )
    turnaround = _turnaround(contract, lines, now)
    summary = _summarize(contract, lines, usage, accuracy, extraction, turnaround)
    return Report(
        client=client,
        period=period,
        generated_at=now,
        contract_sources=list(contract.sources),
        lines=lines,
        summary=summary,
        daily=_daily(lines, start, end),
        accuracy_trend=_trend(session, contract, client, period, accuracy),
    )


def _summarize(
    contract: Contract,
    lines: list[ReportLine],
    usage: dict[str, Usage],
    accuracy: Accuracy,
    extraction: Accuracy,
    turnaround: TurnaroundResult,
) -> Summary:
    volume = Counter(line.outcome.value for line in lines)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        revenue[line.outcome.value] += line.price
    lines_total = sum((line.price for line in lines), Decimal(0))
    cost_total = sum((line.cost for line in lines), Decimal(0))

    acc_credit = _accuracy_credit(contract, accuracy)
    percent = min(acc_credit + turnaround.credit_percent, contract.credit_cap_percent)
    credits = (lines_total * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    topup = max(Decimal(0), contract.monthly_minimum - lines_total)
    amount_due = lines_total - credits + topup

    totals: dict[str, Decimal] = defaultdict(Decimal)
    stages: dict[str, Decimal] = defaultdict(Decimal)
    events = 0
    unpriced: set[str] = set()
    doc_ids = {line.document_id for line in lines}
    for doc_id, use in usage.items():
        if doc_id not in doc_ids:
            continue
        for name in (
            "pages_ocr",
            "pages_text_layer",
            "cpu_seconds",
            "review_seconds",
            "storage_bytes",
        ):
            totals[name] += getattr(use, name)
        totals["reprocess_runs"] += use.reprocess_runs
        for stage, seconds in use.cpu_seconds_by_stage.items():
            stages[stage] += seconds
        events += use.events
        unpriced |= use.unpriced_kinds

    notes = []
    pending = volume.get(BillOutcome.PENDING.value, 0)
    if pending:
        notes.append(
            f"{pending} document(s) were not finished when the report was built: "
            "billed 0 here; rebuild the report once they are."
        )
    if unpriced:
        notes.append(
            f"ledger kinds with no price in the cost model (only their money counted): "
            f"{', '.join(sorted(unpriced))}"
        )
    if topup:
        notes.append(f"monthly minimum {contract.monthly_minimum} {contract.currency} applies")

    billable = sum(volume.get(o.value, 0) for o in BILLABLE)
    return Summary(
        currency=contract.currency,
        documents=len(lines),
        billable_documents=billable,
        volume={o.value: volume.get(o.value, 0) for o in BillOutcome},
        revenue_by_outcome={o.value: revenue.get(o.value, Decimal(0)) for o in BillOutcome},
        lines_total=lines_total,
        credits=credits,
        credit_percent=percent,
        minimum_fee=contract.monthly_minimum,
        minimum_fee_topup=topup,
        amount_due=amount_due,
        stp_rate=volume.get(BillOutcome.AUTO_POSTED.value, 0) / len(lines) if lines else None,
        accuracy=AccuracySummary(**accuracy.model_dump(), credit_percent=acc_credit),
        extraction_accuracy=extraction,
        turnaround=turnaround,
        cost_total=cost_total,
        cost_by_component={
            c: sum((getattr(line, f"cost_{c}") for line in lines), Decimal(0)) for c in COMPONENTS
        },
        margin_total=lines_total - cost_total,
        usage=dict(totals),
        cpu_seconds_by_stage=dict(sorted(stages.items())),
        ledger_events=events,
        unpriced_kinds=sorted(unpriced),
        notes=notes,
    )


def _daily(lines: list[ReportLine], start: dt.datetime, end: dt.datetime) -> list[DailyRow]:
    days: dict[dt.date, DailyRow] = {}
    day = start.date()
    while day < end.date():
        days[day] = DailyRow(
            day=day, volume={o.value: 0 for o in BillOutcome}, cost=Decimal(0), price=Decimal(0)
        )
        day += dt.timedelta(days=1)
    for line in lines:
        row = days[line.received_at.date()]
        row.volume[line.outcome.value] += 1
        row.cost += line.cost
        row.price += line.price
    return list(days.values())


def _trend(
    session: Session, contract: Contract, client: str, period: str, current: Accuracy
) -> list[TrendPoint]:
    """QA accuracy of the last ``TREND_MONTHS`` months, ending with ``period`` (``current``)."""
    out = []
    for back in range(TREND_MONTHS - 1, -1, -1):
        month = _shift(period, -back)
        acc = current if back == 0 else _qa_accuracy(session, contract, client, month)
        out.append(
            TrendPoint(
                period=month,
                value=acc.value,
                low=acc.low,
                high=acc.high,
                n=acc.n,
                status=acc.status,
            )
        )
    return out


def write_report(report: Report, fmt: str, out: Path | None = None) -> bytes | str:
    """Render ``report`` as ``csv``, ``xlsx`` (bytes), ``html`` or ``json``; write to ``out``."""
    from billing.render import write_report as render_and_write

    return render_and_write(report, fmt, out)
