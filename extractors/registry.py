"""One Protocol for every field extractor, and the registry that picks the best one.

Each extractor says which document types it handles, whether it can run here, and how well it
fits one document (``score``: the Factur-X reader scores 1.0 when the PDF carries invoice XML,
the layout readers 0.5 for their type). ``pick`` takes the best available one.

Raw confidences from the extractors are mapped through the calibration table
(``calibration.json``, fitted on the dev sets by ``pipeline.evaluate.fit_calibration``) so that a
confidence means the same thing whichever extractor produced it.
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.models import DocType, Extraction, Field, Origin, Page
from core.settings import Settings
from extractors.parsers import vat_check_passes, vat_shape_ok

Source = bytes | Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

# (module, class): imported lazily and guarded, so a missing optional extractor never breaks
# the others (the claim extractor is written in parallel with this module).
REGISTERED: tuple[tuple[str, str], ...] = (
    ("extractors.facturx", "FacturXExtractor"),
    ("extractors.invoice", "InvoiceExtractor"),
    ("extractors.receipt", "ReceiptExtractor"),
    ("extractors.claim", "ClaimExtractor"),
)


@runtime_checkable
class Extractor(Protocol):
    name: str
    doc_types: tuple[DocType, ...]

    def available(self) -> bool: ...

    def score(self, pages: list[Page], doc_type: DocType, source: Source) -> float: ...

    def extract(self, pages: list[Page], source: Source, settings: Settings) -> Extraction: ...


@lru_cache(maxsize=1)
def all_extractors() -> tuple[Extractor, ...]:
    found: list[Extractor] = []
    for module_name, class_name in REGISTERED:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        cls = getattr(module, class_name, None)
        if cls is None:
            continue
        extractor = cls()
        if isinstance(extractor, Extractor):
            found.append(extractor)
    return tuple(found)


def pick(
    pages: list[Page], doc_type: DocType, source: Source, *, disabled: frozenset[str] = frozenset()
) -> Extractor | None:
    """The available extractor with the highest score for this document (None when none fits)."""
    best: tuple[float, Extractor] | None = None
    for extractor in all_extractors():
        if extractor.name in disabled or doc_type not in extractor.doc_types:
            continue
        if not extractor.available():
            continue
        score = extractor.score(pages, doc_type, source)
        if score > 0 and (best is None or score > best[0]):
            best = (score, extractor)
    return best[1] if best else None


# ------------------------------------------------------------------------------- calibration


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, list[list[float]]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): v for k, v in data.get("table", {}).items()}


def field_origin(field: Field, pages: list[Page]) -> str:
    """Where a value was read: ``xml`` (embedded e-invoice), ``text`` (PDF text layer), ``ocr``."""
    if field.method.startswith("embedded_xml"):
        return "xml"
    if not pages:
        return "none"
    page = _page_of(field, pages) or pages[0]
    return "text" if page.origin == Origin.TEXT_LAYER else "ocr"


def _page_of(field: Field, pages: list[Page]) -> Page | None:
    """The page a field was read on, None when it does not say."""
    return pages[field.page] if field.page is not None and field.page < len(pages) else None


def calibration_keys(name: str, method: str, origin: str | None, extractor: str | None) -> list[str]:
    """The table's groups for a field, most specific first.

    Each extractor's own groups come first (``invoice:…``): a method name such as ``label+agree``
    means one thing in the invoice reader and another in the receipt reader, and pooling them let
    receipts' OCR slips pull down the confidence of invoice dates read the same way. The pooled
    groups without the extractor are the fallback. Within either, ``field|method`` goes before
    ``*|method`` and ``*|*``, each first on the same origin.
    """
    base = [f"{name}|{method}", f"*|{method}", "*|*"]
    keys = [f"{k}@{origin}" for k in base] + base if origin else base
    return [f"{extractor}:{k}" for k in keys] + keys if extractor else keys


GUESSES = frozenset({"fallback", "net_tax", "near_sum"})
"""Methods that guess which value is meant when nothing on the page says so (the largest
amount, the first date, the first line for the seller, a total whose line did not read as
the subtotal + tax, a scanned total the subtotal + tax miss by cents). A group pooled over
methods may lower such a reading's confidence but never raise it: the dev sets hold almost no
guesses, so the pooled group's accuracy is that of the labelled readings (a first line
``FACTURE N°`` taken for the seller came out at 0.94 and was posted)."""


def calibrated(
    field: Field,
    table: dict[str, list[list[float]]] | None = None,
    origin: str | None = None,
    extractor: str | None = None,
) -> float:
    """The calibrated confidence of a field from its raw confidence and how it was found.

    The table maps a group (:func:`calibration_keys`) to steps ``[[raw_at_least, confidence], …]``
    in increasing ``raw_at_least``; the first group the table has that holds evidence at the
    field's raw confidence (its first step's bound is reached) applies, and in it the last step
    whose bound the raw value reaches. A group fitted on fields that all came in surer says
    nothing about this one: a seller's name guessed from the page's first line (raw 0.3) must
    not borrow the accuracy of the labelled fields read from text layers (0.94 at raw 0.6 and
    up). Without a table, or with no group holding such evidence, raw confidences are kept.
    """
    table = load_calibration() if table is None else table
    if not table:
        return field.confidence
    guess = field.method.split("+")[0] in GUESSES
    for key in calibration_keys(field.name, field.method, origin, extractor):
        steps = table.get(key)
        if not steps or field.confidence < steps[0][0]:
            continue
        value = steps[0][1]
        for bound, conf in steps:
            if field.confidence >= bound:
                value = conf
        if guess and key.split("|", 1)[1].split("@")[0] == "*":
            value = min(value, field.confidence)  # other methods' accuracy says nothing of it
        return max(0.0, min(1.0, value))
    return field.confidence


CALIBRATED_EXTRACTORS = frozenset({"facturx", "invoice", "receipt"})
"""Extractors whose raw confidences the table maps (others calibrate their own)."""


ENGLISH_GUESSED_LETTERS = frozenset("é")
"""The only accented letter Tesseract's English model knows: in a name it read, it may stand for
any other (``Brötchen`` was read ``Brétchen`` at 0.96, and posted)."""
GUESSED_LETTER_CAP = 0.8
"""Confidence at most of a name or address read by the English model with such a letter, and
of an OCR'd invoice number whose characters OCR may have swapped (``AMBIGUOUS_ID``)."""
MODEL_LETTERS = {
    "eng": "é",
    "deu": "ÄÖÜßäöü",
    "fra": "ÀÂÆÇÈÉÊËÎÏÔÙÛÜàâäæçèéêëîïñôùûüÿŒœŸ",
    "ita": "ÀÈÉÌÎÒÙàèéìîòù",
    "spa": "ÁÉÍÑÓÚáéíñóú",
    "nld": "ÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜàáâäèéêëìíîïòóôöùúûü",
}
"""The letters beyond a-z each Tesseract language model reads (its LSTM unicharset, as
``combine_tessdata -u`` lists it for the models Debian ships): any other letter in a scanned
page's word came from a re-read in another language."""


