"""OpenCV preprocessing and Tesseract for one page image (the ``tesseract`` command, run here to
get its CPU time; pytesseract finds it, lists its languages and parses its TSV).

Tesseract runs single-threaded (``OMP_THREAD_LIMIT=1``): its own OpenMP threading is 3–4×
slower on this class of machine than running one process per core, so parallelism comes from
running several pages at once, bounded by a process-wide semaphore.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from core.models import Box, Word
from core.processes import run_measured
from core.settings import Settings
from extractors.layout import bounds
from extractors.parsers import fold

# Configures the tesseract child processes, not this process's behaviour.
os.environ["OMP_THREAD_LIMIT"] = "1"
# OpenCV's own threads the same way: pages and documents already run side by side, one per
# core, and OpenCV splitting each call over two threads cost 40 % more CPU for the same
# preprocessing (the 12 bench pages: 4.4 s against 3.1 s) with nothing idle to gain from.
cv2.setNumThreads(1)

TESSERACT_TIMEOUT_SECONDS = 180
"""One Tesseract call that runs this long is stuck (a normal 300 dpi page takes about a second):
it is killed and the document goes to a person instead of holding the run up."""

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _tesseract_slots(workers: int) -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, workers))
        return _slots


@functools.cache
def installed_languages() -> frozenset[str]:
    """Tesseract's installed language data (``eng``, ``deu``…); empty when it is missing."""
    import pytesseract

    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return frozenset()


LANGUAGE_MARKERS = {
    "eng": r"invoice|the|and|total|amount|date|for|of|to|please|thank|you|payment|due|number",
    "deu": r"rechnung|und|der|die|das|mit|mwst|ust|betrag|summe|datum|zahlbar|gesamt|netto|"
    r"brutto|steuer|bitte|vielen|dank|menge|preis|gmbh|strasse|str|bis|zahlung",
    "fra": r"facture|le|la|les|des|du|et|tva|montant|ttc|payer|numero|pour|vous|sarl|sas|"
    r"prix|quantite|echeance|reglement|rue",
    "nld": r"factuur|het|een|en|btw|totaal|bedrag|van|voor|betaling|wij|aantal|prijs|straat",
    "spa": r"factura|el|los|las|del|y|iva|importe|fecha|para|precio|cantidad|calle",
    "ita": r"fattura|il|gli|della|del|e|iva|importo|totale|data|per|prezzo|quantita|via",
}
"""Common words of business documents per language (Tesseract codes), accents removed."""
_MARKERS = {lang: re.compile(rf"\b(?:{words})\b") for lang, words in LANGUAGE_MARKERS.items()}
LANGUAGE_MIN_HITS = 6
"""A page needs at least this many marker words of a language before it is read again in it."""


def guess_language(text: str) -> str | None:
    """The language (Tesseract code) a page's words look like, or None when too few words tell.

    English is the default and wins ties: another language must have at least
    ``LANGUAGE_MIN_HITS`` marker words and more of them than English has.
    """
    folded = fold(text)
    hits = {lang: len(pattern.findall(folded)) for lang, pattern in _MARKERS.items()}
    best = max(hits, key=lambda lang: (hits[lang], lang == "eng"))
    if best == "eng" or hits[best] < LANGUAGE_MIN_HITS or hits[best] <= hits["eng"]:
        return "eng" if hits["eng"] >= LANGUAGE_MIN_HITS else None
    return best


def tesseract_version() -> str:
    """Tesseract's version (``5.3.0``), or ``missing``: asked of the binary itself, as
    importing pytesseract would cost a process that reads only text layers pandas' import."""
    try:
        done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    m = re.search(r"tesseract\s+v?(\d+(?:\.\d+)+)", done.stdout + done.stderr)
    return m.group(1) if m else "missing"


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def estimate_skew(gray: np.ndarray) -> float:
    """Skew angle in degrees from the dominant direction of text lines (0 when unsure)."""
    scale = 1000.0 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    # Smear characters horizontally into line blobs, then measure the blobs' angles.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, small.shape[1] // 60), 1))
    blobs = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(blobs, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    angles: list[float] = []
    weights: list[float] = []
    for contour in contours:
        (_, _), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h = h, w
            angle += 90
        if w < small.shape[1] * 0.08 or h < 2 or w / h < 4:
            continue
        angle = ((angle + 90) % 180) - 90
        if abs(angle) <= 15:
            angles.append(angle)
            weights.append(w)
    if len(angles) < 3:
        return 0.0
    return float(np.average(angles, weights=weights))


def rotate(gray: np.ndarray, degrees: float) -> np.ndarray:
    if abs(degrees) < 0.1:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def binarise(gray: np.ndarray, mode: str = "otsu") -> np.ndarray:
    if mode == "none":
        return gray
    if mode == "adaptive":
        return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 15)
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


