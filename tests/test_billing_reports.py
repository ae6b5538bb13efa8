"""Billing reports over generated months: lines, summary and ledger must agree to the cent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import shutil
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from billing.accuracy import AccuracyStatus, qa_sample
from billing.contracts import load_contract
from billing.costs import GIB, HOUR
from billing.reports import LINE_COLUMNS, build_report, write_report
from core.db import (
    CorrectionRow,
    DocumentRow,
    LedgerRow,
    PostingRow,
    QueueItemRow,
    init_db,
    session_scope,
)
from core.settings import PROJECT_ROOT, Settings

UTC = dt.UTC
FIELDS = [
    "vendor_name",
    "invoice_number",
    "invoice_date",
    "total_amount",
    "currency",
    "subtotal",
    "tax_amount",
    "buyer_name",
    "due_date",
    "po_number",
]
AS_OF = dt.datetime(2026, 12, 15, tzinfo=UTC)


@dataclass
class Truth:
    """What the generator inserted, tallied independently of billing's code."""

    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    money: Decimal = Decimal(0)
    qa_checked: int = 0
    qa_wrong: int = 0


def write_config(root: Path, clients: dict[str, str]) -> Settings:
    folder = root / "config" / "clients"
    folder.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "config" / "clients" / "default.yaml", folder / "default.yaml")
    for name, text in clients.items():
        (folder / f"{name}.yaml").write_text(text)
    return Settings(config_dir=root / "config", home=root / "home")


