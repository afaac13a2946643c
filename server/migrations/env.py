"""Alembic environment: runs phonghop's migrations on the configured database."""

from alembic import context
from sqlmodel import SQLModel

from server import models  # noqa: F401  (registers the tables)
from server.db import make_sync_engine

url = context.config.get_main_option("sqlalchemy.url")


def run() -> None:
    engine = make_sync_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
