"""Fictitious invoices in four layouts, drawn with reportlab.

``classic``: vendor block top left, title and meta top right (UK style, long dates).
``table``: coloured band, meta grid, dense item table with codes that may run onto a second page.
``german``: DIN 5008 letter (``Rechnung``, ``MwSt``, dd.mm.yyyy, decimal commas).
``modern``: accent colours, a row of boxes with invoice number, date, PO number and due date.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from samples._common import fit_font_size, fmt_money, fmt_qty, money, new_canvas

SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}
COUNTRY_CODES = {"United Kingdom": "GB", "Netherlands": "NL", "Italy": "IT", "Ireland": "IE",
                 "Germany": "DE", "France": "FR"}
GREY = Color(0.35, 0.35, 0.35)
LIGHT = Color(0.92, 0.92, 0.92)


@dataclass(frozen=True)
class Party:
    name: str
    address: tuple[str, ...]
    """Printed address lines, without the name."""
    vat: str | None = None
    contact: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    description: str
    quantity: Decimal
    unit_price: Decimal
    code: str = ""
    unit: str = ""

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


@dataclass
class Invoice:
    vendor: Party
    buyer: Party
    number: str
    date: dt.date
    due: dt.date
    currency: str
    items: list[Item]
    tax_rate: Decimal
    po_number: str | None = None
    customer_no: str = ""
    total_error: Decimal = Decimal("0")
    """Added to the printed total only: a document whose total does not add up."""
    stamp: str | None = None
    """A remark printed in a box, e.g. for a re-sent copy."""
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return money(self.subtotal * self.tax_rate / 100)

    @property
    def printed_total(self) -> Decimal:
        return self.subtotal + self.tax + self.total_error

    @property
    def vendor_address(self) -> str:
        """As the e-invoice labels of the dev sets give it (``LineOne, …, Postcode City,
        CountryID``): the printed lines with the country as its ISO code, taken from the VAT id
        when no country is printed."""
        lines = list(self.vendor.address)
        if lines and lines[-1] in COUNTRY_CODES:
            lines[-1] = COUNTRY_CODES[lines[-1]]
        elif self.vendor.vat:
            lines.append(self.vendor.vat[:2])
        return ", ".join(lines)

    def label_fields(self) -> dict[str, object]:
        """The label's ``fields`` as typed values: what the document says, as printed."""
        fields: dict[str, object] = {
            "vendor_name": self.vendor.name,
            "invoice_number": self.number,
            "invoice_date": self.date,
            "total_amount": self.printed_total,
            "currency": self.currency,
            "address": self.vendor_address,
            "vendor_vat": self.vendor.vat,
            "due_date": self.due,
            "buyer_name": self.buyer.name,
            "subtotal": self.subtotal,
            "tax_amount": self.tax,
            "line_items": [
                {
                    "description": item.description,
                    "quantity": money(item.quantity),
                    "unit_price": money(item.unit_price),
                    "amount": item.amount,
                }
                for item in self.items
            ],
        }
        if self.po_number:
            fields["po_number"] = self.po_number
        return fields


def render(invoice: Invoice, layout: str) -> bytes:
    return LAYOUTS[layout](invoice)


# -- classic ----------------------------------------------------------------------------------


