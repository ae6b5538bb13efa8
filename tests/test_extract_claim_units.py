"""Unit tests of the CMS-1500 reader's parts: formats, the form template, page registration."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal

import cv2
import numpy as np
import pytest

from core.models import DocType, Origin, Page, Word
from extractors import claim_formats as fmt
from extractors.claim import Cells, ClaimExtractor, _cells_from_text_layer, interpret
from extractors.claim_align import register, repair_streaks, template_rules
from extractors.claim_read import CellText
from extractors.claim_template import load_layout

# ------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "npi, ok",
    [
        ("1234567893", True),  # CMS's published example NPI
        ("2881346532", True),
        ("1234567890", False),
        ("123456789", False),
        ("12345678931", False),
    ],
)
def test_npi_check_digit(npi: str, ok: bool) -> None:
    assert fmt.npi_valid(npi) is ok


@pytest.mark.parametrize(
    "text, code",
    [
        ("M54.50", "M54.50"),
        ("M5450", "M54.50"),  # lost decimal point
        ("MS4.50", "M54.50"),  # S where a digit must be
        ("T88.7XXA", "T88.7XXA"),
        ("R21", "R21"),
        ("0 54.5", "O54.5"),  # 0 where a letter must be
        ("U07.1", "U07.1"),  # COVID-19: U codes are real
        ("R0O5.9", "R05.9"),  # four characters before the dot: a speck read as one of them
        ("(R05.9", "R05.9"),
        ("K2I.9", "K21.9"),  # a category's third is a digit...
        ("C4A.9", "C4A.9"),  # ...or the A or B of seven categories
        ("2115.1", "Z11.51"),  # no character to drop leaves a category: the dot is misplaced
    ],
)
def test_icd10_repair(text: str, code: str) -> None:
    assert fmt.repair_icd10(text) == code
    assert fmt.ICD10_RE.match(code)


@pytest.mark.parametrize(
    "text, code",
    [
        ("J0780", "J0780"),
        ("G01O2", "G0102"),
        ("99214", "99214"),
        ("0001F", "0001F"),
        ("0001A", "0001A"),  # a vaccine product
        ("0002M", "0002M"),  # a multianalyte assay
        ("$9123", "S9123"),
    ],
)
def test_procedure_repair(text: str, code: str) -> None:
    assert fmt.repair_procedure(text) == code
    assert fmt.CPT_RE.match(code)


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1928.06", Decimal("1928.06")),
        ("1928 06", Decimal("1928.06")),
        ("000", Decimal("0.00")),
        ("$ 61.59", Decimal("61.59")),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_money(text: str, amount: Decimal | None) -> None:
    assert fmt.parse_money(text) == amount


def test_two_digit_years() -> None:
    assert fmt.make_date("03", "18", "26", pivot_year=2026) == (dt.date(2026, 3, 18), True)
    assert fmt.make_date("04", "13", "65", pivot_year=2026, birth=True) == (
        dt.date(1965, 4, 13),
        True,
    )
    assert fmt.make_date("11", "01", "15", pivot_year=2026, birth=True) == (
        dt.date(2015, 11, 1),
        True,
    )
    # "YY < 50 = 20YY" gives a birth in the future: kept as read, never certain
    assert fmt.make_date("09", "10", "44", pivot_year=2026, birth=True) == (
        dt.date(2044, 9, 10),
        False,
    )
    # both centuries give a living person's age: uncertain
    assert fmt.make_date("09", "10", "25", pivot_year=2026, birth=True) == (
        dt.date(2025, 9, 10),
        False,
    )
    assert fmt.make_date("09", "10", "1944", birth=True) == (dt.date(1944, 9, 10), True)
    assert fmt.make_date("02", "30", "26", pivot_year=2026) == (None, False)


def test_split_location() -> None:
    assert fmt.split_location("WEST SHEILATON, AZ 26936") == ("WEST SHEILATON", "AZ", "26936")
    assert fmt.split_location("AMES., IA 50010") == ("AMES", "IA", "50010")
    assert fmt.split_location("no location here") is None


# ------------------------------------------------------------------------------- template


def test_layout_has_every_box_read() -> None:
    layout = load_layout()
    for name in (
        "pt_name",
        "insurance_id",
        "insurance_name",
        "birth_mm",
        "tax_id",
        "pt_account",
        "t_charge",
        "amt_paid",
        "doc_name",
        "doc_street",
        "doc_location",
        "pin",
        *(f"diagnosis{k}" for k in range(1, 13)),
        *(f"{p}{i}" for i in range(1, 7) for p in ("cpt", "ch", "day", "local", "place", "diag")),
    ):
        x0, y0, x1, y1 = layout.widgets[name]
        assert 0 <= x0 < x1 <= 612 and 0 <= y0 < y1 <= 792, name
    # service lines go down the page in order, 24 pt apart
    tops = [layout.widgets[f"cpt{i}"][1] for i in range(1, 7)]
    assert all(20 < b - a < 28 for a, b in itertools.pairwise(tops))
    assert len(layout.h_lines) > 50 and len(layout.v_lines) > 50


def _template_page(layout, scale: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    size = (round(612 * scale), round(792 * scale))
    rules = template_rules(layout, scale, size)
    page = np.full((size[1], size[0], 3), 255, np.uint8)
    page[rules > 0] = (230, 60, 70)
    return page


@pytest.mark.parametrize(
    "angle, shift, zoom", [(0.0, (0, 0), 1.0), (2.5, (30, -20), 0.95), (-4.0, (-15, 40), 1.04)]
)
def test_registration_recovers_a_known_transform(
    angle: float, shift: tuple[int, int], zoom: float
) -> None:
    layout = load_layout()
    scale = 200 / 72
    page = _template_page(layout, scale)
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    matrix[:, 2] += shift
    warped = cv2.warpAffine(page, matrix, (w, h), borderValue=(255, 255, 255))
    reg = register(warped, layout)
    truth = np.vstack([matrix, [0, 0, 1]]) @ np.diag([scale, scale, 1.0])
    for x, y in ((50, 100), (560, 100), (50, 740), (560, 740), (300, 450)):
        p = reg.homography @ np.array([x, y, 1.0])
        q = truth @ np.array([x, y, 1.0])
        assert np.hypot(*(p[:2] / p[2] - q[:2] / q[2])) < 6, (x, y)  # pixels at 200 dpi
    assert reg.score > 0.5


def test_fax_streaks_are_removed_but_text_strokes_kept() -> None:
    page = np.full((400, 300, 3), 255, np.uint8)
    page[:, 100:102] = 20  # a streak down the whole page
    page[200:204, 60:160] = 0  # a horizontal stroke crossing it
    fixed = repair_streaks(page)
    assert fixed[50, 100].min() > 200  # paper again
    assert fixed[202, 100].max() < 60  # the crossing stroke survives


# ------------------------------------------------------------------------------- text layer


TEXT_LAYER_VALUES = {
    "insurance_name": "AETNA",
    "insurance_id": "IP239925046",
    "pt_name": "HODGES, PAULA V",
    "birth_mm": "04",
    "birth_dd": "13",
    "birth_yy": "1965",
    "tax_id": "10-3778018",
    "pt_account": "ACC-747167",
    "t_charge": "519.71",
    "amt_paid": "0.00",
    "doc_name": "JERRY JONES MD",
    "doc_street": "0892 TODD RIDGES",
    "doc_location": "WEST SHEILATON, AZ 26936",
    "pin": "2881346532",
    "diagnosis1": "M54.50",
    "diagnosis2": "K59.00",
    "pt_date": "03/18/2026",
    "sv1_mm_from": "03",
    "sv1_dd_from": "18",
    "sv1_yy_from": "26",
    "sv1_mm_end": "03",
    "sv1_dd_end": "18",
    "sv1_yy_end": "26",
    "place1": "11",
    "cpt1": "J0780",
    "mod1": "50",
    "mod1a": "TC",
    "diag1": "AB",
    "ch1": "428.83",
    "day1": "1",
    "local1": "1630873820",
    "sv2_mm_from": "03",
    "sv2_dd_from": "16",
    "sv2_yy_from": "26",
    "sv2_mm_end": "03",
    "sv2_dd_end": "16",
    "sv2_yy_end": "26",
    "place2": "11",
    "cpt2": "99214",
    "diag2": "A",
    "ch2": "90.88",
    "day2": "2",
    "local2": "1630873820",
}


def _text_layer_claim() -> tuple[Page, Cells]:
    """A claim's text-layer page (``TEXT_LAYER_VALUES``) and its boxes as read from it."""
    layout = load_layout()
    w = layout.widgets
    values = TEXT_LAYER_VALUES
    words = []
    for name, value in values.items():
        x0, y0, _x1, y1 = w[name]
        x = x0 + 2
        for part in value.split(" "):
            words.append(Word(text=part, box=(x, y0 + 2, x + 5 * len(part), y1 - 2), conf=1.0))
            x += 5 * len(part) + 3
    page = Page(
        index=0, width=612, height=792, dpi=72, origin=Origin.TEXT_LAYER, text="", words=words
    )
    cells = _cells_from_text_layer(page, layout)
    assert cells is not None
    return page, cells


