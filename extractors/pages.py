"""From a file's bytes to pages of words with boxes and confidences.

Born-digital PDF pages are read from their text layer (pypdfium2, ~1 ms a page); pages without a
usable text layer, and images (PNG, JPEG, TIFF, multi-page TIFF), are rendered, preprocessed with
OpenCV and read by Tesseract. Pages stream one at a time with at most a few in flight, so a
300-page scan never sits in memory whole. Anything that is not a readable document raises a
``BadDocumentError`` whose message a person understands.
"""

from __future__ import annotations

import ctypes
import io
import struct
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from ctypes import byref
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageSequence, UnidentifiedImageError

from core.errors import (
    BadDocumentError,
    CorruptDocumentError,
    EmptyFileError,
    EncryptedDocumentError,
    TooLargeError,
    UnsupportedFormatError,
)
from core.models import Box, Origin, Page, Word
from core.settings import Settings
from extractors.classify import shows_claim_form
from extractors.layout import (
    assign_lines,
    centre_within,
    mean_conf,
    page_text,
    reading_order,
    stacked,
)
from extractors.ocr import (
    Prepared,
    Variant,
    clear_dark_margins,
    guess_language,
    installed_languages,
    is_grainy,
    preprocess,
    reocr_band,
    run_tesseract,
    text_height,
    unread_print,
)

Source = bytes | Path

# pdfium is not thread-safe: every call into it goes through this lock.
PDFIUM_LOCK = threading.RLock()
MIN_TEXT_LAYER_CHARS = 20
DEFAULT_IMAGE_DPI = 300

MEDIA_TYPES = {
    b"%PDF": "application/pdf",
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}


def _head(source: Source, n: int = 1024) -> bytes:
    if isinstance(source, bytes):
        return source[:n]
    with Path(source).open("rb") as fh:
        return fh.read(n)


def _size(source: Source) -> int:
    return len(source) if isinstance(source, bytes) else Path(source).stat().st_size


def sniff(source: Source, filename: str = "") -> str:
    """The media type from the file's first bytes (never from its name)."""
    if _size(source) == 0:
        raise EmptyFileError("file is empty (0 bytes)")
    head = _head(source)
    for magic, media in MEDIA_TYPES.items():
        if head.startswith(magic):
            return media
    if b"%PDF-" in head:  # PDFs may carry junk before the header
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        raise UnsupportedFormatError(
            f"not a supported document type: {filename or 'file'} is a ZIP/Office archive, "
            "not a PDF or image"
        )
    try:
        head.decode("utf-8")
        kind = "a plain-text file"
    except UnicodeDecodeError:
        kind = "an unknown binary format"
    raise UnsupportedFormatError(
        f"not a supported document type: {filename or 'file'} is {kind} "
        "(supported: PDF, PNG, JPEG, TIFF)"
    )


class NeedsOcr(Exception):
    """Raised by a ``text_layer_only`` reading when a page would have to be OCR'd."""


def load_pages(source: Source, filename: str, settings: Settings, *, force_ocr: bool = False,
               image_dir: Path | None = None) -> list[Page]:
    return list(iter_pages(source, filename, settings, force_ocr=force_ocr, image_dir=image_dir))


def iter_pages(source: Source, filename: str, settings: Settings, *, force_ocr: bool = False,
               image_dir: Path | None = None, text_layer_only: bool = False) -> Iterator[Page]:
    """The document's pages in order. ``text_layer_only``: raise :class:`NeedsOcr` instead of
    OCR-ing a page (a worker process that reads only born-digital PDFs hands those back)."""
    size = _size(source)
    if size > settings.max_file_mb * 1024 * 1024:
        raise TooLargeError(
            f"file is too large: {size / 1e6:.0f} MB (limit {settings.max_file_mb} MB)"
        )
    media = sniff(source, filename)
    if media == "application/pdf":
        yield from _pdf_pages(source, settings, force_ocr=force_ocr or settings.force_ocr,
                              image_dir=image_dir, text_layer_only=text_layer_only)
    elif text_layer_only:
        raise NeedsOcr(f"{media} has no text layer")
    else:
        yield from _image_pages(source, settings, image_dir=image_dir)