def _classic(inv: Invoice) -> bytes:
    buffer = io.BytesIO()
    c = new_canvas(buffer, A4, f"Invoice {inv.number}", inv.vendor.name)
    width, height = A4
    sym = SYMBOL[inv.currency]
    left, right = 50, width - 50

    y = height - 60
    c.setFont("Helvetica-Bold", 16)
    c.drawString(left, y, inv.vendor.name)
    c.setFont("Helvetica", 9.5)
    for line in (*inv.vendor.address, *inv.vendor.contact, f"VAT Reg. No.: {inv.vendor.vat}"):
        y -= 12.5
        c.drawString(left, y, line)

    c.setFont("Helvetica-Bold", 26)
    c.drawRightString(right, height - 66, "INVOICE")
    meta = [
        ("Invoice No.:", inv.number),
        ("Invoice Date:", _long_date(inv.date)),
        ("Due Date:", _long_date(inv.due)),
        ("Currency:", inv.currency),
    ]
    if inv.customer_no:
        meta.append(("Account No.:", inv.customer_no))
    my = height - 92
    for label, value in meta:
        c.setFont("Helvetica-Bold", 9.5)
        c.drawRightString(right - 105, my, label)
        c.setFont("Helvetica", 9.5)
        c.drawString(right - 98, my, value)
        my -= 13
    if inv.stamp:
        _stamp(c, right - 180, my - 20, 180, inv.stamp)

    y = min(y, my) - 26
    c.setStrokeColor(GREY)
    c.setLineWidth(0.8)
    c.line(left, y, right, y)
    y -= 20
    c.setFont("Helvetica-Bold", 8.5)
    c.setFillColor(GREY)
    c.drawString(left, y, "BILL TO")
    c.setFillColor(Color(0, 0, 0))
    y -= 14
    c.setFont("Helvetica-Bold", 10.5)
    c.drawString(left, y, inv.buyer.name)
    c.setFont("Helvetica", 9.5)
    for line in inv.buyer.address:
        y -= 12.5
        c.drawString(left, y, line)

    y -= 34
    cols = [
        (left + 6, "Description", "l"),
        (right - 185, "Qty", "r"),
        (right - 95, "Unit Price", "r"),
        (right - 6, "Amount", "r"),
    ]
    c.setFillColor(LIGHT)
    c.rect(left, y - 5, right - left, 18, stroke=0, fill=1)
    c.setFillColor(Color(0, 0, 0))
    c.setFont("Helvetica-Bold", 9.5)
    for x, text, align in cols:
        _text(c, x, y, text, align)
    c.setFont("Helvetica", 9.5)
    c.setStrokeColor(Color(0.8, 0.8, 0.8))
    c.setLineWidth(0.5)
    for item in inv.items:
        y -= 19
        size = fit_font_size(item.description, "Helvetica", 9.5, right - 185 - left - 50)
        c.setFont("Helvetica", size)
        c.drawString(left + 6, y, item.description)
        c.setFont("Helvetica", 9.5)
        c.drawRightString(right - 185, y, fmt_qty(item.quantity))
        c.drawRightString(right - 95, y, f"{sym}{fmt_money(item.unit_price)}")
        c.drawRightString(right - 6, y, f"{sym}{fmt_money(item.amount)}")
        c.line(left, y - 6, right, y - 6)

    y -= 26
    rows = [("Subtotal", inv.subtotal), (f"VAT ({fmt_qty(inv.tax_rate)}%)", inv.tax)]
    for label, value in rows:
        c.setFont("Helvetica", 10)
        c.drawString(right - 190, y, label)
        c.drawRightString(right - 6, y, f"{sym}{fmt_money(value)}")
        y -= 16
    c.setStrokeColor(Color(0, 0, 0))
    c.setLineWidth(1)
    c.line(right - 195, y + 10, right, y + 10)
    y -= 4
    c.setFont("Helvetica-Bold", 11.5)
    c.drawString(right - 190, y, f"Total {inv.currency}")
    c.drawRightString(right - 6, y, f"{sym}{fmt_money(inv.printed_total)}")

    c.setFont("Helvetica", 8.5)
    fy = 118
    for line in (
        f"Payment terms: {(inv.due - inv.date).days} days net. Please quote invoice number "
        f"{inv.number} with your payment.",
        inv.extras.get("bank", ""),
        "Thank you for your business!",
    ):
        c.drawString(left, fy, line)
        fy -= 12
    c.setFont("Helvetica", 7)
    c.setFillColor(GREY)
    c.drawCentredString(width / 2, 40, inv.extras.get("registration", ""))
    c.showPage()
    c.save()
    return buffer.getvalue()


# -- table ------------------------------------------------------------------------------------


