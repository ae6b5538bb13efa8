"""The ledger: append-only cost events per document (pages, CPU seconds, review seconds…).

Event kinds used across docflow: ``intake`` (bytes), ``pages_text_layer``, ``pages_ocr``,
``cpu`` (seconds per stage, ``detail.stage``), ``ocr_cascade`` (extra CPU seconds),
``review`` (human seconds), ``storage`` (bytes archived), ``outcome`` (quantity 1,
``detail.outcome`` = post/review/reject), ``reprocess``.

Where the measure goes: pages and bytes in ``quantity``; time (``cpu``, ``ocr_cascade``,
``review``) in ``seconds``; a cost paid in cash (a third-party call) in ``money``. A
``reprocess`` event marks one more run; that run's pages and CPU are recorded as usual.
``billing.costs`` prices them with the client's cost model; a kind it does not know costs only
its ``money`` and is named in the report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.db import LedgerRow
from core.models import LedgerEvent


def record(session: Session, event: LedgerEvent) -> None:
    session.add(
        LedgerRow(
            document_id=event.document_id, client=event.client, kind=event.kind,
            quantity=event.quantity, seconds=event.seconds, money=event.money, detail=event.detail,
        )
    )


def record_many(session: Session, document_id: str, client: str,
                events: list[tuple[str, float | int | Decimal, float, dict[str, Any]]]) -> None:
    """``events``: (kind, quantity, seconds, detail) tuples."""
    for kind, qty, seconds, detail in events:
        record(session, LedgerEvent(document_id=document_id, client=client, kind=kind,
                                    quantity=Decimal(str(qty)), seconds=seconds, detail=detail))
