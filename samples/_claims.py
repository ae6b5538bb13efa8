"""CMS-1500 (02/12) claims: the official blank form filled with fake data, then flattened.

Each value is drawn with reportlab inside the rectangle of the form's own AcroForm widget of that
name (``pt_name``, ``cpt1``, ``ch1``…; a checkbox gets an ``X`` in the widget of the chosen state),
and the widgets are then removed: the values live in the page content, as on a printed form, and
any PDF renderer shows them. The form's background is a 1.5 MB JPEG; it is re-encoded as a
4-colour indexed image (white, pink, red, black) so that a claim PDF weighs about 100 KB.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    NameObject,
    NumberObject,
)
from reportlab.pdfbase.pdfmetrics import stringWidth

from samples._common import fit_font_size, new_canvas

FORM = Path(__file__).resolve().parents[2] / "shared" / "forms" / "cms1500.pdf"
PALETTE = np.array([[255, 255, 255], [250, 228, 232], [225, 50, 60], [20, 20, 20]])

CHARGE_SEPARATOR_X = 417.0
"""The dollars | cents rule of column 24F, in PDF points."""
TOTAL_SEPARATOR_X = {"t_charge": 432.3, "amt_paid": 504.0}


@dataclass(frozen=True)
class ServiceLine:
    date_from: dt.date
    date_to: dt.date
    place_of_service: str
    procedure_code: str
    modifiers: tuple[str, ...]
    pointers: str
    charges: Decimal
    units: int
    rendering_npi: str


@dataclass(frozen=True)
class Person:
    last: str
    first: str
    middle: str
    birth_date: dt.date
    sex: str
    street: str
    city: str
    state: str
    zip: str
    phone: str
    """``(area) number`` as ``"405 305-6629"``."""

    @property
    def name(self) -> str:
        return f"{self.last}, {self.first} {self.middle}".strip()


@dataclass(frozen=True)
class Provider:
    name: str
    street: str
    location: str
    """``CITY, ST ZIP``."""
    npi: str
    phone: str = ""


@dataclass
class Claim:
    payer_name: str
    payer_address: tuple[str, str]
    insurance_type: str
    insured_id: str
    patient: Person
    group_number: str
    plan_name: str
    diagnoses: list[str]
    lines: list[ServiceLine]
    federal_tax_id: str
    account_number: str
    amount_paid: Decimal
    signed_on: dt.date
    physician: str
    facility: Provider
    billing: Provider
    onset: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.charges for line in self.lines), Decimal("0.00"))

    def label_fields(self) -> dict[str, object]:
        return {
            "vendor_name": self.billing.name,
            "invoice_number": None,
            "invoice_date": None,
            "total_amount": self.total,
            "currency": "USD",
            "address": f"{self.billing.street}, {self.billing.location}",
            "payer_name": self.payer_name,
            "insured_id": self.insured_id,
            "patient_name": self.patient.name,
            "patient_birth_date": self.patient.birth_date,
            "patient_account_number": self.account_number,
            "federal_tax_id": self.federal_tax_id,
            "billing_provider_npi": self.billing.npi,
            "diagnosis_codes": list(self.diagnoses),
            "amount_paid": self.amount_paid,
            "service_date_from": min(line.date_from for line in self.lines),
            "service_date_to": max(line.date_to for line in self.lines),
            "service_lines": [
                {
                    "date_from": line.date_from,
                    "date_to": line.date_to,
                    "procedure_code": line.procedure_code,
                    "modifiers": list(line.modifiers),
                    "units": str(line.units),
                    "charges": line.charges,
                    "rendering_npi": line.rendering_npi,
                    "pointers": line.pointers,
                    "place_of_service": line.place_of_service,
                }
                for line in self.lines
            ],
        }


@dataclass(frozen=True)
class _Widgets:
    text: dict[str, tuple[float, float, float, float]]
    boxes: dict[tuple[str, str], tuple[float, float, float, float]]


@cache
def _widgets() -> _Widgets:
    reader = PdfReader(FORM)
    text: dict[str, tuple[float, float, float, float]] = {}
    boxes: dict[tuple[str, str], tuple[float, float, float, float]] = {}
    for annot in reader.pages[0].get("/Annots", []):
        widget = annot.get_object()
        parent = widget.get("/Parent")
        parent = parent.get_object() if parent is not None else {}
        name = str(widget.get("/T", parent.get("/T")))
        kind = widget.get("/FT", parent.get("/FT"))
        rect = tuple(float(v) for v in widget["/Rect"])
        if kind == "/Tx":
            text[name] = rect  # type: ignore[assignment]
        elif kind == "/Btn" and "/AP" in widget:
            for state in widget["/AP"]["/N"]:
                if state != "/Off":
                    boxes[(name, state[1:])] = rect  # type: ignore[assignment]
    return _Widgets(text, boxes)


@cache
def _background() -> tuple[int, int, bytes]:
    """The form's background image as 2-bit indices into ``PALETTE``, packed row by row."""
    reader = PdfReader(FORM)
    image = reader.pages[0]["/Resources"]["/XObject"]["/Fm0"]["/Resources"]["/XObject"]["/Im0"]
    rgb = np.asarray(Image.open(io.BytesIO(image.get_object().get_data())).convert("RGB"))
    distance = ((rgb[:, :, None, :].astype(np.int32) - PALETTE[None, None]) ** 2).sum(-1)
    indices = distance.argmin(-1).astype(np.uint8)
    height, width = indices.shape
    bits = np.unpackbits(indices[..., None], axis=2)[..., 6:].reshape(height, -1)
    packed = np.packbits(bits, axis=1)
    return width, height, packed.tobytes()


