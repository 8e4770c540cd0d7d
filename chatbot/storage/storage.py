"""The chat log: record exchanges and feedback, read them back, purge old ones."""
from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from alembic.util import CommandError
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .engine import WRITE_TRANSACTION, create_database_engine
from .migrate import upgrade_to_head
from .model import Exchange, Feedback, StorageError
from .records import exchange_record, exchange_row, feedback_record, feedback_row
from .tables import ExchangeRow, FeedbackRow


class Storage:
    """The chat log in one database: a SQLite file or PostgreSQL.

    Every method is one short transaction on a pooled connection, so one
    Storage serves all threads of a process. Under gunicorn's pre-fork model
    the engine made in the parent is not used by a child: each process makes
    its own engine the first time it touches the database after a fork, and
    drops the parent's pooled connections without closing them (they still
    belong to the parent). Calling dispose() after a fork is therefore not
    needed, only harmless.

    Database problems raise StorageError, never SQLAlchemy's errors; wrong
    arguments raise ValueError or TypeError.
    """

    def __init__(self, url: str, timeout: float = 5.0, statement_timeout: float = 120.0):
        """Check `url` and make the engine; nothing connects until the first call.

        `timeout` (seconds) is how long a writer waits for another's lock
        (SQLite's busy timeout, PostgreSQL's lock_timeout) and how long
        connecting to PostgreSQL may take; `statement_timeout` bounds one
        PostgreSQL statement (generous by default: staff store whole index
        files). StorageError for a URL that cannot be used (malformed,
        in-memory SQLite, driver missing).
        """
        self.url = url
        self.timeout = timeout
        self.statement_timeout = statement_timeout
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._reader: Engine | None = None
        self._writer: Engine | None = None
        try:
            self._url = make_url(url)
        except SQLAlchemyError as error:
            raise StorageError(f"not a database URL: {error}") from None
        self._engines()

    def __repr__(self) -> str:
        return f"Storage({self._url.render_as_string(hide_password=True)!r})"

    def migrate(self) -> None:
        """Bring the schema to the newest revision; does nothing when it is there already.

        Several processes may call this at once: they take turns (a lock in the
        database) and all but the first find nothing to do.
        """
        reader, _ = self._engines()
        try:
            upgrade_to_head(reader)
        except (SQLAlchemyError, CommandError) as error:
            raise StorageError(f"migrating the database failed: {_reason(error)}") from error

    def record_exchange(self, exchange: Exchange) -> None:
        """Write `exchange` with its message redacted; StorageError for a message_id seen before."""
        row = ExchangeRow(**exchange_row(exchange_record(exchange)))
        with self.transaction("recording an exchange", write=True) as session:
            session.add(row)

    def record_feedback(self, message_id: str, helpful: bool, comment: str | None = None) -> bool:
        """Add a visitor's verdict on an exchange; False when no exchange has `message_id`.

        `comment` (at most 1000 characters, else ValueError) is redacted
        before writing; a blank comment is stored as None. Each call adds a
        row: the newest is the visitor's last word.
        """
        return not self.store_records([], [feedback_record(message_id, helpful, comment)])

    def store_records(self, exchanges: list[dict], feedback: list[dict]) -> list[dict]:
        """Write chat-log records (see records.py) in one transaction; the feedback whose exchange is not stored.

        Idempotent, so a batch may be written again after a timeout or a crash
        between writing and forgetting it: an exchange whose message_id is
        stored already is skipped, and so is feedback with the same message_id
        and created_at as a stored row. Records are already redacted.
        """
        _, writer = self._engines()
        if exchanges and not feedback and writer.dialect.name in ("sqlite", "postgresql"):
            # What the writer sends while visitors chat: a Core transaction,
            # without the ORM session's set-up and teardown (about 0.1 ms a batch).
            rows = [exchange_row(record) for record in exchanges]
            try:
                with writer.begin() as connection:
                    connection.execute(_insert_exchanges_statement(connection.dialect.name), rows)
            except SQLAlchemyError as error:
                raise StorageError(f"writing the chat log failed: {_reason(error)}") from error
            return []
        with self.transaction("writing the chat log", write=True) as session:
            if exchanges:
                _insert_new_exchanges(session, [exchange_row(record) for record in exchanges])
            if not feedback:
                return []
            ids = {record["message_id"] for record in feedback}
            # FOR SHARE on PostgreSQL: a purge running now cannot delete an
            # exchange between this check and the insert.
            known = set(session.scalars(select(ExchangeRow.message_id)
                                        .where(ExchangeRow.message_id.in_(ids)).with_for_update(read=True)))
            stored_query = (select(FeedbackRow.message_id, FeedbackRow.created_at)
                            .where(FeedbackRow.message_id.in_(known)))
            stored = {tuple(row) for row in session.execute(stored_query)}
            new_rows, missing = [], []
            for record in feedback:
                if record["message_id"] not in known:
                    missing.append(record)
                    continue
                row = feedback_row(record)
                if (row["message_id"], row["created_at"]) not in stored:
                    stored.add((row["message_id"], row["created_at"]))
                    new_rows.append(row)
            if new_rows:
                session.connection().execute(insert(FeedbackRow.__table__), new_rows)
            return missing

    def purge(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete exchanges created before `now - older_than`, and their feedback; return how many exchanges."""
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        cutoff = _aware(now or _now(), "now") - older_than
        old = select(ExchangeRow.message_id).where(ExchangeRow.created_at < cutoff)
        bulk = {"synchronize_session": False}  # nothing is loaded in this session
        with self.transaction("purging old exchanges", write=True) as session:
            session.execute(delete(FeedbackRow).where(FeedbackRow.message_id.in_(old)),
                            execution_options=bulk)
            result = session.execute(delete(ExchangeRow).where(ExchangeRow.created_at < cutoff),
                                     execution_options=bulk)
            return result.rowcount

    def ping(self) -> None:
        """Return when the database answers a trivial query; StorageError otherwise."""
        reader, _ = self._engines()
        try:
            with reader.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            raise StorageError(f"database unreachable: {_reason(error)}") from error

    def get_exchange(self, message_id: str) -> Exchange | None:
        """The exchange recorded as `message_id` (redacted, as stored), or None."""
        with self.transaction("reading an exchange") as session:
            row = session.scalar(select(ExchangeRow).where(ExchangeRow.message_id == message_id))
            return None if row is None else _exchange_from_row(row)

    def recent_exchanges(self, limit: int = 50) -> list[Exchange]:
        """The newest `limit` exchanges, newest first."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        query = (select(ExchangeRow)
                 .order_by(ExchangeRow.created_at.desc(), ExchangeRow.id.desc()).limit(limit))
        with self.transaction("reading recent exchanges") as session:
            return [_exchange_from_row(row) for row in session.scalars(query)]

    def feedback_for(self, message_id: str) -> list[Feedback]:
        """The feedback on one exchange, oldest first."""
        query = (select(FeedbackRow).where(FeedbackRow.message_id == message_id)
                 .order_by(FeedbackRow.created_at, FeedbackRow.id))
        with self.transaction("reading feedback") as session:
            return [Feedback(row.message_id, row.helpful, row.comment, row.created_at)
                    for row in session.scalars(query)]

    def dispose(self) -> None:
        """Close this process's pooled connections; the next call opens new ones."""
        with self._lock:
            if self._reader is not None:
                self._reader.dispose(close=self._pid == os.getpid())

    def _engines(self) -> tuple[Engine, Engine]:
        """(reader, writer) of this process: the engine, and the same pool with write transactions."""
        with self._lock:
            if self._pid != os.getpid():
                if self._reader is not None:
                    self._reader.dispose(close=False)  # the parent's connections, not ours to close
                try:
                    self._reader = create_database_engine(self._url, self.timeout, self.statement_timeout)
                except (SQLAlchemyError, ImportError, ValueError) as error:
                    raise StorageError(f"cannot use database {self!r}: {error}") from error
                self._writer = self._reader.execution_options(**WRITE_TRANSACTION)
                self._pid = os.getpid()
            assert self._reader is not None and self._writer is not None
            return self._reader, self._writer

    @contextmanager
    def transaction(self, action: str, write: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed at the end; database errors as StorageError.

        Public so that other stores on the same database (chatbot/staff) share
        the engines, the SQLite write lock and the error wrapping.
        """
        reader, writer = self._engines()
        try:
            with Session(writer if write else reader) as session, session.begin():
                yield session
        except SQLAlchemyError as error:
            raise StorageError(f"{action} failed: {_reason(error)}") from error


# Core tables, not ORM entities, for the chat log's bulk inserts: the ORM's
# per-row bookkeeping cost more than the database's own work (50 us a row).
EXCHANGES = ExchangeRow.__table__


@functools.cache
def _insert_exchanges_statement(dialect: str):
    """INSERT into exchanges skipping a message_id stored already, on SQLite and PostgreSQL; made once
    (building it and its cache key cost about 40 us a batch)."""
    dialect_insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return dialect_insert(EXCHANGES).on_conflict_do_nothing(index_elements=["message_id"])


def _insert_new_exchanges(session: Session, rows: list[dict]) -> None:
    """INSERT the rows, skipping any whose message_id is stored already (one statement)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        session.connection().execute(_insert_exchanges_statement(dialect), rows)
        return
    ids = [row["message_id"] for row in rows]
    present = set(session.scalars(select(ExchangeRow.message_id).where(ExchangeRow.message_id.in_(ids))))
    rows = [row for row in rows if row["message_id"] not in present]
    if rows:
        session.connection().execute(insert(EXCHANGES), rows)


def _exchange_from_row(row: ExchangeRow) -> Exchange:
    return Exchange(row.message_id, row.session_id, row.message, row.kind,
                    tuple(row.passage_ids), tuple(row.scores), row.index_version, row.created_at, row.confidence)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def _reason(error: Exception) -> str:
    """The driver's one-line message, without SQLAlchemy's statement and parameters.

    Parameters hold visitor text: keep them out of error messages and logs.
    """
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"
