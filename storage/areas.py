"""Each client's storage areas: ``archive/``, ``quarantine/`` and ``outbox/``.

A local inbox keeps its areas under ``DOCFLOW_HOME/<client>/`` (the watched folder is never
written to). An S3 inbox ``s3://bucket/<root>/inbox`` (or ``s3://bucket/<root>``) keeps them as
sibling prefixes ``s3://bucket/<root>/archive`` etc., so one bucket holds a client's whole life.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from storage.buckets import Bucket, LocalBucket, S3Bucket

AREAS = ("archive", "quarantine", "outbox")


@dataclass(frozen=True)
class Areas:
    inbox: Bucket
    archive: Bucket
    quarantine: Bucket
    outbox: Bucket


def areas_for(source: str, client: str, settings: Settings) -> Areas:
    if source.startswith("s3://"):
        bucket, _, prefix = source.removeprefix("s3://").partition("/")
        prefix = prefix.strip("/")
        root = prefix.removesuffix("inbox").strip("/") if prefix.endswith("inbox") else prefix
        inbox = S3Bucket(bucket, prefix)

        def area(name: str) -> S3Bucket:
            return S3Bucket(bucket, f"{root}/{name}" if root else name, client=inbox.client)

        return Areas(inbox, area("archive"), area("quarantine"), area("outbox"))
    from pathlib import Path

    def local(name: str) -> LocalBucket:
        return LocalBucket(settings.local_dir(client, name))

    return Areas(LocalBucket(Path(source)), local("archive"), local("quarantine"), local("outbox"))
