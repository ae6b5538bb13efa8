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

from billing import ledger
from core.db import DocumentRow, session_scope, utcnow
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
    """``take`` for a chunk of objects: files seen before are found with one query for all."""
    uris = {obj.key: areas.inbox.uri(obj.key) for obj in objs}
    known = _registered_as(objs, uris, engine)
    out = []
    spool_dir.mkdir(parents=True, exist_ok=True)
    for obj in objs:
        if obj.key in known:
            out.append(Taken(known[obj.key], obj.key, new=False, reason="already seen (same file)"))
        else:
            out.append(_take_new(obj, uris[obj.key], areas, engine, client, inbox_uri, spool_dir))
    return out


def _take_new(
    obj: ObjectInfo, uri: str, areas: Areas, engine: Engine, client: str, inbox_uri: str, spool_dir: Path
) -> Taken:
    fd, tmp_name = tempfile.mkstemp(dir=spool_dir, prefix="intake-")
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        digest = areas.inbox.download(obj.key, tmp)
        with session_scope(engine) as session:
            if session.get(DocumentRow, digest) is not None:
                return Taken(digest, obj.key, new=False, reason="already seen (same bytes)")
        akey = archive_key(digest, obj.key)
        size = tmp.stat().st_size
        if not areas.archive.exists(akey):
            areas.archive.move_in(tmp, akey)  # renamed into a folder archive, not copied
        try:
            with session_scope(engine) as session:
                session.add(
                    DocumentRow(
                        id=digest,
                        client=client,
                        source_uri=uri,
                        inbox=inbox_uri,
                        filename=PurePosixPath(obj.key).name[:1000],
                        size=size,
                        media_type=mimetypes.guess_type(obj.key)[0],
                        status=Status.RECEIVED.value,
                        archive_uri=areas.archive.uri(akey),
                        received_at=utcnow(),
                    )
                )
                session.flush()
                ledger.record_many(session, digest, client, [("intake", size, 0.0, {"key": obj.key})])
        except IntegrityError:
            return Taken(digest, obj.key, new=False, reason="already registered by another worker")
        return Taken(digest, obj.key, new=True)
    finally:
        tmp.unlink(missing_ok=True)


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
