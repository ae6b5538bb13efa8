"""Invoice, receipt, claim or unknown, from keywords and the shape of the printed area.

Claim forms are unmistakable (the CMS-1500 title and box labels). Receipts and invoices share
vocabulary ("TAX INVOICE" is printed on many till receipts), so layout decides as much as words:
till receipts are narrow (a 58–80 mm paper roll) with short rows, invoices fill a letter/A4 page.
"""

from __future__ import annotations

import re

from core.models import DocType, Page
from extractors.parsers import fold

CLAIM_CUES = [
    (r"health insurance claim form", 4.0),
    (r"insurance\s*cla\w*\s*form|claim\s*form", 2.0),
    (r"\b1500\b", 1.0),
    (r"\bnucc?\b", 1.5),
    (r"\bpica\b", 1.0),
    (r"insur\w*'?s? (?:i\.?d|name|policy|address|date|signature)", 1.5),
    (r"patient'?s? (?:name|birth|address|relationship|account|signature)", 1.5),
    (r"federal tax i\.?d", 1.0),
    (r"billing provider", 1.0),
    (r"diagnosis", 0.5),
    (r"medicare|medicaid|tricare|champva", 1.0),
    (r"\bnpi\b", 0.5),
    (r"\binsured\b", 1.0),
    (r"signature on file", 1.0),
    (r"physician|supplier", 0.5),
    (r"hospitali[sz]ation", 0.7),
    (r"\bcarrier\b", 0.5),
    (r"outside lab|prior authori[sz]ation|accept assignment", 1.0),
]
RECEIPT_CUES = [
    (r"\bcash\b", 1.0),
    (r"\bchange\b", 1.0),
    (r"\bgst\b", 0.7),
    (r"\breceipt\b", 0.8),
    (r"thank you|terima kasih", 1.0),
    (r"\bsdn\.? ?bhd\b|\bs/b\b|\bbhd\b", 1.0),
    (r"total qty|qty total", 1.0),
    (r"\brounding\b", 1.0),
    (r"\bcashier\b|\bcounter\b|\bpos\b", 0.7),
    (r"\btable\b|\bpax\b", 0.5),
    (r"\brm\s?\d|\(rm\)", 0.8),
    (r"simplified tax invoice", 1.0),
    (r"goods sold are not", 1.0),
    (r"\bchange due\b|\btendered\b", 1.0),
    (r"\btota[l1]\b", 0.5),
    (r"\bqty\b", 0.5),
    (r"sub\s*-?\s*total", 0.3),
    (r"\bitem\b|\bamount\b", 0.3),
    (r"\d+\.\d{2}\b", 0.3),
    # European till receipts: German, French, Dutch, Spanish, Italian
    (r"r(?:u|ue)ckgeld|\bgeg(?:eben|\.)|\bbar\b|wisselgeld|\bcontant|\brendu\b|\bmonnaie\b|"
     r"\bcambio\b|efectivo|contanti|\bresto\b", 1.0),
    (r"kassenbon|\bbon-?nr|\bkasse\b|\bkassa\b|\bcaisse\b|ticket\s*(?:de\s*caisse|n)|\bscontrino\b", 0.8),
    (r"(?:dank|danke)\s*(?:fur|fuer)\s*ihren\s*einkauf|merci\s*de\s*votre\s*visite|"
     r"bedankt\s*voor\s*uw\s*(?:aankoop|bezoek)|gracias\s*por\s*su\s*(?:compra|visita)|"
     r"grazie\s*(?:e\s*arrivederci|per\s*l.acquisto)", 1.0),
    (r"\bsumme\b|\btotaal\b|\btotale\b", 0.3),
]
INVOICE_CUES = [
    (r"\binvoice\b", 1.0),
    (r"\brechnung", 1.5),
    (r"\bfacture\b", 1.5),
    (r"\bfactuur", 1.5),
    (r"\bfactura\b|\bfattura\b|\bfatura\b|\bfaktura\b", 1.5),
    (r"invoice (?:number|no|date|#)", 1.5),
    (r"due date|payment terms|zahlungsziel|echeance|vervaldatum|vencimiento|scadenza|vencimento|"
     r"termin p[lł]atnosci|forfallodat", 1.0),
    (r"bill(?:ed)? to|rechnungsempf|destinataire|factuuradres", 1.0),
    (r"\biban\b|\bbic\b|\bswift\b", 0.8),
    (r"\bvat\b|\bmwst\b|\bust\b|\btva\b|\bbtw\b|ust-?id|\bp\.? ?iva\b|\bcif\b|\bnif\b", 0.8),
    (r"\bsubtotal\b|zwischensumme|total ht|netto|base imponible|imponibile", 0.7),
    (r"\bkvk\b|handelsregister|hrb\b|siret|siren", 0.8),
    (r"purchase order|\bpo\b|bestell|order (?:no|number|id)", 0.5),
]


def _hits(text: str, cues: list[tuple[str, float]]) -> float:
    return sum(weight for pattern, weight in cues if re.search(pattern, text))


def text_width_inches(page: Page) -> float:
    """Width of the printed area (words' horizontal extent, trimmed of outliers), in inches."""
    if not page.words:
        return page.width / max(page.dpi, 1)
    xs0 = sorted(w.box[0] for w in page.words)
    xs1 = sorted(w.box[2] for w in page.words)
    k = max(0, len(xs0) // 50)
    return (xs1[len(xs1) - 1 - k] - xs0[k]) / max(page.dpi, 1)


CLAIM_FORM_HITS = 5.0
"""Weight of claim cues from which a page is a claim form whatever else it shows: a CMS-1500's
printed captions (its title alone weighs 6, the words ``claim form`` 2)."""


def shows_claim_form(text: str) -> bool:
    """Whether ``text`` (a page's words) holds the printed captions of a CMS-1500 claim form."""
    return _hits(fold(text), CLAIM_CUES) >= CLAIM_FORM_HITS


def classify(pages: list[Page]) -> tuple[DocType, float]:
    """The document type and a confidence in [0, 1]."""
    if not pages or not any(p.words for p in pages):
        return DocType.UNKNOWN, 0.0
    text = fold("\n".join(p.text for p in pages[:2]))
    claim = _hits(text, CLAIM_CUES)
    receipt = _hits(text, RECEIPT_CUES)
    invoice = _hits(text, INVOICE_CUES)
    if max(claim, receipt, invoice) < 0.8:  # layout alone never names a document type
        return DocType.UNKNOWN, 0.3
    first = pages[0]
    width = text_width_inches(first)
    words_per_line = len(first.words) / max(1, len({w.line for w in first.words}))
    if width < 4.6:
        receipt += 2.5
    elif width > 5.8:
        invoice += 2.0
    if words_per_line < 4.5:
        receipt += 0.5
    if claim >= CLAIM_FORM_HITS:
        return DocType.CLAIM, min(1.0, 0.6 + claim / 20)
    scores = {DocType.INVOICE: invoice, DocType.RECEIPT: receipt, DocType.CLAIM: claim * 0.5}
    best = max(scores, key=lambda k: scores[k])
    ordered = sorted(scores.values(), reverse=True)
    if ordered[0] < 1.5:
        return DocType.UNKNOWN, 0.3
    margin = ordered[0] - ordered[1]
    confidence = min(0.99, 0.5 + 0.1 * margin + 0.02 * ordered[0])
    return best, round(confidence, 3)
