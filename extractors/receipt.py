"""Till receipts: shop name, its address, the date and the total, from a narrow scanned roll.

Receipts print the shop's name at the top (often with a company registration number under it),
its address next, then items, then a block of totals where the paid total is repeated by the
tender lines (CASH − CHANGE = TOTAL). Those repetitions are the cross-checks that make a total
trustworthy even when OCR misreads one of its copies. Malaysian tills round a cash bill to 5 sen
and print "total incl. GST", "rounding adj." and the rounded total paid: the rounding is one more
cross-check, and the total paid is the one the receipt is for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from core.models import DocType, Extraction, Field, Page, Word
from core.settings import Settings
from extractors.invoice import (
    DocContext,
    Hit,
    Row,
    context,
    find_labelled,
    make_row,
    money_parser,
)
from extractors.layout import mean_conf, union_box
from extractors.parsers import DIGIT_AS_LETTER, find_dates

Source = bytes | Path
ENGINE = "layout-receipt-1"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


TOTAL_STRONG = _re(
    r"grand\s*tota\s*[l1i]?|amount\s*to\s*be\s*paid|to\s*be\s*paid|total\s*to\s*pay|total\s*amount|nett?\s*total|total\s*(?:payable|due|sales?\s*\(?incl)|"
    r"amount\s*(?:due|payable)|rounded\s*total|total\s*\(?rm\)?|total\s*incl|incl\w*\.?\s*(?:of\s*)?gst\s*\)?|"
    r"jumlah|total\s*rounded|total\s*after|net\s*amount|amount\s*\(rm\)|total\s*inclusive|"
    # German, French, Dutch, Spanish, Italian tills
    r"zu\s*zahlen|\bsumme\b|gesamtbetrag|total\s*ttc|a\s*payer|te\s*betalen|\btotaal\b|"
    r"importe\s*total|total\s*a\s*pagar|totale\s*(?:euro|complessivo)"
)
TOTAL_PLAIN = _re(r"(?<!sub)(?<!sub\s)(?<!sub-)\btota[l1i]\b|\btotal\s*:")
TOTAL_EXCLUDE = _re(
    r"sub\s*-?\s*tota|total\s*(?:qty|quantity|items?|item\(s\)|tax|gst\s*(?!\)|incl)|excl|ex\b|"
    r"discount|saving|disc|number|no\.?\s*of|pcs|units?|paid|tender)|excl\w*\s*(?:of\s*)?gst|before|"
    r"qty|gst\s*summary|tax\s*summary|service\s*charge|\bsr\b|\bzr\b|\bamt\s*\(rm\)\s*=|% |"
    r"^\W*\(\s*total\s*incl|accepted"
)
CASH = _re(
    r"\bcash\b|tender|paid|\bpay\b|payment|visa|master|card|debit|credit|accepted|"
    r"\bbar\b|gegeben|\bgeg\b|esp[eè]ces|\bcontant|efectivo|contanti|girocard|\bcarte\b"
)
CHANGE = _re(
    r"\bchange\b|\bbaki\b|\bbalance\b|r(?:u|ue)ckgeld|\brendu\b|monnaie|wisselgeld|\bcambio\b|\bresto\b"
)
ROUNDING = _re(r"rounding|rounded|\bround\s*(?:adj|off)|\brnd\b|pembulatan|bundar")
TENDER_EXCLUDE = _re(r"\bcash\s*sales?\b|cash\s*bill|cashier")
SUBTOTAL = _re(
    r"sub\s*-?\s*tota|total\s*sales?\s*\(?excl|total\s*excl|amount\s*excl|zwischensumme|sous-?total|"
    r"subtotaal"
)
TAX = _re(r"\bgst\b|\btax\b|\bsst\b|service\s*tax")
DATE_LABEL = _re(r"\bdate\b|\btarikh\b|\bdt\b|\bdatum\b|\bfecha\b|\bdata\b")
COMPANY_WORDS = _re(
    r"\b(?:sdn\.?\s*bhd\.?|bhd\.?|s/b|enterprise|enterprises|trading|restoran|restaurant|store|"
    r"mart|market|shop|hardware|kedai|pharmacy|farmasi|cafe|café|bakery|book|books|stationery|"
    r"company|co\.|\(m\)|berhad|supermarket|hypermarket|minimarket|holdings|industries|"
    r"services|motor|machinery|electrical|kitchen|food|foods|station|snack|bistro|llp|plt|"
    r"ent\.?|trading\s*co|boutique|mall|centre|center|hotel|clinic|restoran)\b|\bco\.(?!\w)|\(m\)"
)
NOT_NAME = _re(
    r"tax\s*invoice|invoice|receipt|welcome|tel\b|fax\b|gst\W*(?:no|id|reg|\d)|co\.?\s*reg|"
    r"[ra]eg\.?\s*no|company\s*no|business\s*no|cashier|\btable\b|\bdate\b|\btime\b|\border\b|"
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
    r"\btel\b|\bfax\b|\bphone\b|\bh/?p\b|gst|tax\s*invoice|invoice|receipt|e-?mail|\w@\w|www|"
    r"\bdate\b|cashier|(?<!lot\s)\bno\.?\s*:|co\.?\s*reg|\bbill\b|\btable\b|\bdoc\b|counter|"
    r"thank|\bsst\b|reg\s*no|business\s*reg|telephone|\bsite\s*:|\bchit\b|\bnumber\b"
)
REG_NO = _re(
    r"\(\s*[0-9a-z]{3,}[-\s]?[a-z]\s*\)|\bco\.?\s*(?:reg|no)|\(\d{5,}|company\s*(?:reg|no)|\b\d{6,}-[a-z]\b|"
    r"\(\s*\d[\d£$§€]{5,}\s*-\s*[a-z]\s*\)"
)
"""A company's registration (``(524101-D)``, ``CO. REG``, ``001234567-K``; a digit the OCR read as
a currency sign, ``(0005£83085-K)``)."""


def _row_conf(words: list[Word]) -> float:
    return min((w.conf for w in words), default=0.0)


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


_SPLIT_DECIMAL = re.compile(r"(\d) ([.,])(\d{2})(?![\d.,])")
_RM_ZERO = re.compile(r"(?<=RM)[Oo](?=[.,]\d{2})")
CENTS = Decimal("0.01")
FIVE_SEN = Decimal("0.05")
_PARSE = money_parser(".", ocr=True)


def _money_ocr(text: str) -> list[tuple[object, int, int]]:
    """Amounts as a till prints them, with two more OCR slips undone (same text length):
    a space before the decimal mark (``RM34 .60``) and a letter O for a leading zero (``RMO.01``)."""
    text = _SPLIT_DECIMAL.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + " ", text)
    text = _RM_ZERO.sub("0", text)
    return _PARSE(text)


def _is_five_sen(value: Decimal) -> bool:
    return (value / FIVE_SEN) == (value / FIVE_SEN).to_integral_value()


def _to_five_sen(value: Decimal) -> Decimal:
    """Malaysian tills round a cash bill to the nearest 5 sen (1 and 2 go down, 3 and 4 up)."""
    return ((value / FIVE_SEN).quantize(Decimal(1), rounding=ROUND_HALF_UP) * FIVE_SEN).quantize(
        CENTS
    )


def _values(hits: list[tuple[Hit, Row, str]]) -> list[Decimal]:
    return [h.value for h, _, _ in hits if isinstance(h.value, Decimal)]


@dataclass
class _Votes:
    """Evidence for each candidate total: weights, the ways it was found, and cross-checks."""

    evidence: dict[Decimal, float] = field(default_factory=lambda: defaultdict(float))
    methods: dict[Decimal, set[str]] = field(default_factory=lambda: defaultdict(set))
    checks: dict[Decimal, int] = field(default_factory=lambda: defaultdict(int))
    hits: dict[Decimal, Hit] = field(default_factory=dict)

    def add(self, value: Decimal, weight: float, method: str, hit: Hit | None = None) -> None:
        self.evidence[value] += weight
        self.methods[value].add(method)
        if hit is not None and (value not in self.hits or self.hits[value].ocr_conf < hit.ocr_conf):
            self.hits[value] = hit


class LabelledTotal(NamedTuple):
    """A value beside a total label."""

    hit: Hit
    value: Decimal
    pos: int
    """Position of the label's row among the receipt's rows."""
    weight: float
    kind: str
    """``strong`` (``GRAND TOTAL``) or ``plain`` (``TOTAL``)."""


OTHER_LABEL = _re(r"\bcash\b|\bchange\b|round|\brnd\b|sub\s*-?\s*tota|\bgst\b|\btax\b|tender|paid")


def _has_own_label(rows: list[Row], hit: Hit) -> bool:
    """A value under a total label whose own row is labelled (``(Inclusive of GST)`` over
    ``CASH : 100.00``) belongs to that label, not to the total."""
    first = hit.words[0] if hit.words else None
    row = next((r for r in rows if any(w is first for w in r.words)), None)
    return row is not None and bool(OTHER_LABEL.search(row.folded))


TOTAL_LABEL = re.compile(f"{TOTAL_STRONG.pattern}|{TOTAL_PLAIN.pattern}", re.IGNORECASE)


def _excluded(row: Row, hit: Hit, where: str) -> bool:
    """Whether a total label's value is some other total (items, savings, tax…).

    A row can hold two printed columns (``TOTAL SAVING 0.00   TOTAL 6.85``): a value after a
    second total label is judged by the words from that label on, not by its neighbour's."""
    first = hit.words[0] if hit.words else None
    index = next((i for i, w in enumerate(row.words) if w is first), None)
    if where != "right" or index is None:
        return bool(TOTAL_EXCLUDE.search(row.folded))
    labels = [m.start() for m in TOTAL_LABEL.finditer(row.folded[: row.offsets[index][0]])]
    segment = row.folded[labels[-1] :] if len(labels) >= 2 else row.folded
    return bool(TOTAL_EXCLUDE.search(segment))


