"""The generic invoice reader: fields from the words' layout, for vendors never seen before.

Labels are searched in the multilingual vocabularies below (EN/DE/FR/NL), values are read next to
them (same row to the right, or in the rows just below), and independent cues are checked against
each other (total = subtotal + tax, the total is the largest amount and is repeated, a VAT id
passes its check digits). Each field's raw confidence combines how it was found, those
agreements and the OCR confidence of its words; ``extractors.registry`` calibrates it.

Vendor templates (``extractors/templates/*.yaml``, invoice2data style) may override fields for
known vendors; without them this module stands on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from core.models import Box, DocType, Extraction, Field, Page, Word
from core.settings import Settings
from extractors.layout import lines_of, union_box
from extractors.parsers import (
    currency_votes,
    find_amounts,
    find_dates,
    find_vat_ids,
    fold,
    guess_decimal_mark,
    vat_is_valid,
    vat_shape_ok,
)

Source = bytes | Path
ENGINE = "layout-invoice-1"

# ----------------------------------------------------------------------------- layout search


@dataclass
class Row:
    page: int
    index: int
    words: list[Word]
    text: str
    folded: str
    offsets: list[tuple[int, int]]
    """Character span of each word in ``text`` (and ``folded``, same length by construction)."""

    @property
    def box(self) -> Box:
        return union_box(self.words)

    @property
    def height(self) -> float:
        hs = sorted(w.box[3] - w.box[1] for w in self.words)
        return hs[len(hs) // 2] if hs else 0.0

    def words_in(self, start: int, end: int) -> list[Word]:
        return [
            w for w, (s, e) in zip(self.words, self.offsets, strict=True) if s < end and e > start
        ]

    def after(self, pos: int) -> list[Word]:
        return [w for w, (s, _) in zip(self.words, self.offsets, strict=True) if s >= pos]


def _fold_same_length(text: str) -> str:
    out = []
    for ch in text:
        f = fold(ch)
        out.append(f if len(f) == 1 else (f[:1] or " "))
    return "".join(out)


def make_row(page: int, index: int, words: list[Word]) -> Row:
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for w in words:
        if parts:
            parts.append(" ")
            pos += 1
        parts.append(w.text)
        offsets.append((pos, pos + len(w.text)))
        pos += len(w.text)
    text = "".join(parts)
    return Row(page, index, words, text, _fold_same_length(text), offsets)


def rows_of(pages: list[Page]) -> list[Row]:
    rows: list[Row] = []
    for page in pages:
        for line in lines_of(page):
            rows.append(make_row(page.index, line.index, line.words))
    return rows


def split_columns(row: Row, gap_factor: float = 1.6) -> list[Row]:
    """The row cut into runs of words separated by wide gaps (printed columns)."""
    if not row.words:
        return []
    gap = gap_factor * max(row.height, 1.0)
    runs: list[list[Word]] = [[row.words[0]]]
    for prev, word in zip(row.words, row.words[1:], strict=False):
        if word.box[0] - prev.box[2] > gap:
            runs.append([word])
        else:
            runs[-1].append(word)
    return [make_row(row.page, row.index, run) for run in runs]


@dataclass
class Hit:
    """A value found for a field: what, where, how, and the raw evidence for its confidence."""

    value: object
    raw: str
    words: list[Word]
    page: int
    method: str
    score: float
    """Raw confidence before calibration (cues and OCR confidence combined)."""
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def box(self) -> Box | None:
        return union_box(self.words) if self.words else None

    @property
    def ocr_conf(self) -> float:
        return min((w.conf for w in self.words), default=1.0)


Parser = Callable[[str], list[tuple[object, int, int]]]
"""Text → [(value, start, end)] for every value of the wanted kind in the text."""


def below_words(
    rows: list[Row], i: int, x0: float, x1: float, max_rows: int = 2, max_gap_factor: float = 2.5
) -> Iterator[tuple[Row, list[Word]]]:
    """Words of the next rows that overlap [x0, x1] horizontally (a column under a label)."""
    row = rows[i]
    last_bottom = row.box[3]
    for j in range(i + 1, min(len(rows), i + 1 + max_rows)):
        nxt = rows[j]
        if nxt.page != row.page:
            break
        if nxt.box[1] - last_bottom > max_gap_factor * max(row.height, nxt.height, 1.0):
            break
        picked = [w for w in nxt.words if w.box[2] > x0 - 2 and w.box[0] < x1 + 0.5 * (x1 - x0) + 5]
        if picked:
            yield nxt, picked
        last_bottom = nxt.box[3]


def find_labelled(
    rows: list[Row],
    label: re.Pattern[str],
    parse: Parser,
    *,
    right: bool = True,
    below: bool = True,
    last: bool = False,
    exclude: re.Pattern[str] | None = None,
) -> list[tuple[Hit, Row, str]]:
    """Values of the kind ``parse`` reads, next to every match of ``label``.

    Returns (hit, label row, where) with where ``right`` or ``below``; ``last`` takes the
    rightmost value on the row instead of the first one after the label.
    """
    out: list[tuple[Hit, Row, str]] = []
    for i, row in enumerate(rows):
        for m in label.finditer(row.folded):
            if exclude is not None and exclude.search(row.folded):
                continue
            label_words = row.words_in(m.start(), m.end())
            if not label_words:
                continue
            found = False
            if right:
                tail = row.text[m.end() :]
                values = parse(tail)
                if values:
                    value, s, e = values[-1] if last else values[0]
                    words = row.words_in(m.end() + s, m.end() + e)
                    # the value must sit close to its label, not in a far column of another block
                    if words:
                        out.append(
                            (
                                Hit(value, tail[s:e], words, row.page, "label_right", 0.0),
                                row,
                                "right",
                            )
                        )
                        found = True
            if below and not found:
                box = union_box(label_words)
                for nxt, words in below_words(rows, i, box[0], box[2]):
                    text = " ".join(w.text for w in words)
                    values = parse(text)
                    if values:
                        value, s, e = values[0]
                        sub = make_row(nxt.page, nxt.index, words)
                        vwords = sub.words_in(s, e)
                        out.append(
                            (
                                Hit(value, text[s:e], vwords, nxt.page, "label_below", 0.0),
                                row,
                                "below",
                            )
                        )
                        break
    return out


# ------------------------------------------------------------------------------ value parsers

_CURRENCY_BEFORE = re.compile(r"(?:€|\$|£|₹|\bRs\.?|RM|\bEUR|\bUSD|\bGBP|\bINR|\bMYR)\s*$")


_OCR_SPLIT_DECIMAL = re.compile(r"(\d)\s?([.,])\s(\d{2})(?![\d.,])")


def heal_ocr_amounts(text: str) -> str:
    """``"79. 35"`` → ``"79.35 "``: OCR splits amounts at the decimal mark (same length kept)."""
    return _OCR_SPLIT_DECIMAL.sub(
        lambda m: m.group(1) + m.group(2) + m.group(3) + " " * (len(m.group(0)) - 4), text
    )


def money_parser(decimal_mark: str | None, *, ocr: bool = False) -> Parser:
    def parse(text: str) -> list[tuple[object, int, int]]:
        if ocr:
            text = heal_ocr_amounts(text)
        out: list[tuple[object, int, int]] = []
        for a in find_amounts(text, decimal_mark=decimal_mark, allow_int=True):
            if not a.has_decimals and not _CURRENCY_BEFORE.search(text[: a.start]):
                continue
            if abs(a.value) >= Decimal("100000000"):
                continue
            out.append((a.value.quantize(Decimal("0.01")), a.start, a.end))
        return out

    return parse


def date_parser(dayfirst: bool) -> Parser:
    def parse(text: str) -> list[tuple[object, int, int]]:
        return [(d, d.start, d.end) for d in find_dates(text, dayfirst=dayfirst)]

    return parse


_ID_RE = re.compile(
    r"^[\s:#.\-–]*(?:(?:no|nr|n°|nº|num(?:ber|mer|ero)?)\b\.?)?[\s:#.]*"
    r"(?P<v>[A-Za-z0-9][A-Za-z0-9/_\-.]{1,34})"
)


def id_parser(text: str) -> list[tuple[object, int, int]]:
    m = _ID_RE.match(text)
    if not m:
        return []
    value = m.group("v").rstrip(".-/")
    if not any(c.isdigit() for c in value) or len(value) < 3:
        return []
    if re.fullmatch(r"\d{1,3}([.,]\d{2})", value):  # an amount, not a number
        return []
    return [(value, m.start("v"), m.start("v") + len(value))]


# ---------------------------------------------------------------------------------- vocabulary


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


INVOICE_NO_LABELS = [
    (
        _re(
            r"\b(?:invoice|rechnungs?|facture|factuur|bill|tax\s*invoice)\s*(?:number|nummer|no\b\.?|nr\b\.?|n[°º]|#|num(?:ero)?\b|id\b)"
        ),
        3,
    ),
    (_re(r"\b(?:rechnungsnr|rechnungsnummer|factuurnummer|factuurnr|belegnummer|belegnr)\b\.?"), 3),
    (_re(r"rechnung\s*(?:\(\d+\)\s*)?(?:nr|no|nummer)\b\.?|\bbeleg-nr\b\.?"), 3),
    (_re(r"\b(?:n[°º]|numero)\s*(?:de\s*)?facture\b"), 3),
    (_re(r"\b(?:document|doc|receipt|bill|beleg)\s*(?:no|nr|number|#)\b\.?"), 2),
    (_re(r"^(?:invoice|rechnung|facture|factuur)\b(?=\s+[a-z]{0,4}[-/]?\d)"), 2),
    (_re(r"^(?:n[o°º]\.?|nr\.?)(?=\s*[a-z]{0,4}[-/]?\d)"), 2),
    (_re(r"\b(?:booking|reference|ref)\s*(?:id|no|number)\b"), 1),
]
DATE_LABELS = [
    (
        _re(
            r"\b(?:invoice|bill|tax\s*invoice)\s*date\b|\bdate\s*of\s*(?:invoice|issue)|\bissue\s*date|"
            r"rechnungs-?datum|beleg-?datum|factuurdatum|\bdate\s*(?:de\s*(?:la\s*)?)?facture|date\s*d.emission"
        ),
        3,
    ),
    (_re(r"(?<![\w-])(?:date|datum|dated)\b"), 2),
    (_re(r"\bvom\b"), 1),
]
DATE_EXCLUDE_BEFORE = _re(
    r"(order|due|delivery|liefer|leistungs|check|ship|payment|fallig|faellig|"
    r"echeance|bestell|auftrag|valid|start|end|period|service|print|geburt|"
    r"birth|zahlungs|verval|expir|from|to)\S*\s*(?:-|und|and)?\s*$"
)
DATE_EXCLUDE_AFTER = _re(
    r"^\W*(?:limite|d.?echeance|de\s*livraison|due|of\s*(?:delivery|birth|order|"
    r"service|supply)|de\s*commande|du\s*paiement|de\s*paiement)"
)
DUE_LABELS = [
    (
        _re(
            r"\bdue\s*date|\bdate\s*due|payment\s*due|\bdue\s*on|f(?:a|ae)llig(?:keit|keitsdatum)?|"
            r"zahlungsziel|zahlbar\s*bis|\bech[eé]ance|vervaldatum|te\s*betalen\s*voor"
        ),
        3,
    ),
]
TOTAL_LABELS = [
    (
        _re(
            r"grand\s*total|total\s*amount(?:\s*(?:due|payable))?|amount\s*(?:due|payable)|balance\s*due|"
            r"total\s*due|invoice\s*total|total\s*(?:for\s*this\s*invoice|payable|to\s*pay|ttc)|"
            r"gesamtbetrag|rechnungsbetrag|bruttosumme|rechnungssumme\s*brutto|endbetrag|endsumme|"
            r"gesamtsumme|summe\s*brutto|montant\s*(?:total|ttc|a\s*payer)|net\s*a\s*payer|totaal\s*bedrag|"
            r"te\s*betalen|total\s*(?:€|eur|usd|\$)?\s*incl"
        ),
        3,
    ),
    (
        _re(r"(?<!sub)(?<!sub )(?<!sub-)\btotaal\b|(?<!sub)(?<!sub )(?<!sub-)\btotal\b|zahlbetrag"),
        2,
    ),
]
TOTAL_EXCLUDE = _re(
    r"sub\s*-?\s*total|subtotaal|total\s*(?:qty|quantity|items?|tax|gst|vat|excl|ex\b|"
    r"ht\b|net\b|hors|sales|discount|savings|weight|pages?)|netto|ohne\s*u|exclusief|"
    r"excl\.|zwischensumme|positionssumme|der\s*(?:zu|ab)schl|warenwert"
)
SUBTOTAL_LABELS = [
    (
        _re(
            r"total\s*(?:net|ht|excl\S*(?:\s*(?:vat|tax|btw))?|hors\s*taxes?|before\s*tax|ex\b)|"
            r"montant\s*ht|nettobetrag|rechnungssumme\s*(?:netto|ohne\s*u\S*)|summe\s*netto|"
            r"exclusief\s*btw|net\s*(?:amount|total)|amount\s*untaxed|gesamtsumme\s*netto|"
            r"nettosumme|rechnungssumme\s*ohne"
        ),
        3,
    ),
    (_re(r"sub\s*-?\s*total|subtotaal|zwischensumme|sous-?total"), 2),
]
TAX_LABELS = [
    (
        _re(
            r"total\s*(?:tax|vat|gst|mwst)|tax\s*amount|vat\s*amount|steuerbetrag|montant\s*tva|"
            r"mwst\.?\s*betrag|umsatzsteuer|btw\s*bedrag"
        ),
        3,
    ),
    (_re(r"\b(?:vat|tax|mwst|ust|tva|btw|gst|i\.?v\.?a)\b"), 2),
]
TAX_EXCLUDE = _re(
    r"excl|incl|inkl|ohne|exclusief|ust-?id|ustid|u\.?st\.?-?id|vat\s*(?:id|no|reg|number|"
    r"identifier|clause|invoice)|tax\s*(?:id|invoice|code|number|point|rate)|steuer-?nr|"
    r"steuernummer|tva\s*intra|n[°º]\s*tva|btw\s*(?:nr|nummer|id)|btw-?nummer|"
    r"registration|not\s*a\s*vat|include|inclus|gst\s*(?:id|no|reg)|summary|%\s*\d"
)
PO_LABELS = [
    (
        _re(
            r"purchase\s*order(?:\s*(?:no|number|#|nr))?|\bp\.?\s?o\.?\s*(?:no|number|#|nr)\b|"
            r"\border\s*(?:no|number|#|ref(?:erence)?)\b|your\s*order|bestell(?:nummer|nr|ung)|"
            r"ihre\s*bestellung|auftragsnummer|ihr\s*auftrag|bon\s*de\s*commande|commande\s*n|"
            r"ordernummer|buyer\s*reference|kauferreferenz"
        ),
        3,
    ),
]
VENDOR_LABELS = _re(
    r"^(?:sold\s*by|seller|supplier|vendor|verk(?:a|ae)ufer|lieferant|"
    r"rechnungssteller|[eé]metteur|fournisseur|leverancier|verkoper|from)\b\s*(?::|$)"
)
BUYER_LABELS = _re(
    r"\b(?:bill(?:ed)?\s*to|billing\s*address|invoice\s*to|sold\s*to|customer|client|"
    r"kunde(?!n\s*-?nr|nnummer|nr)|rechnungsempf(?:a|ae)nger|rechnungsadresse|k(?:a|ae)ufer|"
    r"leistungsempf(?:a|ae)nger|destinataire|factuuradres|buyer|attn)\b\s*[:/]?"
)
TITLE_WORDS = _re(r"^(?:.*?)\b(tax\s*invoice|invoice|rechnung|facture|factuur|bill)\b\.?")
LEGAL_FORMS = _re(
    r"\b(?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|kg|ohg|e\.?\s?k\.?|ug|b\.\s?v\.?|n\.\s?v\.?|"
    r"s\.?a\.?r\.?l\.?|sarl|sas|s\.?a\.?|ltd\.?|limited|inc\.?|llc|llp|plc|corp(?:oration)?\.?|"
    r"pvt\.?\s*ltd\.?|private\s*limited|sdn\.?\s*bhd\.?|bhd\.?|s\.?p\.?a\.?|s\.?r\.?l\.?|"
    r"oy|ab|a/s|aps|bvba|sprl|co\.)(?=$|[\s,.;)])"
)
CONTACT = _re(
    r"\b(?:tel|phone|fax|e-?mail|www\.|http|iban|bic|swift|ust|vat|btw|tva|kvk|hrb|"
    r"siret|gst|telefon)\b|@"
)
COUNTRIES = {
    "deutschland": "DE",
    "germany": "DE",
    "allemagne": "DE",
    "france": "FR",
    "frankreich": "FR",
    "nederland": "NL",
    "netherlands": "NL",
    "niederlande": "NL",
    "belgie": "BE",
    "belgique": "BE",
    "belgium": "BE",
    "osterreich": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "switzerland": "CH",
    "united kingdom": "GB",
    "italia": "IT",
    "italy": "IT",
    "espana": "ES",
    "spain": "ES",
    "luxembourg": "LU",
    "united states": "US",
    "usa": "US",
    "india": "IN",
    "malaysia": "MY",
}


# ------------------------------------------------------------------------------ doc context


@dataclass
class DocContext:
    pages: list[Page]
    rows: list[Row]
    text: str
    folded: str
    decimal_mark: str | None
    dayfirst: bool
    currency: str | None
    currency_method: str
    currency_score: float
    language: str


def _language(folded: str) -> str:
    scores = {
        "de": len(
            re.findall(r"\b(?:rechnung|und|der|die|mwst|betrag|summe|datum|zahlbar)\b", folded)
        ),
        "fr": len(re.findall(r"\b(?:facture|le|la|les|tva|montant|date|du|des)\b", folded)),
        "nl": len(re.findall(r"\b(?:factuur|het|een|btw|totaal|bedrag|van|voor)\b", folded)),
        "en": len(re.findall(r"\b(?:invoice|the|and|total|amount|date|for|of)\b", folded)),
    }
    return max(scores, key=lambda k: scores[k])


def context(pages: list[Page]) -> DocContext:
    rows = rows_of(pages)
    text = "\n".join(p.text for p in pages)
    folded = fold(text)
    votes = currency_votes(text)
    currency, method, score = None, "none", 0.0
    if votes:
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        currency = ranked[0][0]
        runner = ranked[1][1] if len(ranked) > 1 else 0
        explicit = bool(re.search(rf"(?<![A-Za-z]){currency}(?![A-Za-z])", text))
        method = "code" if explicit else "symbol"
        score = (
            min(0.97, 0.6 + 0.05 * ranked[0][1] - 0.1 * runner) if runner < ranked[0][1] else 0.3
        )
        if currency == "USD" and not explicit and "dollar" not in folded:
            score = min(score, 0.6)
    language = _language(folded)
    dayfirst = not (language == "en" and currency in ("USD", None) and "gst" not in folded)
    return DocContext(
        pages,
        rows,
        text,
        folded,
        guess_decimal_mark(text),
        dayfirst,
        currency,
        method,
        score,
        language,
    )


# --------------------------------------------------------------------------------- the reader


def _labelled(
    ctx: DocContext,
    labels: list[tuple[re.Pattern[str], int]],
    parse: Parser,
    *,
    last: bool = False,
    exclude: re.Pattern[str] | None = None,
    exclude_before: re.Pattern[str] | None = None,
    exclude_after: re.Pattern[str] | None = None,
) -> list[Hit]:
    hits: list[Hit] = []
    for pattern, priority in labels:
        for hit, row, where in find_labelled(ctx.rows, pattern, parse, last=last, exclude=exclude):
            m = pattern.search(row.folded)
            if (
                m
                and exclude_before is not None
                and exclude_before.search(row.folded[max(0, m.start() - 25) : m.start()])
            ):
                continue
            if m and exclude_after is not None and exclude_after.search(row.folded[m.end() :]):
                continue
            hit.notes["priority"] = priority
            hit.notes["where"] = where
            hit.notes["label_row"] = (row.page, row.index)
            hits.append(hit)
    return hits


def _best(hits: list[Hit]) -> Hit | None:
    if not hits:
        return None
    return max(
        hits, key=lambda h: (h.notes.get("priority", 0), h.notes.get("where") == "right", -h.page)
    )


def _agree(hits: list[Hit], value: object) -> int:
    return sum(1 for h in hits if h.value == value)


def _conf(base: float, hit: Hit | None, bonus: float = 0.0) -> float:
    ocr = hit.ocr_conf if hit else 1.0
    return max(0.0, min(1.0, (base + bonus) * (0.35 + 0.65 * ocr)))


def _field(name: str, hit: Hit, method: str, conf: float, value: object | None = None) -> Field:
    return Field(
        name=name,
        value=hit.value if value is None else value,
        raw=hit.raw,
        confidence=round(conf, 4),
        page=hit.page,
        box=hit.box,
        method=method,
    )


def read_amounts(ctx: DocContext) -> dict[str, Field]:
    parse = money_parser(ctx.decimal_mark)
    totals = _labelled(ctx, TOTAL_LABELS, parse, last=True, exclude=TOTAL_EXCLUDE)
    subs = _labelled(ctx, SUBTOTAL_LABELS, parse)
    taxes = _labelled(ctx, TAX_LABELS, parse, last=True, exclude=TAX_EXCLUDE)
    all_amounts = [a.value for a in find_amounts(ctx.text, decimal_mark=ctx.decimal_mark)]
    biggest = max((abs(v) for v in all_amounts), default=None)
    fields: dict[str, Field] = {}

    # the combination where total = subtotal + tax, when the page offers one
    triple: tuple[Hit, Hit, Hit] | None = None
    for t in sorted(totals, key=lambda h: -int(h.notes.get("priority", 0))):
        for s in subs:
            for x in taxes:
                if s.value != t.value and abs(s.value + x.value - t.value) <= Decimal("0.011"):  # type: ignore[operator]
                    triple = (t, s, x)
                    break
            if triple:
                break
        if triple:
            break

    total = triple[0] if triple else _best(totals)
    if total is not None:
        repeats = _agree(totals, total.value)
        is_max = biggest is not None and abs(total.value) >= biggest  # type: ignore[arg-type]
        method = "label+sum" if triple else "label"
        bonus = (
            (0.1 if triple else 0.0) + (0.05 if is_max else -0.1) + (0.04 if repeats > 1 else 0.0)
        )
        bonus += 0.03 * (int(total.notes.get("priority", 2)) - 2)
        fields["total_amount"] = _field("total_amount", total, method, _conf(0.78, total, bonus))
    else:
        # no readable total label: the amount printed most often (total, paid, balance lines),
        # else the largest one
        marked = [v for row in ctx.rows for v, _, _ in parse(row.text) if isinstance(v, Decimal)]
        counts = {v: marked.count(v) for v in marked if v > 0}
        repeated = [v for v, n in counts.items() if n >= 2 and v == max(counts)]
        if repeated:
            value = repeated[0]
            fields["total_amount"] = Field(
                name="total_amount",
                value=value,
                raw=str(value),
                confidence=0.45,
                method="repeated",
            )
        elif all_amounts:
            value = max(all_amounts, key=abs)
            fields["total_amount"] = Field(
                name="total_amount",
                value=value,
                raw=str(value),
                confidence=0.3,
                method="fallback",
            )
    sub = (
        triple[1]
        if triple
        else _best([s for s in subs if total is None or s.value != total.value] or subs)
    )
    if sub is not None:
        fields["subtotal"] = _field(
            "subtotal", sub, "label+sum" if triple else "label", _conf(0.9 if triple else 0.6, sub)
        )
    tax = triple[2] if triple else None
    if tax is None and total is not None and sub is not None:
        for x in taxes:
            if abs(sub.value + x.value - total.value) <= Decimal("0.011"):  # type: ignore[operator]
                tax = x
    if tax is None and taxes:
        tax = _best(taxes)
        if tax is not None:
            fields["tax_amount"] = _field("tax_amount", tax, "label", _conf(0.5, tax))
    elif tax is not None:
        fields["tax_amount"] = _field("tax_amount", tax, "label+sum", _conf(0.9, tax))
    return fields


def read_dates(ctx: DocContext) -> dict[str, Field]:
    parse = date_parser(ctx.dayfirst)
    fields: dict[str, Field] = {}
    hits = _labelled(
        ctx,
        DATE_LABELS,
        parse,
        exclude_before=DATE_EXCLUDE_BEFORE,
        exclude_after=DATE_EXCLUDE_AFTER,
    )
    number_rows = {
        (r.page, r.index)
        for r in ctx.rows
        if any(p.search(r.folded) for p, _ in INVOICE_NO_LABELS[:3])
    }
    for h in hits:  # "Invoice No. 123 dated 1.2.2024": a date on the number's row is the issue date
        if h.notes.get("label_row") in number_rows:
            h.notes["priority"] = int(h.notes.get("priority", 0)) + 0.5  # type: ignore[call-overload]
    due_hits = _labelled(ctx, DUE_LABELS, parse)
    due_values = {h.value.value for h in due_hits}  # type: ignore[attr-defined]
    hits = [h for h in hits if h.value.value not in due_values or h.notes["priority"] == 3]  # type: ignore[attr-defined]
    best = _best(hits)
    if best is not None:
        found = best.value
        bonus = -0.25 if found.ambiguous else 0.05  # type: ignore[attr-defined]
        bonus += 0.04 * (int(best.notes.get("priority", 2)) - 2)
        bonus += 0.03 if _agree(hits, found) > 1 else 0.0
        fields["invoice_date"] = _field(
            "invoice_date", best, "label", _conf(0.8, best, bonus), value=found.value
        )  # type: ignore[attr-defined]
    else:
        first_page = [r for r in ctx.rows if r.page == ctx.rows[0].page] if ctx.rows else []
        for row in first_page:
            found_dates = find_dates(row.text, dayfirst=ctx.dayfirst)
            if found_dates:
                d = found_dates[0]
                words = row.words_in(d.start, d.end)
                fields["invoice_date"] = Field(
                    name="invoice_date",
                    value=d.value,
                    raw=d.text,
                    confidence=0.35 if not d.ambiguous else 0.2,
                    page=row.page,
                    box=union_box(words) if words else None,
                    method="fallback",
                )
                break
    due = _best(due_hits)
    if due is not None:
        found = due.value
        fields["due_date"] = _field(
            "due_date",
            due,
            "label",
            _conf(0.75 if not found.ambiguous else 0.5, due),  # type: ignore[attr-defined]
            value=found.value,
        )  # type: ignore[attr-defined]
    return fields


def read_ids(ctx: DocContext) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    hits = _labelled(ctx, INVOICE_NO_LABELS, id_parser)
    hits = [h for h in hits if not find_dates(str(h.value)) or len(str(h.value)) > 10]
    best = _best(hits)
    if best is not None:
        bonus = 0.04 * (int(best.notes.get("priority", 2)) - 2) + (
            0.05 if _agree(hits, best.value) > 1 else 0
        )
        fields["invoice_number"] = _field("invoice_number", best, "label", _conf(0.8, best, bonus))
    po = _best(_labelled(ctx, PO_LABELS, id_parser))
    if po is not None:
        fields["po_number"] = _field("po_number", po, "label", _conf(0.6, po))
    return fields


def read_vat(
    ctx: DocContext, buyer_rows: set[tuple[int, int]], vendor_row: int | None = None
) -> dict[str, Field]:
    """The seller's VAT id: a valid one, labelled, near the seller's name or in the footer."""
    label = _re(r"ust-?id|ustid|u\.?st\.?-?id|vat|btw|tva|mwst|steuer|tax\s*id|registration")
    candidates: list[tuple[float, str, Row]] = []
    for i, row in enumerate(ctx.rows):
        if (row.page, row.index) in buyer_rows:
            continue
        height = ctx.pages[min(row.page, len(ctx.pages) - 1)].height
        for raw, _s, _e in find_vat_ids(row.text):
            vat = raw
            valid = vat_is_valid(vat)
            if not valid:  # "DE777777777 999 / 9…": try the match without trailing digit groups
                for cut in range(len(vat), 8, -1):
                    if vat_is_valid(vat[:cut]):
                        vat, valid = vat[:cut], True
                        break
                else:
                    for cut in range(len(vat), 8, -1):
                        if vat_shape_ok(vat[:cut]):
                            vat = vat[:cut]
                            break
            labelled = bool(label.search(row.folded)) or (
                i > 0 and bool(label.search(ctx.rows[i - 1].folded))
            )
            if "iban" in row.folded and not labelled:
                continue
            score = 0.5 + (0.2 if labelled else 0) + (0.2 if valid else -0.1)
            if row.box[1] > 0.75 * height or (vendor_row is not None and 0 <= i - vendor_row <= 8):
                score += 0.05
            candidates.append((score, vat, row))
    if not candidates:
        return {}
    score, vat, row = max(candidates, key=lambda c: c[0])
    if len({c[1] for c in candidates}) > 1:
        score -= 0.15
    ocr = row.words[0].conf if row.words else 1.0
    return {
        "vendor_vat": Field(
            name="vendor_vat",
            value=vat,
            raw=vat,
            confidence=round(max(0.0, min(1.0, score * (0.35 + 0.65 * ocr))), 4),
            page=row.page,
            box=row.box,
            method="pattern",
        )
    }


def _clean_name(text: str) -> str:
    text = re.sub(r"^[\s:;,.\-–•|]+|[\s:;,\-–•|]+$", "", text)
    return re.sub(r"\s+", " ", text)


def _trim_at_legal_form(text: str) -> str:
    """ "Kraxi GmbH, Flugzeugallee 17" → "Kraxi GmbH"; "Rohstoff AG Salzgitter" stays whole."""
    matches = list(LEGAL_FORMS.finditer(text))
    m = matches[-1] if matches else None
    if m is None or not re.search(r"[\d,•|]", text[m.end() :]):
        return text
    return text[: m.end()].rstrip(" ,")


def buyer_block(ctx: DocContext) -> tuple[Field | None, set[tuple[int, int]]]:
    """The buyer's name, and the rows of the buyer's address block (kept out of vendor search)."""
    rows = ctx.rows
    block: set[tuple[int, int]] = set()
    name: Field | None = None
    for i, row in enumerate(rows):
        for seg in split_columns(row):
            m = BUYER_LABELS.search(seg.folded)
            if not m or m.start() > 3:
                continue
            rest = _clean_name(seg.text[m.end() :])
            if rest and (BUYER_LABELS.search(fold(rest)) or rest.endswith(":")):
                rest = ""
            seg_box = seg.box
            below = list(
                below_words(rows, i, seg_box[0], max(seg_box[2], seg_box[0] + 150), max_rows=4)
            )
            for nxt, _ in below:
                block.add((nxt.page, nxt.index))
            if rest and not re.search(r"\d{3,}", rest):
                words = seg.words_in(m.end(), len(seg.text))
                value, conf_words = rest, words
            elif below:
                segs = [split_columns(make_row(n.page, n.index, ws))[0] for n, ws in below]
                pick = _name_from_block(segs, [n for n, _ in below])
                if pick is None:
                    continue
                value, conf_words = _clean_name(re.sub(r"(?i)^attn:?\s*", "", pick[0])), pick[1]
            else:
                continue
            if name is None and value and sum(c.isalpha() for c in value) >= 3:
                ocr = min((w.conf for w in conf_words), default=1.0)
                name = Field(
                    name="buyer_name",
                    value=value,
                    raw=value,
                    confidence=round(0.6 * (0.35 + 0.65 * ocr), 4),
                    page=row.page,
                    box=union_box(conf_words) if conf_words else None,
                    method="label",
                )
    return name, block


def _sender_line(ctx: DocContext) -> tuple[int, Row, list[str]] | None:
    """The one-line sender address above a window envelope's address ("Name • Street • City")."""
    for i, row in enumerate(ctx.rows[:25]):
        if row.page != ctx.rows[0].page:
            break
        parts = [p.strip() for p in re.split(r"\s[•·|–-]\s|\s?[•·|]\s?", row.text) if p.strip()]
        if len(parts) >= 3 and re.search(r"\d{4,5}", row.text) and len(parts[0]) >= 3:
            return i, row, parts
    return None


