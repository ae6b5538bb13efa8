"""Alembic environment: the engine comes from ``core.db.init_db`` or ``DOCFLOW_DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from core.db import Base
from core.settings import load_settings

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(load_settings().db_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