def generate(
    session,
    client: str,
    period: str,
    n: int,
    seed: int,
    *,
    qa_rate: float = 0.05,
    qa_error: float = 0.002,
    late_share: float = 0.02,
) -> Truth:
    """``n`` documents received in ``period`` with their ledger, postings, queue and QA."""
    rng = random.Random(seed)
    year, month = map(int, period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=UTC)
    truth = Truth()
    for i in range(n):
        doc_id = f"{client}-{period}-{seed}-{i:06d}".ljust(64, "0")
        received = start + dt.timedelta(seconds=rng.randrange(0, 28 * 86400))
        roll = rng.random()
        status, outcome = (
            ("posted", "auto_posted")
            if roll < 0.80
            else ("posted", "reviewed")
            if roll < 0.92
            else ("rejected", "rejected")
            if roll < 0.97
            else ("review", "pending")
        )
        truth.outcomes[outcome] += 1
        hours = rng.uniform(30, 60) if rng.random() < late_share else rng.uniform(0.01, 20)
        done = received + dt.timedelta(hours=hours)
        pages = rng.randint(1, 4)
        fields = {name: {"value": "x", "confidence": 0.9} for name in FIELDS[: rng.randint(6, 10)]}
        session.add(
            DocumentRow(
                id=doc_id,
                client=client,
                source_uri=f"s3://in/{client}/{i}.pdf",
                filename=f"{i}.pdf",
                size=1000 + i,
                status=status,
                doc_type="invoice",
                received_at=received,
                page_count=pages,
                decided_at=done if status != "review" else None,
                posted_at=done if status == "posted" else None,
                extraction={"doc_type": "invoice", "fields": fields},
            )
        )
        if status == "posted":
            session.add(
                PostingRow(
                    document_id=doc_id,
                    client=client,
                    outbox_uri=f"outbox/{doc_id}.json",
                    posted_by="auto" if outcome == "auto_posted" else "alice",
                    posted_at=done,
                )
            )
        events: list[tuple[str, Decimal, float, Decimal, dict]] = []
        ocr = rng.random() < 0.6
        runs = 2 if rng.random() < 0.03 else 1
        for run in range(runs):
            if run:
                events.append(("reprocess", Decimal(1), 0.0, Decimal(0), {}))
            events.append(
                ("pages_ocr" if ocr else "pages_text_layer", Decimal(pages), 0.0, Decimal(0), {})
            )
            for stage in ("pages", "classify", "extract", "validate"):
                events.append(
                    (
                        "cpu",
                        Decimal(0),
                        round(rng.uniform(0.001, 3.0), 6),
                        Decimal(0),
                        {"stage": stage},
                    )
                )
            if ocr and rng.random() < 0.2:
                events.append(
                    ("ocr_cascade", Decimal(0), round(rng.uniform(0.5, 8), 6), Decimal(0), {})
                )
        events.append(("intake", Decimal(1000 + i), 0.0, Decimal(0), {}))
        events.append(("storage", Decimal(rng.randint(20_000, 3_000_000)), 0.0, Decimal(0), {}))
        if rng.random() < 0.01:
            events.append(("cloud_ocr", Decimal(1), 0.0, Decimal("0.012500"), {}))
        if outcome == "reviewed":
            session.add(
                QueueItemRow(
                    document_id=doc_id,
                    client=client,
                    queue="review",
                    state="done",
                    resolution="approve",
                )
            )
            events.append(("review", Decimal(0), round(rng.uniform(20, 400), 3), Decimal(0), {}))
            for name in rng.sample(sorted(fields), rng.randint(0, 2)):
                session.add(
                    CorrectionRow(
                        document_id=doc_id,
                        client=client,
                        field=name,
                        old_value="x",
                        new_value="y",
                        reviewer="alice",
                    )
                )
        if outcome == "pending":
            session.add(QueueItemRow(document_id=doc_id, client=client, queue="review"))
        if outcome == "auto_posted" and qa_sample(doc_id, qa_rate):
            session.add(QueueItemRow(document_id=doc_id, client=client, queue="qa", state="done"))
            events.append(
                ("review", Decimal(0), round(rng.uniform(30, 200), 3), Decimal(0), {"queue": "qa"})
            )
            wrong = [f for f in fields if rng.random() < qa_error]
            for name in wrong:
                session.add(
                    CorrectionRow(
                        document_id=doc_id,
                        client=client,
                        field=name,
                        old_value="x",
                        new_value="z",
                        source="qa",
                        reviewer="bob",
                    )
                )
            truth.qa_checked += len(fields)
            truth.qa_wrong += len(wrong)
        for kind, qty, seconds, money, detail in events:
            session.add(
                LedgerRow(
                    document_id=doc_id,
                    client=client,
                    kind=kind,
                    quantity=qty,
                    seconds=seconds,
                    money=money,
                    detail=detail,
                )
            )
            truth.kinds[kind] += Decimal(repr(seconds)) if seconds else qty
            truth.money += money
    return truth


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """3,000 documents of acme in 2026-11, plus neighbours that must stay out of its report."""
    root = tmp_path_factory.mktemp("billing")
    settings = write_config(
        root,
        {
            "acme": "contract:\n"
            '  prices: {auto_posted: "0.35", reviewed: "1.10", rejected: "0.05"}\n'
            '  monthly_minimum: "100.00"\n',
            "globex": "contract:\n  currency: EUR\n"
            '  prices: {auto_posted: "0.50", reviewed: "0.75", rejected: "0.00"}\n'
            '  monthly_minimum: "5000.00"\n  accuracy_sla: null\n'
            'costs:\n  review_hour: "40.00"\n',
        },
    )
    engine = init_db(f"sqlite:///{root / 'billing.db'}")
    with session_scope(engine) as session:
        truth = generate(session, "acme", "2026-11", 3000, seed=1)
        generate(session, "acme", "2026-10", 300, seed=2)
        generate(session, "acme", "2026-12", 200, seed=3)
        globex = generate(session, "globex", "2026-11", 400, seed=4)
    with session_scope(engine) as session:
        report = build_report(session, settings, "acme", "2026-11", as_of=AS_OF)
        other = build_report(session, settings, "globex", "2026-11", as_of=AS_OF)
    return settings, root / "billing.db", truth, report, globex, other


def test_lines_add_up_to_the_summary(month):
    _, _, truth, report, _, _ = month
    s = report.summary
    assert s.documents == len(report.lines) == 3000
    assert s.lines_total == sum(line.price for line in report.lines)
    assert s.cost_total == sum(line.cost for line in report.lines)
    assert s.cost_total == sum(s.cost_by_component.values())
    assert s.margin_total == s.lines_total - s.cost_total
    assert s.amount_due == s.lines_total - s.credits + s.minimum_fee_topup
    assert sum(s.revenue_by_outcome.values()) == s.lines_total
    for line in report.lines:
        parts = [getattr(line, c) for c in LINE_COLUMNS if c.startswith("cost_")]
        assert line.cost == sum(parts)
        assert line.margin == line.price - line.cost
    assert dict(truth.outcomes) == {k: v for k, v in s.volume.items() if v}
    expected_total = (
        truth.outcomes["auto_posted"] * Decimal("0.35")
        + truth.outcomes["reviewed"] * Decimal("1.10")
        + truth.outcomes["rejected"] * Decimal("0.05")
    )
    assert s.lines_total == expected_total
    assert s.stp_rate == pytest.approx(truth.outcomes["auto_posted"] / 3000)
    assert sum(day.price for day in report.daily) == s.lines_total
    assert sum(day.cost for day in report.daily) == s.cost_total


