"""Alembic, run from code: bring a database's schema to the newest revision.

The migration scripts live in this package (migrations/), so an installed app
finds them without an alembic.ini or a particular working directory. The
alembic.ini at the top of the repository points the `alembic` command at the
same folder for writing new revisions.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from .engine import WRITE_TRANSACTION

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Key of the PostgreSQL advisory lock that serialises migrations ("chat" in ASCII).
ADVISORY_LOCK_KEY = 0x63686174


def upgrade_to_head(engine: Engine) -> None:
    """Apply every missing revision in one transaction, one process at a time.

    A process that waited for another's migration finds the schema at head
    and does nothing.
    """
    with engine.connect() as connection, migration_transaction(connection):
        command.upgrade(alembic_config(connection), "head")


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """One locked transaction for schema changes, committed when the block ends.

    Only one process at a time gets here: PostgreSQL takes an advisory lock,
    SQLite's BEGIN IMMEDIATE is the lock. On SQLite foreign keys are off
    meanwhile, as SQLite asks for schema changes: batch migrations rebuild a
    table by dropping it, and with foreign keys on, dropping `exchanges` would
    delete all feedback through ON DELETE CASCADE. They are checked before commit.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # On the driver's connection: through SQLAlchemy the PRAGMA would run
        # inside a transaction, where SQLite ignores it.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        connection.execution_options(**WRITE_TRANSACTION)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": ADVISORY_LOCK_KEY})
            yield
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise CommandError("the migration left rows pointing to missing rows; rolled back")
    finally:
        if sqlite:
            _restore_foreign_keys(connection)


def _restore_foreign_keys(connection: Connection) -> None:
    try:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    except (sqlite3.Error, SQLAlchemyError):
        connection.invalidate()  # never hand a connection without foreign keys back to the pool


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for this package's scripts; env.py migrates `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config
