"""Shared helpers of the sample generator: money and dates, valid fake identifiers, PDF rendering.

Every random choice goes through a ``random.Random`` seeded by the caller, so that one seed always
gives the same documents and labels.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pypdfium2 as pdfium
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from stdnum import get_cc_module, luhn
from stdnum.us import ein

CENT = Decimal("0.01")


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_money(value: Decimal, *, decimal_comma: bool = False) -> str:
    """``1234.5`` → ``1,234.50`` (or ``1.234,50`` with a decimal comma)."""
    text = f"{money(value):,.2f}"
    if decimal_comma:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_qty(value: Decimal, *, decimal_comma: bool = False) -> str:
    """Quantities print without trailing zeros: ``3``, ``2.5`` (``2,5``)."""
    text = f"{value.normalize():f}"
    return text.replace(".", ",") if decimal_comma else text


def vat_is_valid(number: str) -> bool:
    """python-stdnum's check for the VAT number of the country its two-letter prefix names.

    ``stdnum.eu.vat`` no longer knows ``GB`` (Brexit), so each country's own module is used.
    """
    module = get_cc_module(number[:2].lower(), "vat")
    return module is not None and module.is_valid(number)


def random_vat(rng: random.Random, country: str) -> str:
    """A VAT number python-stdnum accepts, compact with its country prefix (``DE123456789``)."""
    shapes = {
        "DE": lambda: str(rng.randint(1, 9)) + _digits(rng, 8),
        "GB": lambda: _digits(rng, 9),
        "NL": lambda: _digits(rng, 9) + "B01",
        "IE": lambda: _digits(rng, 7) + rng.choice("ABCDEFGHJKLMNPQRSTVWX"),
        "IT": lambda: _digits(rng, 7) + f"{rng.randint(1, 100):03d}" + _digits(rng, 1),
    }
    for _ in range(100_000):
        candidate = country + shapes[country]()
        if vat_is_valid(candidate):
            return candidate
    raise RuntimeError(f"no valid {country} VAT number found")


def random_npi(rng: random.Random, first: str = "1") -> str:
    """A 10-digit NPI whose last digit is the Luhn check digit over ``80840`` + the first nine."""
    base = first + _digits(rng, 8)
    return base + luhn.calc_check_digit("80840" + base)


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi[0] in "12" and luhn.is_valid("80840" + npi)


def random_ein(rng: random.Random) -> str:
    for _ in range(10_000):
        candidate = f"{rng.randint(10, 99)}-{_digits(rng, 7)}"
        if ein.is_valid(candidate):
            return candidate
    raise RuntimeError("no valid EIN found")


def random_date(rng: random.Random, start: dt.date, days: int, *, min_day: int = 1) -> dt.date:
    """A date in ``[start, start + days)`` whose day of month is at least ``min_day``."""
    while True:
        day = start + dt.timedelta(days=rng.randrange(days))
        if day.day >= min_day:
            return day


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def new_canvas(
    buffer: io.BytesIO, pagesize: tuple[float, float], title: str, author: str
) -> Canvas:
    """A reportlab canvas whose output bytes depend only on what is drawn (``invariant=1``)."""
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("docflow samples generator")
    return canvas


def fit_font_size(text: str, font: str, size: float, max_width: float) -> float:
    while size > 5 and stringWidth(text, font, size) > max_width:
        size -= 0.25
    return size


def render_pdf(pdf: bytes, dpi: int) -> list[np.ndarray]:
    """Every page of ``pdf`` as a grayscale uint8 array at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for index in range(len(document)):
            bitmap = document[index].render(scale=dpi / 72, grayscale=True)
            array = bitmap.to_numpy()
            pages.append(np.ascontiguousarray(array.reshape(array.shape[0], array.shape[1])))
        return pages
    finally:
        document.close()
