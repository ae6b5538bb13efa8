"""Known sellers from invoice2data's community template library (200+ vendors, MIT licence).

invoice2data (a pinned dependency) ships a YAML template per vendor: keywords that must all appear
in an invoice's text (usually the vendor's VAT or company number with a word or two), the vendor's
name as ``issuer`` and options such as its currency. A template whose keywords all appear on the
page names the seller: ``library_match`` returns its issuer (read by the template's own ``issuer``
pattern where it has one, ``Coolblue B.V.``) and currency.

Only that is taken. The templates' field patterns are written against ``pdftotext -layout``
text, whose runs of spaces our text does not keep, and the layout reader reads numbers, dates
and amounts itself; a vendor's name, though, is how the client's books spell it, which no
reading of the page can tell (``OYO`` for "Oravel Stays Private Limited").
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from extractors.parsers import fold


@dataclass(frozen=True)
class LibraryMatch:
    issuer: str
    currency: str | None


def _folded(text: str) -> str:
    """``fold`` without any whitespace: each template's own preparation of a text (spaces
    removed, accents removed, lower case) keeps a keyword in it only if this keeps it in this."""
    return fold(text).replace(" ", "")


@functools.cache
def _library() -> tuple[tuple[Any, tuple[str, ...]], ...]:
    """invoice2data's templates with their folded keywords, loaded once per process (about
    0.1 s); none without it."""
    try:
        from invoice2data.extract.loader import read_templates
    except ImportError:  # pragma: no cover - a pinned dependency
        return ()
    quiet = logging.getLogger("invoice2data")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns about every template it cannot load
    try:
        templates = read_templates()
    finally:
        quiet.setLevel(level)
    return tuple((t, tuple(_folded(str(k)) for k in t["keywords"])) for t in templates)


def _issuer(template: Any, text: str) -> str:
    """The template's issuer: what its ``issuer`` field pattern reads, else the name it states."""
    spec = (template.get("fields") or {}).get("issuer")
    patterns: list[str] = []
    if isinstance(spec, str):
        patterns = [spec]
    elif isinstance(spec, dict) and spec.get("parser") == "regex":
        found = spec.get("regex")
        patterns = found if isinstance(found, list) else [found] if isinstance(found, str) else []
    for pattern in patterns:
        try:
            m = re.search(pattern, text)
        except re.error:
            continue
        if m:
            value = (m.group(1) if m.groups() else m.group(0)).strip()
            if value:
                return re.sub(r"\s+", " ", value)
    return str(template["issuer"])


def library_match(text: str) -> LibraryMatch | None:
    """The library template whose keywords all appear in ``text`` (prepared as the template
    asks: spaces removed, lower case…), or None.

    Preparing the text the way each template asks costs about 10 ms a document for the 200
    templates; a template is only asked once its keywords appear in the folded text (at most a
    template whose ``replace`` option would make a keyword appear is missed: the reader then
    names the seller itself)."""
    folded = _folded(text)
    for template, keywords in _library():
        if not all(k in folded for k in keywords):
            continue
        try:
            prepared = template.prepare_input(text)
            if not template.matches_input(prepared):
                continue
        except Exception:  # a template the library itself cannot apply: skip it
            continue
        # the currency the template states (invoice2data fills in EUR for the ones that do not)
        currency = (template.get("options") or {}).get("currency")
        return LibraryMatch(
            issuer=_issuer(template, prepared),
            currency=str(currency).upper() if isinstance(currency, str) and currency else None,
        )
    return None
