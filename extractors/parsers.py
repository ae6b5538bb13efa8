"""Shared parsers: money with either decimal mark, dates in many spellings, currencies, ids.

Every parser returns ``None`` (or an empty list) when the text is not what it looks for; callers
decide what a miss means. Dates come back with an ``ambiguous`` flag so that confidence can drop
when day and month could be swapped.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import ModuleType

CENT = Decimal("0.01")
SUM_TOLERANCE = Decimal("0.011")
"""How far two sums that agree may miss each other (a cent of rounding)."""

# ---------------------------------------------------------------------------------------- money

_AMOUNT_RE = re.compile(
    r"(?:(?<=RM)|(?<=Rs)|(?<=Rp)|(?<=EUR)|(?<=USD)|(?<![\w.,]))"
    r"(?P<sign>[-−–]\s?)?"
    r"(?P<num>\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,4})?"  # Indian lakh grouping: 1,23,456.00
    r"|(?<=[€$£])\d{1,3}(?:[.,]?\d{3})*(?:\.\.|,,)\d\d"  # "€67..66": a mark OCR read twice
    r"|\d{1,3}(?:[.,' \u00a0\u202f\u2009]\d{3})+(?:[.,]\d{1,4})?|\d+(?:[.,]\d{1,4})?)"
    r"(?P<trail>-)?"
    r"(?![\w]|[.,]\d)"
)


_SIGN_BEFORE_SYMBOL = re.compile(r"(?<![\w.,])[-−–]\s?(?:[€£$¥₹]|RM|Rs\.?|EUR|USD|GBP)\s?$")
"""A minus written before the currency (``-£144.00``, ``- EUR 12,00``): the amount is negative."""
_SIGN_REACH = 8
"""How far before an amount a minus and a currency can stand (``- Rs. ``)."""


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int
    has_decimals: bool
    text: str


def parse_amount(
    text: str, *, decimal_mark: str | None = None, allow_int: bool = True
) -> Decimal | None:
    """``"1.005,55"`` → 1005.55, ``"€ 1,234.50"`` → 1234.50, ``"-8,79"`` → -8.79."""
    found = find_amounts(text, decimal_mark=decimal_mark, allow_int=allow_int)
    if len(found) != 1:
        return None
    return found[0].value


def _number(num: str, decimal_mark: str | None) -> tuple[Decimal, bool] | None:
    num = re.sub(r"[ '\u00a0\u202f\u2009]", "", num)  # spaces (also no-break, thin) group thousands
    if ".." in num or ",," in num:  # a decimal mark OCR read twice (only ``_AMOUNT_RE``'s
        num = num.replace("..", ".").replace(",,", ",")  # "€67..66" branch lets one by)
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        dec = "." if num.rfind(".") > num.rfind(",") else ","
    elif dots or commas:
        sep = "." if dots else ","
        tail = num.rsplit(sep, 1)[1]
        if (dots + commas) > 1:
            dec = None  # 1.234.567: thousands only
        elif len(tail) == 3:
            dec = sep if decimal_mark == sep else None
        else:
            dec = sep
    else:
        dec = None
    if dec is None:
        plain = num.replace(".", "").replace(",", "")
        has_dec = False
    else:
        thousands = "," if dec == "." else "."
        head, tail = num.rsplit(dec, 1)
        if dec in head:
            return None
        plain = head.replace(thousands, "") + "." + tail
        has_dec = True
    try:
        return Decimal(plain), has_dec
    except InvalidOperation:
        return None


def find_amounts(
    text: str, *, decimal_mark: str | None = None, allow_int: bool = False
) -> list[Amount]:
    """Every money-looking number in ``text``; percentages and dates are skipped."""
    out: list[Amount] = []
    for m in _AMOUNT_RE.finditer(text):
        after = text[m.end() : m.end() + 2].lstrip()
        if after.startswith("%"):
            continue
        if re.match(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}", text[m.start() : m.end() + 6]):
            continue
        parsed = _number(m.group("num"), decimal_mark)
        if parsed is None:
            continue
        value, has_dec = parsed
        if not has_dec and not allow_int:
            continue
        if m.group("sign") or m.group("trail") or _SIGN_BEFORE_SYMBOL.search(
            text, max(0, m.start() - _SIGN_REACH), m.start()
        ):
            value = -value
        out.append(
            Amount(
                value.quantize(CENT, rounding=ROUND_HALF_UP) if has_dec else value,
                m.start(),
                m.end(),
                has_dec,
                m.group(0),
            )
        )
    return out


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def guess_decimal_mark(text: str) -> str | None:
    """``","`` when the document writes amounts like ``1.234,56`` / ``12,50``, else ``"."``."""
    comma = len(re.findall(r"\d[.,]?\d*,\d{2}(?!\d)", text))
    dot = len(re.findall(r"\d,?\d*\.\d{2}(?!\d)", text))
    if comma == dot == 0:
        return None
    return "," if comma > dot else "."


# ---------------------------------------------------------------------------------------- dates

MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "january jan januar janvier janv januari jänner enero gennaio janeiro stycznia styczeń",
        "february feb februar février fevrier fév fev februari febrero febbraio fevereiro lutego luty",
        "march mar märz maerz mär mrz mars maart mac marzo março marco marts marca marzec",
        "april apr avril avr abril aprile kwietnia kwiecień",
        "may mai mei mayo maggio maio maj maja",
        "june jun juni juin junio giugno junho czerwca czerwiec",
        "july jul juli juillet juil julio luglio julho lipca lipiec",
        "august aug août aout augustus ogos agosto augusti sierpnia sierpień",
        "september sep sept septembre septiembre settembre setembro września wrzesnia wrzesień",
        "october oct oktober octobre okt octubre ottobre outubro października pazdziernika",
        "november nov novembre noviembre novembro listopada listopad",
        "december dec dezember décembre decembre dez disember diciembre dicembre dic dezembro "
        "grudnia grudzień",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _num

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ymd",
        # a zero-padded month is ISO writing, whose day has two digits too: "2025-04-1 9" is
        # 19 April with a gap OCR read inside the day
        re.compile(
            r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.]"
            r"(?P<d>(?<=[-/.](?:0\d|1[0-2])[-/.])\d\s\d(?![\d:.])|\d{1,2})(?!\d)"
        ),
    ),
    (
        "ymd",
        # "2026-09- 24", "2026- 11-23": OCR's gap beside a dash of an ISO date
        re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?-\s?(?P<m>\d{1,2})\s?-\s?(?P<d>\d{2})(?![\d.,])"),
    ),
    (
        "dmy",
        re.compile(
            r"(?<![\d.])(?P<a>\d{1,2})\s?[-/.]\s?(?P<b>\d{1,2})\s?[-/.]\s?(?P<y>\d{4}|\d{2})(?![\d])"
        ),
    ),
    (
        "d_mon_y",
        re.compile(
            rf"(?<![\w])(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?[\s\-/]*(?:(?:of|de)\s+)?"
            rf"(?P<mon>{_MONTH_ALT})\.?(?:[\s\-/,]*|:\s?(?=(?:19|20)\d\d))(?:del?\s+)?"
            rf"(?P<y>(?:19|20)?\d{{2}})(?!\d)",  # a speck read as ":" before a 4-digit year
            re.IGNORECASE,
        ),
    ),
    (
        "mon_d_y",
        re.compile(
            rf"(?<![\w])(?P<mon>{_MONTH_ALT})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<y>(?:19|20)\d{{2}})(?!\d)",
            re.IGNORECASE,
        ),
    ),
    ("compact", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")),
]


@dataclass(frozen=True)
class FoundDate:
    value: dt.date
    start: int
    end: int
    ambiguous: bool
    """True when day and month could be swapped (both ≤ 12 and different)."""
    text: str


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if y < 100 else y


def _mk(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str, *, dayfirst: bool = True) -> list[FoundDate]:
    """Dates anywhere in ``text``, in order of position, each span reported once."""
    out: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            ambiguous = False
            value: dt.date | None
            if kind in ("ymd", "compact"):
                value = _mk(int(m["y"]), int(m["m"]), int(m["d"].replace(" ", "")))
                if value is None and " " in m["d"]:  # "2025-04-3 7": joined, no day; 3 is
                    value = _mk(int(m["y"]), int(m["m"]), int(m["d"][0]))
            elif kind == "dmy":
                a, b, y = int(m["a"]), int(m["b"]), _year(m["y"])
                # dots mean day first wherever they are written (DE, NL, FR-CH, the Nordics…);
                # month-first writing uses slashes or dashes
                dotted = "/" not in m.group(0) and "-" not in m.group(0)
                day_first = dayfirst or dotted
                first = _mk(y, b, a) if day_first else _mk(y, a, b)
                second = _mk(y, a, b) if day_first else _mk(y, b, a)
                value = first or second
                ambiguous = first is not None and second is not None and a != b and not dotted
            else:
                month = MONTHS.get(m["mon"].lower().rstrip("."))
                value = _mk(_year(m["y"]), month, int(m["d"])) if month else None
            if value is None or not 1900 <= value.year <= 2100:
                continue
            taken.append((m.start(), m.end()))
            out.append(FoundDate(value, m.start(), m.end(), ambiguous, m.group(0)))
    out.sort(key=lambda f: f.start)
    return out


def date_order(text: str) -> bool | None:
    """Whether a document writes its numeric dates day first, as its own dates tell: one whose
    first part is over 12 (``23/06/2024``) is day first, one whose second part is
    (``06/23/2024``) month first. None when none tells, or they disagree; the currency and
    language then decide (a British seller billing in dollars still writes ``07/08/2024`` for
    7 August)."""
    day_first = month_first = False
    for found in find_dates(text):
        parts = re.findall(r"\d+", found.text)
        if found.ambiguous or len(parts) != 3 or len(parts[0]) > 2:
            continue  # day and month could swap, or a named month or a year-first date
        first, second = int(parts[0]), int(parts[1])
        if first > 12 and found.value.day == first:
            day_first = True
        elif second > 12 and found.value.day == second:
            month_first = True
    return day_first if day_first != month_first else None


def parse_date(text: str, *, dayfirst: bool = True) -> dt.date | None:
    found = find_dates(text, dayfirst=dayfirst)
    return found[0].value if found else None


# ------------------------------------------------------------------------------------ currencies

CURRENCY_CODES = (
    "EUR",
    "USD",
    "GBP",
    "INR",
    "MYR",
    "CHF",
    "JPY",
    "CAD",
    "AUD",
    "SGD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "CNY",
    "HKD",
    "NZD",
    "ZAR",
    "RON",
    "BGN",
    "BRL",
    "MXN",
)
_SYMBOLS = [("€", "EUR"), ("£", "GBP"), ("₹", "INR"), ("¥", "JPY"), ("zł", "PLN"), ("Kč", "CZK")]
_DOLLARS = {"US": "USD", "A": "AUD", "AU": "AUD", "C": "CAD", "CA": "CAD", "NZ": "NZD",
            "HK": "HKD", "S": "SGD", "R": "BRL", "MX": "MXN"}
"""Dollar signs with a country prefix (``A$``, ``HK$``); a bare ``$`` counts as the US dollar."""
_PREFIXED_DOLLAR = re.compile(rf"(?<![A-Za-z])({'|'.join(sorted(_DOLLARS, key=len, reverse=True))})\$")
_WORDS = [
    (r"\bUS\s?Dollars?\b", "USD"),
    (r"\bEuros?\b", "EUR"),
    (r"\bRs\.?(?=\s?-?\d)", "INR"),
    (r"\bINR\b", "INR"),
    (r"\bRM\s?(?=\d)", "MYR"),
    (r"\(RM\)", "MYR"),
    (r"\bRinggit\b", "MYR"),
    (r"\bDM\b", "DEM"),
]


def currency_votes(text: str) -> dict[str, int]:
    """How often each currency is named in ``text`` (ISO code, symbol or word)."""
    votes: dict[str, int] = {}
    for code in CURRENCY_CODES:
        n = len(re.findall(rf"(?<![A-Za-z]){code}(?![A-Za-z])", text))
        if n:
            votes[code] = votes.get(code, 0) + 2 * n
    for symbol, code in _SYMBOLS:
        n = text.count(symbol)
        if n > 0:
            votes[code] = votes.get(code, 0) + n
    prefixed = _PREFIXED_DOLLAR.findall(text)
    for prefix in prefixed:
        votes[_DOLLARS[prefix]] = votes.get(_DOLLARS[prefix], 0) + 1
    if (bare := text.count("$") - len(prefixed)) > 0:
        votes["USD"] = votes.get("USD", 0) + bare
    for pattern, code in _WORDS:
        n = len(
            re.findall(
                pattern,
                text,
                re.IGNORECASE
                if "Dollar" in pattern or "Euro" in pattern or "Ringgit" in pattern
                else 0,
            )
        )
        if n:
            votes[code] = votes.get(code, 0) + 2 * n
    return votes


# ----------------------------------------------------------------------------------- identifiers

_VAT_PREFIXES = [
    "ATU", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB", "CHE",
]
_VAT_RE = re.compile(
    rf"(?<![A-Z0-9])(?P<vat>(?:{'|'.join(_VAT_PREFIXES)})[\s\-]?(?:[0-9A-Z]{{1,2}}(?=[\s.]?\d))?"
    r"(?:[\s.]?\d){6,12}(?:B\d\d|[A-Z])?)(?![A-Z0-9])"
)


_DATE_TAIL = re.compile(r"\s\d{1,2}[./-]\d{1,2}[./-]\d{4}$")
"""``LTD 16.02.2025``: a name's ``Ltd`` before a date, no Lithuanian VAT id."""
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}(?:\s[A-Z0-9]{4}){3,}")
"""An IBAN printed in groups of four (``PL61 1090 1014 0000 …``): its head has a VAT id's shape."""
_NATIONAL_VAT = re.compile(
    r"(?<![A-Z])(?:(?P<pl>NIP)|(?P<it>P\.?\s?IVA|PARTITA\s*IVA)|(?P<pt>NIF|NIPC|CONTRIBUINTE))"
    r"\W{0,3}(?P<num>[A-Z]?\d[\d\s\-]{6,13}\d)(?![\dA-Z])"
)
"""VAT ids printed under their national name without the country prefix: Polish ``NIP``,
Italian ``P.IVA``, Portuguese ``NIF`` (Spanish when it starts with a letter)."""


