"""CMS-1500 (02/12) claims: read each box at the position the official blank form gives it.

Three ways in, one interpretation:

- a PDF whose AcroForm fields are filled: the field values themselves (``method="acroform"``);
- a PDF with a text layer (a flattened, filled form): its words, assigned to the form's box
  rectangles (``method="text-layer"``);
- a scan, fax or photo (image, or PDF without text): the page is registered to the form's
  printed rules (``claim_align``), rectified, the red form print dropped, and every box is
  cropped, cleaned and OCR-ed in a few batched Tesseract calls (``claim_read``,
  ``method="form-ocr"``).

Values are then checked against their formats (NPI check digit, ICD-10 and CPT/HCPCS shapes,
dates MM DD YY with service years before the signature date, money) and against each other
(service-line charges must sum to box 28; when they do not, the boxes' other readings may
balance them). Every box of a scan is read in two or three ways; the reading that passes its
check wins, and one that fails them all is re-read on its own (the cascade) within the CPU
budget (CPU seconds, Tesseract's included, so that a busy machine reads as an idle one does).
Confidences follow the checks: only values confirmed by a strong check, or read alike in several
ways on a well-registered page, come out at 0.95 or more; a value that only a second reading
made pass is capped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from core.models import DocType, Extraction, Field, Origin, Page
from core.settings import Settings
from extractors import claim_formats as fmt
from extractors.claim_align import Rectified, align_page, load_rgb
from extractors.claim_read import (
    LARGE_CAP_PX,
    TARGET_CAP_PX,
    CellText,
    PreparedPage,
    prepare,
    print_offset,
    read_groups,
    read_single,
)
from extractors.claim_template import LAYOUT_PATH, FormLayout, Rect, load_layout, shifted
from extractors.ocr import cpu_clock, tesseract_seconds, tesseract_version

Source = bytes | Path
ENGINE = "cms1500-template/1"
MAX_LINES = 6
DATE_PARTS = ("mm_from", "dd_from", "yy_from", "mm_end", "dd_end", "yy_end")
MODIFIER_SUFFIXES = ("", "a", "b", "c")
TITLE_WORDS = (
    "HEALTH INSURANCE CLAIM FORM",
    "NUCC",
    "CMS-1500",
    "INSURED'S I.D.",
    "PATIENT'S NAME",
    "FEDERAL TAX I.D.",
    "BILLING PROVIDER",
)


def _line_cells(i: int) -> dict[str, str]:
    cells = {f"date_{p}": f"sv{i}_{p}" for p in DATE_PARTS}
    cells.update(
        {
            "place": f"place{i}",
            "cpt": f"cpt{i}",
            "pointers": f"diag{i}",
            "charges": f"ch{i}",
            "units": f"day{i}",
            "npi": f"local{i}",
        }
    )
    for n, suffix in enumerate(MODIFIER_SUFFIXES):
        cells[f"mod{n}"] = f"mod{i}{suffix}"
    return cells


def _line_box_labels() -> dict[str, str]:
    parts = {"place": "place of service", "cpt": "procedure code", "pointers": "diagnosis pointer",
             "charges": "charges", "units": "units", "npi": "rendering NPI"}
    units = {"mm": "month", "dd": "day", "yy": "year"}
    labels = {}
    for i in range(1, MAX_LINES + 1):
        for part, box in _line_cells(i).items():
            if part.startswith("date_"):
                unit, end = part.split("_")[1:]
                labels[box] = f"line {i} service date {'from' if end == 'from' else 'to'}, {units[unit]}"
            else:
                labels[box] = f"line {i} {parts.get(part, 'modifier')}"
    return labels


BOX_LABELS = {
    "pt_name": "patient name", "insurance_id": "insured id", "insurance_name": "payer",
    "pt_account": "patient account", "tax_id": "federal tax id", "pin": "billing NPI",
    "birth_mm": "birth date, month", "birth_dd": "birth date, day", "birth_yy": "birth date, year",
    "doc_name": "billing provider", "doc_street": "billing street", "doc_location": "billing city",
    "t_charge": "total charge", "amt_paid": "amount paid",
    **{f"diagnosis{k}": f"diagnosis {k}" for k in range(1, 13)},
    **_line_box_labels(),
}
"""Boxes as a reviewer finds them on the form: ``line 2 units``, ``diagnosis 4``."""


# Which boxes are read, batched by the kind of characters they hold (one OCR call per kind).
TEXT_GROUPS = [["insurance_name"], ["pt_name"], ["doc_name"], ["doc_street"], ["doc_location"]]
CODE_GROUPS = (
    [["insurance_id", "pt_account"]]
    + [[f"diagnosis{k}" for k in range(r, r + 4)] for r in (1, 5, 9)]
    + [
        [f"cpt{i}", f"mod{i}", f"mod{i}a", f"mod{i}b", f"mod{i}c", f"diag{i}"]
        for i in range(1, MAX_LINES + 1)
    ]
)
DIGIT_GROUPS = [
    ["birth_mm", "birth_dd", "birth_yy"],
    ["tax_id", "t_charge", "amt_paid"],
    ["pin", "pt_date", "physician_date"],
] + [
    [f"sv{i}_{p}" for p in DATE_PARTS] + [f"place{i}", f"ch{i}", f"day{i}", f"local{i}"]
    for i in range(1, MAX_LINES + 1)
]
OFFSET_BOXES = (
    "pt_name",
    "insurance_id",
    "ins_name",
    "pt_street",
    "ins_street",
    "pt_city",
    "ins_city",
    "ins_policy",
    "ins_plan_name",
    "tax_id",
    "pt_account",
)
"""Single-line boxes with nothing printed within 6 pt above or below: where the print offset
(values printed higher or lower than the form's fields) is measured."""
MIN_PRINT_OFFSET = 1.0
"""Points; smaller offsets are within every box's tolerance."""
SECOND_OPINION_CONF = 0.6
"""Highest raw confidence of a value that only a second reading made pass its check."""
SURE_DIGIT = 0.9
"""Tesseract's confidence in a code's leading digit above which two such readings keep the
digit against a reading with a letter there."""
MAJORITY_READINGS = 3
MAJORITY_WEIGHT = 4.0
"""Readings that disagree still agree when at least ``MAJORITY_READINGS`` give one value and
their summed confidence is ``MAJORITY_WEIGHT`` times the others' (seven printed ``76 93`` at
0.88-0.95 against a ``4297693`` at 0.0; a faxed ``15`` read 15 five times and 16 three, 3.45
against 2.22, stays a second opinion)."""
AGREED_CONF = 0.9
"""Lowest raw confidence of a value that every reading of its box that passes the check gives,
when at least two do (before the page's quality scales it)."""
UNSURE_DATE_READING = 0.85
"""Raw confidence below which every reading of a service date's two digits agreeing is not
enough: Tesseract reads such print at 0.9 and more; over the scans of five random claim sets,
1 of the 10 date boxes whose surest reading fell below this was wrong (``16`` for ``15``, at
0.66-0.82, posted), and none of the 1,310 others."""
REREADS = (
    (7, None, False, TARGET_CAP_PX),
    (7, None, False, LARGE_CAP_PX),
    (7, None, True, TARGET_CAP_PX),
    (8, None, False, TARGET_CAP_PX),
    (7, "text", False, TARGET_CAP_PX),
)
"""The cascade's re-readings of one box: (page segmentation, character kind — None keeps the
box's own —, softened page, capital height shown)."""
KIND_OF = {
    name: kind
    for kind, groups in (("text", TEXT_GROUPS), ("code", CODE_GROUPS), ("digits", DIGIT_GROUPS))
    for group in groups
    for name in group
}


@dataclass
class Cells:
    """What each box holds, however it was read."""

    values: dict[str, CellText]
    method: str
    quality: float
    """How far raw readings can be trusted: 1.0 digital, < 1 for scans (registration, tier)."""
    page: int
    to_page: Any = None
    """Callable mapping a template rect to the page's own coordinates (for ``Field.box``)."""

    def text(self, name: str) -> str:
        cell = self.values.get(name)
        return cell.text.strip() if cell else ""

    def conf(self, name: str) -> float:
        cell = self.values.get(name)
        return cell.conf if cell else 0.0

    def has_ink(self, name: str) -> bool:
        cell = self.values.get(name)
        return bool(cell and (cell.has_ink or cell.text))


# --------------------------------------------------------------------------------- sources


def acroform_values(source: Source) -> dict[str, str] | None:
    """Filled AcroForm values of a CMS-1500 PDF, or None when it has none."""
    head = source[:1024] if isinstance(source, bytes) else Path(source).read_bytes()[:1024]
    if b"%PDF" not in head:
        return None
    try:
        import io

        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else str(source))
        fields = reader.get_fields() or {}
    except Exception:
        return None
    layout = load_layout()
    values = {}
    for name, spec in fields.items():
        value = spec.get("/V")
        if name in layout.widgets and value not in (None, ""):
            values[name] = str(value)
    return values if len(values) >= 5 else None


