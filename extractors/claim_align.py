"""Register a picture of a CMS-1500 page to the form template, and rectify it.

The form's printed rules are its fingerprint. We find the page's long horizontal and vertical
rules, estimate rotation (projection profiles), scale and offset (1-D correlation of the rule
profiles with the template's) and then refine to a full homography with OpenCV's ECC on
blurred rule maps, coarse to fine. That copes with scanner skew, fax resampling, phone-photo
perspective and slightly crumpled paper. The result maps template points to image pixels, so
every box is read at the position the blank form gives it.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageSequence

from core.errors import CorruptDocumentError, TooLargeError
from extractors.claim_template import FormLayout

WORK_WIDTH = 850
"""Pixels across the page for registration (about 100 dpi): rules stay visible, cost stays low."""
READ_DPI = 300
"""Resolution of the rectified page that boxes are read from."""
STREAK_MIN_GAIN = 0.2
"""Below this a streak column holds no usable contrast and is filled from its neighbours."""


@dataclass
class Registration:
    homography: np.ndarray
    """3x3: template point (x, y, 1) → source-image pixel."""
    score: float
    """ECC correlation of the page's rules with the template's, in [0, 1]; < 0.3 means lost."""
    angle: float
    method: str


@dataclass
class Rectified:
    image: np.ndarray
    """RGB (or gray as 3 channels) page warped onto the template at ``READ_DPI``."""
    scale: float
    """Pixels per PDF point of ``image``."""
    registration: Registration
    colour: bool
    """True when the form print is coloured (dropout possible)."""
    source_size: tuple[int, int]


def load_rgb(
    source: bytes | Path, page_index: int, *, max_pixels: int, pdf_dpi: int = 300
) -> np.ndarray:
    """The page in colour (pages.py keeps only grayscale, which loses the red form print)."""
    head = source[:8] if isinstance(source, bytes) else Path(source).read_bytes()[:8]
    if b"%PDF" in head:
        from extractors.pages import PDFIUM_LOCK, open_pdf

        pdf = open_pdf(source)
        try:
            with PDFIUM_LOCK:
                pdf.init_forms()
                page = pdf[page_index]
                array = page.render(scale=pdf_dpi / 72, may_draw_forms=True).to_numpy().copy()
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        if array.ndim == 2:
            return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
        return np.ascontiguousarray(array[..., 2::-1]) if array.shape[2] >= 3 else array
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index == page_index:
                    if frame.size[0] * frame.size[1] > max_pixels:
                        raise TooLargeError(
                            f"image page is too large: {frame.size[0]}x{frame.size[1]}"
                        )
                    return np.asarray(frame.convert("RGB")).copy()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CorruptDocumentError(f"image is damaged or not a valid image ({exc})") from exc
    raise CorruptDocumentError(f"image has no page {page_index + 1}")


def is_colour(rgb: np.ndarray) -> bool:
    """Whether the form print is coloured (red dropout ink) rather than black."""
    small = rgb[::4, ::4]
    ink = ink_map(small.min(axis=2)) > 0
    if ink.sum() < 100:
        return False
    s = small.astype(np.int16)
    reddish = (s[..., 0] - s[..., 1] > 40)[ink]
    return bool(reddish.mean() > 0.25)


def form_channel(rgb: np.ndarray) -> np.ndarray:
    """Gray in which the form's red print is as dark as black ink.

    A washed-out photo leaves thin red rules pale pink, too light in plain gray to be found; their
    redness (red above green) still tells them from paper. Black-and-white pages are unchanged.
    """
    s = rgb.astype(np.int16)
    redness = np.clip(s[..., 0] - s[..., 1], 0, 255)
    return np.clip(s.min(axis=2) - redness, 0, 255).astype(np.uint8)


INK_LEVEL = 175
"""Ink is darker than this share of its paper's brightness (out of 255)."""
FAINT_RULES_LEVEL = 205
"""A blurred or lightly printed scan's thin rules reach only this far below their paper."""
CLEAR_FIT = 0.8
"""A registration scoring below this (ECC correlation) is tried again with faint rules."""


