"""Spend more OCR effort only where a required field came out unsure, within a CPU budget.

When a required field's calibrated confidence is under the posting threshold, the page that
holds it (the first OCR page when it was not found) is read again with other Tesseract settings —
another page-segmentation mode (psm 6 and 4 keep receipt and table rows that psm 3 drops), or
upscaled — and the same extractor reads the new words. Readings are merged field by field: a
value two readings agree on is surer than either; a different value replaces the first only when
clearly surer; a vendor name is settled by all readings together (:func:`vote`). A date still
unsure after the whole-page readings is read again from its own line, enlarged (:func:`judge`).
A scanned invoice whose item rows did not add up (so none were delivered) has its page read again
in a table-keeping mode, and the items are kept when they add up (:func:`reread_items`).
Every Tesseract second counts against ``settings.cpu_budget_seconds`` and is reported as
``cascade_seconds``. ``reocr_band``/``replace_band`` re-read a horizontal band.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from core.errors import BadDocumentError
from core.models import Box, DocType, Extraction, Field, Origin, Page, Word
from core.settings import Settings
from extractors.layout import assign_lines, centre_within, lines_of, page_text, stacked
from extractors.ocr import MAX_WIDTH, Variant, installed_languages, reocr_band
from extractors.parsers import SUM_TOLERANCE, fold
from extractors.registry import Extractor, letters_lacking, posting_confidence

Source = bytes | Path
log = logging.getLogger(__name__)

REQUIRED: dict[DocType, tuple[str, ...]] = {
    DocType.INVOICE: ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency"),
    DocType.RECEIPT: ("vendor_name", "invoice_date", "total_amount"),
}
"""Fields worth more OCR effort (the default policy's required fields; claims run their own)."""
THRESHOLD = 0.95
"""A required field is re-read until its calibrated confidence reaches this (the level at which
eval states its confidence property). At 0.90, receipt dates found by their pattern and read
twice alike (calibrated 0.90 once receipts have their own groups) were no longer re-read, and
SROIE lost 3 dates the re-reads had fixed (88 → 85); at 0.95 it is 87, for the same time."""

BEFORE: dict[str, dict[str, Field]] | None = None
"""When evaluation sets this to a dict, each run stores the fields it started from (keyed by the
source path) so that eval can show what the cascade changed. Unused in production."""


VARIANTS = (
    Variant(6, 1.0, "none"),
    Variant(3, 1.0, "none"),
    Variant(4, 1.0, "none"),
    Variant(3, 2.0, "none"),
)
"""Whole-page re-readings, in the order tried, less the one that repeats the page's first
reading (psm 6 reads the table rows that psm 3 drops, and the other way round)."""


def _repeats_first_reading(variant: Variant, page: Page) -> bool:
    """Whether ``variant`` would read the page (nearly) as its first reading did: the same mode
    on the same image, or only slightly enlarged because the page is already wide."""
    from extractors.pages import PAGE_PSM, RECEIPT_ASPECT, RECEIPT_PSM

    first_psm = RECEIPT_PSM if page.height / max(page.width, 1) > RECEIPT_ASPECT else PAGE_PSM
    return (
        variant.psm == first_psm
        and variant.binarise == "none"
        and (variant.scale == 1.0 or page.width * variant.scale > MAX_WIDTH)
    )


def replace_band(page: Page, band: tuple[int, int] | None, words: list[Word],
                 span: tuple[int, int] | None = None) -> Page:
    """``page`` with the words of ``band`` (of its ``span`` of columns only, when given; the
    whole page: None) replaced by ``words``."""
    if band is None:
        kept: list[Word] = []
    else:
        left, right = span if span is not None else (float("-inf"), float("inf"))
        region = (left, band[0], right, band[1])
        kept = [w for w in page.words if not centre_within(w.box, region)]
    merged = assign_lines(kept + words)
    return page.model_copy(update={"words": merged, "text": page_text(merged)})


def _weak(fields: dict[str, Field], names: Iterable[str], extractor: str,
          pages: list[Page]) -> list[str]:
    """The ``names`` whose field is missing or under ``THRESHOLD`` once calibrated and capped
    as the decision policy will see it (a name with ``ii`` for ü is re-read however sure)."""
    return [
        name for name in names
        if name not in fields or posting_confidence(fields[name], pages, extractor) < THRESHOLD
    ]


MARGIN = 0.05
"""A different value replaces the first reading only when it is surer by this much."""


def _closes_sum(field: Field) -> bool:
    """Whether an invoice amount was read in a printed sum that closes (subtotal + tax = total)."""
    return field.method.startswith("label+sum")


def merge(current: Field | None, again: Field | None) -> Field | None:
    """The better of two readings of one field; two agreeing readings are surer than either
    (and were read in a printed sum that closes when either was).
    Of two different amounts, the one read in a printed sum that closes is kept whatever the
    readings' confidences (a re-read that lost the total's line falls back on the items' sum)."""
    if again is None or again.value is None:
        return current
    if current is None:
        return again
    if again.value == current.value:
        # a reading in a printed sum that closes lifts readings that only agreed so far
        # (``net_tax+agree``, then ``label+sum``)
        closed = _closes_sum(again) and not _closes_sum(current)
        if current.method.endswith("+agree") and not closed:
            return current
        method = again.method if closed else current.method
        return current.model_copy(
            update={
                "confidence": round(min(1.0, max(again.confidence, current.confidence) + 0.1), 4),
                "method": method.removesuffix("+agree") + "+agree",
            }
        )
    if _closes_sum(current) != _closes_sum(again):
        return current if _closes_sum(current) else again
    if again.confidence > current.confidence + MARGIN:
        return again
    return current


def closing_tax(fields: dict[str, Field], again: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with the tax (and subtotal) of a re-reading that closes the sum of the total
    the merge kept: when a re-read found the total at last (``Total EUR 28,236. 46`` read
    whole), its subtotal + tax = total is the printed sum, and the first reading, which had no
    total to close, left the tax out. Taken only over the same subtotal (or none) and a first
    tax that is missing or does not close that sum, or is the same tax read less surely (the
    guess of a first reading that summed its total); the fields as they are otherwise."""
    total, sub, tax = (again.get(n) for n in ("total_amount", "subtotal", "tax_amount"))
    kept = fields.get("total_amount")
    if total is None or sub is None or tax is None or kept is None or kept.value != total.value:
        return fields
    gross, net, vat = total.value, sub.value, tax.value
    if not (isinstance(gross, Decimal) and isinstance(net, Decimal) and isinstance(vat, Decimal)):
        return fields
    if abs(net + vat - gross) > SUM_TOLERANCE:
        return fields
    first_sub, first_tax = fields.get("subtotal"), fields.get("tax_amount")
    if first_sub is not None and first_sub.value != net:
        return fields
    if first_tax is not None and isinstance(first_tax.value, Decimal) and (
        abs(net + first_tax.value - gross) <= SUM_TOLERANCE
    ):
        # the same tax, read in the printed sum, is surer than a total's summed guess
        if first_tax.value == vat and tax.confidence > first_tax.confidence:
            return {**fields, "tax_amount": tax}
        return fields
    return {**fields, "subtotal": first_sub or sub, "tax_amount": tax}


BAND_FIELDS = ("invoice_date",)
"""Fields whose own line is worth re-reading enlarged: a date is one short line of digits whose
3/5/6/8 OCR confuses at receipt print sizes. (Totals were tried too and lost: enlarged bands
read stray column digits into the amount.)"""
BAND_VARIANTS = (Variant(7, 3.0, "none"), Variant(6, 2.0, "none"))
"""The field's line alone (psm 7) three times larger, and a band around it (psm 6) twice."""


DATE_HINT = re.compile(
    r"\bdate\b|\bdt\b|tarikh|datum|\b\S{1,2}\s?[/.-]\s?\S{1,3}\s?[/.-]\s?\S{2,4}\b|"
    r"\b\d{1,2}\s?[/.-]\s?\S{0,4}20\d{2}\b",
    re.IGNORECASE,
)
CLOCK = re.compile(r"\b\d{1,2}\s?:\s?\d{2}(?:\s?:\s?\d{2})?\b")
"""A line that probably carries the date when none was read: a date label, a clock time (tills
print the time beside the date) or something shaped like ``dd/mm/yy``."""


def _band(box: tuple[float, float, float, float], page: Page) -> tuple[int, int]:
    _, y0, _, y1 = box
    pad = 0.5 * max(1.0, y1 - y0)
    return max(0, int(y0 - pad)), min(int(page.height), int(y1 + pad))


def _bands_for(name: str, field: Field | None, pages: list[Page]) -> list[tuple[Page, tuple[int, int]]]:
    """Where to look again: the field's own line, or for a missing date the first lines that
    look as if they hold one (at most two)."""
    if field is not None and field.box is not None and field.page is not None:
        page = pages[field.page] if field.page < len(pages) else None
        return [(page, _band(field.box, page))] if page is not None else []
    if field is not None or name != "invoice_date":
        return []
    page = next((p for p in pages if p.origin == Origin.OCR), None)
    if page is None:
        return []
    lines = lines_of(page)
    hinted = [line for line in lines if DATE_HINT.search(line.text)]
    hinted += [line for line in lines if CLOCK.search(line.text) and line not in hinted]
    return [(page, _band(line.box, page)) for line in hinted[:2]]


def judge(current: Field | None, readings: list[Field]) -> Field | None:
    """Two enlarged readings that agree with each other overrule the page reading (they are
    independent of it and of each other); one that agrees with the page reading confirms it;
    one much surer than a page reading no other reading agreed with replaces it; with no page
    reading, any enlarged reading is better than none."""
    if len(readings) == 2 and readings[0].value == readings[1].value:
        both = merge(readings[0], readings[1]) or readings[0]
        if current is not None and both.value == current.value:
            return merge(current, both) or current
        return both
    if current is None:
        return max(readings, key=lambda f: f.confidence, default=None)
    same = next((r for r in readings if r.value == current.value), None)
    if same is not None:
        return merge(current, same) or current
    surest = max(readings, key=lambda f: f.confidence, default=None)
    if surest is not None and "+agree" not in current.method and (
        surest.confidence >= current.confidence + CLEARLY_SURER
    ):
        return surest  # a page reading nothing confirmed, against a much clearer enlarged one
    return current


CLEARLY_SURER = 0.15
"""How much surer (raw) an enlarged reading of a date line must be to replace a page reading
that no other reading agreed with (``20/06/2018`` at 0.28 against ``20/05/2018`` at 0.48)."""


@dataclass
class Rereader:
    """One document's re-reading: its pages, where they came from and the extractor that reads
    them again; what the re-reads have cost so far (Tesseract seconds and reads, counted against
    the budget), the page images got for them and the whole pages read with each variant, kept
    for the steps after."""

    pages: list[Page]
    source: Source
    settings: Settings
    extractor: Extractor
    spent: float = 0.0
    reads: int = 0
    images: dict[int, np.ndarray] = dataclass_field(default_factory=dict)
    read_with: dict[tuple[int, Variant], list[Word]] = dataclass_field(default_factory=dict)

    def reocr(self, page: Page, band: tuple[int, int] | None, variant: Variant,
              lang: str | None, span: tuple[int, int] | None = None) -> list[Word] | None:
        """The words of ``band`` of ``page`` (the whole page: None) read again with ``variant``
        in ``lang``, counted in ``spent`` and ``reads``; None when the page image cannot be had
        or Tesseract fails (logged: the first reading stands)."""
        from extractors.pages import page_image

        try:
            if page.index not in self.images:
                self.images[page.index] = page_image(self.source, page, self.settings)
            words, seconds = reocr_band(self.images[page.index], band, variant, self.settings,
                                        lang, span)
        except (BadDocumentError, RuntimeError, OSError) as exc:
            log.warning("cascade re-OCR of page %d failed: %s", page.index + 1, exc)
            return None
        self.spent += seconds
        self.reads += 1
        return words

    def read_page(self, page: Page, variant: Variant) -> list[Word] | None:
        """The whole of ``page`` read again with ``variant`` in its own language, once: a later
        step asking for the same reading gets these words without another Tesseract call."""
        words = self.read_with.get((page.index, variant))
        if words is None:
            words = self.reocr(page, None, variant, page.ocr_lang)
            if words is not None:
                self.read_with[(page.index, variant)] = words
        return words

    def extract(self, pages: list[Page]) -> dict[str, Field]:
        """The fields the extractor reads from ``pages`` (some of them read again)."""
        return self.extractor.extract(pages, self.source, self.settings).fields

    def extract_with(self, page: Page, band: tuple[int, int] | None, words: list[Word],
                     span: tuple[int, int] | None = None) -> dict[str, Field]:
        """The fields the extractor reads once ``band`` of ``page`` (the whole page: None; its
        ``span`` of columns only, when given) is these words."""
        return self.extract([replace_band(p, band, words, span) if p is page else p
                             for p in self.pages])

    def reread_band(self, page: Page, band: tuple[int, int], variant: Variant,
                    lang: str | None, span: tuple[int, int] | None = None
                    ) -> dict[str, Field] | None:
        """The fields the extractor reads once ``band`` of ``page`` (its ``span`` of columns
        only, when given) is read again with ``variant`` in ``lang``; None when the band could
        not be read again (see :meth:`reocr`)."""
        words = self.reocr(page, band, variant, lang, span)
        return None if words is None else self.extract_with(page, band, words, span)


def reread_bands(r: Rereader, fields: dict[str, Field], weak: list[str]) -> dict[str, Field]:
    """Weak one-line fields re-read from their own line, enlarged, in two ways (see
    :func:`judge`)."""
    fields = dict(fields)
    for name in BAND_FIELDS:
        current = fields.get(name)
        if name not in weak:
            continue
        for page, band in _bands_for(name, current, r.pages):
            if page.origin != Origin.OCR:
                continue
            readings: list[Field] = []
            for variant in BAND_VARIANTS:
                read = r.reread_band(page, band, variant, page.ocr_lang)
                if read is None:
                    break
                again = read.get(name)
                if again is not None and again.value is not None:
                    readings.append(again)
            current = judge(current, readings)
        if current is not None:
            fields[name] = current
    return fields


GERMAN_FORM = re.compile(r"\b(?:GmbH|AG|KG|OHG|UG|GbR|e\.\s?K\.)(?=$|[\s,.;)&])")
"""A German company's legal form: its name may hold ä, ö, ü and ß, which an English reading
of the page cannot (``Schafer & Kiihn``, ``WeifR``, ``Brétchen``)."""
_FORM_END = r"(?=$|[\s,;)&])"
PARTY_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("deu", GERMAN_FORM),
    ("fra", re.compile(
        rf"(?<!\S)(?:S\.?A\.?R\.?L\.?|S\.A\.S\.?|SAS|EURL|SNC|S\.A\.){_FORM_END}|\bSoci[ée]t[ée]\b")),
    ("ita", re.compile(rf"(?<!\S)S\.(?:r\.\s?l|p\.\s?A|n\.\s?c|a\.\s?s)\.?{_FORM_END}")),
    ("spa", re.compile(rf"(?<!\S)S\.L\.(?:U\.)?{_FORM_END}")),
    ("nld", re.compile(rf"(?<!\S)[BN]\.V\.?{_FORM_END}")),
)
"""A company's legal form and the language its name is written in (``S.A.`` is taken for
French): ``Société d'Équipement Alpin S.A.`` on a page read in English is ``d'Equipement``."""
COUNTRY_LANGUAGES = {"DE": "deu", "AT": "deu", "FR": "fra", "IT": "ita", "ES": "spa", "NL": "nld"}
"""The language of an address in these countries (an address's value ends with its country's
code); Switzerland and Belgium write several."""
_ADDRESS_COUNTRY = re.compile(r",\s*([A-Z]{2})$")
PARTY_FIELDS = ("vendor_name", "buyer_name", "address")
NAME_KEPT = 0.8
"""How alike (Levenshtein similarity of the accent-free values) a reading in the party's
language must be to the English one to lend it its letters: the same words, other letters in a
few places."""
WORD_KEPT = 2
"""How many letters (accent-free) a word may differ by and still be the same word read with
the other language's letters (``Kiihn`` and ``Kühn``, ``WeifR`` and ``Weiß``)."""


def _language_of(name: str, value: str) -> str | None:
    """The language a party's name (by its legal form) or an address (by its country) is
    written in, when that can be told."""
    if name == "address":
        country = _ADDRESS_COUNTRY.search(value)
        return COUNTRY_LANGUAGES.get(country.group(1)) if country else None
    return next((lang for lang, form in PARTY_FORMS if form.search(value)), None)


def read_in_another_language(name: str, field: Field | None, pages: list[Page],
                             settings: Settings) -> str | None:
    """The language ``field`` (a party's name or address) is written in, when it was read from
    a scanned page in another (a French buyer on a page read in English or in German) and that
    language's data is installed to read it again; else None."""
    if (
        field is None or not isinstance(field.value, str) or field.box is None
        or field.page is None or field.page >= len(pages)
    ):
        return None
    lang = _language_of(name, field.value)
    if lang is None or lang not in settings.ocr_auto_langs or lang not in installed_languages():
        return None
    page = pages[field.page]
    if page.origin != Origin.OCR or lang in (page.ocr_lang or settings.ocr_lang).split("+"):
        return None
    return lang


def with_letters_of(first: str, again: object, page_lang: str | None = "eng") -> str:
    """``first`` (as the page's model read it, English unless ``page_lang`` says otherwise)
    with the letters that model lacks taken from the other language's reading where that
    reading has them (``Kiihn`` → ``Kühn``, ``d'Equipement`` → ``d'Équipement``), every other
    letter as first read (the French reading's ``Équipemént`` lends an English page its É, not
    its é, which the English model would have read; a German page, whose model has no é, both).
    Unchanged unless both readings have as many words and are alike throughout
    (:data:`NAME_KEPT`)."""
    if not isinstance(again, str) or again == first:
        return first
    old, new = first.split(), again.split()
    if len(old) != len(new) or (
        Levenshtein.normalized_similarity(fold(first), fold(again)) < NAME_KEPT
    ):
        return first
    lacking = letters_lacking(page_lang)
    return " ".join(
        _lent_letters(o, n, lacking) if Levenshtein.distance(fold(n), fold(o)) <= WORD_KEPT else o
        for o, n in zip(old, new, strict=True)
    )


def _lent_letters(first: str, other: str, lacking: re.Pattern[str]) -> str:
    """``first`` with each stretch where ``other`` differs from it taken from ``other`` when
    that stretch holds a letter the first reading's model lacks (``ii`` → ``ü``, ``fR`` →
    ``ß``)."""
    out: list[str] = []
    was, now = "", ""
    for op in Levenshtein.opcodes(first, other):
        if op.tag != "equal":
            was += first[op.src_start:op.src_end]
            now += other[op.dest_start:op.dest_end]
            continue
        out.append(now if lacking.search(now) else was)
        out.append(first[op.src_start:op.src_end])
        was, now = "", ""
    out.append(now if lacking.search(now) else was)
    return "".join(out)


def names_in_their_language(r: Rereader, fields: dict[str, Field]) -> dict[str, Field]:
    """A party's name or address on a page read in another language than its own (a German
    seller's ``… GmbH`` and its ``München`` on an English page, a French buyer's ``… S.A.`` on
    an English or a German one): its lines are read again with its language's model, one band
    for the fields that lie together, and the letters that reading has where the page's model
    lacks them are lent to the first reading (:func:`with_letters_of`), at its confidence (the
    value is put right; nothing is posted for it)."""
    wanted: dict[tuple[int, str], list[tuple[str, Box]]] = {}
    for name in PARTY_FIELDS:
        field = fields.get(name)
        lang = read_in_another_language(name, field, r.pages, r.settings)
        if lang is not None and field is not None and field.box is not None:
            assert field.page is not None
            wanted.setdefault((field.page, lang), []).append((name, field.box))
    out = dict(fields)
    for (index, lang), named in wanted.items():
        page = r.pages[index]
        for box, names in _joined_boxes(named):
            # the fields' own columns: a window address's lines beside the information block
            # read as one band come out garbled (``Société d'Équi ement Alpin S.A V7``)
            again = r.reread_band(page, _band(box, page), Variant(6, 1.0, "none"), lang,
                                  _own_columns(box, page)) or {}
            for name in names:
                field = out[name]
                assert isinstance(field.value, str)
                value = with_letters_of(field.value, getattr(again.get(name), "value", None),
                                        page.ocr_lang or r.settings.ocr_lang)
                if value != field.value:
                    out[name] = field.model_copy(update={"value": value, "raw": value})
    return out


def _own_columns(box: Box, page: Page, right: float | None = None) -> tuple[int, int]:
    """The columns of the page a field's own lines are read again from: from twice its line's
    height left of ``box`` to ``right`` (as far past the box, when None)."""
    pad = max(1.0, box[3] - box[1]) / 2
    right = box[2] + 4 * pad if right is None else right
    return max(0, int(box[0] - 4 * pad)), min(int(page.width), int(right))


def _joined_boxes(named: list[tuple[str, Box]]) -> list[tuple[Box, list[str]]]:
    """Fields whose lines overlap or lie within a line of each other joined into one box (a
    seller's name and the address under it are read together), with the fields each holds."""
    return stacked(named, reach=lambda box: box[3] - box[1])


BUYER_WEAK = 0.45
"""Raw confidence under which a scanned buyer's name is read again from its own columns: a
window address read on the same lines as the information block beside it comes out garbled
(``Pacific au North orthwest R Research``, ``a se En Sn``) at 0.19-0.36, one read whole at
0.53 and up (random invoices, DIN 5008 letters)."""
BUYER_COLUMNS = 0.42
"""How far right of the name's first letter a buyer's address block reaches, as a share of
the page's width (a DIN 5008 window is 85 mm of the page's 210)."""


def buyer_in_its_columns(r: Rereader, fields: dict[str, Field]) -> dict[str, Field]:
    """A scanned buyer's name read unsurely (:data:`BUYER_WEAK`), read again from its own
    columns (psm 6, the page's language): the new reading replaces it when clearly surer
    (:data:`MARGIN`)."""
    field = fields.get("buyer_name")
    if not _weak_buyer(field, r.pages):
        return fields
    assert field is not None and field.box is not None and field.page is not None
    page = r.pages[field.page]
    span = _own_columns(field.box, page, field.box[0] + BUYER_COLUMNS * page.width)
    again = (r.reread_band(page, _band(field.box, page), Variant(6, 1.0, "none"),
                           page.ocr_lang, span) or {}).get("buyer_name")
    if (
        again is not None and isinstance(again.value, str) and again.value != field.value
        and again.confidence >= field.confidence + MARGIN
    ):
        return {**fields, "buyer_name": again}
    return fields


def _weak_buyer(field: Field | None, pages: list[Page]) -> bool:
    return (
        field is not None and isinstance(field.value, str) and field.box is not None
        and field.page is not None and field.page < len(pages)
        and pages[field.page].origin == Origin.OCR and field.confidence < BUYER_WEAK
    )


VOTED = ("vendor_name", "invoice_date")
"""Fields settled by all readings together rather than reading by reading. A name or a date is a
string of characters where each reading slips on other ones; the value most readings share
(weighted by their confidence) beats one confident slip (``POPULAR BODE`` against three
``BOOK``; ``20/06/2018`` against two ``20/05/2018``). Totals are not voted: their readings
differ in which line they take, not in a letter, and voting lost two of 100 SROIE totals."""


def _part_of(value: object, whole: object) -> bool:
    """Whether a name read is some of the words of another reading, in order (``& Daughters
    Ltd`` of ``O'Connell & Daughters Ltd``): a reading that lost words, not another name."""
    if not (isinstance(value, str) and isinstance(whole, str)):
        return False
    part, words = value.casefold().split(), whole.casefold().split()
    return 0 < len(part) < len(words) and any(
        words[k : k + len(part)] == part for k in range(len(words) - len(part) + 1)
    )


def _cut_from(value: object, whole: object) -> bool:
    """Whether a name read is the end of another reading cut inside a word (``hnik GmbH`` of
    ``WeifR Elektrotechnik GmbH``): a re-read whose layout analysis split the name's line."""
    if not (isinstance(value, str) and isinstance(whole, str)):
        return False
    part, words = value.casefold().split(), whole.casefold().split()
    n = len(part)
    return 0 < n <= len(words) and any(
        words[k] != part[0] and words[k].endswith(part[0]) and words[k + 1 : k + n] == part[1:]
        for k in range(len(words) - n + 1)
    )


_DOTTED_END = re.compile(r"\b[A-Za-z]\.(?:[A-Za-z]+\.)*[A-Za-z]+\.$")
"""A name closing with a legal form written with stops (``B.V.``, ``S.p.A.``): its last stop
is print. After a one-word form (``Ltd.``) a stop may be a speck, and the reader settles it."""


def _unstopped(value: object) -> object:
    """A name closing with a dotted legal form, without its last stop; any other value as
    it is."""
    return value[:-1] if isinstance(value, str) and _DOTTED_END.search(value) else value


def vote(readings: list[Field]) -> Field:
    """The value whose readings' confidences add up to most (the first reading wins ties),
    carried by its surest reading; two or more readings agreeing count as ``+agree``. A value
    only one reading gave, against others that read something else, is only as sure as its share
    of their confidence: one reading of three (``… Logistics`` against two ``… Logistics Ltd``)
    is no surer for having won on its own. A reading that holds only some of its words (``&
    Daughters Ltd``) is not against it; one cut inside a word (``hnik GmbH``) is no reading."""
    # readings of a name that differ only in the last stop of a dotted legal form (``… B.V``
    # and ``… B.V.``) are one value, written with the stop
    stopped = {bare: f.value for f in readings if (bare := _unstopped(f.value)) != f.value}
    readings = [
        f.model_copy(update={"value": stopped[f.value]}) if f.value in stopped else f
        for f in readings
    ]
    # a reading cut inside the name's first word counts for nothing where the whole was read
    readings = [f for f in readings
                if not any(_cut_from(f.value, g.value) for g in readings)] or readings
    groups: dict[object, list[Field]] = {}
    for field in readings:
        groups.setdefault(field.value, []).append(field)
    first = readings[0].value
    best = max(
        groups, key=lambda v: (sum(f.confidence for f in groups[v]), v == first)
    )
    agreeing = groups[best]
    sure = max(agreeing, key=lambda f: f.confidence)
    if len(agreeing) < 2:
        against = [f for f in readings if f.value != best and not _part_of(f.value, best)]
        if not against:
            return sure
        share = sure.confidence / (sure.confidence + sum(f.confidence for f in against) or 1.0)
        return sure.model_copy(update={"confidence": round(sure.confidence * share, 4)})
    merged = merge(sure, agreeing[0] if agreeing[0] is not sure else agreeing[1]) or sure
    return merged


ITEM_VARIANTS = (Variant(6, 1.0, "none"), Variant(4, 1.0, "none"))
"""Whole-page re-readings for an item table that did not add up: psm 6 and 4 keep a table's
rows, which the page's first reading (psm 3) may split or merge."""


def _items_off(extraction: Extraction) -> bool:
    """A scanned invoice whose item rows were not delivered: the reader gives line items only
    when they add up to a printed sum, so none means the table (if any) read wrongly."""
    return extraction.doc_type == DocType.INVOICE and "line_items" not in extraction.fields


def reread_items(r: Rereader, fields: dict[str, Field], budget: float) -> dict[str, Field]:
    """The line items from a re-reading of the first scanned page with a table-keeping mode
    (words the field re-reads already took are used again), kept only when they add up to
    the subtotal or total the other readings settled; no new reading once ``budget`` is spent."""
    from extractors.invoice import items_add_up

    page = next(p for p in r.pages if p.origin == Origin.OCR)
    settled = [fields[n].value for n in ("subtotal", "total_amount") if n in fields]
    for variant in ITEM_VARIANTS:
        if r.spent >= budget:
            break
        if _repeats_first_reading(variant, page):
            continue
        words = r.read_page(page, variant)
        if words is None:
            break
        items = r.extract_with(page, None, words).get("line_items")
        if items is not None and isinstance(items.value, list) and items_add_up(items.value, settled):
            return {**fields, "line_items": items}
    return fields


def run_cascade(
    pages: list[Page],
    extraction: Extraction,
    source: Source,
    settings: Settings,
    extractor: Extractor,
) -> tuple[Extraction, float]:
    """The extraction with weak required fields re-read where that helped, and the seconds spent.

    Each step re-reads the pages that hold a weak field (the first OCR page for a field not found)
    with the next variant, runs the same extractor again and merges field by field; it stops
    when every required field clears the threshold or the budget is spent. An invoice's item
    table that did not add up is then read again within what is left of the budget.
    """
    budget = settings.cpu_budget_seconds
    if budget <= 0 or not any(p.origin == Origin.OCR for p in pages):
        return extraction, 0.0
    weak = _weak(extraction.fields, REQUIRED.get(extraction.doc_type, ()), extractor.name, pages)
    items_off = _items_off(extraction)
    # however sure, a party's name or address read in another language than its own may
    # have lost its letters (``Brotchen-Technik Nord GmbH`` at 0.96, twice on the page, posted);
    # and a scanned buyer read unsurely may be a window address garbled beside its neighbours
    other_language = any(
        read_in_another_language(name, extraction.fields.get(name), pages, settings)
        for name in PARTY_FIELDS
    )
    weak_buyer = _weak_buyer(extraction.fields.get("buyer_name"), pages)
    if not weak and not items_off and not other_language and not weak_buyer:
        return extraction, 0.0
    if BEFORE is not None and isinstance(source, Path):
        BEFORE[str(source)] = dict(extraction.fields)

    fields = dict(extraction.fields)
    readings = {n: [fields[n]] for n in VOTED if n in fields and fields[n].value is not None}
    r = Rereader(pages, source, settings, extractor)
    first_ocr = next(p.index for p in pages if p.origin == Origin.OCR)
    for variant in VARIANTS:
        if not weak or r.spent >= budget:
            break
        wanted = sorted(
            {
                (fields[n].page if n in fields and fields[n].page is not None else first_ocr)
                for n in weak
            }
        )
        new_pages = list(pages)
        for index in wanted:
            page = pages[index] if index < len(pages) else None
            if page is None or page.origin != Origin.OCR or r.spent >= budget:
                continue
            if _repeats_first_reading(variant, page):
                continue
            words = r.read_page(page, variant)
            if words is None:
                continue
            new_pages[index] = replace_band(page, None, words)
        if new_pages == pages:
            continue  # nothing re-read with this variant (it would repeat the first reading)
        again = r.extract(new_pages)
        for name in weak:
            field = again.get(name)
            if name in VOTED and field is not None and field.value is not None:
                readings.setdefault(name, []).append(field)
                fields[name] = vote(readings[name])
                continue
            merged = merge(fields.get(name), field)
            if merged is not None:
                fields[name] = merged
        fields = closing_tax(fields, again)
        weak = _weak(fields, weak, extractor.name, pages)
    if weak and r.spent < budget:
        fields = reread_bands(r, fields, weak)
    if r.spent < budget:
        fields = buyer_in_its_columns(r, fields)
    if r.spent < budget:
        fields = names_in_their_language(r, fields)
    if items_off and r.spent < budget:
        fields = reread_items(r, fields, budget)
    stats = {**extraction.stats, "cascade_reads": float(r.reads)}
    return extraction.model_copy(update={"fields": fields, "stats": stats}), r.spent
