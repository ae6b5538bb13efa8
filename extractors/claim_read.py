"""Read the boxes of a rectified CMS-1500 page: crop, clean, OCR in a few batched calls.

Each box is cropped at its template rectangle, the red form print is dropped (red channel) when
the page is in colour, rules and fax streaks are removed, and only ink whose centre lies inside
the box is kept (labels printed just above a box stay out). The cleaned crops are pasted into a
mosaic, one row per group (a service line is one row), and Tesseract reads each mosaic once
(with a character whitelist per kind), which costs far less than one process per box. Words
map back to their box by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from extractors.claim_align import Rectified
from extractors.claim_template import Rect
from extractors.ocr import run_tesseract

TARGET_CAP_PX = 30.0
"""Capital-letter height Tesseract reads best at (pixels)."""
GAP = 100
MARGIN = 30
"""Paper around the mosaic: Tesseract ignores a lone glyph lost in a wide white page."""
"""White space between pasted crops (pixels): wider than any gap between words of one box."""

WHITELISTS = {
    "text": "",
    "code": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
    "digits": "0123456789.-/",
}


@dataclass
class CellText:
    text: str
    conf: float
    """Lowest Tesseract word confidence in the box, [0, 1]; 1.0 for an empty box."""
    box: Rect
    """Template points of the box."""
    has_ink: bool = True
    words: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class PreparedPage:
    ink: np.ndarray
    """Binary ink map of the rectified page: 255 = value ink (form print dropped), 0 = paper."""
    gray: np.ndarray
    """The same page as flattened grayscale (dark ink on white), what Tesseract is shown."""
    scale: float


def prepare(rect: Rectified) -> PreparedPage:
    """The rectified page as an ink map: dark (non-red, when coloured) marks on paper."""
    image = rect.image
    channel = image[..., 0] if rect.colour else image.min(axis=2)
    size = 61
    background = cv2.dilate(channel, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    background = cv2.GaussianBlur(background, (0, 0), 15)
    norm = cv2.divide(channel, np.maximum(background, 1), scale=255)
    if not rect.colour:
        # bilevel faxes: soften the staircase edges of upsampled glyphs
        norm = cv2.GaussianBlur(norm, (0, 0), 1.2)
    threshold = 150 if rect.colour else 160
    ink = np.where(norm < threshold, 255, 0).astype(np.uint8)
    return PreparedPage(ink=ink, gray=norm, scale=rect.scale)


def _clean(
    crop: np.ndarray,
    inner: tuple[int, int, int, int],
    max_stroke: int,
    thin_px: float,
    min_text_px: float,
) -> tuple[np.ndarray, float]:
    """Drop rules, streaks and ink that belongs to neighbouring print; 255 = ink."""
    _h, _w = crop.shape
    long_h = cv2.morphologyEx(
        crop,
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_RECT, (max(3 * max_stroke // 2, 40), 1)),
    )
    long_v = cv2.morphologyEx(
        crop, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max_stroke))
    )
    clean = cv2.subtract(crop, cv2.max(long_h, long_v))
    clean = cv2.morphologyEx(clean, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(clean, connectivity=8)
    ix0, iy0, ix1, iy1 = inner
    keep = np.zeros(count, bool)
    thin = max(2, round(thin_px))
    reach = round(1.3 * thin_px)
    for i in range(1, count):
        cx, cy = centroids[i]
        _x, y, cw, ch, area = stats[i]
        if area < 6:
            continue
        if not (ix0 <= cx <= ix1 and iy0 <= cy <= iy1):
            continue
        if y < iy0 - reach or y + ch > iy1 + reach:  # a neighbouring box's print reaching in
            continue
        # dashed separators: hair-thin strokes that poke out of the box
        if cw <= thin and ch >= 3 * cw and (y < iy0 or y + ch > iy1):
            continue
        if ch <= thin and cw >= 3 * ch and (y < iy0 + thin or y + ch > iy1 - thin):
            continue
        keep[i] = True
    heights = [
        stats[i, cv2.CC_STAT_HEIGHT]
        for i in np.nonzero(keep)[0]
        if stats[i, cv2.CC_STAT_HEIGHT] >= min_text_px
    ]
    if not heights:
        return np.zeros_like(crop), 0.0
    return np.where(keep[labels], 255, 0).astype(np.uint8), float(np.percentile(heights, 75))


def crop_box(
    page: PreparedPage,
    box: Rect,
    *,
    pad: tuple[float, float] = (1.0, 3.0),
    tolerance: tuple[float, float] = (-0.4, 1.2),
) -> np.ndarray | None:
    """The cleaned ink of one box, scaled for Tesseract (black on white), or None when empty."""
    k = page.scale
    x0, y0, x1, y1 = box
    px, py = pad
    h_img, w_img = page.ink.shape
    X0, Y0 = max(0, round((x0 - px) * k)), max(0, round((y0 - py) * k))
    X1, Y1 = min(w_img, round((x1 + px) * k)), min(h_img, round((y1 + py) * k))
    crop = page.ink[Y0:Y1, X0:X1]
    if crop.size == 0:
        return None
    tx, ty = tolerance
    inner = (
        round((x0 - tx) * k) - X0,
        round((y0 - ty) * k) - Y0,
        round((x1 + tx) * k) - X0,
        round((y1 + ty) * k) - Y0,
    )
    max_stroke = round((y1 - y0 + 0.5) * k)
    clean, cap = _clean(crop, inner, max_stroke, thin_px=0.6 * k, min_text_px=0.35 * (y1 - y0) * k)
    gray = page.gray[Y0:Y1, X0:X1].copy()
    ys, xs = np.nonzero(clean)
    if len(ys) < 15:
        return None
    mask = cv2.dilate(clean, np.ones((3, 3), np.uint8))
    gray = np.where(mask > 0, gray, 255).astype(np.uint8)
    gray = gray[max(0, ys.min() - 3) : ys.max() + 4, max(0, xs.min() - 3) : xs.max() + 4]
    # Values are upper case and digits: their usual height is the capital height.
    factor = float(np.clip(TARGET_CAP_PX / max(1.0, cap), 0.6, 2.5))
    if abs(factor - 1) > 0.12:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return gray


def read_groups(
    page: PreparedPage, groups: list[list[tuple[str, Rect]]], kind: str, *, psm: int = 11
) -> dict[str, CellText]:
    """OCR boxes batched as a mosaic: one row per group, boxes left to right."""
    results: dict[str, CellText] = {}
    placed: list[tuple[str, tuple[int, int, int, int]]] = []
    rows: list[list[tuple[str, np.ndarray]]] = []
    for group in groups:
        row = []
        for name, box in group:
            crop = crop_box(page, box)
            if crop is None:
                results[name] = CellText("", 1.0, box, has_ink=False)
            else:
                row.append((name, crop))
        if row:
            rows.append(row)
    if not rows:
        return results
    width = max(sum(c.shape[1] for _, c in row) + GAP * (len(row) - 1) for row in rows) + 2 * MARGIN
    height = (
        sum(max(c.shape[0] for _, c in row) for row in rows) + GAP * (len(rows) - 1) + 2 * MARGIN
    )
    mosaic = np.full((height, width), 255, np.uint8)
    y = MARGIN
    for row in rows:
        row_h = max(c.shape[0] for _, c in row)
        x = MARGIN
        for name, crop in row:
            ch, cw = crop.shape
            top = y + (row_h - ch) // 2
            mosaic[top : top + ch, x : x + cw] = crop
            placed.append(
                (name, (x - GAP // 2, y - GAP // 2, x + cw + GAP // 2, y + row_h + GAP // 2))
            )
            x += cw + GAP
        y += row_h + GAP
    extra = "-c load_system_dawg=0 -c load_freq_dawg=0" if kind != "text" else ""
    if WHITELISTS[kind]:
        # the space must be allowed too, or Tesseract glues neighbouring boxes into one word
        extra += f' -c "tessedit_char_whitelist={WHITELISTS[kind]} "'
    words, _ = run_tesseract(mosaic, psm=psm, extra=extra)
    found: dict[str, list[tuple[float, str, float]]] = {name: [] for name, _ in placed}
    for word in words:
        cx = (word.box[0] + word.box[2]) / 2
        cy = (word.box[1] + word.box[3]) / 2
        for name, (a, b, c, d) in placed:
            if a <= cx < c and b <= cy < d:
                found[name].append((word.box[0], word.text, word.conf))
                break
    boxes = {name: box for group in groups for name, box in group}
    for name, _ in placed:
        items = sorted(found[name])
        text = " ".join(t for _, t, _ in items)
        conf = min((c for _, _, c in items), default=0.0)
        results[name] = CellText(
            text, conf, boxes[name], has_ink=True, words=[(t, c) for _, t, c in items]
        )
    return results


def read_single(page: PreparedPage, name: str, box: Rect, kind: str, psm: int = 7) -> CellText:
    """Re-read one box on its own (the cascade's second opinion)."""
    return read_groups(page, [[(name, box)]], kind, psm=psm)[name]