_NAME_PREFIX = _re(r"^(?:name|firma|company|raison\s*sociale|naam)\s*:\s*")


def _name_from_block(
    block: list[Row], full: list[Row] | None = None
) -> tuple[str, list[Word]] | None:
    """The party's name in the rows under a party heading ("Name: …", a legal form, else plain).

    ``full`` are the whole rows (key/value listings print "Name:" and the value columns apart).
    """
    for seg in full or block:
        m = _NAME_PREFIX.match(seg.folded)
        if m and seg.text[m.end() :].strip():
            return _clean_name(seg.text[m.end() :]), seg.words_in(m.end(), len(seg.text))
    for seg in block:
        if LEGAL_FORMS.search(seg.text) and not re.search(r"\d{4,}", seg.text):
            return _clean_name(_trim_at_legal_form(seg.text)), seg.words
    for seg in block:
        if (
            ":" not in seg.text
            and not re.search(r"\d", seg.text)
            and sum(c.isalpha() for c in seg.text) >= 3
        ):
            return _clean_name(seg.text), seg.words
    return None


def _repeated_names(ctx: DocContext) -> dict[str, int]:
    """Header segments (top of page 1) that come back in a footer: letterhead and imprint."""
    if not ctx.rows:
        return {}
    first = ctx.rows[0].page
    height = ctx.pages[0].height if ctx.pages else 1.0
    heads = [
        seg
        for r in ctx.rows
        if r.page == first and r.box[1] < 0.3 * height
        for seg in split_columns(r)
    ]
    feet_text = [
        fold(seg.text)
        for r in ctx.rows
        for seg in split_columns(r)
        if r.box[1] > 0.7 * (ctx.pages[min(r.page, len(ctx.pages) - 1)].height)
    ]
    out: dict[str, int] = {}
    for i, seg in enumerate(heads):
        name = _clean_name(seg.text)
        key = fold(name)
        if len(key) < 4 or re.search(r"\d|:", key) or sum(c.isalpha() for c in key) < 4:
            continue
        if len(key.split()) < 2 and not LEGAL_FORMS.search(name):
            continue
        if any(f.startswith(key) for f in feet_text):
            out.setdefault(name, i)
    return out


