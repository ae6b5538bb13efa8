"""Parsers shared by every extractor: money in both decimal conventions, dates, currencies, ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from extractors.invoice import heal_ocr_amounts, id_parser, money_parser
from extractors.parsers import (
    currency_votes,
    find_amounts,
    find_dates,
    find_vat_ids,
    guess_decimal_mark,
    parse_amount,
    vat_is_valid,
)
from extractors.receipt import clean_company, repaired_dates


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("1.005,55", None, "1005.55"),
        ("1,005.55", None, "1005.55"),
        ("€ 2.321,00", None, "2321.00"),
        ("$4.11", None, "4.11"),
        ("-8,79", None, "-8.79"),
        ("1'234.50", None, "1234.50"),
        ("34,73", None, "34.73"),
        ("3,9000", ",", "3.9000"),
        ("1,939", None, "1939"),
        ("RM24.00", None, "24.00"),
        ("12 345,67", None, "12345.67"),
        ("-£144.00", None, "-144.00"),  # the minus before the currency sign
        ("- EUR 12,00", None, "-12.00"),
        # Indian grouping (lakh, crore): Indian invoices write 123456 as 1,23,456
        ("Rs. 1,23,456.00", None, "123456.00"),
        ("INR 12,34,56,789.50", None, "123456789.50"),
        ("₹ 1,00,000", None, "100000"),
    ],
)
def test_parse_amount(text: str, mark: str | None, expected: str) -> None:
    assert parse_amount(text, decimal_mark=mark) == Decimal(expected)


def test_lakh_grouping_needs_its_exact_shape() -> None:
    assert find_amounts("10,20,30", allow_int=True) == []  # a list of numbers, not an amount
    assert parse_amount("1,23,4567") is None


def test_amounts_skip_percentages_and_dates() -> None:
    found = find_amounts("BTW 21% € 124,61 op 21.04.2015", allow_int=False)
    assert [a.value for a in found] == [Decimal("124.61")]


def test_money_parser_needs_a_currency_for_whole_numbers() -> None:
    parse = money_parser(".")
    assert [v for v, _, _ in parse("Grand Total Rs 1939")] == [Decimal("1939.00")]
    assert parse("Order 12572103") == []


def test_ocr_split_decimals_are_healed_without_moving_text() -> None:
    healed = heal_ocr_amounts("TOTAL 79. 35 CASH")
    assert healed == "TOTAL 79.35  CASH"
    assert len(healed) == len("TOTAL 79. 35 CASH")


@pytest.mark.parametrize(
    ("text", "dayfirst", "expected", "ambiguous"),
    [
        ("Rechnungsdatum 7. Mai 2014", True, dt.date(2014, 5, 7), False),
        ("Invoice Date: August 3 , 2014", False, dt.date(2014, 8, 3), False),
        ("Factuurdatum: 19 april 2014", True, dt.date(2014, 4, 19), False),
        ("February 17, 2026", False, dt.date(2026, 2, 17), False),
        ("Date : 20260815", True, dt.date(2026, 8, 15), False),
        ("25/12/2018", True, dt.date(2018, 12, 25), False),
        ("03/04/2018", True, dt.date(2018, 4, 3), True),
        ("03/04/2018", False, dt.date(2018, 3, 4), True),
        # dots are written day first everywhere: not ambiguous, even on a month-first page
        ("Datum: 03.04.2018", True, dt.date(2018, 4, 3), False),
        ("03.04.2018", False, dt.date(2018, 4, 3), False),
        ("03.04.18", True, dt.date(2018, 4, 3), False),
        ("05-AUG-2017", True, dt.date(2017, 8, 5), False),
        ("15 JUN 18", True, dt.date(2018, 6, 15), False),
        ("2018-03-16 13:18:48", True, dt.date(2018, 3, 16), False),
        # ISO writing pads the month, so its day has two digits: OCR read a gap inside the day
        ("Invoice date 2025-04-1 9 2025-04-29", True, dt.date(2025, 4, 19), False),
        ("2025-04-3 7", True, dt.date(2025, 4, 3), False),  # 37 is no day: the 3 is
        ("2025-4-1 9:30", True, dt.date(2025, 4, 1), False),  # unpadded, and a clock after it
        # a gap OCR read beside a dash of an ISO date
        ("RE-45202 | 2026-09- 24 | 2026- 11-23", True, dt.date(2026, 9, 24), False),
        ("2026- 11-23", True, dt.date(2026, 11, 23), False),
        ("le 31 décembre 1992", True, dt.date(1992, 12, 31), False),
        # German abbreviations, and the Spanish and Italian months (their OCR data ships too)
        ("Datum: 12 Mär 2024", True, dt.date(2024, 3, 12), False),
        ("3. Mrz. 2024", True, dt.date(2024, 3, 3), False),
        ("Fecha: 12 de marzo de 2024", True, dt.date(2024, 3, 12), False),
        ("1 de enero del 2024", True, dt.date(2024, 1, 1), False),
        ("Data fattura 15 settembre 2023", True, dt.date(2023, 9, 15), False),
        ("the 2nd of June 2023", False, dt.date(2023, 6, 2), False),
        # Portuguese, Polish (genitive) and Scandinavian months
        ("Data de emissão: 12 de março de 2024", True, dt.date(2024, 3, 12), False),
        ("Data wystawienia: 15 października 2024", True, dt.date(2024, 10, 15), False),
        ("Warszawa, 5 maja 2024", True, dt.date(2024, 5, 5), False),
        ("Fakturadatum 1 augusti 2024", True, dt.date(2024, 8, 1), False),
        ("Fakturadato 5. marts 2024", True, dt.date(2024, 3, 5), False),
        # a speck read as a colon before the year (seed 48000's invoice 24)
        ("Invoice Date: «17 April:2026", True, dt.date(2026, 4, 17), False),
    ],
)
def test_find_dates(text: str, dayfirst: bool, expected: dt.date, ambiguous: bool) -> None:
    found = find_dates(text, dayfirst=dayfirst)
    assert found and found[0].value == expected
    assert found[0].ambiguous is ambiguous


def test_impossible_dates_are_not_dates() -> None:
    assert find_dates("31/02/2018 and 13/13/2018") == []
    assert find_dates("on 17 Mar: 10:30") == []  # a colon before a clock, not a year


def test_ocr_date_repair_only_fixes_impossible_years() -> None:
    assert [d for d, _, _ in repaired_dates("Date: 10/03/2078 5:41")] == ["10/03/2018"]
    assert repaired_dates("Date: 10/03/2018") == []


def test_currency_votes() -> None:
    assert max(currency_votes("Total € 717,97 / € 9,32").items(), key=lambda kv: kv[1])[0] == "EUR"
    assert "USD" in currency_votes("All charges and prices are in US Dollars $4.11")
    assert "INR" in currency_votes("Grand Total Rs 1939")
    assert "MYR" in currency_votes("TOTAL RM 12.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Total A$ 12.00", {"AUD": 1}),
        ("HK$1,200.00 due", {"HKD": 1}),
        ("Valor R$ 10,00", {"BRL": 1}),
        ("US$ 5.00 and $ 6.00", {"USD": 2}),  # a bare dollar sign is the US dollar
        ("Razem 12,00 zł", {"PLN": 1}),
        ("Celkem 120 Kč", {"CZK": 1}),
    ],
)
def test_currency_signs_with_a_country(text: str, expected: dict[str, int]) -> None:
    assert currency_votes(text) == expected


def test_decimal_mark() -> None:
    assert guess_decimal_mark("Summe 1.005,55 und 12,00") == ","
    assert guess_decimal_mark("Total 1,005.55 and 12.00") == "."


def test_vat_ids() -> None:
    assert [v for v, _, _ in find_vat_ids("UStId DE 232 446 240 SWIFT HELADEF1GEL")] == [
        "DE232446240"
    ]
    assert [v for v, _, _ in find_vat_ids("DE123456789 IBAN DE28700100809999999999")] == [
        "DE123456789"
    ]
    assert [v for v, _, _ in find_vat_ids("BTW NL810433941B01")] == ["NL810433941B01"]
    assert vat_is_valid("NL810433941B01")
    assert not vat_is_valid("DE123456789")


def test_an_iban_in_groups_of_four_is_no_vat_id() -> None:
    assert find_vat_ids("Nr konta: PL61 1090 1014 0000 0712 1981 2874") == []
    assert find_vat_ids("Rekening NL91 ABNA 0417 1643 00") == []


def test_a_date_after_a_names_ltd_is_no_vat_id() -> None:
    """``Greenway Facilities Management Ltd 16.02.2025`` (a buyer's name and the date beside
    it on one scanned line) holds no Lithuanian ``LTD16022025``; dotted Belgian and Swiss ids
    are still ids."""
    assert find_vat_ids("Greenway Facilities Management Ltd 16.02.2025") == []
    assert [v for v, _, _ in find_vat_ids("BTW BE 0123.456.749 - CHE-123.456.788")] == [
        "BE0123456749", "CHE123456788"
    ]


@pytest.mark.parametrize(
    ("text", "vat"),
    [
        ("NIP: 525-123-45-67", "PL5251234567"),
        ("NIF: 509 123 456", "PT509123456"),
        ("NIF: B12345678", "ESB12345678"),
        ("P.IVA 01234567890", "IT01234567890"),
        ("Partita IVA: 01234567890", "IT01234567890"),
        ("NIP: PL5251234567", "PL5251234567"),
    ],
)
def test_vat_ids_under_their_national_name(text: str, vat: str) -> None:
    assert [v for v, _, _ in find_vat_ids(text)] == [vat]


def test_invoice_number_parser() -> None:
    assert id_parser(": 30064443 Kundennr. 47774")[0][0] == "30064443"
    assert id_parser(" # BLR_WFLD20151000982590")[0][0] == "BLR_WFLD20151000982590"
    assert id_parser(": Seite 1") == []
    assert id_parser(" FT 2024/155 ")[0][0] == "FT 2024/155"  # a series, then its number
    assert id_parser(": INV 7 days") == []


def test_company_names_lose_registration_numbers() -> None:
    assert clean_company("URBAN IDEA SDN BHD (417940-M),") == "URBAN IDEA SDN BHD"
    assert clean_company("WARAKUYA PERMAS CITY SON BHD") == "WARAKUYA PERMAS CITY SDN BHD"


def test_a_decimal_mark_ocr_read_twice_after_a_currency_sign() -> None:
    from extractors.parsers import parse_amount

    assert parse_amount("€67..66") == Decimal("67.66")  # seed 39000's scanned unit price
    assert parse_amount("$1,234..50") == Decimal("1234.50")
    assert parse_amount("£12,,50") == Decimal("12.50")
    assert parse_amount("Pos 1..10") == Decimal("1")  # no currency sign: a range, as before
    assert parse_amount("€3..125") == Decimal("3")  # three digits after it: not a price


def test_a_vat_ids_letter_read_as_a_yen_sign() -> None:
    """``IE5699072¥``: an Irish id's closing V read as a yen sign is the V or the Y whose id
    passes its check; where neither does, the id is read as it was before."""
    from extractors.parsers import find_vat_ids

    assert [v for v, _, _ in find_vat_ids("VAT No. IE5699072¥")] == ["IE5699072V"]
    assert [v for v, _, _ in find_vat_ids("VAT No. IE5699073¥")] == ["IE5699073"]


def test_a_vat_id_whose_country_letter_ocr_read_as_a_digit() -> None:
    from extractors.parsers import find_vat_ids

    assert [v for v, _, _ in find_vat_ids("VAT 1T51123530720 - fatture@example")] == ["IT51123530720"]
    assert find_vat_ids("Tel 1T51123530721") == []  # the check digit fails: no repair
    # an Irish id (seven digits and a letter) read with the I of IE as a 1
    assert [v for v, _, _ in find_vat_ids("VATNo. 1E1795160T")] == ["IE1795160T"]
    assert find_vat_ids("VATNo. 1E1795161T") == []
    # both letters of IT read as digits: only after a VAT label, and only where the check passes
    assert [v for v, _, _ in find_vat_ids("VAT No. 1714277190253")] == ["IT14277190253"]
    assert [v for v, _, _ in find_vat_ids("VAT Reg. No.: 1712171160745")] == ["IT12171160745"]
    assert find_vat_ids("Tel 1714277190253") == []
    assert [v for v, _, _ in find_vat_ids("VAT 1144841690108")] == ["IT44841690108"]  # T as a 1
    assert find_vat_ids("VAT 1144841690109") == []
    assert find_vat_ids("VAT No. 1714277190254") == []
    # a 0 read as O after the country prefix: mended only where the check digits then pass
    assert [v for v, _, _ in find_vat_ids("VAT NLO10171460B01")] == ["NL010171460B01"]
    assert [v for v, _, _ in find_vat_ids("VAT NLO10171461B01")] == ["NLO10171461B01"]
    # an O read in besides the digits (seed 39000's invoice 24): left out where the check passes
    assert [v for v, _, _ in find_vat_ids("VAT No. NLO053893840B01")] == ["NL053893840B01"]
    assert [v for v, _, _ in find_vat_ids("VAT No. NLO053893841B01")] == ["NLO053893841B01"]
    # a speck read into the country prefix after a VAT label, or its I read as a bar (seed
    # 48000's invoices 17, 20 and 23): mended only where exactly one reading passes the check
    assert [v for v, _, _ in find_vat_ids("VAT 1IE8058118S - Tel")] == ["IE8058118S"]
    assert [v for v, _, _ in find_vat_ids("VAT Reg. No.: |E6727852K ;")] == ["IE6727852K"]
    assert [v for v, _, _ in find_vat_ids("VAT No. I1T98059150510")] == ["IT98059150510"]
    assert find_vat_ids("VAT 1IE8058118T") == []
    assert find_vat_ids("Order 1IE8058118S") == []  # no label, no repair


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009"], ids=["nbsp", "narrow-nbsp", "thin"])
def test_thousands_grouped_by_a_no_break_or_thin_space(space: str) -> None:
    """French and Polish software groups thousands with a (narrow) no-break space; before,
    ``3 636,00`` read as 636.00."""
    assert [a.value for a in find_amounts(f"Total TTC 3{space}636,00 €")] == [Decimal("3636.00")]
    assert [a.value for a in find_amounts(f"12{space}345{space}678,90")] == [Decimal("12345678.90")]
