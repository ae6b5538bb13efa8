"""The page pictures reviewers look at.

A scan keeps the picture OCR read. A PDF page read through its text layer gets none during the
run: ``finalize`` records where it will go (``extractors.pages.plan_page_images``), and it is
drawn from the archived original the first time a reviewer opens the page, then kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core.db import DocumentRow
from core.models import Origin
from core.settings import Settings
from extractors.pages import render_page_image
from storage.archive import original_file
from storage.areas import areas_for

log = logging.getLogger(__name__)


def _image_candidates(settings: Settings, raw: str) -> list[Path]:
    """Where a page picture's recorded path may point: relative to the working directory (a
    relative ``DOCFLOW_HOME``) or to the home."""
    path = Path(raw)
    return [path] if path.is_absolute() else [path, settings.home / path]


def drawable_target(settings: Settings, page: dict[str, Any]) -> Path | None:
    """Where the picture of a text-layer PDF page is drawn on first view, when it is one and its
    planned path lies in the page-image folder (nothing is ever written anywhere else)."""
    raw = page.get("image_path")
    if not raw or page.get("origin") != Origin.TEXT_LAYER.value:
        return None
    path = Path(str(raw))
    target = path if path.is_absolute() else settings.home / path
    images = settings.page_images_dir.resolve()
    return target if images in target.resolve().parents else None


def has_page_image(settings: Settings, page: dict[str, Any]) -> bool:
    """Whether the page has a picture to show: its file is there, or it can be drawn."""
    raw = page.get("image_path")
    if not raw:
        return False
    return drawable_target(settings, page) is not None or any(
        c.is_file() for c in _image_candidates(settings, str(raw))
    )


def page_image_file(settings: Settings, doc: DocumentRow, page: dict[str, Any]) -> Path | None:
    """The review picture of one page of ``doc``: the file when it is there, else for a
    text-layer PDF page drawn now from the archived original (``plan_page_images``); None when
    neither can be had (a scan's picture was deleted, or the original is gone)."""
    raw = page.get("image_path")
    if not raw:
        return None
    found = next((c for c in _image_candidates(settings, str(raw)) if c.is_file()), None)
    target = drawable_target(settings, page)
    if found is not None or target is None:
        return found
    areas = areas_for(doc.inbox, doc.client, settings)
    try:
        with original_file(doc, areas, settings.home / "spool") as original:
            return render_page_image(original, int(page.get("index") or 0), target)
    except Exception as exc:
        log.warning("page %s of %s could not be drawn for review: %s", page.get("index"), doc.id, exc)
        return None
