"""Formats of CMS-1500 values: check digits, code patterns, dates, money, and OCR repairs.

A value that passes a strong check (an NPI's Luhn digit, line charges summing to box 28) can be
trusted far more than one that merely looks plausible; the extractor's confidences rest on that.
The repairs only undo OCR confusions that the box's format makes unambiguous (``O`` read where a
digit must be, a lost decimal point in an ICD-10 code).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from core.codes import CPT_HCPCS, ICD10_CM
from extractors.parsers import DIGIT_AS_LETTER

ICD10_RE = ICD10_CM
CPT_RE = CPT_HCPCS
MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")
POINTER_RE = re.compile(r"^[A-L]{1,4}$")
POS_RE = re.compile(r"^\d{2}$")
EIN_RE = re.compile(r"^\d{2}-\d{7}$")
SSN_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
MONEY_RE = re.compile(r"^\d{1,7}\.\d{2}$")
STATE_ZIP_RE = re.compile(r"^(?P<city>.+?),?\s+(?P<state>[A-Z]{2})\s+(?P<zip>\d{5}(-\d{4})?)$")

_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "I": "1",
        "L": "1",
        "|": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
        "T": "7",
    }
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_valid(value: str) -> bool:
    """A 10-digit NPI whose check digit is right (Luhn over the ``80840`` prefix + 9 digits)."""
    return bool(re.fullmatch(r"\d{10}", value)) and luhn_ok("80840" + value)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "").strip(".,;:'\"`_")


def reading_key(text: str) -> str:
    """What two readings of a code, a number or a date box are compared by: the same characters,
    dots, hyphens and spaces aside, with O and 0 (one glyph in most print) the same. A reading
    that needs another letter mended into a digit (``E01T4`` for ``E0174``) shows an ambiguous
    glyph and counts as another reading."""
    return re.sub(r"[\s.\-]", "", compact(text)).upper().replace("O", "0")


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", (text or "").upper().translate(_TO_DIGIT))


def repair_icd10(text: str) -> str:
    """An ICD-10-CM code from OCR text: letter, two digits, optional dot and up to 4 more."""
    raw = compact(text).upper().replace(",", ".")
    raw = raw.replace("..", ".")
    if not raw:
        return ""
    body = raw.replace(".", "")
    if len(body) < 3:
        return raw
    head, dot, tail = raw.partition(".")
    if dot and len(head) == 4:
        # four characters before the dot, where a category has three: a speck read as one of
        # them (``R0O5.9`` for R05.9); the one category that dropping a character leaves, as
        # read (its letter a letter, its third a digit)
        found = {_category(kept) for k in range(4)
                 if (kept := head[:k] + head[k + 1 :])[0].isalpha() and kept[2] in "AB0123456789"
                 and ICD10_RE.match(_category(kept))}
        if len(found) == 1:
            body = found.pop() + tail.replace(".", "")
    code = _category(body[:3])
    if len(body) > 3:
        code += "." + body[3:]
    return code


def _category(text: str) -> str:
    """An ICD-10-CM category from three characters read: a letter, then digits (a third read as
    a letter other than A or B is a digit, ``R0O`` for R00)."""
    third = text[2] if text[2] in "AB0123456789" else text[2].translate(_TO_DIGIT)
    return text[0].translate(DIGIT_AS_LETTER) + text[1].translate(_TO_DIGIT) + third


def repair_procedure(text: str) -> str:
    """A CPT (five digits, or four and A/F/M/T/U) or HCPCS level II code (letter + four digits)."""
    raw = compact(text).upper()
    if len(raw) != 5:
        return raw
    if raw[0] == "$":  # S read as the dollar sign
        raw = "S" + raw[1:]
    if raw[0].isalpha() and raw[0] not in "OIZSB":
        return raw[0] + raw[1:].translate(_TO_DIGIT)
    if CPT_RE.match(raw):
        return raw
    fixed = raw[:4].translate(_TO_DIGIT) + raw[4]
    return fixed if CPT_RE.match(fixed) else raw


def letter_lookalike_first(code: str) -> bool:
    """A five-digit code whose first digit is one a letter is often misread as (``1`` for
    ``J``/``I``/``L``, ``8`` for ``S``/``B``, ``0`` for ``O``/``D``/``Q``…)."""
    return len(code) == 5 and code.isdigit() and ord(code[0]) in DIGIT_AS_LETTER


_MBI_LETTER = "ACDEFGHJKMNPQRTUVWXY"
MBI_RE = re.compile(
    rf"^[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9]"
    rf"[{_MBI_LETTER}]{{2}}[0-9]{{2}}$"
)
"""A Medicare Beneficiary Identifier: 11 characters whose positions 1, 4, 7, 10 and 11 are
digits, 2, 5, 8 and 9 letters, 3 and 6 either; its letters are never S, L, O, I, B or Z."""
_MBI_DIGITS = (0, 3, 6, 9, 10)


def mbi_misread(text: str) -> str | None:
    """The MBI an insured id was meant to be when OCR read a digit of one as a letter
    (``9EGSTE7MK94`` for ``9EG5TE7MK94``: an MBI has no S, and a digit stands there), else None.
    A misread MBI is never a valid one, so the box is read again or goes to a person."""
    raw = compact(text).upper().replace("-", "")
    if len(raw) != 11 or MBI_RE.match(raw):
        return None
    return _mbi_digits(raw)


def mbi_mended(text: str) -> str | None:
    """The MBI an insured id was meant to be when OCR misread it (:func:`mbi_misread`), or read
    one glyph twice, as a letter and as the digit it looks like (``8EGS5TESMK62`` for
    ``8EG5TE5MK62``: either of ``S5`` dropped gives the same MBI); else None. A value so
    mended is a guess for a person to confirm."""
    raw = compact(text).upper().replace("-", "")
    if len(raw) != 12:
        return mbi_misread(text)
    mended = {m for i in range(12) if _read_twice(raw, i)
              and (m := _mbi_digits(raw[:i] + raw[i + 1:])) is not None}
    return mended.pop() if len(mended) == 1 else None


def _mbi_digits(raw: str) -> str | None:
    """``raw`` (11 characters) with letters in an MBI's digit places read as the digits they
    look like, when that makes it a valid MBI."""
    fixed = "".join(c.translate(_TO_DIGIT) if i in _MBI_DIGITS else c for i, c in enumerate(raw))
    return fixed if MBI_RE.match(fixed) else None


def _read_twice(raw: str, i: int) -> bool:
    """Whether ``raw[i]`` and a neighbour are one glyph read as a letter and as the digit it
    looks like (``S5``, ``0O``)."""
    here = raw[i]
    return any(
        0 <= j < len(raw) and raw[j] != here
        and (here.translate(_TO_DIGIT) == raw[j] or raw[j].translate(_TO_DIGIT) == here)
        for j in (i - 1, i + 1)
    )


def repair_tax_id(text: str) -> str:
    """An EIN (``12-3456789``) or SSN (``123-45-6789``) whose hyphens were lost but whose digit
    groups were printed apart (``12 3456789``); anything else as read."""
    raw = compact(text)
    if EIN_RE.match(raw) or SSN_RE.match(raw):
        return raw
    groups = [digits_only(g) for g in re.split(r"[\s\-.]+", (text or "").strip()) if g]
    sizes = [len(g) for g in groups]
    if sizes == [2, 7]:
        return f"{groups[0]}-{groups[1]}"
    if sizes == [3, 2, 4]:
        return "-".join(groups)
    return raw


def parse_money(text: str) -> Decimal | None:
    """``"1928.06"``, ``"1928 06"`` (dollars | cents columns) or ``"1,928.06"``."""
    raw = re.sub(r"[^0-9., ]", "", (text or "").replace("$", "")).strip()
    raw = raw.replace(",", "")
    m = re.fullmatch(r"(\d{1,7})\s*\.?\s*(\d{2})", raw.replace(" .", ".").replace(". ", "."))
    if not m:
        m = re.fullmatch(r"(\d{1,7})\s+(\d{2})", raw)
    if not m:
        return None
    try:
        return Decimal(f"{m.group(1)}.{m.group(2)}")
    except InvalidOperation:
        return None


def two_digits(text: str) -> str | None:
    d = digits_only(text)
    return d if len(d) == 2 else None


def make_date(
    mm: str | None,
    dd: str | None,
    yy: str | None,
    *,
    pivot_year: int | None = None,
    birth: bool = False,
) -> tuple[dt.date | None, bool]:
    """A date from the form's MM | DD | YY(YY) columns, and whether its century was certain.

    Two-digit service years take the century that puts the date nearest before ``pivot_year``;
    two-digit birth years follow the 00-49 → 20YY convention, flagged uncertain when ambiguous.
    """
    if not (mm and dd and yy):
        return None, False
    month, day = int(mm), int(dd)
    certain = len(yy) == 4
    if len(yy) == 4:
        year = int(yy)
    elif len(yy) == 2:
        ref = pivot_year or dt.date.today().year
        year = (ref // 100) * 100 + int(yy)
        if birth:
            # The common two-digit-year convention (00-49 → 20YY, 50-99 → 19YY), as used by the
            # claim generators we know of. The century stays uncertain (low confidence, so a
            # person looks) whenever the other century also gives a living person's age or the
            # convention puts the birth in the future — the date-in-future rule flags that too.
            year = 2000 + int(yy) if int(yy) < 50 else 1900 + int(yy)
            other = year - 100 if year >= 2000 else year + 100
            other_plausible = 0 <= ref - other <= 105
            certain = not other_plausible and year <= ref
        else:
            if year > ref + 50:
                year -= 100
            certain = True
    else:
        return None, False
    try:
        return dt.date(year, month, day), certain
    except ValueError:
        return None, False


def split_location(text: str) -> tuple[str, str, str] | None:
    """``CITY, ST 12345`` → (city, state, zip) when it has that shape."""
    m = STATE_ZIP_RE.match(" ".join(text.split()))
    if not m:
        return None
    return m.group("city").rstrip(",. "), m.group("state"), m.group("zip")