def test_text_layer_claim_is_read_by_box() -> None:
    layout = load_layout()
    page, cells = _text_layer_claim()
    found, _ = interpret(cells, layout, None, budget=0)
    assert found["patient_name"].value == "HODGES, PAULA V"
    assert found["patient_birth_date"].value == dt.date(1965, 4, 13)
    assert found["address"].value == "0892 TODD RIDGES, WEST SHEILATON, AZ 26936"
    assert found["billing_provider_npi"].conf >= 0.95
    assert found["diagnosis_codes"].value == ["M54.50", "K59.00"]
    lines = found["service_lines"].value
    assert [ln["procedure_code"] for ln in lines] == ["J0780", "99214"]
    assert lines[0]["modifiers"] == ["50", "TC"] and lines[1]["units"] == "2"
    assert lines[0]["rendering_npi"] == "1630873820" and lines[0]["pointers"] == "AB"
    assert found["total_amount"].value == Decimal("519.71") and found["total_amount"].conf >= 0.99
    assert found["service_date_from"].value == dt.date(2026, 3, 16)
    assert ClaimExtractor().score([page], DocType.UNKNOWN, b"") >= 0.9


def test_charges_that_add_up_to_the_total_do_not_make_the_service_lines_unsure() -> None:
    """A charge whose readings disagree is checked when the lines' charges add up to the total
    read from its own box: the disagreement no longer holds the service lines back."""
    layout = load_layout()
    _, cells = _text_layer_claim()
    scanned = dataclasses.replace(cells, method="form-ocr")
    charge = scanned.values["ch1"]
    charge.alternatives = [CellText("428.88", 0.9, charge.box)]
    found, reader = interpret(scanned, layout, None, budget=0)
    assert "ch1" in reader.second_opinions
    assert [ln["charges"] for ln in found["service_lines"].value] == [
        Decimal("428.83"), Decimal("90.88")
    ]
    assert found["service_lines"].conf >= 0.9
    weighed = found["service_lines"].weighed
    assert weighed is not None and reader.doubt(weighed) is None  # nothing to tell the reviewer
    # a total that the charges miss: the disputed charge counts again, and is told
    total = scanned.values["t_charge"]
    scanned.values["t_charge"] = CellText("519.79", 1.0, total.box)
    found, reader = interpret(scanned, layout, None, budget=0)
    assert found["service_lines"].conf <= 0.6
    weighed = found["service_lines"].weighed
    assert weighed is not None
    assert reader.doubt(weighed) == "line 1 charges: 428.83, also read 428.88"