def _labelled_totals(rows: list[Row]) -> list[LabelledTotal]:
    """Every value printed beside a strong (``GRAND TOTAL``) or plain (``TOTAL``) total label.

    Totals printed under the CHANGE line belong to the tax summary that follows the tender
    lines, and weigh less."""
    position = {id(r): k for k, r in enumerate(rows)}
    change_at = next(
        (k for k, r in enumerate(rows) if CHANGE.search(r.folded) and _money_ocr(r.text)),
        len(rows),
    )
    out = []
    for pattern, weight, kind in ((TOTAL_STRONG, 1.0, "strong"), (TOTAL_PLAIN, 0.7, "plain")):
        for hit, row, where in find_labelled(rows, pattern, _money_ocr, last=True):
            if not isinstance(hit.value, Decimal) or hit.value <= 0:
                continue
            if _excluded(row, hit, where) or (where == "below" and _has_own_label(rows, hit)):
                continue
            k = position[id(row)]
            w = weight * (0.8 if where == "below" else 1.0) * (0.4 if k > change_at else 1.0)
            out.append(LabelledTotal(hit, hit.value, k, w, kind))
    return out


ROUNDED_TOTAL_ROW = _re(
    r"\btota[l1i]\b|jumlah|grand|nett?\s*(?:total|amount)|to\s*be\s*paid|amount\s*due"
)
"""A total printed after the rounding line (``TOTAL``, ``TOTAL PAID``, ``NET TOTAL``)."""
NOT_ROUNDED_TOTAL_ROW = _re(r"sub\s*-?\s*tota|saving|qty|quantity|discount|tax|gst|items?\b")


def _rounding_votes(
    rows: list[Row], totals: list[LabelledTotal], rounds: list[Decimal], votes: _Votes
) -> None:
    """The amount paid after the till's 5-sen rounding, when the receipt prints it.

    Malaysian receipts print the total with GST, a rounding adjustment, then the rounded total
    actually paid, which is the one the receipt is for. When a total line follows the rounding
    line, totals above it that are not whole 5 sen are only the pre-rounding figure and their
    rounded value is what the (often misread) last total says. Receipts that stop at the
    adjustment (``TOTAL: 72.93`` / ``RND ADJ 0.02`` / ``CHANGE``) are for the printed total.
    A total followed lower down by its own 5-sen rounding is the same story without the line.
    """
    for t in totals:
        for other in totals:
            if other.pos > t.pos and other.value != t.value and other.value == _to_five_sen(t.value):
                votes.checks[other.value] += 1
    at = [k for k, r in enumerate(rows) if ROUNDING.search(r.folded)]
    if not at:
        return
    first = at[0]
    if not any(
        ROUNDED_TOTAL_ROW.search(r.folded) and not NOT_ROUNDED_TOTAL_ROW.search(r.folded)
        for r in rows[first + 1 : first + 5]
    ):
        return
    after = {t.value for t in totals if t.pos > first}
    for t in totals:
        value, k, weight = t.value, t.pos, t.weight
        if k < first and not _is_five_sen(value):
            rounded = _to_five_sen(value)
            votes.evidence[value] -= 0.5 * weight
            votes.add(rounded, 0.8 * weight, "rounded")
            if rounded in after:
                votes.checks[rounded] += 1
        elif k > first and _is_five_sen(value):
            votes.add(value, 0.3 * weight, "rounded")
    for value in list(votes.evidence):  # pre-rounding total + printed adjustment = paid total
        if _is_five_sen(value) and any(
            abs(t.value + r - value) < Decimal("0.005") or abs(t.value - r - value) < Decimal("0.005")
            for t in totals
            for r in rounds
            if r and t.value != value and abs(r) < FIVE_SEN
        ):
            votes.checks[value] += 1


