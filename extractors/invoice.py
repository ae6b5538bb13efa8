"""The generic invoice reader: fields from the words' layout, for vendors never seen before.

Labels are searched in the multilingual vocabularies below (EN/DE/FR/NL), values are read next to
them (same row to the right, or in the rows just below), and independent cues are checked against
each other (total = subtotal + tax, the total is the largest amount and is repeated, a VAT id
passes its check digits). Each field's raw confidence combines how it was found, those
agreements and the OCR confidence of its words; ``extractors.registry`` calibrates it.

Structure read besides labels: sums printed as a grid (column heads over per-rate rows and a sum
row), tax printed per rate that closes total − subtotal, item tables read by their column heads
(stacked heads merged, wrapped descriptions joined, notes skipped) and kept only when they add
up, the seller's own web/e-mail domain naming it among the letterhead's parties, the window
envelope's sender line marking the recipient, and the party sections that own an id.

Vendor templates (``extractors/templates/*.yaml``, invoice2data style) may override fields for
known vendors; without them this module stands on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from core.models import Box, DocType, Extraction, Field, Origin, Page, Word
from core.settings import Settings
from extractors.layout import lines_of, union_box
from extractors.parsers import (
    CENT,
    CURRENCY_CODES,
    SUM_TOLERANCE,
    FoundDate,
    currency_votes,
    date_order,
    find_amounts,
    find_dates,
    find_vat_ids,
    fold,
    guess_decimal_mark,
    money,
    vat_check_passes,
    vat_shape_ok,
)
from extractors.registry import ENGLISH_U_UMLAUT

Source = bytes | Path
ENGINE = "layout-invoice-1"

# ----------------------------------------------------------------------------- layout search


CELL_GAP = 3.0
"""Row heights of empty space that part two cells of a row (two labels of a label grid)."""


@dataclass
class Row:
    page: int
    index: int
    words: list[Word]
    text: str
    folded: str
    offsets: list[tuple[int, int]]
    """Character span of each word in ``text`` (and ``folded``, same length by construction)."""

    @functools.cached_property
    def box(self) -> Box:
        return union_box(self.words)

    @functools.cached_property
    def height(self) -> float:
        hs = sorted(w.box[3] - w.box[1] for w in self.words)
        return hs[len(hs) // 2] if hs else 0.0

    def words_in(self, start: int, end: int) -> list[Word]:
        return [
            w for w, (s, e) in zip(self.words, self.offsets, strict=True) if s < end and e > start
        ]

    def after(self, pos: int) -> list[Word]:
        return [w for w, (s, _) in zip(self.words, self.offsets, strict=True) if s >= pos]

    @functools.cached_property
    def cells(self) -> list[tuple[int, int]]:
        """Text spans between gaps wider than ``CELL_GAP`` row heights: the cells of a grid of
        labels (``Invoice date      Due date``)."""
        gap = CELL_GAP * max(self.height, 1.0)
        starts = [
            s
            for prev, word, (s, _) in zip(self.words, self.words[1:], self.offsets[1:], strict=False)
            if word.box[0] - prev.box[2] > gap
        ]
        return list(itertools.pairwise([0, *starts, len(self.text) + 1]))

    @functools.cached_property
    def runs(self) -> list[Row]:
        """The row cut at its wide gaps (``split_columns``), worked out once: the buyer, vendor
        and address searches cut the same rows again and again."""
        return _split_columns(self)

    @functools.cached_property
    def heads(self) -> list[_Column]:
        """The row's column heads (``_header_cells``), worked out once: the item-table search
        looks at each row and its neighbours several times."""
        return _find_header_cells(self)


OPENING_QUOTES = "‘“„‚"
"""Opening quotation marks: in a label row a speck OCR reads before a word (``Net ‘total``), so
they fold to a space and do not part the words of a label."""


@functools.cache
def _fold_char(ch: str) -> str:
    if ch in OPENING_QUOTES:
        return " "
    f = fold(ch)
    return f if len(f) == 1 else (f[:1] or " ")


_GLUED_SPECK = re.compile(r"(?<!\S)_+(?=\w)")
"""Underscores opening a word: dust OCR glued on (``_PO NUMBER``), after which no label's
``\b`` matched, since ``_`` is a word character."""


_FOTAL = re.compile(r"\bfotal\b")
"""``Net fotal``: a t Tesseract read as an f in the one word no label does without."""


@functools.lru_cache(maxsize=65536)
def _fold_same_length(text: str) -> str:
    """``fold`` character by character, so that offsets into the text stay valid (cached: the
    same row texts are folded again each time a row is split into columns); a speck glued
    before a word folds to spaces, and ``fotal`` to ``total``."""
    folded = "".join(map(_fold_char, text))
    return _FOTAL.sub("total", _GLUED_SPECK.sub(lambda m: " " * len(m.group()), folded))


def make_row(page: int, index: int, words: list[Word]) -> Row:
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for w in words:
        if parts:
            parts.append(" ")
            pos += 1
        parts.append(w.text)
        offsets.append((pos, pos + len(w.text)))
        pos += len(w.text)
    text = "".join(parts)
    return Row(page, index, words, text, _fold_same_length(text), offsets)


_GROUP_HEAD = re.compile(r"[-−]?\d{1,3}(?: \d{3})*")
_GROUP_TAIL = re.compile(r"\d{3}(?:,\d{1,4})?")


def join_space_grouped(words: list[Word]) -> list[Word]:
    """Amounts grouped by spaces (``1 230,00``, the Polish, French or Swedish way) as one word.

    Text layers and OCR both cut such an amount at its spaces, and the pieces read on their
    own as two amounts (``1`` and ``230,00``), so an item or sums column would take the last
    group for the whole. A piece joins the one before it only across a word space (at most
    0.6 of the text's height: columns stand further apart), and only into an amount with a
    decimal comma: ``2 450.00`` (a quantity and a price) stays two words.
    """
    groups: list[list[Word]] = []
    for w in words:
        last = groups[-1] if groups else None
        if (
            last is not None
            and _GROUP_TAIL.fullmatch(w.text)
            and 0 <= w.box[0] - last[-1].box[2] <= 0.6 * max(w.box[3] - w.box[1], 1.0)
            and _GROUP_HEAD.fullmatch(" ".join(x.text for x in last))
        ):
            last.append(w)
        else:
            groups.append([w])
    out: list[Word] = []
    for group in groups:
        text = " ".join(x.text for x in group)
        if len(group) == 1 or "," not in text:  # "2 450": no decimal comma, left as printed
            out.extend(group)
        else:
            out.append(group[0].model_copy(update={
                "text": text,
                "box": union_box(group),
                "conf": min(x.conf for x in group),
            }))
    return out


FLAT_WORD = 0.15
"""Share of a scanned page's median word height under which a word of letters or digits is a
rule or a speck OCR read as letters (``Tue date``, 1-3 px tall, along a table's rule, where
the text is 30 px tall). Words in a dark header bar may be boxed at a quarter of the text's
height (``Amount``, 7 px), and they stay."""


def _is_flat(word: Word, floor: float) -> bool:
    """Whether a word of letters or digits is boxed less than ``floor`` tall: a rule or a speck
    OCR read as letters (punctuation is that flat as printed)."""
    return word.box[3] - word.box[1] < floor and any(c.isalnum() for c in word.text)


def _flat_floor(page: Page) -> float:
    """The height under which a word on ``page`` is too flat to be print (``FLAT_WORD``); 0 on
    a text layer, whose words are print."""
    if page.origin == Origin.TEXT_LAYER:
        return 0.0
    heights = [w.box[3] - w.box[1] for w in page.words if any(c.isalnum() for c in w.text)]
    return FLAT_WORD * statistics.median(heights) if heights else 0.0


def rows_of(pages: list[Page]) -> list[Row]:
    rows: list[Row] = []
    for page in pages:
        floor = _flat_floor(page)
        for line in lines_of(page):
            words = [w for w in line.words if not _is_flat(w, floor)]
            if words:
                rows.append(make_row(page.index, line.index, join_space_grouped(words)))
    return rows


COLUMN_GAP = 1.6
"""Row heights of empty space that part two printed columns of a row."""


def split_columns(row: Row) -> list[Row]:
    """The row cut into runs of words separated by wide gaps (printed columns). Read-only: the
    list is kept on the row."""
    return row.runs


def _split_columns(row: Row) -> list[Row]:
    if not row.words:
        return []
    gap = COLUMN_GAP * max(row.height, 1.0)
    runs: list[list[Word]] = [[row.words[0]]]
    for prev, word in zip(row.words, row.words[1:], strict=False):
        if word.box[0] - prev.box[2] > gap:
            runs.append([word])
        else:
            runs[-1].append(word)
    return [make_row(row.page, row.index, run) for run in runs]


@dataclass
class Hit:
    """A value found for a field: what, where, how, and the raw evidence for its confidence."""

    value: object
    raw: str
    words: list[Word]
    page: int
    method: str
    score: float
    """Raw confidence before calibration (cues and OCR confidence combined)."""
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def box(self) -> Box | None:
        return union_box(self.words) if self.words else None

    @property
    def ocr_conf(self) -> float:
        return min((w.conf for w in self.words), default=1.0)


Parser = Callable[[str], list[tuple[object, int, int]]]
"""Text → [(value, start, end)] for every value of the wanted kind in the text."""


def below_words(
    rows: list[Row], i: int, x0: float, x1: float, max_rows: int = 2, max_gap_factor: float = 2.5
) -> Iterator[tuple[Row, list[Word]]]:
    """Words of the next rows that overlap [x0, x1] horizontally (a column under a label).
    Rows of specks alone (``‘|``, ``_``: OCR's reading of dust between a label grid's two
    rows) are passed over and not counted."""
    row = rows[i]
    last_bottom = row.box[3]
    taken = 0
    for nxt in rows[i + 1 :]:
        if taken == max_rows or nxt.page != row.page:
            break
        if not any(c.isalnum() for c in nxt.text):
            continue
        taken += 1
        if nxt.box[1] - last_bottom > max_gap_factor * max(row.height, nxt.height, 1.0):
            break
        picked = [w for w in nxt.words if w.box[2] > x0 - 2 and w.box[0] < x1 + 0.5 * (x1 - x0) + 5]
        if picked:
            yield nxt, picked
        last_bottom = nxt.box[3]


def _label_matches(
    label: re.Pattern[str], row: Row
) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans of ``label`` on the row (offsets into ``row.folded``) with the span of their cell:
    in a grid of labels (``Invoice date      Due date``) the words of two cells make no
    ``date due``, so each cell is searched on its own. A label that must start its line
    (``^No.``) may start any cell: ``Number: GX-7781`` printed right of the seller's address is
    still a label."""
    anchored = "^" in label.pattern
    if not anchored and label.search(row.folded) is None:  # most rows hold no label at all
        return
    for left, right in row.cells:
        cell = (left, right - 1)
        seen = set()
        for m in label.finditer(row.folded, left, right - 1):
            seen.add(m.span())
            yield m.span(), cell
        if anchored and left > 0:  # ^ never matches at a search's start offset: search the cell
            for m in label.finditer(row.folded[left : right - 1]):
                span = (left + m.start(), left + m.end())
                if span not in seen:
                    yield span, cell


def find_labelled(
    rows: list[Row],
    label: re.Pattern[str],
    parse: Parser,
    *,
    right: bool = True,
    below: bool = True,
    last: bool = False,
    exclude: re.Pattern[str] | None = None,
    below_if_bare: bool = False,
) -> list[tuple[Hit, Row, str]]:
    """Values of the kind ``parse`` reads, next to every match of ``label``.

    Returns (hit, label row, where) with where ``right`` or ``below``; ``last`` takes the
    rightmost value on the row instead of the first one after the label. ``below_if_bare``:
    a value below is taken only for a label with no digit after it in its cell (a number
    after the label that did not parse, ``quote invoice number $1/8933/26 with your
    payment``, is the label's value; the row below holds another one).
    """
    out: list[tuple[Hit, Row, str]] = []
    for i, row in enumerate(rows):
        if exclude is not None and exclude.search(row.folded):
            continue
        for (start, end), cell in _label_matches(label, row):
            label_words = row.words_in(start, end)
            if not label_words:
                continue
            found = False
            if right:
                tail = row.text[end:]
                values = parse(tail)
                if values:
                    value, s, e = values[-1] if last else values[0]
                    words = row.words_in(end + s, end + e)
                    # the value must sit close to its label, not in a far column of another block
                    if words:
                        out.append(
                            (
                                Hit(value, tail[s:e], words, row.page, "label_right", 0.0,
                                    {"label_span": (start, end), "label_cell": cell,
                                     "value_row": (row.page, row.index)}),
                                row,
                                "right",
                            )
                        )
                        found = True
            bare = not (below_if_bare and re.search(r"\d", row.text[end : cell[1] + 1]))
            if below and not found and bare:
                box = union_box(label_words)
                for nxt, words in below_words(rows, i, box[0], box[2]):
                    text = " ".join(w.text for w in words)
                    values = parse(text)
                    if values:
                        value, s, e = values[0]
                        sub = make_row(nxt.page, nxt.index, words)
                        vwords = sub.words_in(s, e)
                        out.append(
                            (
                                Hit(value, text[s:e], vwords, nxt.page, "label_below", 0.0,
                                    {"label_span": (start, end), "label_cell": cell,
                                     "value_row": (nxt.page, nxt.index)}),
                                row,
                                "below",
                            )
                        )
                        break
    return out


# ------------------------------------------------------------------------------ value parsers

_CURRENCY_BEFORE = re.compile(r"(?:€|\$|£|₹|\bRs\.?|RM|\bEUR|\bUSD|\bGBP|\bINR|\bMYR)\s*$")


_OCR_SPLIT_DECIMAL = re.compile(r"(\d)\s?([.,])\s(\d{2})(?![\d.,])")


_OCR_SPLIT_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}) ([.,]\d{3}[.,]\d{2})(?![\d.,])")


def heal_ocr_amounts(text: str) -> str:
    """``"79. 35"`` → ``"79.35 "``: OCR splits amounts at the decimal mark; ``"49 ,252.51"`` →
    ``"49,252.51 "``: or before a separator of thousands (same length kept)."""
    text = _OCR_SPLIT_DECIMAL.sub(
        lambda m: m.group(1) + m.group(2) + m.group(3) + " " * (len(m.group(0)) - 4), text
    )
    return _OCR_SPLIT_THOUSANDS.sub(lambda m: m.group(1) + m.group(2) + " ", text)


_ONE_MARK_THROUGHOUT = re.compile(r"(?<![\d.,])([1-9]\d{0,2}(?:([.,])\d{3})+)[.,](\d{2})(?![\d.,])")


def _one_mark_healed(text: str, decimal_mark: str | None) -> str:
    """``217.736.80`` in a document whose decimal mark is a point → ``217,736.80``: OCR read
    the separators of thousands and the decimal mark as one mark (groups of three, then two
    digits: no number is printed so). Lengths are kept."""
    if decimal_mark not in (".", ","):
        return text
    thousands = "," if decimal_mark == "." else "."

    def healed(m: re.Match[str]) -> str:
        if m.group(0)[len(m.group(1))] != m.group(2):
            return m.group(0)  # "1.234,56": two marks, as printed
        return m.group(1).replace(m.group(2), thousands) + decimal_mark + m.group(3)

    return _ONE_MARK_THROUGHOUT.sub(healed, text)


def money_parser(decimal_mark: str | None, *, ocr: bool = False) -> Parser:
    def parse(text: str) -> list[tuple[object, int, int]]:
        if ocr:
            text = _one_mark_healed(heal_ocr_amounts(text), decimal_mark)
        out: list[tuple[object, int, int]] = []
        for a in find_amounts(text, decimal_mark=decimal_mark, allow_int=True):
            if not a.has_decimals and not _CURRENCY_BEFORE.search(text[: a.start]):
                continue
            if abs(a.value) >= Decimal("100000000"):
                continue
            out.append((a.value.quantize(Decimal("0.01")), a.start, a.end))
        return out

    return parse


def date_parser(dayfirst: bool) -> Parser:
    def parse(text: str) -> list[tuple[object, int, int]]:
        return [(d, d.start, d.end) for d in find_dates(text, dayfirst=dayfirst)]

    return parse


_ID_RE = re.compile(
    r"^[\s:#.\-–]*(?:(?:no|nr|n°|nº|num(?:ber|mer|ero)?)\b\.?)?[\s:#.]*"
    r"(?P<v>[A-Za-z0-9][A-Za-z0-9/_\-.]{1,34})"
)


def id_parser(text: str) -> list[tuple[object, int, int]]:
    m = _ID_RE.match(text)
    if not m:
        return []
    value = m.group("v").rstrip(".-/")
    series = re.match(r"\s(\d[\w\-]*[/\-][\w/\-]*\w)", text[m.end("v") :])
    if series and re.fullmatch(r"[A-Z]{1,4}", value):  # "FT 2024/155": a series, then its number
        value += series.group(0)
    if not any(c.isdigit() for c in value) or len(value) < 3:
        return []
    if re.fullmatch(r"\d{1,3}([.,]\d{2})", value):  # an amount, not a number
        return []
    return [(value, m.start("v"), m.start("v") + len(value))]


# ---------------------------------------------------------------------------------- vocabulary


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