def _cells_from_values(values: dict[str, str], layout: FormLayout) -> Cells:
    cells = {
        name: CellText(values.get(name, ""), 1.0, rect, has_ink=bool(values.get(name)))
        for name, rect in layout.widgets.items()
    }
    return Cells(cells, "acroform", 1.0, 0, to_page=lambda r: r)


def _cells_from_text_layer(page: Page, layout: FormLayout) -> Cells | None:
    """Words of a text-layer page assigned to the box whose rectangle holds their centre."""
    sx = page.width / layout.page_size[0]
    sy = page.height / layout.page_size[1]
    if abs(sx - sy) > 0.03 * sx:
        return None
    hits: dict[str, list[tuple[float, str]]] = {}
    placed = 0
    for word in page.words:
        cx = (word.box[0] + word.box[2]) / 2 / sx
        cy = (word.box[1] + word.box[3]) / 2 / sy
        for name, (x0, y0, x1, y1) in layout.widgets.items():
            if x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1:
                hits.setdefault(name, []).append((word.box[0], word.text))
                placed += 1
                break
    if placed < max(8, 0.5 * len(page.words)):
        return None
    cells = {}
    for name, rect in layout.widgets.items():
        words = sorted(hits.get(name, []))
        cells[name] = CellText(" ".join(t for _, t in words), 1.0, rect, has_ink=bool(words))
    return Cells(
        cells,
        "text-layer",
        1.0,
        page.index,
        to_page=lambda r: (r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy),
    )


def _add_readings(values: dict[str, CellText], others: dict[str, CellText]) -> None:
    for name, other in others.items():
        if other.has_ink and name in values:
            values[name].alternatives.append(other)


def _disputed(cell: CellText | None) -> bool:
    """Whether the readings of a box differ, or the first found nothing or is unsure."""
    if cell is None or not cell.has_ink:
        return False
    first = fmt.compact(cell.text).upper()
    if not first or cell.conf < 0.5:
        return True
    return any(fmt.compact(a.text).upper() != first for a in cell.alternatives)