def _table(inv: Invoice) -> bytes:
    buffer = io.BytesIO()
    c = new_canvas(buffer, A4, f"Invoice {inv.number}", inv.vendor.name)
    width, height = A4
    left, right = 40, width - 40
    accent = HexColor(inv.extras.get("accent", "#1f5f6b"))
    pale = HexColor(inv.extras.get("pale", "#e3eef0"))

    first_rows, next_rows = 25, 36
    chunks = [inv.items[:first_rows]]
    rest = inv.items[first_rows:]
    while rest:
        chunks.append(rest[:next_rows])
        rest = rest[next_rows:]
    if len(chunks[-1]) > next_rows - 9:  # leave room for the totals
        chunks.append([])
    pages = len(chunks)

    def band(page_no: int) -> None:
        c.setFillColor(accent)
        c.rect(0, height - 70, width, 70, stroke=0, fill=1)
        c.setFillColor(white)
        c.setFont("Helvetica-Bold", 18)
        c.drawString(left, height - 42, inv.vendor.name)
        c.setFont("Helvetica-Bold", 20)
        c.drawRightString(right, height - 42, "INVOICE")
        c.setFont("Helvetica", 8)
        c.drawRightString(right, height - 58, f"Page {page_no} of {pages}")
        c.setFillColor(Color(0, 0, 0))

    def footer() -> None:
        c.setFont("Helvetica", 7)
        c.setFillColor(GREY)
        c.drawString(left, 40, inv.vendor.name)
        c.drawString(left, 30, inv.extras.get("bank", ""))
        c.drawRightString(right, 30, f"Invoice {inv.number}")
        c.setFillColor(Color(0, 0, 0))

    cols = [
        ("#", left + 4, "l"),
        ("Item", left + 24, "l"),
        ("Description", left + 96, "l"),
        ("Qty", right - 150, "r"),
        ("Unit", right - 144, "l"),
        ("Unit price", right - 72, "r"),
        ("Amount", right - 4, "r"),
    ]

    def table_header(y: float) -> float:
        c.setFillColor(accent)
        c.rect(left, y - 5, right - left, 17, stroke=0, fill=1)
        c.setFillColor(white)
        c.setFont("Helvetica-Bold", 8.5)
        for text, x, align in cols:
            _text(c, x, y, text, align)
        c.setFillColor(Color(0, 0, 0))
        return y - 17

    position = 0
    for page_no, chunk in enumerate(chunks, start=1):
        band(page_no)
        if page_no == 1:
            c.setFont("Helvetica", 8)
            c.setFillColor(GREY)
            parts = [*inv.vendor.address, f"VAT {inv.vendor.vat}", *inv.vendor.contact]
            c.drawString(left, height - 86, " · ".join(parts))
            c.setFillColor(Color(0, 0, 0))
            grid = [
                ("Invoice number", inv.number),
                ("Invoice date", inv.date.isoformat()),
                ("Due date", inv.due.isoformat()),
                ("Customer no.", inv.customer_no),
                ("Currency", inv.currency),
                ("Payment terms", f"{(inv.due - inv.date).days} days"),
            ]
            cell_w, cell_h = (right - left) / 3, 30
            top = height - 100
            c.setStrokeColor(Color(0.6, 0.6, 0.6))
            c.setLineWidth(0.6)
            for i, (label, value) in enumerate(grid):
                x0 = left + (i % 3) * cell_w
                y0 = top - (i // 3 + 1) * cell_h
                c.rect(x0, y0, cell_w, cell_h, stroke=1, fill=0)
                c.setFont("Helvetica", 7)
                c.setFillColor(GREY)
                c.drawString(x0 + 5, y0 + cell_h - 10, label)
                c.setFillColor(Color(0, 0, 0))
                c.setFont("Helvetica-Bold", 10)
                c.drawString(x0 + 5, y0 + 7, value)
            y = top - 2 * cell_h - 22
            c.setFont("Helvetica-Bold", 8.5)
            c.drawString(left, y, "Invoice to")
            c.setFont("Helvetica-Bold", 10)
            c.drawString(left, y - 14, inv.buyer.name)
            c.setFont("Helvetica", 9)
            for k, line in enumerate(inv.buyer.address):
                c.drawString(left, y - 27 - 12 * k, line)
            y = y - 27 - 12 * len(inv.buyer.address) - 18
        else:
            c.setFont("Helvetica-Oblique", 8.5)
            c.drawString(left, height - 90, f"Invoice {inv.number} (continued)")
            y = height - 110
        if chunk or page_no == 1:
            y = table_header(y)
        c.setStrokeColor(Color(0.75, 0.75, 0.75))
        c.setLineWidth(0.4)
        for item in chunk:
            position += 1
            if position % 2 == 0:
                c.setFillColor(pale)
                c.rect(left, y - 5, right - left, 16, stroke=0, fill=1)
                c.setFillColor(Color(0, 0, 0))
            c.setFont("Helvetica", 8.5)
            c.drawString(left + 4, y, str(position))
            c.drawString(left + 24, y, item.code)
            size = fit_font_size(item.description, "Helvetica", 8.5, right - 150 - 30 - left - 96)
            c.setFont("Helvetica", size)
            c.drawString(left + 96, y, item.description)
            c.setFont("Helvetica", 8.5)
            c.drawRightString(right - 150, y, fmt_qty(item.quantity))
            c.drawString(right - 144, y, item.unit)
            c.drawRightString(right - 72, y, fmt_money(item.unit_price))
            c.drawRightString(right - 4, y, fmt_money(item.amount))
            y -= 16
        if page_no < pages:
            c.setFont("Helvetica-Oblique", 8.5)
            c.drawRightString(right, y - 6, "Continued on next page")
        else:
            y -= 18
            rows = [("Net total", inv.subtotal), (f"VAT {fmt_qty(inv.tax_rate)}%", inv.tax)]
            for label, value in rows:
                c.setFont("Helvetica", 9.5)
                c.drawString(right - 170, y, label)
                c.drawRightString(right - 4, y, fmt_money(value))
                y -= 15
            c.setFillColor(pale)
            c.rect(right - 175, y - 6, 175, 19, stroke=0, fill=1)
            c.setFillColor(Color(0, 0, 0))
            c.setFont("Helvetica-Bold", 10.5)
            c.drawString(right - 170, y, f"Total {inv.currency}")
            c.drawRightString(right - 4, y, fmt_money(inv.printed_total))
            vy = y + 30
            c.setFont("Helvetica-Bold", 8)
            c.drawString(left, vy, "VAT summary")
            c.setFont("Helvetica", 8)
            c.drawString(
                left,
                vy - 12,
                f"Rate {fmt_qty(inv.tax_rate)}%   Net {fmt_money(inv.subtotal)}"
                f"   VAT {fmt_money(inv.tax)}",
            )
            c.drawString(
                left, vy - 24, f"Please pay by {inv.due.isoformat()} quoting {inv.number}."
            )
        footer()
        c.showPage()
    c.save()
    return buffer.getvalue()


# -- german -----------------------------------------------------------------------------------


def _german(inv: Invoice) -> bytes:
    buffer = io.BytesIO()
    c = new_canvas(buffer, A4, f"Rechnung {inv.number}", inv.vendor.name)
    width, height = A4
    left, right = 70, width - 57
    de = True

    c.setFont("Helvetica-Bold", 20)
    c.drawRightString(right, height - 62, inv.extras.get("logo", inv.vendor.name))
    c.setFont("Helvetica", 9.5)
    c.drawRightString(right, height - 76, inv.extras.get("tagline", ""))

    c.setFont("Helvetica", 7)
    sender = " · ".join((inv.vendor.name, *inv.vendor.address))
    c.drawString(left, height - 140, sender)
    c.setLineWidth(0.4)
    c.line(left, height - 142, left + 250, height - 142)
    c.setFont("Helvetica", 10)
    y = height - 158
    for line in (inv.buyer.name, *inv.buyer.address):
        c.drawString(left, y, line)
        y -= 13

    info = [
        ("Rechnungsnummer:", inv.number),
        ("Rechnungsdatum:", _de_date(inv.date)),
        ("Lieferdatum:", _de_date(inv.date - dt.timedelta(days=2))),
        ("Kundennummer:", inv.customer_no),
        ("Fällig am:", _de_date(inv.due)),
        ("Unsere USt-IdNr.:", inv.vendor.vat or ""),
    ]
    iy = height - 150
    for label, value in info:
        c.setFont("Helvetica", 9)
        c.drawString(right - 190, iy, label)
        c.drawRightString(right, iy, value)
        iy -= 13

    y = height - 290
    c.setFont("Helvetica-Bold", 14)
    c.drawString(left, y, f"Rechnung Nr. {inv.number}")
    c.setFont("Helvetica", 10)
    c.drawString(left, y - 26, "Sehr geehrte Damen und Herren,")
    c.drawString(left, y - 40, "für unsere Lieferung berechnen wir Ihnen wie folgt:")

    y -= 70
    cols = [
        ("Pos.", left, "l"),
        ("Art.-Nr.", left + 28, "l"),
        ("Bezeichnung", left + 88, "l"),
        ("Menge", right - 155, "r"),
        ("Einzelpreis", right - 75, "r"),
        ("Gesamtpreis", right, "r"),
    ]
    c.setFont("Helvetica-Bold", 9)
    for text, x, align in cols:
        _text(c, x, y, text, align)
    c.setLineWidth(0.8)
    c.line(left, y - 5, right, y - 5)
    c.setLineWidth(0.3)
    for pos, item in enumerate(inv.items, start=1):
        y -= 18
        c.setFont("Helvetica", 9)
        c.drawString(left, y, str(pos))
        c.drawString(left + 28, y, item.code)
        size = fit_font_size(item.description, "Helvetica", 9, right - 155 - 45 - left - 88)
        c.setFont("Helvetica", size)
        c.drawString(left + 88, y, item.description)
        c.setFont("Helvetica", 9)
        c.drawRightString(right - 155, y, f"{fmt_qty(item.quantity, decimal_comma=de)} {item.unit}")
        c.drawRightString(right - 75, y, f"{fmt_money(item.unit_price, decimal_comma=de)} €")
        c.drawRightString(right, y, f"{fmt_money(item.amount, decimal_comma=de)} €")
        c.line(left, y - 6, right, y - 6)

    y -= 28
    rows = [
        ("Nettobetrag", inv.subtotal, "Helvetica"),
        (f"zzgl. {fmt_qty(inv.tax_rate)} % MwSt.", inv.tax, "Helvetica"),
    ]
    for label, value, font in rows:
        c.setFont(font, 10)
        c.drawString(right - 200, y, label)
        c.drawRightString(right, y, f"{fmt_money(value, decimal_comma=de)} €")
        y -= 15
    c.setLineWidth(0.8)
    c.line(right - 200, y + 9, right, y + 9)
    c.setFont("Helvetica-Bold", 10.5)
    c.drawString(right - 200, y - 4, "Rechnungsbetrag")
    c.drawRightString(right, y - 4, f"{fmt_money(inv.printed_total, decimal_comma=de)} €")

    y -= 44
    c.setFont("Helvetica", 9.5)
    c.drawString(
        left,
        y,
        f"Zahlbar bis zum {_de_date(inv.due)} ohne Abzug. Bitte geben Sie bei "
        "Zahlung die Rechnungsnummer an.",
    )
    c.drawString(left, y - 14, "Vielen Dank für Ihren Auftrag!")
    c.drawString(left, y - 38, "Mit freundlichen Grüßen")
    c.drawString(left, y - 52, inv.vendor.name)

    c.setLineWidth(0.4)
    c.line(left, 82, right, 82)
    c.setFont("Helvetica", 7)
    c.setFillColor(GREY)
    columns = [
        (inv.vendor.name, *inv.vendor.address, *inv.vendor.contact),
        (*inv.extras.get("register", "").split("|"), f"USt-IdNr.: {inv.vendor.vat}"),
        tuple(inv.extras.get("bank", "").split("|")),
    ]
    for k, lines in enumerate(columns):
        x = left + k * (right - left) / 3
        for j, line in enumerate(lines):
            c.drawString(x, 72 - 9 * j, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


# -- modern -----------------------------------------------------------------------------------


def _modern(inv: Invoice) -> bytes:
    buffer = io.BytesIO()
    c = new_canvas(buffer, A4, f"Tax invoice {inv.number}", inv.vendor.name)
    width, height = A4
    left, right = 45, width - 45
    accent = HexColor(inv.extras.get("accent", "#0b4f8a"))
    sym = SYMBOL[inv.currency]

    c.setFillColor(accent)
    c.rect(0, height - 12, width, 12, stroke=0, fill=1)
    c.setFont("Helvetica-Bold", 19)
    c.drawString(left, height - 52, inv.vendor.name)
    c.setFont("Helvetica-Bold", 22)
    c.drawRightString(right, height - 52, "TAX INVOICE")
    c.setFillColor(Color(0.2, 0.2, 0.2))
    c.setFont("Helvetica", 9)
    y = height - 68
    for line in (*inv.vendor.address, *inv.vendor.contact, f"VAT No. {inv.vendor.vat}"):
        c.drawString(left, y, line)
        y -= 11.5

    boxes = [
        ("INVOICE #", inv.number),
        ("INVOICE DATE", _slash_date(inv.date)),
        ("PO NUMBER", inv.po_number or "-"),
        ("DUE DATE", _slash_date(inv.due)),
        ("TERMS", f"Net {(inv.due - inv.date).days}"),
    ]
    top = y - 14
    box_w = (right - left - 4 * 8) / 5
    for k, (label, value) in enumerate(boxes):
        x = left + k * (box_w + 8)
        c.setStrokeColor(accent)
        c.setLineWidth(0.9)
        c.roundRect(x, top - 38, box_w, 38, 4, stroke=1, fill=0)
        c.setFillColor(accent)
        c.setFont("Helvetica-Bold", 7)
        c.drawString(x + 6, top - 12, label)
        c.setFillColor(Color(0, 0, 0))
        size = fit_font_size(value, "Helvetica-Bold", 10, box_w - 10)
        c.setFont("Helvetica-Bold", size)
        c.drawString(x + 6, top - 29, value)

    y = top - 62
    ship = tuple(inv.extras.get("ship_to", "").split("|")) if inv.extras.get("ship_to") else ()
    for x, title, lines in (
        (left, "BILL TO", (inv.buyer.name, *inv.buyer.address)),
        (left + 260, "SHIP TO", ship or (inv.buyer.name, *inv.buyer.address)),
    ):
        c.setFillColor(accent)
        c.setFont("Helvetica-Bold", 8)
        c.drawString(x, y, title)
        c.setFillColor(Color(0, 0, 0))
        for j, line in enumerate(lines):
            c.setFont("Helvetica-Bold" if j == 0 else "Helvetica", 9.5)
            c.drawString(x, y - 14 - 12 * j, line)
    y -= 14 + 12 * max(len(inv.buyer.address) + 1, len(ship)) + 22

    c.setFillColor(accent)
    c.rect(left, y - 6, right - left, 20, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont("Helvetica-Bold", 8.5)
    heads = [
        ("ITEM", left + 6, "l"),
        ("DESCRIPTION", left + 80, "l"),
        ("QTY", right - 170, "r"),
        ("UNIT PRICE", right - 90, "r"),
        ("LINE TOTAL", right - 6, "r"),
    ]
    for text, x, align in heads:
        _text(c, x, y, text, align)
    c.setFillColor(Color(0, 0, 0))
    c.setStrokeColor(Color(0.82, 0.82, 0.82))
    c.setLineWidth(0.5)
    for item in inv.items:
        y -= 20
        c.setFont("Helvetica", 9)
        c.drawString(left + 6, y, item.code)
        size = fit_font_size(item.description, "Helvetica", 9, right - 170 - 40 - left - 80)
        c.setFont("Helvetica", size)
        c.drawString(left + 80, y, item.description)
        c.setFont("Helvetica", 9)
        c.drawRightString(right - 170, y, fmt_qty(item.quantity))
        c.drawRightString(right - 90, y, fmt_money(item.unit_price))
        c.drawRightString(right - 6, y, fmt_money(item.amount))
        c.line(left, y - 7, right, y - 7)

    y -= 30
    for label, value in (("SUBTOTAL", inv.subtotal), (f"VAT @ {fmt_qty(inv.tax_rate)}%", inv.tax)):
        c.setFont("Helvetica", 9.5)
        c.drawString(right - 200, y, label)
        c.drawRightString(right - 6, y, f"{sym} {fmt_money(value)}")
        y -= 16
    c.setFillColor(accent)
    c.rect(right - 206, y - 8, 206, 22, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont("Helvetica-Bold", 10.5)
    c.drawString(right - 200, y, f"TOTAL DUE ({inv.currency})")
    c.drawRightString(right - 6, y, f"{sym} {fmt_money(inv.printed_total)}")
    c.setFillColor(Color(0, 0, 0))

    y = 150
    c.setFillColor(accent)
    c.setFont("Helvetica-Bold", 9)
    c.drawString(left, y, "REMITTANCE")
    c.setFillColor(Color(0, 0, 0))
    c.setFont("Helvetica", 8.5)
    reference = f"{inv.number} / PO {inv.po_number}" if inv.po_number else inv.number
    for j, line in enumerate(
        (
            inv.extras.get("bank", ""),
            f"Payment reference: {reference}",
            "Goods remain our property until paid in full.",
        )
    ):
        c.drawString(left, y - 13 - 11 * j, line)
    c.setFont("Helvetica", 7)
    c.setFillColor(GREY)
    c.drawCentredString(width / 2, 36, inv.extras.get("registration", ""))
    c.showPage()
    c.save()
    return buffer.getvalue()


# -- helpers ----------------------------------------------------------------------------------


def _text(c: Canvas, x: float, y: float, text: str, align: str) -> None:
    if align == "r":
        c.drawRightString(x, y, text)
    else:
        c.drawString(x, y, text)


def _stamp(c: Canvas, x: float, y: float, w: float, text: str) -> None:
    red = Color(0.75, 0.1, 0.1)
    c.setStrokeColor(red)
    c.setFillColor(red)
    c.setLineWidth(1.2)
    c.rect(x, y, w, 18, stroke=1, fill=0)
    c.setFont("Helvetica-Bold", 9)
    c.drawCentredString(x + w / 2, y + 5.5, text)
    c.setFillColor(Color(0, 0, 0))
    c.setStrokeColor(Color(0, 0, 0))


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _de_date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _slash_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


LAYOUTS: dict[str, Callable[[Invoice], bytes]] = {
    "classic": _classic,
    "table": _table,
    "german": _german,
    "modern": _modern,
}