def find_vat_ids(text: str) -> list[tuple[str, int, int]]:
    """EU-style VAT numbers (compact form, start, end); `vat_is_valid` checks their digits. A
    yen sign is a V or a Y OCR read so (``IE5699072¥``): the one whose id passes its check."""
    text = text.upper()
    if "¥" in text:
        for letter in "VY":
            found = _vat_ids(text.replace("¥", letter))
            if any(vat_check_passes(vat) for vat, _, _ in found):
                return found
    return _vat_ids(text)


def _vat_ids(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in _VAT_RE.finditer(text):
        if _IBAN_SHAPE.match(text, m.start()):
            continue
        raw = m.group("vat")
        compact = re.sub(r"[\s.\-]", "", raw)
        if sum(c.isdigit() for c in compact) < 7 or _DATE_TAIL.search(raw):
            continue
        out.append((_digits_mended(compact), m.start(), m.end()))
    for m in _NATIONAL_VAT.finditer(text):
        number = re.sub(r"[\s\-]", "", m.group("num"))
        country = next(k for k in ("pl", "it", "pt") if m.group(k)).upper()
        if number[0].isalpha():  # "NIF: B12345678": a Spanish company's
            country = "ES"
        if country + number not in {vat for vat, _, _ in out}:
            out.append((country + number, m.start("num"), m.end("num")))
    for pattern in (_VAT_MISREAD, _LABELLED_VAT_MISREAD):  # "1T51123530720", "17142…"
        for m in pattern.finditer(text):
            for prefix in _prefixes_read_as(m.group(1)):
                if vat_is_valid(prefix + m.group(2)):
                    out.append((prefix + m.group(2), m.start(1), m.end()))
                    break
    for m in _LABELLED_TOKEN.finditer(text):  # "1IE8058118S", "|E6727852K", "I1T98059150510"
        start, end = m.span(1)
        if not any(s <= start < e and vat_is_valid(v) for v, s, e in out):
            mended = _prefix_specks_mended(m.group(1))
            if mended is not None:
                out.append((mended, start, end))
    return out


_LABELLED_TOKEN = re.compile(
    r"\b(?:VAT|UST|TVA|BTW|IVA)(?:[\s.\-]*(?:NO|NR|ID|REG|NUMBER)\b){0,2}[\s.:#\-]{0,4}"
    r"([^\s]{9,18})(?=\s|$)"
)
"""The word after a VAT label, where OCR may have read a speck into the id's country prefix
(``1IE8058118S``, ``I1T98059150510``) or its I as a bar (``|E6727852K``)."""


def _prefix_specks_mended(token: str) -> str | None:
    """The one valid VAT id a labelled word is, with a bar read for an I and one character
    read in besides the country prefix left out (see ``_LABELLED_TOKEN``); None when no such
    reading, or more than one, passes the check digits."""
    barred = token.replace("|", "I")
    readings = {barred} | {barred[:k] + barred[k + 1 :] for k in range(3)}
    return _the_valid_one({r for r in readings if r[:2] in _VAT_PREFIXES})


def _prefixes_read_as(read: str) -> list[str]:
    """The VAT country prefixes two characters read by OCR can stand for (``17``, ``11`` → IT)."""
    options = [LETTERS_READ_AS.get(c, "") + (c if c.isalpha() else "") for c in read]
    return [a + b for a in options[0] for b in options[1] if a + b in _VAT_PREFIXES]


_VAT_MISREAD = re.compile(
    r"(?<![A-Z0-9])(\d[A-Z]|[A-Z]\d)(\d{8,12}(?:B\d\d)?|\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])"
    r"(?![A-Z0-9])"
)
"""A VAT id whose country prefix OCR read with a digit for a letter (``1T51123530720``, the
Irish ``1E1795160T``); kept only when the repaired id passes its country's check digits."""
_LABELLED_VAT_MISREAD = re.compile(
    r"\b(?:VAT|UST|TVA|BTW|IVA)(?:[\s.\-]*(?:NO|NR|ID|REG|NUMBER)\b){0,2}[\s.:#\-]{0,4}(\d\d)(\d{8,12})"
    r"(?![A-Z0-9])"
)
"""A VAT id after its label with both letters of its country read as digits (``VAT No.
1714277190253`` for IT14277190253): only after a label, as any long number would otherwise
be tried, and kept only when the repaired id passes its check digits."""


_LETTER_IN_DIGITS = re.compile(r"[OI](?=\d)")


def _digits_mended(vat: str) -> str:
    """A VAT id with an O or I that OCR read for a 0 or 1 before a digit (``NLO10171460B01``)
    put right, or read in besides its digits (``NLO053893840B01`` for NL053893840B01: the
    letter left out), when only that makes its check digits pass; else as read."""
    if vat_is_valid(vat):
        return vat
    fixed = vat[:2] + _LETTER_IN_DIGITS.sub(lambda m: "0" if m.group() == "O" else "1", vat[2:])
    if fixed != vat and vat_is_valid(fixed):
        return fixed
    dropped = {vat[: 2 + m.start()] + vat[2 + m.end() :] for m in _LETTER_IN_DIGITS.finditer(vat[2:])}
    return _the_valid_one(dropped) or vat


def _the_valid_one(readings: set[str]) -> str | None:
    """The one reading of a VAT id OCR may have misread that passes its country's check
    digits; None when none does, or more than one (the check would not tell which)."""
    valid = {r for r in readings if vat_is_valid(r)}
    return valid.pop() if len(valid) == 1 else None


def vat_is_valid(value: str) -> bool:
    from stdnum.eu import vat as eu_vat

    try:
        return bool(eu_vat.is_valid(value))
    except Exception:
        return False


def _vat_module(vat: str) -> ModuleType:
    """python-stdnum's module for a VAT id: the EU's, or Britain's (which the EU's list no
    longer holds)."""
    if vat.startswith("GB"):
        from stdnum.gb import vat as gb_vat

        return gb_vat
    from stdnum.eu import vat as eu_vat

    return eu_vat


def vat_check_passes(vat: str) -> bool:
    """Whether a VAT id's check digits pass: an EU member's, or a British one."""
    try:
        return bool(_vat_module(vat).is_valid(vat))
    except Exception:
        return False


def vat_shape_ok(value: str) -> bool:
    """Right length and characters for its country, whatever the check digit says."""
    from stdnum.exceptions import InvalidChecksum, ValidationError

    try:
        _vat_module(value).validate(value)
    except InvalidChecksum:
        return True
    except (ValidationError, Exception):
        return False
    return True


def compact_id(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


# ------------------------------------------------------------------------------------ text norms


DIGIT_AS_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "7": "T"})
"""Digits OCR reads where a letter was printed, back to that letter (``D.1.Y.``, ``19263``)."""
LETTERS_READ_AS = {chr(digit): str(letter) for digit, letter in DIGIT_AS_LETTER.items()} | {
    "1": "ITL", "0": "OD"
}
"""Every letter OCR reads as each digit, the likeliest first: a 1 is also a T or an L (``11``
for a VAT id's ``IT``), a 0 also a D."""


def fold(text: str) -> str:
    """Case-, accent- and whitespace-folded text for label matching."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.casefold()).strip()