def open_pdf(source: Source) -> pdfium.PdfDocument:
    with PDFIUM_LOCK:
        try:
            return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
        except pdfium.PdfiumError as exc:
            text = str(exc).lower()
            if "password" in text or "security" in text:
                raise EncryptedDocumentError(
                    "PDF is encrypted (password protected): ask the sender for an unprotected copy"
                ) from exc
            raise CorruptDocumentError(f"PDF is damaged or truncated and cannot be opened ({exc})") from exc


def _pdf_pages(source: Source, settings: Settings, *, force_ocr: bool,
               image_dir: Path | None, text_layer_only: bool = False) -> Iterator[Page]:
    pdf = open_pdf(source)
    try:
        with PDFIUM_LOCK:
            count = len(pdf)
        if count == 0:
            raise CorruptDocumentError("PDF has no pages")
        if count > settings.max_pages:
            raise TooLargeError(f"PDF has {count} pages (limit {settings.max_pages})")
        pending: list[tuple[int, Future[Page]]] = []
        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            scans = _ScanReader(pool, settings, image_dir)
            for index in range(count):
                page = None if force_ocr else _text_layer_page(pdf, index)
                if page is not None:
                    pending.append((index, _done(page)))
                elif text_layer_only:
                    raise NeedsOcr(f"page {index + 1} has no usable text layer")
                else:
                    image = render_pdf_page(pdf, index, settings.ocr_dpi)
                    pending.append((index, scans.read(image, index, settings.ocr_dpi)))
                # Bounded look-ahead: never more rendered pages alive than workers can OCR.
                while len(pending) > settings.workers:
                    yield pending.pop(0)[1].result()
            for _, fut in pending:
                yield fut.result()
    finally:
        with PDFIUM_LOCK:
            pdf.close()


class _ScanReader:
    """OCRs one document's scanned pages on ``pool``. The first ``settings.workers`` pages are
    read side by side as they come; later pages are read in the language the first page settled
    on (``deu`` for a German page): one Tesseract pass each instead of an English one and then
    another. Which pages use it depends only on their place in the document, never on which
    page happens to finish first, so a document always reads the same."""

    def __init__(self, pool: ThreadPoolExecutor, settings: Settings,
                 image_dir: Path | None) -> None:
        self.pool = pool
        self.settings = settings
        self.image_dir = image_dir
        self.started = 0
        self.first: Future[Page] | None = None
        self.language: str | None = None

    def read(self, image: np.ndarray, index: int, dpi: int) -> Future[Page]:
        if self.started >= self.settings.workers and self.first is not None:
            first, self.first = self.first.result(), None
            if first.ocr_lang != self.settings.ocr_lang:
                self.language = first.ocr_lang
        future = self.pool.submit(_ocr_page, image, index, dpi, self.settings, self.image_dir,
                                  self.language)
        if self.started == 0:
            self.first = future
        self.started += 1
        return future


def _done(page: Page) -> Future[Page]:
    fut: Future[Page] = Future()
    fut.set_result(page)
    return fut


def _text_layer_page(pdf: pdfium.PdfDocument, index: int) -> Page | None:
    """The page's words from its text layer, or None when it has no usable text."""
    with PDFIUM_LOCK:
        try:
            page = pdf[index]
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    chars = _page_chars(textpage)
                finally:
                    textpage.close()
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise CorruptDocumentError(f"PDF page {index + 1} is damaged ({exc})") from exc
    if sum(ch.isalnum() for ch, _ in chars) < MIN_TEXT_LAYER_CHARS:
        return None
    found = _chars_to_words(chars, height)
    # each word built once, with its row; model_construct: validating cost 20 µs a word
    words = [
        Word.model_construct(text=found[i][0], box=found[i][1], conf=1.0, line=line, block=0)
        for i, line in reading_order([box for _, box in found])
    ]
    return Page(index=index, width=width, height=height, dpi=72, origin=Origin.TEXT_LAYER,
                text=page_text(words), words=words)