def _window_buyer(ctx: DocContext) -> Field | None:
    """DIN 5008 letters: the recipient's name is the first line under the one-line sender."""
    sender = _sender_line(ctx)
    if sender is None:
        return None
    i, row, _ = sender
    for nxt, words in below_words(
        ctx.rows, i, row.box[0], row.box[2], max_rows=1, max_gap_factor=4
    ):
        seg = split_columns(make_row(nxt.page, nxt.index, words))[0]
        if sum(c.isalpha() for c in seg.text) >= 3 and not re.search(r"\d{3,}", seg.text):
            ocr = min((w.conf for w in seg.words), default=1.0)
            return Field(
                name="buyer_name",
                value=_clean_name(seg.text),
                raw=seg.text,
                confidence=round(0.55 * (0.35 + 0.65 * ocr), 4),
                page=nxt.page,
                box=seg.box,
                method="window",
            )
    return None


def read_vendor(ctx: DocContext, buyer_rows: set[tuple[int, int]]) -> dict[str, Field]:
    rows = ctx.rows
    candidates: list[
        tuple[float, str, str, list[Word], int]
    ] = []  # score, name, method, words, row i
    for i, row in enumerate(rows):
        for seg in split_columns(row):
            m = VENDOR_LABELS.search(seg.folded)
            if not m:
                continue
            rest = _clean_name(seg.text[m.end() :])
            if rest and not BUYER_LABELS.search(fold(rest)):
                candidates.append(
                    (
                        0.85,
                        _trim_at_legal_form(rest),
                        "label",
                        seg.words_in(m.end(), len(seg.text)),
                        i,
                    )
                )
                continue
            under = list(
                below_words(rows, i, seg.box[0], seg.box[2] + 100, max_rows=4, max_gap_factor=4)
            )
            below = [split_columns(make_row(nxt.page, nxt.index, words))[0] for nxt, words in under]
            pick = _name_from_block(below, [nxt for nxt, _ in under])
            if pick is not None:
                candidates.append((0.8, pick[0], "label", pick[1], i))
    sender = _sender_line(ctx)
    if sender is not None:
        i, row, parts = sender
        name = _clean_name(parts[0])
        candidates.append(
            (
                0.8 if LEGAL_FORMS.search(name) else 0.65,
                name,
                "sender_line",
                row.words[: len(name.split())],
                i,
            )
        )
    first_page = rows[0].page if rows else 0
    for i, row in enumerate(rows[:6]):
        if row.page != first_page:
            break
        for seg in split_columns(row):
            m = TITLE_WORDS.match(seg.folded)
            if not m:
                continue
            before = _clean_name(seg.text[: m.start(1)])
            after = _clean_name(seg.text[m.end() :])
            for text in (before, after):
                if (
                    len(text) >= 3
                    and not re.search(r"\d", text)
                    and sum(c.isalpha() for c in text) >= 3
                ):
                    candidates.append(
                        (0.7 if LEGAL_FORMS.search(text) else 0.6, text, "title", seg.words, i)
                    )
    head = [r for r in rows if r.page == first_page]
    names_seen: dict[str, int] = {}
    for row in rows:
        for seg in split_columns(row):
            if LEGAL_FORMS.search(seg.text):
                key = fold(_trim_at_legal_form(seg.text))
                names_seen[key] = names_seen.get(key, 0) + 1
    repeated = _repeated_names(ctx)
    for name, order in repeated.items():
        for i, row in enumerate(head):
            if fold(name) in row.folded and (row.page, row.index) not in buyer_rows:
                seg_words = [w for w in row.words if fold(w.text) in fold(name)]
                candidates.append((0.74 - 0.005 * order, name, "repeated", seg_words, i))
                break
    limit = max(6, len(head) // 3)
    for i, row in enumerate(head[:limit]):
        if (row.page, row.index) in buyer_rows:
            continue
        for seg in split_columns(row):
            if not LEGAL_FORMS.search(seg.text) or BUYER_LABELS.search(seg.folded):
                continue
            name = _clean_name(_trim_at_legal_form(seg.text))
            if len(name) < 3 or len(name.split()) > 7:
                continue
            repeats = names_seen.get(fold(name), 0)
            candidates.append(
                (0.62 + (0.08 if repeats > 1 else 0) - 0.01 * i, name, "legal_form", seg.words, i)
            )
    if not candidates:
        for i, row in enumerate(head[:3]):
            seg = split_columns(row)[0]
            if sum(c.isalpha() for c in seg.text) >= 3:
                candidates.append((0.3, _clean_name(seg.text), "fallback", seg.words, i))
                break
    if not candidates:
        return {}
    score, name, method, words, i = max(candidates, key=lambda c: (c[0], -c[4]))
    agree = sum(1 for c in candidates if fold(c[1]) == fold(name) and c[2] != method)
    score += 0.05 * min(agree, 2)
    ocr = min((w.conf for w in words), default=1.0)
    fields = {
        "vendor_name": Field(
            name="vendor_name",
            value=name,
            raw=name,
            confidence=round(max(0.0, min(1.0, score * (0.35 + 0.65 * ocr))), 4),
            page=rows[i].page,
            box=union_box(words) if words else None,
            method=method,
        )
    }
    address = _vendor_address(ctx, i, words, sender)
    if address is not None:
        fields["address"] = address
    return fields


_ZIP_CITY = re.compile(
    r"^(?:(?P<cc>[A-Z]{1,2})[- ])?(?P<zip>\d{4,5}|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{3} ?\d{2})\s+"
    r"(?P<city>[^\d,]{2,}?)\s*$"
)
_STREET = re.compile(
    r"\d|stra(?:ss|ß)e|str\.|weg\b|allee|platz|gasse|ring\b|rue|avenue|boulevard|chemin|"
    r"laan|straat|road|street|lane|\bave\b",
    re.IGNORECASE,
)
_PLATE_CC = {"D": "DE", "F": "FR", "A": "AT", "B": "BE", "NL": "NL", "L": "LU", "CH": "CH"}


def _vat_country(ctx: DocContext) -> str | None:
    vats = find_vat_ids(ctx.text)
    if vats:
        return vats[0][0][:2]
    return {"de": "DE", "fr": "FR", "nl": "NL"}.get(ctx.language)


def format_address(parts: list[str], country_hint: str | None = None) -> str | None:
    """Address lines as "street, [more,] zip city, CC" (the e-invoice convention), else None.

    The block is cut to the lines from the street to the "zip city" line; a country printed on
    the next line, or a "DE-" / "D-" prefix on the postcode, gives the country code, else the
    seller's VAT id prefix does.
    """
    lines = [_clean_name(p) for p in parts if _clean_name(p)]
    zip_at = next((i for i, line in enumerate(lines) if _ZIP_CITY.match(line)), None)
    if zip_at is None or zip_at == 0:
        return None
    m = _ZIP_CITY.match(lines[zip_at])
    assert m is not None
    street_at = max(
        (i for i in range(zip_at) if _STREET.search(lines[i]) and not LEGAL_FORMS.search(lines[i])),
        default=None,
    )
    if street_at is None:
        return None
    cc = m.group("cc")
    country = _PLATE_CC.get(cc, cc) if cc else None
    if zip_at + 1 < len(lines) and fold(lines[zip_at + 1]) in COUNTRIES:
        country = COUNTRIES[fold(lines[zip_at + 1])]
    country = country or country_hint
    pieces = [*lines[street_at:zip_at], f"{m.group('zip')} {m.group('city').strip()}"]
    if country:
        pieces.append(country)
    return ", ".join(pieces)


def _vendor_address(
    ctx: DocContext, i: int, name_words: list[Word], sender: tuple[int, Row, list[str]] | None
) -> Field | None:
    parts: list[str] = []
    words_used: list[Word] = []
    if sender is not None and sender[0] == i:
        parts = [p for p in sender[2][1:] if not CONTACT.search(fold(p))]
        words_used = sender[1].words
    elif name_words:
        x0 = min(w.box[0] for w in name_words)
        x1 = max(w.box[2] for w in name_words)
        for nxt, words in below_words(ctx.rows, i, x0, max(x1, x0 + 120), max_rows=6):
            seg = split_columns(make_row(nxt.page, nxt.index, words))[0]
            if CONTACT.search(seg.folded) or not seg.text.strip():
                break
            parts.append(seg.text)
            words_used.extend(seg.words)
    if not parts:
        return None
    value = format_address(parts, country_hint=_vat_country(ctx))
    method = "below_name+zip" if value is not None else "below_name"
    if value is None:
        value = ", ".join(COUNTRIES.get(fold(p)) or _clean_name(p) for p in parts)
    ocr = min((w.conf for w in words_used), default=1.0)
    return Field(
        name="address",
        value=value,
        raw=" / ".join(parts),
        confidence=round(0.45 * (0.35 + 0.65 * ocr), 4),
        page=ctx.rows[i].page if ctx.rows else None,
        box=union_box(words_used) if words_used else None,
        method=method,
    )


# ------------------------------------------------------------------------------- line items

_COLS = {
    "description": _re(
        r"description|beschreibung|bezeichnung|artikel|designation|d[eé]signation|omschrijving|"
        r"product|item|leistung|libell|dienst|article"
    ),
    "quantity": _re(
        r"\bqty\b|quantity|menge|anzahl|aantal|qt[eé]|quantit|\bpcs\b|\bunits?\b|\bnights?\b"
    ),
    "unit_price": _re(r"unit\s*price|price|preis|prijs|prix|\brate\b|tarif|\bp\.?u\.?\b"),
    "amount": _re(r"amount|betrag|\btotal\b|montant|bedrag|gesamt|summe|incl\.?\s*btw"),
}


def read_line_items(ctx: DocContext) -> Field | None:
    rows = ctx.rows
    parse = money_parser(ctx.decimal_mark)
    items: list[dict[str, object]] = []
    conf_words: list[Word] = []
    for i, row in enumerate(rows):
        found = {k: p.search(row.folded) for k, p in _COLS.items()}
        if sum(1 for v in found.values() if v) < 3 or not found["amount"]:
            continue
        x_of: dict[str, float] = {}
        for key, m in found.items():
            if m:
                ws = row.words_in(m.start(), m.end())
                if ws:
                    x_of[key] = (ws[0].box[0] + ws[-1].box[2]) / 2
        for nxt in rows[i + 1 :]:
            if nxt.page != row.page:
                break
            if TOTAL_EXCLUDE.search(nxt.folded) or re.search(
                r"\btota(?:l|al)\b|summe|rechnungssumme", nxt.folded
            ):
                break
            amounts = parse(nxt.text)
            if not amounts:
                if (
                    items
                    and nxt.words
                    and nxt.words[0].box[0] < x_of.get("quantity", 1e9)
                    and len(nxt.text) < 80
                ):
                    continue
                continue
            amount = amounts[-1][0]
            desc_words = [
                w
                for w in nxt.words
                if w.box[2] < x_of.get("quantity", x_of.get("unit_price", 1e9)) - 5
            ]
            desc = re.sub(r"^\d{1,3}\s+", "", " ".join(w.text for w in desc_words)).strip()
            qty = None
            if "quantity" in x_of:
                near = [w for w in nxt.words if re.fullmatch(r"\d+(?:[.,]\d+)?", w.text)]
                if near:
                    best = min(
                        near, key=lambda w: abs((w.box[0] + w.box[2]) / 2 - x_of["quantity"])
                    )
                    if abs((best.box[0] + best.box[2]) / 2 - x_of["quantity"]) < 60:
                        qty = best.text.replace(",", ".")
            unit = amounts[-2][0] if len(amounts) >= 2 else None
            if not desc:
                continue
            items.append(
                {"description": desc, "quantity": qty, "unit_price": unit, "amount": amount}
            )
            conf_words.extend(nxt.words)
        if items:
            break
    if not items:
        return None
    ocr = min((w.conf for w in conf_words), default=1.0)
    return Field(
        name="line_items",
        value=items,
        raw=None,
        confidence=round(0.4 * (0.35 + 0.65 * ocr), 4),
        page=rows[0].page if rows else None,
        method="table",
    )


# -------------------------------------------------------------------------------- templates

TEMPLATES_DIR = Path(__file__).with_name("templates")
TEMPLATE_KEYS = {"issuer", "keywords", "exclude_keywords", "fields", "options", "doc_type"}
TEMPLATE_FIELDS = {
    "vendor_name",
    "address",
    "vendor_vat",
    "invoice_number",
    "invoice_date",
    "due_date",
    "po_number",
    "currency",
    "subtotal",
    "tax_amount",
    "total_amount",
    "buyer_name",
}


@dataclass
class Template:
    name: str
    issuer: str
    keywords: list[str]
    exclude_keywords: list[str]
    fields: dict[str, str]
    options: dict[str, object]


def load_templates(directory: Path = TEMPLATES_DIR) -> list[Template]:
    """Vendor templates as data; a malformed file is a ConfigError naming the file."""
    import yaml

    from core.errors import ConfigError

    out: list[Template] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not {"issuer", "keywords"} <= set(data):
            raise ConfigError(f"template {path.name}: needs at least `issuer` and `keywords`")
        unknown = set(data) - TEMPLATE_KEYS
        bad_fields = set(data.get("fields") or {}) - TEMPLATE_FIELDS
        if unknown or bad_fields:
            raise ConfigError(f"template {path.name}: unknown keys {sorted(unknown | bad_fields)}")
        for pattern in [*data["keywords"], *(data.get("fields") or {}).values()]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"template {path.name}: bad regex {pattern!r} ({exc})") from exc
        out.append(
            Template(
                path.stem,
                str(data["issuer"]),
                list(data["keywords"]),
                list(data.get("exclude_keywords") or []),
                dict(data.get("fields") or {}),
                dict(data.get("options") or {}),
            )
        )
    return out


