"""A folder bucket: spool files are renamed into the archive, copied only across disks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from core.db import init_db
from core.settings import Settings
from pipeline import intake
from storage.archive import archive_key
from storage.areas import areas_for
from storage.buckets import LocalBucket


def test_move_in_renames_the_spool_file_into_place(tmp_path: Path) -> None:
    src = tmp_path / "spool" / "intake-1"
    src.parent.mkdir()
    src.write_bytes(b"%PDF-1.4 original")
    inode = src.stat().st_ino
    bucket = LocalBucket(tmp_path / "archive")
    bucket.move_in(src, "ab/abcdef/invoice.pdf")
    assert not src.exists()
    placed = tmp_path / "archive" / "ab" / "abcdef" / "invoice.pdf"
    assert placed.read_bytes() == b"%PDF-1.4 original"
    assert placed.stat().st_ino == inode  # the same file, not a copy


def test_move_in_copies_across_disks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "intake-1"
    src.write_bytes(b"%PDF-1.4 original")
    real_replace = os.replace

    def replace(a: str | Path, b: str | Path) -> None:
        if Path(a) == src:  # as a rename from another file system fails
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    bucket = LocalBucket(tmp_path / "archive")
    bucket.move_in(src, "k/invoice.pdf")
    assert (tmp_path / "archive" / "k" / "invoice.pdf").read_bytes() == b"%PDF-1.4 original"


def test_intake_archives_without_leaving_spool_files(settings: Settings, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.pdf", "b.pdf"):
        (inbox / name).write_bytes(f"%PDF-1.4 {name}".encode())
    areas = areas_for(str(inbox), "default", settings)
    engine = init_db(settings.db_url)
    spool = tmp_path / "spool"
    objs = intake.candidates(areas, settings.model_copy(update={"stable_seconds": 0.0}))
    taken = intake.take_many(objs, areas, engine, "default", str(inbox), spool)
    assert [t.new for t in taken] == [True, True]
    for t in taken:
        original = inbox / t.key
        assert original.exists()  # intake leaves the inbox file where it is
        archived = areas.archive.read_bytes(archive_key(t.document_id, t.key))
        assert archived == original.read_bytes()
    assert list(spool.iterdir()) == []
