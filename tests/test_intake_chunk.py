"""Intake registers a chunk of inbox files in one transaction: all of them or none."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import DocumentRow, LedgerRow, init_db, session_scope, utcnow
from core.settings import Settings
from pipeline import intake
from storage.areas import areas_for
from storage.buckets import LocalBucket, ObjectInfo


def _inbox(tmp_path: Path, files: dict[str, bytes]) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    return inbox


def _take(inbox: Path, settings: Settings, tmp_path: Path) -> list[intake.Taken]:
    areas = areas_for(str(inbox), "default", settings)
    engine = init_db(settings.db_url)
    objs = intake.candidates(areas, settings.model_copy(update={"stable_seconds": 0.0}))
    return intake.take_many(objs, areas, engine, "default", str(inbox), tmp_path / "spool")


def _registered(settings: Settings) -> int:
    with session_scope(init_db(settings.db_url)) as session:
        return int(session.scalar(select(func.count()).select_from(DocumentRow)) or 0)


def test_the_same_bytes_twice_in_a_chunk_are_one_document(settings: Settings, tmp_path: Path) -> None:
    inbox = _inbox(tmp_path, {"a.pdf": b"%PDF-1.4 a", "b.pdf": b"%PDF-1.4 a", "c.pdf": b"%PDF-1.4 c"})
    taken = _take(inbox, settings, tmp_path)
    assert [(t.key, t.new, t.reason) for t in taken] == [
        ("a.pdf", True, ""), ("b.pdf", False, "already seen (same bytes)"), ("c.pdf", True, "")
    ]
    assert _registered(settings) == 2
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_failed_chunk_registers_nothing_and_its_retry_takes_every_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = _inbox(tmp_path, {f"{i}.pdf": f"%PDF-1.4 {i}".encode() for i in range(4)})
    real = intake.ledger.record_many
    calls = []

    def record_many(session: Any, document_id: str, *args: Any) -> None:
        calls.append(document_id)
        if len(calls) == 3:
            raise OSError("disk full")
        real(session, document_id, *args)

    monkeypatch.setattr(intake.ledger, "record_many", record_many)
    with pytest.raises(OSError):
        _take(inbox, settings, tmp_path)
    assert _registered(settings) == 0  # not the two before the failure either
    monkeypatch.setattr(intake.ledger, "record_many", real)
    taken = _take(inbox, settings, tmp_path)  # archived copies from the failed try are reused
    assert [t.new for t in taken] == [True] * 4
    assert _registered(settings) == 4
    with session_scope(init_db(settings.db_url)) as session:
        assert session.scalar(select(func.count()).select_from(LedgerRow)) == 4
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_document_another_watcher_registered_meanwhile(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk's transaction fails on the other watcher's row; its files are then registered
    one by one, and that one is reported as the other watcher's."""
    inbox = _inbox(tmp_path, {"a.pdf": b"%PDF-1.4 a", "b.pdf": b"%PDF-1.4 b"})
    real_move = LocalBucket.move_in

    def move_in(self: LocalBucket, src: Path, key: str) -> None:
        if key.endswith("/b.pdf"):  # the other watcher commits b.pdf while this one archives it
            staged = intake._Staged(
                ObjectInfo("b.pdf", 10, utcnow()), "file:///elsewhere/b.pdf", src,
                hashlib.sha256(b"%PDF-1.4 b").hexdigest(), 10,
            )
            areas = areas_for(str(inbox), "default", settings)
            with session_scope(init_db(settings.db_url)) as theirs:
                intake._register(theirs, staged, areas, "default", str(inbox))
        real_move(self, src, key)

    monkeypatch.setattr(LocalBucket, "move_in", move_in)
    taken = _take(inbox, settings, tmp_path)
    assert [(t.key, t.new, t.reason) for t in taken] == [
        ("a.pdf", True, ""), ("b.pdf", False, "already registered by another worker")
    ]
    assert _registered(settings) == 2


def test_a_file_that_cannot_be_read_is_left_for_the_next_poll(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file docflow may not read (or that vanished after the listing) is reported and left in
    the inbox; the chunk's other files are taken, and the next poll takes it once readable."""
    inbox = _inbox(tmp_path, {"a.pdf": b"%PDF-1.4 a", "locked.pdf": b"%PDF-1.4 l",
                              "gone.pdf": b"%PDF-1.4 g"})
    real = LocalBucket.download

    def download(self: LocalBucket, key: str, dest: Path) -> str:
        if key == "locked.pdf":
            raise PermissionError(13, "Permission denied", key)
        if key == "gone.pdf":
            raise FileNotFoundError(2, "No such file or directory", key)
        return real(self, key, dest)

    monkeypatch.setattr(LocalBucket, "download", download)
    taken = {t.key: t for t in _take(inbox, settings, tmp_path)}
    assert taken["a.pdf"].new and not taken["a.pdf"].error
    assert not taken["locked.pdf"].new and "permissions" in taken["locked.pdf"].error
    assert "gone from the inbox" in taken["gone.pdf"].error
    assert _registered(settings) == 1 and (inbox / "locked.pdf").exists()
    monkeypatch.setattr(LocalBucket, "download", real)
    again = {t.key: t for t in _take(inbox, settings, tmp_path)}
    assert again["locked.pdf"].new and again["a.pdf"].reason == "already seen (same file)"
    assert _registered(settings) == 3
    assert list((tmp_path / "spool").iterdir()) == []


def test_the_run_summary_names_files_not_taken(settings: Settings, tmp_path: Path) -> None:
    from pipeline.summary import RunSummary

    summary = RunSummary(source=str(tmp_path), client="default", settings=settings, seen=2)
    summary.skipped = [intake.Taken("abc", "old.pdf", new=False, reason="already seen (same file)")]
    summary.not_taken = [intake.Taken("", "locked.pdf", new=False, error="not taken: no access")]
    text = summary.render()
    assert "not taken this time     1" in text and "locked.pdf: not taken: no access" in text
    assert "nothing new: 1 file(s) were already processed" in text
    assert summary.to_json()["not_taken"] == [{"file": "locked.pdf", "reason": "not taken: no access"}]