_TEMPLATE_CACHE: list[Template] | None = None


def matching_template(text: str) -> Template | None:
    global _TEMPLATE_CACHE
    if _TEMPLATE_CACHE is None:
        _TEMPLATE_CACHE = load_templates()
    for tpl in _TEMPLATE_CACHE:
        if all(re.search(k, text) for k in tpl.keywords) and not any(
            re.search(k, text) for k in tpl.exclude_keywords
        ):
            return tpl
    return None


def apply_template(tpl: Template, ctx: DocContext) -> dict[str, Field]:
    fields = {
        "vendor_name": Field(
            name="vendor_name", value=tpl.issuer, raw=tpl.issuer, confidence=0.9, method="template"
        )
    }
    if "currency" in tpl.options:
        fields["currency"] = Field(
            name="currency",
            value=str(tpl.options["currency"]),
            raw=None,
            confidence=0.9,
            method="template",
        )
    for name, pattern in tpl.fields.items():
        m = re.search(pattern, ctx.text)
        if not m:
            continue
        raw = m.group(1) if m.groups() else m.group(0)
        value: object = raw.strip()
        if name.endswith("_date"):
            value = next(iter(find_dates(raw, dayfirst=ctx.dayfirst)), None)
            value = value.value if value else None  # type: ignore[attr-defined]
        elif name in ("subtotal", "tax_amount", "total_amount"):
            amounts = money_parser(ctx.decimal_mark)(raw)
            value = amounts[0][0] if amounts else None
        if value is not None:
            fields[name] = Field(name=name, value=value, raw=raw, confidence=0.9, method="template")
    return fields


