"""Alembic environment: run with the connection the store hands over (``ProgressStore`` calls
``alembic upgrade head`` on open); with ``alembic -x url=...`` from a shell for operators."""

from alembic import context

from interviewer.progress.store import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - operator use: alembic -c ... -x url=postgresql+psycopg://...
    import sqlalchemy as sa

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("pass the database with -x url=postgresql+psycopg://... (or sqlite:///path)")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