@cache
def letters_lacking(lang: str | None) -> re.Pattern[str]:
    """Letters the model of ``lang`` (a page's ``ocr_lang``, ``deu+eng`` as its first) cannot
    read: English's are ``ä``, ``ß``, ``É``, ``ç``…, German's ``é``, ``É``, ``ç``…"""
    known = MODEL_LETTERS.get((lang or "eng").split("+")[0], MODEL_LETTERS["eng"])
    return re.compile(rf"[^\W\d_a-zA-Z{known}]")


OTHER_LANGUAGE_LETTERS = letters_lacking("eng")
"""Letters the English model cannot read (``ä``, ``ß``, ``É``, ``ç``…): in a name or an address
on a page read in English, they come from its lines read once more in the party's language
(``cascade.names_in_their_language``), one reading of one band, so the value is capped like a
guessed letter (and so on a page read in another language, :func:`letters_lacking`)."""
ENGLISH_U_UMLAUT = re.compile(r"(?<=[A-Za-z])ii(?=[a-z])")
"""The English model's reading of ü (``Kiihn``, ``Miinchen``): a name read so has lost its
umlauts, and may have lost others the model reads as plain letters (``Schafer``); it was
posted at 0.96 as ``Schafer & Kiihn Maschinenbau GmbH``."""
NAME_FIELDS = frozenset({"vendor_name", "buyer_name", "address"})
AMBIGUOUS_ID = re.compile(r"(?<=[A-Za-z])[10](?=[A-Za-z/])|(?<=\d)[IOlS](?=\d)")
"""Where OCR confuses I and 1, O and 0 in an identifier: a 1 or 0 in its run of letters
(``S1/5824/26`` for ``SI/5824/26``, read at 0.96), a letter among its digits (``2O24``)."""