INVOICE_NO_LABELS = [
    (
        _re(
            r"\b(?:invoice|rechnungs?|facture|factuur|factura|fattura|fatura|faktura(?:\s*vat)?|bill|"
            r"tax\s*invoice|credit\s*note|gutschrift|avoir)\s*"
            r"(?:number|nummer|no\b\.?|nr\b\.?|n\.?\s?[°º]|n\.[o2]\b|n\b\.?|#|num(?:ero)?\b|id\b)"
        ),
        3,
    ),
    (
        _re(
            r"\b(?:rechnungsnr|rechnungsnummer|factuurnummer|factuurnr|belegnummer|belegnr|"
            r"fakturanummer|fakturanr)\b\.?"
        ),
        3,
    ),
    (_re(r"rechnung\s*(?:\(\d+\)\s*)?(?:nr|no|nummer)\b\.?|\bbeleg-nr\b\.?"), 3),
    (_re(r"(?:rechnung|invoice|facture)\w*(?:\s+[a-z]\w*){0,2}\s*\(\d{3}\)\s*(?:nr|no)\b\.?"), 3),
    (_re(r"\b(?:n[°ºo]\.?|numero)\s*(?:de\s*(?:la\s*)?)?(?:facture|factura|fattura)\b"), 3),
    (_re(r"\b(?:document|doc|receipt|bill|beleg|folio)\s*(?:no|nr|number|#)\b\.?"), 2),
    (_re(r"^(?:invoice|rechnung|facture|factuur)\b(?=\s+[a-z]{0,4}[-/]?\d)"), 2),
    (_re(r"^(?:n[o°º]\.?|nr\.?|number|n2(?=\s))\s*:?(?=\s*[a-z]{0,4}[-/]?\d)"), 2),
    (_re(r"\b(?:booking|reference|ref)\s*(?:id|no|number)\b"), 1),
]
DATE_AFTER_INVOICE = _re(
    r"^invoice(?=\s*[:.]?\s*(?:$|\d{1,2}(?:[./-]\d{1,2}[./-]\d{2,4}|"
    r"\s+[a-z]{3,9}\.?,?\s+\d{4})\b|\d{4}-\d{2}-\d{2}\b))"
)
"""``Invoice 11 May 2024``: the heading's ``Date`` lost, a date right after ``Invoice`` (in its
cell, or the cell after one holding only ``Invoice``) is its date; only right after it (see
``read_dates``)."""
DATED_AFTER_NUMBER = _re(r"(?<=\w)\s+(?:du|del|d\.?\s?d\.?|of|van|de)(?=\s+\d)")
"""``Facture n°562044387 du 02 Juillet 2015``, ``Fattura n. 12 del 03/04/2024``, ``Factuur
2024-017 d.d. 12-03-2024``: on the invoice number's row, a date right after the number's "of"
is the invoice's (``du 1er au 31 Juillet`` on an item row is a period, hence only there; see
``read_dates``)."""
DATE_LABELS = [
    (
        _re(
            r"\b(?:invoice|bill|tax\s*invoice)\s*date\b|\bdate\s*of\s*(?:invoice|issue)|\bissue\s*date|"
            r"rechnungs-?datum|beleg-?datum|factuurdatum|\bdate\s*(?:de\s*(?:la\s*)?)?facture|date\s*d.emission|"
            r"fecha\s*(?:de\s*(?:la\s*)?)?(?:factura|emision|expedicion)|data\s*(?:della\s*)?fattura|"
            r"data\s*(?:de\s*)?emiss[aã]o|data\s*(?:da\s*)?fatura|data\s*wystawienia|"
            r"fakturadat(?:um|o)"
        ),
        3,
    ),
    (
        _re(
            r"(?<![\w-])(?:date|datum|dated|fecha)\b|(?<![\w-])data(?=\s*:)|\btax\s*point\b|"
            r"[a-z]\w+,\s*(?:den|le)\b(?=\s*\d)"
        ),
        2,
    ),
    (_re(r"\bvom\b"), 1),
    (DATE_AFTER_INVOICE, 1),
    (DATED_AFTER_NUMBER, 1),
]
DATE_EXCLUDE_BEFORE = _re(
    r"(order|due|delivery|liefer|leistungs|check|ship|payment|fallig|faellig|"
    r"echeance|bestell|auftrag|valid|start|end|period|service|print|geburt|"
    r"birth|zahlungs|verval|expir|from|to|sprzeda\w*|original|associated|related|referenced|"
    r"previous|preceding|corrected|urspr(?:u|ue)ngliche?n?|bezugs)\S*\s*-?\s*$"
)
"""What makes a date label another date's (``Lieferdatum``, ``due date``, ``Original invoice
date`` on a credit note). "Liefer- und Rechnungsdatum" is not excluded: that date is the
invoice's as well as the delivery's."""
DATE_EXCLUDE_AFTER = _re(
    r"^[^\w:]*(?:limite|d.?echeance|de\s*livraison|due|of\s*(?:delivery|birth|order|"
    r"service|supply)|de\s*commande|du\s*paiement|de\s*paiement|"
    r"associee|d.?origine|originale?|initiale|rectifi\w*|precedente|de\s*reference|"
    r"di\s*riferimento|der\s*(?:original|urspr))"
)
"""What after a date label makes it another invoice's: ``Date de facture associée`` (the
invoice a credit note or correction refers to), ``Rechnungsdatum der Originalrechnung``."""
DUE_LABELS = [
    (
        _re(
            r"\b[db]ue\s*date|\bdate\s*due|payment\s*due|\bdue\s*on|f(?:a|ae)llig(?:keit|keitsdatum)?|"
            r"zahlungsziel|zahlbar\s*bis|\bech[eé]ance|vervaldatum|te\s*betalen\s*voor|"
            r"(?:fecha\s*de\s*)?vencimiento|(?:data\s*(?:di\s*)?)?scadenza|"
            r"(?:data\s*(?:de\s*)?)?vencimento|termin\s*p[lłt]atno[sś]ci|f(?:o|oe)rfallodat(?:um|o)|"
            r"forfaldsdato|f(?:o|oe)rfall(?:er)?\b"
        ),
        3,
    ),
    (
        _re(
            r"date\s*limite(?:\s*de\s*(?:r[eè]glement|paiement))?|payable\s*(?:by|before|until)|"
            r"^zahlbar\b[^.;%]{0,40}?\bbis\b|a\s*r[eé]gler\s*avant|uiterlijk\s*(?:op|betalen)"
        ),
        2,
    ),
]
_PAYMENT_DAYS = _re(
    r"(?:innerhalb(?:\s*von)?|within|sous|binnen|payable\s*in)\s*(\d{1,3})\s*(?:tagen|days|jours|dagen)"
    r"|\b(\d{1,3})\s*(?:tage|days|jours|dagen)\s*(?:netto|net)\b|\bnet\s*(\d{1,3})(?![\d.,]|\s*%)"
)
_DISCOUNT = _re(r"skonto|discount|escompte|korting")
_INCLUDED_TAX = _re(
    r"enthalten\w*\s*(?:\d+[.,]?\d*\s*%\s*)?(?:mwst|ust|umsatzsteuer)|"
    r"(?:inkl|incl|includ)\w*\.?\s*(?:\d+[.,]?\d*\s*%\s*)?(?:mwst|ust|vat|tax|gst|btw|tva)|"
    r"\bdont\s*(?:\d+[.,]?\d*\s*%\s*)?tva|iva\s*inclu[ií]d[oa]|di\s*cui\s*iva|waarvan\s*btw|"
    r"\b(?:vat|tax|gst)\s*includ\w*"
)
"""Prices with the tax in them (``darin enthaltene MwSt. 19 % 14,24 €``, ``incl. VAT``): the
items add up to the gross sum, and the net sum is the total less that tax."""
_ALLOWANCE = _re(r"\W*(?:discount|rabatt|nachlass|remise|korting|descuento|sconto)\b")
"""A discount row under the net sum (``Discount (10%) -104.00``): total = net - discount + tax."""
TOTAL_LABELS = [
    (
        _re(
            r"grand\s*total|total\s*amount(?:\s*(?:due|payable))?|amount\s*(?:due|payable)|balance\s*due|"
            r"total\s*due|invoice\s*total|total\s*(?:for\s*this\s*invoice|payable|to\s*pay|ttc)|"
            r"gesamtbetrag|rechnungsbetrag|bruttosumme|rechnungssumme\s*brutto|endbetrag|endsumme|"
            r"gesamtsumme|summe\s*brutto|montant\s*(?:total|ttc|a\s*payer)|net\s*a\s*payer|totaal\s*bedrag|"
            r"te\s*betalen|total\s*(?:€|eur|usd|\$)?\s*incl|total\s*(?:de\s*(?:la\s*)?)?factura|"
            r"importe\s*total|total\s*a\s*pagar|totale\s*(?:documento|fattura|da\s*pagare)|"
            r"netto\s*a\s*pagare|do\s*zap[lłt]aty|att\s*betala|a\s*betale|at\s*betale|"
            r"total\s*(?:a\s*)?pagar"
        ),
        3,
    ),
    (
        _re(
            r"(?<!sub)(?<!sub )(?<!sub-)\btota(?:al|le)\b|(?<!sub)(?<!sub )(?<!sub-)\btotal\b|"
            r"zahlbetrag|^gesamt\b"
        ),
        2,
    ),
]
TOTAL_EXCLUDE = _re(
    r"sub\s*-?\s*total|subtotaal|total\s*(?:qty|quantity|items?|tax|gst|vat|ex[ck]l|ex\b|"
    r"ht\b|net\b|hors|sales|discount|savings|weight|pages?)|totale?\s*(?:imponibile|iva)|"
    r"netto(?!\s*a\s*pagare)|ohne\s*u|exclusief|"
    r"ex[ck]l\.|zwischensumme|positionssumme|der\s*(?:zu|ab)schl|warenwert|\bnet\W{0,3}total"
)
SUBTOTAL_LABELS = [
    (
        _re(
            r"total\s*(?:net|ht|ex[ck]l\S*(?:\s*(?:vat|tax|btw|mwst|ust))?|hors\s*taxes?|before\s*tax|ex\b)|"
            r"total\s*amount\s*\(?\s*(?:excl\S*|before\s*tax|net\b)|"
            r"montant\s*ht|nettobetrag|rechnungssumme\s*(?:netto|ohne\s*u\S*)|summe\s*netto|"
            r"exclusief\s*btw|totaal\s*excl\S*(?:\s*btw)?|net\W{0,3}(?:amount|total)|amount\s*untaxed|"
            r"untaxed\s*amount|"
            r"gesamtsumme\s*netto|"
            r"nettosumme|rechnungssumme\s*ohne|base\s*imponible|(?:totale\s*)?imponibile|"
            r"summa\s*exkl\S*(?:\s*moms)?|total\s*il\S?quido|razem\s*netto|netto\s*razem"
        ),
        3,
    ),
    (_re(r"sub\s*-?\s*total|subtotaal|zwischensumme|sous-?total"), 2),
]
TAX_LABELS = [
    (
        _re(
            r"total\s*(?:tax|vat|gst|mwst)|tax\s*amount|vat\s*amount|steuerbetrag|montant\s*tva|"
            r"mwst\.?\s*betrag|umsatzsteuer|btw\s*bedrag|(?:total|importe|cuota|totale)\s*iva|"
            r"kwota\s*vat|podatek\s*vat|\bmoms\b|\bmva\b"
        ),
        3,
    ),
    (_re(r"\b(?:vat|tax|mwst|ust|tva|btw|gst|i\.?v\.?a)\b"), 2),
]
TAX_EXCLUDE = _re(
    r"ex[ck]l|incl|inkl|ohne|exclusief|ust-?id|ustid|u\.?st\.?-?id|vat\s*(?:id|no|reg|number|"
    r"identifier|clause|invoice)|tax\s*(?:id|invoice|code|number|point|rate)|steuer-?nr|"
    r"steuernummer|tva\s*intra|n[°º]\s*tva|btw\s*(?:nr|nummer|id)|btw-?nummer|"
    r"registration|not\s*a\s*vat|include|inclus|gst\s*(?:id|no|reg)|summary"
)
TAX_EXCLUDE_UNCHECKED = _re(r"%\s*\d")
"""``VAT 19 % 100,00 19,00``: the rate is followed by the base the tax was taken on, or by the
tax; such a row's amount is taken only where it closes subtotal + tax = total."""
PO_LABELS = [
    (
        _re(
            r"purchase\s*order(?:\s*(?:no|number|#|nr))?|"
            r"\bp\.?\s?o[.,]?\s*(?:no|number|#|nr)\b|"  # ``PO,NUMBER``: a comma read for a space
            r"\border\s*(?:no|number|#|ref(?:erence)?)\b|your\s*order|"
            r"bestell(?:ung)?-?\s*(?:nummer|nr\b\.?)(?:\s*(?:des\s*)?(?:kunden?|k(?:a|ae)ufers?))?|"
            r"bestellung|"
            r"ihre\s*bestellung|auftragsnummer|ihr\s*auftrag|bon\s*de\s*commande|commande\s*n|"
            r"ordernummer|buyer\s*reference|kauferreferenz"
        ),
        3,
    ),
]
VENDOR_LABELS = _re(
    r"^(?:sold\s*by|seller|supplier|vendor|verk(?:a|ae)ufer|lieferant|"
    r"rechnungssteller|[eé]metteur|fournisseur|leverancier|verkoper|from|sprzedawca|wystawca|"
    r"vendedor|fornecedor|emitente|fornitore|cedente|leverant(?:o|oe)r|s(?:a|ae)ljare)\b\s*(?::|$)"
)
BUYER_LABELS = _re(
    r"\b(?:bill(?:ed)?\s*to|billing\s*address|invoice\s*to|sold\s*to|"
    r"(?:customer|client)(?!\s*(?:no\b|nr\b|number|id\b|#|ref|code|account|vat))|"
    r"kunde(?!n\s*-?nr|nnummer|nr)|rechnungsempf(?:a|ae)nger|rechnungsadresse|k(?:a|ae)ufer|"
    r"leistungsempf(?:a|ae)nger|destinataire|factuuradres|"
    r"buyer(?!\s*(?:fee|premium|no\b|nr\b|number|id\b|#|ref|vat))|attn|cliente|spett\.?\s*le|"
    r"destinatario|nabywca|odbiorca|comprador|adquirente|cessionario|committente|kund|"
    r"k(?:o|oe)pare|exm[oa]s?\.?(?:\s*\(s\))?\s*sr[as]?)\b\s*[:/]?"
)
TITLE_WORDS = _re(r"^(?:.*?)\b(tax\s*invoice|invoice|rechnung|facture|factuur|bill)\b\.?")
_TITLE_LABEL = re.compile(
    r"(?:number|no\b|nr\b|nummer|numero|date|datum|details|summary|page|copy|to\b|for\b)"
)
"""What follows "Invoice" in a label (``Invoice number``, ``Invoice to``), not a seller's name."""
LEGAL_FORMS = _re(
    r"\b(?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|kg|ohg|e\.?\s?k\.?|ug|b\.\s?v\.?|bv\.|n\.\s?v\.?|"
    r"s\.?a\.?r\.?l\.?|sarl|sas|s\.?a\.?|ltd\.?|limited|inc\.?|llc|llp|plc|corp(?:oration)?\.?|"
    r"pvt\.?\s*ltd\.?|private\s*limited|sdn\.?\s*bhd\.?|bhd\.?|s\.?p\.?a\.?|s\.?r\.?l\.?|s\.r\.[1i]\.|"
    r"s\.\s?l\.?(?:u\.?)?|oy|ab|a/s|aps|bvba|sprl|co\.|sp\.?\s*z\s*[o0]\.?\s*[o0]\.?|sp\.?\s*j\.?|"
    r"sp\.?\s*k\.?|lda\.?|ltda\.?|s\.?r\.?o\.?|a\.s\.)(?=$|[\s,.;)])"
)
ATTENTION = _re(
    r"^(?:z\.?\s*hd\.?|zu\s*h(?:a|ae)nden|attn\b|attention\b|c/o\b|fao\b|t\.\s*a\.\s*v\.?|"
    r"(?:a|à)\s*l'attention\b|all'attenzione\b)"
)
"""A line for whose attention a document is sent (``z. Hd. Kreditorenbuchhaltung``, ``Attn:
Accounts``, ``c/o``, ``t.a.v.``): a person or department under the party's name, not a name."""
CONTACT = _re(
    r"\b(?:tel|phone|fax|e-?mail|www\.|http|iban|bic|swift|ust|vat|btw|tva|kvk|hrb|"
    r"siret|gst|gstin|telefon)\b|\b(?:pan|cin)\s*(?:no\b|number|:)|@"
)
SALUTATION = _re(r"(?:firma|herrn?|frau|an|to|mr\.?|mrs\.?|ms\.?|monsieur|madame|mme\.?)[\s.:]*")
"""A line of an address block that is only its form of address ("Firma", "Herrn"): the name
follows on the next line."""
COUNTRIES = {
    "deutschland": "DE",
    "germany": "DE",
    "allemagne": "DE",
    "france": "FR",
    "frankreich": "FR",
    "nederland": "NL",
    "netherlands": "NL",
    "niederlande": "NL",
    "belgie": "BE",
    "belgique": "BE",
    "belgium": "BE",
    "osterreich": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "switzerland": "CH",
    "united kingdom": "GB",
    "italia": "IT",
    "italy": "IT",
    "espana": "ES",
    "spain": "ES",
    "luxembourg": "LU",
    "united states": "US",
    "usa": "US",
    "india": "IN",
    "malaysia": "MY",
    "ireland": "IE",
    "eire": "IE",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "polska": "PL",
    "poland": "PL",
    "danmark": "DK",
    "denmark": "DK",
    "sverige": "SE",
    "sweden": "SE",
    "norge": "NO",
    "norway": "NO",
    "suomi": "FI",
    "finland": "FI",
    "portugal": "PT",
    "ceska republika": "CZ",
    "czech republic": "CZ",
    "czechia": "CZ",
    "magyarorszag": "HU",
    "hungary": "HU",
    "slovensko": "SK",
    "slovakia": "SK",
    "slovenija": "SI",
    "slovenia": "SI",
    "hrvatska": "HR",
    "croatia": "HR",
    "romania": "RO",
    "bulgaria": "BG",
    "ellada": "GR",
    "greece": "GR",
    "lietuva": "LT",
    "lithuania": "LT",
    "latvija": "LV",
    "latvia": "LV",
    "eesti": "EE",
    "estonia": "EE",
    "canada": "CA",
    "australia": "AU",
    "singapore": "SG",
}


# ------------------------------------------------------------------------------ doc context


def _pt(ctx: DocContext, page: int) -> float:
    """Page units per typographic point: 1 on a PDF text layer, about 4 on a 300 dpi scan
    (layout distances below are written in points)."""
    if not ctx.pages:
        return 1.0
    width = ctx.pages[min(page, len(ctx.pages) - 1)].width
    return max(0.5, width / 595.0) if width else 1.0


@dataclass
class DocContext:
    pages: list[Page]
    rows: list[Row]
    text: str
    folded: str
    decimal_mark: str | None
    dayfirst: bool
    currency: str | None
    currency_method: str
    currency_score: float
    language: str
    order_known: bool = False
    """Whether the date order is known, not guessed: the page's own dates tell it, or its
    currency's country writes dates one way only (see :func:`context`)."""

    @functools.cached_property
    def scanned(self) -> bool:
        """Whether any page was read by OCR (the misreadings mended below happen only there)."""
        return any(p.origin != Origin.TEXT_LAYER for p in self.pages)

    @functools.cached_property
    def row_at(self) -> dict[tuple[int, int], Row]:
        """The rows by (page, line index), the key a hit's ``label_row`` note holds."""
        return {(r.page, r.index): r for r in self.rows}

    @functools.cached_property
    def item_heads(self) -> frozenset[tuple[int, int]]:
        """Rows that head an item table (their "Betrag", "MwSt." are columns, not sums), worked
        out once: the sums grid and the sums labels both step over them."""
        parse = money_parser(self.decimal_mark)
        out: set[tuple[int, int]] = set()
        for i in range(len(self.rows)):
            header = _item_header(self.rows, i, parse)
            if header is not None:
                out.update((self.rows[k].page, self.rows[k].index) for k in header[1])
        return frozenset(out)


def _language(folded: str) -> str:
    scores = {
        "de": len(
            re.findall(r"\b(?:rechnung|und|der|die|mwst|betrag|summe|datum|zahlbar)\b", folded)
        ),
        "fr": len(re.findall(r"\b(?:facture|le|la|les|tva|montant|date|du|des)\b", folded)),
        "nl": len(re.findall(r"\b(?:factuur|het|een|btw|totaal|bedrag|van|voor)\b", folded)),
        "en": len(re.findall(r"\b(?:invoice|the|and|total|amount|date|for|of)\b", folded)),
    }
    return max(scores, key=lambda k: scores[k])


_CURRENCY_LABEL = re.compile(
    r"(?i)(?:\b(?:rechnungs)?w(?:ä|ae|a)hrung|\b(?:invoice\s*)?currency|\bdevise|\bmonnaie|\bvaluta)"
    r"\s*(?:code)?\s*[:=]?\s*(?P<a>[A-Z]{3})\b|"
    r"\b(?:betr(?:ä|ae|a)ge|amounts?|montants?|bedragen|prices)\s*(?:are\s*)?(?:in|en)\s*(?P<b>[A-Z]{3})\b"
)


def labelled_currency(text: str) -> str | None:
    """The currency the page names as its own ("Rechnungswährung: GBP", "Beträge in EUR").

    A stated invoice currency outranks counting codes and symbols: a foreign-currency invoice
    still prints its tax in the home currency, often more than once.
    """
    for m in _CURRENCY_LABEL.finditer(text):
        code = (m.group("a") or m.group("b") or "").upper()
        if code in CURRENCY_CODES:
            return code
    return None


MONTH_FIRST_CURRENCIES = ("USD", "CAD", "PHP")
"""Currencies of countries where dates may be written month first (``07/08/2024`` for 8 July)."""


def context(pages: list[Page]) -> DocContext:
    rows = rows_of(pages)
    text = "\n".join(p.text for p in pages)
    folded = fold(text)
    votes = currency_votes(text)
    currency, method, score = None, "none", 0.0
    stated = labelled_currency(text)
    if stated is not None:
        currency, method = stated, "label"
        score = 0.9 if votes.get(stated) and max(votes.values()) == votes[stated] else 0.8
    elif votes:
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        currency = ranked[0][0]
        runner = ranked[1][1] if len(ranked) > 1 else 0
        explicit = bool(re.search(rf"(?<![A-Za-z]){currency}(?![A-Za-z])", text))
        method = "code" if explicit else "symbol"
        score = (
            min(0.97, 0.6 + 0.05 * ranked[0][1] - 0.1 * runner) if runner < ranked[0][1] else 0.3
        )
        if currency == "USD" and not explicit and "dollar" not in folded:
            score = min(score, 0.6)
    language = _language(folded)
    order = date_order(text)
    # Month first only in American English: dollars (or no currency), and no GST or VAT, which
    # an American seller does not charge (a London branch billing in dollars writes 02/08/2025
    # for 2 August, with its VAT number on the page).
    dayfirst = order if order is not None else not (
        language == "en" and currency in ("USD", None) and not re.search(r"\b(?:gst|vat)\b", folded)
    )
    # every country whose currency is not the dollar writes the day first, whatever language
    # it bills in; dollar invoices may do either (the US, Canada, a London branch), and a page
    # whose currency is not known says nothing (its language is only a count of common words)
    order_known = order is not None or (
        currency is not None and currency not in MONTH_FIRST_CURRENCIES
    )
    return DocContext(
        pages,
        rows,
        text,
        folded,
        guess_decimal_mark(text),
        dayfirst,
        currency,
        method,
        score,
        language,
        order_known,
    )


# --------------------------------------------------------------------------------- the reader


def _labelled(
    ctx: DocContext,
    labels: list[tuple[re.Pattern[str], int]],
    parse: Parser,
    *,
    last: bool = False,
    exclude: re.Pattern[str] | None = None,
    exclude_before: re.Pattern[str] | None = None,
    exclude_after: re.Pattern[str] | None = None,
    below_if_bare: bool = False,
) -> list[Hit]:
    hits: list[Hit] = []
    for pattern, priority in labels:
        for hit, row, where in find_labelled(ctx.rows, pattern, parse, last=last, exclude=exclude,
                                             below_if_bare=below_if_bare):
            # what stands before and after the label counts within its own cell of the row
            start, end = hit.notes["label_span"]  # type: ignore[misc]
            left, right = hit.notes["label_cell"]  # type: ignore[misc]
            if exclude_before is not None and exclude_before.search(
                row.folded[max(left, start - 25) : start]
            ):
                continue
            if exclude_after is not None and exclude_after.search(row.folded[end:right]):
                continue
            hit.notes["priority"] = priority
            hit.notes["label"] = pattern
            hit.notes["where"] = where
            hit.notes["label_row"] = (row.page, row.index)
            hits.append(hit)
    return hits


def _best(hits: list[Hit]) -> Hit | None:
    if not hits:
        return None
    return max(
        hits, key=lambda h: (h.notes.get("priority", 0), h.notes.get("where") == "right", -h.page)
    )


def _agree(hits: list[Hit], value: object) -> int:
    return sum(1 for h in hits if h.value == value)


def _rows_agreeing(hits: list[Hit], value: object) -> int:
    """How many rows read ``value`` (a row whose label two label patterns match is one)."""
    return len({h.notes.get("value_row") for h in hits if h.value == value})


def _words_conf(base: float, words: Iterable[Word]) -> float:
    """``base`` scaled by the least sure of ``words`` (as :func:`_conf` does for a hit)."""
    return round(base * (0.35 + 0.65 * min((w.conf for w in words), default=1.0)), 4)


def _conf(base: float, hit: Hit | None, bonus: float = 0.0) -> float:
    ocr = hit.ocr_conf if hit else 1.0
    return max(0.0, min(1.0, (base + bonus) * (0.35 + 0.65 * ocr)))


def _field(name: str, hit: Hit, method: str, conf: float, value: object | None = None) -> Field:
    return Field(
        name=name,
        value=hit.value if value is None else value,
        raw=hit.raw,
        confidence=round(conf, 4),
        page=hit.page,
        box=hit.box,
        method=method,
    )


_GRID_HEADER = _re(
    r"(?P<sub>montant\s*total\s*ht|total\s*(?:ht|net|excl\S*)|prix\s*ht|montant\s*ht|"
    r"nettobetrag|nettosumme|netto(?:wert)?|net\s*amount|subtotal|sub-?total|exclusief\s*btw)|"
    r"(?P<tax>(?<!taux )(?:mwst|ust|vat|tax|tva|btw|steuer)\.?(?:\s*-?\s*(?:betrag|bedrag|amount))?"
    r"(?!\w|\s*-?\s*(?:%|satz|rate|id|nr|no\b)))|"
    r"(?P<total>endbetrag|bruttobetrag|bruttosumme|brutto|gesamtbetrag|rechnungsbetrag|zahlbetrag|"
    r"montant\s*(?:total\s*)?ttc|montant\s*total|total\s*(?:ttc|incl\S*)|amount\s*due|total)"
)


def _grid_hits(ctx: DocContext, parse: Parser) -> tuple[dict[str, list[Hit]], set[tuple[int, int]]]:
    """Sums printed as a grid: a header row of column labels, value rows under it.

    ``Nettobetrag  MwSt-Betrag  Endbetrag`` over one row per tax rate and a sum row: a column's
    value is its only row, or its last row when that row adds up the ones above it (a per-rate
    breakdown without a sum row gives nothing). Returns hits per kind (``sub``, ``tax``,
    ``total``) and the header rows, whose plain label-below readings the grid replaces.
    """
    out: dict[str, list[Hit]] = {"sub": [], "tax": [], "total": []}
    headers: set[tuple[int, int]] = set()
    rows = ctx.rows
    item_heads = ctx.item_heads
    for i, row in enumerate(rows):
        if (row.page, row.index) in item_heads:
            continue  # "Qty Price VAT Total" heads item rows, whose last one is no sum
        cells: list[tuple[str, float, float]] = []
        for m in _GRID_HEADER.finditer(row.folded):
            kind = m.lastgroup or ""
            words = row.words_in(m.start(), m.end())
            if not words:
                continue
            after = row.text[m.end() : m.end() + 18]
            if parse(re.sub(r"^[\s:€$£]*(?:eur|usd|gbp|chf)?\s*:?", "", after, flags=re.I)[:12]):
                continue  # "Montant Total HT 1.245,30": a label with its value, not a column
            x0, x1 = words[0].box[0], words[-1].box[2]
            rest = row.after(m.end())
            if rest and re.fullmatch(r"(?i)\(?(?:eur|usd|gbp|chf|€|\$|£)\)?", rest[0].text):
                x1 = rest[0].box[2]  # "Netto EUR": the unit belongs to the column head
            cells.append((kind, x0, x1))
        if len({c[0] for c in cells}) < 2:
            continue
        columns = _columns_below(rows, i, [(x0, x1) for _, x0, x1 in cells], parse)
        if any(columns):
            headers.add((row.page, row.index))  # its first value row is not the sum either
        picked: list[tuple[str, Decimal, Word, Row, bool]] = []
        for (kind, _x0, _x1), col in zip(cells, columns, strict=True):
            if not col or not _sums_up(col):
                continue
            value, word, vrow = col[-1]
            picked.append((kind, value, word, vrow, len(col) > 1))
        got = {kind: value for kind, value, *_ in picked}
        adds_up = {"sub", "tax", "total"} <= set(got) and got["sub"] + got["tax"] == got["total"]
        for kind, value, word, vrow, summed in picked:
            # a lone row that does not add up may be one item of a table, not the invoice's sums
            hit = Hit(value, word.text, [word], vrow.page, "grid", 0.0)
            hit.notes.update(
                {
                    "priority": 3 if summed or adds_up else 2,
                    "where": "grid",
                    "label_row": (row.page, row.index),
                }
            )
            out[kind].append(hit)
    return out, headers


Column = list[tuple[Decimal, Word, Row]]


def _columns_below(rows: list[Row], i: int, heads: list[tuple[float, float]],
                   parse: Parser) -> list[Column]:
    """For each head (its ``x0``, ``x1``) on row ``i``, the amounts printed under it, top
    down: as far as the rows under the heads go on without a gap or a line of text that has
    none of their values."""
    row = rows[i]
    columns: list[Column] = [[] for _ in heads]
    last_bottom = row.box[3]
    for nxt in rows[i + 1 : i + 8]:
        if nxt.page != row.page or nxt.box[1] - last_bottom > 3 * max(row.height, 1.0):
            break
        values = [(w, parse(w.text)) for w in nxt.words]
        found = False
        for column, (x0, x1) in zip(columns, heads, strict=True):
            best: tuple[float, Decimal, Word] | None = None
            for w, vs in values:
                if len(vs) != 1:
                    continue
                overlap = min(w.box[2], x1 + 4) - max(w.box[0], x0 - 4)
                if overlap > 0 and (best is None or overlap > best[0]):
                    best = (overlap, vs[0][0], w)  # type: ignore[assignment]
            if best is not None:
                column.append((best[1], best[2], nxt))
                found = True
        if found:
            last_bottom = nxt.box[3]
        elif nxt.words and any(c.isalpha() for c in nxt.text):
            break
    return columns


def _sums_up(column: Column) -> bool:
    """Whether a column's last value is its sum: its only value, or the sum of those above."""
    return len(column) == 1 or sum((v for v, _, _ in column[:-1]), Decimal(0)) == column[-1][0]


_OUTSTANDING = _re(r"balance|amount\s*(?:due|payable)|total\s*due|restbetrag|solde|reste\s*a\s*payer")
"""What is left to pay: the invoice's total only while nothing has been paid."""
_PAID = _re(
    r"amount\s*paid|\bpaid\b|payments?\s*(?:received|made)|less\s*payments?|\bdeposit|anzahlung|"
    r"acompte|bereits\s*(?:bezahlt|gezahlt)|deja\s*regle"
)


def _value_end(ctx: DocContext, hit: Hit) -> tuple[Row, int] | None:
    """The row a labelled value was read on and the offset in its text where the value ends;
    None for a hit not read beside or under a label."""
    key = hit.notes.get("value_row")
    row = ctx.row_at.get(key) if isinstance(key, tuple) else None
    if row is None or not hit.words or hit.words[-1] not in row.words:
        return None
    return row, row.offsets[row.words.index(hit.words[-1])][1]


def _label_row(ctx: DocContext, hit: Hit) -> Row | None:
    """The row of the label a hit was found by."""
    key = hit.notes.get("label_row")
    return ctx.row_at.get(key) if isinstance(key, tuple) else None


def _label_text(ctx: DocContext, hit: Hit) -> str:
    row, span = _label_row(ctx, hit), hit.notes.get("label_span")
    if row is None or not isinstance(span, tuple):
        return ""
    return row.folded[span[0] : span[1]]


def _invoice_totals(ctx: DocContext, totals: list[Hit]) -> list[Hit]:
    """The candidates for the invoice's total, without what is left to pay once a payment shows.

    A paid invoice prints ``Total 1,006.20 · Amount paid 1,006.20 · Balance due 0.00``, a final
    invoice ``Rechnungsbetrag · abzgl. Anzahlung · Restbetrag``: the balance is a stronger label
    than a plain "Total" and would win, though the invoice's total is the gross sum.
    """
    totals = [h for h in totals if h.value != 0] or totals  # "Balance due 0.00"
    gross = [h for h in totals if not _OUTSTANDING.search(_label_text(ctx, h))]
    if not gross or len(gross) == len(totals):
        return totals  # no balance among the candidates, or nothing but balances
    paid = any(
        _PAID.search(r.folded) and find_amounts(r.text, decimal_mark=ctx.decimal_mark)
        for r in ctx.rows
    )
    return gross if paid else totals


LOST_LEAD_DIGITS = 2
"""At most this many leading digits of a scanned total may have gone unread (see
``_with_lead_digits``)."""


SPACE_IN_NUMBER = re.compile(r"(?<=[\d.,]) (?=[\d.,]*\d)")
"""A space OCR put inside a printed number (``CHF 26,1 03.86``)."""


def _with_lead_digits(total: Hit, subs: list[Hit], taxes: list[Hit], off: list[Decimal],
                      ctx: DocContext) -> Hit:
    """A scanned total whose first digits OCR lost (``CHF a 442.47`` for 3,442.47, ``089.00``
    for 1,089.00) or split off (``CHF 26,1 03.86``) — read smaller than a labelled subtotal,
    which a gross total never is — is that subtotal (less a printed discount) plus a labelled
    tax when the sum ends in the digits read and has at most ``LOST_LEAD_DIGITS`` more, or is
    what the total's row reads with the spaces inside its numbers taken out. Any other total is
    returned as it is."""
    if not isinstance(total.value, Decimal) or total.value <= 0:
        return total
    read = f"{total.value:.2f}"
    joined: set[Decimal] = set()
    if total.notes.get("where") == "right":
        row = _label_row(ctx, total)
        after = row.text[total.notes["label_span"][1]:] if row else ""  # type: ignore[index]
        joined = {a.value for a in find_amounts(SPACE_IN_NUMBER.sub("", after),
                                                decimal_mark=ctx.decimal_mark) if a.has_decimals}
    for s in subs:  # a gross total under its net sum is misread
        if not (isinstance(s.value, Decimal) and s.value > total.value):
            continue
        for x in taxes:
            if not isinstance(x.value, Decimal):
                continue
            for d in off:
                gross = s.value - d + x.value
                whole = f"{gross:.2f}"
                lead = whole[: -len(read)]
                if (
                    len(read) < len(whole) <= len(read) + LOST_LEAD_DIGITS and whole.endswith(read)
                    and not _speck_before_net_sum(ctx, s, lead, x, total.value - x.value + d)
                ) or gross in joined:
                    return replace(total, value=gross, notes={**total.notes, "lead_digits": lead})
    return total