def test_lines_add_up_to_the_ledger(month):
    settings, db, truth, report, _, _ = month
    s = report.summary
    assert s.usage["pages_ocr"] == truth.kinds["pages_ocr"]
    assert s.usage["pages_text_layer"] == truth.kinds["pages_text_layer"]
    assert s.usage["cpu_seconds"] == truth.kinds["cpu"] + truth.kinds["ocr_cascade"]
    assert s.usage["review_seconds"] == truth.kinds["review"]
    assert s.usage["storage_bytes"] == truth.kinds["storage"]
    assert s.usage["reprocess_runs"] == truth.kinds["reprocess"]
    assert s.cost_by_component["direct"] == truth.money
    assert s.unpriced_kinds == ["cloud_ocr"]

    # The ledger read independently (plain sqlite3) and priced in one go, without per-document
    # rounding: it may differ from the lines only by that rounding, half a micro-dollar per
    # component per document.
    costs = load_contract(settings, "acme").costs
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT e.kind, e.quantity, e.seconds, e.money FROM ledger_events e "
            "JOIN documents d ON d.id = e.document_id WHERE d.client = 'acme' "
            "AND d.received_at >= '2026-11-01' AND d.received_at < '2026-12-01'"
        ).fetchall()
    assert len(rows) == s.ledger_events
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    money = Decimal(0)
    for kind, qty, seconds, cash in rows:
        by_kind[kind] += Decimal(repr(seconds)) if seconds else Decimal(repr(float(qty)))
        money += Decimal(repr(float(cash)))
    ledger_cost = (
        by_kind["pages_ocr"] * costs.ocr_page
        + by_kind["pages_text_layer"] * costs.text_layer_page
        + (by_kind["cpu"] + by_kind["ocr_cascade"]) * costs.cpu_hour / HOUR
        + by_kind["review"] * costs.review_hour / HOUR
        + by_kind["storage"] / GIB * costs.storage_gb_month * costs.storage_months
        + by_kind["reprocess"] * costs.reprocess
        + money
    )
    tolerance = Decimal("0.0000005") * 7 * len(report.lines)
    assert abs(ledger_cost - s.cost_total) <= tolerance
    assert s.cost_total > Decimal("1")  # the comparison above is not between two zeros


def test_period_and_client_are_kept_apart(month):
    _, _, _, report, _, globex = month
    assert all(line.document_id.startswith("acme-2026-11") for line in report.lines)
    assert all(line.received_at.strftime("%Y-%m") == "2026-11" for line in report.lines)
    assert globex.summary.documents == 400
    assert all(line.document_id.startswith("globex") for line in globex.lines)


def test_two_clients_have_their_own_contract(month):
    _, _, _, acme, truth, globex = month
    assert acme.summary.currency == "USD" and globex.summary.currency == "EUR"
    assert globex.summary.lines_total == (
        truth.outcomes["auto_posted"] * Decimal("0.50")
        + truth.outcomes["reviewed"] * Decimal("0.75")
    )
    # 400 documents at most 0.75 each cannot reach the 5,000 minimum
    assert globex.summary.minimum_fee_topup == Decimal("5000.00") - globex.summary.lines_total
    assert globex.summary.amount_due == Decimal("5000.00") - globex.summary.credits
    assert globex.summary.accuracy.status is AccuracyStatus.NO_SLA
    assert acme.summary.minimum_fee_topup == 0
    assert {line.price for line in acme.lines if line.outcome == "reviewed"} == {Decimal("1.10")}
    # globex pays 40/h for review instead of the default 28/h
    review = [line for line in globex.lines if line.review_seconds > 0]
    assert review
    for line in review:
        assert line.cost_review == (line.review_seconds * 40 / HOUR).quantize(Decimal("1e-6"))


