"""Till receipts: shop name, its address, the date and the total, from a narrow scanned roll.

Receipts print the shop's name at the top (often with a company registration number under it),
its address next, then items, then a block of totals where the paid total is repeated by the
tender lines (CASH − CHANGE = TOTAL). Those repetitions are the cross-checks that make a total
trustworthy even when OCR misreads one of its copies.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from core.models import DocType, Extraction, Field, Page, Word
from core.settings import Settings
from extractors.invoice import (
    DocContext,
    Hit,
    Row,
    context,
    find_labelled,
    money_parser,
)
from extractors.layout import union_box
from extractors.parsers import find_dates

Source = bytes | Path
ENGINE = "layout-receipt-1"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


TOTAL_STRONG = _re(
    r"grand\s*tota\s*[l1i]?|amount\s*to\s*be\s*paid|to\s*be\s*paid|total\s*to\s*pay|total\s*amount|nett?\s*total|total\s*(?:payable|due|sales?\s*\(?incl)|"
    r"amount\s*(?:due|payable)|rounded\s*total|total\s*\(?rm\)?|total\s*incl|incl\w*\s*(?:of\s*)?gst\s*\)?|"
    r"jumlah|total\s*rounded|total\s*after|net\s*amount|amount\s*\(rm\)|total\s*inclusive"
)
TOTAL_PLAIN = _re(r"(?<!sub)(?<!sub\s)(?<!sub-)\btota[l1i]\b|\btotal\s*:")
TOTAL_EXCLUDE = _re(
    r"sub\s*-?\s*tota|total\s*(?:qty|quantity|items?|item\(s\)|tax|gst\s*(?!\)|incl)|excl|ex\b|"
    r"discount|saving|disc|number|no\.?\s*of|pcs|units?)|excl\w*\s*(?:of\s*)?gst|before|"
    r"qty|gst\s*summary|tax\s*summary|service\s*charge|\bsr\b|\bzr\b|\bamt\s*\(rm\)\s*=|% |"
    r"^\W*\(\s*total\s*incl"
)
CASH = _re(r"\bcash\b|tender|paid|\bpay\b|payment|visa|master|card|debit|credit")
CHANGE = _re(r"\bchange\b|\bbaki\b|\bbalance\b")
ROUNDING = _re(r"round")
SUBTOTAL = _re(r"sub\s*-?\s*tota|total\s*sales?\s*\(?excl|total\s*excl|amount\s*excl")
TAX = _re(r"\bgst\b|\btax\b|\bsst\b|service\s*tax")
DATE_LABEL = _re(r"\bdate\b|\btarikh\b|\bdt\b")
COMPANY_WORDS = _re(
    r"\b(?:sdn\.?\s*bhd\.?|bhd\.?|s/b|enterprise|enterprises|trading|restoran|restaurant|store|"
    r"mart|market|shop|hardware|kedai|pharmacy|farmasi|cafe|café|bakery|book|books|stationery|"
    r"company|co\.|\(m\)|berhad|supermarket|hypermarket|minimarket|holdings|industries|"
    r"services|motor|machinery|electrical|kitchen|food|foods|station|snack|bistro|llp|plt|"
    r"ent\.?|trading\s*co|boutique|mall|centre|center|hotel|clinic|restoran)\b"
)
NOT_NAME = _re(
    r"tax\s*invoice|invoice|receipt|welcome|tel\b|fax\b|gst\W*(?:no|id|reg|\d)|co\.?\s*reg|"
    r"[ra]eg\.?\s*no|company\s*no|business\s*no|cashier|table|date|time|order|"
    r"\bqty\b|\bprice\b|\bamount\b|\bnumber\b"
)
LEADING_NUMBER = re.compile(r"^\W*\(?\d")
ADDRESS_LIKE = _re(
    r"\bjalan\b|\bjln\b|\blot\b|\btaman\b|\blorong\b|\bpersiaran\b|\bbatu\s*\d|"
    r"^\W*no\.?\s*\d|\b\d{5}\s+[a-z]|\blevel\b|\bfloor\b|\bflr\b|\bblok\b|\bblock\b|"
    r"\bbandar\b|\bkuala\s*lumpur\b|\bselangor\b|\bjohor\b|\bdarul\b|\bmalaysia\b|"
    r"\bpulau\s*pinang\b|\bpenang\b|\bperak\b|\bmelaka\b|\bpahang\b|\bkedah\b|"
    r"\bnegeri\s*sembilan\b|\bpetaling\b|\bshah\s*alam\b"
)
"""A line of the shop's address (Malaysian street words, a lot or unit number, a postcode)."""
ADDRESS_STOP = _re(
    r"\btel\b|\bfax\b|\bphone\b|\bh/?p\b|gst|tax\s*invoice|invoice|receipt|e-?mail|@|www|"
    r"\bdate\b|cashier|\bno\.?\s*:|co\.?\s*reg|\bbill\b|\btable\b|\bdoc\b|counter|"
    r"thank|\bsst\b|reg\s*no|business\s*reg"
)
REG_NO = _re(
    r"\(\s*[0-9a-z]{3,}[-\s]?[a-z]\s*\)|\bco\.?\s*(?:reg|no)|\(\d{5,}|company\s*(?:reg|no)|\b\d{6,}-[a-z]\b"
)


