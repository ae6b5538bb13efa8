"""duplicate-detection keys and dispatch lease on documents

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dup_key_number", sa.String(200), nullable=True))
        batch.add_column(sa.Column("dup_key_amount", sa.String(200), nullable=True))
        batch.create_index("ix_documents_dup_key_number", ["dup_key_number"])
        batch.create_index("ix_documents_dup_key_amount", ["dup_key_amount"])
        batch.create_index("ix_documents_source_uri_size", ["source_uri", "size"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_source_uri_size")
        batch.drop_index("ix_documents_dup_key_amount")
        batch.drop_index("ix_documents_dup_key_number")
        batch.drop_column("dup_key_amount")
        batch.drop_column("dup_key_number")
        batch.drop_column("dispatched_at")
