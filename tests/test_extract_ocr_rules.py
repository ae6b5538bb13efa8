"""Ruled lines between a table's rows are cleared before OCR: a faint rule with a scan's specks
on it had been read as a row of ``ee oe`` and split the rows around it in two lines, and the
item reader lost the table. Print is left as it is, long words included. The grain of a
light-grey header band is not taken for faint print (darkened, it became specks that hid the
column heads from Tesseract)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.settings import Settings
from extractors.layout import lines_of
from extractors.ocr import clear_rules, darken_faint_print
from extractors.pages import load_pages

FONT = cv2.FONT_HERSHEY_SIMPLEX
ROWS = [
    ("Freight less than truckload", "4", "3.83", "15.32"),
    ("LED panel 600 x 600 mm", "3", "93.00", "279.00"),
    ("Calibration of torque wrench", "12", "97.59", "1171.08"),
    ("Copper cable per metre", "10", "2.51", "25.10"),
]
ROW_STEP = 80
RULE_GREY = 215


def _ruled_table(seed: int = 7) -> tuple[np.ndarray, list[int]]:
    """An A4 page at 300 dpi with an item table whose rows are parted by faint grey rules,
    specked as a scan leaves them, under paper grain; and the rules' rows."""
    rng = np.random.default_rng(seed)
    page = np.full((3508, 2480), 246, np.uint8)
    cv2.putText(page, "INVOICE 2025-118", (160, 300), FONT, 3.0, 20, 8, cv2.LINE_AA)
    cv2.putText(page, "ExtraordinarilyLongCompoundWordWithoutAnySpaces", (160, 500), FONT, 2.0, 20, 5,
                cv2.LINE_AA)
    rules = _draw_rows(page)
    for rule in rules:
        page[rule : rule + 3, 150:2330] = RULE_GREY
        specks = rng.integers(150, 2330, 60)
        for x in specks:  # a scan's dark specks along the rule
            page[rule - 1 : rule + 3, x : x + rng.integers(3, 9)] = rng.integers(60, 140)
    noisy = page.astype(np.float32) + rng.normal(0, 5, page.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8), rules


def _draw_rows(page: np.ndarray) -> list[int]:
    """The table's rows printed on ``page``; the rows their rules go on (one under each)."""
    rules = []
    for k, (desc, qty, price, amount) in enumerate(ROWS):
        y = 900 + ROW_STEP * k
        for x, text in ((160, desc), (1350, qty), (1650, price), (2000, amount)):
            cv2.putText(page, text, (x, y), FONT, 1.5, 20, 4, cv2.LINE_AA)
        rules.append(y + 22)
    return rules


def test_the_rules_are_whitened_and_the_print_is_kept() -> None:
    page, rules = _ruled_table()
    out = clear_rules(page)
    for rule in rules:
        assert out[rule - 1 : rule + 3, 150:2330].min() == 255  # the rule and its specks
    dark_before = (page < 128).sum(axis=1)
    dark_after = (out < 128).sum(axis=1)
    text_rows = [y for y in range(200, 1300) if all(abs(y - r) > 4 for r in rules)]
    assert (dark_after[text_rows] == dark_before[text_rows]).all()  # the long word as well


def test_a_pale_line_along_the_letter_tops_of_a_shaded_row_is_no_rule() -> None:
    """Seed 40000's invoice 21: on a shaded table row (grain of 212 to 250 on white paper),
    the tops of ``and accommodation`` closed into a line of 234 to 238, one pixel thick, that the
    grain above and below left standing out by more than the rule contrast. It was whitened
    with two pixels around it, which cut the words in two (``anu avcummivuuauun``). A rule
    is darker than that at its core; the faint rules of a scan still are."""
    rng = np.random.default_rng(3)
    page = np.full((2200, 2480), 255, np.uint8)
    page[1000:1080, 150:2330] = rng.integers(212, 251, (80, 2180))  # the shaded row
    page[1037, 600:1000] = 234  # the letters' tops, closed into one line
    out = clear_rules(page)
    assert (out[1030:1045, 600:1000] == page[1030:1045, 600:1000]).all()
    ruled, rules = _ruled_table()
    assert clear_rules(ruled)[rules[0] : rules[0] + 3, 150:2330].min() == 255


def test_a_page_without_rules_is_left_as_it_is() -> None:
    page = np.full((1200, 900), 240, np.uint8)
    cv2.putText(page, "TOTAL 12.00", (60, 300), FONT, 1.4, 0, 3)
    assert clear_rules(page) is page


