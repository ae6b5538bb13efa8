"""The database: SQLAlchemy 2 tables, engine and sessions.

SQLite file by default, PostgreSQL by URL. The schema is created and upgraded by Alembic
(``core/migrations/``); ``init_db`` runs the migrations to head, so a fresh ``DOCFLOW_HOME`` and an
existing PostgreSQL database are handled the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    source_uri: Mapped[str] = mapped_column(Text)
    inbox: Mapped[str] = mapped_column(Text, default="")
    """The watched source it came from (folder or ``s3://bucket/prefix``): locates its areas."""
    filename: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(100))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(20))
    archive_uri: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    extraction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    findings: Mapped[list[Any] | None] = mapped_column(JSON)
    pages: Mapped[list[Any] | None] = mapped_column(JSON)
    """Per page: index, origin, width, height, dpi and the rendered image's location."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When a watcher last handed it to a worker (distributed mode; a lease, not a lock)."""
    dup_key_number: Mapped[str | None] = mapped_column(String(200), index=True)
    """Normalised vendor + invoice number, for duplicate detection."""
    dup_key_amount: Mapped[str | None] = mapped_column(String(200), index=True)
    """Normalised vendor + total + date, for duplicate detection."""


class PostingRow(Base):
    """One row per posted document: the idempotency key of posting."""

    __tablename__ = "postings"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    outbox_uri: Mapped[str] = mapped_column(Text)
    posted_by: Mapped[str] = mapped_column(String(100), default="auto")
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The fields as posted (label format), after any reviewer corrections."""


class QueueItemRow(Base):
    __tablename__ = "queue_items"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(20))
    queue: Mapped[str] = mapped_column(String(20), default="review")
    """``review``, ``senior`` (escalated) or ``qa`` (blind re-keying sample of posted items)."""
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    """``open``, ``claimed`` or ``done``."""
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    handle_seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_queue_open", "state", "queue", "due_at"),)


class AuditRow(Base):
    """Append-only: who did what to which document, field by field."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CorrectionRow(Base):
    """A field a person changed: the measure of what the automation got wrong."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    field: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default="review")
    """``review`` (exception cleared) or ``qa`` (blind re-key of a posted document)."""
    reviewer: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerRow(Base):
    """Append-only cost events; reprocessing adds rows, never rewrites them."""

    __tablename__ = "ledger_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal("0"))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    money: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal("0"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    clients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 30
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


def init_db(url: str) -> Engine:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = get_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "head")
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
