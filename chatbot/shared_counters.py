"""Rate-limit counters that every worker of one server shares: a `limits` storage on a SQLite file.

Flask-Limiter's memory storage counts per worker, so with 2 workers a limit of
30/minute let 60 through. This storage keeps the counters in one SQLite file
(WAL, so readers never wait on the writer) that every worker process opens;
each hit is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in its own
transaction, atomic across processes. Several servers need a shared store:
set CHATBOT_REDIS_URL instead.

URI: ``chatbot+sqlite:///absolute/path/rate_limits.sqlite``. Only the
fixed-window strategy (Flask-Limiter's default) is supported.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from urllib.parse import unquote, urlparse

from limits.storage import Storage

from .storage.engine import use_write_ahead_log

SCHEME = "chatbot+sqlite"
# A writer holds the file for microseconds; waiting longer than this means
# something is wrong, and Flask-Limiter then falls back to per-worker counts.
BUSY_TIMEOUT_SECONDS = 1.0
# Expired counters are deleted now and then, not on every hit.
PURGE_EVERY_HITS = 1000

SCHEMA = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID"""

# SET expressions read the row as it was before the update, so both CASEs see
# the old expires_at: an expired window starts again at `amount`.
INCREMENT = """INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :expires_at ELSE expires_at END
RETURNING count"""


def storage_uri(path: Path) -> str:
    """The storage URI of the counters file at `path`."""
    return f"{SCHEME}://{Path(path).resolve()}"


class ProcessConnection:
    """This process's one connection to a counters file, never open across a fork.

    SQLite keeps each file's lock state in process-wide memory, keyed by the
    file's inode. A child forked while a connection is open inherits that
    memory: its own new connection to the file believes it holds the shared
    lock on the WAL index that only the parent really holds. Once the parent
    lets go, a worker that closes sees no other holder, takes itself for the
    last user, checkpoints and deletes the WAL; the other worker goes on
    writing into the deleted file and its hits are lost without an error.
    (Python's sqlite3 connections sit in a reference cycle, so dropping the
    storage did not close its connection either: it stayed open until the
    garbage collector ran.) So the connection is closed before every fork and
    as soon as its storage is freed, and every use holds `lock`, which the
    fork hook takes first (no statement is cut in half).
    """

    def __init__(self, path: Path, journal_mode: str, synchronous: str):
        self.path, self.journal_mode, self.synchronous = path, journal_mode, synchronous
        self.lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        _OPEN_BEFORE_FORK.add(self)

    def execute(self, sql: str, parameters=()) -> list[tuple]:
        """Runs one statement in its own transaction; its rows. sqlite3.Error propagates."""
        with self.lock:
            if self._connection is None:
                self._connection = self._open()
            return self._connection.execute(sql, parameters).fetchall()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the threads of a worker share it under `lock`, and the
        # fork hook closes it from whichever thread forks.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                     check_same_thread=False)
        try:
            # Retried: SQLite refuses a switch to WAL that races another worker's at once, without
            # its busy wait; two workers opening a fresh file together lost the hit (Flask-Limiter
            # then counted in each worker's memory: 55 of 90 chats through a 30 limit).
            if self.journal_mode.upper() == "WAL":
                use_write_ahead_log(connection, BUSY_TIMEOUT_SECONDS)
            else:  # bench/bench_limits.py measures the other modes
                connection.execute(f"PRAGMA journal_mode={self.journal_mode}")
            connection.execute(f"PRAGMA synchronous={self.synchronous}")
            connection.execute(SCHEMA)
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def close_locked(self) -> None:
        """Closes the connection (reopened on next use); the caller holds `lock`."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        with self.lock:
            self.close_locked()


_OPEN_BEFORE_FORK: weakref.WeakSet[ProcessConnection] = weakref.WeakSet()
_HELD_DURING_FORK: list[ProcessConnection] = []


def _close_all_before_fork() -> None:
    for holder in list(_OPEN_BEFORE_FORK):
        holder.lock.acquire()
        _HELD_DURING_FORK.append(holder)
        holder.close_locked()


def _release_after_fork() -> None:
    while _HELD_DURING_FORK:
        _HELD_DURING_FORK.pop().lock.release()


os.register_at_fork(before=_close_all_before_fork, after_in_parent=_release_after_fork,
                    after_in_child=_release_after_fork)


class SharedCounterStorage(Storage):
    """Fixed-window counters in a SQLite file, shared by the processes that open it.

    Each process has one connection, opened lazily and closed before a fork
    (`ProcessConnection`): gunicorn's master may open it, its workers never
    inherit it. A hit that the file cannot count raises sqlite3.Error (Flask-
    Limiter then counts in the worker's memory); it is never dropped silently.
    """

    STORAGE_SCHEME = [SCHEME]
    # WAL: readers never wait on the writer. Counters need no durability: losing
    # the last hits in a power cut is harmless, so no fsync per hit.
    JOURNAL_MODE = "WAL"
    SYNCHRONOUS = "OFF"

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(unquote(urlparse(uri).path))
        self._file = ProcessConnection(self.path, self.JOURNAL_MODE, self.SYNCHRONOUS)
        # Closed when this storage is freed, not whenever the garbage collector gets to it.
        weakref.finalize(self, self._file.close)
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        self._hits += 1
        if self._hits % PURGE_EVERY_HITS == 0:
            self._file.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        [(count,)] = self._file.execute(INCREMENT, {"key": key, "amount": amount, "now": now,
                                                    "expires_at": now + expiry})
        return int(count)

    def get(self, key: str) -> int:
        rows = self._file.execute("SELECT count FROM counters WHERE key = ? AND expires_at > ?",
                                  (key, time.time()))
        return int(rows[0][0]) if rows else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        rows = self._file.execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                  (key, now))
        return float(rows[0][0]) if rows else now

    def check(self) -> bool:
        try:
            self._file.execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return len(self._file.execute("DELETE FROM counters RETURNING 1"))

    def clear(self, key: str) -> None:
        self._file.execute("DELETE FROM counters WHERE key = ?", (key,))