def ink_map(gray: np.ndarray, level: float = INK_LEVEL) -> np.ndarray:
    """Dark-on-light ink as 255, paper as 0, after flattening uneven lighting."""
    size = max(15, (min(gray.shape) // 20) | 1)
    background = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    background = cv2.GaussianBlur(background, (0, 0), size / 2)
    norm = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return np.where(norm < level, 255, 0).astype(np.uint8)


def rule_maps(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Long horizontal and vertical strokes (form rules), text removed."""
    h, w = ink.shape
    kh = max(15, w // 28)
    kv = max(15, h // 40)
    horiz = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (kh, 1))
    )
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, kv)))
    # Fax streaks and page edges run the whole height: they are not form rules.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(vert, connectivity=8)
    tall = np.nonzero(stats[:, cv2.CC_STAT_HEIGHT] > 0.9 * h)[0]
    tall = tall[tall > 0]
    if len(tall):
        vert[np.isin(labels, tall)] = 0
    # Thick blobs (redaction bars, shadows) are not rules either.
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(horiz, connectivity=8)
    thick = np.nonzero(stats[:, cv2.CC_STAT_HEIGHT] > max(6, h // 150))[0]
    thick = thick[thick > 0]
    if len(thick):
        horiz[np.isin(labels, thick)] = 0
    return horiz, vert


def _rotate(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    out = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return out, np.vstack([matrix, [0, 0, 1]])


def estimate_angle(ink: np.ndarray, limit: float = 7.0) -> float:
    """Rotation (degrees, counter-clockwise as OpenCV) that makes the form's rules horizontal."""
    small = cv2.resize(ink, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)

    def sharpness(angle: float) -> float:
        rotated, _ = _rotate(small, angle)
        profile = rotated.astype(np.float32).sum(axis=1)
        return float((profile**2).sum())

    best = max(np.arange(-limit, limit + 0.01, 0.5), key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    return float(max(fine, key=sharpness))


def template_rules(layout: FormLayout, scale: float, size: tuple[int, int]) -> np.ndarray:
    """The blank form's rules drawn at ``scale`` pixels per point (255 on 0)."""
    w, h = size
    canvas = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in (*layout.h_lines, *layout.v_lines):
        cv2.rectangle(
            canvas,
            (round(x0 * scale), round(y0 * scale)),
            (round(x1 * scale) - 1, round(y1 * scale) - 1),
            255,
            -1,
        )
    return canvas


def _profile_fit(
    observed: np.ndarray,
    template_spans: list[tuple[float, float, float]],
    scales: np.ndarray,
    keep: int = 1,
) -> list[tuple[float, float, float]]:
    """The best (correlation, scale, offset) overlays of a 1-D rule profile, best first."""
    n = len(observed)
    obs = cv2.GaussianBlur(observed.astype(np.float32).reshape(-1, 1), (1, 0), 3).ravel()
    obs = (obs - obs.mean()) / (obs.std() + 1e-6)
    found: list[tuple[float, float, float]] = []
    for scale in scales:
        tmpl = np.zeros(n, np.float32)
        for pos0, pos1, weight in template_spans:
            a, b = int(pos0 * scale), int(np.ceil(pos1 * scale))
            if 0 <= a < n:
                tmpl[a : min(n, b + 1)] += weight
        tmpl = cv2.GaussianBlur(tmpl.reshape(-1, 1), (1, 0), 3).ravel()
        tmpl = (tmpl - tmpl.mean()) / (tmpl.std() + 1e-6)
        corr = np.fft.irfft(np.fft.rfft(obs, 2 * n) * np.conj(np.fft.rfft(tmpl, 2 * n)), 2 * n)
        offsets = np.where(np.arange(2 * n) < n, np.arange(2 * n), np.arange(2 * n) - 2 * n)
        corr[np.abs(offsets) >= n * 0.25] = -np.inf
        for shift in np.argsort(corr)[::-1][: keep * 3]:
            found.append((float(corr[shift]) / n, float(scale), float(offsets[shift])))
    found.sort(reverse=True)
    best: list[tuple[float, float, float]] = []
    for cand in found:  # distinct peaks only
        if all(abs(cand[2] - b[2]) > 8 or abs(cand[1] - b[1]) > 0.02 * b[1] for b in best):
            best.append(cand)
        if len(best) == keep:
            break
    return best


def _ecc(
    template: np.ndarray, observed: np.ndarray, warp: np.ndarray, blur: float, iterations: int = 60
) -> tuple[np.ndarray, float]:
    t = cv2.GaussianBlur(template.astype(np.float32), (0, 0), blur)
    o = cv2.GaussianBlur(observed.astype(np.float32), (0, 0), blur)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5)
    score, warp = cv2.findTransformECC(
        t, o, warp.astype(np.float32), cv2.MOTION_HOMOGRAPHY, criteria, None, 5
    )
    return warp.astype(np.float64), float(score)


def register(rgb: np.ndarray, layout: FormLayout) -> Registration:
    """The homography from template points to ``rgb`` pixels.

    The rules are looked for in the red-aware channel first (pale red rules of a washed-out
    photo); when that fits poorly on a coloured page, plain gray is tried too, and on a gray
    page a fainter ink level; the better fit (ECC correlation) is kept.
    """
    best = _register(form_channel(rgb), layout)
    if best.score >= CLEAR_FIT:
        return best
    if is_colour(rgb):
        other = _register(rgb.min(axis=2), layout) if best.score < 0.6 else best
    else:
        # A blurred or lightly printed scan leaves its thin rules too light for the ink level:
        # the few found fit the form's scale wrongly (the right edge 7 pt off, or a page 50 pt
        # off). The fainter level finds them. (Not on colour photos, whose shadows and paper
        # texture it would take for rules.)
        other = _register(form_channel(rgb), layout, FAINT_RULES_LEVEL)
    return other if other.score > best.score else best


def _register(gray: np.ndarray, layout: FormLayout, level: float = INK_LEVEL) -> Registration:
    _height, width = gray.shape[:2]
    f = WORK_WIDTH / width
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    ink = ink_map(small, level)
    angle = estimate_angle(ink)
    rotated, rot = _rotate(ink, angle)
    horiz, vert = rule_maps(rotated)
    _h, w = rotated.shape

    base = w / layout.page_size[0]
    h_spans = [(y0, y1, x1 - x0) for x0, y0, x1, y1 in layout.h_lines]
    v_spans = [(x0, x1, y1 - y0) for x0, y0, x1, y1 in layout.v_lines]
    _, sy, ty = _profile_fit(horiz.sum(axis=1), h_spans, base * np.arange(0.86, 1.1401, 0.005))[0]
    # A page is scaled alike both ways, so the horizontal offset is tried at the vertical scale
    # (a few peaks, since vertical rules repeat) and at its own best scale; ECC's correlation
    # picks among the candidates.
    x_candidates = _profile_fit(vert.sum(axis=0), v_spans, np.array([sy]), keep=3)
    x_candidates += _profile_fit(vert.sum(axis=0), v_spans, base * np.arange(0.86, 1.1401, 0.005))

    # ECC works in template-raster pixels at the working scale ``base``.
    tsize = (round(layout.page_size[0] * base), round(layout.page_size[1] * base))
    template = template_rules(layout, base, tsize)
    observed = cv2.max(horiz, vert)
    half = np.diag([0.5, 0.5, 1.0])
    t2 = cv2.resize(template, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    o2 = cv2.resize(observed, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    best: tuple[float, np.ndarray, str] = (
        -1.0,
        np.array([[sy / base, 0, 0], [0, sy / base, ty], [0, 0, 1]], np.float64),
        "profile",
    )
    tried: list[tuple[float, float]] = []
    for _, sx, tx in x_candidates:
        if best[0] >= 0.8:  # a clear fit: the other overlays are not worth their ECC runs
            break
        if any(abs(sx - a) < 0.005 * base and abs(tx - b) < 3 for a, b in tried):
            continue
        tried.append((sx, tx))
        warp = np.array([[sx / base, 0, tx], [0, sy / base, ty], [0, 0, 1]], np.float64)
        score, method = 0.0, "profile"
        try:
            small_warp, score = _ecc(
                t2, o2, half @ warp @ np.linalg.inv(half), blur=2.0, iterations=40
            )
            warp = np.linalg.inv(half) @ small_warp @ half
            method = "ecc"
        except cv2.error:
            pass
        if score > best[0]:
            best = (score, warp, method)
    score, warp, method = best
    if method == "ecc":
        with contextlib.suppress(cv2.error):
            warp, score = _ecc(template, observed, warp, blur=1.5, iterations=20)
    # template pt → template raster px → rotated work px → work px → source px
    to_raster = np.diag([base, base, 1.0])
    unrotate = np.linalg.inv(rot)
    to_source = np.diag([1 / f, 1 / f, 1.0])
    homography = to_source @ unrotate @ warp @ to_raster
    return Registration(homography=homography, score=max(0.0, score), angle=angle, method=method)


def rectify(
    rgb: np.ndarray, registration: Registration, layout: FormLayout, dpi: int = READ_DPI
) -> np.ndarray:
    """The page warped onto the template: pixel (u, v) is template point (u, v) / (dpi / 72)."""
    k = dpi / 72.0
    out_size = (round(layout.page_size[0] * k), round(layout.page_size[1] * k))
    to_points = np.diag([1 / k, 1 / k, 1.0])
    matrix = registration.homography @ to_points
    return cv2.warpPerspective(
        rgb,
        matrix,
        out_size,
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )


def repair_streaks(rgb: np.ndarray) -> np.ndarray:
    """Undo fax streaks (dark columns running the whole page).

    A streak is a sensor column with too little gain: the page under it is darker but usually
    still there, ink darker than paper. Each streak column is divided by its own paper level
    (relative to the columns beside it), which brings back strokes hidden under it, such as the
    stem of a K. Where the column is too dark to hold anything, a pixel is taken as ink only when
    both neighbouring columns are ink there, so a crossing character keeps its horizontal strokes.
    """
    dark = rgb.min(axis=2) < 160
    fraction = dark.mean(axis=0)
    streak = fraction > 0.9
    if not streak.any() or streak.mean() > 0.05:
        return rgb
    # a streak's soft edges (resampling) belong to it too
    for _ in range(2):
        grown = streak.copy()
        grown[1:] |= streak[:-1] & (fraction[1:] > 0.25)
        grown[:-1] |= streak[1:] & (fraction[:-1] > 0.25)
        streak = grown
    out = rgb.copy()
    height, width = rgb.shape[:2]
    # Paper level along each column: the brightest pixel within a run longer than any glyph.
    reach = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(31, height // 40) | 1))
    gray = rgb.min(axis=2)
    x = 0
    while x < width:
        if not streak[x]:
            x += 1
            continue
        end = x
        while end + 1 < width and streak[end + 1]:
            end += 1
        a, b = max(0, x - 1), min(width - 1, end + 1)  # plus the soft edges
        left, right = max(0, a - 1), min(width - 1, b + 1)
        paper = cv2.dilate(np.maximum(gray[:, left], gray[:, right]).reshape(-1, 1), reach)
        for col in range(a, b + 1):
            level = cv2.dilate(gray[:, col].reshape(-1, 1), reach)
            gain = level.astype(np.float32) / np.maximum(paper, 1).astype(np.float32)
            if float(np.median(gain)) >= STREAK_MIN_GAIN:
                scaled = rgb[:, col].astype(np.float32) / np.maximum(gain, 0.05)
                out[:, col] = np.clip(scaled, 0, 255).astype(np.uint8)
            else:
                out[:, col] = np.maximum(rgb[:, left], rgb[:, right])
        x = end + 1
    return out


LOCAL_BELOW = 0.8
"""Registration score under which the page is refined tile by tile (above, one homography fits)."""
LOCAL_DPI = 100
"""Resolution of the rule maps that the local (tile by tile) refinement compares."""
LOCAL_GRID = (4, 6)
"""Tiles across and down the page for the local refinement."""
LOCAL_REACH_PT = 10.0
"""How far (points) a tile may still be off after the global registration."""


def _vertex(a: float, b: float, c: float) -> float:
    """Sub-pixel offset of a peak ``b`` between ``a`` and ``c`` (a parabola through the three)."""
    curvature = a - 2 * b + c
    if curvature >= -1e-6:
        return 0.0
    return float(np.clip(0.5 * (a - c) / curvature, -0.5, 0.5))


def local_displacements(image: np.ndarray, layout: FormLayout, dpi: int) -> np.ndarray | None:
    """Per-tile (dx, dy) in points that bring the rectified page's rules onto the template's.

    One homography cannot follow a page that is curled, creased or photographed with a lens
    that bends lines; after it, parts of the page can still be a few points off. Each tile's
    rules are matched against the template's rules around it (normalised cross-correlation);
    tiles with too few rules or an unclear peak take their neighbours' shift.
    """
    s = LOCAL_DPI / 72.0
    f = s / (dpi / 72.0)
    small = cv2.resize(form_channel(image), None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    horiz, vert = rule_maps(ink_map(small))
    observed = cv2.GaussianBlur(cv2.max(horiz, vert).astype(np.float32), (0, 0), 1.5)
    h, w = observed.shape
    template = cv2.GaussianBlur(
        template_rules(layout, s, (w, h)).astype(np.float32), (0, 0), 1.5
    )
    nx, ny = LOCAL_GRID
    reach = round(LOCAL_REACH_PT * s)
    shifts = np.full((ny, nx, 2), np.nan, np.float32)
    for j in range(ny):
        for i in range(nx):
            x0, x1 = i * w // nx, (i + 1) * w // nx
            y0, y1 = j * h // ny, (j + 1) * h // ny
            patch = template[y0:y1, x0:x1]
            if patch.std() < 1e-3 or (patch > 64).mean() < 0.01:
                continue
            X0, Y0 = max(0, x0 - reach), max(0, y0 - reach)
            X1, Y1 = min(w, x1 + reach), min(h, y1 + reach)
            area = observed[Y0:Y1, X0:X1]
            if area.std() < 1e-3:
                continue
            score = cv2.matchTemplate(area, patch, cv2.TM_CCOEFF_NORMED)
            _, peak, _, (px, py) = cv2.minMaxLoc(score)
            if peak < 0.35:
                continue
            # a tile whose rules repeat (evenly spaced rows) matches one pitch off as well: skip it
            others = score.copy()
            cv2.rectangle(others, (px - 3, py - 3), (px + 3, py + 3), -1.0, -1)
            if peak - float(others.max()) < 0.05:
                continue
            fx, fy = float(px), float(py)
            # sub-pixel: a parabola through the peak and its neighbours
            if 0 < px < score.shape[1] - 1:
                fx += _vertex(*score[py, px - 1 : px + 2])
            if 0 < py < score.shape[0] - 1:
                fy += _vertex(*score[py - 1 : py + 2, px])
            shifts[j, i] = ((X0 + fx - x0) / s, (Y0 + fy - y0) / s)
    valid = ~np.isnan(shifts[..., 0])
    if valid.sum() < 3:
        return None
    # outliers (a tile matched one row off) and gaps take the median of their neighbours
    filled = shifts.copy()
    for j in range(ny):
        for i in range(nx):
            near = shifts[max(0, j - 1) : j + 2, max(0, i - 1) : i + 2].reshape(-1, 2)
            near = near[~np.isnan(near[:, 0])]
            if len(near) == 0:
                near = shifts[valid]
            med = np.median(near, axis=0)
            if not valid[j, i] or np.abs(shifts[j, i] - med).max() > 4.0:
                filled[j, i] = med
    return filled


def refine_locally(image: np.ndarray, layout: FormLayout, dpi: int) -> np.ndarray:
    """The rectified page with each region moved onto the template (see ``local_displacements``)."""
    shifts = local_displacements(image, layout, dpi)
    if shifts is None or np.abs(shifts).max() < 0.5:
        return image
    h, w = image.shape[:2]
    k = dpi / 72.0
    # tile centres → every pixel, bilinear; border tiles extend to the page edge
    dx = cv2.resize(shifts[..., 0] * k, (w, h), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize(shifts[..., 1] * k, (w, h), interpolation=cv2.INTER_LINEAR)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        image,
        xs + dx,
        ys + dy,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )


def align_page(rgb: np.ndarray, layout: FormLayout, dpi: int = READ_DPI) -> Rectified:
    rgb = repair_streaks(rgb)
    registration = register(rgb, layout)
    image = rectify(rgb, registration, layout, dpi)
    if registration.score < LOCAL_BELOW:
        image = refine_locally(image, layout, dpi)
    return Rectified(
        image=image,
        scale=dpi / 72.0,
        registration=registration,
        colour=is_colour(rgb),
        source_size=(rgb.shape[1], rgb.shape[0]),
    )
