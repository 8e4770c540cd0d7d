"""Alembic environment: from Storage.migrate() with an open connection, or from the alembic command.

Storage.migrate() passes a connection that is already in a locked transaction
(chatbot/storage/migrate.py); the `alembic` command passes `-x url=...` and
gets the same transaction here. Autogenerate compares with DATABASE_METADATA:
every table of the database, the chat log's (chatbot/storage/tables.py) and
the staff workspace's (chatbot/staff/tables.py).
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from chatbot.staff.tables import DATABASE_METADATA
from chatbot.storage.engine import create_database_engine
from chatbot.storage.migrate import migration_transaction
from chatbot.storage.tables import UtcDateTime

config = context.config


def render_item(type_: str, obj, autogen_context) -> str | bool:
    """Write UtcDateTime as the plain type in new scripts: a migration must not import app code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=DATABASE_METADATA,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def command_line_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///instance/chatbot.db ...")
    return url


if context.is_offline_mode():
    context.configure(url=command_line_url(), target_metadata=DATABASE_METADATA, literal_binds=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    configure_and_run(config.attributes["connection"])
else:
    engine = create_database_engine(make_url(command_line_url()), timeout=30)
    try:
        with engine.connect() as connection, migration_transaction(connection):
            configure_and_run(connection)
    finally:
        engine.dispose()