@dataclass
class Prepared:
    gray: np.ndarray
    """Deskewed grayscale: what Tesseract reads and reviewers see; word boxes are in its
    pixels. (Binarised variants are made by the cascade for the bands it re-reads.)"""
    skew: float


MARGIN_BAND = 0.04
"""Dark scanner margins are whitened only within this share of the page's width/height."""


def clear_dark_margins(gray: np.ndarray) -> np.ndarray:
    """The page with the scanner's dark margins (the platen around a narrow receipt) made white.

    A black strip along the edge of a faint thermal print makes the global threshold split
    black from grey instead of grey from white, and Tesseract then sees an empty page. Dark
    regions touching the edge are whitened, but only inside a thin band along it, so a table
    rule or a dark header that reaches the edge keeps everything inward of the band.
    """
    h, w = gray.shape
    if h < 50 or w < 50:
        return gray
    dark = (gray < 100).astype(np.uint8)
    if not dark[0, :].any() and not dark[-1, :].any() and not dark[:, 0].any() and not dark[:, -1].any():
        return gray
    _, labels = cv2.connectedComponents(dark, connectivity=8)
    edge = _edge_labels(labels)
    edge = edge[edge != 0]
    if edge.size == 0:
        return gray
    bx, by = max(2, int(w * MARGIN_BAND)), max(2, int(h * MARGIN_BAND))
    band = np.zeros_like(dark, dtype=bool)
    band[:by, :] = band[-by:, :] = True
    band[:, :bx] = band[:, -bx:] = True
    mask = band & np.isin(labels, edge)
    if not mask.any():
        return gray
    # Grow the mask a little: the scanner's shadow fades into the paper over a few pixels.
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & band
    out = gray.copy()
    out[mask] = 255
    return out


def _edge_labels(labels: np.ndarray) -> np.ndarray:
    """The connected-component labels that touch the image's border."""
    return np.unique(np.concatenate([labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]]))


def _page_levels(gray: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A sixteenth of the page's pixels, its Otsu ink/paper threshold and its paper level
    (the 90th percentile): the page's levels at a sixteenth of the cost."""
    sample = np.ascontiguousarray(gray[::4, ::4])
    level = float(cv2.threshold(sample, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[0])
    return sample, level, float(np.percentile(sample, 90))


BAND_SHADE = 0.55
"""A band is turned over when its shade is at most this share of the paper's brightness.
Mid-blue and mid-grey header bars with white print (Office's default blue ``#4472C4`` is 43 %
in grey, a grey bar ``#686868`` 41 %) are bands; the 0.4 this was at first left both unread."""


def invert_dark_bands(gray: np.ndarray, dpi: int = 300) -> np.ndarray:
    """The page with light-on-dark regions (a coloured letterhead band, a table's header bar)
    turned dark-on-light, which is the only way Tesseract reads them.

    A region qualifies when it is a solid block at least three text lines tall and an eighth
    of the page wide, at least 60 % of its box is dark, it is at most 55 % as bright as the
    paper (``BAND_SHADE``) and nothing in it is darker than itself: a receipt photographed on
    a dark table and the shadow over part of a photographed page are left alone. What is
    turned over is the band itself with the letters inside it (a morphological closing fills
    them in), following its edges even on a skewed scan, so no dark rim is left to read.
    """
    h, w = gray.shape
    block = max(8, dpi // 20)
    if h < 4 * block or w < 8 * block:
        return gray
    sample, level, paper = _page_levels(gray)
    ink = float(np.median(sample[sample <= level])) if (sample <= level).any() else 0.0
    means = cv2.resize(gray, (w // block, h // block), interpolation=cv2.INTER_AREA)
    solid = (means <= 0.75 * ink + 0.25 * paper).astype(np.uint8)  # three quarters ink or more
    # a row of big letters thins the band out: bridge it so the band is one region
    solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, cells, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=4)
    blocks = [  # three text lines tall or more, a third of the page at most, an eighth as wide
        (n, x, y, bw, bh)
        for n, (x, y, bw, bh, _) in enumerate(stats[1:count], start=1)
        if bh >= 3 and bh * block <= h / 3 and bw * block >= w / 8
    ]
    if not blocks:
        return gray
    dark = (gray <= level).astype(np.uint8)
    turn = np.zeros_like(dark, dtype=bool)
    out = gray.copy()
    stroke = np.ones((block + 1, block + 1), np.uint8)  # wider than a bold letter's stroke
    for n, x, y, bw, bh in blocks:
        y0, y1, x0, x1 = y * block, (y + bh) * block, x * block, (x + bw) * block
        core, shades = dark[y0:y1, x0:x1], gray[y0:y1, x0:x1]
        tilted, tilt = _tilted_box(cells[y : y + bh, x : x + bw] == n, block)
        if core[tilted].mean() < 0.6:
            continue
        # a printed band is far darker than the paper and holds nothing darker than itself;
        # the shadow over half a photographed page holds the page's dark print
        shade = float(np.median(shades[core > 0]))
        if shade > BAND_SHADE * paper or (shades < shade - 40).mean() > 0.02:
            continue
        # the band's rows (mostly dark across the core, along its tilt on a skewed scan; a
        # line of print under it is not), and on them the band with its letters filled in,
        # followed to its ends across the page
        top, bottom = max(0, y0 - block), min(h, y1 + block)
        on_band = _band_rows(dark[top:bottom], x0, x1, tilt)
        filled = cv2.morphologyEx(dark[top:bottom], cv2.MORPH_CLOSE, stroke) & on_band
        _, labels = cv2.connectedComponents(filled.astype(np.uint8), connectivity=8)
        inside = labels[y0 - top : y1 - top, x0:x1]
        if not inside.any():
            continue
        band = _with_holes(labels == np.bincount(inside[inside > 0]).argmax())
        if band is not None and _encloses_its_print(band, dark[top:bottom]):
            # turned over and stretched, so that the band's shade becomes the paper's white
            # (a mid-grey background left behind would be taken for ink by Tesseract's own
            # thresholding, and the letters on it lost)
            # (pixels another block of the same band already turned are not turned back)
            fresh = band & ~turn[top:bottom]
            area = out[top:bottom]
            area[fresh] = np.clip((255.0 - area[fresh]) * (255.0 / max(1.0, 255.0 - shade)), 0, 255)
            turn[top:bottom] |= band
    if not turn.any():
        return gray
    return out


def _tilted_box(cells: np.ndarray, block: int) -> tuple[np.ndarray, float]:
    """The pixels of the smallest box, tilted as it needs, through the centres of the outer
    cells of one solid region (``cells``: a mask of ``block``-pixel cells), and its tilt in
    degrees: the band itself, where its upright box would take in paper above one end and
    below the other of a bar on a skewed scan (a 2,100 px bar tilted 1.7° is 64 px higher at
    one end)."""
    ys, xs = np.nonzero(cells)
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32) + 0.5)
    corners = cv2.boxPoints(((cx * block, cy * block), (rw * block, rh * block), angle))
    mask = np.zeros((cells.shape[0] * block, cells.shape[1] * block), np.uint8)
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], 1)
    return mask.astype(bool), (angle + 45.0) % 90.0 - 45.0