def _less_lead(value: Decimal, lead: str) -> Decimal | None:
    """``value`` without the leading digits ``lead`` (2235.26 less ``2`` is 235.26), or None
    when it does not start with them or they are all its whole part."""
    text = f"{value:.2f}"
    return Decimal(text[len(lead):]) if text.startswith(lead) and text[len(lead)].isdigit() else None


def _speck_before_net_sum(ctx: DocContext, sub: Hit, lead: str, tax: Hit, due: Decimal) -> bool:
    """Whether ``sub``, a net sum read larger than the total, is as likely a net sum read with
    a speck before it as the digits ``lead`` as the total is one that lost them: ``sub``
    without them is the net sum ``due`` (the total as read, less the tax, plus a discount),
    and the tax's printed rate does not say ``sub`` as read is right."""
    less = _less_lead(sub.value, lead)  # type: ignore[arg-type]
    return (less is not None and abs(less - due) <= SUM_TOLERANCE
            and not _fits_printed_rate(ctx, tax, sub.value))  # type: ignore[arg-type]


def _without_speck_digit(sub: Hit, totals: list[Hit], taxes: list[Hit], off: list[Decimal],
                         ctx: DocContext) -> Hit:
    """A scanned net sum read with a speck before it taken for a digit (``Nettobetrag
    2.235,26 €`` for 235,26), larger than the gross total as read, is the sum without that
    digit when that and a labelled tax printed at its rate add up to the total (19 % of 235.26
    is 44.70, and 235.26 + 44.70 is the total 279.96 read). Without a printed rate to tell it
    from a total that lost a digit, the sum is returned as it is."""
    if not isinstance(sub.value, Decimal) or sub.value <= 0:
        return sub
    less = _less_lead(sub.value, f"{sub.value:.2f}"[0])
    if less is None:
        return sub
    for t in totals:
        if not (isinstance(t.value, Decimal) and 0 < t.value < sub.value):
            continue
        for x in taxes:
            if (
                isinstance(x.value, Decimal)
                and any(abs(less - d + x.value - t.value) <= SUM_TOLERANCE for d in off)
                and _fits_printed_rate(ctx, x, less)
            ):
                return replace(sub, value=less, notes={**sub.notes, "speck_digit": True})
    return sub


NEARLY_CLOSED = 0.6
"""Share of its confidence a scanned total keeps when a labelled subtotal and tax on the page
nearly add up to it (see ``_nearly_closes``)."""


def _nearly_closes(total: Hit, subs: list[Hit], taxes: list[Hit]) -> bool:
    """Whether a labelled subtotal plus a labelled tax miss a scanned total by less than one
    unit (``GBP 250,607. 45`` read as 250,607.00 against 208,839.54 + 41,767.91) or by one
    digit (``42,729.04`` against 11,678.02 + 1,051.02): a digit of the total, or of the sum's
    parts, was misread, so the total is a guess (never calibrated up) however often it is
    read."""
    if not isinstance(total.value, Decimal):
        return False
    read = f"{total.value:.2f}"
    sums = {s.value + x.value for s in subs for x in taxes
            if isinstance(s.value, Decimal) and isinstance(x.value, Decimal)}
    return any(
        abs(gross - total.value) < 1 or _one_digit_off(read, f"{gross:.2f}")
        for gross in sums if abs(gross - total.value) > SUM_TOLERANCE
    )


def _unsigned_where(hits: list[Hit], closes: Callable[[Decimal], bool]) -> list[Hit]:
    """``hits`` with those read below zero turned positive where their value unsigned
    ``closes`` the invoice's sums (a speck before it read as a minus)."""
    return [replace(h, value=-h.value)
            if isinstance(h.value, Decimal) and h.value < 0 and closes(-h.value) else h
            for h in hits]


def read_amounts(ctx: DocContext) -> dict[str, Field]:
    parse = money_parser(ctx.decimal_mark, ocr=ctx.scanned)  # "GBP 250,607. 45" on a scan
    totals = _invoice_totals(
        ctx, _labelled(ctx, TOTAL_LABELS, parse, last=True, exclude=TOTAL_EXCLUDE)
    )
    subs = _labelled(ctx, SUBTOTAL_LABELS, parse)
    rated = _labelled(ctx, TAX_LABELS, parse, last=True, exclude=TAX_EXCLUDE)
    rate_rows = {(r.page, r.index) for r in ctx.rows if TAX_EXCLUDE_UNCHECKED.search(r.folded)}
    taxes = [h for h in rated if h.notes["label_row"] not in rate_rows]
    grid, grid_rows = _grid_hits(ctx, parse)
    grid_rows = grid_rows | ctx.item_heads
    if grid_rows:

        def keep(h: Hit) -> bool:
            return not (h.notes.get("where") == "below" and h.notes.get("label_row") in grid_rows)

        totals = [h for h in totals if keep(h)] + grid["total"]
        subs = [h for h in subs if keep(h)] + grid["sub"]
        taxes = [h for h in taxes if keep(h)] + grid["tax"]
        rated = [h for h in rated if keep(h)] + grid["tax"]
    sub_rows = {h.notes.get("label_row") for h in subs if int(h.notes.get("priority", 0)) >= 3}  # type: ignore[call-overload]
    # "VAT Net total - 5,459.10" (the tax summary's heading on the net sum's row): a tax's
    # bare word on a row a subtotal's own label names is not the tax's label
    taxes = _off_rows(taxes, sub_rows)
    rated = _off_rows(rated, sub_rows)
    if ctx.scanned:
        # "Rechnungsbetrag - 12.122,71 €": a dash set apart before a total read as a minus; a
        # net sum above zero and a tax that add up to it without the minus say it is none
        totals = _unsigned_where(totals, lambda total: any(
            isinstance(s.value, Decimal) and s.value > 0 and isinstance(x.value, Decimal)
            and abs(s.value + x.value - total) <= SUM_TOLERANCE
            for s in subs for x in rated
        ))
    if (totals and all(isinstance(t.value, Decimal) and t.value > 0 for t in totals)) or (
        not totals and ctx.scanned and rated
        and all(isinstance(x.value, Decimal) and x.value > 0 for x in rated)
    ):
        # "SUBTOTAL - € 279,729.90": a speck before the amount read as a minus; a net sum
        # below zero under a gross total above it is no sum at all, nor on a scan whose total
        # did not read under a tax above zero (a credit note's tax is below zero too)
        subs = [
            replace(h, value=-h.value)
            if isinstance(h.value, Decimal) and h.value < 0 and h.ocr_conf < 1.0
            else h
            for h in subs
        ]
    if ctx.scanned:
        # "VAT (20%) - £1,408.50": a speck before the tax read as a minus; a net sum and a
        # total above zero that the tax closes without it say it is none
        def closes(tax: Decimal) -> bool:
            return any(
                isinstance(s.value, Decimal) and isinstance(t.value, Decimal) and s.value > 0
                and t.value > 0 and abs(s.value + tax - t.value) <= SUM_TOLERANCE
                for s in subs for t in totals
            )

        taxes, rated = _unsigned_where(taxes, closes), _unsigned_where(rated, closes)
    if any(h.notes.get("label_row") not in sub_rows for h in totals):
        # "Net amount" is a subtotal's label too: the grand total is another row ("Net total"
        # never is one: TOTAL_EXCLUDE)
        totals = [h for h in totals if h.notes.get("label_row") not in sub_rows]
    all_amounts = [a.value for a in find_amounts(ctx.text, decimal_mark=ctx.decimal_mark)]
    biggest = max((abs(v) for v in all_amounts), default=None)
    fields: dict[str, Field] = {}

    # the combination where total = subtotal (less a discount printed between) + tax
    off = [Decimal(0)] + [
        abs(a.value)
        for r in ctx.rows
        if _ALLOWANCE.match(r.folded)
        and len(found := find_amounts(r.text, decimal_mark=ctx.decimal_mark)) == 1
        for a in found
    ]
    if ctx.scanned:
        subs = [_without_speck_digit(s, totals, rated, off, ctx) for s in subs]
        totals = [_with_lead_digits(t, subs, rated, off, ctx) for t in totals]
    triple: tuple[Hit, Hit, Hit] | None = None
    discount = Decimal(0)
    for t in sorted(totals, key=lambda h: -int(h.notes.get("priority", 0))):
        for s in subs:
            for x in rated:
                d = next(
                    (d for d in off if abs(s.value - d + x.value - t.value) <= SUM_TOLERANCE),  # type: ignore[operator]
                    None,
                )
                if s.value != t.value and d is not None:
                    triple, discount = (t, s, x), d
                    break
            if triple:
                break
        if triple:
            break

    total = triple[0] if triple else _best(totals)
    summed_tax: Hit | None = None  # the tax of a total summed from the subtotal and the tax
    if total is not None:
        repeats = _agree(totals, total.value)
        is_max = biggest is not None and abs(total.value) >= biggest  # type: ignore[arg-type]
        method = "label+sum" if triple else "label"
        bonus = (
            (0.1 if triple else 0.0) + (0.05 if is_max else -0.1) + (0.04 if repeats > 1 else 0.0)
        )
        bonus += 0.03 * (int(total.notes.get("priority", 2)) - 2)
        fields["total_amount"] = _field("total_amount", total, method, _conf(0.78, total, bonus))
        if not triple and ctx.scanned and _nearly_closes(total, subs, rated):
            fields["total_amount"] = fields["total_amount"].model_copy(
                update={"method": "near_sum",
                        "confidence": round(NEARLY_CLOSED * fields["total_amount"].confidence, 4)}
            )
    else:
        # no readable total label: the amount printed most often (total, paid, balance lines),
        # else the largest one
        marked = [v for row in ctx.rows for v, _, _ in parse(row.text) if isinstance(v, Decimal)]
        counts = {v: marked.count(v) for v in marked if v > 0}
        repeated = [v for v, n in counts.items() if n >= 2 and v == max(counts)]
        # the total's label unread ("i T ot al USD"): a printed amount that is a labelled
        # subtotal plus a labelled tax is the total
        summed = next(
            (
                (s, x)
                for s in subs
                for x in rated
                if isinstance(s.value, Decimal) and isinstance(x.value, Decimal) and x.value > 0
                and s.value + x.value in counts
            ),
            None,
        )
        printed = summed is not None
        if summed is None:
            # nor the total's amount ("TOMEUR © 3 O2076:"): one labelled subtotal and one
            # labelled tax add up to it
            net = {s.value for s in subs if isinstance(s.value, Decimal) and s.value > 0}
            vat = {x.value for x in rated if isinstance(x.value, Decimal) and x.value > 0}
            if len(net) == 1 and len(vat) == 1:
                sub_hit = next(s for s in subs if s.value in net)
                tax_hit = _at_its_rate(ctx, next(x for x in rated if x.value in vat),
                                       sub_hit.value)  # type: ignore[arg-type]
                summed = None if tax_hit is None else (sub_hit, tax_hit)
        if summed is not None:
            s, x = summed
            summed_tax = x
            fields["total_amount"] = Field(
                name="total_amount",
                value=s.value + x.value,  # type: ignore[operator]
                raw=str(s.value + x.value),  # type: ignore[operator]
                confidence=round(
                    (0.55 if printed else 0.45) * (0.35 + 0.65 * min(s.ocr_conf, x.ocr_conf)), 4
                ),
                page=s.page,
                method="sum" if printed else "net_tax",
            )
        elif repeated:
            value = repeated[0]
            fields["total_amount"] = Field(
                name="total_amount",
                value=value,
                raw=str(value),
                confidence=0.45,
                method="repeated",
            )
        elif all_amounts:
            value = max(all_amounts, key=abs)
            fields["total_amount"] = Field(
                name="total_amount",
                value=value,
                raw=str(value),
                confidence=0.3,
                method="fallback",
            )
    sub = (
        triple[1]
        if triple
        else _best([s for s in subs if total is None or s.value != total.value] or subs)
    )
    if sub is not None:
        fields["subtotal"] = _field(
            "subtotal", sub, "label+sum" if triple else "label", _conf(0.9 if triple else 0.6, sub),
            value=sub.value - discount if discount else None,  # the tax basis, after the discount
        )
        if discount:  # the printed net sum of the lines, and the discount taken off it
            for name, amount in (("lines_total", sub.value), ("allowance_total", discount)):
                fields[name] = _field(name, sub, "label+sum", _conf(0.9, sub), value=amount)
    tax = triple[2] if triple else None
    if tax is None and total is not None and sub is not None:
        def closes(x: Hit) -> bool:
            return abs(sub.value + x.value - total.value) <= SUM_TOLERANCE  # type: ignore[operator,union-attr]

        # a tax on a rate row ("VAT 0% 0.00") counts once it closes the sum, as in the triple
        # (which a zero tax under a total equal to the subtotal never forms), and only when
        # no plain tax row closes it
        closing = [x for x in taxes if closes(x)] or [x for x in rated if closes(x)]
        if closing:
            tax = closing[-1]
    if tax is None and summed_tax is not None:
        # the tax the total was summed from, as sure as that total
        tax = summed_tax
        total_field = fields["total_amount"]
        fields["tax_amount"] = _field("tax_amount", tax, total_field.method,
                                      total_field.confidence)
    elif tax is None and taxes:
        tax = _best(taxes)
        if tax is not None:
            fields["tax_amount"] = _field("tax_amount", tax, "label", _conf(0.5, tax))
    elif tax is not None:
        fields["tax_amount"] = _field("tax_amount", tax, "label+sum", _conf(0.9, tax))
    if (
        total is not None
        and sub is not None
        and total.value != sub.value
        and fields.get("tax_amount", _NO_FIELD).method != "label+sum"
    ):
        per_rate = _tax_rows_sum(ctx, parse, total.value - sub.value)  # type: ignore[operator]
        if per_rate is None:
            per_rate = _tax_between(ctx, parse, sub, total)
        if per_rate is not None:
            fields["tax_amount"] = per_rate
            # the tax rows close the sum: total and subtotal are confirmed as a label+sum triple
            fields["subtotal"] = _field("subtotal", sub, "label+sum", _conf(0.9, sub))
            total_field = fields["total_amount"]
            fields["total_amount"] = total_field.model_copy(
                update={
                    "method": "label+sum",
                    "confidence": round(min(1.0, total_field.confidence + 0.1), 4),
                }
            )
    if total is not None and sub is not None and "tax_amount" not in fields:
        rated_tax = _rate_of_net(ctx, sub.value, total.value)  # type: ignore[arg-type]
        if rated_tax is not None:
            fields["tax_amount"] = rated_tax
    if total is not None and "tax_amount" not in fields:
        fields.update(_included_tax(ctx, total))
    if (
        "subtotal" not in fields
        and total is not None
        and tax is not None
        and (tax.notes.get("where") != "below" or int(tax.notes.get("priority", 0)) >= 3)  # type: ignore[call-overload]
        and len({h.value for h in taxes}) == 1  # "VAT 21% … VAT 6% …": no single tax to take off
    ):
        # "Charges $4.11 · Tax $0.00 · Total $4.11": the net sum is what the tax was added to
        net = total.value - tax.value  # type: ignore[operator]
        if net != 0 and (net > 0) == (total.value > 0):  # type: ignore[operator]
            fields["subtotal"] = Field(
                name="subtotal",
                value=net,
                raw=None,
                confidence=round(0.5 * (0.35 + 0.65 * min(total.ocr_conf, tax.ocr_conf)), 4),
                page=total.page,
                method="total-tax",
            )
    return fields


_NO_FIELD = Field(name="none", value=None, raw=None, confidence=0.0, method="none")


def _off_rows(hits: list[Hit], rows: set[object]) -> list[Hit]:
    """The hits less those found by a bare word (priority under 3) on one of ``rows``."""
    return [h for h in hits if h.notes.get("label_row") not in rows
            or int(h.notes.get("priority", 0)) >= 3]  # type: ignore[call-overload]


def _included_tax(ctx: DocContext, total: Hit) -> dict[str, Field]:
    """The tax a gross total includes, read from its own row, and the net sum it leaves."""
    for row in ctx.rows:
        m = _INCLUDED_TAX.search(row.folded)
        if m is None:
            continue
        found = find_amounts(row.text[m.end() :], decimal_mark=ctx.decimal_mark)
        if not found or not 0 < found[-1].value < total.value:  # type: ignore[operator]
            continue
        tax, start, end = found[-1].value, m.end() + found[-1].start, m.end() + found[-1].end
        hit = Hit(tax, found[-1].text, row.words_in(start, end), row.page, "included", 0.0)
        net = total.value - tax  # type: ignore[operator]
        return {
            "tax_amount": _field("tax_amount", hit, "included", _conf(0.6, hit)),
            "subtotal": _field("subtotal", hit, "total-tax", _conf(0.55, hit), value=net),
        }
    return {}


_TAX_WORD = _re(r"\b(?:vat|tax|mwst|ust|tva|btw|gst|i\.?v\.?a|steuer\w*|umsatzsteuer)\b")
_RATE_ROW = re.compile(r"^\W{0,3}(?:\w{1,4}\W{1,3})?@?\s?\d{1,2}(?:[.,]\d{1,2})?\s?%")
"""A row that starts with a rate (``@ 9%``, ``x 19 %``): a tax row when its amount closes the sum."""
_VAT_ID_ROW = re.compile(r"ust-?id|vat\s*(?:id|no|reg)")
"""A row naming a VAT id (``USt-IdNr.``, ``VAT No.``): its tax word is no tax row's."""
_DISCOUNT_WORD = _re(r"\b(?:discount|rabatt|skonto|remise|korting|sconto|descuento|nachlass)\b")


def _tax_rows_sum(ctx: DocContext, parse: Parser, target: Decimal) -> Field | None:
    """Tax printed per rate (``USt. 7% 275,00 19,25`` / ``USt. 19% 198,00 37,62``) with no
    tax total: one or more consecutive tax rows whose amounts add up to total − subtotal."""
    rows: list[tuple[Decimal, Row]] = []
    for row in ctx.rows:
        if _VAT_ID_ROW.search(row.folded):
            continue
        if not _TAX_WORD.search(row.folded) and not (
            # "@ 9% € 423.20": the rate and the amount of a tax row whose word OCR lost
            _RATE_ROW.match(row.folded) and not _DISCOUNT_WORD.search(row.folded)
        ):
            continue
        values = [v for v, _, _ in parse(row.text) if isinstance(v, Decimal)]
        if values:
            rows.append((values[-1], row))
    for a in range(len(rows)):
        acc = Decimal(0)
        for b in range(a, len(rows)):
            acc += rows[b][0]
            if abs(acc - target) <= SUM_TOLERANCE:
                words = [w for _, r in rows[a : b + 1] for w in r.words[-2:]]
                return _summed_tax(target, " + ".join(str(v) for v, _ in rows[a : b + 1]),
                                   words, rows[a][1].page, 0.8)
    return None


def _summed_tax(value: Decimal, raw: str, words: list[Word], page: int, base: float) -> Field:
    """A tax read from the rows that close total − subtotal (``tax_rows+sum``)."""
    return Field(name="tax_amount", value=value, raw=raw, confidence=_words_conf(base, words),
                 page=page, box=union_box(words) if words else None, method="tax_rows+sum")


def _tax_between(ctx: DocContext, parse: Parser, sub: Hit, total: Hit) -> Field | None:
    """The tax whose label OCR lost (``ot € 151.04`` for ``VAT 21% € 151.04``): a row printed
    between the subtotal's and the total's rows whose amount is total − subtotal and that has
    no word left to say what else it is (``Shipping 10.00`` is no tax)."""
    low, high = sub.notes.get("value_row"), total.notes.get("value_row")
    if not (isinstance(low, tuple) and isinstance(high, tuple) and low[0] == high[0]):
        return None
    target = total.value - sub.value  # type: ignore[operator]
    if target <= 0:  # a discount row
        return None
    between = [r for r in ctx.rows if r.page == low[0] and low[1] < r.index < high[1]]
    for row in between:
        values = [(v, start) for v, start, _ in parse(row.text) if isinstance(v, Decimal)]
        if (
            values
            and abs(values[-1][0] - target) <= SUM_TOLERANCE
            and not re.search(r"[^\W\d_]{4,}", row.text[: values[-1][1]])
        ):
            return _summed_tax(target, row.text, row.words[-2:], row.page, 0.7)
    return None


_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")


def _rate_of_net(ctx: DocContext, net: Decimal, total: Decimal) -> Field | None:
    """The tax whose amount OCR did not read (``VAT @ 20% BROT``), as total − subtotal, when
    that is the rate printed on a tax row times the subtotal (to the cent): two readings that
    agree, the rate's and the sums'."""
    if not isinstance(net, Decimal) or not isinstance(total, Decimal) or net <= 0:
        return None
    difference = total - net
    for row in ctx.rows:
        if not _TAX_WORD.search(row.folded) or _VAT_ID_ROW.search(row.folded):
            continue
        for m in _RATE.finditer(row.text):
            rate = Decimal(m.group(1).replace(",", "."))
            if abs(difference - (net * rate / 100).quantize(Decimal("0.01"))) <= SUM_TOLERANCE:
                ocr = min((w.conf for w in row.words), default=1.0)
                return Field(
                    name="tax_amount",
                    value=difference,
                    raw=f"{m.group(0)} of {net}",
                    confidence=round(0.6 * (0.35 + 0.65 * ocr), 4),
                    page=row.page,
                    box=union_box(row.words),
                    method="rate+sum",
                )
    return None


def _printed_rates(ctx: DocContext, tax: Hit) -> tuple[Row | None, set[Decimal]]:
    """The row a tax was read on, and the rates it prints (``zzgl. 19 % MwSt.``)."""
    key = tax.notes.get("label_row")
    row = ctx.row_at.get(key) if isinstance(key, tuple) else None
    return row, {Decimal(m.group(1).replace(",", ".")) for m in _RATE.finditer(row.text)} if row else set()


def _fits_printed_rate(ctx: DocContext, tax: Hit, net: Decimal) -> bool:
    """Whether a tax's row prints a rate and the tax is ``net`` at it."""
    return tax.value in {money(net * rate / 100) for rate in _printed_rates(ctx, tax)[1]}


def _at_its_rate(ctx: DocContext, tax: Hit, net: Decimal) -> Hit | None:
    """A tax read on a row that prints its rate, checked against it: as read when it is the
    net sum at that rate (or no rate is printed), the row's other amount that is (``Rate 19%
    Net 1,038.47 VAT 197.31 VAT 19% 497.31``, a 1 read as 4 in the repeat), else None."""
    row, rates = _printed_rates(ctx, tax)
    if row is None or not rates:
        return tax
    due = {money(net * rate / 100) for rate in rates}
    if tax.value in due:
        return tax
    for value, start, end in money_parser(ctx.decimal_mark)(row.text):
        if value in due:
            return Hit(value, row.text[start:end], row.words_in(start, end), row.page,
                       tax.method, tax.score, tax.notes)
    return None


_TIME = re.compile(r"^\W{0,3}(?:\w+\W{1,3}){0,2}\d{1,2}:\d{2}(?::\d{2})?\b")


def _is_print_stamp(ctx: DocContext, row: Row, hit: Hit) -> bool:
    """A run date (``Datum: 30.10.2024 Zeit: 04:59:13``) or a footer line: when it was printed."""
    end = max((row.offsets[row.words.index(w)][1] for w in hit.words if w in row.words), default=0)
    if _TIME.search(row.text[end:]):
        return True
    height = ctx.pages[min(row.page, len(ctx.pages) - 1)].height
    return row.box[1] > 0.9 * height


_TITLE_ALONE = _re(
    r"^(?:tax\s*)?(?:invoice|rechnung|facture|factuur|factura|fattura|fatura|faktura)\s*$"
)
"""A document title alone in its cell: ``FACTURE``, ``INVOICE``, ``Rechnung``."""


def _under_title(ctx: DocContext, max_rows: int) -> Iterator[tuple[Row, list[Word], str]]:
    """The cells under the document's title alone in its cell (``FACTURE``, ``INVOICE``), in
    its column, on the first page only: each row, its words there and their text."""
    if not ctx.rows:
        return
    first = ctx.rows[0].page
    for i, row in enumerate(ctx.rows):
        if row.page != first:
            return
        for seg in split_columns(row):
            if _TITLE_ALONE.match(seg.folded):
                for nxt, words in below_words(ctx.rows, i, seg.box[0], seg.box[2], max_rows=max_rows):
                    yield nxt, words, " ".join(w.text for w in words)


def _title_block_date(ctx: DocContext) -> Field | None:
    """An unlabelled date printed alone under the document's title, in its column (``FACTURE``
    / ``20/09/2023`` / ``nº 2023-6013``): the block names the invoice, so the date is its date.
    Only the first page's title counts, and only a date alone in its cell."""
    for nxt, words, text in _under_title(ctx, max_rows=3):
        found = find_dates(text, dayfirst=ctx.dayfirst)
        if len(found) != 1 or len(re.sub(r"\W", "", text)) > len(re.sub(r"\W", "", found[0].text)):
            continue  # not a date alone: a number, a label with its value, two dates
        d = found[0]
        return Field(
            name="invoice_date",
            value=d.value,
            raw=d.text,
            confidence=0.4 if _unsure_order(ctx, d) else 0.6,
            page=nxt.page,
            box=union_box(words),
            method="title_block",
        )
    return None


_NUMBER_MARK = re.compile(r"^\s*(?:#|n[o°º]\.?(?=\s*\d)|nr\.?(?=\s*\d))\s*", re.IGNORECASE)
"""A number sign before a value (``# 1024``, ``No. 1024``, ``Nº 2023-6013``)."""