# -------------------------------------------------------------------------------- extractor


def read_invoice(pages: list[Page]) -> dict[str, Field]:
    ctx = context(pages)
    buyer, buyer_rows = buyer_block(ctx)
    fields: dict[str, Field] = {}
    fields.update(read_vendor(ctx, buyer_rows))
    fields.update(read_ids(ctx))
    fields.update(read_dates(ctx))
    fields.update(read_amounts(ctx))
    fields.update(read_vat(ctx, buyer_rows))
    if buyer is None:
        buyer = _window_buyer(ctx)
    if buyer is not None:
        fields["buyer_name"] = buyer
    if ctx.currency is not None:
        fields["currency"] = Field(
            name="currency",
            value=ctx.currency,
            raw=ctx.currency,
            confidence=round(ctx.currency_score, 4),
            method=f"currency_{ctx.currency_method}",
        )
    items = read_line_items(ctx)
    if items is not None:
        # Line items are delivered only when they add up to the invoice's own net or gross sum:
        # a table read wrongly would otherwise reach the ERP (or block a correct invoice).
        amounts = [row.get("amount") for row in items.value]
        total = sum((a for a in amounts if isinstance(a, Decimal)), Decimal(0))
        targets = [fields[n].value for n in ("subtotal", "total_amount") if n in fields]
        if all(isinstance(a, Decimal) for a in amounts) and any(
            abs(total - t) <= Decimal("0.02") for t in targets if isinstance(t, Decimal)
        ):
            fields["line_items"] = items.model_copy(
                update={"confidence": min(1.0, items.confidence + 0.3), "method": "table+sum"}
            )
    tpl = matching_template(ctx.text)
    if tpl is not None:
        fields.update(apply_template(tpl, ctx))
    return fields


class InvoiceExtractor:
    """Layout-based reader for any invoice (label–value proximity, columns, cross-checks)."""

    name = "invoice"
    doc_types = (DocType.INVOICE,)
    version = ENGINE

    def available(self) -> bool:
        return True

    def score(self, pages: list[Page], doc_type: DocType, source: Source) -> float:
        return 0.5 if doc_type == DocType.INVOICE else 0.0

    def extract(self, pages: list[Page], source: Source, settings: Settings) -> Extraction:
        return Extraction(
            doc_type=DocType.INVOICE,
            fields=read_invoice(pages),
            engine={"extractor": self.name, "invoice": ENGINE},
        )


__all__ = [
    "DocContext",
    "Hit",
    "InvoiceExtractor",
    "Row",
    "context",
    "date_parser",
    "find_labelled",
    "format_address",
    "make_row",
    "money_parser",
    "read_invoice",
    "rows_of",
    "split_columns",
]
