"""SQLAlchemy engines for SQLite files and PostgreSQL, set up for many threads and workers."""
from __future__ import annotations

import functools
import math
import os
import sqlite3
import time

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL

# Execution option of connections that will write: on SQLite their transaction
# takes the write lock at BEGIN (see _begin_sqlite_transaction).
WRITE_TRANSACTION = {"chatbot_write": True}


def create_database_engine(url: URL, timeout: float, statement_timeout: float = 120.0) -> Engine:
    """An engine for `url` that does not connect yet, every wait bounded.

    `timeout` (seconds) bounds lock waits (SQLite's busy timeout, PostgreSQL's
    `lock_timeout`) and connecting (`connect_timeout`, at least 2 s: libpq's
    minimum); `statement_timeout` bounds any one PostgreSQL statement.
    Parameters are hidden from SQLAlchemy's errors and logs: they hold visitor text.
    """
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, timeout)
    if backend == "postgresql":
        # A worker outlives database restarts: test a pooled connection before
        # handing it out rather than fail the first request after a restart.
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args={
            "connect_timeout": max(2, math.ceil(timeout)),
            "application_name": "chatbot",
        })
        event.listen(engine, "connect", functools.partial(
            _limit_postgresql_waits, lock_ms=_milliseconds(timeout), statement_ms=_milliseconds(statement_timeout)))
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _limit_postgresql_waits(dbapi_connection, connection_record, lock_ms: int, statement_ms: int) -> None:
    # Set per session rather than through the `options` connect argument, which
    # would replace options the URL already carries (a search_path, say).
    # Session-level SET survives the commit; it is reverted only by a rollback.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(statement_ms)}")
        cursor.execute(f"SET lock_timeout = {int(lock_ms)}")
    dbapi_connection.commit()


def _sqlite_engine(url: URL, timeout: float) -> Engine:
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        raise ValueError("an in-memory SQLite database is private to one connection; give a file")
    # `timeout` is SQLite's busy timeout: how long a writer waits for another's lock.
    engine = create_engine(url, hide_parameters=True, connect_args={"timeout": timeout})
    event.listen(engine, "connect", functools.partial(_prepare_sqlite_connection, timeout=timeout))
    event.listen(engine, "connect", functools.partial(_remember_file, path=url.database))
    event.listen(engine, "checkout", functools.partial(_check_same_file, path=url.database))
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _remember_file(dbapi_connection, connection_record, path: str) -> None:
    connection_record.info["chatbot_file"] = _file_identity(path)


def _check_same_file(dbapi_connection, connection_record, connection_proxy, path: str) -> None:
    # A pooled connection keeps the file it opened: after the file is deleted
    # or replaced (a restore, a mistaken `rm`), its writes would land in a file
    # nobody reads again, and be lost while reporting success. Reconnect instead.
    if connection_record.info.get("chatbot_file") != _file_identity(path):
        raise exc.DisconnectionError("the database file was replaced or removed")


def _prepare_sqlite_connection(dbapi_connection, connection_record, timeout: float) -> None:
    # SQLAlchemy, not the sqlite3 module, says when a transaction begins: the
    # module's own rule skips BEGIN before DDL, which would leave a migration
    # half applied when it fails, and cannot ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        use_write_ahead_log(cursor, timeout)
        # With WAL, NORMAL may lose the last commits on power failure but never
        # corrupts the file; chat logs do not need a disk flush per message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def use_write_ahead_log(cursor, timeout: float) -> None:
    """Switch the file to WAL (once: the mode is stored in the file), retrying while others hold it.

    `cursor`: a DB-API cursor or sqlite3 connection of the file. Raises
    sqlite3.OperationalError when the file stays locked for `timeout` seconds.

    Write-ahead log: readers and the one writer do not block each other, so
    several gunicorn workers can log at once. Switching needs the file to
    itself, and SQLite refuses at once, without its busy wait, when other
    connections are reading it, as when several workers open a new file.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                # Answers the old mode, without an error, where WAL is impossible
                # (some network file systems): the rollback journal stays.
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _begin_sqlite_transaction(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # "database is locked" if another worker wrote in between; the busy timeout
    # only applies when the lock is taken at BEGIN IMMEDIATE.
    write = connection.get_execution_options().get("chatbot_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