def _title_block_number(ctx: DocContext) -> Field | None:
    """The number printed right under the document's title, after a number sign (``INVOICE`` /
    ``# 1024``): the block names the invoice, so the number is its number. Only the first
    page's title counts, and only a number alone in its cell."""
    for nxt, words, text in _under_title(ctx, max_rows=1):
        found = id_parser(text) if _NUMBER_MARK.match(text) else []
        if not found or text[found[0][2] :].strip():
            continue  # no number sign, or more than a number in the cell
        return Field(
            name="invoice_number",
            value=str(found[0][0]),
            raw=text,
            confidence=0.6,
            page=nxt.page,
            box=union_box(words),
            method="title_block",
        )
    return None


def _unsure_order(ctx: DocContext, found: FoundDate) -> bool:
    """Whether a date's day and month could be the other way round on this document."""
    return found.ambiguous and not ctx.order_known


def _right_after(ctx: DocContext, hit: Hit) -> bool:
    """Whether a hit's value stands right after its label: nothing but stops and colons
    between them."""
    row = _label_row(ctx, hit)
    span = hit.notes.get("label_span")
    if row is None or not isinstance(span, tuple) or not hit.words or hit.words[0] not in row.words:
        return False
    start = row.offsets[row.words.index(hit.words[0])][0]
    return re.fullmatch(r"[\s:.]*", row.text[span[1] : start]) is not None


def read_dates(ctx: DocContext) -> dict[str, Field]:
    parse = date_parser(ctx.dayfirst)
    fields: dict[str, Field] = {}
    hits = _labelled(
        ctx,
        DATE_LABELS,
        parse,
        exclude_before=DATE_EXCLUDE_BEFORE,
        exclude_after=DATE_EXCLUDE_AFTER,
    )
    number_rows = {
        (r.page, r.index)
        for r in ctx.rows
        if any(p.search(r.folded) for p, _ in INVOICE_NO_LABELS[:3])
    }
    number = _best(_number_hits(ctx))
    if number is not None:
        number_rows.add(number.notes["label_row"])  # type: ignore[arg-type]
    for h in hits:  # "Invoice No. 123 dated 1.2.2024": a date on the number's row is the issue date
        if h.notes.get("label_row") in number_rows:
            h.notes["priority"] = int(h.notes.get("priority", 0)) + 0.5  # type: ignore[call-overload]
        row = _label_row(ctx, h)
        if row is not None and _is_print_stamp(ctx, row, h):
            h.notes["priority"] = float(h.notes.get("priority", 0)) - 1.5  # type: ignore[arg-type]
    # a date that "Invoice" or the number's "du" labels only by standing before it must follow
    # it at once (and "du" only on the number's row)
    hits = [
        h
        for h in hits
        if h.notes.get("label") not in (DATE_AFTER_INVOICE, DATED_AFTER_NUMBER)
        or (
            _right_after(ctx, h)
            and (h.notes.get("label") is DATE_AFTER_INVOICE or h.notes.get("label_row") in number_rows)
        )
    ]
    due_hits = _labelled(ctx, DUE_LABELS, parse)
    due_values = {h.value.value for h in due_hits}  # type: ignore[attr-defined]
    hits = [h for h in hits if h.value.value not in due_values or h.notes["priority"] == 3]  # type: ignore[attr-defined]
    best = _best(hits)
    if best is not None:
        found = best.value
        bonus = -0.25 if _unsure_order(ctx, found) else 0.05  # type: ignore[arg-type]
        bonus += 0.04 * (int(best.notes.get("priority", 2)) - 2)
        bonus += 0.03 if _agree(hits, found) > 1 else 0.0
        fields["invoice_date"] = _field(
            "invoice_date", best, "label", _conf(0.8, best, bonus), value=found.value
        )  # type: ignore[attr-defined]
    elif (titled := _title_block_date(ctx)) is not None:
        fields["invoice_date"] = titled
    else:
        first_page = [r for r in ctx.rows if r.page == ctx.rows[0].page] if ctx.rows else []
        for row in first_page:
            found_dates = find_dates(row.text, dayfirst=ctx.dayfirst)
            if found_dates:
                d = found_dates[0]
                words = row.words_in(d.start, d.end)
                fields["invoice_date"] = Field(
                    name="invoice_date",
                    value=d.value,
                    raw=d.text,
                    confidence=0.2 if _unsure_order(ctx, d) else 0.35,
                    page=row.page,
                    box=union_box(words) if words else None,
                    method="fallback",
                )
                break
    due = _best(due_hits)
    if due is not None:
        found = due.value
        fields["due_date"] = _field(
            "due_date",
            due,
            "label",
            _conf(0.5 if _unsure_order(ctx, found) else 0.75, due),  # type: ignore[arg-type]
            value=found.value,
        )  # type: ignore[attr-defined]
    elif "invoice_date" in fields:
        issued = fields["invoice_date"].value
        terms = _printed_due_date(ctx, issued) or _payment_terms(ctx, issued)  # type: ignore[arg-type]
        if terms is not None:
            fields["due_date"] = terms
    return fields


_TERM_DAYS = _re(r"\b(\d{1,3})\s*(?:days|tage|tagen|jours|dagen|giorni|dias|días)\b")


def _printed_due_date(ctx: DocContext, issued: object) -> Field | None:
    """The due date whose label OCR lost (``| 2025-02-28 | 2025-03-30`` under a broken grid
    head): a date printed on the page that falls the stated ``30 days`` after the issue date."""
    if not isinstance(issued, dt.date):
        return None
    days = {
        int(m.group(1))
        for row in ctx.rows
        for m in _TERM_DAYS.finditer(row.folded)
        if not _DISCOUNT.search(row.folded) and 0 < int(m.group(1)) <= 180
    }
    for row in ctx.rows:
        for d in find_dates(row.text, dayfirst=ctx.dayfirst):
            if isinstance(d.value, dt.date) and (d.value - issued).days in days:
                return _due_date(d.value, row, d.start, d.end, 0.75, "terms+printed")
    return None


def _due_date(value: dt.date, row: Row, start: int, end: int, base: float, method: str) -> Field:
    """A due date worked out from what ``row`` prints between ``start`` and ``end``."""
    words = row.words_in(start, end)
    return Field(name="due_date", value=value, raw=row.text[start:end],
                 confidence=_words_conf(base, words), page=row.page,
                 box=union_box(words) if words else None, method=method)


def _payment_terms(ctx: DocContext, issued: dt.date) -> Field | None:
    """``Zahlbar innerhalb von 30 Tagen netto`` with no date printed: the issue date + 30 days."""
    for row in ctx.rows:
        for m in _PAYMENT_DAYS.finditer(row.folded):
            if _DISCOUNT.search(row.folded[max(0, m.start() - 30) : m.end() + 12]):
                continue
            days = int(next(g for g in m.groups() if g))
            if not 0 < days <= 180:
                continue
            return _due_date(issued + dt.timedelta(days=days), row, m.start(), m.end(), 0.6,
                             "terms+date")
    return None


_OCR_DOLLAR_S = re.compile(r"(?<![^\s:#])\$(?=[A-Za-z0-9]+[/\-])")
"""A dollar sign starting a scanned identifier with a separator in it (``$1/7596/24``): OCR's
reading of an S, which no invoice number starts with."""


def ocr_id_parser(text: str) -> list[tuple[object, int, int]]:
    """:func:`id_parser` on a scanned page, with a dollar sign starting an id read as the S it
    stands for (one character for one: the positions stay)."""
    return id_parser(_OCR_DOLLAR_S.sub("S", text))


def _dollar_confirmed(ctx: DocContext, hit: Hit) -> bool:
    """A scanned number read from a dollar sign (``$1/7596/24``) only when another reading on
    the page sets it right (``SI/7596/24``): ``$V2121/25`` (``SI/`` read as ``$V``) is no
    number another line confirms, and a surer hit may print it right."""
    if not hit.words or not hit.words[0].text.lstrip(":#").startswith("$"):
        return True
    value = str(hit.value)
    return _as_printed_elsewhere(value, ctx.text) != value


def _number_hits(ctx: DocContext) -> list[Hit]:
    parse = ocr_id_parser if ctx.scanned else id_parser
    hits = _labelled(ctx, INVOICE_NO_LABELS, parse, below_if_bare=True)
    return [
        h
        for h in hits
        if _dollar_confirmed(ctx, h)
        and (
            not find_dates(str(h.value))
            or len(str(h.value)) > 10
            # "Invoice number: 20150101" reads like a date and is a number, "Nr. 01.02.2024" not
            or (h.notes.get("priority") == 3 and str(h.value).isdigit())
        )
    ]


_UP_TO_DATED = re.compile(r"^((?:\s+[A-Za-z0-9][\w\-/]{0,9}){1,2})\s+(?:vom|du|dated|of)\s+\d")


def _extend_to_dated(ctx: DocContext, hit: Hit) -> Hit:
    """``Nr. 210111 mit LV vom 30.05.2026``: the number is all that stands before "vom <date>"."""
    found = _value_end(ctx, hit)
    if found is None:
        return hit
    row, end = found
    m = _UP_TO_DATED.match(row.text[end:])
    if m is None:
        return hit
    extra = row.words_in(end, end + m.end(1))
    value = f"{hit.value}{m.group(1)}"
    return Hit(value, value, [*hit.words, *extra], hit.page, hit.method, hit.score, hit.notes)


def read_ids(ctx: DocContext) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    hits = _number_hits(ctx)
    best = _best(hits)
    if best is not None and ctx.scanned:
        # labels alike in standing on a scan (``Rechnungsnummer: 22.2, 52.003461`` read at 0.40
        # in the header, ``Rechnung Nr. 003461`` at 0.96 over the letter): the value more rows
        # read, then the surer reading
        def standing(h: Hit) -> tuple[object, bool, int]:
            return h.notes.get("priority", 0), h.notes.get("where") == "right", h.page

        rivals = [h for h in hits if standing(h) == standing(best)]
        best = max(rivals, key=lambda h: (_rows_agreeing(rivals, h.value), h.ocr_conf))
    if best is not None and best.notes.get("where") == "right":
        best = _extend_to_dated(ctx, best)
    if best is not None:
        bonus = 0.04 * (int(best.notes.get("priority", 2)) - 2) + (
            0.05 if _agree(hits, best.value) > 1 else 0
        )
        fields["invoice_number"] = _field("invoice_number", best, "label", _conf(0.8, best, bonus))
        if ctx.scanned:
            mended = _as_printed_elsewhere(_cut_short(ctx, best), ctx.text)
            number = fields["invoice_number"]
            if mended != best.value:
                # the method stays: its calibration group is the labelled number's
                number = number.model_copy(update={"value": mended})
            if _read_otherwise(mended, "\n".join(
                r.text for r in ctx.rows if not OTHER_DOCUMENT.search(r.folded)
            )) or (mended == best.value and _left_hanging(ctx, best)):
                number = number.model_copy(
                    update={"confidence": round(OTHERWISE_READ * number.confidence, 4)}
                )
            fields["invoice_number"] = number
    elif (titled := _title_block_number(ctx)) is not None:
        fields["invoice_number"] = titled
    po = _best(_labelled(ctx, PO_LABELS, id_parser))
    if po is not None:
        fields["po_number"] = _field("po_number", po, "label", _conf(0.6, po))
    return fields


_LOOKALIKES = {("1", "I"), ("I", "1"), ("1", "l"), ("l", "1"), ("0", "O"), ("O", "0")}
"""Characters OCR takes for one another in numbers: a letter of a prefix read as a digit."""
_ID_TOKEN = re.compile(r"[A-Za-z0-9][\w/.\-]*[A-Za-z0-9]")


def _cut_short(ctx: DocContext, hit: Hit) -> str:
    """A scanned invoice number OCR cut short at a misread separator (``F202501 “399`` for
    ``F202501-399``) or a gap (``RE-11 651``, ``INV-2024- S771``): the longer number the page
    prints elsewhere (``quoting F202501-399``), which starts with the one read, when the rest
    of it (after a ``-``, ``/`` or ``.``) stands right after the number read, as OCR reads it
    (``S771`` for ``5771``); the number as read otherwise."""
    value = str(hit.value)
    found = _value_end(ctx, hit)
    if found is None:
        return value
    row, end = found
    after = row.text[end:]
    for token in sorted(set(_ID_TOKEN.findall(ctx.text))):
        rest = token[len(value) :].lstrip("-/.")
        if (
            rest
            and token.startswith(value)
            and re.match(rf"\W{{0,2}}{_as_ocr_reads(rest)}(?!\w)", after.lstrip())
        ):
            return token
    return value


def _left_hanging(ctx: DocContext, hit: Hit) -> bool:
    """A scanned number whose word ends in a dash or slash with more printed right after it on
    its row (``INV-2024- S771``): OCR split the number there, so the part read may be short."""
    found = _value_end(ctx, hit)
    if found is None or not hit.words[-1].text.endswith(("-", "/")):
        return False
    row, end = found
    last, nxt = hit.words[-1], next(iter(row.after(end)), None)
    return nxt is not None and nxt.text[:1].isalnum() and (
        nxt.box[0] - last.box[2] < 1.5 * (last.box[3] - last.box[1])
    )


_OCR_ALIKE = ("5S", "0OD", "1Il", "8B", "2Z", "6G")
"""Characters a scan's OCR takes for one another (``INV-2024- S771`` for ``INV-2024-5771``)."""


def _as_ocr_reads(text: str) -> str:
    """A pattern matching ``text`` as OCR may read it: each character or one it is taken for."""
    out = []
    for c in text:
        alike = next((group for group in _OCR_ALIKE if c in group), "")
        out.append(f"[{re.escape(alike)}]" if alike else re.escape(c))
    return "".join(out)


def _other_readings(value: str, text: str) -> Iterator[tuple[str, list[int]]]:
    """The tokens of ``text`` as long as ``value`` but not it, in sorted order, each with the
    places where it differs from ``value``: other readings of an id, or other ids."""
    for token in sorted(set(_ID_TOKEN.findall(text))):
        if len(token) == len(value) and token != value:
            yield token, [i for i, (a, b) in enumerate(zip(value, token, strict=True)) if a != b]


def _as_printed_elsewhere(value: str, text: str) -> str:
    """A scanned invoice number with a letter read as a digit or a digit as a letter
    (``S1/2211/26``), set right by another reading of it on the page (``quoting
    SI/2211/26``): where the two differ only by I/1, l/1 or O/0, each such place takes the
    character that is of the kind of the rest of its part (``SI`` is letters, ``2211``
    digits); ``value`` as read when nothing on the page tells."""
    for token, places in _other_readings(value, text):
        if not all((value[i], token[i]) in _LOOKALIKES for i in places):
            continue
        out = list(value)
        for i in places:
            start = max((j + 1 for j in range(i) if not value[j].isalnum()), default=0)
            end = next((j for j in range(i + 1, len(value)) if not value[j].isalnum()), len(value))
            rest = value[start:i] + value[i + 1 : end]
            if rest and rest.isalpha():
                out[i] = value[i] if value[i].isalpha() else token[i]
            elif rest and rest.isdigit():
                out[i] = value[i] if value[i].isdigit() else token[i]
        if (mended := "".join(out)) != value:
            return mended
    return value


OTHER_DOCUMENT = _re(
    r"liefersch|lieferung|delivery|\border|bestell|auftrag|kunden|customer|client|contract|"
    r"vertrag|\bpo\b|purchase|commande|livraison|\bbon\b|leverings|\bklant|account|konto"
)
"""A row naming another document or party's number (``Lieferschein-Nr 187654321012345``
beside ``Beleg-Nr R87654321012345``): a number there is its own, not a reading of the
invoice's."""
OTHERWISE_READ = 0.6
"""Share of its confidence a scanned invoice number keeps when the page also shows it read
otherwise (``SV/8361/25`` in the footer, ``SI/8361/25`` in the payment line), or when it may
be cut short (``INV-2024- S771``, no longer reading of it on the page)."""


def _read_otherwise(value: str, text: str) -> bool:
    """Whether the page holds another reading of a scanned invoice number: a token as long
    that differs from it in one or two places (none of them I/1, l/1 or O/0, which
    ``_as_printed_elsewhere`` settles), so that one of the two readings is wrong. Only for
    numbers of six characters and more with letters or separators in them: a plain number
    of a few digits is one or two digits off many other numbers on a page."""
    if len(value) < 6 or value.isdigit():
        return False
    return any(
        len(places) <= 2 and re.search(r"\d", token)
        and not all((value[i], token[i]) in _LOOKALIKES for i in places)
        for token, places in _other_readings(value, text)
    )


Section = dict[tuple[int, int], tuple[float, float]]


def _buyer_section(ctx: DocContext) -> Section:
    """The column of rows under a buyer heading ("Käufer", "Bill to"), down to a blank gap:
    an id printed there (VAT, SIRET) is the buyer's."""
    out: Section = {}
    for i, row in enumerate(ctx.rows):
        segs = split_columns(row)
        for k, seg in enumerate(segs):
            m = BUYER_LABELS.search(seg.folded)
            if not m or m.start() > 3:
                continue
            # the section reaches to the next heading on the row (side-by-side parties), else
            # half a page on (key/value listings print the values far right of the keys; a
            # column further right is the seller's or the invoice's own)
            page_width = ctx.pages[min(row.page, len(ctx.pages) - 1)].width
            x0 = seg.box[0]
            x1 = segs[k + 1].box[0] - 1 if k + 1 < len(segs) else x0 + 0.5 * page_width
            for nxt, _words in below_words(ctx.rows, i, x0, seg.box[2], max_rows=12):
                out[(nxt.page, nxt.index)] = (x0 - 2, x1)
    return out


def _in_section(row: Row, words: list[Word], section: Section) -> bool:
    span = section.get((row.page, row.index))
    if span is None or not words:
        return False
    centre = (words[0].box[0] + words[-1].box[2]) / 2
    return span[0] <= centre <= span[1]


def read_vat(
    ctx: DocContext, buyer_rows: set[tuple[int, int]], vendor_row: int | None = None
) -> dict[str, Field]:
    """The seller's VAT id: a valid one, labelled, near the seller's name or in the footer."""
    label = _re(r"ust-?id|ustid|u\.?st\.?-?id|vat|btw|tva|mwst|steuer|tax\s*id|registration")
    buyer_section = _buyer_section(ctx)
    candidates: list[tuple[float, str, Row]] = []
    for i, row in enumerate(ctx.rows):
        if (row.page, row.index) in buyer_rows:
            continue
        height = ctx.pages[min(row.page, len(ctx.pages) - 1)].height
        for raw, _s, _e in find_vat_ids(row.text):
            if re.search(r"iban(?:-?\s?(?:nr|no)\b)?\W{0,8}$", row.folded[max(0, _s - 20) : _s]):
                continue  # "IBAN: DE08 7009 …" has a VAT id's shape
            if _in_section(row, row.words_in(_s, _e), buyer_section):
                continue
            vat = raw
            valid = vat_check_passes(vat)
            if not valid:  # "DE777777777 999 / 9…": try the match without trailing digit groups
                for cut in range(len(vat), 8, -1):
                    if vat_check_passes(vat[:cut]):
                        vat, valid = vat[:cut], True
                        break
                else:
                    for cut in range(len(vat), 8, -1):
                        if vat_shape_ok(vat[:cut]):
                            vat = vat[:cut]
                            break
            labelled = bool(label.search(row.folded)) or (
                i > 0 and bool(label.search(ctx.rows[i - 1].folded))
            )
            if "iban" in row.folded and not labelled:
                continue
            score = 0.5 + (0.2 if labelled else 0) + (0.2 if valid else -0.1)
            if row.box[1] > 0.75 * height or (vendor_row is not None and 0 <= i - vendor_row <= 8):
                score += 0.05
            candidates.append((score, vat, row))
    if not candidates:
        return {}
    score, vat, row = max(candidates, key=lambda c: c[0])
    if len({c[1] for c in candidates}) > 1:
        score -= 0.15
    ocr = row.words[0].conf if row.words else 1.0
    return {
        "vendor_vat": Field(
            name="vendor_vat",
            value=vat,
            raw=vat,
            confidence=round(max(0.0, min(1.0, score * (0.35 + 0.65 * ocr))), 4),
            page=row.page,
            box=row.box,
            method="pattern",
        )
    }


_OCR_SRL = re.compile(r"\b([Ss])\.\s?([Rr])\.\s?[1I]?\.(?=$|[\s,;)])")
"""``S.r.1.``, ``S.r.I.``, ``S.r..``: Tesseract reading the l of an Italian company's ``S.r.l.``
as a 1, an I or nothing."""
_OCR_LTD = re.compile(r"(?<=\S )Ltc(?=\.?$)")
"""``Co. Ltc``: the d of a name's closing ``Ltd`` read as a c (``LTC`` in capitals is a word)."""
_OCR_SP_ZOO = re.compile(r"\b([Ss]p)\.\s?[zZ2]{1,2}\s?[o0O]\.\s?[o0O]\.")
"""``Sp. z 0.0.``, ``Sp. Z 0.0.``, ``Sp. zZ 0.0.``, ``Sp. 20.0.``: a Polish company's ``Sp. z
o.o.`` with its o's read as zeros and its z as a capital, twice or as a 2."""


_FORM_WITHOUT_STOP = re.compile(r"(?<=\S )(GmbH|AG|KG|UG|OHG|GbR|LLC|AB|[A-Z][a-z]{5,})\.$")
"""Legal forms written without a stop (``Ltd.``, ``Inc.`` take one), and whole words (an
abbreviation is shorter: ``Assoc.``, ``Bros.``): a stop after one at the name's end is a speck
OCR read (``Weiß Elektrotechnik GmbH. TAX INVOICE``, ``O'Reilly Veterinary Clinic.``)."""
_OCR_BV = re.compile(r"(?<=\S )BV\.$")
"""``Drukwerk BV.``: a closing ``B.V.`` whose first stop OCR lost (the second one tells)."""


_ELISION = re.compile(
    r"\b((?i:dell|nell|dall|sull|all|coll|degl|dagl|l|d|un|qu|c|j|n|s)[’‘`´'])\s+(?=[^\W\d_])"
)
"""An elided article or preposition (``dell'``, ``l'``, ``d'``, ``qu'``) set apart from its word
by OCR (``dell’ Adige``, posted at 0.92): joined to it."""
_OCR_APOSTROPHE = re.compile(r"(?:(?<=[^\W\d_])|(?<=^)|(?<=\s))[’‘`´](?=[^\W\d_])")
"""A curly quote, backtick or acute accent before a letter in a scanned name: OCR's reading of
the apostrophe (``L’artigiano``, ``‘t Stoepje``), which names are registered with."""


def _clean_name(text: str) -> str:
    # a quote mark before a name is a speck OCR read (‘Groot & Klein): no name starts with one
    text = re.sub(r"^[\s:;,.\-–•|‘’“”'\"_~=]+|[\s:;,\-–•|_~‘’“”]+$", "", text)
    # a German low quote too, unless the name closes it (``„Zur Linde“ GmbH``)
    if text.startswith(("‚", "„")) and _never_closed(text):
        text = text[1:].lstrip()
    # nor with a letter or two set apart by a speck (``S _ Ferraro Arredamenti``): a logo's
    text = re.sub(r"^\S{1,2}\s+[_~|]+\s+(?=\w)", "", text)
    # the document's title printed on the name's line ("… S.p.A. TAX INVOICE") is no part of it
    text = re.sub(r"(?<=\S)\s+(?:tax\s*)?invoice$", "", text, flags=re.IGNORECASE)
    text = _OCR_LTD.sub("Ltd", _OCR_SRL.sub(r"\1.\2.l.", text))
    text = _OCR_SP_ZOO.sub(r"\1. z o.o.", text)
    text = _OCR_BV.sub("B.V.", text)
    text = _FORM_WITHOUT_STOP.sub(r"\1", text)
    # an apostrophe read as a double quote between a letter and a word (``L"Artigiano``)
    text = re.sub(r"(?<=\b[A-Za-z])[\"“”](?=[A-Z][a-z])", "'", text)
    text = _ELISION.sub(r"\1", text)
    # a speck between two words (``Pacific . Northwest``), a word's end read twice (``Timber Imber``)
    text = re.sub(r"(?<=\w)\s+[.·]\s+(?=\w)|\s+[.·©®°¢§]$", " ", text).strip()
    text = re.sub(r"\b([^\W\d_]+?([^\W\d_]{4,}))\s+(?i:\2)\b", r"\1", text)
    return re.sub(r"\s+", " ", text)


def _trim_at_legal_form(text: str) -> str:
    """ "Kraxi GmbH, Flugzeugallee 17" → "Kraxi GmbH"; "Rohstoff AG Salzgitter" stays whole."""
    matches = list(LEGAL_FORMS.finditer(text))
    m = matches[-1] if matches else None
    if m is None or not re.search(r"[\d,•|]", text[m.end() :]):
        return text
    return text[: m.end()].rstrip(" ,")


def buyer_block(ctx: DocContext) -> tuple[Field | None, set[tuple[int, int]]]:
    """The buyer's name, and the rows of the buyer's address block (kept out of vendor search)."""
    rows = ctx.rows
    block: set[tuple[int, int]] = set()
    name: Field | None = None
    for i, row in enumerate(rows):
        for seg in split_columns(row):
            m = BUYER_LABELS.search(seg.folded)
            if not m or m.start() > 3:
                continue
            rest = _clean_name(seg.text[m.end() :])
            if rest and (
                BUYER_LABELS.search(fold(rest))
                or rest.endswith(":")
                or sum(c.isalpha() for c in rest) < 3  # "Exmo.(s) Sr.(s)": the label's own tail
            ):
                rest = ""
            parts = [p.strip() for p in rest.split(",")]
            if len(parts) > 1 and not re.search(r"\d", parts[0]) and any(
                re.search(r"\d", p) for p in parts[1:]
            ):
                rest = parts[0]  # "Bill To: Acme Corp, 55 Market St, Chicago": the name, not the address
            seg_box = seg.box
            below = list(
                below_words(
                    rows,
                    i,
                    seg_box[0],
                    max(seg_box[2], seg_box[0] + 150 * _pt(ctx, row.page)),
                    max_rows=4,
                )
            )
            for nxt, _ in below:
                block.add((nxt.page, nxt.index))
            above = _named_above(rows, i, seg) if m.group(0).startswith("attn") else None
            if above is not None:
                # "Greenway Facilities Ltd / Attn: Accounts Payable": the line for whose
                # attention names a person or a department of the buyer, printed under its name
                value, conf_words = above
            elif rest and not re.search(r"\d{3,}", rest):
                words = seg.words_in(m.end(), len(seg.text))
                value, conf_words = rest, words
            elif below:
                segs = [split_columns(make_row(n.page, n.index, ws))[0] for n, ws in below]
                pick = _name_from_block(segs, [n for n, _ in below])
                if pick is None:
                    continue
                value, conf_words = _clean_name(re.sub(r"(?i)^attn:?\s*", "", pick[0])), pick[1]
            else:
                continue
            if name is None and value and sum(c.isalpha() for c in value) >= 3:
                ocr = min((w.conf for w in conf_words), default=1.0)
                name = Field(
                    name="buyer_name",
                    value=value,
                    raw=value,
                    confidence=round(0.6 * (0.35 + 0.65 * ocr), 4),
                    page=row.page,
                    box=union_box(conf_words) if conf_words else None,
                    method="label",
                )
    return name, block