def _page_chars(textpage: pdfium.PdfTextPage) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every character of the page with its loose box (left, bottom, right, top), through
    pdfium's C calls directly: ``PdfTextPage.get_charbox`` allocates a rectangle per character,
    which cost as much as the rest of reading a born-digital page. The characters come in one
    call (``FPDFText_GetText``, UTF-16) rather than one call each: a third less time."""
    raw = textpage.raw
    count = textpage.count_chars()
    buffer = ctypes.create_string_buffer(2 * (count + 1))
    written = pdfium_c.FPDFText_GetText(raw, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: 2 * max(written - 1, 0)].decode("utf-16-le", errors="surrogatepass")
    if len(text) != count:  # a character beyond the BMP takes two UTF-16 units: one by one
        return _page_chars_one_by_one(textpage)
    # GetText writes pdfium's marker of a hyphen that ends a line (GetUnicode's 0x02) as U+FFFE
    return _with_boxes(textpage, text.replace("\ufffe", "\x02"))


def _page_chars_one_by_one(
    textpage: pdfium.PdfTextPage,
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """``_page_chars`` asking pdfium for each character's code point on its own."""
    unicode_of, raw = pdfium_c.FPDFText_GetUnicode, textpage.raw
    return _with_boxes(textpage, "".join(chr(unicode_of(raw, i)) for i in range(textpage.count_chars())))


def _with_boxes(
    textpage: pdfium.PdfTextPage, text: str
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each character of ``text`` (the page's, in pdfium's order) with its loose box."""
    raw, box_of = textpage.raw, pdfium_c.FPDFText_GetLooseCharBox
    rect = pdfium_c.FS_RECTF()
    out = byref(rect)
    chars = []
    for i, ch in enumerate(text):
        if not box_of(raw, i, out):
            raise pdfium.PdfiumError(f"no box for character {i}")
        chars.append((ch, (rect.left, rect.bottom, rect.right, rect.top)))
    return chars


def _chars_to_words(chars: list[tuple[str, tuple[float, float, float, float]]],
                    page_height: float) -> list[tuple[str, Box]]:
    """The page's words as (text, box) in top-down coordinates: characters join a word until a
    space, a new row, or a gap wider than 0.3 of the word's height."""
    words: list[tuple[str, Box]] = []
    text: list[str] = []
    x0 = y0 = x1 = y1 = 0.0

    def flush(box: Box) -> None:
        word = "".join(text)
        if word.strip():
            words.append((word, box))
        text.clear()

    for ch, (left, bottom, right, top) in chars:
        if ch.isspace() or ch in "\x00\ufffe\uffff" or (right <= left and top <= bottom):
            if text:
                flush((x0, y0, x1, y1))
            continue
        c0, c1 = page_height - top, page_height - bottom
        if text:
            height = max(y1 - y0, c1 - c0, 1.0)
            gap = left - x1
            if abs((c0 + c1) / 2 - (y0 + y1) / 2) >= 0.6 * height or gap > 0.3 * height or gap < -2 * height:
                flush((x0, y0, x1, y1))
        if text:
            x0, y0, x1, y1 = min(x0, left), min(y0, c0), max(x1, right), max(y1, c1)
        else:
            x0, y0, x1, y1 = left, c0, right, c1
        text.append(ch)
    if text:
        flush((x0, y0, x1, y1))
    return words


def render_pdf_page(pdf: pdfium.PdfDocument, index: int, dpi: int) -> np.ndarray:
    # PDFium is not thread-safe, and that includes closing: every handle is closed here, under
    # the lock, never left to a garbage collection that may run on another thread mid-call.
    with PDFIUM_LOCK:
        page = pdf[index]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            try:
                array = bitmap.to_numpy().copy()
            finally:
                bitmap.close()
        finally:
            page.close()
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return array


def _open_image(source: Source, settings: Settings) -> Image.Image:
    # Our own pixel limit below replaces Pillow's bomb check; Pillow's warnings about damaged
    # metadata are not the reader's business (the file either decodes or raises).
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise CorruptDocumentError(f"image is damaged or not a valid image ({exc})") from exc
    if width * height > settings.max_image_pixels:
        raise TooLargeError(
            f"image is too large to process safely: {width}x{height} pixels "
            f"(limit {settings.max_image_pixels:,})"
        )
    return image


def _image_dpi(image: Image.Image) -> int:
    """The scan's resolution: from its metadata, else guessed from a letter/A4 page shape."""
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    if 100 <= value <= 1200 and value != 72:
        return value
    width, height = image.size
    if 1.2 <= height / max(width, 1) <= 1.5:  # a full page, portrait: ~8.3-8.5 inches wide
        return max(72, int(width / 8.4))
    return DEFAULT_IMAGE_DPI


def _image_frames(source: Source, settings: Settings) -> Iterator[tuple[np.ndarray, int]]:
    image = _open_image(source, settings)
    try:
        for frame in ImageSequence.Iterator(image):
            if frame.size[0] * frame.size[1] > settings.max_image_pixels:
                raise TooLargeError(f"image page is too large: {frame.size[0]}x{frame.size[1]} pixels")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array = np.asarray(frame.convert("L"))
            yield array, _image_dpi(frame)
    except BadDocumentError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError,
            TypeError, ZeroDivisionError, MemoryError) as exc:
        raise CorruptDocumentError(f"image is damaged or truncated ({exc})") from exc
    finally:
        image.close()


