"""What one document cost: its ledger events priced by the client's cost model.

Ledger kinds and the quantity each one is priced on (see ``billing.ledger``):

====================  ==========================================  ======================
kind                  measure                                     cost component
====================  ==========================================  ======================
``pages_ocr``         quantity = pages OCR'd                      ``ocr_pages``
``pages_text_layer``  quantity = pages read from a text layer     ``text_pages``
``cpu``               seconds (per stage in ``detail.stage``)     ``cpu``
``ocr_cascade``       seconds of extra OCR on weak fields         ``cpu``
``review``            seconds of a person (exception or QA)       ``review``
``storage``           quantity = bytes archived                   ``storage``
``reprocess``         one event per reprocessing run              ``reprocess``
``intake``            quantity = bytes received                   (none)
``outcome``           quantity 1, ``detail.outcome``              (none)
====================  ==========================================  ======================

For the time kinds, ``seconds`` is the measure; an event that put its time in ``quantity``
(``seconds == 0``) is read from there. The ``money`` of every event (a paid third-party call…)
is added as it is, as ``direct``. Kinds not in the table cost only their ``money`` and are
reported, so that an event nobody prices never disappears silently.

Each component is rounded to 6 decimals (the ledger's own scale); a document's cost is the sum of
its rounded components, so lines always add up to the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billing.contracts import CostModel, Money
from core.db import LedgerRow

MICRO = Decimal("0.000001")
HOUR = Decimal(3600)
GIB = Decimal(1024**3)
TIME_KINDS = {"cpu", "ocr_cascade", "review"}
FREE_KINDS = {"intake", "outcome"}
KNOWN_KINDS = TIME_KINDS | FREE_KINDS | {"pages_ocr", "pages_text_layer", "storage", "reprocess"}
COMPONENTS = ("ocr_pages", "text_pages", "cpu", "review", "storage", "reprocess", "direct")


def to_decimal(value: float | int | Decimal | None) -> Decimal:
    """Exact for Decimal and int; floats through their shortest repr (``0.1`` → ``0.1``)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@dataclass
class Usage:
    """The work the ledger recorded for one document, summed over all its events."""

    pages_ocr: Decimal = Decimal(0)
    pages_text_layer: Decimal = Decimal(0)
    cpu_seconds: Decimal = Decimal(0)
    cpu_seconds_by_stage: dict[str, Decimal] = field(default_factory=dict)
    review_seconds: Decimal = Decimal(0)
    storage_bytes: Decimal = Decimal(0)
    reprocess_runs: int = 0
    direct: Decimal = Decimal(0)
    events: int = 0
    unpriced_kinds: set[str] = field(default_factory=set)

    def add(
        self,
        kind: str,
        quantity: Decimal,
        seconds: Decimal,
        money: Decimal,
        detail: Mapping[str, Any] | None,
    ) -> None:
        self.events += 1
        self.direct += money
        if kind in TIME_KINDS:
            spent = seconds if seconds else quantity
            if kind == "review":
                self.review_seconds += spent
            else:
                stage = kind if kind == "ocr_cascade" else str((detail or {}).get("stage", "other"))
                by_stage = self.cpu_seconds_by_stage
                self.cpu_seconds += spent
                by_stage[stage] = by_stage.get(stage, Decimal(0)) + spent
        elif kind == "pages_ocr":
            self.pages_ocr += quantity
        elif kind == "pages_text_layer":
            self.pages_text_layer += quantity
        elif kind == "storage":
            self.storage_bytes += quantity
        elif kind == "reprocess":
            self.reprocess_runs += 1
        elif kind not in FREE_KINDS:
            self.unpriced_kinds.add(kind)


class CostBreakdown(BaseModel):
    ocr_pages: Money = Decimal(0)
    text_pages: Money = Decimal(0)
    cpu: Money = Decimal(0)
    review: Money = Decimal(0)
    storage: Money = Decimal(0)
    reprocess: Money = Decimal(0)
    direct: Money = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, c) for c in COMPONENTS), Decimal(0)).quantize(MICRO)


def _micro(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_EVEN)


def price_usage(usage: Usage, costs: CostModel) -> CostBreakdown:
    return CostBreakdown(
        ocr_pages=_micro(usage.pages_ocr * costs.ocr_page),
        text_pages=_micro(usage.pages_text_layer * costs.text_layer_page),
        cpu=_micro(usage.cpu_seconds * costs.cpu_hour / HOUR),
        review=_micro(usage.review_seconds * costs.review_hour / HOUR),
        storage=_micro(usage.storage_bytes / GIB * costs.storage_gb_month * costs.storage_months),
        reprocess=_micro(usage.reprocess_runs * costs.reprocess),
        direct=_micro(usage.direct),
    )


def usage_from_rows(
    rows: Iterable[tuple[str, str, Any, Any, Any, Mapping[str, Any] | None]],
) -> dict[str, Usage]:
    """``rows``: (document_id, kind, quantity, seconds, money, detail) ledger tuples."""
    usage: dict[str, Usage] = defaultdict(Usage)
    for doc_id, kind, quantity, seconds, money, detail in rows:
        usage[doc_id].add(
            kind, to_decimal(quantity), to_decimal(seconds), to_decimal(money), detail
        )
    return dict(usage)


def load_usage(session: Session, client: str, documents: Select[Any]) -> dict[str, Usage]:
    """Usage of every document selected by ``documents`` (a select of ids), from the ledger."""
    ids = documents.subquery()
    rows = session.execute(
        select(
            LedgerRow.document_id,
            LedgerRow.kind,
            LedgerRow.quantity,
            LedgerRow.seconds,
            LedgerRow.money,
            LedgerRow.detail,
        )
        .where(LedgerRow.client == client, LedgerRow.document_id.in_(select(ids.c[0])))
        .execution_options(yield_per=5000)
    )
    return usage_from_rows(rows.tuples())