def _cells_from_image(
    source: Source,
    page: Page | None,
    layout: FormLayout,
    settings: Settings,
    stats: dict[str, float],
) -> tuple[Cells, PreparedPage, Rectified]:
    index = page.index if page is not None else 0
    started = time.perf_counter()
    rgb = load_rgb(source, index, max_pixels=settings.max_image_pixels, pdf_dpi=settings.ocr_dpi)
    rect = align_page(rgb, layout)
    prepared = prepare(rect)
    offset = print_offset(prepared, [layout.widgets[name] for name in OFFSET_BOXES])
    stats["print_offset_pt"] = offset or 0.0
    if offset is not None and abs(offset) >= MIN_PRINT_OFFSET:
        layout = shifted(layout, 0.0, offset)
    stats["align_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    values: dict[str, CellText] = {}
    for kind, groups in (("text", TEXT_GROUPS), ("code", CODE_GROUPS), ("digits", DIGIT_GROUPS)):
        boxed = [[(name, layout.widgets[name]) for name in group] for group in groups]
        # Two segmentations of the same mosaic (a line per row; sparse text) drop or merge
        # different characters; the format checks choose between them. Words read best as
        # sparse text, codes and digits as lines.
        first, second = (11, 6) if kind == "text" else (6, 11)
        values.update(read_groups(prepared, boxed, kind, psm=first))
        _add_readings(values, read_groups(prepared, boxed, kind, psm=second))
        if kind == "text":
            continue
        # The softened page is a third look: for black print (faxes, copies: jagged glyphs)
        # everywhere, on colour forms where the two disagree.
        unsure = [
            group
            for group in boxed
            if not rect.colour or any(_disputed(values.get(n)) for n, _ in group)
        ]
        if unsure:
            _add_readings(values, read_groups(prepared, unsure, kind, soft=True))
    # Lone digits (24G units) fool Tesseract's line and sparse modes ("1" read as "4"): when
    # the readings disagree or are unsure, a reading as a single word joins them.
    for i in range(1, MAX_LINES + 1):
        name = f"day{i}"
        cell = values.get(name)
        if cell is not None and cell.has_ink and (_disputed(cell) or cell.conf < 0.9):
            other = read_single(prepared, name, layout.widgets[name], "digits", psm=8)
            if other.text:
                cell.alternatives.append(other)
    stats["ocr_seconds"] = time.perf_counter() - started
    reg = rect.registration
    quality = 1.0 if reg.score >= 0.6 else 0.9 if reg.score >= 0.4 else 0.7
    if not rect.colour:
        quality = min(quality, 0.95)
    stats["registration_score"] = reg.score
    stats["colour_dropout"] = float(rect.colour)

    src_w, _ = rect.source_size
    homography = reg.homography
    page_scale = (page.width / src_w) if page is not None and page.origin == Origin.OCR else 1.0

    def to_page(r: Rect) -> tuple[float, float, float, float]:
        pts = np.array([[r[0], r[1], 1], [r[2], r[1], 1], [r[0], r[3], 1], [r[2], r[3], 1]]).T
        mapped = homography @ pts
        xs, ys = mapped[0] / mapped[2] * page_scale, mapped[1] / mapped[2] * page_scale
        return (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))

    return Cells(values, "form-ocr", quality, index, to_page=to_page), prepared, rect


# ---------------------------------------------------------------------------- interpretation


@dataclass
class Value:
    value: Any
    raw: str
    conf: float
    boxes: list[str]
    weighed: list[str] | None = None
    """The boxes whose readings make ``conf`` (``boxes`` when None): the doubts told."""


NAME_RE = re.compile(r"^[A-Z][A-Z'.-]*(?: [A-Z][A-Z'.-]*)*, [A-Z][A-Z'.-]*(?: [A-Z][A-Z'.-]*)*$")
UPPER_TEXT_RE = re.compile(r"^[A-Z0-9][A-Z0-9 .,'&/#()-]*$")


_TYPOGRAPHIC = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"',
                              "”": '"', "–": "-", "—": "-", "‐": "-"})
"""OCR reads a typed apostrophe or hyphen as its typographic twin (``COEUR D’ALENE``)."""


def _norm_text(text: str) -> str:
    text = text.translate(_TYPOGRAPHIC)
    # a token of punctuation alone is a speck or a stray mark, not part of a name or address
    text = " ".join(t for t in text.replace("|", " ").split() if re.search(r"[A-Za-z0-9&#]", t))
    # a speck read at a word's end or beside a period: a hyphen joins words and never closes
    # one (``BLDG C-, COEUR D'ALENE``), and periods come one at a time (``ST..MARY'S``)
    text = re.sub(r"(?<=\w)-+(?=,|\s|$)", "", text)
    text = re.sub(r"(?<=[A-Za-z])\.{2,}(?=[A-Za-z])", ". ", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"\s*,\s*", ", ", text).strip(" ,")
    return text


def _person_name(text: str) -> str:
    """Box 2 as the NUCC has it written, ``LAST, FIRST M``: a period after a closing middle
    initial (a speck, or a habit the NUCC's instructions rule out: "do not use periods within
    the name") is left out. One inside a name (``ST. CLAIR``) stays as written."""
    text = _norm_text(text).upper()
    return re.sub(r"(?<=[ ,][A-Z])\.$", "", text)


def _procedure_ok(text: str) -> bool:
    return bool(fmt.CPT_RE.match(fmt.repair_procedure(text)))