def _image_pages(source: Source, settings: Settings, *, image_dir: Path | None) -> Iterator[Page]:
    pending: list[Future[Page]] = []
    with ThreadPoolExecutor(max_workers=settings.workers) as pool:
        scans = _ScanReader(pool, settings, image_dir)
        for index, (array, dpi) in enumerate(_image_frames(source, settings)):
            if index >= settings.max_pages:
                raise TooLargeError(f"image has more than {settings.max_pages} pages")
            pending.append(scans.read(array, index, dpi))
            while len(pending) > settings.workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


RECEIPT_ASPECT = 1.6
"""A page this many times taller than wide is a till roll (58-80 mm), not a letter/A4 page."""
RECEIPT_PSM = 3
"""Tesseract page segmentation for till rolls. psm 6 (one uniform block) keeps more printed
rows whole and alone reads more totals (SROIE dev, no cascade: 62 vs 58 of 100), but the re-OCR
cascade's first variant is psm 6 on the same image, so a psm 6 first reading makes the cascade
repeat itself and its "+agree" meaningless; end to end psm 3 first wins (totals 66 vs 64, names
58 vs 56, dates 79 vs 78). Even with the cascade skipping the first reading's mode (it re-reads
with psm 3 instead), psm 6 first loses end to end (totals 79 vs 82, names 63 vs 66, dates 85 vs
86 with the receipt rules of 2026-11-28)."""
PAGE_PSM = 3
TEXT_HEIGHT_TARGET = 0.0
"""Receipt rolls whose characters are shorter than this (pixels) are enlarged towards it."""
MAX_UPSCALE = 2.0
MAX_DPI = 450
"""Scans finer than this (600 dpi A4 sheets with a receipt on them) are reduced to 300 dpi."""


def is_roll(gray: np.ndarray) -> bool:
    height, width = gray.shape[:2]
    return height / max(width, 1) > RECEIPT_ASPECT


def page_psm(gray: np.ndarray) -> int:
    return RECEIPT_PSM if is_roll(gray) else PAGE_PSM


def prepare_for_ocr(image: np.ndarray, dpi: int) -> tuple[Prepared, int]:
    """A scanned page enlarged where its print is small and prepared for Tesseract, and its
    resolution after that. Whether it is grainy is judged before the enlargement, which blurs
    single dark dots into blots."""
    grainy = is_grainy(image)
    image, dpi = upscale_for_ocr(image, dpi)
    return preprocess(image, dpi=dpi, smooth=grainy), dpi


def upscale_for_ocr(gray: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """Tesseract reads best at 300 dpi and ~20-30 px characters: small print is enlarged.

    Scans with a known low resolution are enlarged to about 300 dpi; a till roll (whose
    resolution is rarely recorded) is enlarged when its measured character height is small.
    """
    factor = 1.0
    if dpi < 250:
        factor = min(MAX_UPSCALE, 300 / dpi)
    elif dpi > MAX_DPI:
        factor = 300 / dpi
    elif TEXT_HEIGHT_TARGET and is_roll(gray):
        height = text_height(clear_dark_margins(gray))
        if 0 < height < TEXT_HEIGHT_TARGET * 0.8:
            factor = min(MAX_UPSCALE, TEXT_HEIGHT_TARGET / height)
    if 0.95 <= factor <= 1.05:
        return gray, dpi
    interpolation = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interpolation), int(dpi * factor)