def _named_above(rows: list[Row], i: int, seg: Row) -> tuple[str, list[Word]] | None:
    """The name printed just above a segment, in its column (within three row heights): the
    company over an "Attn:" line."""
    row = rows[i]
    x0, x1 = seg.box[0], seg.box[2]
    for j in range(i - 1, max(-1, i - 4), -1):
        prev = rows[j]
        if prev.page != row.page or row.box[1] - prev.box[3] > 3 * max(row.height, 1.0):
            return None
        over = [c for c in split_columns(prev) if c.box[2] > x0 - 2 and c.box[0] < x1 + 5]
        if not over:
            continue  # a line of the other column between them
        words = over[0].words
        text = _clean_name(over[0].text)
        if (
            sum(c.isalpha() for c in text) < 3
            or re.search(r"\d{3,}|:", text)
            or CONTACT.search(fold(text))
            or TITLE_WORDS.match(fold(text))
        ):
            return None
        return text, words
    return None


def _sender_line(ctx: DocContext, *, commas: bool = False) -> tuple[int, Row, list[str]] | None:
    """The one-line sender address above a window envelope's address ("Name • Street • City").

    OCR reads the small separator dots as ``°``, ``*``, ``»`` or ``+`` depending on its language
    data, so all of them split.

    ``commas`` also accepts "Name, Street 26, 80786 City" (the name part is then too short a
    cue for the vendor, but the line still marks where the recipient's address starts).
    """
    height = ctx.pages[0].height if ctx.pages else 0.0
    for i, row in enumerate(ctx.rows[:25]):
        if row.page != ctx.rows[0].page or (height and row.box[1] > 0.4 * height):
            break  # a footer imprint ("Name - SAS au capital … - SIRET …") is no sender line
        # "Kanaaldijk 4-5611 ZN Eindhoven", "Prinsengracht 811 +1017 KB": the spaces round a
        # separator lost between the house number and a postcode (4 or 5 digits, then the town
        # or a Dutch postcode's letters)
        text = re.sub(r"(?<=\d)\s?[-–+]\s?(?=\d{4,5}\s+[A-Z])", " - ", row.text)
        parts = [p.strip() for p in re.split(r"\s[•·|–\-°*.»«+~]\s|\s?[•·|]\s?", text) if p.strip()]
        if len(parts) >= 3 and re.search(r"\d{4,5}", row.text) and len(parts[0]) >= 3:
            return i, row, parts
        if commas:
            parts = [p.strip() for p in row.text.split(",") if p.strip()]
            if (
                len(parts) == 3
                and _STREET.search(parts[1])
                and re.fullmatch(r"(?:[A-Z]{1,2}-)?\d{4,5}\s+\D{2,}", parts[2])
                and not re.search(r"\d", parts[0])
                and len(split_columns(row)) == 1
            ):
                return i, row, parts
    return None


_NAME_PREFIX = _re(r"^(?:name|firma|company|raison\s*sociale|naam)\s*:\s*")


def _name_from_block(
    block: list[Row], full: list[Row] | None = None
) -> tuple[str, list[Word]] | None:
    """The party's name in the rows under a party heading ("Name: …", a legal form, else plain).

    ``full`` are the whole rows (key/value listings print "Name:" and the value columns apart).
    """
    for seg in full or block:
        m = _NAME_PREFIX.match(seg.folded)
        if m and seg.text[m.end() :].strip():
            return _clean_name(seg.text[m.end() :]), seg.words_in(m.end(), len(seg.text))
    for seg in block:
        # a scan's stop read as a colon at the end of the name (``Bakkerij 't Stoepje B.V:``)
        text = re.sub(r"(?<=\.[A-Za-z]):$", ".", seg.text)
        if LEGAL_FORMS.search(text) and not re.search(r"\d{4,}", text):
            return _clean_name(_trim_at_legal_form(text)), seg.words
    for seg in block:
        if (
            ":" not in seg.text
            and not re.search(r"\d", seg.text)
            and sum(c.isalpha() for c in seg.text) >= 3
            and fold(_clean_name(seg.text)) not in COUNTRIES  # the address's last line
        ):
            return _clean_name(seg.text), seg.words
    return None


def _repeated_names(ctx: DocContext) -> dict[str, tuple[str, int]]:
    """Header segments (top of page 1) that come back in a footer: letterhead and imprint. Each
    as read in the header → the name (with the imprint's legal form where the header's reading
    has none) and the segment's order."""
    if not ctx.rows:
        return {}
    first = ctx.rows[0].page
    height = ctx.pages[0].height if ctx.pages else 1.0
    heads = [
        (seg, r)
        for r in ctx.rows
        if r.page == first and r.box[1] < 0.3 * height
        for seg in split_columns(r)
    ]
    feet = [
        seg.text
        for r in ctx.rows
        for seg in split_columns(r)
        if r.box[1] > 0.7 * (ctx.pages[min(r.page, len(ctx.pages) - 1)].height)
    ]
    feet_text = [fold(text) for text in feet]
    out: dict[str, tuple[str, int]] = {}
    for i, (seg, row) in enumerate(heads):
        name = _clean_name(seg.text)
        key = fold(name)
        if len(key) < 4 or re.search(r"\d|:", key) or sum(c.isalpha() for c in key) < 4:
            continue
        # one word ("Free") only when the imprint adds its legal form ("Free SAS - …")
        if (
            len(key.split()) < 2
            and not LEGAL_FORMS.search(name)
            and not any(
                f.startswith(key + " ") and LEGAL_FORMS.match(f[len(key) + 1 :]) for f in feet_text
            )
        ):
            continue
        # at the start of a footer segment, or after a legal form written first ("SARL Au bon
        # moulin"); not inside a longer name ("Amazon Web Services, Inc." is no "Web Services")
        # the letterhead's "Ltd." may be a speck after "Ltd": the imprint without it tells
        # (not "B.V.", whose last stop is its own)
        forms = [m for m in LEGAL_FORMS.finditer(name[:-1])
                 if m.end() == len(name) - 1 and "." not in m.group()]
        for spelled in (name, name[:-1]) if name.endswith(".") and forms else (name,):
            key = fold(spelled)
            pattern = rf"(?:^|[-–|•·,;:]\s*|\b(?:sarl|sas|sasu|eurl|sa|sci|snc)\s+){re.escape(key)}(?:$|\W)"
            imprints = [text for text, f in zip(feet, feet_text, strict=True) if re.search(pattern, f)]
            if imprints:
                after = " ".join(w.text for w in row.words if w.box[0] > seg.box[2])
                full = _with_imprint_form(spelled, imprints[0], after)
                if full == spelled and re.search(rf"{re.escape(key)}['’]", fold(imprints[0])):
                    break  # "Officine Meccaniche dell" of "… dell'Adige S.p.A.": cut at an elision
                out.setdefault(name, (full, i))
                break
    return out


def _with_imprint_form(name: str, imprint: str, after: str = "") -> str:
    """``name`` with the legal form the imprint prints after it where the letterhead's reading
    has none: ``Shannon Freight & Logistics`` (its ``Ltd`` not read at the top) over the
    imprint ``Shannon Freight & Logistics Ltd. Registered No. 154999`` is ``… Ltd``. A stop
    after a form without stops of its own (``Ltd.``, ``Inc.``) is left out: the imprint's
    sentence may end there, and the letterhead prints the name without it as often.

    ``after``: what the letterhead's row reads right of the name. Where it starts with the
    legal form the imprint ends the name with, a word or two the imprint prints between them
    were lost from the letterhead (``Bramley Precision … Ltd``, its ``Engineering`` read at no
    confidence) and the name is the imprint's ``Bramley Precision Engineering Ltd``; so is a
    piece elided onto the last word read (``Officine Meccaniche dell`` / ``S.p.A.`` over
    ``Officine Meccaniche dell'Adige S.p.A.``, its ``'Adige`` read on a line of its own).
    The form may be read cut short (``St. Albans`` / ``Lt`` over ``St. Albans Lighting
    Ltd``, ``Lighting`` read on the next line).

    A name that has a form may still lack the one the imprint ends it with: the letterhead's
    ``Hargreaves, Pike & Co.`` (its ``Ltd.`` on the next line) is the imprint's ``Hargreaves,
    Pike & Co. Ltd``."""
    words = r"\s+".join(re.escape(w) for w in name.split())
    m = re.search(rf"{words}\s+", imprint, flags=re.IGNORECASE)
    form = LEGAL_FORMS.match(imprint, m.end()) if m is not None else None
    if LEGAL_FORMS.search(name):
        if form is None or _COMPANY_NUMBER.match(imprint, form.end()):
            return name  # "… Pte Ltd Co. Reg. No.": the company's number, no second form
        return f"{name} {_without_sentence_stop(form.group())}"
    lost = ""
    if form is None and after.strip():
        # the words lost: one or two, or a piece elided onto the last word read (``dell'Adige``)
        for lost_words in (r"['’][A-Z][\w&-]*", r"\s+[A-Z][\w&'-]*", r"(?:\s+[A-Z][\w&'-]*){2}"):
            m = re.search(rf"(?i:{words})({lost_words})\s+", imprint)
            form = LEGAL_FORMS.match(imprint, m.end()) if m is not None else None
            if form is not None and m is not None:
                lost = m.group(1)
                break
        if form is None or not _printed_form(after, form.group()):
            return name
    if form is None:
        return name
    return f"{name}{lost} {_without_sentence_stop(form.group())}"


def _printed_form(after: str, form: str) -> bool:
    """Whether the letterhead's row goes on (``after`` the name) with the imprint's legal form
    ``form``: as printed, or cut short by OCR to two letters or more (``St. Albans … Lt``
    for ``Ltd``, its end lost with the word before it)."""
    printed = LEGAL_FORMS.match(after)
    if printed is not None:
        return fold(form).rstrip(".") == fold(printed.group()).rstrip(".")
    head = fold(after.split()[0]).rstrip(".")
    return len(head) >= 2 and fold(form).startswith(head)


_COMPANY_NUMBER = re.compile(r"\s*(?:reg|no\b|nr\b|num|number)", re.IGNORECASE)


def _with_wrapped_form(rows: list[Row], i: int, seg: Row, name: str) -> str:
    """``Hargreaves, Pike & Co.`` / ``Ltd.``: a line of nothing but a legal form right under a
    name, starting where the name starts, is the end of the name wrapped onto it."""
    for _, words in below_words(rows, i, seg.box[0], seg.box[2], max_rows=1):
        text = " ".join(w.text for w in words)
        if (
            abs(words[0].box[0] - seg.box[0]) <= max(seg.height, 1.0)
            and LEGAL_FORMS.fullmatch(text)
            and not fold(name).rstrip(". ").endswith(fold(text).rstrip(". "))
        ):
            return f"{name} {_without_sentence_stop(text)}"
    return name


def _without_sentence_stop(form: str) -> str:
    """``Ltd. Registered No.``: a stop after a one-word form may end the imprint's sentence."""
    return form[:-1] if form.endswith(".") and "." not in form[:-1] else form


def _window_buyer(ctx: DocContext) -> Field | None:
    """DIN 5008 letters: the recipient's name is the first line under the one-line sender."""
    sender = _sender_line(ctx, commas=True)
    if sender is None:
        return None
    i, row, _ = sender
    for nxt, words in below_words(
        ctx.rows, i, row.box[0], row.box[2], max_rows=3, max_gap_factor=4
    ):
        # the recipient's first line starts where the sender line starts
        words = [w for w in words if w.box[0] >= row.box[0] - 3 * max(row.height, 1.0)]
        if not words or words[0].box[0] > row.box[0] + 3 * max(row.height, 1.0):
            continue
        seg = split_columns(make_row(nxt.page, nxt.index, words))[0]
        if CONTACT.search(seg.folded) or SALUTATION.fullmatch(seg.folded.strip()):
            continue
        title = TITLE_WORDS.match(seg.folded)
        if title is not None and _TITLE_LABEL.match(seg.folded[title.end() :].strip()):
            continue  # "Invoice number | Invoice date": the heads of a grid, no recipient
        if sum(c.isalpha() for c in seg.text) >= 3 and not re.search(r"\d{3,}", seg.text):
            ocr = min((w.conf for w in seg.words), default=1.0)
            return Field(
                name="buyer_name",
                value=_clean_name(seg.text),
                raw=seg.text,
                confidence=round(0.55 * (0.35 + 0.65 * ocr), 4),
                page=nxt.page,
                box=seg.box,
                method="window",
            )
    return None


_DOMAIN = re.compile(r"(?i)(?:@|\bwww\.|https?://(?:www\.)?)([a-z0-9][a-z0-9\-]{2,})\.[a-z]{2,}")
_MAIL_HOSTS = frozenset(
    {
        "gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "web", "t-online",
        "icloud", "aol", "orange", "free", "wanadoo", "example", "mail", "email",
    }
)


def _letterhead_domains(ctx: DocContext, buyer_rows: set[tuple[int, int]]) -> set[str]:
    """Web and e-mail domains in the letterhead or the footer: the seller's own."""
    out: set[str] = set()
    for row in ctx.rows:
        if (row.page, row.index) in buyer_rows or BUYER_LABELS.search(row.folded):
            continue
        height = ctx.pages[min(row.page, len(ctx.pages) - 1)].height
        if 0.2 * height < row.box[1] < 0.8 * height:
            continue
        for m in _DOMAIN.finditer(row.text.replace(" ", "") if "@ " in row.text else row.text):
            name = m.group(1).lower()
            if name not in _MAIL_HOSTS:
                out.add(name)
    return out


def _matches_domain(name: str, domains: set[str]) -> bool:
    """``CRONUS DE`` ~ cronus.com, ``Société Hôtelière du Pacano`` ~ hotel-du-pacano.fr."""
    tokens = [t for t in re.findall(r"[a-z0-9]+", fold(name)) if len(t) >= 4]
    if not tokens:
        return False
    for domain in domains:
        parts = set(domain.split("-")) | {domain.replace("-", "")}
        if any(t in parts for t in tokens) or domain.replace("-", "") == "".join(
            re.findall(r"[a-z0-9]+", fold(name))
        ):
            return True
    return False


def _other_party(ctx: DocContext, vendor: Field | None) -> Field | None:
    """An unlabelled address block (name, street, "zip city") at the top of page 1 that is not
    the seller's: with no heading and no window line, the other party is the buyer."""
    if vendor is None or vendor.box is None or not ctx.rows:
        return None
    first = ctx.rows[0].page
    height = ctx.pages[min(first, len(ctx.pages) - 1)].height
    vx0, vy0, vx1, _ = vendor.box
    found: list[tuple[str, Row]] = []
    for i, row in enumerate(ctx.rows):
        if row.page != first or row.box[1] > 0.45 * height:
            continue
        for seg in split_columns(row):
            name = _clean_name(seg.text)
            if (
                re.search(r"\d|@|:", name)
                or sum(c.isalpha() for c in name) < 4
                or fold(name) == fold(str(vendor.value))
                or CONTACT.search(seg.folded)
                or fold(name) in COUNTRIES
            ):
                continue
            if ATTENTION.search(seg.folded) or BUYER_LABELS.match(seg.folded):
                continue  # a heading ("BILL TO") is no name
            x0, x1 = seg.box[0], seg.box[2]
            if x0 < vx1 and x1 > vx0 and 0 <= seg.box[1] - vy0 < 6 * max(row.height, 1.0):
                continue  # a line of the seller's own block
            below = list(below_words(ctx.rows, i, x0, x1, max_rows=4))
            lines = [" ".join(w.text for w in ws) for _, ws in below]
            # the name, then whose attention it is for, then the street
            lines = lines[1:] if lines and ATTENTION.search(fold(lines[0])) else lines[:3]
            if any(_ZIP_CITY.match(_clean_name(t)) for t in lines[1:]) and lines and _STREET.search(
                lines[0]
            ):
                found.append((name, seg))
    if not found:
        return None
    names = {fold(n) for n, _ in found}
    if len(names) > 1 and not any(LEGAL_FORMS.search(n) for n, _ in found):
        return None
    name, seg = next(((n, r) for n, r in found if LEGAL_FORMS.search(n)), found[0])
    ocr = min((w.conf for w in seg.words), default=1.0)
    return Field(
        name="buyer_name",
        value=name,
        raw=seg.text,
        confidence=round(0.45 * (0.35 + 0.65 * ocr), 4),
        page=seg.page,
        box=seg.box,
        method="other_block",
    )


def read_vendor(ctx: DocContext, buyer_rows: set[tuple[int, int]]) -> dict[str, Field]:
    rows = ctx.rows
    candidates: list[
        tuple[float, str, str, list[Word], int]
    ] = []  # score, name, method, words, row i
    for i, row in enumerate(rows):
        for seg in split_columns(row):
            m = VENDOR_LABELS.search(seg.folded)
            if not m:
                continue
            rest = _clean_name(seg.text[m.end() :])
            if rest and not BUYER_LABELS.search(fold(rest)):
                candidates.append(
                    (
                        0.85,
                        _trim_at_legal_form(rest),
                        "label",
                        seg.words_in(m.end(), len(seg.text)),
                        i,
                    )
                )
                continue
            under = list(
                below_words(
                    rows,
                    i,
                    seg.box[0],
                    seg.box[2] + 100 * _pt(ctx, row.page),
                    max_rows=4,
                    max_gap_factor=4,
                )
            )
            below = [split_columns(make_row(nxt.page, nxt.index, words))[0] for nxt, words in under]
            pick = _name_from_block(below, [nxt for nxt, _ in under])
            if pick is not None:
                candidates.append((0.8, pick[0], "label", pick[1], i))
    sender = _sender_line(ctx)
    if sender is not None and not _street_first(sender[2]):  # else the name is printed elsewhere
        i, row, parts = sender
        # "Free SAS au capital de 3 441 812 euros - RCS …": the name ends at its legal form
        name = _clean_name(_trim_at_legal_form(parts[0]))
        candidates.append(
            (
                0.8 if LEGAL_FORMS.search(name) else 0.65,
                name,
                "sender_line",
                row.words[: len(name.split())],
                i,
            )
        )
    first_page = rows[0].page if rows else 0
    for i, row in enumerate(rows[:6]):
        if row.page != first_page:
            break
        for seg in split_columns(row):
            m = TITLE_WORDS.match(seg.folded)
            if not m or ":" in seg.text:
                continue  # "Date de la facture : 01/02/2017" is a label, not "<Name> Invoice"
            before = _clean_name(seg.text[: m.start(1)])
            after = _clean_name(seg.text[m.end() :])
            for text in (before, after):
                if (
                    len(text) >= 3
                    and not text[0].islower()  # "Invoice lumber" (Number misread): no name
                    and not _TITLE_LABEL.match(fold(text))
                    and not re.search(r"\d", text)
                    and sum(c.isalpha() for c in text) >= 3
                ):
                    candidates.append(
                        (0.7 if LEGAL_FORMS.search(text) else 0.6, text, "title", seg.words, i)
                    )
    head = [r for r in rows if r.page == first_page]
    names_seen: dict[str, int] = {}
    spelled: dict[str, str] = {}  # each name with a legal form as one of its rows prints it
    for row in rows:
        for seg in split_columns(row):
            if LEGAL_FORMS.search(seg.text):
                key = fold(_trim_at_legal_form(seg.text))
                names_seen[key] = names_seen.get(key, 0) + 1
                spelled.setdefault(key, _clean_name(_trim_at_legal_form(seg.text)))
    repeated = _repeated_names(ctx)
    # each head row as printed, and its cells as read once mended ("… BV. TAX INVOICE" for
    # "… B.V."), to find the names repeated in the imprint in
    mended = [
        [row.folded, *(fold(_clean_name(seg.text)) for seg in split_columns(row))] for row in head
    ] if repeated else []
    for printed, (name, order) in repeated.items():
        for i, row in enumerate(head):
            if any(fold(printed) in text for text in mended[i]) and (
                row.page, row.index
            ) not in buyer_rows:
                # (a word read with a quote-like speck before it, "“St.", is the name's all the same)
                seg_words = [w for w in row.words
                             if (word := fold(w.text.strip(_QUOTE_SPECKS))) and word in fold(printed)]
                candidates.append((0.74 - 0.005 * order, name, "repeated", seg_words, i))
                break
    limit = max(6, len(head) // 3)
    for i, row in enumerate(head[:limit]):
        if (row.page, row.index) in buyer_rows:
            continue
        for seg in split_columns(row):
            if not LEGAL_FORMS.search(seg.text) or BUYER_LABELS.search(seg.folded):
                continue
            name = _clean_name(_trim_at_legal_form(seg.text))
            if len(name) < 3 or len(name.split()) > 7 or LEGAL_FORMS.fullmatch(name):
                continue  # "SARL au capital de 10 000 €" under the name: a legal form is no name
            name = _with_wrapped_form(head, i, seg, name)
            repeats = names_seen.get(fold(name), 0)
            candidates.append(
                (0.62 + (0.08 if repeats > 1 else 0) - 0.01 * i, name, "legal_form", seg.words, i)
            )
    domains = _letterhead_domains(ctx, buyer_rows)
    if domains:
        for i, row in enumerate(head[:limit]):
            if (row.page, row.index) in buyer_rows:
                continue
            for seg in split_columns(row):
                name = _clean_name(_trim_at_legal_form(seg.text))
                if (
                    len(seg.words) <= 5
                    and not re.search(r"\d|@|www\.|\.(?:com|de|fr|nl)\b", name)
                    and not _ENDS_IN_STREET.search(name)
                    and _matches_domain(seg.words[0].text, domains)
                ):
                    extra = 0.01 * min(len(name.split()) - 1, 2)
                    candidates.append((0.72 + extra, name, "domain", seg.words, i))
        candidates = [
            (c[0] + (0.1 if _matches_domain(c[1], domains) else 0.0), *c[1:]) for c in candidates
        ]
    if not candidates:
        for i, row in enumerate(head[:3]):
            seg = split_columns(row)[0]
            if ":" in seg.text or TITLE_WORDS.match(seg.folded):
                continue  # "FACTURE N° : F2026…", "Invoice": a title or a label, not a name
            if sum(c.isalpha() for c in seg.text) >= 3:
                candidates.append((0.3, _clean_name(seg.text), "fallback", seg.words, i))
                break
    if not candidates:
        return {}
    score, name, method, words, i = max(candidates, key=lambda c: (c[0], -c[4]))
    if ctx.scanned:
        name = _spelling_most_rows_print(name, names_seen, spelled)
    agree = sum(1 for c in candidates if fold(c[1]) == fold(name) and c[2] != method)
    score += 0.05 * min(agree, 2)
    ocr = min((w.conf for w in words), default=1.0)
    fields = {
        "vendor_name": Field(
            name="vendor_name",
            value=name,
            raw=name,
            confidence=round(max(0.0, min(1.0, score * (0.35 + 0.65 * ocr))), 4),
            page=rows[i].page,
            box=union_box(words) if words else None,
            method=method,
        )
    }
    address = _vendor_address(ctx, i, words, sender, name)
    if address is not None:
        if ctx.scanned and isinstance(address.value, str):
            address = address.model_copy(update={"value": _surer_spellings(ctx, address.value)})
        fields["address"] = address
    return fields


_QUOTE_SPECKS = "“”‘’'\"«»_~|•"
"""Marks OCR reads for specks at a word's ends."""


def _surer_spellings(ctx: DocContext, address: str) -> str:
    """A scanned address with each word OCR read less surely than it read the same word
    printed again elsewhere on the page (the sender line's small print ``Frankfurter Rina
    150`` at 0.85 over the imprint's ``Frankfurter Ring 150`` at 0.96): a word of letters,
    four at least, a character away (two from seven letters on) from a word between the same
    neighbours on another row, read there with a higher confidence, takes that spelling."""
    words = [w for row in ctx.rows for w in row.words]
    conf: dict[str, float] = {}
    for w in words:
        conf[w.text] = max(conf.get(w.text, 0.0), w.conf)
    neighbours: dict[int, set[str]] = {}  # a word's id -> the words beside it on its row
    for row in ctx.rows:
        for k, w in enumerate(row.words):
            neighbours[id(w)] = {v.text for v in row.words[max(0, k - 1) : k + 2] if v is not w}
    out: list[str] = []
    for piece in address.split(", "):
        tokens = piece.split(" ")
        for k, token in enumerate(tokens):
            if not token.isalpha() or len(token) < 4 or token not in conf:
                continue
            beside = set(tokens[max(0, k - 1) : k + 2]) - {token}
            reach = 2 if len(token) >= 7 else 1
            surer = [
                w for w in words
                if w.text != token and w.text.isalpha() and w.conf > conf[token]
                and beside <= neighbours[id(w)]
                and Levenshtein.distance(w.text, token, score_cutoff=reach) <= reach
            ]
            if surer:
                tokens[k] = max(surer, key=lambda w: w.conf).text
        out.append(" ".join(tokens))
    return ", ".join(out)


SAME_NAME_MISREAD = 2
"""Characters two readings of one name may differ by (a ``g`` read ``a``: ``Loaistik``)."""


def _spelling_most_rows_print(name: str, names_seen: dict[str, int], spelled: dict[str, str]) -> str:
    """The seller's name as most rows of a scan print it: a name with a legal form that is
    ``name`` with a character or two read differently (the sender line's small print
    ``Hofmann Loaistik AG`` over an imprint that reads ``Hofmann Logistik AG`` twice) and
    that more rows print (``names_seen``, ``spelled`` as printed) than ``name``, two at
    least. Stops and dashes are left to the legal-form rules (``Ltd.`` and ``Ltd``)."""
    def rows_printing(key: str) -> int:  # also where more follows in the row's cell
        return sum(n for seen, n in names_seen.items() if seen == key or seen.startswith(key + " "))

    key = fold(name)
    best, best_rows = name, rows_printing(key)
    for folded in names_seen:  # a near spelling first, then how many rows print it
        if (
            len(folded.split()) == len(key.split())
            and re.sub(r"\W", "", folded) != re.sub(r"\W", "", key)  # not a stop or a dash
            and Levenshtein.distance(folded, key, score_cutoff=SAME_NAME_MISREAD) <= SAME_NAME_MISREAD
            and (rows := rows_printing(folded)) > max(best_rows, 1)
        ):
            best, best_rows = spelled[folded], rows
    return best


_ZIP_CITY = re.compile(
    r"^(?:(?P<cc>[A-Z]{1,2})[- ])?(?P<zip>\d{4,5}|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{3} ?\d{2})\s+"
    r"(?P<city>[^\d,]{2,}?)\s*$"
)
_UK_IE_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[AC-FHKNPRTV-Y]\d[\dW] ?[AC-FHKNPRTV-Y\d]{4})"
_CITY_POSTCODE = re.compile(rf"^(?P<city>[^\d,]{{2,}}?)\s+(?P<zip>{_UK_IE_POSTCODE})\s*$")
"""British and Irish addresses put the postcode after the town (``Cardiff CF10 2EE``,
``Galway H91 K2P0``)."""
_STREET = re.compile(
    r"\d|stra(?:ss|ß)e|str\.|weg\b|allee|platz|gasse|ring\b|rue|avenue|boulevard|chemin|"
    r"laan|straat|road|street|lane|\bave\b|\bpark\b|\bestate\b|\bdrive\b|\bway\b|\bquay\b|"
    r"\bsquare\b|\bcrescent\b|\bterrace\b|\bunit\b|\bvia\b|\bviale\b|\bzone\b",
    re.IGNORECASE,
)
_ENDS_IN_STREET = re.compile(
    r"\b(?:road|street|lane|avenue|drive|way|quay|square|crescent|terrace|close|place|"
    r"stra(?:ss|ß)e|weg|allee|platz|gasse|laan|straat|rue|chemin|boulevard|via|viale)\.?$",
    re.IGNORECASE,
)
"""A letterhead line ending in a kind of street is the sender's address, even when its first
word is the mail domain's (``Bramley Mill, Canal Road`` under ``… Ltd``, mail at
``bramley.example``)."""
_PLATE_CC = {"D": "DE", "F": "FR", "A": "AT", "B": "BE", "NL": "NL", "L": "LU", "CH": "CH"}