class _Reader:
    """Turns box readings into typed, checked values; re-reads failures within the budget."""

    def __init__(
        self, cells: Cells, layout: FormLayout, prepared: PreparedPage | None, budget: float
    ) -> None:
        self.cells = cells
        self.layout = layout
        self.prepared = prepared
        self.deadline = cpu_clock() + budget
        self.cascade_seconds = 0.0
        """Tesseract's CPU seconds in the re-readings (the budget also counts the Python work)."""
        self.rereads = 0
        self.second_opinions: set[str] = set()
        self.extended: set[str] = set()
        """Boxes whose readings the cascade's re-readings have joined."""
        self.doubts: dict[str, str] = {}
        """Second opinions in words, by box: ``1, also read 4``."""

    def _readings(self, name: str) -> Iterator[CellText]:
        """The cascade's re-readings of one box (``REREADS``) while the budget lasts; their
        number and time are counted."""
        if self.prepared is None or cpu_clock() > self.deadline:
            return
        started = tesseract_seconds()
        kind = KIND_OF.get(name, "text")
        box = self.layout.widgets[name]
        try:
            for psm, use_kind, soft, cap_px in REREADS:
                self.rereads += 1
                yield read_single(
                    self.prepared, name, box, use_kind or kind, psm=psm, soft=soft, cap_px=cap_px
                )
                if cpu_clock() > self.deadline:
                    return
        finally:
            self.cascade_seconds += tesseract_seconds() - started

    def unless_mended(
        self, name: str, text: str, conf: float, value: str, from_char: int = 0
    ) -> float:
        """``conf``, capped as a second opinion when ``value`` had to be mended from the text
        read (from its ``from_char``-th character on): a letter where the format wants a digit
        marks a glyph that no reading saw as it is (``E01T4`` in six readings, taken for
        ``E0174``, was ``E0114``)."""
        if fmt.reading_key(text)[from_char:] == fmt.reading_key(value)[from_char:]:
            return conf
        self.second_opinions.add(name)
        self.doubts.setdefault(name, f"{value.strip()}, read as {text.strip()}")
        return min(conf, SECOND_OPINION_CONF)

    def doubt(self, boxes: list[str]) -> str | None:
        """The second opinions among ``boxes``, in words (``line 2 units: 1, also read 4``)."""
        said = [
            f"{BOX_LABELS.get(b, b.replace('_', ' '))}: {self.doubts[b]}" for b in boxes if b in self.doubts
        ]
        return "; ".join(said) or None

    def procedure_code(self, name: str) -> tuple[str, float, bool]:
        """``cell`` for a CPT/HCPCS box (see ``_procedure_reading``), capped when its code was
        mended from what was read."""
        text, conf, ok = self._procedure_reading(name)
        return text, self.unless_mended(name, text, conf, fmt.repair_procedure(text)), ok

    def _procedure_reading(self, name: str) -> tuple[str, float, bool]:
        """``cell`` for a CPT/HCPCS box. A five-digit reading whose first digit looks like a
        letter gets more readings, and one of them that starts with a letter and has the same
        digits wins: a letter is misread as a look-alike digit far more often than the other way
        round (``J9263`` → ``19263``, ``S9123`` → ``89123``), and Tesseract may be sure of the
        digit (0.77 for the ``1`` of ``J9263`` on a faxed form). It remains a second opinion,
        its confidence capped. Unless two readings are sure of the digit (``SURE_DIGIT``): the
        six readings of a printed ``71046`` at 0.94-0.96 outweigh a ``T1046`` at 0.39."""
        text, conf, ok = self.cell(name, _procedure_ok, fmt.reading_key)
        code = fmt.repair_procedure(text)
        first = self.cells.values.get(name)
        if not ok or first is None or not fmt.letter_lookalike_first(code):
            return text, conf, ok
        if name not in self.extended:
            self.extended.add(name)
            first.alternatives.extend(self._readings(name))
        text, conf, ok = self.cell(name, _procedure_ok, fmt.reading_key)
        code = fmt.repair_procedure(text)
        readings = (first, *first.alternatives)
        if sum(o.conf >= SURE_DIGIT and fmt.repair_procedure(o.text) == code for o in readings) >= 2:
            return text, conf, ok
        letters = [
            (o.conf, o.text.strip())
            for o in readings
            if _procedure_ok(o.text.strip())
            and (repaired := fmt.repair_procedure(o.text))[:1].isalpha()
            and repaired[1:] == code[1:]
        ]
        if not fmt.letter_lookalike_first(code) or not letters:
            return text, conf, ok
        best_conf, best_text = max(letters, key=lambda r: r[0])
        doubt = f"{fmt.repair_procedure(best_text)}, also read {code}"
        return best_text, self._second_opinion(name, best_conf, doubt), ok

    def _second_opinion(self, name: str, conf: float, doubt: str) -> float:
        """``conf`` capped as a second opinion on box ``name``, the reviewer told ``doubt``."""
        self.second_opinions.add(name)
        self.doubts[name] = doubt
        return min(conf, SECOND_OPINION_CONF)

    def cell(
        self, name: str, check: Any = None, key: Callable[[str], object] | None = None,
        *, unsure_below: float | None = None,
    ) -> tuple[str, float, bool]:
        """Text, OCR confidence and whether it passed ``check`` (after a re-read if needed).

        The readings of the box are voted on (:func:`_vote`): the value with the most support
        among those that pass wins, and its surest reading is returned. When at least two
        readings give it and none disagrees, they agree: the value is surer than the surest of
        them alone (halfway to 1, and at least ``AGREED_CONF``; Tesseract is unsure of correct
        codes such as ``S52.501A`` in every mode). When no reading passes, readings disagree, or
        only a re-reading passes (a check digit lets one misreading in ten through), the
        cascade's re-readings join the vote one at a time until it is settled; if it never is,
        the value is a second opinion: its confidence is capped and the box is noted in
        ``second_opinions``.

        ``unsure_below``: readings that agree but of which even the surest is below it are a
        second opinion too (a date's ``15`` read ``16`` three times at 0.66-0.82).
        """
        text, conf = self.cells.text(name), self.cells.conf(name)
        if check is None:
            return text, conf, True
        key = key or (lambda t: fmt.compact(t).upper())
        first = self.cells.values.get(name)
        voted = _vote(first, check, key)
        if (
            (voted is None or voted.agreeing is None)
            and first is not None
            and self.cells.has_ink(name)
            and name not in self.extended
        ):
            # no reading passes, they disagree, or only one re-reading passes: the cascade's
            # re-readings join the vote, one at a time until it is settled
            self.extended.add(name)
            for again in self._readings(name):
                first.alternatives.append(again)
                voted = _vote(first, check, key)
                if voted is not None and voted.agreeing is not None:
                    break
        if voted is None:
            return text, conf, False
        chosen, agreeing, rivals = voted
        text = chosen.text.strip()
        if agreeing is None:
            doubt = f", also read {' or '.join(rivals)}" if rivals else ", in one reading only"
            return text, self._second_opinion(name, chosen.conf, text + doubt), True
        if agreeing > 1 and unsure_below is not None and chosen.conf < unsure_below:
            return text, self._second_opinion(name, chosen.conf, f"{text}, read unsurely"), True
        if agreeing > 1:
            return text, max(chosen.conf + (1 - chosen.conf) / 2, AGREED_CONF), True
        return text, chosen.conf, True