FEW_WORDS = 30
"""A page read as fewer words than this is probably faint dot-matrix print that Tesseract sees
as specks, or a page whose layout analysis collapsed: it is read again with its strokes
thickened, in its own mode and as one block of text (psm 6), and the surest reading kept
(SROIE dev: a dotted 600 dpi scan goes from no words to its whole text, a purple-on-pink roll
from 18 words to its name, date and total)."""


FAINT_CONF = 0.70
"""A page whose words Tesseract is on average less sure of than this is probably thin or
broken print (a worn thermal roll, dot-matrix): it is also read with its strokes thickened."""


def _sure_text(words: list[Word]) -> float:
    """How much text a reading holds that Tesseract is fairly sure of (noise reads as many
    unsure words, so neither the word count nor the summed confidence will do)."""
    return sum(w.conf for w in words if w.conf >= 0.6)


LANGUAGE_KEEP = 0.8
"""The reading with the page's own language data is kept unless it holds much less sure text
than the English one (a wrong guess makes Tesseract unsure of many words)."""


def language_to_add(words: list[Word], settings: Settings) -> str | None:
    """The language whose data a page should be read again with: German, French, Dutch…
    pages read with English data lose their accents (``München`` → ``Munchen``) and misread
    words the English model does not know. None for English pages, pages whose language the
    first reading does not tell, and languages whose data is not installed."""
    if not settings.ocr_auto_langs:
        return None
    guess = guess_language(" ".join(w.text for w in words))
    if guess is None or guess in settings.ocr_lang.split("+"):
        return None
    if guess not in settings.ocr_auto_langs or guess not in installed_languages():
        return None
    return guess


def thicken(gray: np.ndarray) -> np.ndarray:
    """Dark strokes grown by a pixel each way, so that the dots of a dot-matrix glyph join up."""
    return cv2.erode(gray, np.ones((3, 3), np.uint8))


def _ocr_page(image: np.ndarray, index: int, dpi: int, settings: Settings,
              image_dir: Path | None, language: str | None = None) -> Page:
    """One page read by Tesseract. ``language``: the Tesseract language an earlier page of the
    same document settled on (``deu``); the page is read in it at once, and in English first
    only if that reading turns out to be another language's."""
    started = time.thread_time()
    psm = page_psm(image)
    prepared, dpi = prepare_for_ocr(image, dpi)
    preprocessing = time.thread_time() - started  # CPU, not wall: pages run side by side
    # Tesseract's own thresholding beat Otsu here (SROIE dev: 48 vs 43 of 75 values read), so
    # it gets the deskewed grayscale; the binarised variants serve the re-OCR cascade.
    words, lang, seconds = _read_in_its_language(prepared.gray, psm, settings, language)
    words, more = _with_unread_print(prepared.gray, words, lang, settings)
    return _page(words, prepared, index, dpi, image_dir, preprocessing + seconds + more, lang)


def _read_in_its_language(gray: np.ndarray, psm: int, settings: Settings,
                          language: str | None) -> tuple[list[Word], str, float]:
    """The page's words read in its own language, that language and the seconds spent: in
    ``language`` (an earlier page's) when given and the reading bears it out, else in the
    configured one, and again in the language that reading shows (``language_to_add``)."""
    seconds = 0.0
    if language is not None:
        words, seconds = _read_thin_print_too(gray, language, psm, settings)
        guess = guess_language(" ".join(w.text for w in words))
        if guess in (None, language):
            return words, language, seconds
    lang = settings.ocr_lang
    words, more = _read_thin_print_too(gray, lang, psm, settings)
    seconds += more
    other = language_to_add(words, settings)
    if other is not None:
        # In that language alone: ``deu+eng`` took Tesseract 1.13× as long as ``deu`` on the
        # nine such bench pages (it tries English on every word German reads unsure), and read
        # no better (scanned ZUGFeRD, 14 documents: fields 94.0 % with deu+eng, 94.6 % with deu
        # alone; scanned invoice2data the same).
        # The English reading stays to fall back on.
        again, more = run_tesseract(gray, lang=other, psm=psm, workers=settings.workers)
        seconds += more
        if _sure_text(again) >= LANGUAGE_KEEP * _sure_text(words):
            words, lang = again, other
    return words, lang, seconds

