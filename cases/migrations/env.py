"""Alembic environment: Vigil always runs migrations programmatically on a connection it passes in."""

from alembic import context

from cases.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations with CaseStore.migrate(), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
