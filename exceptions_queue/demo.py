"""Sample review items: a drawn invoice page and its extraction, for tests and local demos."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from core.db import DocumentRow, QueueItemRow
from core.models import DocType, Extraction, Field, Finding, Status
from exceptions_queue.store import enqueue

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi

_LAYOUT: list[tuple[str, str, str, tuple[int, int, int, int]]] = [
    # (field, label, value, box)
    ("vendor_name", "", "ACME Office Supplies Ltd", (80, 80, 700, 130)),
    ("address", "", "12 Harbour Road, Bristol BS1 4DJ", (80, 140, 700, 180)),
    ("invoice_number", "Invoice no.", "INV-2024-0117", (820, 240, 1160, 280)),
    ("invoice_date", "Date", "2024-03-05", (820, 290, 1160, 330)),
    ("buyer_name", "Bill to", "Northwind Traders", (80, 300, 600, 340)),
    ("subtotal", "Subtotal", "120.00", (900, 1300, 1160, 1340)),
    ("tax_amount", "VAT 20%", "24.00", (900, 1350, 1160, 1390)),
    ("total_amount", "Total", "144.00", (900, 1410, 1160, 1455)),
]


def draw_page(path: Path, total_text: str = "144.00") -> tuple[int, int]:
    """A plain invoice page as PNG (Pillow's default font; no external assets)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", PAGE_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    small = ImageFont.load_default(size=24)
    draw.text((820, 80), "INVOICE", fill="black", font=ImageFont.load_default(size=56))
    for name, label, value, (x0, y0, _x1, _y1) in _LAYOUT:
        text = total_text if name == "total_amount" else value
        if label:
            draw.text(
                (x0 - 200 if x0 > 600 else x0, y0 - 30 if x0 < 600 else y0), label, fill="#555", font=small
            )
        draw.text((x0 + (0 if x0 < 600 else 10), y0 + 4), text, fill="black", font=font)
    draw.line((80, 420, 1160, 420), fill="#333", width=2)
    rows = [("Paper A4, 5 reams", "2", "25.00", "50.00"), ("Toner cartridge", "1", "70.00", "70.00")]
    for i, (desc, qty, unit, amount) in enumerate(rows):
        y = 450 + 50 * i
        for x, text in ((80, desc), (700, qty), (850, unit), (1040, amount)):
            draw.text((x, y), text, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
    return PAGE_SIZE


def make_invoice(
    session: Session,
    client: str,
    image_dir: Path,
    *,
    name: str = "invoice-0117.pdf",
    total: str = "154.00",
    inbox: str = "",
    findings: list[Finding] | None = None,
    enqueue_it: bool = True,
) -> tuple[DocumentRow, QueueItemRow | None]:
    """An invoice whose total was misread (``total`` ≠ 144.00) so it needs review."""
    doc_id = hashlib.sha256(f"{client}/{name}".encode()).hexdigest()
    image_path = image_dir / f"{doc_id}-0.png"
    width, height = draw_page(image_path, total_text="144.00")
    values: dict[str, object] = {n: v for n, _l, v, _b in _LAYOUT}
    values["total_amount"] = total
    fields = {}
    for n, _label, _v, box in _LAYOUT:
        value: object = values[n]
        if n in ("subtotal", "tax_amount", "total_amount"):
            value = Decimal(str(value))
        elif n == "invoice_date":
            import datetime as dt

            value = dt.date.fromisoformat(str(value))
        fields[n] = Field(
            name=n,
            value=value,
            raw=str(values[n]),
            confidence=0.55 if n == "total_amount" else 0.97,
            page=0,
            box=tuple(float(v) for v in box),
        )
    fields["currency"] = Field(name="currency", value="GBP", confidence=0.9)
    fields["line_items"] = Field(
        name="line_items",
        confidence=0.9,
        page=0,
        box=(80, 440, 1160, 540),
        value=[
            {
                "description": "Paper A4, 5 reams",
                "quantity": Decimal(2),
                "unit_price": Decimal("25.00"),
                "amount": Decimal("50.00"),
            },
            {
                "description": "Toner cartridge",
                "quantity": Decimal(1),
                "unit_price": Decimal("70.00"),
                "amount": Decimal("70.00"),
            },
        ],
    )
    extraction = Extraction(doc_type=DocType.INVOICE, fields=fields, engine={"demo": "1"})
    source = f"file:///inbox/{client}/{name}"
    document = DocumentRow(
        id=doc_id,
        client=client,
        source_uri=source,
        inbox=inbox,
        filename=name,
        size=1234,
        media_type="application/pdf",
        page_count=1,
        status=Status.REVIEW.value,
        doc_type=DocType.INVOICE.value,
        extraction=extraction.model_dump(mode="json"),
        pages=[
            {
                "index": 0,
                "origin": "text-layer",
                "width": width,
                "height": height,
                "dpi": 150,
                "image_path": str(image_path),
            }
        ],
    )
    session.add(document)
    session.flush()
    if findings is None:
        findings = [
            Finding(
                code="total_mismatch",
                field="total_amount",
                message=f"Subtotal 120.00 + tax 24.00 = 144.00, but the total is {total}.",
            )
        ]
    item = enqueue(session, document, findings) if enqueue_it else None
    return document, item
