"""Posting to the outbox, idempotent by document id.

The ``postings`` row is the idempotency key: a document is posted once, whatever retries or
crashes happen. The JSON file is written first (atomically, same name and content on a retry),
then the row is inserted; only the run that inserts the row appends the CSV batch line.
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

CSV_COLUMNS = ("document_id", "client", "doc_type", "posted_at", "posted_by", "vendor_name",
               "invoice_number", "invoice_date", "currency", "total_amount", "source")


def post_document(
    session: Session,
    outbox: Bucket,
    document: DocumentRow,
    fields: dict[str, Any],
    posted_by: str = "auto",
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
    key = f"{document.doc_type or 'unknown'}/{document.id}.json"
    outbox.write_bytes(key, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())
    try:
        with session.begin_nested():
            session.add(PostingRow(document_id=document.id, client=document.client,
                                   outbox_uri=outbox.uri(key), posted_by=posted_by, posted_at=now))
    except IntegrityError:
        return False
    document.status = Status.POSTED.value
    document.posted_at = now
    outbox.append_text(f"batches/{now:%Y-%m-%d}.csv", _csv_line(document, fields, posted_by, now))
    return True


def is_posted(session: Session, document_id: str) -> bool:
    return session.scalar(select(PostingRow.document_id).where(PostingRow.document_id == document_id)) is not None


def _csv_line(document: DocumentRow, fields: dict[str, Any], posted_by: str, now: dt.datetime) -> str:
    buf = io.StringIO()
    row = {
        "document_id": document.id, "client": document.client, "doc_type": document.doc_type,
        "posted_at": now.isoformat(), "posted_by": posted_by, "source": document.source_uri,
        **{k: fields.get(k) for k in CSV_COLUMNS if k in fields},
    }
    csv.writer(buf).writerow([row.get(c, "") if row.get(c) is not None else "" for c in CSV_COLUMNS])
    return buf.getvalue()
