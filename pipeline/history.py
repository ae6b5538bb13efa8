"""What a client has already sent: duplicate look-ups over the documents table.

Implements ``validators.History`` with two indexed keys per document, written when it is
decided: vendor + invoice number, and vendor + total + date. The normalisation is the
validators' own (``vendor_key``, ``number_key``, ``duplicate_keys``), so the database finds
exactly what the in-memory history would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.engine import Engine

from core.db import DocumentRow, session_scope
from core.models import Extraction, Status
from validators.history import Lookup, number_key, reused_number, vendor_key

LOOKUP_CHUNK = 400
"""Keys per query of a batch look-up (bounds the IN lists)."""


def _keys(
    client: str, doc_type: str, vendor_name: Any, invoice_number: Any, total_amount: Any, invoice_date: Any
) -> tuple[str | None, str | None]:
    vendor = vendor_key(vendor_name)
    if not vendor:
        return None, None
    prefix = f"{client}|{doc_type}|{vendor}"
    number = number_key(invoice_number)
    by_number = f"{prefix}|{number}"[:200] if number else None
    by_amount = None
    if total_amount is not None and invoice_date is not None:
        amount = Decimal(str(total_amount)).quantize(Decimal("0.01"))
        day = invoice_date.isoformat() if isinstance(invoice_date, dt.date) else str(invoice_date)
        by_amount = f"{prefix}|{amount}|{day[:10]}"[:200]
    return by_number, by_amount


def _bill(by_amount: str | None) -> tuple[Decimal | None, dt.date | None]:
    """The total and date a stored amount key holds (``…|1005.55|2019-05-08``): with them, a
    document found by its number is told apart from a new bill under a number used again."""
    try:
        _, amount, day = (by_amount or "").rsplit("|", 2)
        return Decimal(amount), dt.date.fromisoformat(day)
    except ValueError:  # no key (no total or date), or one cut at 200 characters
        return None, None


_COLUMNS = (DocumentRow.id, DocumentRow.received_at, DocumentRow.dup_key_number,
            DocumentRow.dup_key_amount)
_Row = Row[str, dt.datetime, str | None, str | None]


def duplicate_keys_for(client: str, extraction: Extraction) -> tuple[str | None, str | None]:
    """The stored keys of a decided document (None when its fields cannot identify a bill)."""
    from validators import coerce
    from validators.rules import duplicate_keys

    model, _ = coerce(extraction)
    if model is None:
        return None, None
    keys = duplicate_keys(model)
    return _keys(
        client,
        extraction.doc_type.value,
        keys["vendor_name"],
        keys["invoice_number"],
        keys["total_amount"],
        keys["invoice_date"],
    )


class DatabaseHistory:
    """``validators.BatchHistory`` over the documents table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._found: dict[str, list[_Row]] | None = None
        """Inside ``batch``: every looked-up key with the rows holding it."""

    @contextmanager
    def batch(self, lookups: list[Lookup]) -> Iterator[None]:
        keys = sorted(
            {
                key
                for client, doc_type, k in lookups
                for key in _keys(client, doc_type, k.get("vendor_name"), k.get("invoice_number"),
                                 k.get("total_amount"), k.get("invoice_date"))
                if key
            }
        )
        found: dict[str, list[_Row]] = {key: [] for key in keys}
        with session_scope(self.engine) as session:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                part = keys[start : start + LOOKUP_CHUNK]
                query = select(*_COLUMNS).where(
                    or_(DocumentRow.dup_key_number.in_(part), DocumentRow.dup_key_amount.in_(part)),
                    DocumentRow.status != Status.REJECTED.value,
                )
                for row in session.execute(query):
                    for key in {row.dup_key_number, row.dup_key_amount}:
                        if key in found:
                            found[key].append(row)
        self._found = found
        try:
            yield
        finally:
            self._found = None

    def find_duplicates(
        self,
        client: str,
        doc_type: str,
        vendor_name: str | None,
        invoice_number: str | None,
        total_amount: Decimal | None,
        invoice_date: dt.date | None,
        exclude_id: str | None,
    ) -> list[str]:
        by_number, by_amount = _keys(
            client, str(doc_type), vendor_name, invoice_number, total_amount, invoice_date
        )
        wanted = [k for k in (by_number, by_amount) if k]
        if not wanted:
            return []
        if self._found is not None and all(k in self._found for k in wanted):
            rows = [row for k in wanted for row in self._found[k]]
        else:
            with session_scope(self.engine) as session:
                query = select(*_COLUMNS).where(
                    or_(*(column == key for column, key in
                          ((DocumentRow.dup_key_number, by_number),
                           (DocumentRow.dup_key_amount, by_amount)) if key)),
                    DocumentRow.status != Status.REJECTED.value,
                )
                rows = list(session.execute(query))
        received = {
            row.id: row.received_at
            for row in rows
            if row.id != exclude_id
            and (row.dup_key_amount == by_amount
                 or not reused_number(total_amount, invoice_date, *_bill(row.dup_key_amount)))
        }
        return sorted(received, key=lambda doc_id: received[doc_id])
