"""Pricing of a month: volume tiers, SLA service credits, the monthly minimum, outcomes."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from billing.accuracy import AccuracyStatus
from billing.reports import build_report, parse_period
from core.db import (
    CorrectionRow,
    DocumentRow,
    PostingRow,
    QueueItemRow,
    init_db,
    session_scope,
)
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings

UTC = dt.UTC
START = dt.datetime(2026, 11, 1, tzinfo=UTC)
AS_OF = dt.datetime(2026, 12, 10, tzinfo=UTC)
BASE = (
    'contract:\n  prices: {auto_posted: "1.00", reviewed: "2.00", rejected: "0.50"}\n'
    '  monthly_minimum: "0"\n'
)


@pytest.fixture
def world(tmp_path):
    folder = tmp_path / "config" / "clients"
    folder.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "config" / "clients" / "default.yaml", folder / "default.yaml")
    engine = init_db(f"sqlite:///{tmp_path / 'p.db'}")
    settings = Settings(config_dir=tmp_path / "config", home=tmp_path)

    def contract(text: str) -> None:
        (folder / "acme.yaml").write_text(BASE + text)

    def report():
        with session_scope(engine) as s:
            return build_report(s, settings, "acme", "2026-11", as_of=AS_OF)

    return engine, contract, report


def add(s, i: int, outcome: str, *, hours: float = 1.0, fields: int = 10, qa_wrong: int = -1):
    doc = f"d{i:05d}"
    received = START + dt.timedelta(hours=i)
    status = {"auto": "posted", "user": "posted", "rejected": "rejected", "open": "review"}
    done = received + dt.timedelta(hours=hours)
    s.add(
        DocumentRow(
            id=doc,
            client="acme",
            source_uri=doc,
            filename=doc,
            size=1,
            status=status[outcome],
            received_at=received,
            decided_at=done,
            page_count=1,
            extraction={"fields": {f"f{k}": {} for k in range(fields)}},
        )
    )
    if outcome in ("auto", "user"):
        s.add(
            PostingRow(
                document_id=doc, client="acme", outbox_uri="o", posted_by=outcome, posted_at=done
            )
        )
    if qa_wrong >= 0:
        s.add(QueueItemRow(document_id=doc, client="acme", queue="qa", state="done"))
        for k in range(qa_wrong):
            s.add(
                CorrectionRow(
                    document_id=doc,
                    client="acme",
                    field=f"f{k}",
                    old_value="a",
                    new_value="b",
                    source="qa",
                    reviewer="qa",
                )
            )


def test_outcomes_and_their_prices(world):
    engine, contract, report = world
    contract("")
    with session_scope(engine) as s:
        for i, outcome in enumerate(["auto", "user", "rejected", "open"]):
            add(s, i, outcome)
    r = report()
    assert [line.outcome for line in r.lines] == ["auto_posted", "reviewed", "rejected", "pending"]
    assert [line.price for line in r.lines] == [
        Decimal("1.00"),
        Decimal("2.00"),
        Decimal("0.50"),
        Decimal(0),
    ]
    assert r.summary.lines_total == Decimal("3.50")
    assert r.summary.stp_rate == 0.25
    assert r.lines[1].posted_by == "user" and r.lines[2].posted_at is None


def test_graduated_tiers_price_each_document_by_its_rank(world):
    engine, contract, report = world
    contract('  tiers:\n    - {above: 3, prices: {auto_posted: "0.60"}}\n')
    with session_scope(engine) as s:
        for i in range(5):
            add(s, i, "auto")
        add(s, 5, "open")  # pending: takes no rank
    r = report()
    assert [line.price for line in r.lines] == [Decimal("1.00")] * 3 + [Decimal("0.60")] * 2 + [0]
    assert [line.tier for line in r.lines][:5] == [0, 0, 0, 1, 1]
    assert r.summary.lines_total == Decimal("4.20")


def test_volume_tiers_price_every_document_at_the_tier_reached(world):
    engine, contract, report = world
    contract('  tier_mode: volume\n  tiers:\n    - {above: 3, prices: {auto_posted: "0.60"}}\n')
    with session_scope(engine) as s:
        for i in range(5):
            add(s, i, "auto")
    assert report().summary.lines_total == Decimal("3.00")


def test_minimum_fee_tops_up_a_small_month(world):
    engine, contract, report = world
    contract('  monthly_minimum: "250.00"\n')
    with session_scope(engine) as s:
        add(s, 0, "auto")
    s = report().summary
    assert s.minimum_fee_topup == Decimal("249.00")
    assert s.amount_due == Decimal("250.00")
    assert any("monthly minimum" in note for note in s.notes)


def test_missed_accuracy_earns_the_deepest_credit_step(world):
    engine, contract, report = world
    contract("")  # default: 5 % below 99.5 %, 10 % below 98 %
    with session_scope(engine) as s:
        for i in range(20):  # 200 fields, 10 wrong: 95 %
            add(s, i, "auto", qa_wrong=1 if i < 10 else 0)
    s = report().summary
    assert s.accuracy.n == 200 and s.accuracy.correct == 190
    assert s.accuracy.status is AccuracyStatus.MISSED
    assert s.accuracy.credit_percent == Decimal("10")
    assert s.credits == Decimal("2.00")  # 10 % of 20.00
    assert s.amount_due == Decimal("18.00")


def test_credit_on_the_point_estimate_or_only_on_a_certain_miss(world):
    engine, contract, report = world
    with session_scope(engine) as s:
        for i in range(30):  # 300 fields, 2 wrong: 99.33 %, interval straddles 99.5 %
            add(s, i, "auto", qa_wrong=1 if i < 2 else 0)
    contract("")
    point = report().summary
    assert point.accuracy.status is AccuracyStatus.TOO_SMALL
    assert point.accuracy.credit_percent == Decimal("5")
    contract("  accuracy_sla: {credit_when: upper}\n")
    upper = report().summary
    assert upper.accuracy.status is AccuracyStatus.TOO_SMALL
    assert upper.accuracy.credit_percent == 0 and upper.credits == 0
    assert "sample too small to tell" in upper.accuracy.message


def test_turnaround_sla_and_credit_cap(world):
    engine, contract, report = world
    contract('  credit_cap_percent: "12"\n')
    with session_scope(engine) as s:
        for i in range(10):  # 2 of 10 late: 80 % within 24 h → 6 %
            add(s, i, "auto", hours=30 if i < 2 else 2, qa_wrong=2 if i < 5 else 0)
    s = report().summary
    assert (s.turnaround.within, s.turnaround.measured) == (8, 10)
    assert s.turnaround.status == "missed" and s.turnaround.credit_percent == Decimal("6")
    assert s.accuracy.credit_percent == Decimal("10")  # 90 %
    assert s.credit_percent == Decimal("12")  # 16 % capped
    assert s.credits == Decimal("1.20")
    assert s.amount_due == s.lines_total - s.credits + s.minimum_fee_topup


def test_no_documents_is_a_valid_empty_month(world):
    _, contract, report = world
    contract('  monthly_minimum: "100"\n')
    s = report().summary
    assert s.documents == 0 and s.lines_total == 0 and s.stp_rate is None
    assert s.amount_due == Decimal("100")
    assert s.accuracy.status is AccuracyStatus.NO_DATA
    assert s.turnaround.status == "no_data"


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-11", "2026/11", ""])
def test_bad_periods_are_refused(period):
    with pytest.raises(ConfigError, match="YYYY-MM"):
        parse_period(period)


def test_december_ends_at_new_year():
    assert parse_period("2026-12") == (
        dt.datetime(2026, 12, 1, tzinfo=UTC),
        dt.datetime(2027, 1, 1, tzinfo=UTC),
    )
