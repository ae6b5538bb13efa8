"""The page pictures reviewers look at.

A scan keeps the picture OCR read. A PDF page read through its text layer gets none during the
run: ``finalize`` records where it will go (``extractors.pages.plan_page_images``), and it is
drawn from the archived original the first time a reviewer opens the page, then kept.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from core.db import DocumentRow
from core.models import Origin
from core.settings import Settings
from extractors.pages import review_jpegs
from storage.archive import original_file
from storage.areas import areas_for
from storage.buckets import LocalBucket

log = logging.getLogger(__name__)


_DRAWING = [threading.Lock() for _ in range(32)]
"""Locks striped by document: one document's pictures are drawn once, not once per request."""


def _candidates(settings: Settings, raw: str) -> list[Path]:
    """Where a page picture's recorded path may point: relative to the working directory (a
    relative ``DOCFLOW_HOME``) or to the home (last: where a missing picture is drawn)."""
    path = Path(raw)
    return [path] if path.is_absolute() else [path, settings.home / path]


def _drawable_key(settings: Settings, page: dict[str, Any]) -> str | None:
    """The key in the page-image folder of a text-layer PDF page's planned picture; None for a
    scan's picture (it cannot be drawn again) or a path outside that folder."""
    raw = page.get("image_path")
    if not raw or page.get("origin") != Origin.TEXT_LAYER.value:
        return None
    try:
        return str(_candidates(settings, str(raw))[-1].resolve()
                   .relative_to(settings.page_images_dir.resolve()))
    except ValueError:
        return None


def has_page_image(settings: Settings, page: dict[str, Any]) -> bool:
    """Whether the page has a picture to show: it can be drawn, or its file is there."""
    raw = page.get("image_path")
    if not raw:
        return False
    return _drawable_key(settings, page) is not None or any(
        c.is_file() for c in _candidates(settings, str(raw))
    )


def page_image_file(settings: Settings, doc: DocumentRow, page: dict[str, Any]) -> Path | None:
    """The picture of ``page`` of ``doc``: its file when it is there, else drawn now from the
    archived original (``plan_page_images``); None when neither can be had (a scan's picture
    was deleted, or the original is gone).

    The review page shows every page at once, so the first request draws all of the document's
    missing pictures from one fetch of the original; the others wait for it on the document's
    lock and then find their file.
    """
    raw = page.get("image_path")
    if not raw:
        return None

    def found() -> Path | None:
        return next((c for c in _candidates(settings, str(raw)) if c.is_file()), None)

    if found() is None and _drawable_key(settings, page) is not None:
        with _DRAWING[hash(doc.id) % len(_DRAWING)]:
            if found() is None:  # not drawn by the request that held the lock before
                _draw_missing(settings, doc, [*(p for p in doc.pages or [] if isinstance(p, dict)), page])
    return found()


def _draw_missing(settings: Settings, doc: DocumentRow, pages: list[dict[str, Any]]) -> None:
    folder = LocalBucket(settings.page_images_dir)
    missing = {
        int(p.get("index") or 0): key
        for p in pages
        if (key := _drawable_key(settings, p)) is not None and not folder.exists(key)
    }
    areas = areas_for(doc.inbox, doc.client, settings)
    try:
        with original_file(doc, areas, settings.home / "spool") as original:
            for index, jpeg in review_jpegs(original, sorted(missing)):
                folder.write_bytes(missing[index], jpeg)
    except Exception as exc:
        log.warning("pages of %s could not be drawn for review: %s", doc.id, exc)