class Vote(NamedTuple):
    chosen: CellText
    agreeing: int | None
    rivals: tuple[str, ...]
    """The passing readings (as read) that give another value."""


def _vote(
    first: CellText | None, check: Callable[[str], bool], key: Callable[[str], object]
) -> Vote | None:
    """The reading of a box to keep among those that pass ``check``, compared by the value they
    give (``key``), how many readings agree on it, and the rivals; None when no reading passes.

    The agreement is None (a second opinion) when other readings disagree: a passing one with
    another value, or a failing one that is more than a part of the kept reading or the kept
    reading with a neighbour's print (``9EG2TESMK48``, a misread MBI, against ``9EG2TES5MK48``;
    not ``2`` or ``0311`` against ``03``) — unless ``MAJORITY_READINGS`` readings outweigh them
    ``MAJORITY_WEIGHT`` times. It is None too when only a re-reading passes."""
    options = [first, *first.alternatives] if first is not None else []
    passing = [o for o in options if check(o.text.strip())]
    if not passing:
        return None
    keys = [key(o.text.strip()) for o in passing]
    support: dict[object, float] = {}
    for k, o in zip(keys, passing, strict=True):
        support[k] = support.get(k, 0.0) + o.conf
    won = max(support, key=lambda k: (support[k], keys.count(k)))
    chosen = max((o for k, o in zip(keys, passing, strict=True) if k == won), key=lambda o: o.conf)
    kept = fmt.reading_key(chosen.text)
    passed = {id(o) for o in passing}
    against = sum(support.values()) - support[won] + sum(
        o.conf
        for o in options
        if id(o) not in passed
        and (seen := fmt.reading_key(o.text))
        and seen not in kept
        and kept not in seen
    )
    count = keys.count(won)
    rivals = tuple(dict.fromkeys(o.text.strip() for k, o in zip(keys, passing, strict=True) if k != won))
    if (not against and (count > 1 or chosen is first)) or (
        count >= MAJORITY_READINGS and support[won] >= MAJORITY_WEIGHT * against
    ):
        return Vote(chosen, count, rivals)
    return Vote(chosen, None, rivals)


def _birth_year_ok(digits: str, pivot: int | None) -> bool:
    """Two digits, or four that give a year a living patient was born in (``4950`` is ``1950``
    misread: the box is read again)."""
    if len(digits) == 2:
        return True
    latest = pivot or dt.date.today().year
    return len(digits) == 4 and latest - 125 <= int(digits) <= latest


def _scale(conf: float, quality: float) -> float:
    """Raw OCR confidence (Tesseract's) → a probability-like score for a format-checked value."""
    return max(0.0, min(1.0, conf)) * quality