def test_each_row_of_a_ruled_table_reads_as_one_line(tmp_path: Path, settings: Settings) -> None:
    page, _ = _ruled_table()
    path = tmp_path / "ruled.png"
    cv2.imwrite(str(path), page)
    page_read = load_pages(path, path.name, settings)[0]
    lines = [" ".join(w.text for w in line.words) for line in lines_of(page_read)]
    for desc, _qty, price, amount in ROWS:
        first = desc.split()[0]
        row = [line for line in lines if first in line]
        assert len(row) == 1 and price in row[0] and amount in row[0], lines



def test_a_scanned_table_with_a_grainy_grey_head_and_faint_rules_is_read(
    tmp_path: Path, settings: Settings
) -> None:
    """The random stress set's invoice 16 of seed 39000 (200 dpi, JPEG, 1° skew): a light-grey
    header band whose grain was darkened into specks as if it were faint print, so the column
    heads were lost, and faint row rules that split every row in two. It read no item at all."""
    from samples.stress_invoices import write_one

    path = write_one(tmp_path, 16, 39000, scanned=True)
    page = load_pages(path, path.name, settings)[0]
    lines = [" ".join(w.text for w in line.words) for line in lines_of(page)]
    assert any(line.startswith("Description Qty Unit Price") for line in lines), lines
    assert "Calibration of torque wrench, with certificate 12.75 $97.59 $1,244.27" in lines


def test_the_grain_of_a_light_grey_band_is_not_darkened_and_grey_print_still_is() -> None:
    """Mid-grey print sets the page's threshold (178); the band's grain dips below the faint
    print cut-off in small clusters, which had passed for faint glyphs and been darkened."""
    page = np.full((1600, 2480), 246, np.uint8)
    for k in range(4):
        cv2.putText(page, "DELIVERY NOTE 4471 PORT OF LEITH", (160, 150 + 80 * k), FONT, 1.8, 110, 5,
                    cv2.LINE_AA)
    page[600:690, 150:2330] = 230  # the band, with the column heads in it
    cv2.putText(page, "Description   Qty   Amount", (200, 662), FONT, 1.6, 110, 4, cv2.LINE_AA)
    for k in range(3):  # grey print on the paper
        cv2.putText(page, "PACANO HOTELS SAS  VAT FR40123456824", (300, 1200 + 90 * k), FONT, 1.6,
                    210, 4, cv2.LINE_AA)
    rng = np.random.default_rng(3)
    page = np.clip(page.astype(np.float32) + rng.normal(0, 5.5, page.shape), 0, 255).astype(np.uint8)
    out = darken_faint_print(page)
    grain = (slice(605, 630), slice(1500, 2320))  # right of the heads, above them
    assert (out[grain] == page[grain]).all()
    level = cv2.threshold(page, 0, 255, cv2.THRESH_OTSU)[0]
    footer = (slice(1120, 1500), slice(280, 2300))
    assert out[footer].min() < level < page[footer].min()


def _zebra_table(seed: int = 5) -> np.ndarray:
    """An A4 page at 300 dpi whose item rows are shaded light grey every other row (a zebra
    table), under a scan's grain, with a grey footer line to darken."""
    rng = np.random.default_rng(seed)
    page = np.full((3508, 2480), 250, np.uint8)
    for k, (desc, qty, price, amount) in enumerate(ROWS * 3):
        y = 900 + 66 * k
        if k % 2:
            page[y - 46 : y + 20, 150:2330] = 228  # the shaded row
        for x, text in ((160, desc), (1350, qty), (1650, price), (2000, amount)):
            cv2.putText(page, text, (x, y), FONT, 1.2, 20, 3, cv2.LINE_AA)
    for k in range(3):
        cv2.putText(page, "PACANO HOTELS SAS  VAT FR40123456824", (300, 2600 + 90 * k), FONT, 1.6,
                    205, 4, cv2.LINE_AA)
    grain = cv2.GaussianBlur(rng.normal(0, 1, page.shape).astype(np.float32), (0, 0), 1.2)
    grain *= 14 / grain.std()  # a scan's grain is blotchy, not pixel by pixel
    return np.clip(page.astype(np.float32) + grain, 0, 255).astype(np.uint8)


def test_the_grain_along_the_edges_of_shaded_rows_is_not_darkened() -> None:
    """The paper around a pixel is a median over ~5 mm: at the edge of a shaded row it was the
    white paper next to it, so the row's grain along its edges passed for faint print and was
    darkened into a line of specks over and under the row, and Tesseract read the numbers on
    those rows as ``ee et`` (seed 40000's zebra tables read no item)."""
    page = _zebra_table()
    out = darken_faint_print(page)
    for k in range(1, 12, 2):  # the shaded rows' top and bottom edges, clear of the print
        y = 900 + 66 * k
        for edge in (slice(y - 46, y - 40), slice(y + 14, y + 20)):
            assert (out[edge, 150:2330] == page[edge, 150:2330]).all(), k
    level = cv2.threshold(page, 0, 255, cv2.THRESH_OTSU)[0]
    footer = (slice(2520, 2900), slice(280, 2300))
    assert out[footer].min() < level < page[footer].min()  # faint print is still darkened