def _tender_votes(
    cash: list[Decimal], change: list[Decimal], totals: list[LabelledTotal], rounding_line: bool,
    votes: _Votes,
) -> None:
    """CASH − CHANGE is the total the till took: a weak vote, and a check of a labelled total.

    A till that rounds takes whole 5 sen: with a rounding line printed, a tender difference off
    5 sen is a misread; without one, a tender on whole 5 sen two sen from a labelled total that
    is not is the total the OCR bent (``TOTAL 6.83`` with ``CASH 20.00`` / ``CHANGE 13.15``)."""
    tendered = {c - ch for c in cash for ch in change if c - ch > 0}
    for value in list(votes.evidence):
        if any(abs(t - value) < Decimal("0.005") for t in tendered) or (
            any(abs(c - value) < Decimal("0.005") for c in cash) and any(ch == 0 for ch in change)
        ):
            votes.checks[value] += 1
    for value in tendered:
        if rounding_line and not _is_five_sen(value):
            continue
        votes.add(value, 0.3, "tender")
        if not rounding_line and _is_five_sen(value) and any(
            not _is_five_sen(t.value) and _to_five_sen(t.value) == value
            for t in totals
        ):
            votes.checks[value] += 1


def _sum_votes(
    subs: list[Decimal], taxes: list[Decimal], rounds: list[Decimal], votes: _Votes
) -> None:
    """subtotal + tax + rounding: a total the printer wrote, even when its own line is unreadable.

    With a non-zero rounding the sum landing on whole 5 sen is itself a check (a misread digit
    rarely does), and it confirms a labelled total it equals."""
    for value in list(votes.evidence):
        if any(
            abs(s + t + r - value) < Decimal("0.005")
            for s in subs
            for t in [*taxes, Decimal(0)]
            for r in [*rounds, Decimal(0)]
            if s != value
        ):
            votes.checks[value] += 1
    for s_ in set(subs):
        for t in {*taxes, Decimal(0)}:
            for r in {*rounds, Decimal(0)}:
                value = s_ + t + r
                if value > 0 and (t or r):
                    rounded = bool(r) and abs(r) < FIVE_SEN and _is_five_sen(value)
                    votes.add(value, 0.5 if rounded else 0.2, "sum")


RATE_ROW = re.compile(r"(?<![\d.,])(\d{1,2})(?:[.,]0{1,2})?\s*%")
"""The rate of a tax summary row (``SR @ 6%  58.49  3.51``, ``ZR 0%  2.35  0.00``)."""


def summary_sum(rows: list[Row]) -> Decimal | None:
    """What the GST/tax summary under the totals adds up to: taxable amount plus tax over its
    rate rows (``SR @ 6%  58.49  3.51`` / ``ZR @ 0%  2.35  0.00``). Printed apart from the
    total, the summary is an independent reading of it. A row counts only when its tax is its
    rate of its amount (to half a percent of the amount: tills round item by item); a rate row
    that does not add up makes the whole sum unknown."""
    total = Decimal(0)
    found = False
    for row in rows:
        rate = RATE_ROW.search(row.text)
        if rate is None or TOTAL_PLAIN.search(row.folded):
            continue
        amounts = [a for a, s, _ in _money_ocr(row.text) if isinstance(a, Decimal) and s > rate.end()]
        if not amounts:
            continue
        share = Decimal(rate.group(1)) / 100
        taxable, tax = (amounts[-2], amounts[-1]) if len(amounts) >= 2 else (amounts[0], Decimal(0))
        if taxable == tax == 0:
            continue  # a rate nothing was bought at
        if taxable < 0 or abs(tax - taxable * share) > max(Decimal("0.02"), taxable / 200):
            return None
        total += taxable + tax
        found = True
    return total if found else None


def _one_digit_off(a: Decimal, b: Decimal) -> bool:
    """``137.45`` for ``137.15``, ``62.06`` for ``62.00``: one digit misread, same length."""
    x, y = f"{a:.2f}", f"{b:.2f}"
    return len(x) == len(y) and sum(p != q for p, q in zip(x, y, strict=True)) == 1


