"""The CMS-1500 (02/12) form geometry, as data derived from the official blank fillable PDF.

Every box of the form is where the form's own AcroForm widget says it is, so the template is
vendor-independent: whoever prints or fills the form, the boxes sit at these rectangles. The
layout file (``cms1500_layout.json``) holds, in PDF points with the origin at the top left of the
612 x 792 page:

- ``widgets``: text-field rectangles by field name (``pt_name``, ``cpt1``, ``ch1``…);
- ``inner_rules``: x of printed rules running through a box (the dollars | cents ticks);
- ``lines``: the printed rules (horizontal and vertical segments) found on a 200 dpi rendering
  of the blank form; page registration aligns a scanned page to these;
- ``print``: boxes around the form's own printed words, ignored when reading a black-and-white
  copy (where they cannot be dropped by colour).

Rebuild it from the blank form with ``python -m extractors.claim_template FORM.pdf``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np

LAYOUT_PATH = Path(__file__).with_name("cms1500_layout.json")
PAGE_SIZE = (612.0, 792.0)
"""US Letter in PDF points: the coordinate space of the layout."""

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class FormLayout:
    page_size: tuple[float, float]
    widgets: dict[str, Rect]
    h_lines: tuple[Rect, ...]
    v_lines: tuple[Rect, ...]
    inner_rules: dict[str, tuple[float, ...]]
    print_boxes: tuple[Rect, ...] = ()
    """Where the form's own words (box titles, instructions) are printed."""

    def rect(self, name: str) -> Rect:
        return self.widgets[name]


@cache
def load_layout(path: Path = LAYOUT_PATH) -> FormLayout:
    data = json.loads(path.read_text())
    return FormLayout(
        page_size=(float(data["page_size"][0]), float(data["page_size"][1])),
        widgets={k: (v[0], v[1], v[2], v[3]) for k, v in data["widgets"].items()},
        h_lines=tuple((r[0], r[1], r[2], r[3]) for r in data["lines"]["h"]),
        v_lines=tuple((r[0], r[1], r[2], r[3]) for r in data["lines"]["v"]),
        inner_rules={k: tuple(v) for k, v in data.get("inner_rules", {}).items()},
        print_boxes=tuple((r[0], r[1], r[2], r[3]) for r in data.get("print", [])),
    )


def shifted(layout: FormLayout, dx: float, dy: float) -> FormLayout:
    """The layout with every field rectangle moved by (dx, dy) points: where a page's values
    really are printed. The printed rules, ticks and words of the form stay put."""
    moved = {n: (r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy) for n, r in layout.widgets.items()}
    return replace(layout, widgets=moved)


def _widget_rects(form_pdf: Path) -> dict[str, list[float]]:
    from pypdf import PdfReader

    reader = PdfReader(str(form_pdf))
    height = float(reader.pages[0].mediabox.height)
    rects: dict[str, list[float]] = {}
    for annot in reader.pages[0].get("/Annots", []):
        widget = annot.get_object()
        if widget.get("/Subtype") != "/Widget":
            continue
        parent = widget.get("/Parent")
        parent = parent.get_object() if parent is not None else {}
        kind = widget.get("/FT", parent.get("/FT"))
        name = str(widget.get("/T", parent.get("/T")))
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        if kind != "/Tx" or x1 - x0 < 4:  # the 2-pt widgets are the 24F dollar|cent ticks
            continue
        rects[name] = [round(x0, 2), round(height - y1, 2), round(x1, 2), round(height - y0, 2)]
    return rects


def _render_ink(form_pdf: Path, dpi: int) -> np.ndarray:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(form_pdf))
    try:
        pdf.init_forms()
        rgb = pdf[0].render(scale=dpi / 72, may_draw_forms=True).to_numpy()[..., :3]
    finally:
        pdf.close()
    return (rgb.min(axis=2) < 200).astype(np.uint8) * 255


def _inner_rules(
    ink: np.ndarray, widgets: dict[str, list[float]], dpi: int = 200
) -> dict[str, list[float]]:
    """Printed rules running through the inside of a box (the dollars | cents tick of 24F, 28, 29).

    Digits written across such a rule lose the pixels under it; the reader bridges them.
    """
    k = dpi / 72
    found: dict[str, list[float]] = {}
    for name, (x0, y0, x1, y1) in widgets.items():
        band = ink[round(y0 * k) : round(y1 * k), round((x0 + 2) * k) : round((x1 - 2) * k)]
        if band.size == 0:
            continue
        columns = np.nonzero((band > 0).mean(axis=0) > 0.3)[0]
        xs: list[float] = []
        for col in columns:
            x = round(x0 + 2 + col / k, 1)
            if not xs or x - xs[-1] > 1.5:
                xs.append(x)
        if xs:
            found[name] = xs
    return found


def _rule_segments(ink: np.ndarray, dpi: int = 200) -> dict[str, list[list[float]]]:
    scale = 72.0 / dpi
    out: dict[str, list[list[float]]] = {}
    for kind, kernel in (("h", (31, 1)), ("v", (1, 31))):
        mask = cv2.morphologyEx(
            ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        )
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        segs = []
        for x, y, w, h, _area in stats[1:count]:
            segs.append(
                [
                    round(x * scale, 2),
                    round(y * scale, 2),
                    round((x + w) * scale, 2),
                    round((y + h) * scale, 2),
                ]
            )
        out[kind] = sorted(segs, key=lambda r: (r[1], r[0]))
    return out


def _print_boxes(ink: np.ndarray, dpi: int = 200) -> list[list[float]]:
    """Boxes around the form's printed words: its ink without the rules, glyphs run together.

    On a black-and-white copy the box titles cannot be dropped by colour; the reader ignores
    marks that lie inside these boxes instead.
    """
    rules = np.zeros_like(ink)
    for kernel in ((31, 1), (1, 31)):
        element = cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        rules = cv2.max(rules, cv2.morphologyEx(ink, cv2.MORPH_OPEN, element))
    words = cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))
    words = cv2.dilate(words, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 3)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    scale = 72.0 / dpi
    boxes = []
    for x, y, w, h, _area in stats[1:count]:
        if w * h < 12 or (w > 9 / scale and h > 9 / scale):  # specks; drawn frames, the QR code
            continue
        if w < 4 / scale and h > 3 * w:  # dashed ticks (dollars | cents, date separators)
            continue
        boxes.append(
            [
                round(x * scale, 2),
                round(y * scale, 2),
                round((x + w) * scale, 2),
                round((y + h) * scale, 2),
            ]
        )
    return sorted(boxes, key=lambda r: (r[1], r[0]))


def build_layout(form_pdf: Path) -> dict[str, object]:
    widgets = _widget_rects(form_pdf)
    ink = _render_ink(form_pdf, 200)
    return {
        "source": "CMS-1500 (02/12) blank fillable form (shared/forms/cms1500.pdf)",
        "units": "PDF points, origin top-left",
        "page_size": list(PAGE_SIZE),
        "widgets": widgets,
        "inner_rules": _inner_rules(ink, widgets),
        "lines": _rule_segments(ink),
        "print": _print_boxes(ink),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m extractors.claim_template FORM.pdf", file=sys.stderr)
        return 2
    layout = build_layout(Path(argv[0]))
    LAYOUT_PATH.write_text(json.dumps(layout, indent=1) + "\n")
    print(f"wrote {LAYOUT_PATH} ({len(layout['widgets'])} widgets)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