def interpret(
    cells: Cells, layout: FormLayout, prepared: PreparedPage | None, budget: float
) -> tuple[dict[str, Value], _Reader]:
    r = _Reader(cells, layout, prepared, budget)
    q = cells.quality
    digital = cells.method != "form-ocr"
    out: dict[str, Value] = {}

    def soft(conf: float, ok: bool, cap: float) -> float:
        """Confidence for a value with only a shape check (names, ids)."""
        if digital:
            return 0.97 if ok else 0.6
        return min(cap, _scale(conf, q)) if ok else min(0.5, _scale(conf, q))

    # Signature dates (4-digit years) anchor the century of 2-digit years.
    pivot = None
    for name in ("physician_date", "pt_date"):
        m = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", fmt.compact(cells.text(name)))
        if m and 1990 <= int(m.group(3)) <= 2100:
            pivot = int(m.group(3))
            break

    # --- box 2, 1a, carrier, 26, 25
    text, conf, ok = r.cell("pt_name", lambda t: bool(NAME_RE.match(_person_name(t))),
                            key=lambda t: fmt.compact(_person_name(t)))
    if text:
        out["patient_name"] = Value(_person_name(text), text, soft(conf, ok, 0.97), ["pt_name"])
    text, conf, ok = r.cell(
        "insurance_id",
        lambda t: bool(re.fullmatch(r"[A-Z0-9-]{5,20}", fmt.compact(t))) and not fmt.mbi_misread(t),
    )
    if text:
        # a Medicare id read with a letter where its digit stands, or with a glyph read twice,
        # is mended, but left to a person
        mended = fmt.mbi_mended(text)
        out["insured_id"] = Value(
            mended or fmt.compact(text).upper(), text, soft(conf, ok and mended is None, 0.97),
            ["insurance_id"],
        )
    text, conf, ok = r.cell("insurance_name", lambda t: bool(UPPER_TEXT_RE.match(_norm_text(t))))
    if text:
        out["payer_name"] = Value(_norm_text(text), text, soft(conf, ok, 0.97), ["insurance_name"])
    text, conf, ok = r.cell(
        "pt_account", lambda t: bool(re.fullmatch(r"[A-Z0-9][A-Z0-9-]{2,19}", fmt.compact(t)))
    )
    if text:
        out["patient_account_number"] = Value(
            fmt.compact(text).upper(), text, soft(conf, ok, 0.97), ["pt_account"]
        )

    def tax_ok(t: str) -> bool:
        c = fmt.repair_tax_id(t)
        return bool(fmt.EIN_RE.match(c) or fmt.SSN_RE.match(c))

    text, conf, ok = r.cell("tax_id", tax_ok, fmt.reading_key)
    if text:
        out["federal_tax_id"] = Value(
            fmt.repair_tax_id(text), text, soft(conf, ok, 0.98), ["tax_id"]
        )

    # --- box 3: birth date
    mm, c1, ok1 = r.cell(
        "birth_mm",
        lambda t: fmt.two_digits(t) is not None and 1 <= int(fmt.digits_only(t)) <= 12,
        fmt.reading_key,
    )
    dd, c2, ok2 = r.cell(
        "birth_dd",
        lambda t: fmt.two_digits(t) is not None and 1 <= int(fmt.digits_only(t)) <= 31,
        fmt.reading_key,
    )
    yy, c3, ok3 = r.cell(
        "birth_yy", lambda t: _birth_year_ok(fmt.digits_only(t), pivot), fmt.reading_key
    )
    c1, c2, c3 = (
        r.unless_mended(box, t, c, fmt.digits_only(t))
        for box, t, c in (("birth_mm", mm, c1), ("birth_dd", dd, c2), ("birth_yy", yy, c3))
    )
    if mm or dd or yy:
        born, certain = fmt.make_date(
            fmt.digits_only(mm),
            fmt.digits_only(dd),
            fmt.digits_only(yy),
            pivot_year=pivot,
            birth=True,
        )
        if born is not None:
            conf = soft(min(c1, c2, c3), ok1 and ok2 and ok3, 0.98)
            out["patient_birth_date"] = Value(
                born,
                f"{mm} {dd} {yy}",
                conf if certain else min(conf, 0.5),
                ["birth_mm", "birth_dd", "birth_yy"],
            )

    # --- box 33: billing provider
    text, conf, ok = r.cell("doc_name", lambda t: bool(UPPER_TEXT_RE.match(_norm_text(t))))
    if text:
        out["vendor_name"] = Value(_norm_text(text), text, soft(conf, ok, 0.97), ["doc_name"])
    street, c1, ok1 = r.cell("doc_street", lambda t: bool(UPPER_TEXT_RE.match(_norm_text(t))))
    location, c2, ok2 = r.cell(
        "doc_location", lambda t: fmt.split_location(_norm_text(t)) is not None
    )
    if street or location:
        parts = fmt.split_location(_norm_text(location))
        loc = f"{parts[0]}, {parts[1]} {parts[2]}" if parts else _norm_text(location)
        addr = ", ".join(p for p in (_norm_text(street), loc) if p)
        out["address"] = Value(
            addr,
            f"{street} | {location}",
            soft(min(c1, c2), ok1 and ok2, 0.97),
            ["doc_street", "doc_location"],
        )
    text, conf, ok = r.cell("pin", lambda t: fmt.npi_valid(fmt.digits_only(t)), fmt.reading_key)
    if text:
        npi = fmt.digits_only(text)
        npi_conf = (0.995 if digital else min(0.99, 0.5 + conf)) if ok else min(0.3, conf)
        if "pin" in r.second_opinions:
            npi_conf = min(npi_conf, 0.9)
        out["billing_provider_npi"] = Value(npi, text, npi_conf, ["pin"])

    # --- box 21: diagnoses
    codes, confs, all_ok, boxes = [], [], True, []
    for k in range(1, 13):
        name = f"diagnosis{k}"
        if not cells.has_ink(name):
            continue
        text, conf, ok = r.cell(
            name, lambda t: bool(fmt.ICD10_RE.match(fmt.repair_icd10(t))), fmt.reading_key
        )
        if not text:
            all_ok = False
            continue
        codes.append(fmt.repair_icd10(text))
        # the chapter letter read as a digit (``223`` for ``Z23``) is mended as before: no digit
        # stands there; a letter among the digits is not
        confs.append(r.unless_mended(name, text, conf, codes[-1], from_char=1))
        all_ok &= ok
        boxes.append(name)
    if codes:
        out["diagnosis_codes"] = Value(
            codes, " ".join(codes), soft(min(confs), all_ok, 0.97), boxes
        )

    # --- box 24: service lines
    # Services come before the claim is signed, within the filing limit (a year; two allowed).
    service_years = None if pivot is None else {(pivot - back) % 100 for back in (0, 1, 2)}
    lines, lines_ok, line_boxes = [], True, []
    line_confs: list[dict[str, float]] = []
    """Per line, the confidence of each box that weighs on it (charges apart: ``charge_confs``)."""
    charge_confs: dict[str, float] = {}
    line_numbers: list[int] = []
    for i in range(1, MAX_LINES + 1):
        names = _line_cells(i)
        if not any(
            cells.has_ink(n) for n in (names["cpt"], names["charges"], names["date_mm_from"])
        ):
            continue
        line_boxes.extend(names.values())
        line_numbers.append(i)
        parts = {}
        part_conf: dict[str, float] = {}
        ok_all = True
        for key in DATE_PARTS:
            lim = 12 if key.startswith("mm") else 31 if key.startswith("dd") else 99
            t, c, ok = r.cell(
                names[f"date_{key}"],
                lambda t, lim=lim: (
                    fmt.two_digits(t) is not None
                    and (
                        1 <= int(fmt.digits_only(t)) <= lim
                        if lim != 99
                        else service_years is None or int(fmt.digits_only(t)) in service_years
                    )
                ),
                fmt.reading_key,
                unsure_below=UNSURE_DATE_READING,
            )
            parts[key] = fmt.digits_only(t)
            part_conf[names[f"date_{key}"]] = r.unless_mended(names[f"date_{key}"], t, c, parts[key])
            ok_all &= ok
        d_from, _ = fmt.make_date(
            parts["mm_from"], parts["dd_from"], parts["yy_from"], pivot_year=pivot
        )
        d_to, _ = fmt.make_date(parts["mm_end"], parts["dd_end"], parts["yy_end"], pivot_year=pivot)
        ok_all &= d_from is not None and d_to is not None
        cpt, part_conf[names["cpt"]], ok = r.procedure_code(names["cpt"])
        ok_all &= ok
        modifiers = []
        for n in range(4):
            if cells.has_ink(names[f"mod{n}"]):
                t, c, ok = r.cell(
                    names[f"mod{n}"], lambda t: bool(fmt.MODIFIER_RE.match(fmt.compact(t).upper()))
                )
                if t:
                    modifiers.append(fmt.compact(t).upper())
                part_conf[names[f"mod{n}"]] = c
                ok_all &= ok
        t_units, part_conf[names["units"]], ok = r.cell(
            names["units"], lambda t: bool(re.fullmatch(r"\d{1,4}(\.\d)?", fmt.compact(t)))
        )
        ok_all &= ok
        t_charge, charge_confs[names["charges"]], ok = r.cell(
            names["charges"], lambda t: fmt.parse_money(t) is not None, fmt.parse_money
        )
        charge = fmt.parse_money(t_charge)
        ok_all &= ok
        t_npi, _c_npi, _ok_npi = r.cell(
            names["npi"], lambda t: fmt.npi_valid(fmt.digits_only(t)), fmt.reading_key
        )
        t_ptr, _c_ptr, _ok_ptr = r.cell(
            names["pointers"], lambda t: bool(fmt.POINTER_RE.match(fmt.compact(t).upper()))
        )
        t_pos, _c_pos, _ok_pos = r.cell(
            names["place"], lambda t: fmt.two_digits(t) is not None, fmt.reading_key
        )
        pointers = fmt.compact(t_ptr).upper()
        lines.append(
            {
                "date_from": d_from,
                "date_to": d_to,
                "procedure_code": fmt.repair_procedure(cpt),
                "modifiers": modifiers,
                "units": fmt.compact(t_units),
                "charges": charge,
                "rendering_npi": fmt.digits_only(t_npi) or None,
                "pointers": pointers or None,
                "place_of_service": fmt.digits_only(t_pos) or None,
            }
        )
        line_confs.append(part_conf)
        lines_ok &= ok_all
    total_text, total_conf, _total_ok = r.cell(
        "t_charge", lambda t: fmt.parse_money(t) is not None, fmt.parse_money
    )
    total = fmt.parse_money(total_text)
    balanced = False
    if lines and not digital:
        line_names = [_line_cells(i) for i in line_numbers]
        total, balanced = _balance_charges(cells, lines, total, line_names)
    line_sum = sum((ln["charges"] for ln in lines if ln["charges"] is not None), Decimal("0"))
    sums_agree = (
        total is not None
        and bool(lines)
        and all(ln["charges"] is not None for ln in lines)
        and line_sum == total
    )
    if total is not None:
        conf = 0.995 if sums_agree else (0.97 if digital else min(0.85, _scale(total_conf, q)))
        if balanced:  # agreement reached by choosing among readings: a weaker check
            conf = min(conf, 0.9)
        out["total_amount"] = Value(total, total_text, conf, ["t_charge"])
    # charges that add up to the total read on its own are checked; others weigh on their line
    checked = sums_agree and not balanced
    if lines and not checked:
        for part_conf, (box, c) in zip(line_confs, charge_confs.items(), strict=True):
            part_conf[box] = c
    if lines:
        lowest = min(min(part_conf.values()) for part_conf in line_confs)
        conf = soft(lowest, lines_ok, 0.97)
        if not checked:
            conf = min(conf, 0.6)
        weighed = [box for part_conf in line_confs for box in part_conf]
        out["service_lines"] = Value(lines, f"{len(lines)} lines", conf, line_boxes, weighed)
        dates = [d for ln in lines for d in (ln["date_from"], ln["date_to"]) if d is not None]
        if dates:
            date_conf = soft(lowest, lines_ok, 0.98)
            out["service_date_from"] = Value(min(dates), "", date_conf, line_boxes[:3])
            out["service_date_to"] = Value(max(dates), "", date_conf, line_boxes[:3])
    paid_text, paid_conf, paid_ok = r.cell(
        "amt_paid", lambda t: fmt.parse_money(t) is not None, fmt.parse_money
    )
    paid = fmt.parse_money(paid_text)
    if paid is not None:
        conf = soft(paid_conf, paid_ok and (total is None or paid <= total), 0.97)
        out["amount_paid"] = Value(paid, paid_text, conf, ["amt_paid"])
    return out, r