def read_total(ctx: DocContext) -> Field | None:
    """The paid total: labelled values, weighed by label strength, then checked against what
    the receipt says elsewhere — CASH − CHANGE, subtotal + tax + rounding, the tax summary, the
    5-sen rounding of a cash bill — and against what cannot be (a bill larger than the cash
    handed over). A labelled total one digit off a value those checks confirm is that value
    misread."""
    all_rows = ctx.rows  # the tax summary too
    ctx = _without_summary(ctx)
    rows = ctx.rows
    votes = _Votes()
    totals = _labelled_totals(rows)
    for t in totals:
        votes.add(t.value, t.weight * (0.5 + 0.5 * t.hit.ocr_conf), t.kind, t.hit)
    cash = [  # some tills print the cash handed over as a negative amount
        abs(c)
        for c in _values(find_labelled(rows, CASH, _money_ocr, last=True, below=False,
                                       exclude=TENDER_EXCLUDE))
    ]
    change = _values(find_labelled(rows, CHANGE, _money_ocr, last=True, below=False))
    subs = _values(find_labelled(rows, SUBTOTAL, _money_ocr, last=True))
    taxes = _values(find_labelled(rows, TAX, _money_ocr, last=True, below=False,
                                  exclude=_re(r"summary|%|\bid\b|\bno\b|reg|excl|incl")))
    rounds = _values(find_labelled(rows, ROUNDING, _money_ocr, last=True, below=False))
    rounding_line = any(ROUNDING.search(r.folded) for r in rows)
    _tender_votes(cash, change, totals, rounding_line, votes)
    _sum_votes(subs, taxes, rounds, votes)
    _rounding_votes(rows, totals, rounds, votes)
    last_total = max((t.pos for t in totals), default=len(rows))
    summed = summary_sum(all_rows[last_total + 1 :])
    # The summary checks a printed total only: it may add up to the bill before or after its
    # 5-sen rounding, so as a vote of its own it would pick between them at random.
    if summed is not None and summed in {t.value for t in totals}:
        votes.checks[summed] += 1
    elif summed is not None and summed in subs:  # prices include the tax: the subtotal is the bill
        votes.add(summed, 0.3, "sum")
        votes.checks[summed] += 1
    for value in list(votes.evidence):  # the till's tender and the printed sums agree
        if {"tender", "sum"} <= votes.methods[value] and not votes.checks[value]:
            votes.checks[value] += 1
    for value in list(votes.evidence):  # a misread digit in the labelled total
        if votes.checks[value] or not votes.methods[value] & {"strong", "plain"}:
            continue
        confirmed = [
            c for c in votes.evidence
            if votes.checks[c] and _one_digit_off(value, c) and c != _to_five_sen(value)
        ]
        if len(confirmed) == 1:
            kind = "strong" if "strong" in votes.methods[value] else "plain"
            votes.add(confirmed[0], votes.evidence.pop(value), kind, votes.hits.get(value))
    all_amounts = [a for r in rows for a, _, _ in _money_ocr(r.text) if isinstance(a, Decimal)]
    counts: dict[Decimal, int] = defaultdict(int)
    for a in all_amounts:
        if a > 0:
            counts[a] += 1
    for a, n in counts.items():  # totals come back in the tender and tax lines
        if n >= 2:
            votes.add(a, 0.15 * min(n - 1, 3), "repeated")
    tendered = [c for c in cash if any(c - ch > 0 for ch in change)]
    too_big = {v for v in votes.evidence if tendered and v > max(tendered)}
    if totals and all(t.value in too_big for t in totals):
        for value, methods in votes.methods.items():  # every total line misread: the tender
            if "tender" in methods:
                votes.checks[value] += 1
    scored = {v: e + 0.6 * votes.checks[v] for v, e in votes.evidence.items() if v > 0}
    for v in too_big:  # with change given, the bill cannot exceed the cash handed over
        scored[v] *= 0.3
    if not scored:
        return None
    value = max(scored, key=lambda v: (scored[v], v))
    ranked = sorted(scored.values(), reverse=True)
    margin = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    hit = votes.hits.get(value)
    repeats = sum(1 for a in all_amounts if a == value)
    method = _total_method(votes.methods[value], votes.checks[value])
    raw = 0.45 + 0.15 * min(margin, 2.0) + 0.08 * min(repeats - 1, 3)
    raw += 0.1 * min(votes.checks[value], 2)
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


def _total_method(methods: set[str], checks: int) -> str:
    """How the total was found, in the names calibration knows (``rounded`` is new)."""
    if "strong" in methods and checks:
        return "label+check"
    if checks and "plain" in methods:
        return "plain+check"
    if checks:
        return "tender+sum"
    if "strong" in methods:
        return "label"
    if "plain" in methods:
        return "plain"
    if "rounded" in methods:
        return "rounded"
    if "repeated" in methods:
        return "repeated"
    return "tender"


# ------------------------------------------------------------------------------------ date

_DATE_TOKEN = re.compile(
    r"(?<![\d/])([0-9OoIl|§S]{1,2})\s?[/.:\-]\s?([0-9OoIl|§S]{1,2})\s?[/.:\-]\s?"
    r"([0-9OoIl|§S]{4})(?![\w/.:-])"
)
_DIGIT_FIX = str.maketrans(
    {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "§": "5", "S": "5", "G": "6"}
)


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
    return out + misread_named_dates(text)

MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NAMED_DATE = re.compile(
    r"(?<![0-9A-Za-z])([0-9OoIlG|]{1,2})\s?[-/ .]\s?([A-Za-z]{3})\s?[-/ .]\s?"
    r"((?:20)?[0-9OoIl|]{2})(?![0-9])"
)
_COMPACT_DATE = re.compile(r"(?<![\d/.:-])([0-3]\d)([01]\d)/?(20[0-3]\d)(?![\d/.:-])")


def _month_of(token: str) -> int | None:
    """The month a misread abbreviation stands for (``lan`` → 1, ``dun`` → 6), when only one
    month is one letter away."""
    token = token.lower()
    if token in MONTH_ABBR:
        return MONTH_ABBR.index(token) + 1
    close = [
        k + 1
        for k, name in enumerate(MONTH_ABBR)
        if sum(a != b for a, b in zip(token, name, strict=True)) <= 1
    ]
    return close[0] if len(close) == 1 else None


def _day_of(token: str) -> str:
    day = token.translate(_DIGIT_FIX).replace("G", "6")
    if len(day) == 2 and int(day) > 31 and day[0] in "689":  # "G5" → "65" → "05"
        day = "0" + day[1]
    return day


def misread_named_dates(text: str) -> list[tuple[str, int, int]]:
    """Dates with a month name or a run of digits that OCR bent out of shape.

    ``G5 Jan 2017`` (a 0 read as G), ``14/dun/2017`` (J read as d), ``2703/2018`` and
    ``27032018`` (the separators lost): rewritten as ``DD/MM/YYYY``.
    """
    out = []
    for m in _NAMED_DATE.finditer(text):
        month = _month_of(m.group(2))
        if month is None:
            continue
        year = m.group(3).translate(_DIGIT_FIX)
        year = year if len(year) == 4 else "20" + year
        out.append((f"{_day_of(m.group(1))}/{month:02d}/{year}", m.start(), m.end()))
    for m in _COMPACT_DATE.finditer(text):
        dd, mm, yyyy = m.groups()
        if 1 <= int(dd) <= 31 and 1 <= int(mm) <= 12:
            out.append((f"{dd}/{mm}/{yyyy}", m.start(), m.end()))
    return out


UNSURE_ORDER = "unsure_order"
"""The method of a date such as ``07/09/2023`` on a receipt that does not show whether it is
written day or month first: calibration has no group for it, so it is rated by its raw
confidence alone, below the posting threshold."""