@pytest.mark.parametrize(
    "code, lookalike",
    [("19263", True), ("89123", True), ("99214", False), ("J9263", False), ("0001F", False),
     ("4925", False)],
)
def test_letter_lookalike_first(code: str, lookalike: bool) -> None:
    """Only a five-digit code whose first digit a letter is often misread as gets a second look."""
    assert fmt.letter_lookalike_first(code) is lookalike


@pytest.mark.parametrize(
    "text, mended",
    [
        ("9EGSTE7MK94", "9EG5TE7MK94"),  # S for 5: an MBI has no S, and a digit stands there
        ("1EG4-TE5-MK73", None),  # a valid MBI, as CMS prints it
        ("IEG4TE5MK73", "1EG4TE5MK73"),  # I for 1 in the first place
        ("IM533927715", None),  # a payer's own id of 11 characters: no MBI however read
        ("XYZ123456789", None),
    ],
)
def test_a_misread_medicare_id_is_mended(text: str, mended: str | None) -> None:
    assert fmt.mbi_misread(text) == mended
    assert fmt.mbi_mended(text) == mended


@pytest.mark.parametrize(
    "text, mended",
    [
        # one glyph read twice, as S and as 5: either reading dropped gives the same MBI
        ("8EGS5TESMK62", "8EG5TE5MK62"),
        ("4EG3TES5MK53", "4EG3TE5MK53"),
        ("9EGS5TE1MK67", "9EG5TE1MK67"),
        ("8EGX5TE5MK62", None),  # an extra character that is no twin of its neighbour
        ("OU8677618580", None),  # twelve characters of no MBI
    ],
)
def test_a_medicare_id_with_a_glyph_read_twice_is_mended(text: str, mended: str | None) -> None:
    assert fmt.mbi_mended(text) == mended
    assert fmt.mbi_misread(text) is None  # the box's check is as before: the reading passes it