def _row_conf(words: list[Word]) -> float:
    return min((w.conf for w in words), default=0.0)


def _mean_conf(words: list[Word]) -> float:
    return sum(w.conf for w in words) / len(words) if words else 0.0


# ----------------------------------------------------------------------------------- total

SUMMARY = _re(r"(?:gst|tax|sst)\s*summ|summary|tax\s*code|gst\s*analysis|\bcode\s*%")


def _without_summary(ctx: DocContext) -> DocContext:
    """The rows above the GST/tax summary table (its "TOTAL" row sums the tax, not the bill)."""
    seen_total = False  # the summary follows the totals; a "TAXCODE" column header does not
    for i, row in enumerate(ctx.rows):
        if i > 3 and seen_total and SUMMARY.search(row.folded):
            return DocContext(**{**ctx.__dict__, "rows": ctx.rows[:i]})
        seen_total = seen_total or bool(
            TOTAL_STRONG.search(row.folded) or TOTAL_PLAIN.search(row.folded) or CASH.search(row.folded)
        )
    return ctx


def read_total(ctx: DocContext) -> Field | None:
    """The paid total: labelled values, weighed by label strength and the tender cross-checks."""
    ctx = _without_summary(ctx)
    parse = money_parser(".", ocr=True)
    evidence: dict[Decimal, float] = defaultdict(float)
    hits_of: dict[Decimal, Hit] = {}
    methods: dict[Decimal, set[str]] = defaultdict(set)
    for pattern, weight in ((TOTAL_STRONG, 1.0), (TOTAL_PLAIN, 0.7)):
        for hit, _row, where in find_labelled(
            ctx.rows, pattern, parse, last=True, exclude=TOTAL_EXCLUDE
        ):
            value = hit.value
            if not isinstance(value, Decimal) or value <= 0:
                continue
            w = weight * (0.8 if where == "below" else 1.0) * (0.5 + 0.5 * hit.ocr_conf)
            evidence[value] += w
            methods[value].add("strong" if weight == 1.0 else "plain")
            if value not in hits_of or hits_of[value].ocr_conf < hit.ocr_conf:
                hits_of[value] = hit
    cash = [
        h.value
        for h, _, _ in find_labelled(ctx.rows, CASH, parse, last=True, below=False)
        if isinstance(h.value, Decimal)
    ]
    change = [
        h.value
        for h, _, _ in find_labelled(ctx.rows, CHANGE, parse, last=True, below=False)
        if isinstance(h.value, Decimal)
    ]
    subs = [
        h.value
        for h, _, _ in find_labelled(ctx.rows, SUBTOTAL, parse, last=True)
        if isinstance(h.value, Decimal)
    ]
    taxes = [
        h.value
        for h, _, _ in find_labelled(
            ctx.rows,
            TAX,
            parse,
            last=True,
            below=False,
            exclude=_re(r"summary|%|\bid\b|\bno\b|reg"),
        )
        if isinstance(h.value, Decimal)
    ]
    rounds = [
        h.value
        for h, _, _ in find_labelled(ctx.rows, ROUNDING, parse, last=True, below=False)
        if isinstance(h.value, Decimal)
    ]
    checks: dict[Decimal, int] = defaultdict(int)
    for value in list(evidence):
        if any(abs(c - ch - value) < Decimal("0.005") for c in cash for ch in change) or (
            any(abs(c - value) < Decimal("0.005") for c in cash) and any(ch == 0 for ch in change)
        ):
            checks[value] += 1
        if any(
            abs(s + t + r - value) < Decimal("0.005")
            for s in subs
            for t in [*taxes, Decimal(0)]
            for r in [*rounds, Decimal(0)]
            if s != value
        ):
            checks[value] += 1
    # CASH - CHANGE is the total the till took, a weak vote (the check above already
    # rewards a labelled total that it confirms)
    for c in cash:
        for ch in change:
            if c - ch > 0:
                evidence[c - ch] += 0.3
                methods[c - ch].add("tender")
    # subtotal + tax + rounding: a total the printer wrote, even when its own line is unreadable
    for s_ in subs:
        for t in [*taxes, Decimal(0)]:
            for r in [*rounds, Decimal(0)]:
                value = s_ + t + r
                if value > 0 and (t or r):
                    evidence[value] += 0.2
                    methods[value].add("sum")
    for value in list(evidence):  # the till's tender and the printed sums agree on an unlabelled total
        if {"tender", "sum"} <= methods[value] and not checks[value]:
            checks[value] += 1
    all_amounts = [a for r in ctx.rows for a, _, _ in parse(r.text) if isinstance(a, Decimal)]
    counts: dict[Decimal, int] = defaultdict(int)
    for a in all_amounts:
        if a > 0:
            counts[a] += 1
    for a, n in counts.items():  # totals come back in the tender and tax lines
        if n >= 2:
            evidence[a] += 0.15 * min(n - 1, 3)
            methods[a].add("repeated")
    if not evidence:
        return None
    all_amounts = [a for r in ctx.rows for a, _, _ in parse(r.text) if isinstance(a, Decimal)]
    scored = {v: evidence[v] + 0.6 * checks[v] for v in evidence}
    value = max(scored, key=lambda v: (scored[v], v))
    ranked = sorted(scored.values(), reverse=True)
    margin = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    hit = hits_of.get(value)
    repeats = sum(1 for a in all_amounts if a == value)
    if "strong" in methods[value] and checks[value]:
        method = "label+check"
    elif checks[value] and "plain" in methods[value]:
        method = "plain+check"
    elif checks[value]:
        method = "tender+sum"
    elif "strong" in methods[value]:
        method = "label"
    elif "plain" in methods[value]:
        method = "plain"
    elif "repeated" in methods[value]:
        method = "repeated"
    else:
        method = "tender"
    raw = 0.45 + 0.15 * min(margin, 2.0) + 0.08 * min(repeats - 1, 3) + 0.1 * min(checks[value], 2)
    raw *= 0.4 + 0.6 * (hit.ocr_conf if hit else 0.5)
    return Field(
        name="total_amount",
        value=value,
        raw=hit.raw if hit else str(value),
        confidence=round(max(0.0, min(1.0, raw)), 4),
        page=hit.page if hit else None,
        box=hit.box if hit else None,
        method=method,
    )