def read_date(ctx: DocContext, *, order_known: bool = True) -> Field | None:
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
    if not order_known and found.ambiguous:  # type: ignore[attr-defined]
        method, score = UNSURE_ORDER, min(score, 0.6)
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
                            "‘": "'", "°": " ", "@": None, "©": None, "®": None, "“": None,
                            "”": None})
LEGAL_FIX = [
    (re.compile(r"(?<![\w/])[S5$]/[B8R](?![\w/])"), "S/B"),
    (re.compile(r"\bS[DO0]N([.,]?\s*)B[Hh][DdIOR]\b"), r"SDN\1BHD"),
    (re.compile(r"\bSDN(\.?\s*)B[HN][IADOR]\b"), r"SDN\1BHD"),
    (re.compile(r"(?<=[A-Z])\?(?=S\b)"), "'"),
    (re.compile(r"(?i)\bsdn(\.?\s*)bhd\b"), r"SDN\1BHD"),
    (re.compile(r"\bSDN,(\s*)BHD\b"), r"SDN.\1BHD"),
    (re.compile(r"\)\.(?=SDN\b)"), ") "),  # ``CO. (M).SDN BHD``: a speck glued to the bracket
    (re.compile(r"\bS[DUO0][NR]([.,]?\s*)B[HN][A-Z]\b"), r"SDN\1BHD"),
]
REG_TAIL = re.compile(
    r"\s*[({\[]?\s*(?:co\.?\s*(?:no|reg)[^)]*|[0-9A-Za-z]{0,3}\d{4,}[-/ ]?[0-9A-Za-z]?"
    r"[A-Za-z]?)\s*[)}\]]?[,.]?\s*(?:\([A-Z0-9]{2,4}\))?\s*$",
    re.IGNORECASE,
)


OUTLET_PLACE = _re(r"^[A-Za-z' ]{2,40}\b(?:mall|plaza|complex|square|airport)\W*$")
"""A shopping centre's name: what a receipt prints after its company's name to say which
outlet it is (``EIGHT OUNCE COFFEE CO. THE GARDENS MALL``)."""


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
        if re.search(r"\d", tail) or not re.search(r"[A-Za-z]{2}", tail) or OUTLET_PLACE.search(tail):
            text = text[: legal[-1].end()]
    else:
        company = list(re.finditer(r"\bco\.(?=\s)", text, re.IGNORECASE))
        if company and OUTLET_PLACE.search(text[company[-1].end():]):
            text = text[: company[-1].end()]
    return _clean(text)


TRADE_WORDS = frozenset(
    {
        "restaurant", "restoran", "confectionery", "bakery", "house", "hardware", "trading",
        "enterprise", "enterprises", "stationery", "books", "bookstore", "bookstores", "bookcentre",
        "market", "marketing", "supermarket", "hypermarket", "minimarket", "store", "stores",
        "kitchen", "coffee", "foods", "services", "pharmacy", "farmasi", "kopitiam", "leisure",
        "beauty", "health", "handicraft", "tailoring", "petrol", "station", "industries",
        "holdings", "company", "centre", "center", "motor", "machinery", "electrical", "electric",
        "furniture", "kedai", "runcit", "perniagaan", "cake", "cakes", "bistro", "cafe", "boutique",
        "hotel", "clinic", "speed", "international", "corporation", "engineering", "supplies",
        "supply", "printing", "optical", "medical", "textile", "jewellery", "gallery", "garden",
        "travel", "steamboat", "seafood", "noodle", "noodles", "bakeri", "frozen", "fresh",
        "fruits", "products", "stationers", "printers", "bookshop", "pizza", "traders", "mart",
        "shop", "food"
    }
)
"""Words shop names are made of. A name word one misread letter away from exactly one of them
is that word (``CONFECTIUNERY``, ``HUUSE``, ``BSKERY``, ``KESTAURANT``); a long word (eight
letters or more) may be two edits away (``PERNEIAGAGN``). Four-letter words are fixed only for
a pair of letters OCR confuses (``GAKE``, ``WART``): too many real words lie one letter from
each other; shorter words are left alone."""

CONFUSED_LETTERS = frozenset({("c", "g"), ("g", "c"), ("m", "w"), ("w", "m"), ("m", "n"),
                              ("n", "m"), ("o", "d"), ("d", "o"), ("e", "f"), ("f", "e")})
"""Letter pairs Tesseract mixes up in receipt print (got, meant)."""
LONG_WORD = 8


def _one_letter_off(got: str, word: str, *, confusable_only: bool) -> bool:
    if len(got) != len(word):
        return False
    diffs = [(a, b) for a, b in zip(got, word, strict=True) if a != b]
    return len(diffs) == 1 and (not confusable_only or diffs[0] in CONFUSED_LETTERS)


def _trade_word(word: str, lexicon: frozenset[str] = TRADE_WORDS) -> str:
    """``word`` restored to the one word of ``lexicon`` it is a misreading of, else as it is."""
    lower = word.lower()
    if len(lower) < 4 or not lower.isalpha() or lower in lexicon:
        return word
    close = [
        t for t in lexicon
        if _one_letter_off(lower, t, confusable_only=len(lower) == 4)
    ]
    if not close and len(lower) >= LONG_WORD:
        close = [
            t for t in lexicon
            if len(t) >= LONG_WORD and Levenshtein.distance(lower, t, score_cutoff=2) <= 2
        ]
    if len(close) != 1:
        return word
    fixed = close[0]
    return fixed.upper() if word.isupper() else fixed.capitalize() if word[0].isupper() else fixed


ABBREVIATIONS = frozenset({"bhd", "sdn", "ltd", "inc", "ent", "bros", "pte", "plc", "llc", "llp",
                           "plt", "corp", "mfg", "intl", "dept", "assoc", "svcs", "co"})
"""Last words of a name whose full stop belongs to them."""

NAME_FIXES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # "ENTERPRISE. (SETIA ALAM)": a full stop does not end a word before a bracket in a name
    (re.compile(r"(?<=[A-Za-z]{3})\.\s+(?=\()"), " "),
    # "MR. D.1.Y.": initials are letters ("D.I.Y."), but only where one of them is a letter
    (re.compile(r"\b(?=(?:[A-Z0-9]\.){2,})(?=[0-9.]*[A-Z])(?:[A-Z0-9]\.){2,}"),
     lambda m: m.group(0).translate(DIGIT_AS_LETTER)),
    # "(4) SDN BHD": the "(M)" for Malaysia of a company name, its M misread
    (re.compile(r"\((?:4|N|H|W|IM)\)(?=\s*(?:SDN|BHD|S/B|BERHAD))"), "(M)"),
    # a full stop after the last word of a name ("RIANG RIA.") unless it abbreviates ("CO.")
    (re.compile(r"(?<![A-Za-z])([A-Za-z]{3,})\.$"),
     lambda m: m.group(0) if m.group(1).lower() in ABBREVIATIONS else m.group(1)),
]


