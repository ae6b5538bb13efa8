"""Read the boxes of a rectified CMS-1500 page: crop, clean, OCR in a few batched calls.

Each box is cropped at its template rectangle (moved by the page's print offset, when values
are printed higher or lower than the form's fields), the red form print is dropped (red channel)
when the page is in colour, the form's own words are masked when it is not, rules, ticks, fax
streaks and specks are removed, and only ink whose centre lies inside the box is kept (labels
printed just above a box stay out). The cleaned crops are pasted into a mosaic, one row per
group (a service line is one row), and Tesseract reads each mosaic (with a character whitelist
per kind), which costs far less than one process per box. Words map back to their box by
position. The extractor reads a mosaic more than once (another page segmentation, a softened
page) and lets the format checks choose between the readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from extractors.claim_align import Rectified
from extractors.claim_template import Rect, load_layout
from extractors.ocr import run_tesseract

TARGET_CAP_PX = 30.0
"""Capital-letter height Tesseract reads best at (pixels)."""
LARGE_CAP_PX = 42.0
"""A re-reading shows the box larger: some glyphs read right only at one size."""
GAP = 100
MARGIN = 30
"""Paper around the mosaic: Tesseract ignores a lone glyph lost in a wide white page."""
"""White space between pasted crops (pixels): wider than any gap between words of one box."""

WEAK_INK = 200
"""Gray level below which a pixel joins the ink when it touches surely dark ink."""

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
    alternatives: list[CellText] = field(default_factory=list)
    """Other readings of the same box (another page segmentation), for the format checks."""


@dataclass
class PreparedPage:
    ink: np.ndarray
    """Binary ink map of the rectified page: 255 = value ink (form print dropped), 0 = paper."""
    gray: np.ndarray
    """The same page as flattened grayscale (dark ink on white), what Tesseract is shown."""
    scale: float
    soft: np.ndarray | None = None
    """``gray`` slightly blurred: a second look that smooths jagged (faxed, resampled) glyphs."""
    faint: np.ndarray | None = None
    """Black-print pages: light marks (below ``WEAK_INK``), where lost periods are looked for."""
    printed: np.ndarray | None = None
    """Black-print pages: where the form's own words are (255), so they are not read as values."""


def _is_bilevel(channel: np.ndarray) -> bool:
    """Whether the page was black-and-white before rectifying (a fax): few mid-grey pixels."""
    small = channel[::3, ::3]
    inked = small < 215
    if inked.sum() < 100:
        return False
    return float((small[inked] > 60).mean()) < 0.55


def _hysteresis(norm: np.ndarray, strong: int, weak: int, scale: float) -> np.ndarray:
    """Ink: the marks darker than ``weak`` that are somewhere darker than ``strong``.

    A thin or blurred stroke (Courier, a soft scan) is dark only along its core; a single
    threshold breaks it into fragments that the box cleaning then drops. Paper noise lighter
    than ``strong`` stays out, and so do the faint remains of rules (long straight runs), which
    would otherwise carry their faintness into every glyph they touch.
    """
    sure = np.where(norm < strong, 255, 0).astype(np.uint8)
    maybe = np.where(norm < weak, 255, 0).astype(np.uint8)
    run = max(15, round(12 * scale))
    lines = cv2.max(
        cv2.morphologyEx(maybe, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)),
        cv2.morphologyEx(maybe, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)),
    )
    maybe = cv2.subtract(maybe, lines)
    count, labels = cv2.connectedComponents(maybe, connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[sure > 0])] = True
    keep[0] = False
    return cv2.max(sure, np.where(keep[labels], 255, 0).astype(np.uint8))