# ------------------------------------------------------------------------------------ date

_DATE_TOKEN = re.compile(
    r"(?<![\d/])([0-9OoIl|§S]{1,2})\s?[/.:\-]\s?([0-9OoIl|§S]{1,2})\s?[/.:\-]\s?"
    r"([0-9OoIl|§S]{4})(?![\w/.:-])"
)
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "§": "5", "S": "5"})


def repaired_dates(text: str, today_year: int = 2035) -> list[tuple[str, int, int]]:
    """Date tokens with OCR confusions undone: ``1O/03/2O18``, ``22/03/2078``, ``27:05:2018``.

    Only a token that does not parse as it stands is repaired, and the year's third digit is
    changed (7 → 1, 9 → 0) only when that brings an impossible year back into range.
    """
    out = []
    for m in _DATE_TOKEN.finditer(text):
        day, month, year = (g.translate(_DIGIT_FIX) for g in m.groups())
        if len(year) == 4 and not 2000 <= int(year) <= today_year and year[:2] == "20":
            fixed = (
                year[:2] + {"7": "1", "9": "0", "4": "1", "6": "0"}.get(year[2], year[2]) + year[3]
            )
            year = fixed
        if month.startswith("9") and len(month) == 2:
            month = "0" + month[1]
        if day.startswith("9") and len(day) == 2 and int(day) > 31:
            day = "0" + day[1]
        candidate = f"{day}/{month}/{year}"
        if candidate != m.group(0).replace(" ", ""):
            out.append((candidate, m.start(), m.end()))
    return out


