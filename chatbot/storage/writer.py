"""The chat log written off the request path: a bounded queue, batched writes, a spool when the database fails.

    writer = ChatLogWriter(Storage(url, timeout=1.0, statement_timeout=5.0), Spool(folder))
    writer.record_exchange(exchange)             # journaled, queued, returns at once
    writer.record_feedback(message_id, True, None)
    writer.status()                              # WriterStatus(database="ok", spooled=0, queued=0)
    writer.flush()                               # tests: wait until all submitted is written or spooled

A request makes its record (redacted: nothing unredacted reaches a disk),
appends it to this process's journal (journal.py: one write call, no fsync;
a worker killed with SIGKILL leaves it whole) and puts it on an in-process
queue. One writer thread per process (started on first use, so again in
every forked gunicorn worker) takes what has queued up and writes it in one
transaction; a record stored or spooled is marked done in the journal, which
then forgets it. Journals of dead processes are replayed like spool files.
The database calls run in a second thread and are waited on for a bounded time:
a database that does not answer at all (a stopped server keeps its TCP
connections open, so no socket timeout fires) stalls that thread only, never
a request nor the writer.

When a write fails or times out, or the queue is full, the records go to the
spool (spool.py), durable on local disk. Once a write works again the spool
files are replayed, the ones of dead workers included. Writes are idempotent
(Storage.store_records), so a record written twice (a timed-out write that
completed after all, a crash during replay) is stored once.

Feedback may come before its exchange is stored (it sat in another worker's
queue, or in a spool during an outage): such feedback waits in memory for
`waiting_grace` seconds, then in the spool, and is dropped, with a warning,
only when its exchange is still missing `feedback_life` seconds after a
working database first missed it.
"""
from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import queue
import threading
import time
from concurrent import futures
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import DataError, IntegrityError

from .journal import Journal, Segment
from .model import Exchange, StorageError
from .records import EXCHANGE, exchange_record, feedback_record, parse_time, utc_now
from .spool import Spool
from .storage import Storage

log = logging.getLogger(__name__)
REJECTED_FILE = "rejected.jsonl"


@dataclass(frozen=True)
class WriterStatus:
    """What health reports: `database` "ok" or "unavailable"; records in the spool and in the queue."""
    database: str
    spooled: int
    queued: int