def _vat_country(ctx: DocContext) -> str | None:
    """The country of the page's first VAT id that passes its check digits, else of the first
    of the right shape, else of the first one (``DEMO 0000 1245 00`` in a bank line has a
    German id's prefix and no German id's shape); else the page's language's."""
    vats = sorted(find_vat_ids(ctx.text), key=lambda v: v[1])
    for good in (vat_check_passes, vat_shape_ok, lambda _v: True):
        vat = next((v for v, _, _ in vats if good(v)), None)
        if vat is not None:
            return vat[:2]
    return {"de": "DE", "fr": "FR", "nl": "NL"}.get(ctx.language)


_OCR_STRASSE = re.compile(r"(?<=[a-zäöü])stra[BRfks]e\b")
"""``LieferantenstraBe``, ``Hofstrafe``: Tesseract's English model reading "ß" in a street name."""
_UMLAUT_COUNTRIES = frozenset({"DE", "AT", "CH"})


def country_code(line: str) -> str | None:
    """The ISO code of a line that names a country, also with its capital I read as an l
    (``lreland``, ``ltaly``); None for any other line."""
    name = fold(line)
    return COUNTRIES.get(name) or (COUNTRIES.get("i" + name[1:]) if name[:1] == "l" else None)


_ADDRESS_SPECK = re.compile(r"(?<=\d)°|\s+[_\"“”|~*•°](?=\s|$)")
"""Specks OCR read in an address line: a word of one mark alone (``20123 Milano _ MI``,
``33602 Bielefeld "``), a degree sign after a number (``Spaldingstraße 64°``)."""
_COUNTRY_AFTER = re.compile(
    r"^(?P<line>.*\S)(?:\s+[:·|\-–]\s+|\.[.\-–]+\s+|\s+[“”\"«»])(?P<country>[^\W\d][^\d:·|]*)$"
)
"""A line that ends in a country after a separator (``50122 Firenze FI : Italy``), or after a
separator OCR read as a stop glued to the line and more (``Shannon V14 DR59.. Ireland``,
``DR59.- Ireland``) or as a quote glued to the country (``1017 KB Amsterdam “Netherlands``)."""
_EIRCODE_READ = re.compile(r"\b(?P<key>[AC-FHKNPRTV-Y]\d[\dW]) (?P<id>[A-Z\d]{5})(?=\W|$)")
_EIRCODE_LETTERS = re.compile(r"[^AC-FHKNPRTV-Y\d]")
"""An Eircode's unique part is four of these letters and digits: read with a fifth character,
one the code never uses (``V14 DRS59``: no Eircode holds an S), that one is a speck."""


def _eircode_healed(line: str) -> str:
    def heal(m: re.Match[str]) -> str:
        outside = _EIRCODE_LETTERS.findall(m["id"])
        if len(outside) != 1:
            return m.group(0)
        return f"{m['key']} {_EIRCODE_LETTERS.sub('', m['id'])}"

    return _EIRCODE_READ.sub(heal, line)


def format_address(parts: list[str], country_hint: str | None = None) -> str | None:
    """Address lines as "street, [more,] zip city, CC" (the e-invoice convention), else None.

    The block is cut to the lines from the street to the "zip city" line; a country printed on
    the next line, or a "DE-" / "D-" prefix on the postcode, gives the country code, else the
    seller's VAT id prefix does.
    """
    lines: list[str] = []
    parts = [_eircode_healed(_ADDRESS_SPECK.sub("", _OCR_STRASSE.sub("straße", p))) for p in parts]
    for part in parts:  # "Lilienthalallee 26, 80786 München" on one line
        pieces = re.split(
            rf",\s*(?=(?:[A-Z]{{1,2}}-)?\d{{4,5}}\s+\D|[^\d,]{{2,}}?\s+{_UK_IE_POSTCODE}\s*$)", part
        )
        if (after := _COUNTRY_AFTER.match(pieces[-1])) and country_code(after["country"]):
            pieces[-1:] = [after["line"], after["country"]]  # "50122 Firenze FI : Italy"
        # a stop set apart at a line's end is a speck (``17 Cheapside .``)
        lines.extend(re.sub(r"\s+[.,]+$", "", _clean_name(p)) for p in pieces if _clean_name(p))
    zip_at = next(
        (i for i, line in enumerate(lines) if _ZIP_CITY.match(line) or _CITY_POSTCODE.match(line)),
        None,
    )
    if zip_at is None or zip_at == 0:
        return None
    m = _ZIP_CITY.match(lines[zip_at])
    town = f"{m.group('zip')} {m.group('city').strip()}" if m else lines[zip_at]
    street_at = max(
        (i for i in range(zip_at) if _STREET.search(lines[i]) and not LEGAL_FORMS.search(lines[i])),
        default=None,
    )
    if street_at is None:
        return None
    while street_at > 0 and _STREET.search(lines[street_at - 1]) and not LEGAL_FORMS.search(
        lines[street_at - 1]
    ):
        street_at -= 1  # "Unit 12 / Marina Commercial Park / Centre Park Road": all of it
    cc = m.group("cc") if m else None
    country = _PLATE_CC.get(cc, cc) if cc else None
    if zip_at + 1 < len(lines) and (named := country_code(lines[zip_at + 1])):
        country = named
    country = country or country_hint
    pieces = [*lines[street_at:zip_at], town]
    if country in _UMLAUT_COUNTRIES:
        # ``Miinchen``: the English model's ü, which German words do not hold
        pieces = [ENGLISH_U_UMLAUT.sub("ü", p) for p in pieces]
    if country == "IT":
        # the province after an Italian town is two capitals: ``Firenze Fl`` is Florence's FI
        pieces[-1] = re.sub(r"(?<=\s[A-Z])[l1|]$", "I", pieces[-1])
    if country:
        pieces.append(country)
    return ", ".join(pieces)


def _street_first(parts: list[str]) -> bool:
    """Whether a one-line sender address starts with the street, not the sender's name
    (``Via Marconi 112 · 40122 Bologna BO · Italy · VAT …``)."""
    return bool(_STREET.search(parts[0])) and not LEGAL_FORMS.search(parts[0])


def _sender_address(
    sender: tuple[int, Row, list[str]] | None, i: int, name: str
) -> tuple[list[str], list[Word]] | None:
    """The seller's address from the one-line sender address, when that line is the seller's
    (on the name's row, headed by the name, or under the letterhead starting with the street)."""
    if sender is None:
        return None
    row_no, row, pieces = sender
    after_name = [p for p in pieces[1:] if not CONTACT.search(fold(p))]
    if row_no == i or (
        fold(_clean_name(pieces[0])) == fold(name) and format_address(after_name) is not None
    ):
        return after_name, row.words
    whole = [p for p in pieces if not CONTACT.search(fold(p))]
    if row_no > i and _street_first(pieces) and format_address(whole) is not None:
        return whole, row.words
    return None


_DIGITS_ONLY = re.compile(r"\+?\(?\d[\d\s()./-]{6,}\d")
"""A line of nothing but digits and separators: a telephone number (``(512) 555-0142``), a date
(``15-10-2015``), a reference. Under a seller's name it means the address has ended. (The
receipt reader's ``PHONE_ONLY`` is the stricter telephone shape, which it steps over.)"""


def _vendor_address(
    ctx: DocContext,
    i: int,
    name_words: list[Word],
    sender: tuple[int, Row, list[str]] | None,
    name: str = "",
) -> Field | None:
    parts: list[str] = []
    words_used: list[Word] = []
    from_sender = _sender_address(sender, i, name)
    if from_sender is not None:
        parts, words_used = from_sender
    elif name_words:
        x0 = min(w.box[0] for w in name_words)
        x1 = max(w.box[2] for w in name_words)
        far = x0 + 120 * _pt(ctx, ctx.rows[i].page)
        for nxt, words in below_words(ctx.rows, i, x0, max(x1, far), max_rows=6):
            seg = split_columns(make_row(nxt.page, nxt.index, words))[0]
            if seg.words and min(w.box[0] for w in seg.words) > x1:
                continue  # nothing under the name: print of the header's other column
            if (
                CONTACT.search(seg.folded)
                or not seg.text.strip()
                or _DIGITS_ONLY.fullmatch(seg.text.strip())
                or BUYER_LABELS.match(seg.folded)
                or find_vat_ids(seg.text)
            ):
                break
            if not parts and fold(_clean_name(seg.text)) == fold(name):
                continue  # the name under a "Seller:" label the search started from
            parts.append(seg.text)
            words_used.extend(seg.words)
    parts = [p for p in parts if p.strip()]
    if not parts:
        return None
    value = format_address(parts, country_hint=_vat_country(ctx))
    method = "below_name+zip" if value is not None else "below_name"
    if value is None:
        # a line of specks alone (``|`` under the name, beside a page number) cleans to nothing
        value = ", ".join(kept for p in parts if (kept := country_code(p) or _clean_name(p)))
        if not value:
            return None
    ocr = min((w.conf for w in words_used), default=1.0)
    return Field(
        name="address",
        value=value,
        raw=" / ".join(parts),
        confidence=round(0.45 * (0.35 + 0.65 * ocr), 4),
        page=ctx.rows[i].page if ctx.rows else None,
        box=union_box(words_used) if words_used else None,
        method=method,
    )


# ------------------------------------------------------------------------------- line items

_COLUMN_HEADS = _re(
    r"(?P<amount>line\s*amount|zeilenbetrag|pos(?:itions)?-?\s*betrag|\bpositions\b|gesamtpreis|"
    r"gesamtbetrag|nettobetrag|nettowert|total\s*(?:ht|net|excl\S*)|montant\s*(?:ht|ttc)?|"
    r"amount|\bbetrag|bedrag|\btotal|totaal|\bsumme|\bgesamt|incl\.?\s*btw|warto[sś][cć¢]|"
    r"\bbelopp|\bimporte|\bimporto|\bvalor\b|\bnet\b(?!\s*(?:price|unit))|\bgross\b)|"
    r"(?P<unit_price>unit\s*price|nettopreis|einzelpreis|st(?:u|ue)ckpreis|vk-?preis|\bpreis|"
    r"price|prijs|prix(?:\s*unitaire)?(?:\s*ht)?|\bp\.?\s?u\.?(?:\s*ht)?\b|tarif|\brate\b|"
    r"\bcena\b(?:\s*(?:jedn\.?|netto))?|a-?pris|\bpris\b|pre[cç]o(?:\s*unit\.?(?:ario)?)?|"
    r"precio(?:\s*unit\.?(?:ario)?)?|prezzo(?:\s*unit\.?(?:ario)?)?)|"
    r"(?P<quantity>(?<![\w@])[qo0@]ty\b|quantity|quantit[eé]|\bmenge|anzahl|aantal|\bqt[eé]\b|\bpcs\b|"
    r"\bnights?\b|\bhours\b|\bhrs\b|[il1]lo[sś][cć¢]|\bantal\b|\bqtd\b\.?|cantidad|quantit[aà]|"
    r"\bq\.?t[aà]\b)|"
    r"(?P<description>artikelbeschreibung|beschreibung|bezeichnung|description|d[eé]signation|"
    r"omschrijving|product(?:\s*title)?|\bitem\b|\btem\b(?=\s*\W?\s*description)|leistung|libell[eé]|\barticle\b|\bartikel\b|"
    r"\bnazwa\b(?:\s*towaru)?|beskrivning|descri[cçg][aã]o|descripci[oó]n|descrizione)|"
    r"(?P<other>\bpos\b\.?|\bno\b\.?|\bnr\b\.?|\blp\b\.?|\bj\.\s?m\.|art\.?-?\s*nr\S*|referenz\w*|r[eé]f[eé]rence|"
    r"\bref\b\.?|\bsku\b|einheit|\bunit\b|"
    r"\bdate\b|datum|steuersatz|(?:ust|mwst|vat|tva|btw|tax)\.?(?:\s*%)?|%|gtin|\(art\))"
)
_ITEM_KINDS = ("description", "quantity", "unit_price", "amount")
_NOTE_LABEL = re.compile(r"^[•·\-\s]*[^\W\d][\w\-./ ]{1,30}?\s?:(?!\d{2})")
_QTY = re.compile(r"^-?\d{1,6}(?:[.,]\d{1,4})?$")
_CARRIED = _re(r"ue?bertrag|carried\s*forward|brought\s*forward|a\s*reporter")
"""The running sum a long item table carries from one page to the next ("Übertrag"); it ends
the items of one page and stands above those of the next."""
_ITEMS_END = _re(
    r"sub\s*-?\s*total|\btotal\b|\btotaal\b|zwischensumme|rechnungssumme|positionssumme|"
    r"\bsumme\b|montant\s*total|net\s*a\s*payer|^zzgl\b|"
    + _CARRIED.pattern + "|" + TOTAL_LABELS[0][0].pattern + "|" + SUBTOTAL_LABELS[0][0].pattern
)


@dataclass
class _Column:
    kind: str
    x0: float
    x1: float
    generic: bool = False
    """A description head that may as well name a code column (``Item``, ``Artikel``)."""
    under_code: bool = False
    """A description head printed under a code's head (``Art-Nr`` over ``Artikelbezeichnung``):
    each item is a row of codes and numbers with its description on the line under it."""


_GENERIC_DESCRIPTION = _re(r"^(?:i?tem|article|artikel|product)$")
"""A head over item codes, beside the description's own (``Item``, or ``tem`` with the I lost
before ``Description``)."""


def _header_cells(row: Row) -> list[_Column]:
    """Column heads on one row; a head takes in the unmatched words right after it
    (``Line Amount Excl. VAT`` is one column). Read-only: the list is kept on the row."""
    return row.heads


def _find_header_cells(row: Row) -> list[_Column]:
    cells: list[_Column] = []
    prev_end = 0
    for m in _COLUMN_HEADS.finditer(row.folded):
        words = row.words_in(m.start(), m.end())
        if not words:
            continue
        kind = m.lastgroup or "other"
        if cells and re.fullmatch(r"\s*(?:/|&|\+|und|and|et|en)\s*", row.folded[prev_end : m.start()]):
            cells[-1].x1 = max(cells[-1].x1, words[-1].box[2])  # "Beschreibung / Preis": one head
            prev_end = m.end()
            continue
        prev_end = m.end()
        if (
            cells
            and ((cells[-1].kind != "other" and kind == "other") or kind == cells[-1].kind == "description")
            and words[0].box[0] - cells[-1].x1 <= _word_spacing(row.height)
        ):
            # "Amount Excl. VAT", "Item Description": one head
            cells[-1].x1 = max(cells[-1].x1, words[-1].box[2])
            cells[-1].generic &= kind == "other"
            continue
        generic = kind == "description" and bool(_GENERIC_DESCRIPTION.match(m.group().strip()))
        cells.append(_Column(kind, words[0].box[0], words[-1].box[2], generic))
        # stretch over the head's own unmatched words ("Amount Excl.")
        for w in row.after(m.end()):
            if w.box[0] - cells[-1].x1 > _word_spacing(row.height) or _COLUMN_HEADS.match(
                fold(w.text)
            ):
                break
            cells[-1].x1 = w.box[2]
    return _unread_head_first(row, cells)


def _unread_head_first(row: Row, cells: list[_Column]) -> list[_Column]:
    """A head OCR did not read, printed left of the first one read (``wich`` for ``ITEM``, over
    item codes, left of ``DESCRIPTION``): a column of its own when a column's gap parts it from
    the first head, so the codes under it stay out of the description."""
    if not cells or cells[0].kind != "description":
        return cells
    left = [
        w for w in row.words
        if w.box[2] < cells[0].x0 - _column_gap(row.height) and sum(c.isalpha() for c in w.text) >= 3
    ]
    if not left:
        return cells
    return [_Column("other", left[0].box[0], left[-1].box[2]), *cells]


def _merge_columns(cells: list[_Column]) -> list[_Column]:
    """Heads from stacked header rows: overlapping ones are one column (a named kind wins)."""
    out: list[_Column] = []
    for cell in sorted(cells, key=lambda c: c.x0):
        prev = out[-1] if out else None
        if prev is not None and cell.x0 < prev.x1 - 1:
            if prev.kind == "other" or (cell.kind != "other" and cell.kind == prev.kind):
                prev.kind = cell.kind if cell.kind != "other" else prev.kind
                prev.generic = prev.generic and cell.generic
            prev.x0, prev.x1 = min(prev.x0, cell.x0), max(prev.x1, cell.x1)
        else:
            out.append(_Column(cell.kind, cell.x0, cell.x1, cell.generic))
    return out


_HOLDS_VALUE = re.compile(r"\d{3}|:\s*\S")
"""A row with a number of three digits or more, or a label followed by its value, states a
value: it is no column head stacked over or under an item table's heads."""


def _item_header(rows: list[Row], i: int, parse: Parser) -> tuple[list[_Column], list[int]] | None:
    """The columns of an item table whose header includes row ``i``, and the header's rows."""
    kinds = {c.kind for c in _header_cells(rows[i])}
    if len(kinds & set(_ITEM_KINDS)) < 2 or parse(rows[i].text):
        return None
    row = rows[i]
    block = [i]
    reach = 1.8 * max(row.height, 1.0)
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(rows) and abs(j - i) <= 4:
            near = rows[block[0] if step < 0 else block[-1]]
            other = rows[j]
            gap = other.box[1] - near.box[3] if step > 0 else near.box[1] - other.box[3]
            if other.page != row.page or (abs(other.box[1] - near.box[1]) > reach
                                          and gap > 0.8 * max(row.height, 1.0)):
                break  # (OCR rows are tall: two lines of heads may lie wider apart than that)
            if parse(other.text):
                break
            if _header_cells(other):  # rows without a head (margin print) are stepped over
                if _HOLDS_VALUE.search(other.text):
                    break  # "Kunden-Nr.: 009420" above the heads is a field, not a head
                if step < 0:
                    block.insert(0, j)
                else:
                    block.append(j)
            j += step
    columns = _merge_columns([c for k in block for c in _header_cells(rows[k])])
    kinds = {c.kind for c in columns}
    if "description" not in kinds and "amount" in kinds and kinds & {"quantity", "unit_price"}:
        # "Qty  Unit Price  Amount" with the description's head unread (``Descript eee`` on a
        # shaded band): the description is what stands left of the first head
        gap = _column_gap(row.height)
        first = min(c.x0 for c in columns if c.kind in _ITEM_KINDS)
        start = max((c.x1 + gap for c in columns if c.x1 <= first), default=0.0)
        if start < first - gap:
            columns = sorted([*columns, _Column("description", start, first - gap)],
                             key=lambda c: c.x0)
            kinds.add("description")
    if not {"description", "amount"} <= kinds or not kinds & {"quantity", "unit_price"}:
        return None
    for column in columns:
        if column.kind == "description":
            column.under_code = _under_code([_header_cells(rows[k]) for k in block], column)
    return columns, block


def _under_code(stacked: list[list[_Column]], column: _Column) -> bool:
    """Whether the description heads within ``column`` are all printed on a lower header row
    than a code's head over the same place (``Art-Nr-Lieferant`` over ``Artikelbezeichnung``)."""

    def within(cell: _Column) -> bool:
        return cell.x0 < column.x1 and column.x0 < cell.x1

    described = [n for n, cells in enumerate(stacked)
                 if any(c.kind == "description" and within(c) for c in cells)]
    coded = [n for n, cells in enumerate(stacked)
             if any(c.kind == "other" and within(c) for c in cells)]
    return bool(described and coded) and max(coded) < min(described)


_NUMERIC_WORD = re.compile(
    r"^(?=\D*\d)(?:[\"“”‘’*~°«]?[-+]?[$€£¥₹]?[\d.,'\s]+[)%€$£]?\.?$|\([\d.,']+\)$|\d{8,14}[^\W\d])"
)
"""A number placed by its centre, with its currency sign (``$1,188.00``, right-aligned, starts
left of its head); ``(100`` opens a note in a description (``(100 St.)``). A speck OCR read as
``.`` or ``,`` holds no digit and is no number; one read as a quote, star, tilde or degree sign
before a number or a full stop after it (``"£38.56``, ``*5,140.00``, ``£33.60.``) leaves it a
number."""


def _garbled_amount(text: str) -> bool:
    """Whether a word is an amount OCR garbled at its start (``O0;019.12`` for 35,679.72):
    it ends in a number with cents and holds more digits than letters."""
    return bool(re.search(r"\d[.,]\d\d$", text)) and (
        sum(c.isdigit() for c in text) > sum(c.isalpha() for c in text)
    )


def _column_of(columns: list[_Column], word: Word) -> _Column:
    """Numbers sit under their head by their centre (they are right-aligned or centred), text
    by its left edge (a wide reference number must not spill into the next column); so does
    an amount whose start OCR garbled into letters and signs."""
    if _NUMERIC_WORD.match(word.text) or _garbled_amount(word.text):
        return _column_by_centre(columns, word)
    pick = columns[0]
    slack = 0.75 * (word.box[3] - word.box[1])  # OCR boxes start a little off the head's edge
    x0 = word.box[0]
    if len(word.text) > 2 and word.text[0] in "\"'“”‘’„‚_~":
        # a speck read as a quote before the word ("Office): the word starts a glyph later,
        # or further right where the speck lay apart (``"Copper`` boxed from 90 px left of
        # its C): it belongs to the column its centre is in at the latest
        glyph = (word.box[2] - word.box[0]) / len(word.text)
        x0 = max(x0 + glyph, (word.box[0] + word.box[2]) / 2 - slack)
    for col in columns:
        if col.x0 <= x0 + slack:
            pick = col
    return pick


def _column_by_centre(columns: list[_Column], word: Word) -> _Column:
    """The column a word's centre falls in (boundaries halfway between neighbouring heads)."""
    centre = (word.box[0] + word.box[2]) / 2
    for left, right in itertools.pairwise(columns):
        if centre < (left.x1 + right.x0) / 2:
            return left
    return columns[-1]


def _word_spacing(height: float) -> float:
    """The widest gap between two words of one phrase on a row ``height`` tall; columns lie
    further apart."""
    return 0.6 * max(height, 1.0)


def _column_gap(height: float) -> float:
    """A gap wider than this on a row ``height`` tall parts two columns' cells (a phrase's
    words stand within ``_word_spacing``)."""
    return 2 * max(height, 1.0)


def _row_columns(columns: list[_Column], row: Row, desc_col: _Column) -> list[_Column]:
    """The column of each word of an item row. Numbers printed at word spacing after a
    description's words stay in the description, though their centre may reach the next
    column's half, when the phrase goes on after them (``LED panel 600 x 600 mm, 36 W,
    4000 K``) or the column they reach has its own value further right (``reel of 4000``
    followed by the quantity ``10``)."""
    cols = [_column_of(columns, w) for w in row.words]
    words = row.words
    spacing = _word_spacing(row.height)
    k = 1
    while k < len(cols) - 1:
        if cols[k - 1] is not desc_col or cols[k] is desc_col:
            k += 1
            continue
        end = k  # a run of numbers after a description word, each at word spacing
        while (end < len(cols) and cols[end] is not desc_col
               and _NUMERIC_WORD.match(words[end].text)
               and words[end].box[0] - words[end - 1].box[2] <= spacing):
            end += 1
        if end > k and end < len(cols) and (
            (cols[end] is desc_col and words[end].box[0] - words[end - 1].box[2] <= spacing)
            or cols[end] is cols[end - 1]
        ):
            cols[k:end] = [desc_col] * (end - k)
        k = end + 1
    return cols