STRAY_MARK = re.compile(r"(?:^|\s)[|¦~_°«»“”\"!\\]+(?=\s|$)")
"""A mark standing alone among a name's words: a word OCR lost (``Kite | & Ltd`` for ``Kite &
Key Ltd``, read at 0.92)."""


def _doubtful(name: str, field: Field, origin: str, pages: list[Page]) -> bool:
    """Whether OCR may have written a plausible wrong character into the value: a name read by
    the English model with its only accent, with ``ii`` for ü, or with another language's
    letters from one re-read of its lines in that language; a name with a mark in place of a
    word; an invoice number with swappable characters; or a scanned VAT id of a length or
    characters its country never gives one."""
    if not isinstance(field.value, str):
        return False
    if name in NAME_FIELDS and origin == "ocr" and STRAY_MARK.search(field.value):
        return True
    if name in NAME_FIELDS and (
        ENGLISH_GUESSED_LETTERS.intersection(field.value)
        or OTHER_LANGUAGE_LETTERS.search(field.value)
        or ENGLISH_U_UMLAUT.search(field.value)
    ):
        page = _page_of(field, pages)
        if page is None or page.origin != Origin.OCR:
            return False
        if page.ocr_lang in (None, "eng"):
            return True
        return bool(letters_lacking(page.ocr_lang).search(field.value))  # lent by a re-read
    if name == "vendor_vat" and origin == "ocr":
        # the dev sets' scanned VAT ids all have their country's shape (sample invoices print
        # placeholders such as DE123456789 whose check fails, read right): that group's
        # accuracy says nothing of one of another length (``GB4938566466``, a speck read as a
        # tenth digit, came out at 0.95)
        return not vat_check_passes(field.value) and not vat_shape_ok(field.value)
    return name == "invoice_number" and origin == "ocr" and bool(
        AMBIGUOUS_ID.search(field.value)
    )


def posting_confidence(
    field: Field,
    pages: list[Page],
    extractor: str | None,
    table: dict[str, list[list[float]]] | None = None,
) -> float:
    """A field's raw confidence calibrated, and capped where OCR may have written a plausible
    wrong character into it (:func:`_doubtful`): what the decision policy compares with the
    thresholds, and what the cascade re-reads a field until it reaches."""
    origin = field_origin(field, pages)
    confidence = calibrated(field, table, origin=origin, extractor=extractor)
    if _doubtful(field.name, field, origin, pages):
        confidence = min(confidence, GUESSED_LETTER_CAP)
    return confidence


def apply_calibration(
    extraction: Extraction,
    table: dict[str, list[list[float]]] | None = None,
    pages: list[Page] | None = None,
) -> Extraction:
    extractor = extraction.engine.get("extractor")
    if extractor not in CALIBRATED_EXTRACTORS:
        return extraction
    fields = {}
    for name, field in extraction.fields.items():
        raw = field.confidence
        confidence = posting_confidence(field, pages or [], extractor, table)
        fields[name] = field.model_copy(update={"confidence": confidence})
        extraction.stats[f"raw_conf.{name}"] = raw
    return extraction.model_copy(update={"fields": fields})