class _DatabaseThread:
    """Runs one database call at a time in its own daemon thread; callers wait a bounded time.

    A call that does not return keeps this thread (never the caller); until
    it returns, submit() refuses new calls, so calls cannot pile up behind it.
    """

    def __init__(self):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._current: Future | None = None
        self._started_at = 0.0
        threading.Thread(target=self._run, name="chat-log-database", daemon=True).start()

    def submit(self, call, wait: float = 0.0) -> Future | None:
        """A future of `call()`; None when an earlier call is still running after `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                current = self._current
                if current is None or current.done():
                    future: Future = Future()
                    self._current, self._started_at = future, time.monotonic()
                    break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            futures.wait([current], timeout=remaining)
        self._calls.put((call, future))
        return future

    def running(self) -> Future | None:
        """The future of the call running now, if any."""
        with self._lock:
            return self._current if self._current is not None and not self._current.done() else None

    def busy_for(self) -> float:
        """Seconds the running call has taken so far; 0 when idle."""
        with self._lock:
            if self._current is None or self._current.done():
                return 0.0
            return time.monotonic() - self._started_at

    def _run(self) -> None:
        while True:
            call, future = self._calls.get()
            try:
                future.set_result(call())
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(error)


class ChatLogWriter:
    """Exchanges and feedback, queued by requests and written in batches; see the module docstring."""

    def __init__(self, storage: Storage, spool: Spool, journal: Journal | None = None, *,
                 queue_size: int = 10_000, batch_size: int = 500,
                 batch_wait: float = 0.05, write_timeout: float = 2.0, retry_seconds: float = 1.0,
                 ping_seconds: float = 2.0,
                 waiting_grace: float = 30.0, feedback_life: float = 600.0, backlog_limit: int = 100_000):
        self.storage = storage
        self.spool = spool
        self.journal = journal if journal is not None else Journal(spool.folder)
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.write_timeout = write_timeout
        self.retry_seconds = retry_seconds
        self.ping_seconds = ping_seconds
        self.waiting_grace = waiting_grace
        self.feedback_life = feedback_life
        self.backlog_limit = backlog_limit
        self._start_lock = threading.Lock()
        self._ping_lock = threading.Lock()
        self._pid: int | None = None
        self._closed = False

    # -- the request side ------------------------------------------------------

    def record_exchange(self, exchange: Exchange) -> None:
        """Journal and queue `exchange` (give it its created_at); StorageError only when neither
        queue nor spool takes it."""
        self._put(exchange_record(exchange))

    def record_feedback(self, message_id: str, helpful: bool, comment: str | None) -> None:
        """Journal and queue a visitor's verdict; TypeError/ValueError as Storage.record_feedback,
        StorageError as above."""
        # Made (checked and redacted) here, so that a wrong argument is the caller's error.
        self._put(feedback_record(message_id, helpful, comment))

    def status(self, wait: float = 0.5) -> WriterStatus:
        """The database state, never waiting more than `wait` seconds.

        "ok" when the last database call, at most `ping_seconds` ago,
        succeeded and none has been running longer than `wait`. Without a
        result that recent, the call running now (or else a ping) is waited
        on for `wait` seconds: a database that cannot answer by then is
        "unavailable".
        """
        self._ensure_started()
        if not self._fresh():
            # Wait on the call running now (a write or another request's
            # ping), or send one ping: concurrent health checks share it.
            with self._ping_lock:
                running = self._database.running() or self._database.submit(lambda: self._noted(self.storage.ping))
            if running is not None:
                try:
                    running.result(wait)
                except (FutureTimeout, StorageError):
                    pass
        ok = self._database_ok and self._fresh() and self._database.busy_for() <= wait
        return WriterStatus("ok" if ok else "unavailable", self._spooled + len(self._backlog),
                            len(self._items) + len(self._waiting))

    def _fresh(self) -> bool:
        return time.monotonic() - self._checked_at <= self.ping_seconds

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted before is written or spooled, and a replay was tried; False on timeout."""
        self._ensure_started()
        done = threading.Event()
        self._items.append(done)  # past the bound: a flush is not a record
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write or spool what is queued and waiting, stop this process's writer thread and close
        the database connections of its storage (the writer is the storage's only user)."""
        if self._pid != os.getpid() or self._closed:
            return
        self._closed = True
        self.flush(timeout)
        self._stopping.set()
        self._wake.set()  # the thread stops after this
        self._thread.join(timeout)
        waiting, self._waiting = self._waiting, []
        self._spool_records([record for _, record in waiting])
        if self._backlog:
            log.error("chat log: %d record(s) not stored at shutdown: neither the database nor the spool took "
                      "them", len(self._backlog))
        self.journal.close()  # its files are deleted, unless they hold records still pending
        running = self._database.running()  # a health check's ping: its connection is closed below too
        if running is not None:
            futures.wait([running], timeout=timeout)
        self.storage.dispose()  # its connections close now, not whenever they are collected

    # -- the writer thread -----------------------------------------------------

    def _ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # After a fork only the forking thread exists in the child: the
            # parent's threads, queue and its locks are not ours to use.
            # A deque and an event rather than queue.Queue: appending costs a
            # request well under a microsecond and wakes the writer only when
            # it was idle, not once per record.
            self._items: collections.deque = collections.deque()
            self._wake = threading.Event()
            self._waiting: list[tuple[float, dict]] = []   # (since, feedback record) without its exchange yet
            self._backlog: list[dict] = []                 # records neither the database nor the spool took
            # Records taken from the queue and not yet stored or spooled, by
            # id(record): (record, its journal segment).
            self._journaled: dict[int, tuple[dict, Segment]] = {}
            self._journal_failing = False
            self._database = _DatabaseThread()
            self._database_ok = True
            self._checked_at = float("-inf")
            self._spooled = self._count_kept()
            self._next_maintenance = 0.0
            self._taken_at = float("-inf")  # when the last batch was taken from the queue
            self._stopping = threading.Event()
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="chat-log-writer", daemon=True)
            self._thread.start()
            self._pid = os.getpid()
            atexit.register(self.close)

    def _put(self, record: dict) -> None:
        self._ensure_started()
        if len(self._items) >= self.queue_size:
            # The writer cannot keep up (the database is slow): keep the record
            # durably from this thread rather than drop it or wait.
            try:
                self.spool.append([record])
            except OSError as error:
                raise StorageError(f"chat log queue full and spool unusable: {error}") from error
            return
        self._items.append((record, self._journal(record)))
        if not self._wake.is_set():
            self._wake.set()

    def _journal(self, record: dict) -> Segment | None:
        """Append `record` to the journal; None when the journal fails (the record is still queued,
        as before the journal existed: only a kill of this process could lose it)."""
        try:
            segment = self.journal.append(record)
        except OSError as error:
            if not self._journal_failing:  # said once, not once per request
                log.error("chat log journal %s unusable (%s): records are kept in memory until written",
                          self.journal.folder, error)
            self._journal_failing = True
            return None
        self._journal_failing = False
        return segment

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._cycle()
            except Exception:  # noqa: BLE001 - the writer must outlive any one bad batch
                log.exception("chat log writer: unexpected error")
                time.sleep(self.retry_seconds)

    def _cycle(self) -> None:
        items = self._take()
        flushes = [item for item in items if isinstance(item, threading.Event)]
        entries = [item for item in items if not isinstance(item, threading.Event)]
        self._journaled.update((id(record), (record, segment)) for record, segment in entries if segment)
        if entries:
            self._write_or_spool([record for record, _ in entries])
        if flushes or time.monotonic() >= self._next_maintenance:
            self._maintain()
            self._next_maintenance = time.monotonic() + self.retry_seconds
        self.journal.tidy()
        for done in flushes:
            done.set()

    def _take(self) -> list:
        """What is queued, up to a batch: waits for the first record until the next maintenance is due;
        a batch is then taken `batch_wait` seconds after the first record arrived to an idle writer, or
        after the previous batch was taken, whichever is later, so that a busy server writes many records
        per transaction (a flush, a full batch or stopping does not wait)."""
        gather_until = self._taken_at + self.batch_wait
        if not self._items:
            self._wake.wait(max(0.01, self._next_maintenance - time.monotonic()))
            self._wake.clear()
            if not self._items:
                return []
            gather_until = time.monotonic() + self.batch_wait
        # Without this wait a busy writer took whatever arrived while it wrote
        # the previous batch: 11 records a transaction on the server at 550
        # chats/s a worker, where each transaction costs about 0.3 ms of CPU.
        pause = gather_until - time.monotonic()
        if (pause > 0 and len(self._items) < self.batch_size and not self._stopping.is_set()
                and not isinstance(self._items[-1], threading.Event)):
            time.sleep(pause)
        self._taken_at = time.monotonic()
        items = []
        while self._items and len(items) < self.batch_size:
            items.append(self._items.popleft())
            if isinstance(items[-1], threading.Event):
                break
        return items

    def _write_or_spool(self, records: list[dict]) -> None:
        if self._database_ok:
            try:
                missing = self._store(records)
            except StorageError:
                pass
            else:
                now = time.monotonic()
                self._waiting.extend((now, record) for record in missing)
                self._settle(records, but=missing)
                return
        self._spool_records(records)

    def _settle(self, records: list[dict], but: list[dict] = ()) -> None:
        """`records` (except `but`) are stored or spooled: their journal lines are no longer needed."""
        keep = {id(record) for record in but}
        segments = [self._journaled.pop(id(record), (None, None))[1] for record in records
                    if id(record) not in keep]
        self.journal.done(segment for segment in segments if segment is not None)

    def _maintain(self) -> None:
        """Every `retry_seconds`: retry waiting feedback, then the spool files, then recount the spool."""
        if self._backlog:
            backlog, self._backlog = self._backlog, []
            self._spool_records(backlog)
        if not self._database_ok and self._database.busy_for() == 0.0:
            self._probe()
        if self._database_ok and self._waiting:
            self._retry_waiting()
        self._replay("journal", self._replay_journals)
        if self._database_ok and self.spool.has_files():
            self._replay("spool", lambda: self.spool.replay(self._store_replayed, self.batch_size))
        self._spooled = self._count_kept()

    def _replay_journals(self) -> None:
        """Store dead processes' journals (before the spool: their feedback may go there). When the
        database cannot take them, move them to the spool as they are: fsynced there, not just cached."""
        if self._database_ok:
            try:
                self.journal.replay(self._store_replayed, self.spool.append, self.batch_size)
                return
            except StorageError:
                pass
        self.journal.replay(list, self.spool.append, self.batch_size)

    def _replay(self, what: str, replay) -> None:
        try:
            replay()
        except StorageError:
            pass  # the file stays; tried again next time
        except OSError as error:
            log.error("chat log %s cannot be replayed: %s", what, error)

    def _count_kept(self) -> int:
        """Records waiting on disk for the database: in the spool, and in journals of dead processes."""
        return (self.spool.count() if self.spool.has_files() else 0) + self.journal.orphaned()

    def _retry_waiting(self) -> None:
        """Store waiting feedback whose exchange has arrived; spool what waited longer than the grace."""
        waiting, self._waiting = self._waiting, []
        records = [record for _, record in waiting]
        try:
            missing = {id(record) for record in self._call(lambda: self.storage.store_records([], records))}
        except StorageError:
            missing = {id(record) for record in records}
        self._settle([record for record in records if id(record) not in missing])
        cutoff = time.monotonic() - self.waiting_grace
        still = [(since, record) for since, record in waiting if id(record) in missing]
        self._waiting = [(since, record) for since, record in still if since > cutoff]
        self._spool_records([record for since, record in still if since <= cutoff])

    def _store(self, records: list[dict]) -> list[dict]:
        exchanges = [record for record in records if record["type"] == EXCHANGE]
        feedback = [record for record in records if record["type"] != EXCHANGE]
        return self._call(lambda: self.storage.store_records(exchanges, feedback))

    def _reject(self, record: dict, error: StorageError) -> None:
        """Keep a record the database refuses in `rejected.jsonl` beside the spool (never replayed), and say so."""
        log.error("chat log: the database refuses the %s %s (%s); kept in %s", record["type"],
                  record["message_id"], error, self.spool.folder / REJECTED_FILE)
        try:
            with open(self.spool.folder / REJECTED_FILE, "a", encoding="ascii") as rejected:
                rejected.write(json.dumps(record) + "\n")
                rejected.flush()
                os.fsync(rejected.fileno())
        except OSError as write_error:
            log.error("chat log: %s cannot be written (%s); the record is lost", REJECTED_FILE, write_error)

    def _probe(self) -> None:
        try:
            self._call(self.storage.ping)
        except StorageError:
            pass

    def _store_replayed(self, records: list[dict]) -> list[dict]:
        """Replay's write: store the records; the feedback still without its exchange, unless too old."""
        try:
            missing = self._store(records)
        except StorageError as error:
            if not _refused(error):
                raise  # the database is down or busy: the file stays for the next try
            # The database works but refuses something in this chunk: find it,
            # one record at a time, and set it aside so it cannot block the rest.
            missing = []
            for record in records:
                try:
                    missing.extend(self._store([record]))
                except StorageError as record_error:
                    if not _refused(record_error):
                        raise
                    self._reject(record, record_error)
        keep, now = [], utc_now()
        for record in missing:
            since = parse_time(record["missing_since"]) if record.get("missing_since") else now
            if now - since > timedelta(seconds=self.feedback_life):
                log.warning("feedback on %s dropped: its exchange was never stored", record["message_id"])
                continue
            keep.append({**record, "missing_since": since.isoformat()})
        return keep

    def _call(self, call):
        """`call()` in the database thread, waited on for `write_timeout`; StorageError when it fails or times out."""
        future = self._database.submit(lambda: self._noted(call), wait=self.write_timeout)
        if future is None:
            self._note_failure("the database has not answered an earlier call")
            raise StorageError("database busy with an earlier call")
        try:
            return future.result(self.write_timeout)
        except FutureTimeout:
            self._note_failure(f"no answer within {self.write_timeout:g} s")
            raise StorageError("database did not answer in time") from None

    def _noted(self, call):
        """Run `call()` (in the database thread) and note its outcome before anyone waiting sees it."""
        try:
            result = call()
        except StorageError as error:
            self._note_failure(str(error))
            raise
        self._note_success()
        return result

    def _note_success(self) -> None:
        if not self._database_ok:
            log.info("chat log: the database works again; replaying the spool")
        self._database_ok, self._checked_at = True, time.monotonic()

    def _note_failure(self, reason: str) -> None:
        if self._database_ok:  # said once per outage, not once per batch
            log.warning("chat log: database unavailable (%s); keeping records in the spool %s",
                        reason, self.spool.folder)
        self._database_ok, self._checked_at = False, time.monotonic()

    def _spool_records(self, records: list[dict]) -> None:
        if not records:
            return
        try:
            self.spool.append(records)
            self._spooled += len(records)
            self._settle(records)
        except OSError as error:
            room = self.backlog_limit - len(self._backlog)
            if room < len(records):
                log.error("chat log: %d record(s) lost: the spool fails (%s) and the backlog is full",
                          len(records) - max(room, 0), error)
            self._backlog.extend(records[:max(room, 0)])


def _refused(error: StorageError) -> bool:
    """True when the database answered but refused the data (not when it is down, locked or slow)."""
    return isinstance(error.__cause__, (DataError, IntegrityError))