def test_a_scanned_zebra_table_reads_its_numbers(tmp_path: Path, settings: Settings) -> None:
    """The random stress set's invoice 21 of seed 40000 (200 dpi, 1° skew, every other row
    shaded): its shaded rows read ``2 FRT-LTL Freight, less-than-truckload. Q Ok. ee et``
    for ``… 100 kg 1.83 183.00``, and no item was read."""
    from samples.stress_invoices import write_one

    path = write_one(tmp_path, 21, 40000, scanned=True)
    page = load_pages(path, path.name, settings)[0]
    text = "\n".join(" ".join(w.text for w in line.words) for line in lines_of(page))
    for numbers in ("1.83 183.00", "9.12 6.84", "36.00 54.00", "157.70 118.28"):
        assert numbers in text, text


def _dotted_rules_table(seed: int = 11) -> tuple[np.ndarray, list[int]]:
    """The ruled table with its rules broken into dots and dashes, as a faint rule comes out of
    a grainy scan once its darker grains are darkened: no stretch of it is unbroken; and a
    line of small print and one of heavy bold print, which stay."""
    rng = np.random.default_rng(seed)
    page = np.full((3508, 2480), 250, np.uint8)
    cv2.putText(page, "Registered office: 14 Harbour Road, Leith EH6 6LX, company no 4471",
                (160, 400), FONT, 0.55, 30, 1, cv2.LINE_AA)  # x-height about 8 px
    cv2.putText(page, "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM", (160, 600), FONT, 1.5, 20, 9,
                cv2.LINE_AA)
    rules = _draw_rows(page)
    for rule in rules:
        dots = rng.random((3, 2180)) < 0.55  # dots over three rows, gaps of up to ~20 px
        page[rule : rule + 3, 150:2330][dots] = rng.integers(150, 215, int(dots.sum()))
    return np.clip(page.astype(np.float32) + rng.normal(0, 4, page.shape), 0, 255).astype(np.uint8), rules


def test_dotted_rules_are_whitened_and_small_and_bold_print_kept() -> None:
    """A grainy scan's faint rule is a row of dots once its darker grains are darkened; the
    closing that finds rules missed it (any gap of paper along it opened it), Tesseract read it
    as ``ea oe`` and split the rows around it (seed 37000's invoice 28)."""
    page, rules = _dotted_rules_table()
    out = clear_rules(page)
    for rule in rules:
        assert out[rule : rule + 3, 150:2330].min() >= 240, rule
    text_rows = [y for y in range(300, 1300) if all(abs(y - r) > 4 for r in rules)]
    assert ((out < 128).sum(axis=1)[text_rows] == (page < 128).sum(axis=1)[text_rows]).all()


def test_a_scanned_table_with_dotted_rules_reads_row_by_row(tmp_path: Path, settings: Settings) -> None:
    """The random stress set's invoice 28 of seed 37000 (200 dpi, grainy, faint rules): its
    rows came out split by lines of ``ea oe`` and ``— .``, and half of its items wrong."""
    from samples.stress_invoices import write_one

    path = write_one(tmp_path, 28, 37000, scanned=True)
    page = load_pages(path, path.name, settings)[0]
    lines = [" ".join(w.text for w in line.words) for line in lines_of(page)]
    for row in ("Rack server 2U, dual CPU, 256 GB RAM 24 £10,367.05 £248,809.20",
                "Ergonomic office chair, mesh back 100 £256.04 £25,604.00",
                "Euro pallet, heat treated 0.5 £15.32 £7.66"):  # (a speck may lead a row)
        assert any(line.endswith(row) for line in lines), lines


def test_a_dotted_rule_is_left_where_print_stands_on_it() -> None:
    """A box's edge runs under a total's digits (seed 40000's invoice 27): whitened there, it
    took the decimal marks standing on it, and ``£25,201.13`` read ``£25.201.13``."""
    page, rules = _dotted_rules_table()
    rule = rules[1]
    cv2.putText(page, "25,201.13", (600, rule), FONT, 1.5, 20, 4, cv2.LINE_AA)
    (width, _), _ = cv2.getTextSize("25,201.13", FONT, 1.5, 4)
    out = clear_rules(page)
    number = (slice(rule - 45, rule + 3), slice(590, 610 + width))
    assert ((out[number] < 128) == (page[number] < 128)).all()  # every mark of it
    under = (slice(rule, rule + 3), slice(610, 590 + width))
    assert (out[under] == page[under]).all()  # and the rule it stands on
    assert out[rule : rule + 3, 1000:2330].min() >= 240  # the rest of the rule is cleared
