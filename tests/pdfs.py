"""Printed test pages: text drawn where a template puts it, as a PDF with a text layer."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

Line = tuple[float, float, str]
"""x and y from the top-left corner in points, and the text drawn there; a negative x draws the
text right-aligned at -x (a right-aligned amount column)."""


def write_pdf(path: Path, lines: list[Line], size: int = 9) -> Path:
    """An A4 page in Helvetica ``size`` with ``lines`` drawn on it, written to ``path``."""
    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setFont("Helvetica", size)
    for x, y, text in lines:
        if x < 0:
            pdf.drawRightString(-x, A4[1] - y, text)
        else:
            pdf.drawString(x, A4[1] - y, text)
    pdf.save()
    return path
