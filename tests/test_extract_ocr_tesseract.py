"""The page image handed to Tesseract: ``run_tesseract`` must read exactly what the ``tesseract``
command reads from the same pixels. The hand-over file (an uncompressed TIFF, chosen for speed)
must carry no resolution of its own: a stray 72 dpi tag would make Tesseract scale every line
differently from the bench's physical limit and from what the page was tuned on. The seconds
it reports are Tesseract's CPU seconds, which the re-reading budgets count."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.models import Word
from extractors.ocr import cpu_clock, run_tesseract, without_pieces
from extractors.pages import open_pdf, render_pdf_page

LINES = [
    "Acme Supplies Ltd, 12 High Street, London",
    "Invoice number INV-2041",
    "Invoice date: 3 March 2025",
    "Paper clips 10 1.20 12.00",
    "Total amount due 12.00",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """``LINES`` printed on an A4 page and rendered at 300 dpi."""
    pdf_path = tmp_path_factory.mktemp("tesseract") / "page.pdf"
    canvas = Canvas(str(pdf_path), pagesize=A4, invariant=1)
    for i, text in enumerate(LINES):  # two columns, two sizes: layout analysis has work to do
        canvas.setFont("Helvetica", 11 if i % 2 else 8)
        canvas.drawString(60, A4[1] - 80 - 22 * i, text)
        canvas.drawString(330, A4[1] - 300 - 16 * i, text.upper())
    canvas.save()
    pdf = open_pdf(pdf_path.read_bytes())
    gray = render_pdf_page(pdf, 0, 300)
    pdf.close()
    return gray


def test_run_tesseract_reads_what_the_tesseract_command_reads(
    page: np.ndarray, tmp_path: Path
) -> None:
    png = tmp_path / "page.png"
    cv2.imwrite(str(png), page)

    done = subprocess.run(["tesseract", str(png), "stdout", "--oem", "1", "--psm", "3", "tsv"],
                          capture_output=True, text=True, check=True)
    expected = []
    for row in done.stdout.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) == 12 and cols[11].strip() and float(cols[10]) >= 0:
            left, top, width, height = map(int, cols[6:10])
            box = (left, top, left + width, top + height)
            expected.append((cols[11].strip(), box, float(cols[10]) / 100, int(cols[2])))

    words, seconds = run_tesseract(page, lang="eng", psm=3)
    assert [(w.text, w.box, w.block) for w in words] == [(t, b, n) for t, b, _, n in expected]
    # and the same confidences (pytesseract keeps whole percents)
    assert all(abs(w.conf - e[2]) < 0.01 for w, e in zip(words, expected, strict=True))
    assert "INV-2041" in [w.text for w in words]
    assert seconds > 0


def test_tesseract_seconds_are_its_cpu_seconds_on_the_calling_threads_clock(
    page: np.ndarray,
) -> None:
    """Budgets count CPU, not the wall clock: a claim's re-reads were cut short on a machine
    whose cores other work shared, which does not change what reading a box costs."""
    before = cpu_clock()
    words, seconds = run_tesseract(page, psm=3)
    spent = cpu_clock() - before
    assert "INV-2041" in [w.text for w in words]
    assert 0 < seconds <= spent  # Tesseract's own CPU, and this thread's Python work besides

    time.sleep(0.5)  # waiting is not spending
    assert cpu_clock() - before - spent < 0.1

    other: list[float] = []
    mark = cpu_clock()
    thread = threading.Thread(target=lambda: other.append(run_tesseract(page, psm=3)[1]))
    thread.start()
    thread.join()
    assert other[0] > 0
    assert cpu_clock() - mark < other[0]  # another thread's Tesseract is not this thread's


def test_a_tesseract_failure_says_why_and_a_stuck_run_is_killed(
    page: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytesseract

    with pytest.raises(pytesseract.TesseractError, match="traineddata"):
        run_tesseract(page, lang="xxx")
    monkeypatch.setattr("extractors.ocr.TESSERACT_TIMEOUT_SECONDS", 0.05)
    with pytest.raises(RuntimeError, match="timeout"):
        run_tesseract(page)


def test_tesseract_is_read_where_children_are_reaped_for_us(page: np.ndarray) -> None:
    """A host process that ignores SIGCHLD (its children are reaped by the kernel) leaves no
    resource usage to take: the words are still read, and the wall seconds stand in."""
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        words, seconds = run_tesseract(page, psm=3)
    finally:
        signal.signal(signal.SIGCHLD, before)
    assert "INV-2041" in [w.text for w in words]
    assert seconds > 0


def test_a_piece_read_inside_a_larger_word_is_left_out() -> None:
    """Tesseract gave random invoice seed 43000's ``Stockport SK4 1AA`` as ``… 1AA 1A``, the
    ``1A`` inside the ``1AA``'s box, and the address was posted with it. A piece of a word on
    the same line goes; words beside each other, words of their own inside a tall box (a logo
    read as one word over several lines), a value inside its label's stretched box and a word
    read twice alike stay."""
    def word(text: str, box: tuple[float, float, float, float], conf: float = 0.9) -> Word:
        return Word(text=text, box=box, conf=conf)

    line = [word("Stockport", (217, 315, 382, 372), 0.93), word("SK4", (396, 315, 467, 345)),
            word("1AA", (482, 315, 553, 344), 0.58), word("1A", (502, 315, 527, 345), 0.89)]
    assert [w.text for w in without_pieces(line)] == ["Stockport", "SK4", "1AA"]
    logo = [word("ACME", (100, 100, 900, 400), 0.3), word("Invoice", (150, 200, 300, 240))]
    assert without_pieces(logo) == logo
    # a label's box stretched over its value (scanned zugferd dev: the due date's own word)
    label = [word("Échéance", (570, 403, 930, 438)), word("20260914", (771, 403, 930, 438))]
    assert without_pieces(label) == label
    twice = [word("Total", (10, 10, 60, 30)), word("Total", (10, 10, 60, 30))]
    assert without_pieces(twice) == twice
