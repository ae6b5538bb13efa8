"""Where originals are kept in a client's archive, and getting one back as a local file."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from core.db import DocumentRow
from storage.areas import Areas
from storage.buckets import LocalBucket


def safe_name(key: str) -> str:
    """A file name that is safe on any filesystem and in any URL (keeps the extension)."""
    name = PurePosixPath(key.replace("\\", "/")).name or "file"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"[^\w.-]+", "_", stem, flags=re.ASCII).strip("._")[:80] or "file"
    ext = re.sub(r"[^\w]+", "", ext, flags=re.ASCII)[:10].lower()
    return f"{stem}.{ext}" if ext else stem


def archive_key(document_id: str, key: str) -> str:
    return f"{document_id[:2]}/{document_id}/{safe_name(key)}"


@contextlib.contextmanager
def original_file(doc: DocumentRow, areas: Areas, spool_dir: Path) -> Iterator[Path]:
    """The archived original as a local file (the archive itself when it is a folder)."""
    key = archive_key(doc.id, doc.filename)
    if isinstance(areas.archive, LocalBucket):
        yield areas.archive.root / key
        return
    spool_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spool_dir) as tmp:
        path = Path(tmp) / "original"
        areas.archive.download(key, path)
        yield path