def fix_trade_words(name: str) -> str:
    """The name with misread common trade words restored (see ``TRADE_WORDS``) and the slips
    of ``NAME_FIXES`` undone."""
    name = re.sub(r"[A-Za-z]+", lambda m: _trade_word(m.group(0)), name)
    for pattern, repl in NAME_FIXES:
        name = pattern.sub(repl, name)
    return name


HEADINGS = ("tax invoice", "simplified tax invoice", "official receipt", "cash receipt")
"""The headings a receipt prints above or below the shop's name."""


def _is_heading(folded: str) -> bool:
    """A heading OCR misread (``TAX eOICE``): near enough one of :data:`HEADINGS` letter for
    letter that it names no shop."""
    text = " ".join(re.findall(r"[a-z]+", folded))
    return any(Levenshtein.normalized_similarity(text, h) >= 0.7 for h in HEADINGS)


def _name_score(row: Row, order: int, median_height: float) -> float:
    text = clean_company(row.text)
    if _letters(text) < 3 or NOT_NAME.search(row.folded) or _is_heading(row.folded):
        return -1.0
    if LEADING_NUMBER.search(text) and not LEGAL.search(text):  # "12, Jalan ..." but "99 X MART S/B"
        return -1.0
    upper = sum(c.isupper() for c in text) / max(1, _letters(text))
    trade = COMPANY_WORDS.search(text) or any(
        w.lower() in TRADE_WORDS for w in re.findall(r"[A-Za-z]+", text)
    )
    score = 0.3 * upper + (0.5 if LEGAL.search(text) else 0.25 if trade else 0.0)
    score += 0.15 * min(2.0, row.height / max(median_height, 1.0)) - 0.04 * order
    score += 0.1 * mean_conf(row.words)
    if re.search(r"\d{3,}", text):
        score -= 0.3
    if re.search(r"\d[.,]\d{2}\b", row.text):  # a priced item line, not a name
        score -= 0.6
    if ADDRESS_LIKE.search(text) and not LEGAL.search(text):
        score -= 0.4
    if _letters(text) < 4:  # a logo read as a few letters ("AOY")
        score -= 0.2
    return score


GENERIC_NAME_WORDS = _re(r"^(?:co|company|m|sdn|bhd|berhad|s|b|plt|llp|ent)$")


def _distinctive(text: str) -> str:
    """The words of a name line other than its legal form and "CO. (M)" (``POPULAR BOOK`` /
    ``CO. (M) SDN BHD``: the second line alone names no one)."""
    words = re.findall(r"[A-Za-z0-9&']+", LEGAL.sub(" ", clean_company(text)))
    return " ".join(w for w in words if not GENERIC_NAME_WORDS.match(w))


OWNER_PREFIX = _re(r"^\W*(?:own(?:ed)?|operated|managed)\s*by\s*:\s*")
"""``OWN BY: CHEF LEE SDN BHD``: the company is what follows the colon."""


CONTINUATION = _re(
    r"^\W*(?:co\.|company|enterprises?|trading|sdn|bhd|berhad|holdings|industries|services)\b"
)
"""A name line that continues the one above it (``ENTERPRISE (SETIA`` under ``AIK HUAT
HARDWARE``)."""


def _continues(row: Row, prev: Row) -> bool:
    """Whether ``row`` carries on the name begun on ``prev``: it has no words of its own
    (``CO. (M) SDN BHD``), starts with a company word (``ENTERPRISE (SETIA``) or closes a
    bracket opened above (``ALAM) SDN BHD``), and ``prev`` reads like a name."""
    text = clean_company(row.text)
    own = _distinctive(COMPANY_WORDS.sub(" ", row.text))
    return (
        (len(own) < 3 or bool(CONTINUATION.match(text)) or text.count(")") > text.count("("))
        and _letters(prev.text) >= 3
        and not NOT_NAME.search(prev.folded)
        and not LEADING_NUMBER.search(prev.text)
        and not ADDRESS_LIKE.search(prev.text)
        and not re.search(r"\d{3,}", prev.text)
    )


def _brand_above(above: Row, row: Row) -> bool:
    """``TOKYO KITCHEN (CITTA MALL)`` over ``TOKYO KITCHEN SDN BHD``: the shop's brand and
    outlet over the company that owns it, both part of the name (their first two words alike,
    the outlet in brackets; ``OLD TOWN WHITE COFFEE`` over ``OLD TOWN KOPITIAM SDN BHD`` is a
    brand alone, and no part of the company's name)."""
    first = re.findall(r"[A-Za-z&']+", above.text.upper())[:2]
    return (
        len(first) == 2
        and bool(re.search(r"\([A-Za-z][^()]*\)?\W*$", above.text))  # its ")" may be lost
        and first == re.findall(r"[A-Za-z&']+", row.text.upper())[:2]
        and not LEGAL.search(above.text)
        and not NOT_NAME.search(above.folded)
        and not re.search(r"\d{3,}", above.text)
    )


def _open_bracket(text: str) -> bool:
    """``ENTERPRISE (SETIA``: the name goes on to the next line (``ALAM) SDN BHD``)."""
    return text.count("(") > text.count(")")