def test_accuracy_comes_from_the_qa_sample(month):
    _, _, truth, report, _, _ = month
    acc = report.summary.accuracy
    assert truth.qa_checked > 500
    assert acc.n == truth.qa_checked
    assert acc.correct == truth.qa_checked - truth.qa_wrong
    assert acc.low <= acc.value <= acc.high
    assert acc.sla == pytest.approx(0.995)
    qa_lines = [line for line in report.lines if line.qa_status in ("passed", "failed")]
    assert sum(line.qa_fields_checked for line in qa_lines) == acc.n
    assert sum(line.qa_fields_wrong for line in qa_lines) == acc.n - acc.correct
    assert report.accuracy_trend[-1].period == "2026-11"
    assert report.accuracy_trend[-1].n == acc.n
    assert [p.period for p in report.accuracy_trend][:2] == ["2026-06", "2026-07"]
    assert report.accuracy_trend[0].status is AccuracyStatus.NO_DATA


def test_pending_documents_are_not_billed(month):
    _, _, truth, report, _, _ = month
    pending = [line for line in report.lines if line.outcome == "pending"]
    assert len(pending) == truth.outcomes["pending"] > 0
    assert all(line.price == 0 and line.completed_at is None for line in pending)
    assert any("not finished" in note for note in report.summary.notes)
    # as of mid-December every pending November document is older than 24 h: late
    assert report.summary.turnaround.late_pending == len(pending)


def _render_month(report, tmp_path):
    return {
        fmt: write_report(report, fmt, tmp_path / f"r.{fmt}")
        for fmt in ("csv", "xlsx", "html", "json")
    }


def test_every_format_renders(month, tmp_path):
    _, _, _, report, _, _ = month
    out = _render_month(report, tmp_path)

    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert len(rows) == 3000
    assert sum(Decimal(r["price"]) for r in rows) == report.summary.lines_total
    assert (tmp_path / "r.csv").read_text() == out["csv"]

    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["Summary", "Lines", "Daily", "Accuracy trend"]
    lines = wb["Lines"]
    assert lines.max_row == 3001
    header = [c.value for c in lines[1]]
    assert tuple(header) == LINE_COLUMNS
    price_col = header.index("price")
    rows_xlsx = lines.iter_rows(min_row=2, values_only=True)
    total = sum(Decimal(str(row[price_col])) for row in rows_xlsx)
    assert total == report.summary.lines_total
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True)}
    assert Decimal(str(summary["Amount due"])) == report.summary.amount_due

    html = out["html"]
    for chart in ("chart-volume", "chart-cost-price", "chart-accuracy"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart}"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "<script" not in html

    data = json.loads(out["json"])
    assert {"document_id", "outcome", "cost", "price"} <= set(data["lines"][0])
    summary = data["summary"]
    for key in (
        "documents",
        "lines_total",
        "credits",
        "minimum_fee_topup",
        "amount_due",
        "stp_rate",
        "accuracy",
    ):
        assert key in summary
    for key in ("lines_total", "credits", "minimum_fee_topup", "amount_due"):
        assert isinstance(summary[key], str) and "E" not in summary[key]
    assert (
        Decimal(summary["lines_total"])
        - Decimal(summary["credits"])
        + Decimal(summary["minimum_fee_topup"])
    ) == Decimal(summary["amount_due"])
    assert sum(Decimal(line["price"]) for line in data["lines"]) == Decimal(summary["lines_total"])
    assert {"value", "low", "high", "n", "sla", "status"} <= set(summary["accuracy"])


def test_html_escapes_what_it_shows(tmp_path):
    settings = write_config(tmp_path, {})
    engine = init_db(f"sqlite:///{tmp_path / 'x.db'}")
    with session_scope(engine) as session:
        session.add(
            DocumentRow(
                id="a" * 64,
                client="acme",
                source_uri="<script>alert(1)</script>",
                filename="<b>.pdf",
                size=1,
                status="posted",
                received_at=dt.datetime(2026, 11, 3, tzinfo=UTC),
            )
        )
        session.add(
            PostingRow(
                document_id="a" * 64,
                client="acme",
                outbox_uri="o",
                posted_at=dt.datetime(2026, 11, 3, 1, tzinfo=UTC),
            )
        )
    with session_scope(engine) as session:
        report = build_report(session, settings, "acme", "2026-11", as_of=AS_OF)
    html = write_report(report, "html")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert report.lines[0].outcome == "auto_posted"
    assert report.summary.accuracy.status is AccuracyStatus.NO_DATA
