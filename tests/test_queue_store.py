"""The queue store on SQLite and on a real PostgreSQL (a throw-away database per test run)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db import (
    AuditRow,
    CorrectionRow,
    DocumentRow,
    LedgerRow,
    PostingRow,
    QueueItemRow,
    get_engine,
    init_db,
    utcnow,
)
from core.errors import ConflictError, NotFoundError
from core.models import Finding, Severity
from core.settings import Settings
from exceptions_queue import reports, store, users
from exceptions_queue.demo import make_invoice
from storage.buckets import LocalBucket

PG_URL = os.environ.get("DOCFLOW_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = ("queue_items", "postings", "audit_log", "corrections", "ledger_events", "users",
          "documents")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module's tests, dropped afterwards."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL unreachable at {PG_URL}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    name = f"docflow_test_{secrets.token_hex(6)}"
    conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        init_db(url)
        yield url
    finally:
        get_engine(url).dispose()
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.close()
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield init_db(f"sqlite:///{tmp_path / 'queue.db'}")
        return
    url = request.getfixturevalue("pg_url")
    eng = get_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    yield eng


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessionmaker(engine, expire_on_commit=False)() as s:
        yield s
        s.rollback()


def _doc(session: Session, tmp_path: Path, client: str = "acme", name: str = "a.pdf",
         **kw: object) -> DocumentRow:
    document, _item = make_invoice(session, client, tmp_path / "img", name=name, **kw)  # type: ignore[arg-type]
    session.commit()
    return document


# --------------------------------------------------------------------------- enqueue


def test_enqueue_is_idempotent_and_sets_the_sla(session: Session, tmp_path: Path) -> None:
    now = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    document, _ = make_invoice(session, "acme", tmp_path, enqueue_it=False)
    findings = [Finding(code="total_mismatch", field="total_amount", message="m")]
    item = store.enqueue(session, document, findings, now=now)
    again = store.enqueue(session, document, [Finding(code="other", message="x")],
                          now=now + dt.timedelta(hours=1))
    session.commit()
    assert again is item
    assert session.scalar(select(QueueItemRow.document_id).where(
        QueueItemRow.document_id == document.id)) == document.id
    assert store.aware(item.due_at) == now + dt.timedelta(hours=24)
    assert item.reasons[0]["code"] == "total_mismatch"
    assert document.status == "review"

    other, _ = make_invoice(session, "acme", tmp_path, name="b.pdf", enqueue_it=False)
    short = store.enqueue(session, other, findings, now=now, sla_hours=4)
    assert store.aware(short.due_at) == now + dt.timedelta(hours=4)


def test_a_done_item_is_reopened_when_the_document_comes_back(session: Session,
                                                             tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    store.reject(session, document.id, "ann", "not ours")
    item = store.enqueue(session, document, [Finding(code="again", message="m")])
    assert (item.state, item.resolution, item.claimed_by) == ("open", None, None)
    assert document.status == "review"


# --------------------------------------------------------------------------- claims


def test_claim_is_exclusive_until_the_lease_expires(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    now = utcnow()
    item = store.claim(session, document.id, "ann", 15, now=now)
    session.commit()
    assert (item.state, item.claimed_by) == ("claimed", "ann")
    assert store.aware(item.lease_expires_at) == now + dt.timedelta(minutes=15)

    with pytest.raises(ConflictError, match="ann"):
        store.claim(session, document.id, "bob", 15, now=now + dt.timedelta(minutes=5))
    session.rollback()
    renewed = store.claim(session, document.id, "ann", 15, now=now + dt.timedelta(minutes=5))
    assert store.aware(renewed.lease_expires_at) == now + dt.timedelta(minutes=20)

    later = now + dt.timedelta(minutes=21)
    taken = store.claim(session, document.id, "bob", 15, now=later)
    session.commit()
    assert taken.claimed_by == "bob"
    with pytest.raises(ConflictError):
        store.save(session, document.id, "ann", {"total_amount": "144.00"}, now=later)
    session.rollback()
    actions = session.execute(select(AuditRow.actor, AuditRow.action, AuditRow.detail)
                              .where(AuditRow.document_id == document.id)
                              .order_by(AuditRow.id)).all()
    assert [(a, b) for a, b, _ in actions] == [("system", "enqueue"), ("ann", "claim"),
                                               ("ann", "renew"), ("bob", "claim")]
    assert actions[-1][2]["took_expired_lease_of"] == "ann"


def test_claim_of_unknown_or_done_items(session: Session, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        store.claim(session, "0" * 64, "ann", 15)
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    store.reject(session, document.id, "ann", "duplicate")
    session.commit()
    with pytest.raises(ConflictError, match="rejected"):
        store.claim(session, document.id, "bob", 15)


def test_claim_next_takes_the_most_urgent_item_of_my_clients(session: Session,
                                                           tmp_path: Path) -> None:
    now = utcnow()
    late = _doc(session, tmp_path, name="late.pdf")
    urgent = _doc(session, tmp_path, name="urgent.pdf")
    foreign = _doc(session, tmp_path, client="globex", name="foreign.pdf")
    session.get(QueueItemRow, urgent.id).due_at = now + dt.timedelta(hours=1)  # type: ignore[union-attr]
    session.get(QueueItemRow, foreign.id).due_at = now - dt.timedelta(hours=1)  # type: ignore[union-attr]
    session.commit()

    first = store.claim_next(session, "ann", ["acme"], 15)
    second = store.claim_next(session, "ann", ["acme"], 15)
    assert first is not None and second is not None
    assert (first.document_id, second.document_id) == (urgent.id, late.id)
    assert store.claim_next(session, "ann", ["acme"], 15) is None
    anyone = store.claim_next(session, "root", None, 15)
    assert anyone is not None and anyone.document_id == foreign.id


def test_an_expired_lease_returns_the_item_to_the_queue(session: Session,
                                                      tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    now = utcnow()
    assert store.claim_next(session, "ann", ["acme"], 10, now=now) is not None
    session.commit()
    assert store.claim_next(session, "bob", ["acme"], 10, now=now + dt.timedelta(minutes=9)) is None
    back = store.claim_next(session, "bob", ["acme"], 10, now=now + dt.timedelta(minutes=11))
    session.commit()
    assert back is not None and back.document_id == document.id and back.claimed_by == "bob"


# --------------------------------------------------------------------------- corrections


def test_save_stores_corrections_per_field_and_revalidates(session: Session,
                                                         tmp_path: Path) -> None:
    document = _doc(session, tmp_path, total="154.00")
    store.claim(session, document.id, "ann", 15)
    findings = store.save(session, document.id, "ann",
                          {"vendor_name": "ACME Office Supplies Ltd",  # unchanged
                           "tax_amount": "24",                        # unchanged (24.00)
                           "invoice_number": "INV-2024-0118"})
    assert [f.code for f in findings] == ["total_mismatch"]
    findings = store.save(session, document.id, "ann", {"total_amount": "144,00"})
    session.commit()
    assert findings == []
    rows = session.execute(select(CorrectionRow.field, CorrectionRow.old_value,
                                  CorrectionRow.new_value, CorrectionRow.source,
                                  CorrectionRow.reviewer)
                           .order_by(CorrectionRow.id)).all()
    assert [tuple(r) for r in rows] == [
        ("invoice_number", "INV-2024-0117", "INV-2024-0118", "review", "ann"),
        ("total_amount", "154.00", "144.00", "review", "ann"),
    ]
    audit = session.execute(select(AuditRow.field, AuditRow.old_value, AuditRow.new_value)
                            .where(AuditRow.action == "correct").order_by(AuditRow.id)).all()
    assert [tuple(a) for a in audit] == [("invoice_number", "INV-2024-0117", "INV-2024-0118"),
                                         ("total_amount", "154.00", "144.00")]
    session.refresh(document)
    total = document.extraction["fields"]["total_amount"]  # type: ignore[index]
    assert (total["value"], total["confidence"], total["method"]) == ("144.00", 1.0, "review")
    assert total["box"] is not None  # where it was read is kept
    assert document.findings == []
    assert session.get(QueueItemRow, document.id).reasons == []  # type: ignore[union-attr]


def test_a_corrected_field_drops_the_readers_doubt(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path, total="154.00")
    extraction = copy.deepcopy(document.extraction)
    extraction["fields"]["total_amount"]["doubt"] = "total: 154.00, also read 144.00"  # type: ignore[index]
    extraction["fields"]["invoice_number"]["doubt"] = "number: INV-2024-0117, in one reading only"  # type: ignore[index]
    document.extraction = extraction
    session.commit()
    store.claim(session, document.id, "ann", 15)
    store.save(session, document.id, "ann", {"total_amount": "144.00"})
    session.commit()
    session.refresh(document)
    fields = document.extraction["fields"]  # type: ignore[index]
    assert fields["total_amount"]["doubt"] is None  # the reviewer settled it
    assert fields["invoice_number"]["doubt"] == "number: INV-2024-0117, in one reading only"


def test_save_refuses_unreadable_values_and_changes_nothing(session: Session,
                                                           tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    session.commit()
    before = json.dumps(document.extraction, sort_keys=True)
    with pytest.raises(store.InvalidCorrectionError) as err:
        store.save(session, document.id, "ann",
                   {"total_amount": "one hundred", "invoice_date": "05/03/2024x",
                    "vendor_name": "Other"})
    session.rollback()
    assert set(err.value.errors) == {"total_amount", "invoice_date"}
    session.refresh(document)
    assert json.dumps(document.extraction, sort_keys=True) == before
    assert session.scalar(select(CorrectionRow.id)) is None


def test_line_items_are_edited_as_a_table(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    rows = [{"description": "Paper A4, 5 reams", "quantity": "2", "unit_price": "25",
             "amount": "50"},
            {"description": "Toner cartridge", "quantity": "1", "unit_price": "70.00",
             "amount": "70.00"},
            {"description": "", "quantity": "", "unit_price": "", "amount": ""}]
    store.save(session, document.id, "ann", {"line_items": rows})
    assert session.scalar(select(CorrectionRow.id)) is None  # same table, blank row dropped
    rows[1]["amount"] = "75.00"
    findings = store.save(session, document.id, "ann", {"line_items": rows[:2]})
    assert "line_items_mismatch" in [f.code for f in findings]
    corr = session.scalars(select(CorrectionRow)).one()
    assert corr.field == "line_items" and json.loads(corr.new_value or "")[1]["amount"] == "75.00"


def test_lines_that_detail_another_line_are_not_added_again(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    rows = [{"description": "Paper A4, 5 reams", "quantity": "2", "unit_price": "25",
             "amount": "50", "parent": ""},
            {"description": "Office supplies", "quantity": "1", "unit_price": "70.00",
             "amount": "70.00", "parent": ""},
            {"description": "Toner cartridge", "quantity": "1", "unit_price": "70.00",
             "amount": "70.00", "parent": "2"}]
    findings = store.save(session, document.id, "ann", {"line_items": rows})
    assert "line_items_mismatch" not in [f.code for f in findings]
    rows[2]["parent"] = ""
    findings = store.save(session, document.id, "ann", {"line_items": rows})
    assert "line_items_mismatch" in [f.code for f in findings]


# --------------------------------------------------------------------------- resolutions


def test_approve_posts_once_and_records_time(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    outbox = LocalBucket(tmp_path / "outbox")
    t0 = utcnow()
    store.claim(session, document.id, "ann", 15, now=t0)
    session.commit()
    with pytest.raises(store.UnresolvedFindingsError):
        store.approve(session, document.id, "ann", outbox, now=t0 + dt.timedelta(seconds=30))
    session.rollback()
    store.save(session, document.id, "ann", {"total_amount": "144.00"},
               now=t0 + dt.timedelta(seconds=40))
    posted = store.approve(session, document.id, "ann", outbox, now=t0 + dt.timedelta(seconds=95))
    session.commit()
    assert posted is True
    item = session.get(QueueItemRow, document.id)
    assert item is not None
    assert (item.state, item.resolution) == ("done", "approved")
    assert item.handle_seconds == pytest.approx(95.0)
    posting = session.get(PostingRow, document.id)
    assert posting is not None and posting.posted_by == "ann"
    payload = json.loads((tmp_path / "outbox" / "invoice" / f"{document.id}.json").read_text())
    assert payload["fields"]["total_amount"] == "144.00"
    assert payload["posted_by"] == "ann"
    assert document.status == "posted"
    ledger = session.scalars(select(LedgerRow).where(LedgerRow.kind == "review")).one()
    assert ledger.seconds == pytest.approx(95.0) and ledger.quantity == Decimal(1)
    with pytest.raises(ConflictError, match="approved"):
        store.approve(session, document.id, "ann", outbox)


def test_approve_with_remaining_errors_needs_a_reason(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    store.approve(session, document.id, "ann", LocalBucket(tmp_path / "out"),
                  override_note="vendor confirmed the total by phone")
    session.commit()
    detail = session.scalars(select(AuditRow.detail).where(AuditRow.action == "approve")).one()
    assert detail["note"] == "vendor confirmed the total by phone"
    assert detail["findings"] == ["total_mismatch"]


def test_reject_escalate_release(session: Session, tmp_path: Path) -> None:
    a = _doc(session, tmp_path, name="a.pdf")
    b = _doc(session, tmp_path, name="b.pdf")
    t0 = utcnow()
    store.claim(session, a.id, "ann", 15, now=t0)
    session.commit()
    with pytest.raises(store.InvalidCorrectionError):
        store.reject(session, a.id, "ann", "  ")
    session.rollback()
    store.reject(session, a.id, "ann", "not an invoice", now=t0 + dt.timedelta(seconds=20))
    assert a.status == "rejected"

    store.claim(session, b.id, "ann", 15, now=t0)
    store.release(session, b.id, "ann", now=t0 + dt.timedelta(seconds=10))
    session.commit()
    with pytest.raises(ConflictError, match="not claimed"):
        store.escalate(session, b.id, "ann", "x")
    session.rollback()
    store.claim(session, b.id, "ann", 15, now=t0 + dt.timedelta(seconds=60))
    store.escalate(session, b.id, "ann", "vendor unknown", now=t0 + dt.timedelta(seconds=65))
    session.commit()
    item = session.get(QueueItemRow, b.id)
    assert item is not None
    assert (item.queue, item.state, item.claimed_by) == ("senior", "open", None)
    assert item.handle_seconds == pytest.approx(15.0)
    assert b.status == "escalated"
    assert store.claim_next(session, "bob", ["acme"], 15) is None  # reviewers' queue is empty
    senior = store.claim_next(session, "root", None, 15, queues=("senior",))
    assert senior is not None and senior.document_id == b.id


def test_only_the_holder_may_act(session: Session, tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    outbox = LocalBucket(tmp_path / "out")
    for call in (lambda: store.save(session, document.id, "ann", {"total_amount": "1"}),
                 lambda: store.approve(session, document.id, "ann", outbox, override_note="x"),
                 lambda: store.reject(session, document.id, "ann", "r"),
                 lambda: store.release(session, document.id, "ann")):
        with pytest.raises(ConflictError):
            call()
        session.rollback()
    store.claim(session, document.id, "ann", 15)
    session.commit()
    with pytest.raises(ConflictError, match="ann"):
        store.reject(session, document.id, "bob", "r")
    session.rollback()
    assert session.get(PostingRow, document.id) is None


# --------------------------------------------------------------------------- listing


def test_list_items_filters_and_sorts_by_sla(session: Session, tmp_path: Path) -> None:
    now = utcnow()
    a = _doc(session, tmp_path, name="a.pdf")
    b = _doc(session, tmp_path, name="b.pdf",
             findings=[Finding(code="low_confidence", field="vendor_name", message="m")])
    c = _doc(session, tmp_path, client="globex", name="c.pdf")
    item_a = session.get(QueueItemRow, a.id)
    assert item_a is not None
    item_a.created_at = now - dt.timedelta(hours=30)
    item_a.due_at = now - dt.timedelta(hours=6)
    session.commit()

    listed = store.list_items(session, ["acme"], now=now)
    assert [e.document_id for e in listed] == [a.id, b.id]
    assert listed[0].breached and listed[0].seconds_to_breach == pytest.approx(-6 * 3600, abs=5)
    assert listed[0].age_seconds == pytest.approx(30 * 3600, abs=5)
    assert not listed[1].breached
    assert [e.document_id for e in store.list_items(session, None, now=now)] == [a.id, b.id, c.id]
    assert [e.document_id for e in store.list_items(
        session, None, reason="low_confidence", now=now)] == [b.id]
    assert [e.document_id for e in store.list_items(
        session, None, min_age_hours=24, now=now)] == [a.id]
    assert [e.document_id for e in store.list_items(session, None, client="globex")] == [c.id]
    assert store.list_items(session, None, doc_type="claim") == []


def test_queue_list_json_contract(session: Session, tmp_path: Path) -> None:
    a = _doc(session, tmp_path, name="a.pdf")
    b = _doc(session, tmp_path, name="b.pdf")
    _doc(session, tmp_path, client="globex", name="c.pdf")
    store.claim(session, b.id, "ann", 15)
    store.save(session, b.id, "ann", {"total_amount": "144.00"})
    store.approve(session, b.id, "ann", LocalBucket(tmp_path / "out"))
    session.commit()
    out = store.queue_list_json(session, "acme")
    assert out == [{
        "document_id": a.id, "client": "acme", "doc_type": "invoice", "status": "review",
        "source": "file:///inbox/acme/a.pdf",
        "findings": [{"code": "total_mismatch", "field": "total_amount", "severity": "error",
                      "message": "Subtotal 120.00 + tax 24.00 = 144.00, but the total is 154.00."}],
    }]
    assert {d["client"] for d in store.queue_list_json(session, None)} == {"acme", "globex"}
    json.dumps(out)


# --------------------------------------------------------------------------- users, reports


def test_users_are_hashed_with_argon2(session: Session) -> None:
    user = users.add_user(session, "ann", "reviewer", ["acme", "acme", " "], "correct horse")
    assert user.clients == ("acme",)
    from core.db import UserRow

    row = session.get(UserRow, "ann")
    assert row is not None and row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash
    assert users.verify(session, "ann", "correct horse") == user
    assert users.verify(session, "ann", "wrong") is None
    assert users.verify(session, "nobody", "correct horse") is None
    with pytest.raises(ConflictError):
        users.add_user(session, "ann", "reviewer", ["acme"], "another pass")
    with pytest.raises(ValueError, match="role"):
        users.add_user(session, "eve", "owner", [], "password1")
    with pytest.raises(ValueError, match="8"):
        users.add_user(session, "eve", "reviewer", [], "short")
    admin = users.add_user(session, "root", "admin", [], "password1")
    assert admin.visible_clients() is None and admin.sees("anyone")
    assert not user.sees("globex")


def test_audit_view_and_analytics(session: Session, tmp_path: Path) -> None:
    t0 = utcnow() - dt.timedelta(hours=2)
    a = _doc(session, tmp_path, name="a.pdf")
    b = _doc(session, tmp_path, name="b.pdf")
    _doc(session, tmp_path, name="c.pdf")
    store.claim(session, a.id, "ann", 15, now=t0)
    store.save(session, a.id, "ann", {"total_amount": "144.00"}, now=t0 + dt.timedelta(seconds=30))
    store.approve(session, a.id, "ann", LocalBucket(tmp_path / "out"),
                  now=t0 + dt.timedelta(seconds=60))
    store.claim(session, b.id, "bob", 15, now=t0)
    store.reject(session, b.id, "bob", "duplicate", now=t0 + dt.timedelta(seconds=120))
    session.commit()

    view = reports.audit_view(session, a.id, ["acme"])
    total = next(f for f in view.fields if f.name == "total_amount")
    vendor = next(f for f in view.fields if f.name == "vendor_name")
    assert (total.corrected, total.automatic_value, total.value, total.corrected_by) == (
        True, "154.00", "144.00", "ann")
    assert not vendor.corrected and vendor.automatic_value == vendor.value
    assert view.posted_by == "ann" and view.handle_seconds == pytest.approx(60)
    assert [e["action"] for e in view.events if e["action"] != "enqueue"] == [
        "claim", "correct", "save", "approve"]
    with pytest.raises(NotFoundError):
        reports.audit_view(session, a.id, ["globex"])

    stats = reports.analytics(session, ["acme"])
    assert stats.cleared == 2 and stats.open_items == 1
    by_name = {r.reviewer: r for r in stats.reviewers}
    assert by_name["ann"].per_hour == pytest.approx(60.0)
    assert by_name["bob"].mean_handle_seconds == pytest.approx(120)
    rates = {name: (k, n) for name, k, n, _ in stats.field_rates}
    assert rates["total_amount"] == (1, 2) and rates["vendor_name"] == (0, 2)
    assert stats.reason_rates == [("total_mismatch", 1, 2, 0.5)]
    assert stats.median_handle_seconds == pytest.approx(90)
    assert sum(n for _, n in stats.cleared_by_hour) == 2
    assert [o["filename"] for o in stats.oldest] == ["c.pdf"]
    assert reports.analytics(session, ["globex"]).cleared == 0


def test_revalidation_uses_the_validators_package(session: Session, tmp_path: Path) -> None:
    pytest.importorskip("validators.batch")
    settings = Settings(home=tmp_path, environment="test")
    document = _doc(session, tmp_path)
    store.claim(session, document.id, "ann", 15)
    findings = store.save(session, document.id, "ann", {"po_number": "PO-1"}, settings=settings)
    assert "total_mismatch" in [f.code for f in findings]
    assert all(isinstance(f, Finding) for f in findings)
    findings = store.save(session, document.id, "ann", {"total_amount": "144.00"},
                          settings=settings)
    assert not [f for f in findings if f.severity == Severity.ERROR]


# --------------------------------------------------------------------------- concurrency


def _claim_all(engine: Engine, workers: int, lease_minutes: int = 15) -> list[str]:
    factory = sessionmaker(engine, expire_on_commit=False)
    barrier = threading.Barrier(workers)
    claimed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait()
            while True:
                with factory() as s, s.begin():
                    item = store.claim_next(s, f"reviewer-{n}", ["acme"], lease_minutes)
                    if item is None:
                        return
                    document_id = item.document_id
                with lock:
                    claimed.append(document_id)
        except BaseException as exc:  # reported below, never swallowed
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return claimed


def _many(engine: Engine, tmp_path: Path, n: int) -> set[str]:
    with sessionmaker(engine)() as s, s.begin():
        docs = []
        for i in range(n):
            doc = DocumentRow(id=f"{i:064x}", client="acme", source_uri=f"file:///in/{i}.pdf",
                              filename=f"{i}.pdf", size=1, status="review", doc_type="invoice")
            s.add(doc)
            docs.append(doc)
        s.flush()
        for doc in docs:
            store.enqueue(s, doc, [Finding(code="low_confidence", message="m")])
        return {d.id for d in docs}


@pytest.mark.postgres
def test_twenty_concurrent_claimers_on_postgres(pg_url: str, tmp_path: Path) -> None:
    engine = get_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    ids = _many(engine, tmp_path, 100)
    claimed = _claim_all(engine, 20)
    counts = Counter(claimed)
    assert set(counts) == ids
    assert max(counts.values()) == 1, [k for k, v in counts.items() if v > 1]
    with sessionmaker(engine)() as s:
        holders = s.execute(select(QueueItemRow.claimed_by).where(QueueItemRow.state == "claimed"))
        assert len(list(holders)) == 100
        assert store.claim_next(s, "late", ["acme"], 15) is None
        back = store.claim_next(s, "late", ["acme"], 15,
                                now=utcnow() + dt.timedelta(minutes=16))
        assert back is not None and back.claimed_by == "late"
        s.commit()


def test_concurrent_claimers_on_sqlite(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    ids = _many(engine, tmp_path, 40)
    claimed = _claim_all(engine, 6)
    assert sorted(claimed) == sorted(ids)


def test_qa_items_record_qa_corrections_and_never_repost(session: Session,
                                                        tmp_path: Path) -> None:
    document = _doc(session, tmp_path)
    outbox = LocalBucket(tmp_path / "out")
    store.claim(session, document.id, "ann", 15)
    store.save(session, document.id, "ann", {"total_amount": "144.00"})
    store.approve(session, document.id, "ann", outbox)
    qa = store.enqueue(session, document, [], queue="qa")
    assert (qa.queue, qa.state, document.status) == ("qa", "open", "posted")
    assert store.claim_next(session, "amy", ["acme"], 15) is None  # not in the review queue
    store.claim(session, document.id, "amy", 15)
    store.save(session, document.id, "amy", {"invoice_number": "INV-2024-0117A"})
    assert store.approve(session, document.id, "amy", outbox) is False
    session.commit()
    sources = dict(session.execute(select(CorrectionRow.field, CorrectionRow.source)).all())
    assert sources == {"total_amount": "review", "invoice_number": "qa"}
    assert document.status == "posted"
    assert session.scalar(select(func.count()).select_from(PostingRow)) == 1


def test_the_fallback_check_adds_the_lines_up_to_their_own_stated_total() -> None:
    """Without the validators package the review page still re-checks the sums; lines that
    reach their stated total ("Warenwert") are not held against a subtotal after allowances."""
    from core.models import Field

    def f(name: str, value: object) -> Field:
        return Field(name=name, value=value, confidence=0.9)

    items = [{"description": "Superdrachen", "amount": Decimal("40.00")},
             {"description": "Turbo Flyer", "amount": Decimal("200.00")}]
    fields = {f.name: f for f in (
        f("total_amount", Decimal("257.04")), f("subtotal", Decimal("216.00")),
        f("tax_amount", Decimal("41.04")), f("line_items", items))}
    found = store._fallback_checks(fields)
    assert [x.code for x in found] == ["line_items_mismatch"]
    assert found[0].message == "Line items add up to 240.00, the subtotal is 216.00."
    fields["lines_total"] = f("lines_total", Decimal("240.00"))
    assert store._fallback_checks(fields) == []
    fields["lines_total"] = f("lines_total", Decimal("250.00"))
    assert [x.message for x in store._fallback_checks(fields)] == [
        "Line items add up to 240.00, the line total is 250.00."]
