"""S3 intake through boto3 against moto's S3 server on loopback (HTTP, not in-process patching)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import DocumentRow, init_db, session_scope
from core.settings import Settings
from pipeline import intake
from storage.areas import areas_for
from storage.buckets import S3Bucket

pytestmark = pytest.mark.s3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket; the standard AWS variables point boto3 at the loopback server."""
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"docflow-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    yield name


def test_bucket_roundtrip_streams_and_lists(s3: str, tmp_path: Path) -> None:
    bucket = S3Bucket(s3, "acme/inbox")
    payload = b"%PDF-1.4 " + b"x" * (3 * 1024 * 1024)
    bucket.write_bytes("a/one.pdf", payload)
    assert [o.key for o in bucket.list()] == ["a/one.pdf"]
    assert bucket.stat("a/one.pdf").size == len(payload)
    import hashlib

    digest = bucket.download("a/one.pdf", tmp_path / "copy")
    assert digest == hashlib.sha256(payload).hexdigest()
    assert (tmp_path / "copy").read_bytes() == payload
    assert bucket.uri("a/one.pdf") == f"s3://{s3}/acme/inbox/a/one.pdf"
    assert not bucket.exists("missing.pdf")


def test_areas_are_sibling_prefixes_of_the_inbox(s3: str, settings: Settings) -> None:
    areas = areas_for(f"s3://{s3}/acme/inbox", "acme", settings)
    assert areas.archive.uri("k") == f"s3://{s3}/acme/archive/k"
    assert areas.outbox.uri("k") == f"s3://{s3}/acme/outbox/k"


def test_two_racing_watchers_register_each_object_once(s3: str, settings: Settings) -> None:
    engine = init_db(settings.db_url)
    source = f"s3://{s3}/acme/inbox"
    areas = areas_for(source, "acme", settings)
    for i in range(12):
        areas.inbox.write_bytes(f"doc-{i}.pdf", f"%PDF-1.4 document {i}".encode())
    objects = intake.candidates(areas, settings)
    assert len(objects) == 12
    results: list[intake.Taken] = []
    lock = threading.Lock()

    def watcher(spool: str) -> None:
        mine = areas_for(source, "acme", settings)
        for obj in objects:
            taken = intake.take(obj, mine, engine, "acme", source, settings.home / spool)
            with lock:
                results.append(taken)

    threads = [threading.Thread(target=watcher, args=(f"spool{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.new for r in results) == 12
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 12
    archived = areas.archive.list()
    assert len(archived) == 12


def test_partial_upload_is_not_taken_until_stable(s3: str, settings: Settings) -> None:
    source = f"s3://{s3}/acme/inbox"
    slow = settings.model_copy(update={"stable_seconds": 30.0})
    areas = areas_for(source, "acme", slow)
    areas.inbox.write_bytes("growing.pdf", b"%PDF-1.4 part")
    assert intake.candidates(areas, slow) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)
    assert [o.key for o in intake.candidates(areas, slow, now=later)] == ["growing.pdf"]


def test_an_archived_object_is_reported_and_the_others_are_taken(
    s3: str, settings: Settings, tmp_path: Path
) -> None:
    """An object in Glacier cannot be read until it is restored (S3 says InvalidObjectState):
    no retry mends that, so it is reported as not taken, with the reason, and left where it is;
    the other files of the chunk are taken. (It had been a storage hiccup, retried until the
    intake task and with it the run failed, at every poll.)"""
    import boto3

    from core.errors import RefusedError

    source = f"s3://{s3}/acme/inbox"
    areas = areas_for(source, "acme", settings)
    areas.inbox.write_bytes("fresh.pdf", b"%PDF-1.4 fresh")
    boto3.client("s3").put_object(Bucket=s3, Key="acme/inbox/cold.pdf", Body=b"%PDF-1.4 cold",
                                  StorageClass="GLACIER")
    with pytest.raises(RefusedError, match="archived in GLACIER: restore it first"):
        areas.inbox.read_bytes("cold.pdf")
    engine = init_db(settings.db_url)
    objects = intake.candidates(areas, settings.model_copy(update={"stable_seconds": 0.0}))
    taken = {t.key: t for t in intake.take_many(objects, areas, engine, "acme", source,
                                                tmp_path / "spool")}
    assert taken["fresh.pdf"].new and not taken["fresh.pdf"].error
    assert not taken["cold.pdf"].new
    assert "storage refuses it" in taken["cold.pdf"].error
    assert "restore it first" in taken["cold.pdf"].error
    assert areas.inbox.exists("cold.pdf")