def _money_readings(cells: Cells, name: str, chosen: Decimal | None) -> list[Decimal]:
    """Every distinct amount the readings of a money box give, the chosen one first."""
    cell = cells.values.get(name)
    found: list[Decimal] = [] if chosen is None else [chosen]
    for reading in (cell, *cell.alternatives) if cell is not None else ():
        amount = fmt.parse_money(reading.text)
        if amount is not None and amount not in found:
            found.append(amount)
    return found


def _balance_charges(
    cells: Cells, lines: list[dict[str, Any]], total: Decimal | None, names: list[dict[str, str]]
) -> tuple[Decimal | None, bool]:
    """Box 28 must equal the sum of the 24F charges. When the chosen readings disagree, the
    other readings of those boxes are tried: if exactly one way of changing the fewest boxes
    makes the sum balance, it is taken (lines are updated in place). Returns box 28's amount
    and whether any box was changed."""
    options = [
        _money_readings(cells, n["charges"], ln["charges"])
        for n, ln in zip(names, lines, strict=True)
    ]
    totals = _money_readings(cells, "t_charge", total)
    if not totals or any(not o for o in options):
        return total, False
    chosen = [o[0] for o in options]
    if sum(chosen, Decimal("0")) == totals[0]:
        return total, False
    if len(totals) * int(np.prod([len(o) for o in options])) > 4096:
        return total, False
    best: list[tuple[int, tuple[Decimal, ...], Decimal]] = []
    for combo in itertools.product(*options):
        for t in totals:
            if sum(combo, Decimal("0")) == t:
                changes = sum(a != b for a, b in zip(combo, chosen, strict=True)) + (t != totals[0])
                best.append((changes, combo, t))
    if not best:
        return total, False
    fewest = min(b[0] for b in best)
    winners = {(b[1], b[2]) for b in best if b[0] == fewest}
    if len(winners) != 1:
        return total, False
    combo, t = winners.pop()
    for line, amount in zip(lines, combo, strict=True):
        line["charges"] = amount
    return t, True


