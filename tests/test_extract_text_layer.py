"""Reading a born-digital page's text layer: characters, boxes and words as pdfium has them."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pypdfium2.raw as pdfium_c
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.settings import Settings
from extractors.pages import _page_chars, _page_chars_one_by_one, load_pages, open_pdf

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "invoices"


def _umlaut_pdf(path: Path) -> Path:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("Helvetica", 11)  # WinAnsi: umlauts and the euro sign
    canvas.drawString(72, 760, "Rechnung Nr. 2024-17 für Größe")
    canvas.drawString(72, 740, "Gesamtbetrag 1.234,50 €")
    canvas.save()
    return path


def _hyphen_pdf(path: Path) -> Path:
    """Words hyphenated at the ends of lines, which pdfium marks with the code 0x02."""
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("Helvetica", 11)
    canvas.drawString(72, 760, "Die Zahlungs-")
    canvas.drawString(72, 746, "bedingungen gelten ab Rechnungs-")
    canvas.drawString(72, 732, "datum.")
    canvas.save()
    return path


def test_a_page_whose_text_takes_more_utf16_units_than_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A character beyond the BMP is two UTF-16 units in the page's text: its characters are then
    asked for one by one, and come out as pdfium numbers them."""
    pdf = open_pdf(_hyphen_pdf(tmp_path / "hyphen.pdf"))
    page = pdf[0]
    textpage = page.get_textpage()
    expected = _page_chars_one_by_one(textpage)
    assert "\x02" in [ch for ch, _ in expected]  # the line-end hyphens, as GetUnicode has them
    real = pdfium_c.FPDFText_GetText

    def surrogate_pair_first(raw: Any, start: int, count: int, buffer: Any) -> int:
        written = real(raw, start, count, buffer)
        units = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
        units[0], units[1] = 0xD835, 0xDC00  # U+1D400 in place of the first character
        return written

    assert _page_chars(textpage) == expected
    monkeypatch.setattr(pdfium_c, "FPDFText_GetText", surrogate_pair_first)
    assert _page_chars(textpage) == expected
    textpage.close()
    page.close()


def test_characters_and_boxes_are_pdfiums_own(tmp_path: Path) -> None:
    """The direct C calls give what pypdfium2's per-character helpers give, character by
    character, on the shipped invoices and on a page with umlauts and a euro sign."""
    files = [*sorted(SAMPLES.glob("*.pdf"))[:4], _umlaut_pdf(tmp_path / "umlaut.pdf"),
             _hyphen_pdf(tmp_path / "hyphen.pdf")]
    checked = 0
    for path in files:
        pdf = open_pdf(path)
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            expected = [
                (chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)), textpage.get_charbox(i, loose=True))
                for i in range(textpage.count_chars())
            ]
            assert _page_chars(textpage) == expected, path.name
            checked += len(expected)
            textpage.close()
            page.close()
    assert checked > 1000


def test_words_and_lines_of_a_text_layer_page(tmp_path: Path, settings: Settings) -> None:
    [page] = load_pages(_umlaut_pdf(tmp_path / "umlaut.pdf"), "umlaut.pdf", settings)
    lines: dict[int, list[str]] = {}
    for word in page.words:
        lines.setdefault(word.line, []).append(word.text)
        assert word.conf == 1.0
        assert 0 < word.box[0] < word.box[2] < page.width
        assert 0 < word.box[1] < word.box[3] < page.height
    assert list(lines.values()) == [
        ["Rechnung", "Nr.", "2024-17", "für", "Größe"],
        ["Gesamtbetrag", "1.234,50", "€"],
    ]


def test_reading_order_groups_boxes_into_rows_top_down_left_to_right() -> None:
    """Bare boxes (as the text layer builds them, before any word exists) come back in reading
    order with their row: rows by vertical centre, within half the median height; a box a
    little lower than its neighbours stays in their row."""
    from extractors.layout import assign_lines, reading_order

    boxes = [
        (50.0, 100.0, 60.0, 110.0),  # second row, right
        (0.0, 0.0, 10.0, 10.0),  # first row, left
        (10.0, 103.0, 20.0, 113.0),  # second row, left, 3 points lower
        (30.0, 2.0, 40.0, 12.0),  # first row, right
        (0.0, 40.0, 10.0, 50.0),  # a row of its own
    ]
    assert reading_order(boxes) == [(1, 0), (3, 0), (4, 1), (2, 2), (0, 2)]
    assert reading_order([]) == []
    from core.models import Word

    words = [Word(text=str(i), box=b, conf=0.9) for i, b in enumerate(boxes)]
    assert [(w.text, w.line) for w in assign_lines(words)] == [
        ("1", 0), ("3", 0), ("4", 1), ("2", 2), ("0", 2)
    ]


def test_a_heading_boxed_unevenly_stays_one_row() -> None:
    """A speck over one word of a 58 px heading stretched its box to 112 px: its centre sat
    26 px above its neighbours', more than half the body text's height, and the heading was
    split into two rows (``Klein Drukwerk`` above ``Groot & B.V.``). Body rows keep their
    tolerance."""
    from extractors.layout import reading_order

    body = [(200.0, 269.0 + 48 * i, 430.0, 298.0 + 48 * i) for i in range(6)]
    heading = [
        (522.0, 120.0, 705.0, 232.0),  # "Klein", stretched up by a speck
        (737.0, 131.0, 1092.0, 233.0),  # "Drukwerk"
        (202.0, 173.0, 413.0, 231.0),  # "Groot"
        (441.0, 173.0, 491.0, 232.0),  # "&"
    ]
    order = reading_order(heading + body)
    rows = [row for _, row in order]
    assert [i for i, _ in order[:4]] == [2, 3, 0, 1]  # Groot & Klein Drukwerk
    assert rows[:4] == [0, 0, 0, 0]
    assert rows[4:] == [1, 2, 3, 4, 5, 6]