def prepare(rect: Rectified) -> PreparedPage:
    """The rectified page as an ink map: dark (non-red, when coloured) marks on paper."""
    image = rect.image
    channel = image[..., 0] if rect.colour else image.min(axis=2)
    size = 61
    background = cv2.dilate(channel, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    background = cv2.GaussianBlur(background, (0, 0), 15)
    norm = cv2.divide(channel, np.maximum(background, 1), scale=255)
    if not rect.colour and _is_bilevel(channel):
        # bilevel faxes: soften the staircase edges of upsampled glyphs
        norm = cv2.GaussianBlur(norm, (0, 0), 1.2)
    threshold = 150 if rect.colour else 160
    if rect.colour:
        ink = _hysteresis(norm, threshold, WEAK_INK, rect.scale)
    else:
        # (on black print the weak halo of rules and streaks would join them to the glyphs)
        ink = np.where(norm < threshold, 255, 0).astype(np.uint8)
    soft = cv2.GaussianBlur(norm, (0, 0), 1.0)
    faint = printed = None
    if not rect.colour:
        faint = np.where(norm < WEAK_INK, 255, 0).astype(np.uint8)
        printed = np.zeros_like(ink)
        k = rect.scale
        for x0, y0, x1, y1 in load_layout().print_boxes:
            cv2.rectangle(
                printed,
                (round((x0 - 0.5) * k), round((y0 - 0.5) * k)),
                (round((x1 + 0.5) * k), round((y1 + 0.5) * k)),
                255,
                -1,
            )
    return PreparedPage(
        ink=ink, gray=norm, scale=rect.scale, soft=soft, faint=faint, printed=printed
    )


def _clean(
    crop: np.ndarray,
    inner: tuple[int, int, int, int],
    max_stroke: int,
    thin_px: float,
    min_text_px: float,
    rules: tuple[float, ...] = (),
    faint: np.ndarray | None = None,
    printed: np.ndarray | None = None,
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
    ix0, iy0, ix1, iy1 = inner
    if rules:
        # The dollars | cents tick pokes out above and below the box; where it touches a digit
        # it would drag the digit out with it. Cut its thin run outside the box.
        tick = max(2, round(thin_px))
        wide = cv2.morphologyEx(clean, cv2.MORPH_OPEN, np.ones((1, 2 * tick + 2), np.uint8))
        outside = np.ones(clean.shape, bool)
        outside[max(0, iy0) : max(0, iy1), :] = False
        for r in rules:
            a, b = max(0, round(r - 1.5 * tick)), max(0, round(r + 1.5 * tick) + 1)
            band = clean[:, a:b]
            band[outside[:, a:b] & (wide[:, a:b] == 0)] = 0
    clean = cv2.morphologyEx(clean, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(clean, connectivity=8)
    keep = np.zeros(count, bool)
    if printed is not None:
        # share of each component's pixels that fall on the form's own words
        on_print = np.bincount(labels[printed > 0], minlength=count)
    thin = max(2, round(thin_px))
    reach = round(1.3 * thin_px)
    for i in range(1, count):
        cx, cy = centroids[i]
        _x, y, cw, ch, area = stats[i]
        if area < 6:
            continue
        if printed is not None and on_print[i] > 0.6 * area:
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
        # the printed dollars | cents tick inside a money box (black print is not dropped)
        if cw <= 2 * thin and ch >= 2 * cw and any(abs(cx - r) <= 2 * thin for r in rules):
            continue
        keep[i] = True
    big = [i for i in np.nonzero(keep)[0] if stats[i, cv2.CC_STAT_HEIGHT] >= min_text_px]
    if not big:
        return np.zeros_like(crop), 0.0
    cap = float(np.percentile(stats[big, cv2.CC_STAT_HEIGHT], 75))
    baseline = float(np.median(stats[big, cv2.CC_STAT_TOP] + stats[big, cv2.CC_STAT_HEIGHT]))
    rights = stats[big, cv2.CC_STAT_LEFT] + stats[big, cv2.CC_STAT_WIDTH]
    lefts = stats[big, cv2.CC_STAT_LEFT]
    for i in np.nonzero(keep)[0]:
        x, y, cw, ch, _area = stats[i]
        # A small round blob is a speck unless it sits on the baseline right after a glyph (a
        # period, a comma) or at the cap line between two glyphs (an apostrophe a scan left
        # short: O'CONNOR's is 3 x 4 px under 25 px capitals); hyphens (wide) and apostrophes
        # printed whole (tall) are not round.
        round_blob = ch < 0.45 * cap and cw < 2 * ch and ch < 1.5 * cw
        on_baseline = baseline - 0.35 * cap <= y + ch <= baseline + 0.4 * cap
        at_cap_line = baseline - 1.15 * cap <= y and y + ch <= baseline - 0.5 * cap
        after_glyph = bool(np.any((rights <= x + 0.2 * cap) & (rights >= x - 0.6 * cap)))
        before_glyph = bool(np.any((lefts >= x + cw - 0.2 * cap) & (lefts <= x + cw + 0.6 * cap)))
        if round_blob and not (
            after_glyph and (on_baseline or (at_cap_line and before_glyph))
        ):
            keep[i] = False
    out = np.where(keep[labels], 255, 0).astype(np.uint8)
    if faint is not None:
        out = cv2.max(out, _faint_points(faint, out, cap, baseline, rights))
    return out, cap


def _faint_points(
    faint: np.ndarray, ink: np.ndarray, cap: float, baseline: float, rights: np.ndarray
) -> np.ndarray:
    """Periods too light for the ink threshold (a fax's thin dots): faint round blobs on the
    baseline right after a glyph, touching no ink."""
    faint = cv2.subtract(faint, cv2.dilate(ink, np.ones((3, 3), np.uint8)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    found = np.zeros(count, bool)
    for i in range(1, count):
        x, y, cw, ch, area = stats[i]
        if not (0.1 * cap <= ch <= 0.3 * cap and 0.1 * cap <= cw <= 0.3 * cap):
            continue
        if area < 0.5 * cw * ch:
            continue
        on_baseline = baseline - 0.35 * cap <= y + ch <= baseline + 0.25 * cap
        after_glyph = bool(np.any((rights <= x + 0.2 * cap) & (rights >= x - 0.6 * cap)))
        found[i] = on_baseline and after_glyph
    return np.where(found[labels], 255, 0).astype(np.uint8)


def crop_box(
    page: PreparedPage,
    box: Rect,
    *,
    pad: tuple[float, float] = (1.0, 3.0),
    tolerance: tuple[float, float] = (-0.4, 1.2),
    soft: bool = False,
    rules: tuple[float, ...] = (),
    points: bool = False,
    cap_px: float = TARGET_CAP_PX,
) -> np.ndarray | None:
    """The cleaned ink of one box, scaled for Tesseract (black on white), or None when empty.

    ``rules`` are x positions (points) of printed rules inside the box (the dollars | cents tick).
    ``points``: look for periods too light for the ink threshold (free text: names, addresses).
    """
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
    clean, cap = _clean(
        crop,
        inner,
        max_stroke,
        thin_px=0.6 * k,
        min_text_px=0.35 * (y1 - y0) * k,
        rules=tuple((r - x0 + px) * k for r in rules),
        faint=page.faint[Y0:Y1, X0:X1] if points and page.faint is not None else None,
        printed=page.printed[Y0:Y1, X0:X1] if page.printed is not None else None,
    )
    shown = page.soft if soft and page.soft is not None else page.gray
    gray = shown[Y0:Y1, X0:X1].copy()
    if points and page.faint is not None:
        # recovered faint points are shown as dark as the rest of the ink
        points = cv2.subtract(clean, crop)
        gray = np.where(points > 0, np.minimum(gray, 90), gray).astype(np.uint8)
    ys, xs = np.nonzero(clean)
    if len(ys) < 15:
        return None
    mask = cv2.dilate(clean, np.ones((3, 3), np.uint8))
    gray = np.where(mask > 0, gray, 255).astype(np.uint8)
    gray = gray[max(0, ys.min() - 3) : ys.max() + 4, max(0, xs.min() - 3) : xs.max() + 4]
    # Values are upper case and digits: their usual height is the capital height.
    factor = float(np.clip(cap_px / max(1.0, cap), 0.6, 3.0))
    if abs(factor - 1) > 0.12:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return gray


def read_groups(
    page: PreparedPage,
    groups: list[list[tuple[str, Rect]]],
    kind: str,
    *,
    psm: int = 6,
    soft: bool = False,
    cap_px: float = TARGET_CAP_PX,
) -> dict[str, CellText]:
    """OCR boxes batched as a mosaic: one row per group, boxes left to right."""
    results: dict[str, CellText] = {}
    placed: list[tuple[str, tuple[int, int, int, int]]] = []
    inner_rules = load_layout().inner_rules
    rows: list[list[tuple[str, np.ndarray]]] = []
    for group in groups:
        row = []
        for name, box in group:
            crop = crop_box(
                page,
                box,
                soft=soft,
                rules=inner_rules.get(name, ()),
                points=kind == "text",
                cap_px=cap_px,
            )
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


def read_single(
    page: PreparedPage,
    name: str,
    box: Rect,
    kind: str,
    psm: int = 7,
    soft: bool = False,
    cap_px: float = TARGET_CAP_PX,
) -> CellText:
    """Re-read one box on its own (the cascade's second opinion)."""
    return read_groups(page, [[(name, box)]], kind, psm=psm, soft=soft, cap_px=cap_px)[name]


def print_offset(page: PreparedPage, boxes: list[Rect], reach: float = 6.0) -> float | None:
    """How far (points, + down) the printed values sit from their boxes, over the whole page.

    A misfed printer or another billing system prints every value a few points higher or lower
    than the form's own field rectangles; each box is then read where its value really is.
    Each box's text line is found within ``reach`` points of it (rules and the form's own words
    left out) and the median offset is taken; None when too few boxes hold a value or they
    disagree.
    """
    k = page.scale
    h_img, w_img = page.ink.shape
    offsets = []
    for x0, y0, x1, y1 in boxes:
        X0, X1 = max(0, round(x0 * k)), min(w_img, round(x1 * k))
        Y0, Y1 = max(0, round((y0 - reach) * k)), min(h_img, round((y1 + reach) * k))
        crop = page.ink[Y0:Y1, X0:X1]
        if crop.size == 0:
            continue
        box_h = (y1 - y0) * k
        h_run = np.ones((1, max(40, round(1.5 * box_h))), np.uint8)
        v_run = np.ones((max(3, round(box_h)), 1), np.uint8)
        long_h = cv2.morphologyEx(crop, cv2.MORPH_OPEN, h_run)
        long_v = cv2.morphologyEx(crop, cv2.MORPH_OPEN, v_run)
        clean = cv2.subtract(crop, cv2.max(long_h, long_v))
        clean = cv2.morphologyEx(clean, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(clean, connectivity=8)
        if page.printed is not None:
            on_print = np.bincount(labels[page.printed[Y0:Y1, X0:X1] > 0], minlength=count)
        centres, weights = [], []
        for i in range(1, count):
            _x, y, _w, h, area = stats[i]
            if not 0.35 * box_h <= h <= 1.2 * box_h:
                continue
            if page.printed is not None and on_print[i] > 0.6 * area:
                continue
            centres.append(y + h / 2)
            weights.append(area)
        if sum(weights) < 4 * box_h:
            continue
        order = np.argsort(centres)
        cumulative = np.cumsum(np.array(weights)[order])
        middle = np.array(centres)[order][np.searchsorted(cumulative, cumulative[-1] / 2)]
        offsets.append((Y0 + middle) / k - (y0 + y1) / 2)
    if len(offsets) < 3:
        return None
    middle = float(np.median(offsets))
    if float(np.median(np.abs(np.array(offsets) - middle))) > 1.5:  # boxes disagree: no offset
        return None
    return middle