def read_date(ctx: DocContext) -> Field | None:
    candidates: list[tuple[float, object, Row, str]] = []
    for order, row in enumerate(ctx.rows):
        if not any(
            2000 <= f.value.year <= 2035 for f in find_dates(row.text, dayfirst=ctx.dayfirst)
        ):
            for candidate, start, end in repaired_dates(row.text):
                for found in find_dates(candidate, dayfirst=ctx.dayfirst):
                    if not 2000 <= found.value.year <= 2035:
                        continue
                    words = row.words_in(start, end)
                    labelled = bool(DATE_LABEL.search(row.folded))
                    score = (0.45 + (0.2 if labelled else 0.0)) * (0.4 + 0.6 * _row_conf(words))
                    moved = found.__class__(
                        found.value, start, end, found.ambiguous, row.text[start:end]
                    )
                    candidates.append((score, moved, row, "repaired"))
        for found in find_dates(row.text, dayfirst=ctx.dayfirst):
            if not 2000 <= found.value.year <= 2035:
                continue
            words = row.words_in(found.start, found.end)
            labelled = bool(DATE_LABEL.search(row.folded))
            score = 0.5 + (0.25 if labelled else 0.0) - 0.002 * order
            score += (
                0.1
                if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", found.text.replace(" ", ""))
                else 0
            )
            score *= 0.4 + 0.6 * _row_conf(words)
            candidates.append((score, found, row, "label" if labelled else "pattern"))
    if not candidates:
        return None
    score, found, row, method = max(candidates, key=lambda c: c[0])
    distinct = {c[1].value for c in candidates}  # type: ignore[attr-defined]
    if len(distinct) > 1:
        score -= 0.1
    else:
        score += 0.05 * min(len(candidates) - 1, 2)
    words = row.words_in(found.start, found.end)  # type: ignore[attr-defined]
    return Field(
        name="invoice_date",
        value=found.value,
        raw=found.text,  # type: ignore[attr-defined]
        confidence=round(max(0.0, min(1.0, score)), 4),
        page=row.page,
        box=union_box(words) if words else row.box,
        method=method,
    )


# ----------------------------------------------------------------------------- name + address


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


LEGAL = _re(
    r"(?:\bs[do0]n\.?\s*b[hn][dai]\.?|\bbhd\.?|(?<![\w/])[s5$]/[b8r]|\bberhad|\bplt|\bllp)"
    r"(?=$|[\s.,)(°])"
)
NAME_CHARS = str.maketrans({"{": "(", "}": ")", "[": "(", "]": ")", "¥": "Y", "§": "&", "’": "'",
                            "‘": "'", "°": " "})
LEGAL_FIX = [
    (re.compile(r"(?<![\w/])[S5$]/[B8R](?![\w/])"), "S/B"),
    (re.compile(r"\bS[DO0]N(\.?\s*)B[Hh][DdIOR]\b"), r"SDN\1BHD"),
    (re.compile(r"\bSDN(\.?\s*)B[HN][IADOR]\b"), r"SDN\1BHD"),
    (re.compile(r"(?<=[A-Z])\?(?=S\b)"), "'"),
    (re.compile(r"(?i)\bsdn(\.?\s*)bhd\b"), r"SDN\1BHD"),
]
REG_TAIL = re.compile(
    r"\s*[({\[]?\s*(?:co\.?\s*(?:no|reg)[^)]*|[0-9A-Za-z]{0,3}\d{4,}[-/ ]?[0-9A-Za-z]?"
    r"[A-Za-z]?)\s*[)}\]]?[,.]?\s*(?:\([A-Z0-9]{2,4}\))?\s*$",
    re.IGNORECASE,
)


