"""Till receipts on 80 mm paper (prices include VAT), drawn in a monospaced till font."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.units import mm

from samples._common import fmt_money, money, new_canvas

WIDTH = 80 * mm
CHARS = 32


@dataclass(frozen=True)
class Receipt:
    vendor: str
    address: tuple[str, ...]
    vat: str
    number: str
    date: dt.date
    time: str
    currency: str
    items: tuple[tuple[str, int, Decimal], ...]
    """(description, quantity, unit price incl. VAT)."""
    tax_rate: Decimal
    payment: str

    @property
    def total(self) -> Decimal:
        return sum((money(q * p) for _, q, p in self.items), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        """The VAT contained in the (VAT-inclusive) total."""
        return money(self.total * self.tax_rate / (100 + self.tax_rate))

    def label_fields(self) -> dict[str, object]:
        return {
            "vendor_name": self.vendor,
            "invoice_number": self.number,
            "invoice_date": self.date,
            "total_amount": self.total,
            "currency": self.currency,
            "address": " ".join(self.address),  # the printed lines as SROIE labels join them
            "vendor_vat": self.vat,
            "tax_amount": self.tax,
            "line_items": [
                {
                    "description": d,
                    "quantity": money(q),
                    "unit_price": money(p),
                    "amount": money(q * p),
                }
                for d, q, p in self.items
            ],
        }


def render(receipt: Receipt) -> bytes:
    lines: list[tuple[str, str]] = [("c", receipt.vendor.upper())]
    lines += [("c", line) for line in receipt.address]
    lines += [("c", f"VAT No: {receipt.vat}"), ("", ""), ("l", "-" * CHARS)]
    lines += [
        ("l", _cols(f"{receipt.date:%d/%m/%Y}", receipt.time)),
        ("l", _cols("Receipt No:", receipt.number)),
        ("l", "-" * CHARS),
    ]
    for description, quantity, price in receipt.items:
        amount = fmt_money(money(quantity * price))
        if quantity == 1:
            lines.append(("l", _cols(description, amount)))
        else:
            lines.append(("l", description))
            lines.append(("l", _cols(f"  {quantity} x {fmt_money(price)}", amount)))
    lines += [
        ("l", "-" * CHARS),
        ("b", _cols(f"TOTAL {receipt.currency}", fmt_money(receipt.total))),
        ("l", _cols(receipt.payment, fmt_money(receipt.total))),
        ("", ""),
        ("l", _cols(f"VAT {receipt.tax_rate}% incl.", fmt_money(receipt.tax))),
        ("l", "-" * CHARS),
        ("c", "Thank you for your visit!"),
        ("c", "Please keep your receipt"),
    ]

    step = 11.5
    height = 28 + step * len(lines) + 20
    buffer = io.BytesIO()
    c = new_canvas(buffer, (WIDTH, height), f"Receipt {receipt.number}", receipt.vendor)
    y = height - 30
    for index, (kind, text) in enumerate(lines):
        c.setFont("Courier-Bold" if kind == "b" or index == 0 else "Courier", 9.5)
        if kind == "c":
            c.drawCentredString(WIDTH / 2, y, text)
        else:
            c.drawString(6 * mm / 2, y, text)
        y -= step
    c.showPage()
    c.save()
    return buffer.getvalue()


def _cols(left: str, right: str) -> str:
    room = CHARS - len(right) - 1
    return f"{left[:room]:<{room}} {right}"