UNREAD_CONF = 0.5
"""A word read from print the page's reading left out is added when Tesseract is at least
this sure of it (what else such a region holds, a logo's or a stamp's shapes, reads unsure)."""
UNREAD_REGIONS = 3
"""A page with more regions of print its reading left out than this is not read again for
them: it is a form (a CMS-1500 claim's reading leaves 4 to 18 of its printed captions out, and
reading them cost 2.4 to 11 s a page, for no field) or a page of noise. The tables and numbers
Tesseract left out of invoices lay in one or two regions."""
UNREAD_MARGIN = 40
"""Pixels of the page around a region of print left out that are read with it alone."""
UNREAD_SLACK = 8
"""Pixels a word's centre may lie outside a region of print left out and still be its."""
AS_A_BLOCK = Variant(psm=6, scale=1.0, binarise="none")
"""Print left out read as one block of text, as it is on the prepared page."""


def _with_unread_print(gray: np.ndarray, words: list[Word], lang: str,
                       settings: Settings) -> tuple[list[Word], float]:
    """The page's words, with those of print its reading left out (``unread_print``); and the
    seconds spent. Each region is read twice as one block of text (psm 6): in the band of the
    page's whole width that holds its lines, of which only the words in the region are
    taken, and alone. Where the two readings differ the surer is kept: a column's lone ``1``
    read alone came out ``4`` (0.44) and ``1`` (0.91) within its rows, while ``€·8.64``
    with a speck read ``€864`` (0.70) within its rows and ``€ 8.64`` (0.95) alone."""
    if is_roll(gray) or _is_claim_form(words):
        # A claim form's boxes are read from the image by the CMS-1500 reader, and its
        # captions are what a reading of it leaves out (1.3 s a page for no field on the dev
        # claims). A till roll is one column of print: what its reading leaves out is mostly a
        # pen's marks (a total circled by hand read 99.45 for 50.45 beside its label, SROIE dev)
        return words, 0.0
    regions = unread_print(gray, [w.box for w in words])
    if not regions or len(regions) > UNREAD_REGIONS:
        return words, 0.0
    block = max((w.block for w in words), default=0)
    seconds = 0.0
    added: list[Word] = []
    # regions whose rows overlap are read in one band
    for (_, top, _, bottom), inside in stacked((region, _rows_of(region)) for region in regions):
        found, more = reocr_band(gray, (int(top), int(bottom)), AS_A_BLOCK, settings, lang)
        seconds += more
        in_band = [w for w in found
                   if any(centre_within(w.box, region, UNREAD_SLACK) for region in inside)]
        in_crops: list[Word] = []
        for region in inside:
            m = UNREAD_MARGIN
            found, more = reocr_band(gray, (max(0, int(region[1]) - m), int(region[3]) + m),
                                     AS_A_BLOCK, settings, lang,
                                     span=(max(0, int(region[0]) - m), int(region[2]) + m))
            seconds += more
            in_crops += found
        block += 1
        for w in _surer_of(in_band, in_crops):
            if w.conf < UNREAD_CONF or not any(c.isalnum() for c in w.text):
                continue
            if any(_overlap(w.box, other.box) for other in words):
                continue
            added.append(w.model_copy(update={"block": block}))
    return words + added, seconds


def _rows_of(region: Box) -> Box:
    """``region`` with a margin of its rows above and below it."""
    margin = int(max(region[3] - region[1], 40) * 0.1) + 10
    return region[0], max(0, int(region[1]) - margin), region[2], int(region[3]) + margin


def _surer_of(first: list[Word], second: list[Word]) -> list[Word]:
    """Two readings of the same print merged: where their words lie over each other, the
    reading Tesseract is surer of there (on average over its words) is taken; a word only one
    reading has is kept."""
    taken: list[Word] = []
    used: set[int] = set()
    for word in first:
        rivals = [i for i, other in enumerate(second) if _overlap(word.box, other.box)]
        if rivals and sum(second[i].conf for i in rivals) / len(rivals) > word.conf:
            taken += [second[i] for i in rivals if i not in used]
        else:
            taken.append(word)
        used.update(rivals)
    return taken + [w for i, w in enumerate(second) if i not in used]


