"""Print that Tesseract's page layout left out of every block is found and read.

Tesseract's layout analysis can drop a whole column of a table (on a 200 dpi scan enlarged to
300 dpi, a quantity column between the descriptions and the prices): its words are missing, not
misread, and no later step can bring them back. ``unread_print`` finds word-sized print that no
word read covers; ``_with_unread_print`` reads such regions and adds their words in page
coordinates. The tests take a real Tesseract reading of a rendered table and leave one column
out of it, as Tesseract did on the scans it was found on."""

from __future__ import annotations

import numpy as np
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.models import Word
from core.settings import Settings
from extractors.ocr import run_tesseract, unread_print
from extractors.pages import (
    UNREAD_REGIONS,
    _ocr_page,
    _surer_of,
    _with_unread_print,
    open_pdf,
    render_pdf_page,
)

ROWS = [
    ("Rack server 2U, dual CPU", "12", "10,260.00"),
    ("Calibration of torque wrench", "1", "47.91"),
    ("Diesel fuel, per litre", "10", "16.70"),
    ("Isopropyl alcohol, 5 L can", "7.5", "288.30"),
    ("Copper cable, per metre", "6", "7.50"),
]
QTY_X = (300, 360)
"""Points from the left where the quantity column is drawn."""


UNIT_X = 370
"""Points from the left where a unit column is drawn (``units=True``)."""


def _table(tmp_path, picture: bool = False, units: bool = False) -> np.ndarray:
    pdf_path = tmp_path / "table.pdf"
    canvas = Canvas(str(pdf_path), pagesize=A4, invariant=1)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(60, A4[1] - 100, "Description")
    canvas.drawString(QTY_X[0], A4[1] - 100, "Qty")
    canvas.drawString(430, A4[1] - 100, "Amount")
    for i, (description, qty, amount) in enumerate(ROWS):
        y = A4[1] - 125 - 20 * i
        canvas.drawString(60, y, description)
        canvas.drawString(QTY_X[0], y, qty)
        canvas.drawString(430, y, amount)
        if units:
            canvas.drawString(UNIT_X, y, "each")
    if picture:  # a solid logo and a few specks, which are no text
        canvas.rect(60, A4[1] - 400, 120, 80, fill=1)
        for x in (200, 260, 320):
            canvas.circle(x, A4[1] - 450, 0.6, fill=1)
    canvas.save()
    pdf = open_pdf(pdf_path.read_bytes())
    try:
        return render_pdf_page(pdf, 0, 300)
    finally:
        pdf.close()


def _in_qty_column(word: Word) -> bool:
    left, right = (x * 300 / 72 for x in QTY_X)
    centre = (word.box[0] + word.box[2]) / 2
    return left - 10 <= centre <= right + 10


QUANTITIES = ["Qty"] + [qty for _, qty, _ in ROWS]


def test_a_quantity_column_tesseract_leaves_out_is_read(tmp_path) -> None:
    # Tesseract 5's page layout leaves most of this narrow column out (here it read 10 and
    # 7.5 only); the page docflow reads has every quantity, once, where it is printed
    gray = _table(tmp_path)
    page = _ocr_page(gray, 0, 300, Settings(), None)
    column = sorted((w for w in page.words if _in_qty_column(w)), key=lambda w: w.box[1])
    assert [w.text for w in column] == QUANTITIES
    assert unread_print(gray, [w.box for w in page.words]) == []


def test_a_column_left_out_of_the_reading_is_found_and_read(tmp_path) -> None:
    gray = _table(tmp_path)
    words, _ = run_tesseract(gray, psm=3)
    words, _ = _with_unread_print(gray, words, "eng", Settings())
    column = [w for w in words if _in_qty_column(w)]
    kept = [w for w in words if not _in_qty_column(w)]  # the whole column left out

    regions = unread_print(gray, [w.box for w in kept])
    assert len(regions) == 1
    x0, y0, x1, y1 = regions[0]
    assert all(x0 - 5 <= w.box[0] and w.box[2] <= x1 + 5 for w in column)
    assert all(y0 - 5 <= w.box[1] and w.box[3] <= y1 + 5 for w in column)

    again, seconds = _with_unread_print(gray, kept, "eng", Settings())
    assert seconds > 0
    assert again[: len(kept)] == kept
    added = again[len(kept):]
    assert [w.text for w in sorted(added, key=lambda w: w.box[1])] == QUANTITIES
    # in page coordinates, where the words were read before
    for word in added:
        assert any(abs(word.box[0] - w.box[0]) <= 4 and abs(word.box[1] - w.box[1]) <= 4
                   for w in column), word
    assert len({w.block for w in added}) == 1 and added[0].block > max(w.block for w in kept)


