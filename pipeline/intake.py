"""Intake: take each file of a watched inbox exactly once.

A file is taken when its size has been stable for ``settings.stable_seconds`` (partial uploads
are left for the next poll), streamed to a spool file while hashing, archived under its SHA-256,
then registered. The database's primary key on the document id decides who registered it, not
timing, so two watchers racing over one inbox register each file once.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import ledger
from core.db import DocumentRow, session_scope, utcnow
from core.errors import NotFoundError, RefusedError
from core.models import Status
from core.settings import Settings
from storage.archive import archive_key
from storage.areas import AREAS, Areas
from storage.buckets import ObjectInfo

SKIP_PREFIXES = tuple(f"{a}/" for a in AREAS)


@dataclass(frozen=True)
class Taken:
    document_id: str
    key: str
    new: bool
    reason: str = ""
    error: str = ""
    """Why the file could not be taken this time (it is gone from the inbox, or may not be
    read); it stays where it is and the next poll tries again. Empty when it was taken."""


def candidates(areas: Areas, settings: Settings, now: dt.datetime | None = None) -> list[ObjectInfo]:
    """Objects in the inbox that look complete (not modified for ``stable_seconds``)."""
    now = now or utcnow()
    out = []
    for obj in areas.inbox.list():
        name = PurePosixPath(obj.key).name
        if obj.key.startswith(SKIP_PREFIXES) or name.startswith(".") or "__pycache__" in obj.key:
            continue
        if any(fnmatch.fnmatch(name, pattern) for pattern in settings.intake_ignore):
            continue
        modified = obj.modified if obj.modified.tzinfo else obj.modified.replace(tzinfo=dt.UTC)
        if (now - modified).total_seconds() < settings.stable_seconds:
            continue
        out.append(obj)
    return out


def take(
    obj: ObjectInfo, areas: Areas, engine: Engine, client: str, inbox_uri: str, spool_dir: Path
) -> Taken:
    """Stream, hash, archive and register one inbox object."""
    return take_many([obj], areas, engine, client, inbox_uri, spool_dir)[0]


def seen_before(objs: list[ObjectInfo], areas: Areas, engine: Engine) -> dict[str, str]:
    """Document ids of the objects registered before as this very file (same source, same
    size, not modified since), by key; found with one query per 500 objects."""
    return _registered_as(objs, {obj.key: areas.inbox.uri(obj.key) for obj in objs}, engine)


def _registered_as(objs: list[ObjectInfo], uris: dict[str, str], engine: Engine) -> dict[str, str]:
    """``seen_before`` for objects whose source URIs (by key) are known already."""
    registered: dict[str, list[tuple[str, int, dt.datetime]]] = {}
    with session_scope(engine) as session:
        for start in range(0, len(objs), 500):  # bound the IN list
            part = [uris[o.key] for o in objs[start : start + 500]]
            columns = (DocumentRow.id, DocumentRow.source_uri, DocumentRow.size, DocumentRow.received_at)
            for doc_id, uri, size, received in session.execute(
                select(*columns).where(DocumentRow.source_uri.in_(part))
            ):
                registered.setdefault(uri, []).append((doc_id, size, received))
    out = {}
    for obj in objs:
        modified = obj.modified if obj.modified.tzinfo else obj.modified.replace(tzinfo=dt.UTC)
        same_file = (
            doc_id
            for doc_id, size, received in registered.get(uris[obj.key], [])
            if size == obj.size and received >= modified
        )
        known = next(same_file, None)
        if known is not None:
            out[obj.key] = known
    return out


def take_many(
    objs: list[ObjectInfo], areas: Areas, engine: Engine, client: str, inbox_uri: str, spool_dir: Path
) -> list[Taken]:
    """``take`` for a chunk of objects. Files seen before are found with one query for all, and
    the chunk's new documents are registered in one transaction: a crash or a failed attempt
    before its commit registers none of them, and the retry takes them all (an archived copy is
    found by its key and not stored twice)."""
    uris = {obj.key: areas.inbox.uri(obj.key) for obj in objs}
    known = _registered_as(objs, uris, engine)
    out = {
        key: Taken(doc_id, key, new=False, reason="already seen (same file)")
        for key, doc_id in known.items()
    }
    spool_dir.mkdir(parents=True, exist_ok=True)
    staged: list[_Staged] = []
    try:
        for obj in objs:
            if obj.key in known:
                continue
            try:
                staged.append(_download(obj, uris[obj.key], areas, spool_dir))
            except UNREADABLE as exc:  # one such file must not hold up the others
                out[obj.key] = Taken("", obj.key, new=False, error=_unreadable(exc))
        with session_scope(engine) as session:
            registered = set(session.scalars(
                select(DocumentRow.id).where(DocumentRow.id.in_({s.digest for s in staged}))
            )) if staged else set()
        new: dict[str, _Staged] = {}
        for s in staged:
            if s.digest in registered or s.digest in new:
                out[s.obj.key] = Taken(s.digest, s.obj.key, new=False,
                                       reason="already seen (same bytes)")
                continue
            new[s.digest] = s
            if not areas.archive.exists(s.archive_key):
                areas.archive.move_in(s.tmp, s.archive_key)  # renamed into a folder archive
        try:
            with session_scope(engine) as session:
                for s in new.values():
                    _register(session, s, areas, client, inbox_uri)
            out.update({s.obj.key: Taken(s.digest, s.obj.key, new=True) for s in new.values()})
        except IntegrityError:  # another watcher registered one of them meanwhile: one by one
            for s in new.values():
                out[s.obj.key] = _register_alone(s, areas, engine, client, inbox_uri)
    finally:
        for s in staged:
            s.tmp.unlink(missing_ok=True)
    return [out[obj.key] for obj in objs]


UNREADABLE = (NotFoundError, FileNotFoundError, PermissionError, RefusedError)
"""Errors reading one inbox file that another try within the run would not mend (storage
hiccups are retried by the intake task instead)."""


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, RefusedError):
        what = "storage refuses it"
    elif isinstance(exc, PermissionError):
        what = "docflow may not read it (permissions)"
    else:
        what = "it is gone from the inbox"
    return f"not taken: {what} ({exc}); the next poll tries again"


@dataclass(frozen=True)
class _Staged:
    """An inbox object streamed to a spool file, with its SHA-256, size and archive key."""

    obj: ObjectInfo
    uri: str
    tmp: Path
    digest: str
    size: int

    @property
    def archive_key(self) -> str:
        return archive_key(self.digest, self.obj.key)


def _download(obj: ObjectInfo, uri: str, areas: Areas, spool_dir: Path) -> _Staged:
    fd, tmp_name = tempfile.mkstemp(dir=spool_dir, prefix="intake-")
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        digest = areas.inbox.download(obj.key, tmp)
        return _Staged(obj, uri, tmp, digest, tmp.stat().st_size)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _register(session: Session, s: _Staged, areas: Areas, client: str, inbox_uri: str) -> None:
    session.add(
        DocumentRow(
            id=s.digest,
            client=client,
            source_uri=s.uri,
            inbox=inbox_uri,
            filename=PurePosixPath(s.obj.key).name[:1000],
            size=s.size,
            media_type=mimetypes.guess_type(s.obj.key)[0],
            status=Status.RECEIVED.value,
            archive_uri=areas.archive.uri(s.archive_key),
            received_at=utcnow(),
        )
    )
    session.flush()
    ledger.record_many(session, s.digest, client, [("intake", s.size, 0.0, {"key": s.obj.key})])


def _register_alone(s: _Staged, areas: Areas, engine: Engine, client: str, inbox_uri: str) -> Taken:
    try:
        with session_scope(engine) as session:
            _register(session, s, areas, client, inbox_uri)
    except IntegrityError:
        return Taken(s.digest, s.obj.key, new=False, reason="already registered by another worker")
    return Taken(s.digest, s.obj.key, new=True)


def pending_documents(engine: Engine, client: str) -> list[DocumentRow]:
    """Documents registered but not yet decided (new ones, or left by a crash).

    In source-name order, so that files found together are decided in a stable order (the
    earlier of two duplicates is the one posted).
    """
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(DocumentRow)
                .where(DocumentRow.client == client, DocumentRow.status == Status.RECEIVED.value)
                .order_by(DocumentRow.source_uri, DocumentRow.id)
            )
        )
