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
from pathlib import Path
from urllib.parse import unquote, urlparse

from limits.storage import Storage

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


class SharedCounterStorage(Storage):
    """Fixed-window counters in a SQLite file, shared by the processes that open it.

    Connections are opened lazily, one per process and thread: a connection
    made in gunicorn's master before the fork is never used by a worker.
    """

    STORAGE_SCHEME = [SCHEME]
    # WAL: readers never wait on the writer. Counters need no durability: losing
    # the last hits in a power cut is harmless, so no fsync per hit.
    JOURNAL_MODE = "WAL"
    SYNCHRONOUS = "OFF"

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(unquote(urlparse(uri).path))
        self._local = threading.local()
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                         isolation_level=None)
            connection.execute(f"PRAGMA journal_mode={self.JOURNAL_MODE}")
            connection.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            connection.execute(SCHEMA)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        self._hits += 1
        connection = self._connection()
        if self._hits % PURGE_EVERY_HITS == 0:
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        row = connection.execute(INCREMENT, {"key": key, "amount": amount, "now": now,
                                             "expires_at": now + expiry}).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        row = self._connection().execute("SELECT count FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, now)).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
