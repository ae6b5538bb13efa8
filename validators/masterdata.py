"""A client's vendor master and open purchase orders (CSV files named in its policy)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from core.errors import ConfigError
from core.models import DocType, Extraction, Field
from validators.history import number_key, vendor_key, vendor_words

CONFIRMED = 0.97
"""Confidence of a vendor name confirmed by the vendor master: read as a vendor on file spells
it (case, punctuation and legal form aside)."""
LEARNED = 0.85
"""… when the row on file was learned from labelled documents (``learn``) rather than kept by
hand: labels of the same shop disagree now and then (``TED HENG`` and ``TEO HENG``, ``DOMINO'S
PIZZA`` and the company behind it, ``SDN BHD`` and ``SDN. BHD.``), and on SROIE dev
(leave-one-out) 30 of 34 names confirmed by a learned row were what the document's own label
says (88 %). Under the default 0.88 threshold: a learned row helps a reviewer, and only a
client's own master decides what posts (at 0.9 six SROIE receipts posted, two with an address
their label spells otherwise than the same shop's other receipt: 22 of 24 fields right)."""
MENDED = 0.75
"""Confidence of a read name mended to a learned row's (``UAN HING`` → ``LIAN HING``): likely,
but under the default 0.88 threshold, so a person confirms it before it is posted (a row kept
by hand confirms a near name at ``CONFIRMED``, as it always has). On SROIE dev
(leave-one-out) such mends were right 5 times in 7; the other two took a name as another
document's label spells it (``Y SOON FATT S/B`` for ``YONG SOON FATT S/B``)."""
ADDRESS_SCORE = 85.0
"""rapidfuzz ratio (0..100, case and spacing ignored) a read address needs with an address on
file for the vendor to be taken as that address misread (SROIE dev, leave-one-out: at 85 the
vendors' known addresses mended 13 read addresses and spoilt 2, both labels that spell the same
shop's address two ways; at 90, 12 and 2; at 75, 13 and 3)."""
ADDRESS_CONFIRMED = 0.8
"""Confidence of an address taken from the vendor master: a near match, not an identity (SROIE
and scanned ZUGFeRD dev, leave-one-out: 30 of 37 such addresses were the document's label; a
chain's branch name after the address is where they differ)."""


@dataclass(frozen=True)
class Vendor:
    name: str
    vendor_id: str = ""
    vat: str = ""
    aliases: tuple[str, ...] = ()
    address: str = ""
    sources: tuple[str, ...] = ()
    """Documents the row was learned from (``dataset/id``, see ``learn``): a row learned from one
    document alone does not vouch for that document (``docflow eval`` then measures the master
    as it does on documents it has not seen)."""

    def vouches_for(self, document_id: str | None) -> bool:
        return document_id is None or set(self.sources) != {document_id}


def _best_of(name: str, names: list[str], min_score: float) -> list[tuple[float, int]]:
    """(score, index) of the ``names`` at least ``min_score`` (0..100) like ``name``, best first.

    The score is the better of rapidfuzz's ratio and token_sort_ratio. Sorting the words alone
    missed OCR slips in a first letter, which move a word in the sort (``uan hing stationery``
    against ``lian hing stationery``: 77; ratio 92). Each scorer runs over the whole list in C:
    a Python scorer would be called once a name on file, 10,000 times a document for a large
    client's master."""
    best: dict[int, float] = {}
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        for _, score, index in process.extract(name, names, scorer=scorer,
                                               score_cutoff=min_score, limit=None):
            best[index] = max(best.get(index, 0.0), float(score))
    return sorted(((score, index) for index, score in best.items()), key=lambda h: (-h[0], h[1]))


