"""Alembic environment: the engine is handed in by digest.store.db.migrate()."""

from __future__ import annotations

from alembic import context

from digest.store.models import Base

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    raw = connection.connection.dbapi_connection
    if sqlite and raw is not None:
        # Batch mode rebuilds a table with DROP TABLE; with foreign keys on,
        # SQLite turns that into a cascading DELETE of the children's rows.
        # The pragma only works outside a transaction, so it goes straight to
        # the driver (which runs in autocommit mode, see digest.store.db).
        raw.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=sqlite,
        compare_type=True,
    )
    with connection.begin():
        context.run_migrations()
    if sqlite and raw is not None:
        raw.execute("PRAGMA foreign_keys=ON")