def clean_company(text: str) -> str:
    """Shop names without the registration number glued after them, legal forms normalised."""
    text = re.sub(r"[Yy]?¥", "Y", text).translate(NAME_CHARS)
    for pattern, repl in LEGAL_FIX:
        text = pattern.sub(repl, text)
    previous = None
    while previous != text:
        previous = text
        text = REG_TAIL.sub("", text).rstrip(" ,;:")
    legal = list(LEGAL.finditer(text))
    if legal:
        # after the legal form only a registration number or scan noise follows on a name line
        tail = text[legal[-1].end():]
        if re.search(r"\d", tail) or not re.search(r"[A-Za-z]{2}", tail):
            text = text[: legal[-1].end()]
    return _clean(text)


def _name_score(row: Row, order: int, median_height: float) -> float:
    text = clean_company(row.text)
    if _letters(text) < 3 or NOT_NAME.search(row.folded):
        return -1.0
    if LEADING_NUMBER.search(text) and not LEGAL.search(text):  # "12, Jalan ..." but "99 X MART S/B"
        return -1.0
    upper = sum(c.isupper() for c in text) / max(1, _letters(text))
    score = 0.3 * upper + (
        0.5 if LEGAL.search(text) else 0.25 if COMPANY_WORDS.search(text) else 0.0
    )
    score += 0.15 * min(2.0, row.height / max(median_height, 1.0)) - 0.04 * order
    score += 0.1 * _mean_conf(row.words)
    if re.search(r"\d{3,}", text):
        score -= 0.3
    if ADDRESS_LIKE.search(text) and not LEGAL.search(text):
        score -= 0.4
    return score


def read_name_address(ctx: DocContext) -> dict[str, Field]:
    rows = [r for r in ctx.rows if r.page == (ctx.rows[0].page if ctx.rows else 0)]
    if not rows:
        return {}
    heights = sorted(r.height for r in rows)
    median = heights[len(heights) // 2]
    head = rows[:12]
    scored = [(_name_score(r, i, median), i, r) for i, r in enumerate(head)]
    scored = [s for s in scored if s[0] > 0]
    if not scored:
        return {}
    _, i, row = max(scored, key=lambda s: s[0])
    name_rows = [row]
    # a name printed on two lines: "TOKYO KITCHEN (CITTA MALL)" / "TOKYO KITCHEN SDN BHD",
    # "POPULAR BOOK." / "CO. (M) SDN BHD", "TSH POWER HARDWARE" / "TRADING"
    if i + 1 < len(rows):
        nxt = rows[i + 1]
        rest = LEGAL.sub("", COMPANY_WORDS.sub("", clean_company(nxt.text))).strip(" .,()&")
        if (
            not REG_NO.search(nxt.folded)
            and not re.search(r"\d{3,}", nxt.text)
            and not LEGAL.search(row.text)
            and _letters(nxt.text) >= 3
            and (LEGAL.search(nxt.text) or not rest)
        ):
            name_rows.append(nxt)
    if i > 0:
        own = LEGAL.sub("", COMPANY_WORDS.sub("", clean_company(row.text))).strip(" .,()&")
        prev = rows[i - 1]
        if (
            len(own) < 3
            and _letters(prev.text) >= 3
            and not NOT_NAME.search(prev.folded)
            and not LEADING_NUMBER.search(prev.text)
            and not ADDRESS_LIKE.search(prev.text)
            and not re.search(r"\d{3,}", prev.text)
        ):
            name_rows.insert(0, prev)
    name = clean_company(" ".join(_clean(r.text) for r in name_rows))
    words = [w for r in name_rows for w in r.words]
    has_company = bool(COMPANY_WORDS.search(name))
    followed_by_reg = any(
        REG_NO.search(r.folded) for r in rows[i + len(name_rows) : i + len(name_rows) + 2]
    )
    raw = 0.35 + (0.2 if has_company else 0.0) + (0.15 if followed_by_reg else 0.0)
    raw += 0.1 if i == 0 or all(s[1] >= i or s[0] < 0 for s in scored) else 0.0
    raw *= 0.3 + 0.7 * _row_conf(words)
    method = "company_words" if has_company else "top_line"
    fields = {
        "vendor_name": Field(
            name="vendor_name",
            value=name,
            raw=name,
            confidence=round(max(0.0, min(1.0, raw)), 4),
            page=row.page,
            box=union_box(words),
            method=method,
        )
    }
    addr_rows: list[Row] = []
    for r in rows[i + len(name_rows) : i + len(name_rows) + 7]:
        if (
            REG_NO.search(r.folded)
            and not addr_rows
            and not re.search(r"\bno\.?\s*\d|jalan|lot", r.folded)
        ):
            continue
        if ADDRESS_STOP.search(r.folded) or find_dates(r.text):
            break
        if _letters(r.text) < 2 and not re.search(r"\d{5}", r.text):
            continue  # scan noise between the lines ("." or "|")
        addr_rows.append(r)
    parts = [_address_part(r.text, first=k == 0) for k, r in enumerate(addr_rows)]
    while addr_rows and not parts[-1]:
        addr_rows, parts = addr_rows[:-1], parts[:-1]
    if addr_rows:
        text = " ".join(p for p in parts if p)
        awords = [w for r in addr_rows for w in r.words]
        fields["address"] = Field(
            name="address",
            value=text,
            raw=text,
            confidence=round(0.4 * (0.3 + 0.7 * _row_conf(awords)), 4),
            page=addr_rows[0].page,
            box=union_box(awords),
            method="below_name",
        )
    return fields


LEADING_REG = re.compile(
    r"^\W*(?:co(?:mpany)?\.?\s*(?:no|reg)\.?\s*:?\s*)?[({\[]?\s*[A-Z0-9]{0,3}\d[\d ]{4,}\d\s*"
    r"(?:-\s*[A-Z0-9]{1,2})?\s*[)}\]]?[,.]?\s+(?=\S)",
    re.IGNORECASE,
)
TRAILING_PHONE = re.compile(
    r"\s+(?:\W{0,3}\s*)?(?:(?:tel|phone|h/?p|fax)\b\W*)?\(?\+?(?:60)?\d{1,3}\)?[-\s]?\d{3,4}[-\s]?\d{4}"
    r"(?:\s*/\s*\d+)?\W*$",
    re.IGNORECASE,
)
TRAILING_ID = re.compile(r"\s+(?:\w{2,4}\s*)?(?:no|id|reg)\w?\W{0,3}\s*[0-9O]{8,}\W*$", re.IGNORECASE)


def _address_part(text: str, *, first: bool) -> str:
    """One address line without a registration number before it or a phone number after it."""
    text = _clean(text)
    if first:
        text = LEADING_REG.sub("", text)
    text = TRAILING_ID.sub("", TRAILING_PHONE.sub("", text))
    text = re.sub(r"^[^\w(]+", "", text)
    return _clean(text) if _letters(text) >= 2 or re.search(r"\d{5}", text) else ""


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" |_~—-=:;*'\"`")
    return text