def _letters_only(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _without_fragments(
    scored: list[tuple[float, int, Row]],
) -> list[tuple[float, int, Row]]:
    """Candidates less those whose letters reappear inside a longer candidate that carries a
    company word they lack: a logo that prints part of the name large (``COFFEE``) above the
    full name line (``EIGHT OUNCE COFFEE CO.``)."""
    letters = [_letters_only(clean_company(r.text)) for _, _, r in scored]
    formal = [bool(LEGAL.search(r.text) or COMPANY_WORDS.search(r.text)) for _, _, r in scored]
    return [
        s
        for s, own, own_formal in zip(scored, letters, formal, strict=True)
        if own_formal
        or not any(
            own and own != other and own in other and other_formal
            for other, other_formal in zip(letters, formal, strict=True)
        )
    ]


def read_name_address(ctx: DocContext) -> dict[str, Field]:
    rows = [r for r in ctx.rows if r.page == (ctx.rows[0].page if ctx.rows else 0)]
    if not rows:
        return {}
    heights = sorted(r.height for r in rows)
    median = heights[len(heights) // 2]
    head = rows[:12]
    scored = [(_name_score(r, i, median), i, r) for i, r in enumerate(head)]
    scored = _without_fragments([s for s in scored if s[0] > 0])
    if not scored:
        return {}
    _, i, row = max(scored, key=lambda s: s[0])
    name_rows = [row]
    # a name printed on two lines: "TOKYO KITCHEN (CITTA MALL)" / "TOKYO KITCHEN SDN BHD",
    # "POPULAR BOOK." / "CO. (M) SDN BHD", "TSH POWER HARDWARE" / "TRADING"
    if i + 1 < len(rows):
        nxt = rows[i + 1]
        rest = _distinctive(COMPANY_WORDS.sub(" ", nxt.text))
        if (
            not REG_NO.search(nxt.folded)
            and not re.search(r"\d{3,}", nxt.text)
            and not LEGAL.search(row.text)
            and _letters(nxt.text) >= 3
            and (LEGAL.search(nxt.text) or not rest or _open_bracket(row.text))
            and not ADDRESS_LIKE.search(nxt.text)
        ):
            name_rows.append(nxt)
    first = i
    while first > 0 and i - first < 2 and _continues(name_rows[0], rows[first - 1]):
        first -= 1
        name_rows.insert(0, rows[first])
    if first > 0 and _brand_above(rows[first - 1], name_rows[0]):
        first -= 1
        name_rows.insert(0, rows[first])
    end = next(k for k, r in enumerate(rows) if r is name_rows[-1]) + 1
    name = clean_company(" ".join(_clean(r.text).rstrip(" .,") for r in name_rows[:-1])
                         + " " + _clean(name_rows[-1].text))
    name = fix_trade_words(OWNER_PREFIX.sub("", name).lstrip(". "))
    words = [w for r in name_rows for w in r.words]
    has_company = bool(COMPANY_WORDS.search(name))
    followed_by_reg = any(
        REG_NO.search(r.folded) for r in rows[end : end + 2]
    )
    raw = 0.35 + (0.2 if has_company else 0.0) + (0.15 if followed_by_reg else 0.0)
    raw += 0.1 if first == 0 or all(s[1] >= first or s[0] < 0 for s in scored) else 0.0
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
    branch: list[Row] = []
    for r in rows[end : end + 7]:
        if (
            REG_NO.search(r.folded)
            and not addr_rows  # the registration's own "NO." (``CO. NO. 3926-U``) is no house number
            and not re.search(r"\bno\.?\s*\d|jalan|lot", REG_NO.sub(" ", r.folded))
        ):
            continue
        if not addr_rows and (_between_name_and_address(r) or _names_the_shop(r, name)):
            continue
        if addr_rows and r.box[1] - addr_rows[-1].box[3] > 1.6 * median:
            break  # a blank line under the address block
        stop = ADDRESS_STOP.search(r.text)
        if stop or find_dates(r.text) or _PRICED.search(r.text):
            # … or the first item's price: the address has ended, perhaps after its last line
            # (``81750 Johor Bahru, Johor. Tel No.: 07-387 3322``)
            if stop and ADDRESS_LIKE.search(r.text[: stop.start()]):
                addr_rows.append(_cut_row(r, stop.start()))
            elif not branch and _is_branch(addr_rows) and GST_ID.search(r.text):
                # the outlet's name (``Wellmart @ KP2``), then the GST line, then the address
                branch, addr_rows = addr_rows, []
                continue
            break
        if REG_ONLY.fullmatch(r.text.strip()) or PHONE_ONLY.fullmatch(r.text.strip()):
            continue  # the registration or phone number on its own line, "(4M0517726)"
        if _letters(r.text) < 2 and not re.search(r"\d{5}", r.text):
            continue  # scan noise between the lines ("." or "|")
        addr_rows.append(r)
    if not addr_rows:
        addr_rows = branch
    if not addr_rows:
        addr_rows = _address_above(rows, next(k for k, r in enumerate(rows) if r is name_rows[0]))
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


GST_ID = _re(r"\bgst\b|reg(?:istration)?\.?\s*no|\bid\s*:?\s*\d{6,}")
"""A registration line's cue (``GST Reg No``, ``Registration No``, ``ID: 000164270708``)."""


def _between_name_and_address(row: Row) -> bool:
    """A line printed between the shop's name and its address that ends neither: its GST
    registration (``GST Reg No 001532760064``) or a heading (``TAX INVOICE``)."""
    if ADDRESS_LIKE.search(row.text):
        return False
    return bool(GST_ID.search(row.text)) or _is_heading(row.folded)


def _names_the_shop(row: Row, name: str) -> bool:
    """A line under the name that repeats it with the outlet (``DOMINO'S PIZZA PERMAS JAYA``
    under ``DOMINO'S PIZZA``): the branch, not the first line of its address."""
    own = _letters_only(name)
    return len(own) >= 6 and not re.search(r"\d", row.text) and _letters_only(row.text).startswith(own)


def _is_branch(rows: list[Row]) -> bool:
    """One line read as the address's first that has nothing of an address: no street word,
    no postcode (the outlet's name printed between the company and its GST line)."""
    return len(rows) == 1 and not ADDRESS_LIKE.search(rows[0].text) and not re.search(r"\d{4,}", rows[0].text)


def _cut_row(row: Row, end: int) -> Row:
    """The row's words that end before character ``end`` of its text."""
    words = [w for w, (_, e) in zip(row.words, row.offsets, strict=True) if e <= end]
    return make_row(row.page, row.index, words)


def _address_above(rows: list[Row], name: int) -> list[Row]:
    """The shop's address printed above its name (a petrol station's site, then the company
    that runs it): the address-like lines right above the name, nearest last."""
    above: list[Row] = []
    for r in reversed(rows[max(0, name - 4) : name]):
        if not ADDRESS_LIKE.search(r.text) or ADDRESS_STOP.search(r.text):
            break
        above.insert(0, r)
    return above


_PRICED = re.compile(r"(?<![\w.,])\d{1,5}[.,]\d{2}(?![\w.,%])")
"""A price (``0.99``, ``1,29``) on a line under the shop's name: the items have begun (a
house number such as ``31,31A`` is none)."""
PHONE_ONLY = re.compile(r"\W*\+?\(?\d{2,4}\)?[-\s]?\d{3,4}[-\s]?\d{4}\W*")
REG_ONLY = re.compile(r"\W*(?:co\.?\s*(?:no|reg)\.?\s*:?\s*)?[A-Za-z0-9]{0,3}\d{6,}\s*-?\s*[A-Za-z]?\W*",
                      re.IGNORECASE)
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


PLACE_WORDS = frozenset(
    {
        "selangor", "johor", "kedah", "pahang", "perak", "melaka", "malacca", "kelantan",
        "terengganu", "sabah", "sarawak", "penang", "pinang", "perlis", "negeri", "sembilan",
        "darul", "ehsan", "takzim", "makmur", "ridzuan", "naim", "aman", "khusus", "kuala",
        "lumpur", "putrajaya", "labuan", "malaysia", "jalan", "taman", "lorong", "persiaran",
        "seksyen", "kawasan", "perindustrian", "perumahan", "kampung", "bandar", "utama",
        "indah", "perdana", "mahkota", "setia", "bukit", "sungai", "pusat", "dataran", "menara",
        "wisma", "kompleks", "petaling", "subang", "klang", "puchong", "kajang", "ampang",
        "cheras", "kepong", "rawang", "damansara", "serdang", "kembangan", "bahru", "masai",
        "skudai", "seremban", "sentul", "shopping", "centre", "floor", "level",
        # real words one letter from those above, so that they stay as printed
        "utara", "selatan", "timur", "barat", "tengah", "lama", "raya", "baru", "laman",
    }
)
"""Words of Malaysian addresses (states, their titles, street and area words, the larger towns
of the Klang Valley and Johor): an address word one misread letter away from exactly one of
them is that word (``SELANGUR``), as shop names' trade words are."""
ADDRESS_FIXES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<=\d)@(?=[\s,.]|$)"), "0"),  # ``5220@ Kuala Lumpur``
    (re.compile(r"(?<=[A-Z]{3})[|!](?=[\s,.]|$)"), "I"),  # ``DAMA| SG BES!``
    (re.compile(r"^\W*L[UO0][IT1l](?=\s+\d)"), "LOT"),  # ``LUI 1504, BATU 8 1/2``
    (re.compile(r"(?<=\bBATU )&(?= \d/\d)", re.IGNORECASE), "8"),  # ``BATU & 1/2``
    (re.compile(r"\b[SB]RD(?=\s+FL)", re.IGNORECASE), "3RD"),  # ``SRD FLR``
]


