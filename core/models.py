"""The typed models that travel between stages (see docs/architecture.md).

Field names are the canonical names of the label schema in ``../shared/datasets/README.md``
(``vendor_name``, ``invoice_date``, ``total_amount``…), so that extraction, validation,
evaluation and the review page all speak of the same thing by the same name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField

Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in the page's own pixel (or PDF point) space, origin top-left."""


class DocType(StrEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"
    CLAIM = "claim"
    UNKNOWN = "unknown"


class Origin(StrEnum):
    TEXT_LAYER = "text-layer"
    OCR = "ocr"


class Status(StrEnum):
    RECEIVED = "received"
    POSTED = "posted"
    REVIEW = "review"
    REJECTED = "rejected"
    ESCALATED = "escalated"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Outcome(StrEnum):
    POST = "post"
    REVIEW = "review"
    REJECT = "reject"


class Word(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    box: Box
    conf: float = PydField(ge=0.0, le=1.0)
    line: int = 0
    """Index of the text line the word belongs to, within its page (reading order)."""
    block: int = 0


class Page(BaseModel):
    index: int
    width: float
    height: float
    dpi: int
    origin: Origin
    text: str
    words: list[Word] = []
    image_path: str | None = None
    ocr_seconds: float = 0.0
    skew_degrees: float = 0.0
    ocr_lang: str | None = None
    """Tesseract language data the page was read with (``eng``, ``deu``); None: text layer."""


class Field(BaseModel):
    """One extracted value, with where it was read and how sure we are of it."""

    name: str
    value: Any
    raw: str | None = None
    confidence: float = PydField(ge=0.0, le=1.0)
    page: int | None = None
    box: Box | None = None
    method: str = "layout"
    doubt: str | None = None
    """Where the reader was unsure, for the reviewer: ``line 2 units: 1, also read 4``."""


class Extraction(BaseModel):
    doc_type: DocType
    doc_type_confidence: float = 1.0
    fields: dict[str, Field] = {}
    engine: dict[str, str] = {}
    stats: dict[str, float] = {}
    """Timings and effort: ``ocr_seconds``, ``extract_seconds``, ``cascade_seconds``…"""

    def value(self, name: str) -> Any:
        field = self.fields.get(name)
        return None if field is None else field.value

    def confidence(self, name: str) -> float:
        field = self.fields.get(name)
        return 0.0 if field is None else field.confidence


class Finding(BaseModel):
    code: str
    severity: Severity = Severity.ERROR
    field: str | None = None
    message: str


class Decision(BaseModel):
    outcome: Outcome
    findings: list[Finding] = []
    """The findings that caused this outcome (empty when posting)."""


class DocumentInfo(BaseModel):
    id: str
    client: str
    source_uri: str
    filename: str
    size: int
    received_at: dt.datetime
    media_type: str | None = None
    page_count: int = 0


class LedgerEvent(BaseModel):
    document_id: str
    client: str
    kind: str
    quantity: Decimal = Decimal("0")
    seconds: float = 0.0
    money: Decimal = Decimal("0")
    detail: dict[str, Any] = {}


def to_label_value(value: Any) -> Any:
    """A typed value in the label schema's format: 2-decimal strings, ISO dates, plain lists."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, list):
        return [to_label_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_label_value(v) for k, v in value.items()}
    return value
