"""Where files live: a watched inbox and its archive, quarantine and outbox.

``LocalBucket`` (a folder; the embedded default) and ``S3Bucket`` (boto3; any S3-compatible
store) share one small interface, so intake and posting do not care which one they get.
Keys are ``/``-separated paths relative to the bucket root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from core.errors import NotFoundError, RefusedError, TransientError

CHUNK = 1 << 20


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: dt.datetime


class Bucket(Protocol):
    def uri(self, key: str) -> str: ...
    def list(self, prefix: str = "") -> list[ObjectInfo]: ...
    def stat(self, key: str) -> ObjectInfo: ...
    def exists(self, key: str) -> bool: ...
    def read_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, dest: Path) -> str:
        """Stream ``key`` to ``dest``; return the SHA-256 of the bytes."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None: ...
    def upload(self, src: Path, key: str) -> None: ...
    def move_in(self, src: Path, key: str) -> None:
        """``upload``, where ``src`` is a spool file the caller no longer needs: a folder
        bucket on the same disk renames it into place instead of copying it."""
        ...

    def append_text(self, key: str, text: str) -> None: ...
    def delete(self, key: str) -> None: ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalBucket:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._resolved_root: Path | None = None

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self._resolved_root is None:  # resolving walks every folder of the path: once will do
            self._resolved_root = self.root.resolve()
        root = self._resolved_root
        if path != root and root not in path.parents:
            raise NotFoundError(f"key escapes the bucket: {key!r}")
        return path

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        out = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                st = path.stat()
                out.append(
                    ObjectInfo(
                        key=path.relative_to(self.root).as_posix(),
                        size=st.st_size,
                        modified=dt.datetime.fromtimestamp(st.st_mtime, dt.UTC),
                    )
                )
        return out

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise NotFoundError(f"no such file: {key}") from exc
        return ObjectInfo(key, st.st_size, dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"no such file: {key}") from exc

    def download(self, key: str, dest: Path) -> str:
        src = self._path(key)
        digest = hashlib.sha256()
        with src.open("rb") as fin, dest.open("wb") as fout:
            for chunk in iter(lambda: fin.read(CHUNK), b""):
                digest.update(chunk)
                fout.write(chunk)
        return digest.hexdigest()

    def _atomic_write(self, key: str, writer: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                writer(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_bytes(self, key: str, data: bytes) -> None:
        self._atomic_write(key, lambda fh: fh.write(data))

    def upload(self, src: Path, key: str) -> None:
        def copy(fh: IO[bytes]) -> None:
            with Path(src).open("rb") as fin:
                shutil.copyfileobj(fin, fh, CHUNK)

        self._atomic_write(key, copy)

    def move_in(self, src: Path, key: str) -> None:
        path = self._path(key)
        with Path(src).open("rb") as fh:
            os.fsync(fh.fileno())  # on disk before it has its name, as _atomic_write does
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, path)
        except OSError:  # another disk (EXDEV): copy it
            self.upload(src, key)

    def append_text(self, key: str, text: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


REFUSED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden", "403",
                           "InvalidObjectState"})
"""S3 error codes that another try would not mend: no permission, or an object archived in
Glacier or Deep Archive (``InvalidObjectState``) that must be restored before it can be read."""


class S3Bucket:
    """An S3 prefix through boto3; endpoint and credentials from the standard AWS variables."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3", config=Config(retries={"max_attempts": 5, "mode": "standard"})
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full: str) -> str:
        return full[len(self.prefix) + 1 :] if self.prefix else full

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            where = f"s3://{self.bucket}/{kwargs.get('Key', kwargs.get('Prefix', ''))}"
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise NotFoundError(f"no such object: {where}") from exc
            if code in REFUSED_CODES:
                archived = exc.response.get("Error", {}).get("StorageClass")
                why = f"archived in {archived}: restore it first" if archived else "access denied"
                raise RefusedError(f"S3 refuses {where}: {why} ({code})") from exc
            raise TransientError(f"S3 error {code}: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 unreachable: {exc}") from exc

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        full = self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        out: list[ObjectInfo] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(self.client.list_objects_v2, **kwargs)
            for obj in page.get("Contents", []):
                out.append(ObjectInfo(self._rel(obj["Key"]), obj["Size"], obj["LastModified"]))
            if not page.get("IsTruncated"):
                return out
            token = page["NextContinuationToken"]

    def stat(self, key: str) -> ObjectInfo:
        head = self._call(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        return ObjectInfo(key, head["ContentLength"], head["LastModified"])

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFoundError:
            return False
        return True

    def read_bytes(self, key: str) -> bytes:
        obj = self._call(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        return obj["Body"].read()  # type: ignore[no-any-return]

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        obj = self._call(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        yield from obj["Body"].iter_chunks(CHUNK)

    def download(self, key: str, dest: Path) -> str:
        digest = hashlib.sha256()
        with dest.open("wb") as fout:
            for chunk in self.iter_chunks(key):
                digest.update(chunk)
                fout.write(chunk)
        return digest.hexdigest()

    def write_bytes(self, key: str, data: bytes) -> None:
        self._call(self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)

    def upload(self, src: Path, key: str) -> None:
        from boto3.s3.transfer import TransferConfig

        try:
            self.client.upload_file(
                str(src), self.bucket, self._key(key), Config=TransferConfig(multipart_threshold=64 * CHUNK)
            )
        except Exception as exc:  # boto3's transfer manager wraps errors in its own types
            raise TransientError(f"S3 upload failed: {exc}") from exc

    def move_in(self, src: Path, key: str) -> None:
        self.upload(src, key)

    def append_text(self, key: str, text: str) -> None:
        # S3 has no append: read-modify-write, acceptable for the small CSV batch file.
        try:
            old = self.read_bytes(key)
        except NotFoundError:
            old = b""
        self.write_bytes(key, old + text.encode("utf-8"))

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))


def open_source(source: str) -> Bucket:
    """``s3://bucket/prefix`` or a folder path."""
    if source.startswith("s3://"):
        rest = source.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        return S3Bucket(bucket, prefix)
    return LocalBucket(Path(source))
