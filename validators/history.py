"""What was already processed for a client, seen through a Protocol (the database lives elsewhere).

The pipeline implements ``History`` over its tables; tests and single-batch tools use
``InMemoryHistory``. Both must match the same way, so the normalisation is here:
``vendor_key`` and ``number_key`` are what an implementation compares.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

_LEGAL_SUFFIXES = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|sarl|bv|nv|plc|co|corp|corporation|"
    r"company|sdn|bhd|pte|pty|srl|spa|kg|oy|ab|as)\b"
)


def vendor_words(name: str | None) -> str:
    """A vendor name reduced to its words: case, accents, punctuation and legal forms removed."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(_LEGAL_SUFFIXES.sub(" ", text).split())


def vendor_key(name: str | None) -> str:
    """``vendor_words`` without spaces: what two records of the same vendor share."""
    return vendor_words(name).replace(" ", "")


def number_key(number: str | None) -> str:
    """An invoice number reduced to compare: case, spaces and separators removed."""
    if not number:
        return ""
    return re.sub(r"[^0-9a-z]", "", number.lower())


@runtime_checkable
class History(Protocol):
    """Documents already processed for a client, to catch the same bill arriving twice."""

    def find_duplicates(
        self,
        client: str,
        doc_type: str,
        vendor_name: str | None,
        invoice_number: str | None,
        total_amount: Decimal | None,
        invoice_date: dt.date | None,
        exclude_id: str | None,
    ) -> list[str]:
        """Ids of earlier documents of ``client`` with the same vendor (``vendor_key``) and either
        the same invoice number (``number_key``; not a number used again for another bill, see
        ``reused_number``), or the same total and date. ``exclude_id`` is the document being
        checked (a re-validation must not find itself)."""
        ...


Lookup = tuple[str, str, dict[str, object]]
"""(client, doc_type, duplicate keys as passed to ``find_duplicates``) of one document."""


@runtime_checkable
class BatchHistory(History, Protocol):
    """A ``History`` that can look up a whole batch's keys at once (one query, not one each)."""

    def batch(self, lookups: list[Lookup]) -> AbstractContextManager[None]:
        """Inside the ``with``, ``find_duplicates`` for these lookups answers from what one
        look-up found; history written meanwhile is not seen (nothing is, while a batch is
        validated)."""
        ...


@dataclass(frozen=True)
class HistoryEntry:
    document_id: str
    client: str
    doc_type: str
    vendor_name: str | None
    invoice_number: str | None
    total_amount: Decimal | None
    invoice_date: dt.date | None


NUMBER_REUSE_DAYS = 365
"""Two bills of one vendor under one invoice number are taken for the same bill unless their
totals differ and their dates lie further apart than this: numbering that starts again each
year (``471102`` in 2013 and again in 2025) then gives a new bill an old number. A resent or
corrected bill comes within weeks, and one with the same total is held whatever its date."""


def reused_number(
    total_amount: Decimal | None,
    invoice_date: dt.date | None,
    other_total: Decimal | None,
    other_date: dt.date | None,
) -> bool:
    """Whether two bills with the same vendor and number are different bills (see
    ``NUMBER_REUSE_DAYS``); never when a total or a date is missing."""
    if total_amount is None or invoice_date is None or other_total is None or other_date is None:
        return False
    return total_amount != other_total and abs((invoice_date - other_date).days) > NUMBER_REUSE_DAYS


def is_duplicate_of(
    entry: HistoryEntry,
    vendor_name: str | None,
    invoice_number: str | None,
    total_amount: Decimal | None,
    invoice_date: dt.date | None,
) -> bool:
    vendor = vendor_key(vendor_name)
    if not vendor or vendor != vendor_key(entry.vendor_name):
        return False
    number = number_key(invoice_number)
    if number and number == number_key(entry.invoice_number):
        return not reused_number(total_amount, invoice_date, entry.total_amount, entry.invoice_date)
    return (
        total_amount is not None
        and invoice_date is not None
        and entry.total_amount is not None
        and entry.total_amount == total_amount
        and entry.invoice_date == invoice_date
    )


class InMemoryHistory:
    """``History`` over a list (tests, tools); ``add`` what was processed."""

    def __init__(self, entries: list[HistoryEntry] | None = None) -> None:
        self.entries: list[HistoryEntry] = list(entries or [])

    def add(
        self,
        document_id: str,
        client: str,
        doc_type: str,
        vendor_name: str | None,
        invoice_number: str | None = None,
        total_amount: Decimal | None = None,
        invoice_date: dt.date | None = None,
    ) -> None:
        self.entries.append(
            HistoryEntry(
                document_id,
                client,
                str(doc_type),
                vendor_name,
                invoice_number,
                total_amount,
                invoice_date,
            )
        )

    def find_duplicates(
        self,
        client: str,
        doc_type: str,
        vendor_name: str | None,
        invoice_number: str | None,
        total_amount: Decimal | None,
        invoice_date: dt.date | None,
        exclude_id: str | None,
    ) -> list[str]:
        return [
            e.document_id
            for e in self.entries
            if e.client == client
            and e.doc_type == str(doc_type)
            and e.document_id != exclude_id
            and is_duplicate_of(e, vendor_name, invoice_number, total_amount, invoice_date)
        ]