_SPECK = r"[.,:;_~'\"‘’“”=|*?!«»•·©°&+\-—–]+"
_SPECK_WORDS = re.compile(rf"^(?:{_SPECK}\s+)+|(?:\s+{_SPECK})+$")
"""Specks OCR reads as words of their own (``.``, ``:``, ``_``, ``&``, ``+``) at either end
of a description on a scanned page (an ampersand ends no description: its next line would
follow it; ``+ FUEL-D Diesel fuel`` hid the article code from ``_ITEM_CODE``)."""


_OCR_SQUARE = re.compile(r"(?<![^\s\d/])(per(?=[cdkm]?m\?)|)([cdkm]?m)\?(?=[\s,.;:)]|$)")
"""``m²`` as Tesseract's English model reads it (``per m?``, ``2 m?``; ``perm?`` with the
space lost too): it has no ``²``."""


def _square(m: re.Match[str]) -> str:
    """``m²`` for an ``_OCR_SQUARE`` match (``per m²`` for ``perm?``)."""
    return f"{m.group(1)} {m.group(2)}²" if m.group(1) else f"{m.group(2)}²"


def _without_stray_words(words: list[Word], height: float) -> list[Word]:
    """A scanned description without the noise OCR read far right of its last word, before
    the next column (``… 4000 K      ee``, ``per litre      i``): words after a gap of more
    than two row heights that Tesseract was unsure of or that hold fewer than three letters
    or digits. A number there stays (it may be the quantity of a table whose head did not
    read)."""
    keep = list(words)
    while (
        len(keep) > 1
        and keep[-1].box[0] - keep[-2].box[2] > _column_gap(height)
        and not _NUMERIC_WORD.match(keep[-1].text)
        and (keep[-1].conf < 0.5 or sum(c.isalnum() for c in keep[-1].text) < 3)
    ):
        keep.pop()
    return keep


def _without_rules(rows: Iterable[Row], height: float) -> Iterator[Row]:
    """Scanned table rows without the rules and specks between them that OCR read as letters
    (``ee``, ``ao``, ``is``: words 2-6 px tall, under a quarter of the heads' height); a row
    of nothing else is left out (it would end the table: the next row lies more than five of
    its heights below it). Lazily: the table stops reading rows where it ends."""
    for row in rows:
        words = [w for w in row.words if not _is_flat(w, 0.25 * height)]
        if len(words) == len(row.words):
            yield row
        elif words:
            yield make_row(row.page, row.index, words)


def _knit_split_rows(rows: Iterable[Row]) -> Iterator[Row]:
    """Item rows OCR read as two: the words of one printed row boxed a little higher or lower
    (a descender, a speck) land on a row of their own just above or below the rest
    (``back 100 392.53 39,253.00`` over ``Ergonomic office chair, mesh``). A row that shares
    at least half its height with the one before and fills only its gaps (no word of one lies
    over a word of the other) is part of it; a description's second line lies under the first
    one's words. Lazily, one row behind."""
    prev: Row | None = None
    for row in rows:
        if (
            prev is not None
            and row.page == prev.page
            and min(row.box[3], prev.box[3]) - max(row.box[1], prev.box[1])
            >= 0.5 * min(row.box[3] - row.box[1], prev.box[3] - prev.box[1])
            and not any(a.box[0] < b.box[2] and b.box[0] < a.box[2]
                        for a in prev.words for b in row.words)
        ):
            prev = make_row(prev.page, prev.index, sorted([*prev.words, *row.words],
                                                          key=lambda w: w.box[0]))
            continue
        if prev is not None:
            yield prev
        prev = row
    if prev is not None:
        yield prev


def _without_specks(text: str) -> str:
    """An OCR'd description without the specks read at its ends: words of punctuation
    alone, an underscore, a dash or a stop glued to the first word (``-Office cleaning``,
    ``.Consulting``), a colon
    glued to the last (``monthly contract:``), a stop after a whole word or a unit, an l read
    as ``!`` (``alcoho!``), an opening
    quote never closed, a closing one never opened (``monthly contract»``)."""
    text = _SPECK_WORDS.sub("", text.strip()).lstrip("_ ")
    text = re.sub(r"^[-.,](?=[A-Z][a-z])", "", text)  # "-Office", ".Consulting"
    text = re.sub(r"(?<=[^\W\d])[:;]$", "", text)  # "monthly contract:": no label ends an item
    # an l read as "!" at a word's end (``alcoho!``, ``Stee!``), or a speck read as one after it
    # (``Isopropyl!``): no item description exclaims
    text = re.sub(r"(?<=[a-z])l?!(?=[\s,.;:]|$)", "l", text)
    # a stop after a whole word (``heat treated.``) or a unit after its number (``4000 K.``)
    # ending it: no item ends a sentence (an abbreviation is shorter: ``incl.``, ``etc.``)
    text = re.sub(r"(?:(?<=[a-z]{5})|(?<=\d [A-Za-z]))\.$", "", text)
    if _never_closed(text):
        text = text[1:]
    if "‘" not in text:  # "per metre’": a word's apostrophe at its end follows an s (workers’)
        text = re.sub(r"(?<=[^\Wsz])’$", "", text)
    if text[-1:] in _OPENED_BY and text.count(text[-1]) > sum(
        text.count(mark) for mark in _OPENED_BY[text[-1]]
    ):
        text = text[:-1]
    return text


_CLOSED_BY = {"“": "”", "‘": "’", "‚": "‘’", "„": "“”", '"': '"', "(": ")"}
"""Opening quotes (English, and German low ones) and brackets with the marks that close them:
a description that opens one and never closes it had a speck read as the quote or the
bracket (``‚Copper cable``, ``(Enterprise licence``)."""


def _never_closed(text: str) -> bool:
    """Whether ``text`` opens with a quote (``_CLOSED_BY``) that nothing after it closes."""
    return text[:1] in _CLOSED_BY and not any(mark in text[1:] for mark in _CLOSED_BY[text[0]])


_OPENED_BY = {"»": "«", "”": "“„"}
"""Closing quotes with the marks that open them: a description ending in one more than were
opened had a speck read as it (an apostrophe ``’`` may end a word)."""


def _description_number(desc_words: list[Word], qty_words: list[Word], height: float) -> Word | None:
    """The quantity cell's only number when it is printed at word spacing right after the
    description's last word (it may be the end of the description)."""
    numbers = [w for w in qty_words if _number_of(w.text)]
    if len(numbers) != 1 or not desc_words:
        return None
    gap = numbers[0].box[0] - desc_words[-1].box[2]
    return numbers[0] if 0 <= gap <= _word_spacing(height) else None


_QTY_UNIT = re.compile(r"^(-?\d{1,6}(?:[.,]\d{1,4})?)[^\W\d_]{1,4}[23]?\.?$")
"""A quantity with its unit printed against it (``1ea``, ``6m2``, ``50Stk``, ``1,5m``)."""


def _number_of(text: str) -> str | None:
    text = text.strip()
    if (glued := _QTY_UNIT.match(text)) is not None:
        text = glued.group(1)
    if not _QTY.match(text):
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return text


def _colon_as_mark(text: str, ocr: bool) -> str:
    """A scanned number with its decimal mark read as a colon (``2:25``) as a number; any
    other text as it is."""
    return text.replace(":", ".") if ocr and re.fullmatch(r"\d+:\d{1,2}", text) else text


def _cell_texts(words: list[Word]) -> list[str]:
    """The words of one cell, read one by one (``1 180,00`` is a quantity and a price), except
    a number OCR split at its decimal mark (``100, 0000``)."""
    out: list[str] = []
    for w in words:
        if out and re.search(r"\d[.,]$", out[-1]) and re.fullmatch(r"\d{2,4}\b.*", w.text):
            out[-1] += w.text
        else:
            out.append(w.text)
    return out


HALF_CENT = Decimal("0.005")


def _gives(quantity: Decimal, unit: Decimal, amount: Decimal) -> bool:
    """Whether quantity x unit price, rounded to the cent, is the amount."""
    return abs(quantity * unit - amount) <= HALF_CENT


def _whole_quantity(amount: object, unit: Decimal) -> str | None:
    """The quantity of an item row whose printed quantity was not read, when its amount is a
    whole multiple of its unit price (amount = quantity x price), else None."""
    if not isinstance(amount, Decimal):
        return None
    quantity = amount / unit
    whole = quantity.to_integral_value()
    if whole <= 0 or not _gives(whole, unit, amount):
        return None
    return str(int(whole))


def _derived_quantity(amount: object, unit: Decimal) -> str | None:
    """The quantity of an item row whose printed quantity was not read: amount / unit price,
    when that is a whole number or, for a price of at least 1 (so that no neighbouring
    quantity gives the same amount), a number of hundredths (``10.92 / 7.28`` is ``1.5``)."""
    whole = _whole_quantity(amount, unit)
    if whole is not None or not isinstance(amount, Decimal) or unit < 1:
        return whole
    quantity = (amount / unit).quantize(CENT)
    if quantity <= 0 or not _gives(quantity, unit, amount):
        return None
    return f"{quantity.normalize():f}"


def _misread_quantity(qty: str, amount: object, unit: Decimal) -> str | None:
    """The quantity of an item row whose printed quantity OCR read with its decimal mark lost
    (``7.5`` as ``75``) or taken for a digit (``12.75`` as ``12075``), or with a unit glued to
    it taken for a ``1`` (``24l`` as ``241``, ``0,5l`` as ``0.51``): the one such reading
    that gives the amount with the unit price, when the quantity as read does not; else None."""
    if not isinstance(amount, Decimal) or _gives(Decimal(qty), unit, amount):
        return None
    sign, text = ("-", qty[1:]) if qty.startswith("-") else ("", qty)
    candidates = [text[:-1].rstrip(".")] if len(text) > 1 and text.endswith("1") else []
    if "." not in text:
        candidates += [text[:k] + "." + text[k:] for k in range(1, len(text))]
        candidates += [text[:k] + "." + text[k + 1 :] for k in range(1, len(text) - 1)]
    found = {
        Decimal(c): c for c in candidates
        if c and _gives(Decimal(sign + c), unit, amount)
    }
    return sign + next(iter(found.values())) if len(found) == 1 else None


def _unit_read_as_one(qty: str, amount: object, unit: Decimal) -> str | None:
    """The quantity of a scanned item row whose unit OCR glued to it as a ``1`` where the
    quantity as read still rounds to the amount (``0,75l`` at 1.00 read ``0.751``, which
    ``_misread_quantity`` leaves): the quantity less that last ``1``, when it gives the amount
    exactly and the quantity as read gives it only once rounded; else None."""
    if not isinstance(amount, Decimal) or not re.fullmatch(r"\d+\.\d{2,}1", qty):
        return None
    shorter = qty[:-1]
    if Decimal(shorter) * unit == amount != Decimal(qty) * unit:
        return shorter
    return None


def _speck_quantity(qty: str, amount: object, unit: Decimal) -> str | None:
    """The whole quantity of a scanned item row read with a speck before it taken for a digit
    (``412`` for 12) or with one digit misread (``4`` for 1): amount / price, when that is
    the digits read less the first, or the digits read with one changed, and the quantity as
    read does not give the amount; else None."""
    whole = _whole_quantity(amount, unit)
    if whole is None or _gives(Decimal(qty), unit, amount) or not qty.isdigit():  # type: ignore[arg-type]
        return None
    if len(qty) > 1 and qty[1:] == whole:
        return whole
    return whole if _one_digit_off(qty, whole) else None


def _unheaded_quantity(words: list[Word], amount: object, unit: Decimal) -> Word | None:
    """The quantity of an item row in a table whose quantity head did not read (a dark header
    bar): the one number printed between the description and the unit price that gives the
    amount with the price (``Diesel fuel 0.75 £1.00 £0.75``); else None."""
    if not isinstance(amount, Decimal):
        return None
    found = [
        w for w in words
        if (q := _number_of(w.text)) is not None and Decimal(q) != 0 and Decimal(q) != unit
        and _gives(Decimal(q), unit, abs(amount))
    ]
    return found[0] if len(found) == 1 else None


def _misread_price(qty: str, unit: Decimal, amount: object) -> Decimal | None:
    """The unit price of an item row that OCR read with one digit wrong or lost (``£1 05`` as
    1.00, ``26,367.54`` as ``2,367.54``): the one price a cent either side of amount /
    quantity that gives the amount and differs from the price read in that digit; else
    None (also when the row's arithmetic holds as read)."""
    quantity = Decimal(qty)
    if not isinstance(amount, Decimal) or quantity == 0:
        return None
    if _gives(quantity, unit, amount):
        return None
    centre = (amount / quantity).quantize(CENT)
    read = f"{abs(unit):.2f}".replace(".", "")
    found = [
        price for price in (centre - CENT, centre, centre + CENT)
        if price > 0 and _gives(quantity, price, amount)
        and _one_digit_off(read, f"{price:.2f}".replace(".", ""))
    ]
    return found[0] if len(found) == 1 else None


def _read_apart(cell: list[Word], parse: Parser) -> list[Decimal]:
    """A cell's last two words as one number, when OCR read a mark inside it as a space: its
    thousands separator (``€27 307.98``: ``€27`` and ``307.98``, which the cell reads word by
    word), the number the parser reads across both, as it reads a space between groups of
    thousands, or with the separator read against one of the words (``€31 ,750.63``); or its
    decimal mark before the cents (``229,451 04`` for 229,451.04), the two words joined by
    either mark. The readings that span both words, for the row's arithmetic to choose from;
    none when the cell holds one word."""
    texts = _cell_texts(cell)
    if len(texts) < 2:
        return []
    head, tail = texts[-2], texts[-1]
    joins = [" ", *(".," if re.fullmatch(r"\d{2}", tail) else "")]
    if tail[:1] in ".," or head[-1:] in ".,":
        joins.append("")  # "€31 ,750.63": the separator read with the second word
    out: list[Decimal] = []
    for mark in joins:
        found = [(v, start, end) for v, start, end in parse(f"{head}{mark}{tail}")
                 if isinstance(v, Decimal)]
        if len(found) == 1 and found[0][1] < len(head) < found[0][2] and found[0][0] not in out:
            out.append(found[0][0])
    return out


def _price_read_apart(
    qty: str, unit: Decimal, amount: object, cell: list[Word], parse: Parser
) -> Decimal | None:
    """The unit price of a scanned item row whose thousands separator or decimal mark OCR
    read as a space (``£47 284.73`` for £47,284.73, taken as 284.73): the two numbers as one,
    when that gives the amount with the quantity and the price as read does not; else None."""
    quantity = Decimal(qty)
    if not isinstance(amount, Decimal) or quantity == 0 or _gives(quantity, unit, amount):
        return None
    return next((v for v in _read_apart(cell, parse) if _gives(quantity, v, amount)), None)


def _amount_read_apart(
    cell: list[Word], qty: str | None, prices: list[object], parse: Parser
) -> Decimal | None:
    """The amount of a scanned item row whose thousands separator or decimal mark OCR read as
    a space (``€1 057.00``, taken as 57.00; ``229,451 04``): the two numbers as one, when that
    is the quantity × the unit price; else None."""
    if qty is None or not prices or not isinstance(prices[-1], Decimal):
        return None
    unit = prices[-1]
    return next((v for v in _read_apart(cell, parse) if _gives(Decimal(qty), unit, v)), None)


def _one_digit_off(read: str, printed: str) -> bool:
    """Whether ``read`` is ``printed`` with one digit misread or left out."""
    if len(read) == len(printed):
        return sum(a != b for a, b in zip(read, printed, strict=True)) == 1
    return len(printed) == len(read) + 1 and any(
        printed[:k] + printed[k + 1 :] == read for k in range(len(printed))
    )


GARBLED = "garbled_amount"
"""Key of a scanned item row's amount as read when OCR garbled it (``€7.A7``), until the
printed sums give it (``_amount_from_sums``); no item keeps it."""
_GARBLED_MONEY = re.compile(r"[\dA-Za-z]{1,3}(?:[.,][\dA-Za-z]{3})*[.,][\dA-Za-z]{2}")


def _garbled_amount_read(cell: list[Word]) -> str | None:
    """The amount cell's word when it is shaped as money (groups of three, a mark, two
    places) but OCR read letters among its digits (``€7.A7`` for €7.17, ``1,2A4.50``):
    at least one letter and two digits; else None."""
    words = [w.text.lstrip("€$£¥") for w in cell if any(c.isdigit() for c in w.text)]
    if len(words) != 1 or not _GARBLED_MONEY.fullmatch(words[0]):
        return None
    read = words[0]
    if not any(c.isalpha() for c in read) or sum(c.isdigit() for c in read) < 2:
        return None
    return read


def _fits_read(read: str, amount: Decimal) -> bool:
    """Whether ``amount`` printed (with or without separators of thousands) is what OCR read
    as ``read``, letters standing for digits: every digit read in its place, a mark for a
    mark."""
    for printed in {f"{amount:,.2f}", f"{amount:.2f}", f"{amount:,.2f}".translate({44: 46, 46: 44}),
                    f"{amount:.2f}".replace(".", ",")}:
        if len(printed) == len(read) and all(
            (r.isalpha() and p.isdigit()) or r == p or (r in ".," and p in ".,")
            for r, p in zip(read, printed, strict=True)
        ):
            return True
    return False


def _amount_from_sums(items: list[dict[str, object]], sums: list[object]) -> list[dict[str, object]] | None:
    """Scanned item rows of which one amount OCR garbled (``€7.A7``) and the quantity perhaps
    too (``oe``): the amount a printed sum less the other rows' amounts leaves, when it fits
    what was read (``_fits_read``) and gives a quantity with the unit price (the one read,
    or amount / price as printed); that row mended, or None when no sum or more than one
    leaves such an amount."""
    gaps = [k for k, item in enumerate(items) if item.get("amount") is None]
    others = [item.get("amount") for item in items if item.get("amount") is not None]
    if len(gaps) != 1 or not all(isinstance(a, Decimal) for a in others):
        return None
    item = items[gaps[0]]
    read, unit, qty = str(item.get(GARBLED, "")), item.get("unit_price"), item.get("quantity")
    if not isinstance(unit, Decimal) or unit <= 0:
        return None
    rest = sum(others, Decimal(0))  # type: ignore[arg-type]
    found: set[tuple[Decimal, str]] = set()
    for target in sums:
        if not isinstance(target, Decimal) or (amount := money(target - rest)) <= 0:
            continue
        if not _fits_read(read, amount):
            continue
        quantity = qty if isinstance(qty, str) and _gives(Decimal(qty), unit, amount) else None
        if quantity is None and qty is None:
            quantity = _derived_quantity(amount, unit)
        if quantity is not None:
            found.add((amount, quantity))
    if len(found) != 1:
        return None
    amount, quantity = found.pop()
    return [{**item, "amount": amount, "quantity": quantity} if n == gaps[0] else item
            for n, item in enumerate(items)]


def _amount_mark_lost(cell: list[Word], qty: str | None, prices: list[object]) -> Decimal | None:
    """The amount of an item row that OCR read without its decimal mark (``4,29 €`` as
    ``429 €``, which reads as no amount), with a colon for it (``22:17``) or as letters
    (``ATESO`` for ``417.50``, ``Boot`` for ``833.10``, ``© M`` for ``13.80``): quantity × unit
    price, when its digits are the ones read or what was read holds no digit and is no longer
    than the product and two characters; else None."""
    if qty is None or not prices or not isinstance(prices[-1], Decimal):
        return None
    product = money(Decimal(qty) * prices[-1])
    unmarked = [_COLON_MARK.sub("", w.text) for w in cell]  # "22:17": a colon for the mark
    numbers = [text for text in unmarked if re.fullmatch(r"-?\d{3,9}", text)]
    if len(numbers) == 1:
        return product if f"{product:f}".replace(".", "") == numbers[0] else None
    # the table's sum against the printed one then says whether the product is right
    read = "".join(w.text for w in cell)
    if cell and not re.search(r"\d", read) and product > 0 and len(read) <= len(f"{product:f}") + 2:
        return product
    return None


def _lost_digit_quantity(qty: str, amount: object, unit: Decimal) -> str | None:
    """The quantity of an item row whose printed quantity OCR read without one of its digits
    (``15,0000`` as ``5,0000``): amount / price, when that is a whole number that holds the
    digits read plus one, and the quantity as read does not give the amount; else None."""
    if not isinstance(amount, Decimal) or Decimal(qty) * unit == amount:
        return None
    whole = _whole_quantity(amount, unit)
    read = Decimal(qty)
    if whole is None or read != read.to_integral_value():
        return None
    digits = str(int(read))
    if len(whole) == len(digits) + 1 and (whole.startswith(digits) or whole.endswith(digits)):
        return whole
    return None


def _table_items(
    rows: list[Row], columns: list[_Column], start: int, parse: Parser, *, ocr: bool = False
) -> tuple[list[dict[str, object]], list[Word]]:
    # "# | Item | Description | Qty": the item code has a column of its own
    described = [c for c in columns if c.kind == "description"]
    desc_col = next((c for c in described if not c.generic), described[0])
    left_of_desc = [c for c in columns if c.x1 <= desc_col.x0]
    items: list[dict[str, object]] = []
    words_used: list[Word] = []
    open_item: dict[str, object] | None = None
    continued = 0
    has_qty = any(c.kind == "quantity" for c in columns)
    discounted: set[int] = set()  # items with a rate beside their numbers
    last = rows[start]
    below: Iterable[Row] = rows[start + 1 :]
    if ocr:  # rules and specks read as letters dropped, rows split in two made whole
        below = _knit_split_rows(_without_rules(below, last.height))
    for row in below:
        if not any(ch.isalnum() for ch in row.text):
            continue  # specks and rules between the rows of a scan: no row of the table
        if row.page != last.page or row.box[1] - last.box[3] > 5 * max(last.height, 1.0):
            break
        row_cols = _row_columns(columns, row, desc_col)
        by_kind: dict[str, list[Word]] = {}
        for w, col in zip(row.words, row_cols, strict=True):
            by_kind.setdefault(col.kind, []).append(w)
        amounts = [v for t in _cell_texts(by_kind.get("amount", [])) for v, _, _ in parse(t)]
        qty = next((q for w in by_kind.get("quantity", []) if (q := _number_of(w.text))), None)
        desc_words = [w for w, col in zip(row.words, row_cols, strict=True) if col is desc_col]
        if not left_of_desc:
            desc_words = _without_unheaded_cells(desc_words, desc_col, row.height)
        if ocr:
            desc_words = _without_code_cell(_without_stray_words(desc_words, row.height),
                                            row.height)
        desc = " ".join(w.text for w in desc_words)
        if not items and _CARRIED.search(row.folded):
            last = row  # the sum carried over from the page before, above this page's items
            continue
        if _ITEMS_END.search(row.folded) and (
            qty is None or _ITEMS_END.match(fold(re.sub(r"^[\d.\s]+", "", desc)))
        ):
            break  # "Total", "Zwischensumme", … (a quantity on the row keeps "Summe 01" an item)
        if not parse(row.text):
            heads = _header_cells(row)
            if len(heads) >= 2 and any(c.kind in ("amount", "quantity", "unit_price") for c in heads):
                break  # the head of the next table
        last = row
        prices = [v for t in _cell_texts(by_kind.get("unit_price", [])) for v, _, _ in parse(t)]
        cell = by_kind.get("amount", [])
        if not cell and ocr and row.words and _column_by_centre(columns, row.words[-1]).kind == "amount":
            cell = row.words[-1:]  # an amount read as letters sits by its left edge elsewhere
        garbled = _garbled_amount_read(cell) if ocr and desc else None
        if garbled is not None:
            amounts = []  # "€7.A7": the 7 the parser finds in it is no amount
        if not amounts and ocr and desc and (lost := _amount_mark_lost(cell, qty, prices)) is not None:
            amounts = [lost]
        elif ocr and (whole := _amount_read_apart(cell, qty, prices, parse)) is not None:
            amounts = [whole]
        if not amounts and garbled is not None and prices and isinstance(prices[-1], Decimal):
            # the amount the printed sums leave, if it fits what was read (see _amount_from_sums)
            open_item = {"description": desc, "quantity": qty, "unit_price": prices[-1],
                         "amount": None, GARBLED: garbled}
            items.append(open_item)
            words_used.extend(row.words)
            continued = 0
            continue
        if amounts:
            if not desc and not desc_col.under_code:
                open_item = None
                continue
            amount = amounts[-1]
            unit: object = prices[-1] if prices else None
            if unit is None and qty and Decimal(qty) != 0:  # no price printed: amount / qty
                derived = (amount / Decimal(qty)).quantize(Decimal("0.01"))  # type: ignore[operator]
                if abs(derived * Decimal(qty) - amount) <= Decimal("0.01"):  # type: ignore[operator]
                    unit = derived
            glued = _description_number(desc_words, by_kind.get("quantity", []), row.height)
            if (glued is not None and qty is not None and isinstance(unit, Decimal) and unit != 0
                    and isinstance(amount, Decimal)
                    and abs(Decimal(qty) * unit - amount) > Decimal("0.01")
                    and _lost_digit_quantity(qty, amount, unit) is None
                    and _whole_quantity(amount, unit) is not None):
                # "reel of 4000" with the quantity not read: 4000 x 11.60 is not 46.40, so
                # the number ends the description, and the quantity is 46.40 / 11.60
                desc, qty = f"{desc} {glued.text}", None
            if (ocr and isinstance(unit, Decimal) and isinstance(amount, Decimal)
                    and unit < 0 < amount and qty is not None and Decimal(qty) > 0
                    and _gives(Decimal(qty), -unit, amount)):
                unit = -unit  # "2.25 -€510.00 €1,147.50": a speck read as the price's minus
            if qty is None and not has_qty and isinstance(unit, Decimal) and unit != 0:
                tail = desc_words[-1:] if len(desc_words) > 1 and (
                    desc_words[-1].box[0] - desc_words[-2].box[2] > _column_gap(row.height)
                ) else []
                found = _unheaded_quantity([*tail, *by_kind.get("unit_price", [])], amount, unit)
                if found is not None:
                    qty = _number_of(found.text)
                    if tail and found is tail[0]:
                        desc = " ".join(w.text for w in desc_words[:-1])
            if qty is None and has_qty and isinstance(unit, Decimal) and unit != 0:
                qty = _derived_quantity(amount, unit)  # its quantity misread ("5" as "fs)")
                if qty is not None and len(desc_words) > 1 and (
                    desc == " ".join(w.text for w in desc_words)  # nothing glued to it
                    and (printed := _number_of(_colon_as_mark(desc_words[-1].text, ocr)))
                    is not None
                    and Decimal(printed) == Decimal(qty)
                ):
                    # "… with certificate - 250": the quantity itself, boxed with the
                    # description (the quantity cell holds its unit alone); on a scan its
                    # decimal mark perhaps read as a colon ("… 4000 K 2:25" for 2.25)
                    desc = " ".join(w.text for w in desc_words[:-1])
            elif qty is not None and isinstance(unit, Decimal) and unit != 0:
                qty = (_lost_digit_quantity(qty, amount, unit)
                       or _misread_quantity(qty, amount, unit)
                       or (_unit_read_as_one(qty, amount, unit) if ocr else None)
                       or (_speck_quantity(qty, amount, unit) if ocr else None) or qty)
                unit = (_misread_price(qty, unit, amount)
                        or _price_read_apart(qty, unit, amount, by_kind.get("unit_price", []), parse)
                        or unit)
            open_item = {"description": desc, "quantity": qty, "unit_price": unit, "amount": amount}
            items.append(open_item)
            if any("%" in w.text for w in row.words if w not in desc_words):
                discounted.add(len(items) - 1)  # a rate beside the numbers: a discount, perhaps
            words_used.extend(row.words)
            continued = 0
            continue
        if open_item is None or not desc:
            continue
        if desc_col.under_code:
            # the item's second line is its description, as the header's second row says; it
            # may run on under the next heads (the line has no numbers); lines after it are notes
            named = _phrase_from(row, desc_col.x0 - 0.5 * max(row.height, 1.0))
            open_item["description"] = " ".join(w.text for w in named)
            words_used.extend(named)
            open_item = None
            continue
        pos_words = [w for w, col in zip(row.words, row_cols, strict=True) if col in left_of_desc]
        if (
            any(re.fullmatch(r"\d{1,3}\.?", w.text) for w in pos_words)
            or _NOTE_LABEL.match(desc)
            or continued >= 4
        ):
            open_item = None  # a note under the item ("1 Wir erlauben uns …", "Bruttopreis: …")
            continue
        open_item["description"] = f"{open_item['description']} {desc}"
        words_used.extend(desc_words)
        continued += 1
    if ocr and not has_qty and any(item["quantity"] is not None for item in items):
        # the quantity head did not read, but other rows' quantities did: a row whose number
        # did not read either ("L5" for 1.5) has one too
        for item in items:
            unit, amount = item["unit_price"], item["amount"]
            if item["quantity"] is None and isinstance(unit, Decimal) and unit > 0:
                item["quantity"] = _derived_quantity(amount, unit)
    if ocr and not _DISCOUNT_HEAD.search(" ".join(r.folded for r in rows[max(0, start - 2) : start + 1])):
        _quantities_from_the_rest(items, discounted)  # (not under a discount column's head)
    for item in items:
        text = str(item["description"])
        text = re.sub(r"^\d{8,14}(?=[^\W\d])", "", text)  # a GTIN glued to the name
        if not left_of_desc:
            text = _POSITION.sub("", text)
        if ocr:
            text = _OCR_SQUARE.sub(_square, _without_specks(text))
            text = re.sub(r"(?<=\d) (?=\.\d)", "", text)  # "3x1 .5": a decimal split at its mark
        item["description"] = text.strip()
    return items, words_used