UPRIGHT_DEGREES = 0.2
"""A band tilted less than this has its rows measured as they are; one tilted more, along its
tilt (see ``_band_rows``)."""


def _band_rows(dark: np.ndarray, x0: int, x1: int, tilt: float) -> np.ndarray:
    """The rows of a strip of the page that are mostly dark across a band's columns ``x0:x1``
    (the band's own rows; a line of print above or below it is not), as a mask of the strip.
    On a skewed scan they are measured along the band's tilt: its level rows cross it only in
    part, and counting them as a whole took in the paper, and the print, over one end of a bar
    beside the other."""
    h, w = dark.shape
    if abs(tilt) < UPRIGHT_DEGREES:
        return np.broadcast_to((dark[:, x0:x1].mean(axis=1) >= 0.5)[:, None], (h, w))
    level = cv2.getRotationMatrix2D(((x0 + x1) / 2, h / 2), tilt, 1.0)
    flat = cv2.warpAffine(dark.astype(np.uint8), level, (w, h), flags=cv2.INTER_NEAREST)
    rows = np.broadcast_to((flat[:, x0:x1].mean(axis=1) >= 0.5)[:, None], (h, w))
    back = cv2.warpAffine(rows.astype(np.uint8), level, (w, h),
                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return back.astype(bool)


def _with_holes(mask: np.ndarray) -> np.ndarray | None:
    """The mask with what it encloses (the wide parts of the letters printed in a band), or
    None when it encloses something larger than a letter: then it is no band with print in it
    but a frame around a page (a receipt lying on a dark table)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    holes = np.setdiff1d(np.arange(1, len(stats)), _edge_labels(labels))
    if holes.size and stats[holes, cv2.CC_STAT_AREA].max() > 0.05 * mask.sum():
        return None
    return mask | np.isin(labels, holes)


LEAKING_PRINT = 0.5
"""Share of the light pixels inside a supposed band that may run out of it (see below)."""


def _encloses_its_print(band: np.ndarray, dark: np.ndarray) -> bool:
    """Whether the light print inside ``band`` is enclosed by it, as letters printed on a bar
    are; a line of big bold letters that the closing ran together into one block is no band:
    the paper between its letters runs out above and below them."""
    light = (dark == 0).astype(np.uint8)
    _, labels = cv2.connectedComponents(light, connectivity=4)
    inside = labels[band & (light > 0)]
    if inside.size == 0:
        return True
    outside = np.unique(labels[~band & (light > 0)])
    return float(np.isin(inside, outside).mean()) <= LEAKING_PRINT


FAINT_GLYPHS_MIN = 20
"""Faint glyphs a page must hold before they are darkened (a few specks are no print)."""


TINT_WINDOW = 7
"""Pixels (at an eighth of the resolution, so 56 at 300 dpi) around a faint glyph whose
median is the paper it is printed on."""


def darken_faint_print(gray: np.ndarray, *, local_paper: bool = True) -> np.ndarray:
    """The page with its light-grey print (a footer's legal details, a grey letterhead line)
    darkened so that Tesseract keeps it.

    Tesseract thresholds a page at one level, set by its darkest print; grey glyphs lighter
    than that level vanish. A glyph is faint when no pixel of it reaches the level yet it is
    clearly darker than the paper (light table shading is not: it stays above the cut-off),
    and glyph-sized; such glyphs are darkened by half. ``local_paper``: clearly darker than
    the paper around them, not only than the page's (see below).
    """
    h, w = gray.shape
    if h < 8 or w < 8:
        return gray
    _, level, paper = _page_levels(gray)
    if paper - level < 60:
        return gray
    step = 0.4 * (paper - level)
    # glyphs are found at half resolution, each pixel the darkest of its 2 x 2 block (a quarter
    # of the work; a thin black stroke stays black)
    small = cv2.erode(gray, np.ones((2, 2), np.uint8), anchor=(0, 0))[::2, ::2]
    # as much darker than the paper around them: on a light-grey table header the scan's grain
    # is as dark as faint print is on white, and darkened it became specks that lost the heads
    candidates = (small < paper - step).astype(np.uint8)
    if local_paper:  # the paper around each pixel, at an eighth of the resolution (cheap)
        around = cv2.medianBlur(np.ascontiguousarray(small[::4, ::4]), TINT_WINDOW)
        # the darkest of those nearby: along a shaded table row's edge the median is the white
        # paper beside the row, and the row's grain there had passed for faint print
        around = cv2.erode(around, np.ones((5, 5), np.uint8))
        local_cut = np.ceil(np.minimum(paper, around) - step).clip(0, 255).astype(np.uint8)
        local_cut = cv2.resize(local_cut, (small.shape[1], small.shape[0]),
                               interpolation=cv2.INTER_NEAREST)
        candidates &= (small < local_cut).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    reaching = np.zeros(count, dtype=bool)
    reaching[labels[small <= level]] = True
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    faint = ~reaching & (heights >= 2) & (heights <= h / 80) & (widths <= 3 * heights)
    faint &= stats[:, cv2.CC_STAT_AREA] >= 3
    faint[0] = False
    if faint.sum() < FAINT_GLYPHS_MIN:
        return gray
    near = cv2.resize(faint[labels].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    mask = (near > 0) & (gray < paper - step)
    out = gray.copy()
    out[mask] = out[mask] // 2
    return out


RULED_PAGE_INCHES = 6.0
"""Rules are cleared, and faint print is judged against the paper around it, on letter and A4
pages only (this wide and more). On a till roll a line of small print is as thin as a rule is
on a page: SROIE's receipts read worse with rules cleared on every page (dates 88 → 84 of
100, totals 85 → 80, names 77 → 73), and one lost its date to the local paper."""
RULE_LENGTH = 0.125
"""A ruled line is at least this share of the page's width long: longer than any word."""
RULE_THICKNESS = 9
"""… and thinner than this (pixels at 300 dpi): less than a line of text's x-height."""
RULE_CONTRAST = 12
"""… and this much darker than the paper just above and below it (grey levels)."""


def clear_rules(gray: np.ndarray) -> np.ndarray:
    """The page with its long thin horizontal rules (table row lines, underlines) whitened.

    A faint rule under a scan's noise thresholds into a row of dashes; Tesseract reads them as
    a line of ``ee oe`` and, where a rule's specks touch a word, lifts that word's box onto
    the rule, so one table row comes out as two lines and the item reader loses the table.
    A rule is found as what stays dark when every dark run shorter than ``RULE_LENGTH`` of
    the page is closed over (words have gaps, letters are short), and is thin against the
    paper just above and below it (the x-height band of a long word is not).
    """
    h, w = gray.shape
    length = int(w * RULE_LENGTH)
    if h < 4 * RULE_THICKNESS or length < 20:
        return gray
    closed = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    # paper on both sides: the dark gap between two lines of light print in a dark band is no rule
    reach = RULE_THICKNESS // 2 + 2
    sides = _either_side(closed, reach, np.minimum)  # the darker of the two
    _, _, paper = _page_levels(gray)
    rules = ((cv2.subtract(sides, closed) > RULE_CONTRAST) & (sides > paper - 3 * RULE_CONTRAST))
    # a rule has a core darker than the paper by twice the contrast, with its fringe: on a
    # shaded table row, the tops of a long word's letters can close into a pale line (238
    # on paper of 255) that is no rule, and whitening it cut the word in two
    if rules.any():
        core = (rules & (closed <= paper - 2 * RULE_CONTRAST)).astype(np.uint8)
        rules &= cv2.dilate(core, np.ones((5, 1), np.uint8)).astype(bool)
    rules |= _dotted_rules(gray, paper, length, reach)
    if not rules.any():
        return gray
    # whitened with the rule's blurred edges, two pixels around it
    return cv2.max(gray, cv2.dilate(rules.astype(np.uint8) * 255, np.ones((5, 5), np.uint8)))


def _either_side(rows: np.ndarray, reach: int, combine: Callable[..., np.ndarray]) -> np.ndarray:
    """``combine`` of the rows ``reach`` above and ``reach`` below each row; near the page's
    top or bottom edge, the one that is on the page (the edge counts as paper)."""
    out = np.empty_like(rows)
    combine(rows[: -2 * reach], rows[2 * reach :], out=out[reach:-reach])
    out[:reach] = rows[reach : 2 * reach]
    out[-reach:] = rows[-2 * reach : -reach]
    return out


DOTTED_COVER = 0.75
"""A dotted rule (a faint rule broken up by a scan's grain) covers at least this share of the
page's width along its line, within a pixel above or below it; the x-height band of a line of
print, with its letters' insides and the spaces between words, covers about half."""


def _dotted_rules(gray: np.ndarray, paper: float, length: int, reach: int) -> np.ndarray:
    """The pixels of long thin rules broken into dots and dashes, which the closing in
    ``clear_rules`` misses (a gap of paper anywhere along it opens it): rows where print
    covers ``DOTTED_COVER`` of a stretch ``length`` long, with paper ``reach`` above and
    below; not where print stands on the rule or hangs into it."""
    h, w = gray.shape
    out = np.zeros((h, w), dtype=bool)
    cut = paper - 2 * RULE_CONTRAST
    dots = np.ones((3, 1), np.uint8)  # the dots lie within a pixel of the line
    # how much of the stretch is covered, counted on every fourth column (a quarter of the work;
    # the page at full resolution is looked at only around the rules found)
    step = 4
    near = cv2.dilate((gray[:, ::step] < cut).astype(np.uint8), dots)
    cover = cv2.blur(near * np.uint8(255), (max(1, length // step), 1))
    sides = _either_side(cover, reach, np.maximum)  # the more covered of the two
    sides[:reach] = sides[-reach:] = 255  # none by the page's edge (a scan's dark border)
    core = (cover >= DOTTED_COVER * 255) & (sides <= (1 - DOTTED_COVER) * 255)
    rows = np.flatnonzero(core.any(axis=1))
    if rows.size == 0:
        return out
    breaks = np.flatnonzero(np.diff(rows) > 1)
    for lo, hi in zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]], strict=True):
        top, bottom = max(0, lo - 1 - 2 * reach), min(h, hi + 2 + 2 * reach)
        band = np.zeros((bottom - top, core.shape[1]), dtype=np.uint8)
        band[lo - top : hi - top + 1] = core[lo : hi + 1]
        # out to the rule's ends, where less of the stretch is covered, and over its thickness
        along = cv2.dilate(band, np.ones((3, length // step + 1), np.uint8))
        along = np.repeat(along, step, axis=1)[:, :w]
        # but not where print stands on the rule or hangs into it (a box's edge under a
        # total's digits): that stretch is left, decimal marks and all, as the closing leaves it
        inked = (gray[top:bottom] < cut).astype(np.uint8)
        print_ = cv2.morphologyEx(inked & (1 - along), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        by_print = cv2.dilate(print_, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
        out[top:bottom] |= (along & cv2.dilate(inked, dots) & (1 - by_print)).astype(bool)
    return out


def text_height(gray: np.ndarray) -> float:
    """Median height in pixels of character-sized ink blobs (0 when there are too few)."""
    scale = 1.0
    if max(gray.shape) > 4000:
        scale = 0.5
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    keep = (h >= 4) & (h <= gray.shape[0] / 20) & (w <= 3 * h) & (area >= 8)
    if keep.sum() < 20:
        return 0.0
    return float(np.median(h[keep])) / scale


UNREAD_INK = 150
"""Grey level under which a prepared page's pixel counts as print when looking for text
Tesseract left out (the faint-print step has already darkened light-grey print)."""
UNREAD_MIN_PIECES = 2
"""Word-sized pieces of print a region needs before it is read again: one alone is more often
a stamp's letter, a logo's part or a smudge than a value."""


def unread_print(gray: np.ndarray, boxes: list[Box]) -> list[Box]:
    """Regions of word-sized print that no word Tesseract read covers, as boxes in ``gray``.

    Tesseract's page layout sometimes leaves a whole column out of every block (a table's
    quantity column, between the descriptions and the prices, on a 200 dpi scan enlarged to
    300 dpi): its words are then missing from the page, not misread. Print is found at half
    size; what lies under or just beside a word read is cleared; the rest is joined into word-
    sized pieces (a line's height, as the words read measure it, and not a speck, a rule, a
    logo or a picture); pieces side by side or in one column make a region, and a region of at
    least ``UNREAD_MIN_PIECES`` pieces is returned.
    """
    heights = sorted(y1 - y0 for x0, y0, x1, y1 in boxes)
    if len(heights) < 10:
        return []
    scale = 0.5
    line = heights[len(heights) // 2] * scale
    if line < 4:
        return []
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = (small < UNREAD_INK).astype(np.uint8)
    pad_x, pad_y = int(0.4 * line) + 1, int(0.25 * line) + 1
    for x0, y0, x1, y1 in boxes:
        ink[max(0, int(y0 * scale) - pad_y):int(y1 * scale) + pad_y,
            max(0, int(x0 * scale) - pad_x):int(x1 * scale) + pad_x] = 0
    # a word's letters joined into one piece, its neighbours in the line left apart
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(0.7 * line)), 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    pieces = []
    found = np.zeros_like(ink)
    for x, y, w, h, _area in stats[1:count]:
        if not (0.5 * line <= h <= 1.7 * line and w >= 0.5 * line):
            continue
        share = float(ink[y:y + h, x:x + w].mean())
        if not 0.08 <= share <= 0.7:  # hairlines and specks; solid blots and pictures
            continue
        pieces.append((int(x), int(y), int(x + w), int(y + h)))
        found[y:y + h, x:x + w] = 1
    if len(pieces) < UNREAD_MIN_PIECES:
        return []
    # a region: pieces beside each other in a line, or one above the other in a column
    # (rows apart, where Tesseract read some of its cells)
    near = cv2.getStructuringElement(cv2.MORPH_RECT, (int(line) + 1, int(8 * line) + 1))
    count, labels = cv2.connectedComponents(cv2.dilate(found, near), connectivity=8)
    regions: dict[int, list[tuple[int, int, int, int]]] = {}
    for piece in pieces:
        regions.setdefault(int(labels[piece[1], piece[0]]), []).append(piece)
    out: list[Box] = []
    for group in regions.values():
        if len(group) >= UNREAD_MIN_PIECES:
            x0, y0, x1, y1 = bounds(group)
            out.append((x0 / scale, y0 / scale, x1 / scale, y1 / scale))
    return out


NOISY = 8.0
"""Grain (see ``noise_level``) above which a page is smoothed before Tesseract: speckle reads as
letters (``ee``, ``Sas``) between the words. The dev sets' pages measure at most 6.1 (a SROIE
photo), clean renders 0, a 200 dpi scan with noise of σ 14 about 12."""


def noise_level(gray: np.ndarray, block: int = 16) -> float:
    """How grainy the paper is: the spread of grey levels within the flattest bright patches
    (the 10th percentile of 16×16 block deviations, among the brighter half of the blocks of
    every third band)."""
    h, w = gray.shape[:2]
    if h < block or w < block:
        return 0.0
    g = gray[: h - h % block, : w - w % block]
    # every third band of blocks is sample enough, at a third of the cost
    g = g.reshape(h // block, block, -1)[::3].reshape(-1, g.shape[1]).astype(np.float32)
    size = (g.shape[1] // block, g.shape[0] // block)
    means = cv2.resize(g, size, interpolation=cv2.INTER_AREA)  # block means, computed by OpenCV
    squares = cv2.resize(cv2.multiply(g, g), size, interpolation=cv2.INTER_AREA)
    spread = np.sqrt(np.maximum(squares - means * means, 0.0))
    bright = spread[means >= np.percentile(means, 50)]
    return float(np.percentile(bright, 10)) if bright.size else 0.0


SPECKLED = 2.0
"""Lone dark pixels per thousand (see ``speckle``) above which a page is smoothed: a fax's or a
dirty scan's pepper. The dev sets' pages have at most 1.1, 0.3 % pepper gives about 2.8."""


def speckle(gray: np.ndarray) -> float:
    """Dark pixels with no dark neighbour, per thousand pixels of the page (print has none:
    its strokes are several pixels wide)."""
    dark = (gray < 110).astype(np.uint8)
    around = cv2.boxFilter(dark, cv2.CV_16U, (3, 3), normalize=False)
    return float(np.count_nonzero((dark == 1) & (around == 1)) * 1000 / max(dark.size, 1))


UNEVEN_LIGHT = 40.0
"""Grey levels between the darkest and the lightest paper of a page (5th and 95th percentiles of
its estimated background) from which the light is evened out: a photo's shadow over half the
page drops Tesseract's one threshold into the print on the lit half."""
PAPER_FLOOR = 100
"""The background estimate is never taken darker than this, so a dark region that is no band
(``invert_dark_bands`` turns bands over before the light is evened out) stays dark instead of
being divided into white."""


def even_out_light(gray: np.ndarray) -> np.ndarray:
    """The page divided by its paper's own brightness where the light falls unevenly (a shadow,
    a photo's fall-off), so the paper is white everywhere; an evenly lit page is returned as is.
    The paper is the page with its print closed over (a 7-pixel dilation of an eighth-size copy,
    then a median)."""
    h, w = gray.shape[:2]
    small = cv2.resize(gray, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.medianBlur(cv2.dilate(small, np.ones((7, 7), np.uint8)), 15)
    if float(np.percentile(paper, 95) - np.percentile(paper, 5)) < UNEVEN_LIGHT:
        return gray
    paper = cv2.resize(np.maximum(paper, PAPER_FLOOR), (w, h), interpolation=cv2.INTER_LINEAR)
    evened = cv2.divide(gray.astype(np.float32), paper.astype(np.float32), scale=255.0)
    return np.clip(evened, 0, 255).astype(np.uint8)


def is_grainy(image: np.ndarray) -> bool:
    """Whether a page should be smoothed before Tesseract (grain or pepper). Asked of the page
    as scanned: enlarging it for OCR blurs single dark pixels into blots."""
    gray = to_gray(image)
    return noise_level(gray) >= NOISY or speckle(gray) >= SPECKLED


def preprocess(image: np.ndarray, *, deskew: bool = True, dpi: int = 300,
               smooth: bool | None = None) -> Prepared:
    """Grayscale, smooth a grainy scan, even out uneven light, turn light-on-dark bands over,
    clear dark scan margins, deskew a page and clear its ruled lines for Tesseract. ``smooth``:
    whether the page as scanned was grainy (``is_grainy``, asked before it was enlarged), else
    asked of ``image``.

    Bands go first: a letterhead band along the page's top edge would otherwise be taken for
    a scanner margin and whitened through its letters, and a mid-grey band taller than the
    light's estimate reaches (a fifth of an inch and more) for a shadow, divided into paper
    with its letters left in dark blots.
    """
    gray = to_gray(image)
    grainy = is_grainy(gray) if smooth is None else smooth
    if grainy:
        gray = cv2.medianBlur(gray, 5)  # grain or pepper: Tesseract would read it as letters
    gray = even_out_light(invert_dark_bands(gray, dpi))
    full_page = gray.shape[1] >= RULED_PAGE_INCHES * dpi  # letter or A4, not a till roll
    gray = darken_faint_print(clear_dark_margins(gray), local_paper=full_page)
    skew = estimate_skew(gray) if deskew else 0.0
    if abs(skew) >= 0.2:
        gray = rotate(gray, skew)
    else:
        skew = 0.0
    if full_page:  # level rules: found once deskewed
        gray = clear_rules(gray)
    return Prepared(gray=gray, skew=skew)



TIFF_RAW = [cv2.IMWRITE_TIFF_COMPRESSION, 1]
"""No compression: writing and reading it cost less than any compression saves."""


_spent = threading.local()


def tesseract_seconds() -> float:
    """CPU seconds of the Tesseract runs this thread has made."""
    return getattr(_spent, "tesseract", 0.0)


def cpu_clock() -> float:
    """CPU seconds this thread has used, its Tesseract runs included.

    A budget counted on this clock holds the same reading on a busy machine as on an idle one:
    a wall-clock budget was cut short when other work shared the cores (a claim's re-reads
    under a load of 8 on two cores lost a service line's code).
    """
    return time.thread_time() + tesseract_seconds()


def _tesseract_tsv(path: str, lang: str, config: str) -> tuple[str, float]:
    """Tesseract's TSV of the image at ``path`` and the CPU seconds its process used.

    The process is run here rather than by pytesseract, which reaps it without its resource
    usage (``core.processes.run_measured`` takes the child's own). One run longer than
    ``TESSERACT_TIMEOUT_SECONDS`` is killed.
    """
    import pytesseract

    args = [pytesseract.pytesseract.tesseract_cmd, path, "stdout", "-l", lang,
            *shlex.split(config), "tsv"]
    try:
        done = run_measured(args, timeout=TESSERACT_TIMEOUT_SECONDS)
    except FileNotFoundError as exc:
        raise pytesseract.TesseractNotFoundError() from exc
    if done.killed:
        raise RuntimeError("Tesseract process timeout")
    if done.returncode:
        raise pytesseract.TesseractError(done.returncode,
                                         done.errors.decode("utf-8", "replace").strip())
    return done.output.decode("utf-8", "replace"), done.cpu_seconds


def run_tesseract(image: np.ndarray, *, lang: str = "eng", psm: int = 3, workers: int = 1,
                  extra: str = "") -> tuple[list[Word], float]:
    """Words with boxes and confidences in [0, 1], and the CPU seconds Tesseract used (also
    added to this thread's :func:`cpu_clock`)."""
    # imported here: it imports pandas (~0.2 s), which a process reading text layers never needs
    import pytesseract

    config = f"--oem 1 --psm {psm} {extra}".strip()
    with _tesseract_slots(workers):
        # Handed over as an uncompressed TIFF: pytesseract's own PNG encoding of a 300 dpi
        # page cost ~80 ms of Python-side CPU per call; a PGM is as quick to write, but
        # Leptonica reads it so slowly that Tesseract took ~20 % longer per page (the bench
        # pages: 38.2 s against 31.4 s). OpenCV's TIFF carries no resolution Tesseract trusts,
        # so it estimates it as before and reads the same words.
        fd, path = tempfile.mkstemp(suffix=".tif")
        os.close(fd)
        try:
            if not cv2.imwrite(path, image, TIFF_RAW):
                raise RuntimeError("could not write the page image for Tesseract")
            tsv, seconds = _tesseract_tsv(path, lang, config)
        finally:
            os.unlink(path)
    _spent.tesseract = tesseract_seconds() + seconds
    data = pytesseract.pytesseract.file_to_dict(tsv, "\t", -1)
    words = []
    for i, text in enumerate(data.get("text", [])):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        words.append(Word(text=text, box=(x, y, x + w, y + h), conf=min(1.0, conf / 100.0),
                          block=int(data["block_num"][i])))
    return without_pieces(words), seconds


PIECE_INSIDE = 0.8
"""Share of a word's box that lies within a larger word's box for it to be a piece of that
word's reading rather than a word of its own."""
SAME_LINE = 1.5
"""… and that larger word's box is at most this many times as tall: a word of the same line."""


def without_pieces(words: list[Word]) -> list[Word]:
    """Words less those Tesseract read a second time as a piece of a larger word: now and then
    it gives the same ink twice, a word and, inside its box, part of it (``Stockport SK4 1AA``
    came out as ``… 1AA 1A``, the ``1A`` within the ``1AA``'s box and its text). The larger
    reading, which spans all the ink, is kept."""
    if len(words) < 2:
        return words
    boxes = np.array([w.box for w in words], dtype=float)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    wide = np.clip(np.minimum(boxes[:, None, 2], boxes[None, :, 2])
                   - np.maximum(boxes[:, None, 0], boxes[None, :, 0]), 0, None)
    high = np.clip(np.minimum(boxes[:, None, 3], boxes[None, :, 3])
                   - np.maximum(boxes[:, None, 1], boxes[None, :, 1]), 0, None)
    shared = wide * high  # [i, j]: the area word i shares with word j
    height = boxes[:, 3] - boxes[:, 1]
    # on the same line: a tall box over several lines (a logo or stamp read as one word) holds
    # words of their own
    larger = (area[None, :] > area[:, None]) & (height[None, :] <= SAME_LINE * height[:, None])
    inside = (shared >= PIECE_INSIDE * area[:, None]) & larger & (area[:, None] > 0)
    if not inside.any():
        return words
    # and its text is part of the larger word's: Tesseract also gives a label a box stretched
    # over its value (``Date`` over ``Date 20260815``), whose value is a word of its own
    return [
        w for i, w in enumerate(words)
        if not any(w.text in words[j].text for j in np.flatnonzero(inside[i]))
    ]


@dataclass(frozen=True)
class Variant:
    """A way of reading part of a page again: Tesseract's page segmentation mode, an
    enlargement (up to ``MAX_WIDTH``) and a binarisation (``none``, or a ``binarise`` mode)."""

    psm: int
    scale: float
    binarise: str


MAX_WIDTH = 2400
"""Upscaling stops at this width: a 300 dpi page is already as large as Tesseract wants."""


def reocr_band(
    gray: np.ndarray, band: tuple[int, int] | None, variant: Variant, settings: Settings,
    lang: str | None = None, span: tuple[int, int] | None = None,
) -> tuple[list[Word], float]:
    """Words of a horizontal band of the page image (of its ``span`` of columns only, when
    given), read with ``variant``, in page pixels."""
    top, bottom = band if band is not None else (0, gray.shape[0])
    left, right = span if span is not None else (0, gray.shape[1])
    crop = gray[top:bottom, left:right]
    if crop.size == 0:
        return [], 0.0
    scale = max(1.0, min(variant.scale, MAX_WIDTH / max(1, crop.shape[1])))
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if variant.binarise != "none":
        crop = binarise(cv2.medianBlur(crop, 3), variant.binarise)
    words, seconds = run_tesseract(crop, lang=lang or settings.ocr_lang, psm=variant.psm, workers=1)
    out = []
    for w in words:
        x0, y0, x1, y1 = (v / scale for v in w.box)
        box: Box = (x0 + left, y0 + top, x1 + left, y1 + top)
        out.append(w.model_copy(update={"box": box}))
    return out, seconds
