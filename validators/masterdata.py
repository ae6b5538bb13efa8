"""A client's vendor master and open purchase orders (CSV files named in its policy)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from core.errors import ConfigError
from core.models import DocType, Extraction, Field
from validators.history import number_key, vendor_key, vendor_words

CONFIRMED = 0.97
"""Confidence of a vendor name confirmed by the vendor master."""


@dataclass(frozen=True)
class Vendor:
    name: str
    vendor_id: str = ""
    vat: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class VendorMatch:
    vendor: Vendor
    score: float
    matched_name: str


@dataclass
class VendorMaster:
    """Known vendors; ``match`` finds the one a read name most likely means.

    Names are compared without legal forms ("GmbH", "Inc."), which otherwise make unrelated
    companies look alike, with rapidfuzz's token_sort_ratio (word order does not matter)."""

    vendors: list[Vendor]
    _names: list[str] = field(default_factory=list, repr=False)
    _owners: list[Vendor] = field(default_factory=list, repr=False)
    _keys: dict[str, Vendor] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for vendor in self.vendors:
            for name in (vendor.name, *vendor.aliases):
                self._names.append(vendor_words(name))
                self._owners.append(vendor)
                self._keys.setdefault(vendor_key(name), vendor)

    def match(self, name: str, min_score: float) -> VendorMatch | None:
        exact = self._keys.get(vendor_key(name))
        if exact is not None:
            return VendorMatch(exact, 100.0, exact.name)
        best = process.extractOne(
            vendor_words(name), self._names, scorer=fuzz.token_sort_ratio, score_cutoff=min_score
        )
        if best is None:
            return None
        _, score, index = best
        return VendorMatch(self._owners[index], float(score), self._names[index])


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


def load_vendor_master(path: Path) -> VendorMaster:
    """CSV with a ``name`` column; optional ``aliases`` (``|``-separated), ``vat``, "
    "``vendor_id``."""
    vendors = [
        Vendor(
            name=row["name"],
            vendor_id=row.get("vendor_id", ""),
            vat=row.get("vat", "").replace(" ", "").upper(),
            aliases=tuple(a.strip() for a in row.get("aliases", "").split("|") if a.strip()),
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
                   doc_types: list[DocType] | tuple[DocType, ...] = (DocType.INVOICE,)) -> Extraction:
    """The extraction with its vendor confirmed by the client's vendor master, when it matches.

    A read vendor name that matches a master vendor (or a VAT id equal to one on file) is
    replaced by the master's canonical name, with confidence raised to ``CONFIRMED``: the
    identity no longer rests on reading alone. Anything else is returned unchanged (an unknown
    vendor is reported by the rules, not here).
    """
    if master is None or extraction.doc_type not in doc_types:
        return extraction
    field = extraction.fields.get("vendor_name")
    vat_field = extraction.fields.get("vendor_vat")
    match = master.match(str(field.value), min_score) if field is not None and field.value else None
    vendor = match.vendor if match is not None else None
    if vendor is None and vat_field is not None and vat_field.value:
        vat = number_key(str(vat_field.value))
        vendor = next((v for v in master.vendors if v.vat and number_key(v.vat) == vat), None)
    if vendor is None:
        return extraction
    confirmed = Field(
        name="vendor_name", value=vendor.name, raw=field.raw if field else None,
        confidence=max(CONFIRMED, field.confidence if field else 0.0),
        page=field.page if field else None, box=field.box if field else None,
        method="vendor_master",
    )
    return extraction.model_copy(update={"fields": {**extraction.fields, "vendor_name": confirmed}})