def render(claim: Claim) -> bytes:
    overlay = _overlay(claim)
    reader = PdfReader(FORM)
    page = reader.pages[0]
    del page[NameObject("/Annots")]

    writer = PdfWriter()
    page = writer.add_page(page)
    width, height, data = _background()
    image = DecodedStreamObject()
    image.set_data(data)
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width),
            NameObject("/Height"): NumberObject(height),
            NameObject("/BitsPerComponent"): NumberObject(2),
            NameObject("/ColorSpace"): ArrayObject(
                [
                    NameObject("/Indexed"),
                    NameObject("/DeviceRGB"),
                    NumberObject(3),
                    ByteStringObject(bytes(PALETTE.astype(np.uint8).ravel())),
                ]
            ),
        }
    )
    form_xobject = page["/Resources"]["/XObject"]["/Fm0"].get_object()
    form_xobject["/Resources"]["/XObject"][NameObject("/Im0")] = writer._add_object(
        image.flate_encode(level=9)
    )

    page.merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    page.compress_content_streams()
    writer.add_metadata(
        {
            "/Title": f"CMS-1500 claim {claim.account_number}",
            "/Producer": "docflow samples generator",
        }
    )
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _overlay(claim: Claim) -> bytes:
    widgets = _widgets()
    buffer = io.BytesIO()
    c = new_canvas(buffer, (612, 792), "overlay", "docflow")
    font = "Helvetica"

    def put(name: str, value: str, size: float = 9.0, align: str = "l") -> None:
        if not value:
            return
        x0, y0, x1, y1 = widgets.text[name]
        size = fit_font_size(value, font, size, x1 - x0 - 2)
        c.setFont(font, size)
        y = y0 + (y1 - y0 - size * 0.72) / 2
        if align == "c":
            c.drawCentredString((x0 + x1) / 2, y, value)
        elif align == "r":
            c.drawRightString(x1 - 2, y, value)
        else:
            c.drawString(x0 + 2, y, value)

    def check(name: str, state: str) -> None:
        x0, y0, x1, y1 = widgets.boxes[(name, state)]
        c.setFont("Helvetica-Bold", 10)
        c.drawCentredString((x0 + x1) / 2, y0 + (y1 - y0 - 7) / 2, "X")

    def amount(name: str, value: Decimal, separator: float, size: float = 9.5) -> None:
        _, y0, _, y1 = widgets.text[name]
        text = f"{value:.2f}"
        cents = text[-2:]
        x_right = separator + stringWidth(".", font, size) / 2 + stringWidth(cents, font, size)
        c.setFont(font, size)
        c.drawRightString(x_right, y0 + (y1 - y0 - size * 0.72) / 2, text)

    p = claim.patient
    put("insurance_name", claim.payer_name)
    put("insurance_address", claim.payer_address[0])
    put("insurance_address2", claim.payer_address[1])
    check("insurance_type", claim.insurance_type)
    put("insurance_id", claim.insured_id)
    put("pt_name", p.name)
    put("birth_mm", f"{p.birth_date.month:02d}", align="c")
    put("birth_dd", f"{p.birth_date.day:02d}", align="c")
    put("birth_yy", f"{p.birth_date.year}", align="c")
    check("sex", p.sex)
    put("ins_name", p.name)
    put("pt_street", p.street)
    check("rel_to_ins", "S")
    put("ins_street", p.street)
    put("pt_city", p.city)
    put("pt_state", p.state)
    put("ins_city", p.city)
    put("ins_state", p.state)
    area, number = p.phone.split(" ")
    put("pt_zip", p.zip)
    put("pt_AreaCode", area, align="c")
    put("pt_phone", number)
    put("ins_zip", p.zip)
    put("ins_phone area", area, align="c")
    put("ins_phone", number)
    put("ins_policy", claim.group_number)
    check("employment", "NO")
    put("ins_dob_mm", f"{p.birth_date.month:02d}", align="c")
    put("ins_dob_dd", f"{p.birth_date.day:02d}", align="c")
    put("ins_dob_yy", f"{p.birth_date.year}", align="c")
    check("ins_sex", "MALE" if p.sex == "M" else "FEMALE")
    check("pt_auto_accident", "NO")
    check("other_accident", "NO")
    put("ins_plan_name", claim.plan_name)
    check("ins_benefit_plan", "NO")
    put("pt_signature", "SIGNATURE ON FILE")
    put("pt_date", claim.signed_on.strftime("%m/%d/%Y"))
    put("ins_signature", "SIGNATURE ON FILE")
    if claim.onset:
        put("cur_ill_mm", f"{claim.onset.month:02d}", align="c")
        put("cur_ill_dd", f"{claim.onset.day:02d}", align="c")
        put("cur_ill_yy", f"{claim.onset.year}", align="c")
    check("lab", "NO")
    put("99icd", "0", size=8, align="c")
    for k, code in enumerate(claim.diagnoses, start=1):
        put(f"diagnosis{k}", code)

    for k, line in enumerate(claim.lines, start=1):
        for prefix, day in (("from", line.date_from), ("end", line.date_to)):
            put(f"sv{k}_mm_{prefix}", f"{day.month:02d}", 8.5, "c")
            put(f"sv{k}_dd_{prefix}", f"{day.day:02d}", 8.5, "c")
            put(f"sv{k}_yy_{prefix}", f"{day.year % 100:02d}", 8.5, "c")
        put(f"place{k}", line.place_of_service, 8.5, "c")
        put(f"cpt{k}", line.procedure_code, 8.5, "c")
        for suffix, modifier in zip(("", "a", "b", "c"), line.modifiers, strict=False):
            put(f"mod{k}{suffix}", modifier, 8.5, "c")
        put(f"diag{k}", line.pointers, 8.5, "c")
        amount(f"ch{k}", line.charges, CHARGE_SEPARATOR_X)
        put(f"day{k}", str(line.units), 8.5, "c")
        put(f"local{k}", line.rendering_npi, 8.5)

    put("tax_id", claim.federal_tax_id, 10)
    check("ssn", "EIN")
    put("pt_account", claim.account_number, 10)
    check("assignment", "YES")
    amount("t_charge", claim.total, TOTAL_SEPARATOR_X["t_charge"], 10)
    amount("amt_paid", claim.amount_paid, TOTAL_SEPARATOR_X["amt_paid"], 10)
    put("physician_signature", claim.physician, 9)
    put("physician_date", claim.signed_on.strftime("%m/%d/%Y"), 8.5)
    put("fac_name", claim.facility.name, 8)
    put("fac_street", claim.facility.street, 8)
    put("fac_location", claim.facility.location, 8)
    put("pin1", claim.facility.npi, 9)
    put("doc_name", claim.billing.name, 8)
    put("doc_street", claim.billing.street, 8)
    put("doc_location", claim.billing.location, 8)
    if claim.billing.phone:
        area, number = claim.billing.phone.split(" ")
        put("doc_phone area", area, 9, "c")
        put("doc_phone", number, 9)
    put("pin", claim.billing.npi, 9)
    c.showPage()
    c.save()
    return buffer.getvalue()