def _address_part(text: str, *, first: bool) -> str:
    """One address line without a registration number before it or a phone number after it."""
    for pattern, repl in ADDRESS_FIXES:
        text = pattern.sub(repl, text)
    text = _clean(re.sub(r"[A-Za-z]+", lambda m: _trade_word(m.group(0), PLACE_WORDS), text))
    if first:
        text = LEADING_REG.sub("", text)
    text = TRAILING_ID.sub("", TRAILING_PHONE.sub("", text))
    text = re.sub(r"^[^\w(]+", "", text)
    return _clean(text) if _letters(text) >= 2 or re.search(r"\d{5}", text) else ""


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" |_~—-=:;*'\"`")
    return text


# ------------------------------------------------------------------------------- extractor


US_PLACE = re.compile(
    r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|"
    r"S[CD]|T[NX]|UT|V[AT]|W[AIVY]),?\s+\d{5}(?:-\d{4})?(?![\d-])|\(\d{3}\)\s?\d{3}-\d{4}\b"
)
"""An American address's state and ZIP code (``NEW YORK NY 10011``) or a phone number written
``(212) 555-0134``: the receipt writes its dates month first."""


def read_receipt(pages: list[Page]) -> dict[str, Field]:
    ctx = context(pages)
    american = bool(US_PLACE.search(ctx.text))
    malaysian = bool(MALAYSIAN.search(ctx.text))
    if ctx.currency is None and american and not malaysian:
        ctx.dayfirst = False  # a dollar sign the OCR lost: the address still says American
    elif ctx.currency in (None, "MYR", "SGD", "INR", "EUR", "GBP"):
        ctx.dayfirst = True
    fields: dict[str, Field] = {}
    fields.update(read_name_address(ctx))
    # the order of a date's day and month shows in the currency or the shop's address
    date = read_date(ctx, order_known=bool(ctx.currency) or american or malaysian)
    if date is not None:
        fields["invoice_date"] = date
    total = read_total(ctx)
    if total is not None:
        fields["total_amount"] = total
    currency = _currency(ctx)
    if currency is not None:
        fields["currency"] = currency
    return fields


RINGGIT = _re(r"\bR[MN]\s?\d|\(R[MN]\)|\bR[MN]\b|\bMYR\b|ringgit")
MALAYSIAN = _re(r"\bsdn\.?\s*bhd\b|\bbhd\b|\bs/b\b|malaysia|\bjalan\b|\bjln\b|\btaman\b|selangor|"
                r"kuala\s*lumpur|johor|\bgst\s*(?:id|reg|no)")


def _currency(ctx: DocContext) -> Field | None:
    """The receipt's currency; ringgit when the receipt says RM and only a stray symbol disagrees.

    OCR noise on a till roll often yields a ``$`` or ``€`` (from a smudge or an ``S``), and a
    symbol seen once is weaker than ``RM 12.50`` next to the amounts of a Malaysian company, or
    than two Malaysian marks (``SDN BHD``, a Selangor address, a GST registration) without it."""
    ringgit = len(RINGGIT.findall(ctx.text))
    malaysian = {m.group(0).lower() for m in MALAYSIAN.finditer(ctx.text)}
    by_symbol = ctx.currency is not None and ctx.currency_method == "symbol"
    if (ctx.currency is None or by_symbol) and ctx.currency != "MYR" and (
        ringgit >= 2 or (ringgit and malaysian) or (by_symbol and len(malaysian) >= 2)
    ):
        score = min(0.9, 0.6 + 0.05 * ringgit)
        return Field(name="currency", value="MYR", raw="RM", confidence=score,
                     method="currency_context")
    if ctx.currency is None:
        return None
    return Field(
        name="currency",
        value=ctx.currency,
        raw=ctx.currency,
        confidence=round(ctx.currency_score, 4),
        method=f"currency_{ctx.currency_method}",
    )


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