def test_pictures_specks_and_a_lone_word_are_not_read_again(tmp_path) -> None:
    gray = _table(tmp_path, picture=True)
    words, _ = run_tesseract(gray, psm=3)
    words, _ = _with_unread_print(gray, words, "eng", Settings())
    # the solid logo and the specks are print no word covers, but not word-sized pieces
    assert unread_print(gray, [w.box for w in words]) == []
    again, seconds = _with_unread_print(gray, words, "eng", Settings())
    assert again == words and seconds == 0.0
    # one piece of print alone is more often a stamp's letter or a smudge than a value
    lone = next(w for w in words if w.text == "Description")
    assert unread_print(gray, [w.box for w in words if w is not lone]) == []
    assert unread_print(np.full_like(gray, 255), []) == []


def _word(text: str, box: tuple[float, float, float, float], conf: float) -> Word:
    return Word(text=text, box=box, conf=conf)


def test_of_two_readings_of_left_out_print_the_surer_is_kept() -> None:
    # within its rows a lone 1 read right; alone, as 4
    in_band = [_word("1", (1250, 573, 1262, 605), 0.91)]
    alone = [_word("4", (1249, 572, 1263, 605), 0.44)]
    assert [w.text for w in _surer_of(in_band, alone)] == ["1"]
    # within its rows a speck took the decimal point (€·8.64); alone it read right
    in_band = [_word("€864", (2140, 1380, 2300, 1420), 0.70)]
    alone = [_word("€", (2140, 1381, 2170, 1420), 0.93), _word("8.64", (2185, 1380, 2300, 1420), 0.95)]
    assert [w.text for w in _surer_of(in_band, alone)] == ["€", "8.64"]
    # a word one reading has and the other has not is kept, from either
    more = [_word("0.35", (2185, 1450, 2300, 1490), 0.96)]
    assert [w.text for w in _surer_of(more, alone)] == ["0.35", "€", "8.64"]
    assert [w.text for w in _surer_of(in_band, more)] == ["€864", "0.35"]


def test_a_till_roll_is_not_searched_for_print_left_out(tmp_path) -> None:
    # a roll is one column of print: what its reading leaves out is mostly a pen's marks (a
    # total circled by hand, read 99.45 for 50.45 beside its label, on a SROIE receipt)
    roll = np.ascontiguousarray(_table(tmp_path)[:, :1400])  # 1400 x 3508 px: a roll's shape
    words, _ = run_tesseract(roll, psm=3)
    kept = [w for w in words if not _in_qty_column(w)]  # the quantity column left out
    assert unread_print(roll, [w.box for w in kept])  # there is print to find
    again, seconds = _with_unread_print(roll, kept, "eng", Settings())
    assert again == kept and seconds == 0.0


def test_a_page_with_print_left_out_in_many_places_is_not_read_again(tmp_path) -> None:
    # a form (a CMS-1500 claim's reading leaves 4 to 18 of its captions out) or a page of
    # noise: reading every region would cost seconds a page for no field
    gray = _table(tmp_path, units=True)
    words, _ = run_tesseract(gray, psm=3)
    words, _ = _with_unread_print(gray, words, "eng", Settings())
    first_rows = {w.box[1] for w in words if w.text in ("Rack", "Calibration")}
    unit = UNIT_X * 300 / 72
    kept = [w for w in words
            if not (_in_qty_column(w) or w.box[0] > unit - 20 or w.box[1] in first_rows)]
    regions = unread_print(gray, [w.box for w in kept])
    assert len(regions) > UNREAD_REGIONS  # quantities, units, amounts, two descriptions
    again, seconds = _with_unread_print(gray, kept, "eng", Settings())
    assert again == kept and seconds == 0.0
    # with one of those regions only, it is read
    some = [w for w in words if not _in_qty_column(w)]
    assert len(_with_unread_print(gray, some, "eng", Settings())[0]) > len(some)
