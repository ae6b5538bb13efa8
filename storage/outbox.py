"""Posting to the outbox, idempotent by document id.

The ``postings`` row is the idempotency key: a document is posted once, whatever retries or
crashes happen. The JSON file is written first (atomically; same name and content on a retry),
then the row is inserted. The daily CSV batch file is a view of the ``postings`` table, rewritten
whole and atomically by ``export_batch`` — so a crash can never leave a line in it twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import DocumentRow, PostingRow, utcnow
from core.models import Status
from storage.buckets import Bucket

CSV_COLUMNS = (
    "document_id",
    "client",
    "doc_type",
    "posted_at",
    "posted_by",
    "vendor_name",
    "invoice_number",
    "invoice_date",
    "currency",
    "total_amount",
    "source",
)


def outbox_key(document: DocumentRow) -> str:
    return f"{document.doc_type or 'unknown'}/{document.id}.json"


def post_document(
    session: Session, outbox: Bucket, document: DocumentRow, fields: dict[str, Any], posted_by: str = "auto"
) -> bool:
    """Post ``document`` with its final ``fields`` (label format). True if this call posted it."""
    if session.get(PostingRow, document.id) is not None:
        return False
    now = utcnow()
    payload = {
        "document_id": document.id,
        "client": document.client,
        "doc_type": document.doc_type,
        "source": document.source_uri,
        "posted_by": posted_by,
        "fields": fields,
    }
    key = outbox_key(document)
    outbox.write_bytes(key, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())
    try:
        with session.begin_nested():
            session.add(
                PostingRow(
                    document_id=document.id,
                    client=document.client,
                    outbox_uri=outbox.uri(key),
                    posted_by=posted_by,
                    posted_at=now,
                    fields=fields,
                )
            )
    except IntegrityError:
        return False
    document.status = Status.POSTED.value
    document.posted_at = now
    return True


def is_posted(session: Session, document_id: str) -> bool:
    query = select(PostingRow.document_id).where(PostingRow.document_id == document_id)
    return session.scalar(query) is not None


def export_batch(session: Session, outbox: Bucket, client: str, day: dt.date) -> int:
    """Rewrite ``batches/<day>.csv`` from the day's postings; returns its number of lines."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        select(PostingRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == PostingRow.document_id)
        .where(
            PostingRow.client == client,
            PostingRow.posted_at >= start,
            PostingRow.posted_at < start + dt.timedelta(days=1),
        )
        .order_by(PostingRow.posted_at, PostingRow.document_id)
    ).all()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for posting, document in rows:
        fields = posting.fields or {}
        row = {
            "document_id": document.id,
            "client": document.client,
            "doc_type": document.doc_type,
            "posted_at": posting.posted_at.isoformat(),
            "posted_by": posting.posted_by,
            "source": document.source_uri,
        }
        writer.writerow(
            [row.get(c, fields.get(c)) if row.get(c, fields.get(c)) is not None else "" for c in CSV_COLUMNS]
        )
    outbox.write_bytes(f"batches/{day.isoformat()}.csv", buf.getvalue().encode())
    return len(rows)