def _overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share more than a third of the smaller one's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h > smaller / 3


def _is_claim_form(words: list[Word]) -> bool:
    """Whether a page's reading shows a CMS-1500 form. Its page reading only tells what the
    document is (the claim reader reads each box from the image), so it is not read again:
    neither with thickened strokes (a fax of thin print: 1.2 s, on a 3 s reading) nor for print
    it left out."""
    return shows_claim_form(" ".join(w.text for w in words))


def _read_thin_print_too(gray: np.ndarray, lang: str, psm: int,
                         settings: Settings) -> tuple[list[Word], float]:
    """Tesseract's words, and read again with thickened strokes where they look like thin or
    broken print (the surer reading is kept); and the seconds spent."""
    words, seconds = run_tesseract(gray, lang=lang, psm=psm, workers=settings.workers)
    few = len(words) < FEW_WORDS
    if (few or mean_conf(words) < FAINT_CONF) and not _is_claim_form(words):
        thick = thicken(gray)
        for mode in dict.fromkeys((psm, 6) if few else (psm,)):
            again, more = run_tesseract(thick, lang=lang, psm=mode, workers=settings.workers)
            seconds += more
            if _sure_text(again) > _sure_text(words):
                words = again
    return words, seconds


def _page(words: list[Word], prepared: Prepared, index: int, dpi: int, image_dir: Path | None,
          seconds: float, lang: str) -> Page:
    """The OCR'd page: its words in reading order, and its picture kept for reviewers."""
    words = assign_lines(words)
    height, width = prepared.gray.shape
    image_path = None
    if image_dir is not None:
        image_dir.mkdir(parents=True, exist_ok=True)
        path = image_dir / f"page-{index + 1:04d}.jpg"
        cv2.imwrite(str(path), prepared.gray, [cv2.IMWRITE_JPEG_QUALITY, 70])
        image_path = str(path)
    return Page(index=index, width=width, height=height, dpi=dpi, origin=Origin.OCR,
                text=page_text(words), words=words, image_path=image_path,
                ocr_seconds=seconds, skew_degrees=prepared.skew, ocr_lang=lang)


def page_image(source: Source, page: Page, settings: Settings) -> np.ndarray:
    """The page as the grayscale picture its word boxes refer to (for re-OCR of a region)."""
    if sniff(source) == "application/pdf":
        pdf = open_pdf(source)
        try:
            dpi = page.dpi if page.origin == Origin.OCR else settings.ocr_dpi
            gray = render_pdf_page(pdf, page.index, dpi)
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        # a text-layer page as rendered; a scanned one prepared as for its reading
        return gray if page.origin == Origin.TEXT_LAYER else preprocess(gray, dpi=dpi).gray
    for index, (gray, dpi) in enumerate(_image_frames(source, settings)):
        if index == page.index:
            return prepare_for_ocr(gray, dpi)[0].gray
    raise CorruptDocumentError(f"image has no page {page.index + 1}")


REVIEW_DPI = 110
"""Resolution of the page pictures rendered for reviewers from a PDF's text-layer pages."""


def plan_page_images(pages: list[Page], out_dir: Path) -> list[Page]:
    """Text-layer pages with the path their review picture will have, not yet rendered: it is
    drawn from the archived original when a reviewer first opens the page
    (:func:`review_jpegs`), so documents nobody looks at cost no rendering."""
    return [
        page.model_copy(update={"image_path": str(out_dir / f"page-{page.index + 1:04d}.jpg")})
        if page.image_path is None and page.origin == Origin.TEXT_LAYER
        else page
        for page in pages
    ]


def review_jpegs(source: Source, indexes: list[int], dpi: int = REVIEW_DPI) -> Iterator[tuple[int, bytes]]:
    """PDF pages drawn as the JPEGs reviewers see, the file opened once for all of them."""
    pdf = open_pdf(source)
    try:
        for index in indexes:
            ok, data = cv2.imencode(".jpg", render_pdf_page(pdf, index, dpi),
                                    [cv2.IMWRITE_JPEG_QUALITY, 80])
            if not ok:
                raise RuntimeError(f"could not encode page {index + 1} as JPEG")
            yield index, data.tobytes()
    finally:
        with PDFIUM_LOCK:
            pdf.close()