def _address_form(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class VendorMatch:
    vendor: Vendor
    score: float
    matched_name: str
    rivals: tuple[Vendor, ...] = ()
    """Other vendors on file the read name is as near to (at least the score asked for):
    ``TEO HENG STATIONERY`` and ``TED HENG STATIONERY``, one O or D apart."""


@dataclass
class VendorMaster:
    """Known vendors; ``match`` finds the one a read name most likely means.

    Names are compared without legal forms ("GmbH", "Inc."), which otherwise make unrelated
    companies look alike, by ``_best_of``."""

    vendors: list[Vendor]
    _names: list[str] = field(default_factory=list, repr=False)
    _owners: list[Vendor] = field(default_factory=list, repr=False)
    _keys: dict[str, list[Vendor]] = field(default_factory=dict, repr=False)
    _alone: dict[str, set[int]] = field(default_factory=dict, repr=False)
    """Document id → the ``_names`` of rows learned from that document alone."""

    def __post_init__(self) -> None:
        for vendor in self.vendors:
            for name in (vendor.name, *vendor.aliases):
                if len(set(vendor.sources)) == 1:
                    self._alone.setdefault(vendor.sources[0], set()).add(len(self._names))
                self._names.append(vendor_words(name))
                self._owners.append(vendor)
                self._keys.setdefault(vendor_key(name), []).append(vendor)

    def holders(self, vat: str) -> list[Vendor]:
        """The rows on file with this VAT id (compared as ``number_key``)."""
        key = number_key(vat)
        return [v for v in self.vendors if v.vat and number_key(v.vat) == key] if key else []

    def match(self, name: str, min_score: float, document_id: str | None = None) -> VendorMatch | None:
        """The vendor ``name`` most likely means: one whose name or alias has the same
        ``vendor_key``, else the likeliest by ``_best_of`` of at least ``min_score``; rows
        that do not vouch for ``document_id`` are left out."""
        left_out = self._alone.get(document_id or "", set())
        usable = [i for i in range(len(self._names)) if i not in left_out] if left_out else None
        names = self._names if usable is None else [self._names[i] for i in usable]
        hits = [(score, i if usable is None else usable[i])
                for score, i in _best_of(vendor_words(name), names, min_score)]
        near = [self._owners[i] for _, i in hits]
        exact = next((v for v in self._keys.get(vendor_key(name), []) if v.vouches_for(document_id)),
                     None)
        if exact is not None:
            vendor, score, matched = exact, 100.0, exact.name
        elif hits:
            (score, index), vendor = hits[0], near[0]
            matched = self._names[index]
        else:
            return None
        rivals = tuple(v for v in near if vendor_key(v.name) != vendor_key(vendor.name))
        return VendorMatch(vendor, score, matched, rivals)

    def by_vat(self, vat: str, document_id: str | None = None) -> Vendor | None:
        """The vendor on file with this VAT id, if it is the only one: sample and test invoices
        share placeholder ids (``DE123456789``), which name nobody."""
        holders = self.holders(vat)
        if len({vendor_key(v.name) for v in holders}) != 1:
            return None
        return next((v for v in holders if v.vouches_for(document_id)), None)

    def address(self, vendor: Vendor, read: str, document_id: str | None = None) -> str | None:
        """The address on file for ``vendor`` (any row of the same name: a chain's branches)
        that the ``read`` address is a misreading of, if one is near enough."""
        key = vendor_key(vendor.name)
        known = list(dict.fromkeys(
            v.address for v in self.vendors
            if v.address and vendor_key(v.name) == key and v.vouches_for(document_id)
        ))
        if not known or not read.strip():
            return None
        best = process.extractOne(_address_form(read), [_address_form(a) for a in known],
                                  scorer=fuzz.ratio, score_cutoff=ADDRESS_SCORE)
        # the address as filed, punctuation too: a reading drops commas and slashes more often
        # than two labels of one shop differ in them (SROIE dev: keeping the page's spelling
        # where only punctuation differed spoilt 3 addresses and mended 2)
        return None if best is None else known[best[2]]


@dataclass(frozen=True)
class OpenPOs:
    """Open purchase orders: number → vendor name ("" when the file does not say)."""

    orders: dict[str, str]

    def find(self, po_number: str) -> str | None:
        return self.orders.get(number_key(po_number))


def _read_csv(path: Path, required: str) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if required not in header:
                raise ConfigError(
                    f"{path}: needs a '{required}' column (found: {', '.join(header) or 'none'})"
                )
            rows = []
            for row in reader:
                rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
            return rows
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid UTF-8 CSV file ({exc})") from exc


def _listed(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split("|") if a.strip())


def load_vendor_master(path: Path) -> VendorMaster:
    """CSV with a ``name`` column; optional ``aliases`` (``|``-separated), ``vat``,
    ``vendor_id``, ``address`` and ``sources`` (``|``-separated, see ``learn``)."""
    vendors = [
        Vendor(
            name=row["name"],
            vendor_id=row.get("vendor_id", ""),
            vat=row.get("vat", "").replace(" ", "").upper(),
            aliases=_listed(row.get("aliases", "")),
            address=row.get("address", ""),
            sources=_listed(row.get("sources", "")),
        )
        for row in _read_csv(path, "name")
        if row["name"]
    ]
    return VendorMaster(vendors)


def load_open_pos(path: Path) -> OpenPOs:
    """CSV with a ``po_number`` column; optional ``vendor_name``."""
    return OpenPOs(
        {
            number_key(r["po_number"]): r.get("vendor_name", "")
            for r in _read_csv(path, "po_number")
            if r["po_number"]
        }
    )


def confirm_vendor(extraction: Extraction, master: VendorMaster | None, min_score: float,
                   doc_types: list[DocType] | tuple[DocType, ...] = (DocType.INVOICE,),
                   document_id: str | None = None) -> Extraction:
    """The extraction with its vendor confirmed by the client's vendor master, when it matches.

    A read vendor name that is a master vendor's name or alias (case, punctuation and legal form
    aside), or a VAT id held by that vendor alone, gets confidence ``CONFIRMED``: the identity
    no longer rests on reading alone. A name only near one on file (an OCR slip: ``UAN HING``
    for ``LIAN HING``) becomes that name, unless it was read surer than a mend (an e-invoice's
    XML names another vendor); near two vendors, it is left as read. Rows learned from labels
    vouch less: ``LEARNED`` for the same name, ``MENDED`` for a near one. The page's spelling
    is kept when it is the master's name but for case, punctuation or legal form (``SDN.
    BHD.`` against ``SDN BHD``); an alias becomes the master's name. A read address near one
    on file for the vendor becomes that address (``ADDRESS_SCORE``), unless it was read surer
    than that. Anything else is returned unchanged (an unknown vendor is reported by the
    rules, not here).
    """
    if master is None or extraction.doc_type not in doc_types:
        return extraction
    field = extraction.fields.get("vendor_name")
    vat_field = extraction.fields.get("vendor_vat")
    read = str(field.value) if field is not None and field.value else ""
    match = master.match(read, min_score, document_id) if read else None
    if match is not None and match.rivals:
        return extraction  # the master itself is unsure which spelling this is
    vendor = match.vendor if match is not None else None
    sure = field is not None and field.confidence >= CONFIRMED
    if vendor is None and vat_field is not None and vat_field.value and not sure:
        vendor = master.by_vat(str(vat_field.value), document_id)
    fuzzy = match is not None and match.score < 100.0
    if vendor is None or (sure and fuzzy):
        return extraction  # unknown; or a near name read surer than a mend (XML) is another's
    fields = dict(extraction.fields)
    as_read = bool(read) and vendor_key(read) == vendor_key(vendor.name)  # the page's spelling
    fields["vendor_name"] = Field(
        name="vendor_name",
        value=read if as_read else vendor.name,
        raw=field.raw if field else None,
        confidence=max(CONFIRMED if not vendor.sources
                       else MENDED if fuzzy else LEARNED,
                       field.confidence if field else 0.0),
        page=field.page if field else None, box=field.box if field else None,
        method="vendor_master",
        doubt=None if not vendor.sources else (
            f"{vendor.name}, read {read}" if read and not as_read
            else f"{vendor.name}, a vendor learned from labelled documents"),
    )
    address = fields.get("address")
    if address is not None and address.value and address.confidence < ADDRESS_CONFIRMED:
        known = master.address(vendor, str(address.value), document_id)
        if known is not None:
            fields["address"] = address.model_copy(update={
                "value": known, "confidence": max(ADDRESS_CONFIRMED, address.confidence),
                "method": "vendor_master", "doubt": f"{known}, read {address.value}",
            })
    return extraction.model_copy(update={"fields": fields})


COLUMNS = ("vendor_id", "name", "vat", "aliases", "address", "sources")


def learn(labelled: Iterable[tuple[str, dict[str, Any]]],
          doc_types: tuple[str, ...] = ("invoice", "receipt")) -> list[Vendor]:
    """Vendor rows from labelled documents, given as (source, label JSON) pairs: the source is
    how ``docflow eval`` names the document (``LabelledDoc.key``, ``dataset/id``). One row a
    name and address as labelled, with the documents it was learned from."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for source, label in labelled:
        fields = label.get("fields") or {}
        name = str(fields.get("vendor_name") or "").strip()
        if label.get("doc_type") not in doc_types or not name:
            continue
        address = " ".join(str(fields.get("address") or "").split())
        row = rows.setdefault((name, address), {"vat": "", "sources": []})
        row["vat"] = row["vat"] or str(fields.get("vendor_vat") or "").replace(" ", "").upper()
        row["sources"].append(source)
    return [
        Vendor(name=name, vat=row["vat"], address=address, sources=tuple(sorted(row["sources"])))
        for (name, address), row in sorted(rows.items())
    ]


def write_vendor_master(path: Path, vendors: list[Vendor]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for v in vendors:
            writer.writerow([v.vendor_id, v.name, v.vat, "|".join(v.aliases), v.address,
                             "|".join(v.sources)])


def learn_into(master: Path, labelled: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, list[Vendor]]:
    """Write ``master`` with the vendors of ``labelled`` (see ``learn``): rows it holds without
    sources (kept by hand) stay, learned rows are learned again. Returns how many rows were
    kept and the learned ones."""
    kept = [v for v in load_vendor_master(master).vendors if not v.sources] if master.is_file() else []
    learned = learn(labelled)
    write_vendor_master(master, kept + learned)
    return len(kept), learned