# ------------------------------------------------------------------------------- extractor


def read_receipt(pages: list[Page]) -> dict[str, Field]:
    ctx = context(pages)
    if ctx.currency in (None, "MYR", "SGD", "INR", "EUR", "GBP"):
        ctx.dayfirst = True
    fields: dict[str, Field] = {}
    fields.update(read_name_address(ctx))
    date = read_date(ctx)
    if date is not None:
        fields["invoice_date"] = date
    total = read_total(ctx)
    if total is not None:
        fields["total_amount"] = total
    if ctx.currency is not None:
        fields["currency"] = Field(
            name="currency",
            value=ctx.currency,
            raw=ctx.currency,
            confidence=round(ctx.currency_score, 4),
            method=f"currency_{ctx.currency_method}",
        )
    return fields


class ReceiptExtractor:
    """Layout reader for till receipts (top-of-roll name and address, tender cross-checks)."""

    name = "receipt"
    doc_types = (DocType.RECEIPT,)
    version = ENGINE

    def available(self) -> bool:
        return True

    def score(self, pages: list[Page], doc_type: DocType, source: Source) -> float:
        return 0.5 if doc_type == DocType.RECEIPT else 0.0

    def extract(self, pages: list[Page], source: Source, settings: Settings) -> Extraction:
        return Extraction(
            doc_type=DocType.RECEIPT,
            fields=read_receipt(pages),
            engine={"extractor": self.name, "receipt": ENGINE},
        )


__all__ = ["ReceiptExtractor", "clean_company", "read_receipt", "repaired_dates"]