class ClaimExtractor:
    """CMS-1500 claim forms, read box by box from the blank form's own geometry."""

    name = "cms1500"
    doc_types = (DocType.CLAIM,)
    version = ENGINE

    def available(self) -> bool:
        return LAYOUT_PATH.exists() and tesseract_version() != "missing"

    def score(self, pages: list[Page], doc_type: DocType, source: Source) -> float:
        if doc_type not in (DocType.CLAIM, DocType.UNKNOWN):
            return 0.0
        text = " ".join(p.text for p in pages[:1]).upper()
        hits = sum(1 for w in TITLE_WORDS if w in text)
        keyword = min(1.0, 0.3 * hits)
        layout = load_layout()
        geometric = 0.0
        if pages and pages[0].origin == Origin.TEXT_LAYER:
            cells = _cells_from_text_layer(pages[0], layout)
            if cells is not None and sum(c.has_ink for c in cells.values.values()) >= 10:
                geometric = 0.9
        base = 0.8 if doc_type == DocType.CLAIM else 0.0
        return max(keyword, geometric, base)

    def extract(self, pages: list[Page], source: Source, settings: Settings) -> Extraction:
        started = time.perf_counter()
        layout = load_layout()
        stats: dict[str, float] = {}
        prepared = None
        cells: Cells | None = None
        values = acroform_values(source)
        if values is not None:
            cells = _cells_from_values(values, layout)
        elif pages and pages[0].origin == Origin.TEXT_LAYER:
            cells = _cells_from_text_layer(pages[0], layout)
        if cells is None:
            cells, prepared, _ = _cells_from_image(
                source, pages[0] if pages else None, layout, settings, stats
            )
        found, reader = interpret(cells, layout, prepared, settings.cpu_budget_seconds)
        fields: dict[str, Field] = {}
        for name, v in found.items():
            box = None
            rects = [layout.widgets[b] for b in v.boxes if b in layout.widgets]
            if rects and cells.to_page is not None:
                mapped = [cells.to_page(rc) for rc in rects]
                box = (
                    min(m[0] for m in mapped),
                    min(m[1] for m in mapped),
                    max(m[2] for m in mapped),
                    max(m[3] for m in mapped),
                )
            fields[name] = Field(
                name=name,
                value=v.value,
                raw=v.raw or None,
                confidence=round(max(0.0, min(1.0, v.conf)), 4),
                page=cells.page,
                box=box,
                method=cells.method,
                doubt=reader.doubt(v.boxes if v.weighed is None else v.weighed),
            )
        fields["currency"] = Field(
            name="currency",
            value="USD",
            raw="$ CHARGES",
            confidence=0.99,
            page=cells.page,
            method="form",
        )
        stats["cascade_seconds"] = reader.cascade_seconds
        stats["cascade_rereads"] = float(reader.rereads)
        stats["extract_seconds"] = time.perf_counter() - started
        return Extraction(
            doc_type=DocType.CLAIM,
            doc_type_confidence=1.0,
            fields=fields,
            engine={
                "extractor": self.name,
                "claim": ENGINE,
                "method": cells.method,
                "tesseract": tesseract_version(),
            },
            stats=stats,
        )
