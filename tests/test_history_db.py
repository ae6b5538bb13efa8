"""Duplicate look-ups over the documents table: one query for a whole batch answers exactly as
one query per document does (SQLite, and PostgreSQL for real)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.db import DocumentRow, init_db, session_scope
from core.models import Status
from pipeline.history import DatabaseHistory, _keys
from validators.history import BatchHistory

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)

# (id, status, minutes after T0, vendor, number, total, date)
STORED: list[tuple[str, Status, int, str, str | None, str | None, dt.date | None]] = [
    ("a1", Status.POSTED, 30, "Acme GmbH", "INV-1", "100.00", dt.date(2026, 10, 1)),
    ("a0", Status.REVIEW, 10, "ACME", "inv 1", "999.00", dt.date(2026, 10, 2)),  # same number
    ("a2", Status.POSTED, 20, "Acme", "INV-7", "250.00", dt.date(2026, 10, 3)),
    ("a3", Status.REJECTED, 5, "Acme", "INV-7", "250.00", dt.date(2026, 10, 3)),  # rejected
    ("b1", Status.POSTED, 40, "Brightline BV", "2026-11", "75.50", dt.date(2026, 10, 9)),
    ("c1", Status.POSTED, 50, "Copperfield Ltd", None, "12.00", dt.date(2026, 10, 4)),
    ("d1", Status.POSTED, 60, "Lieferant GmbH", "471102", "529.87", dt.date(2013, 3, 5)),
]

# find_duplicates arguments: (vendor, number, total, date, exclude_id)
ASKED: list[tuple[str, str | None, Decimal | None, dt.date | None, str | None]] = [
    ("Acme", "INV1", None, None, None),  # two earlier documents, oldest first
    ("Acme", "INV1", None, None, "a0"),  # a re-validation does not find itself
    ("Acme", "INV-9", Decimal("250.00"), dt.date(2026, 10, 3), None),  # by total and date; not a3
    ("BRIGHTLINE BV", "2026 11", None, None, None),
    ("Copperfield", None, Decimal("12"), dt.date(2026, 10, 4), None),
    ("Nobody", "INV-1", Decimal("100"), dt.date(2026, 10, 1), None),  # another vendor
    # the number used again twelve years later for another bill; the same bill in those years
    ("Lieferant GmbH", "471102", Decimal("197.58"), dt.date(2025, 6, 5), None),
    ("Lieferant GmbH", "471102", Decimal("529.87"), dt.date(2025, 6, 5), None),  # same total
    ("Lieferant GmbH", "471102", Decimal("197.58"), dt.date(2013, 9, 1), None),  # within a year
    ("Lieferant GmbH", "471102", None, None, None),  # no total or date to tell them apart
]


def _store(url: str) -> DatabaseHistory:
    engine = init_db(url)
    with session_scope(engine) as session:
        for doc_id, status, minutes, vendor, number, total, date in STORED:
            by_number, by_amount = _keys("default", "invoice", vendor, number, total, date)
            session.add(
                DocumentRow(
                    id=doc_id, client="default", source_uri=f"file:///{doc_id}.pdf",
                    filename=f"{doc_id}.pdf", size=1, status=status.value, doc_type="invoice",
                    received_at=T0 + dt.timedelta(minutes=minutes),
                    dup_key_number=by_number, dup_key_amount=by_amount,
                )
            )
    return DatabaseHistory(engine)


def _ask(history: DatabaseHistory, query: tuple[Any, ...]) -> list[str]:
    vendor, number, total, date, exclude = query
    return history.find_duplicates("default", "invoice", vendor, number, total, date, exclude)


def _lookups() -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("default", "invoice",
         {"vendor_name": v, "invoice_number": n, "total_amount": t, "invoice_date": d})
        for v, n, t, d, _ in ASKED
    ]


def _check(history: DatabaseHistory) -> None:
    assert isinstance(history, BatchHistory)
    one_by_one = [_ask(history, q) for q in ASKED]
    assert one_by_one == [["a0", "a1"], ["a1"], ["a2"], ["b1"], ["c1"], [], [], ["d1"], ["d1"], ["d1"]]
    with history.batch(_lookups()):
        assert [_ask(history, q) for q in ASKED] == one_by_one
    # outside the batch, and for keys it did not look up, the table is asked again
    with history.batch(_lookups()[3:]):
        assert [_ask(history, q) for q in ASKED] == one_by_one


def test_batch_lookups_answer_as_single_ones_sqlite(tmp_path: Path) -> None:
    _check(_store(f"sqlite:///{tmp_path / 'docflow.db'}"))


@pytest.mark.postgres
def test_batch_lookups_answer_as_single_ones_postgres(postgres_url: str) -> None:
    _check(_store(postgres_url))


def test_the_batch_does_not_query_per_document(tmp_path: Path) -> None:
    from sqlalchemy import event

    history = _store(f"sqlite:///{tmp_path / 'docflow.db'}")
    statements: list[str] = []
    event.listen(history.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))
    with history.batch(_lookups()):
        before = len(statements)
        for q in ASKED:
            _ask(history, q)
        assert len(statements) == before  # answered from the one look-up
    assert sum("dup_key" in s for s in statements) == 1