def _without_unheaded_cells(words: list[Word], column: _Column, height: float) -> list[Word]:
    """A description's words less those standing in columns left of its head whose heads did
    not read (``1 SVC-CONS`` under a dark header bar whose ``# Item`` was lost): the words that
    end a column's gap before the head, when the words after them start under the head's left
    edge, as a left-aligned description does (under a centred head they are kept)."""
    gap = _column_gap(height)
    k = 0
    while k < len(words) and words[k].box[2] < column.x0 - gap:
        k += 1
    if 0 < k < len(words) and abs(words[k].box[0] - column.x0) <= max(height, 1.0):
        return words[k:]
    return words


_DISCOUNT_HEAD = _re(r"disc|rabatt|remise|sconto|descuento|korting|nachlass|rebate|abzug")
"""A head of a discount column over an item table."""


_ARTICLE_CODE = r"[A-Z0-9]{2,}(?:[-/.][A-Z0-9]+)+"
"""An article code (``SVC-CONS``, ``CAL-01``, ``HW-SRV2``)."""
_CODE_WORD = re.compile(rf"^{_ARTICLE_CODE}$")
_ITEM_CODE = re.compile(rf"^{_ARTICLE_CODE}\s+(?=\S)")
"""An article code before an item's description (``PRT-A3 Printing A3 posters``)."""
_POSITION = re.compile(r"^\d{1,3}\.?\s+(?=\S)")
"""An item's position number before its description (``3 Steel sheet``, ``12. Freight``)."""


def _without_code_cell(words: list[Word], height: float) -> list[Word]:
    """A scanned description without the article code in a cell of its own before it, a
    column's gap left of the description (``SVC-CONS      Consulting services`` under an
    ``Item`` head whose ``Description`` head OCR lost), with the row number or speck before
    the code (whose S may read as a dollar sign, ``$VC-TRV``)."""
    for k, word in enumerate(words[:3]):
        if (_CODE_WORD.match(re.sub(r"^\$", "S", word.text)) and k + 1 < len(words)
                and words[k + 1].box[0] - word.box[2] > _column_gap(height)):
            return words[k + 1 :]
    return words


def _quantities_from_the_rest(items: list[dict[str, object]], discounted: set[int]) -> None:
    """Quantities of scanned item rows that OCR read as other numbers no usual misreading
    explains (``422`` or ``3`` for 12 or 250): amount / price, when that is a quantity as
    printed (whole, or of hundredths), and most rows of the table, two at least, read
    quantity × price = amount. A row alone, or among others that do not, may hold a discount
    (10 × 100.00 = 850.00 at 15 % off): its quantity is left as read, as is that of a row
    with a rate beside its numbers (``discounted``: their indices) and that of a row whose
    amount reads one digit off quantity × price (``5 × 3.54`` beside ``17.10``: the amount
    is the misread number, which the printed sums mend, see ``_mend_one_row``)."""
    read = [(k, item, numbers) for k, item in enumerate(items)
            if (numbers := _row_numbers(item)) is not None and numbers[1] != 0]
    good = sum(1 for _, _, (qty, unit, amount) in read if _gives(qty, unit, amount))
    bad = [(item, unit, amount) for k, item, (qty, unit, amount) in read
           if not _gives(qty, unit, amount) and k not in discounted
           and not _one_digit_off(f"{amount:.2f}", f"{money(qty * unit):.2f}")]
    if good < 2 or good <= len(bad):
        return
    for item, unit, amount in bad:
        item["quantity"] = _derived_quantity(amount, unit) or item["quantity"]


def _phrase_from(row: Row, x0: float) -> list[Word]:
    """The words of ``row`` from the first one starting at ``x0`` or right of it, as far as
    they follow one another at word spacing (a wide gap ends the phrase)."""
    words = sorted((w for w in row.words if w.box[0] >= x0), key=lambda w: w.box[0])
    phrase = words[:1]
    for w in words[1:]:
        if w.box[0] - phrase[-1].box[2] > 1.5 * max(row.height, 1.0):
            break
        phrase.append(w)
    return phrase


def _carried_row(rows: list[Row], page: int, parse: Parser) -> int | None:
    """The index of the carried-over sum near the top of ``page`` when no item header comes
    before it (the table goes on under the previous page's header), else None."""
    on_page = [i for i, r in enumerate(rows) if r.page == page][:8]
    for i in on_page:
        if _item_header(rows, i, parse) is not None:
            return None
        if _CARRIED.search(rows[i].folded) and parse(rows[i].text):
            return i
    return None


def read_line_items(ctx: DocContext) -> Field | None:
    """Item tables: a header row of column names fixes the columns (stacked header rows and
    wrapped heads merged), each row with an amount in the amount column is an item, and the
    description lines under it are joined until a note, a sum or the next item."""
    rows = ctx.rows
    ocr = ctx.scanned
    parse = money_parser(ctx.decimal_mark, ocr=ocr)
    items: list[dict[str, object]] = []
    conf_words: list[Word] = []
    first_kinds: set[str] | None = None
    i = 0
    while i < len(rows):
        header = _item_header(rows, i, parse)
        if header is None:
            i += 1
            continue
        columns, block = header
        end = block[-1]
        kinds = {c.kind for c in columns}
        if first_kinds is not None and kinds != first_kinds:
            i = end + 1
            continue
        found, words = _table_items(rows, columns, end, parse, ocr=ocr)
        if found:
            first_kinds = first_kinds or kinds
            items.extend(found)
            conf_words.extend(words)
            # A table that runs on over the next pages without its header printed again: each
            # such page starts with the sum carried over ("Übertrag"), then the items go on.
            page = rows[end].page
            while (carried := _carried_row(rows, page + 1, parse)) is not None:
                more, words = _table_items(rows, columns, carried, parse, ocr=ocr)
                if not more:
                    break
                items.extend(more)
                conf_words.extend(words)
                end, page = carried, page + 1
        i = end + 1
    if not items:
        return None
    ocr = min((w.conf for w in conf_words), default=1.0)
    return Field(
        name="line_items",
        value=items,
        raw=None,
        confidence=round(0.4 * (0.35 + 0.65 * ocr), 4),
        page=rows[0].page if rows else None,
        method="table",
    )


# -------------------------------------------------------------------------------- templates

TEMPLATES_DIR = Path(__file__).with_name("templates")
TEMPLATE_KEYS = {"issuer", "keywords", "exclude_keywords", "fields", "options", "doc_type"}
TEMPLATE_FIELDS = {
    "vendor_name",
    "address",
    "vendor_vat",
    "invoice_number",
    "invoice_date",
    "due_date",
    "po_number",
    "currency",
    "subtotal",
    "tax_amount",
    "total_amount",
    "buyer_name",
}


@dataclass
class Template:
    name: str
    issuer: str
    keywords: list[str]
    exclude_keywords: list[str]
    fields: dict[str, str]
    options: dict[str, object]


def load_templates(directory: Path = TEMPLATES_DIR) -> list[Template]:
    """Vendor templates as data; a malformed file is a ConfigError naming the file."""
    import yaml

    from core.errors import ConfigError

    out: list[Template] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not {"issuer", "keywords"} <= set(data):
            raise ConfigError(f"template {path.name}: needs at least `issuer` and `keywords`")
        unknown = set(data) - TEMPLATE_KEYS
        bad_fields = set(data.get("fields") or {}) - TEMPLATE_FIELDS
        if unknown or bad_fields:
            raise ConfigError(f"template {path.name}: unknown keys {sorted(unknown | bad_fields)}")
        for pattern in [*data["keywords"], *(data.get("fields") or {}).values()]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"template {path.name}: bad regex {pattern!r} ({exc})") from exc
        out.append(
            Template(
                path.stem,
                str(data["issuer"]),
                list(data["keywords"]),
                list(data.get("exclude_keywords") or []),
                dict(data.get("fields") or {}),
                dict(data.get("options") or {}),
            )
        )
    return out


_TEMPLATE_CACHE: list[Template] | None = None


def matching_template(text: str) -> Template | None:
    global _TEMPLATE_CACHE
    if _TEMPLATE_CACHE is None:
        _TEMPLATE_CACHE = load_templates()
    for tpl in _TEMPLATE_CACHE:
        if all(re.search(k, text) for k in tpl.keywords) and not any(
            re.search(k, text) for k in tpl.exclude_keywords
        ):
            return tpl
    return None


def _named_by_template(issuer: str, currency: str | None) -> dict[str, Field]:
    """The seller (and currency) a vendor template states for the invoices it recognises."""
    fields = {
        "vendor_name": Field(
            name="vendor_name", value=issuer, raw=issuer, confidence=0.9, method="template"
        )
    }
    if currency is not None:
        fields["currency"] = Field(
            name="currency", value=currency, raw=None, confidence=0.9, method="template"
        )
    return fields


def apply_template(tpl: Template, ctx: DocContext) -> dict[str, Field]:
    currency = tpl.options.get("currency")
    fields = _named_by_template(tpl.issuer, None if currency is None else str(currency))
    for name, pattern in tpl.fields.items():
        m = re.search(pattern, ctx.text)
        if not m:
            continue
        raw = m.group(1) if m.groups() else m.group(0)
        value: object = raw.strip()
        if name.endswith("_date"):
            value = next(iter(find_dates(raw, dayfirst=ctx.dayfirst)), None)
            value = value.value if value else None  # type: ignore[attr-defined]
        elif name in ("subtotal", "tax_amount", "total_amount"):
            amounts = money_parser(ctx.decimal_mark)(raw)
            value = amounts[0][0] if amounts else None
        if value is not None:
            fields[name] = Field(name=name, value=value, raw=raw, confidence=0.9, method="template")
    return fields


# -------------------------------------------------------------------------------- extractor


_ITEM_SUM = _re(
    r"positionssumme|summe\s*(?:der\s*)?positionen|warenwert|zwischensumme|sub\s*-?\s*total|"
    r"subtotaal|sous-?total|total\s*(?:ht|net|excl\S*)|line\s*total|items?\s*total|nettosumme"
)


def _printed_item_sums(ctx: DocContext) -> list[Decimal]:
    """Amounts printed as the sum of the lines (before charges, allowances and tax): beside
    their label, or under it as a column of a grid (``Warenwert`` over one row per tax rate
    and their sum)."""
    parse = money_parser(ctx.decimal_mark)
    out: list[Decimal] = []
    for i, row in enumerate(ctx.rows):
        m = _ITEM_SUM.search(row.folded)
        if m is None:
            continue
        beside = [v for v, _, _ in parse(row.text) if isinstance(v, Decimal)]
        out += beside
        words = row.words_in(m.start(), m.end())
        if not beside and words and _item_header(ctx.rows, i, parse) is None:
            # (an item table's "Line total" head heads the rows' amounts, not their sum)
            [column] = _columns_below(ctx.rows, i, [(words[0].box[0], words[-1].box[2])], parse)
            if column and _sums_up(column):
                out.append(column[-1][0])
    return out


ITEM_SUM_TOLERANCE = Decimal("0.02")
"""How far item amounts may add up from a printed sum (each line rounded on its own)."""


def sums_added_up_to(items: list[dict[str, object]], sums: Iterable[object]) -> list[Decimal]:
    """The ``sums`` the items' amounts add up to (none unless every amount was read)."""
    amounts = [item.get("amount") for item in items]
    if not amounts or not all(isinstance(a, Decimal) for a in amounts):
        return []
    total = sum(amounts, Decimal(0))  # type: ignore[arg-type]
    return [t for t in sums if _sum_matches(total, t)]


def _sum_matches(total: Decimal, printed: object) -> bool:
    """Whether items summing to ``total`` add up to a printed sum, within the tolerance."""
    return isinstance(printed, Decimal) and abs(total - printed) <= ITEM_SUM_TOLERANCE


def items_add_up(items: list[dict[str, object]], sums: Iterable[object]) -> bool:
    """Whether every item's amount was read and together they add up to one of ``sums``."""
    return bool(sums_added_up_to(items, sums))


def _mend_one_row(items: list[dict[str, object]], sums: list[object]) -> list[dict[str, object]] | None:
    """Scanned item rows whose amounts miss the invoice's sums because OCR misread one amount
    (a speck read as a minus: ``-£17,718.00``; ``314.14`` for ``31.14``): the one row whose
    quantity x unit price, in place of its amount, makes the items add up to a printed sum, or
    whose price and amount both read negative (``-€16,061.00 -€80,305.00``) and, turned
    positive, do; None when no row or more than one does."""
    amounts = [item.get("amount") for item in items]
    if not all(isinstance(a, Decimal) for a in amounts):
        return None
    total = sum(amounts, Decimal(0))  # type: ignore[arg-type]
    targets = [t for t in sums if isinstance(t, Decimal) and t != 0]
    if any(_sum_matches(total, t) for t in targets):
        return None
    fixes: list[tuple[int, Decimal, object]] = []
    for k, item in enumerate(items):
        numbers = _row_numbers(item)
        if numbers is None:
            continue
        qty, unit, amount = numbers
        product = money(qty * unit)
        if abs(product - amount) > Decimal("0.01"):
            mended: tuple[Decimal, object] = (product, unit)
        elif amount < 0 < qty:  # specks read as minus signs before price and amount
            mended = (-amount, -unit)
        else:
            continue
        if any(_sum_matches(total - amount + mended[0], t) for t in targets):
            fixes.append((k, *mended))
    if len(fixes) != 1:
        return None
    k, amount, unit = fixes[0]
    return [{**item, "amount": amount, "unit_price": unit} if n == k else item
            for n, item in enumerate(items)]


def _rows_consistent(items: list[dict[str, object]]) -> bool:
    """Every item reads quantity × unit price = amount: the table was read right."""
    for item in items:
        numbers = _row_numbers(item)
        if numbers is None:
            return False
        qty, unit, amount = numbers
        if abs(qty * unit - amount) > Decimal("0.01"):
            return False
    return True


def _row_numbers(item: dict[str, object]) -> tuple[Decimal, Decimal, Decimal] | None:
    """An item's quantity, unit price and amount, when all three were read; else None."""
    qty, unit, amount = item.get("quantity"), item.get("unit_price"), item.get("amount")
    if isinstance(qty, str) and isinstance(unit, Decimal) and isinstance(amount, Decimal):
        return Decimal(qty), unit, amount
    return None


def _sums_from_items(
    fields: dict[str, Field], items: list[dict[str, object]], item_sum: Decimal, *, gross: bool
) -> dict[str, Field]:
    """Sums the page did not let us read, from a table whose rows check out.

    No total label read (an OCR'd page that lost its total line): the items' sum beats the
    largest amount on the page. No subtotal and no tax: net lines that add up to the total
    mean the net sum is the total.
    """
    out: dict[str, Field] = {}
    if len(items) < 2 or item_sum <= 0 or not _rows_consistent(items):
        return out
    total = fields.get("total_amount")
    if total is None or total.method in ("fallback", "repeated"):
        out["total_amount"] = Field(
            name="total_amount", value=item_sum, raw=None, confidence=0.5, method="items_sum"
        )
        total = out["total_amount"]
    tax = fields.get("tax_amount")
    if (
        "subtotal" not in fields
        and not gross  # prices with the tax in them: the items add up to the gross sum
        and (tax is None or tax.value == 0)
        and abs(total.value - item_sum) <= Decimal("0.01")  # type: ignore[operator]
    ):
        out["subtotal"] = Field(
            name="subtotal", value=item_sum, raw=None, confidence=0.55, method="items_sum"
        )
    return out


def read_invoice(pages: list[Page], *, vendor_library: bool = True) -> dict[str, Field]:
    ctx = context(pages)
    buyer, buyer_rows = buyer_block(ctx)
    fields: dict[str, Field] = {}
    fields.update(read_vendor(ctx, buyer_rows))
    fields.update(read_ids(ctx))
    fields.update(read_dates(ctx))
    fields.update(read_amounts(ctx))
    fields.update(read_vat(ctx, buyer_rows))
    if buyer is None:
        buyer = _window_buyer(ctx)
    if buyer is None:
        buyer = _other_party(ctx, fields.get("vendor_name"))
    if buyer is not None:
        fields["buyer_name"] = buyer
    if ctx.currency is not None:
        fields["currency"] = Field(
            name="currency",
            value=ctx.currency,
            raw=ctx.currency,
            confidence=round(ctx.currency_score, 4),
            method=f"currency_{ctx.currency_method}",
        )
    items = read_line_items(ctx)
    sums = [fields[n].value for n in ("subtotal", "total_amount") if n in fields]
    item_sums = _printed_item_sums(ctx) if items is not None or ctx.scanned else []
    if items is None and ctx.scanned:
        items = _unheaded_items(ctx, [*sums, *item_sums])
    if items is not None:
        if ctx.scanned:
            mended = (_amount_from_sums(items.value, [*sums, *item_sums])
                      or _mend_one_row(items.value, [*sums, *item_sums]))
            if mended is not None:
                items = items.model_copy(update={"value": mended})
        for item in items.value:
            item.pop(GARBLED, None)
        # Line items are delivered only when they add up to the invoice's own net or gross sum:
        # a table read wrongly would otherwise reach the ERP (or block a correct invoice).
        printed = sums_added_up_to(items.value, item_sums)
        if printed or items_add_up(items.value, sums):
            fields["line_items"] = items.model_copy(
                update={"confidence": min(1.0, items.confidence + 0.3), "method": "table+sum"}
            )
            if printed and "lines_total" not in fields and printed[0] not in sums:
                # the lines' own printed sum ("Warenwert"), which allowances and charges the
                # reader does not itemise take to the subtotal
                fields["lines_total"] = fields["line_items"].model_copy(
                    update={"name": "lines_total", "value": printed[0], "method": "label+items"}
                )
        gross = bool(_INCLUDED_TAX.search(ctx.folded))
        amounts = [row.get("amount") for row in items.value]
        total = sum((a for a in amounts if isinstance(a, Decimal)), Decimal(0))
        fields.update(_sums_from_items(fields, items.value, total, gross=gross))
    if ctx.scanned:
        for name in ("vendor_name", "buyer_name"):
            field = fields.get(name)
            if field is not None and isinstance(field.value, str):
                plain = _OCR_APOSTROPHE.sub("'", field.value)
                if plain != field.value:
                    fields[name] = field.model_copy(update={"value": plain})
    tpl = matching_template(ctx.text)
    if tpl is not None:
        fields.update(apply_template(tpl, ctx))
    elif vendor_library:
        fields.update(_known_vendor(ctx))
    return fields


_COLON_MARK = re.compile(r"(?<=\d)[:;](?=\d{2}$)")
"""A colon or semicolon OCR read for the decimal mark of a row's last number (its amount)."""


def _unheaded_item(text: str, decimal_mark: str | None) -> dict[str, object] | None:
    """An item row read without its table's header: a description, then quantity, unit
    price and amount (``PRT-A3 Printing A3 posters 36 2.40 : 86.40``, a unit such as ``ea``
    after the quantity) where quantity × unit price is the amount, or amount / price a
    quantity as printed when the quantity did not read; else None. Its position number and
    article code are no part of the description."""
    text = _COLON_MARK.sub(decimal_mark or ".", heal_ocr_amounts(text))  # "2.25 m 1.00 2:25"
    found = [a for a in find_amounts(text, decimal_mark=decimal_mark) if a.has_decimals]
    if len(found) < 2:
        return None
    price, amount = found[-2], found[-1]
    before = text[: price.start].split()
    while before and re.fullmatch(_SPECK, before[-1]):
        before = before[:-1]  # "36 | 1.87": a rule or a speck read between the numbers
    if before and re.fullmatch(r"[A-Za-z]{1,4}[23²³]?\.?", before[-1]):
        before = before[:-1]  # "36 ea", "2 m2"
    qty = _number_of(before[-1]) if before else None
    if qty is not None:
        before = before[:-1]
    elif amount.value > 0:
        # the quantity read as something else ("=12-kq" for 12 kg, "Lo" for 7.5 l, taken for
        # a unit above): amount / price, less the word it was read as when that holds a digit
        qty = _derived_quantity(amount.value, price.value)
        if qty is not None and before and any(c.isdigit() for c in before[-1]):
            before = before[:-1]
    desc = _without_specks(_POSITION.sub("", " ".join(before)))
    desc = _OCR_SQUARE.sub(_square, _without_specks(_ITEM_CODE.sub("", desc)))  # article code
    if qty is None or sum(c.isalpha() for c in desc) < 3 or amount.value <= 0:
        return None
    if abs(money(Decimal(qty) * price.value) - amount.value) > Decimal("0.01"):
        return None
    return {"description": desc, "quantity": qty,
            "unit_price": price.value.quantize(CENT), "amount": amount.value.quantize(CENT)}


def _unheaded_items(ctx: DocContext, sums: list[object]) -> Field | None:
    """Items of a scanned table whose header OCR lost (a dark band read as nothing): rows that
    each read description, quantity, unit price and amount with quantity × price = amount,
    above the first sum's row, taken only when their amounts add up to a printed sum."""
    items: list[dict[str, object]] = []
    words: list[Word] = []
    for row in ctx.rows:
        if items and _ITEMS_END.search(row.folded):
            break
        item = _unheaded_item(row.text, ctx.decimal_mark)
        if item is not None:
            items.append(item)
            words.extend(row.words)
    if not items_add_up(items, sums):
        return None
    return Field(name="line_items", value=items, raw=None, confidence=_words_conf(0.4, words),
                 page=ctx.rows[0].page if ctx.rows else None, method="table")


def _known_vendor(ctx: DocContext) -> dict[str, Field]:
    """The seller's name (and currency) from invoice2data's template library, when one of its
    templates recognises the invoice (see ``extractors.vendor_library``)."""
    from extractors.vendor_library import library_match

    known = library_match(ctx.text)
    return {} if known is None else _named_by_template(known.issuer, known.currency)


class InvoiceExtractor:
    """Layout-based reader for any invoice (label–value proximity, columns, cross-checks)."""

    name = "invoice"
    doc_types = (DocType.INVOICE,)
    version = ENGINE

    def available(self) -> bool:
        return True

    def score(self, pages: list[Page], doc_type: DocType, source: Source) -> float:
        return 0.5 if doc_type == DocType.INVOICE else 0.0

    def extract(self, pages: list[Page], source: Source, settings: Settings) -> Extraction:
        return Extraction(
            doc_type=DocType.INVOICE,
            fields=read_invoice(pages, vendor_library=settings.vendor_library),
            engine={"extractor": self.name, "invoice": ENGINE},
        )


__all__ = [
    "DocContext",
    "Hit",
    "InvoiceExtractor",
    "Row",
    "context",
    "date_parser",
    "find_labelled",
    "format_address",
    "make_row",
    "money_parser",
    "read_invoice",
    "rows_of",
    "split_columns",
]
