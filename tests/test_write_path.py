"""The chat log off the request path: queue, batches, spool, replay, signed message ids, bounded faults.

Fault tests are bounded in time and requests and talk only to 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from chatbot import close_app, create_app
from chatbot.storage import Exchange, Storage, StorageError
from chatbot.storage.message_ids import MessageIds
from chatbot.storage.records import exchange_record, feedback_record
from chatbot.storage.spool import Spool
from chatbot.storage.writer import ChatLogWriter, WriterStatus

REPO_ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Are acupuncture needles sterile?"
POSTGRES_URL = os.environ.get("CHATBOT_TEST_POSTGRES_URL")


def exchange(message_id: str, message: str = "Do the needles hurt?") -> Exchange:
    return Exchange(message_id, "session-1", message, "answer", ("p1",), (0.5,), "v1",
                    datetime.now(timezone.utc))


def wait_until(condition, seconds: float = 15.0, step: float = 0.05) -> bool:
    """Poll `condition()` until it is true or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


@pytest.fixture
def make_app(tmp_path, shared_index_dir):
    """Factory: an app over the shared index with its own database URL and spool; writers closed after."""
    made = []

    def make(database_url: str | None = None):
        app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                          "CHATBOT_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'chatbot.db'}",
                          "CHATBOT_SPOOL_DIR": str(tmp_path / "spool"), "CHATBOT_LOG_LEVEL": "WARNING"})
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


def timed_post(client, path: str, body: dict):
    started = time.monotonic()
    response = client.post(path, json=body)
    return response, time.monotonic() - started


def stored_ids(storage: Storage) -> set[str]:
    return {item.message_id for item in storage.recent_exchanges(10_000)}


# -- signed message ids ---------------------------------------------------------

def test_message_ids_are_told_apart_from_made_up_and_tampered_ones():
    ids = MessageIds("key one")
    real = ids.new()
    assert len(real) == 48 and ids.is_genuine(real)
    assert real != ids.new()
    tampered = real[:-1] + ("0" if real[-1] != "0" else "1")
    swapped = ("f" if real[0] != "f" else "e") + real[1:]
    for fake in (tampered, swapped, "0" * 48, real[:32], real + "0", ""):
        assert not ids.is_genuine(fake)
    assert not MessageIds("key two").is_genuine(real)
    assert MessageIds("key one").is_genuine(real)  # any server with the same key


def test_feedback_on_a_made_up_id_is_404_and_on_a_real_one_204(make_app):
    app = make_app()
    client = app.test_client()
    message_id = client.post("/api/chat", json={"message": QUESTION}).get_json()["message_id"]
    made_up = "a" * 48
    assert client.post("/api/feedback", json={"message_id": made_up, "helpful": True}).status_code == 404
    assert client.post("/api/feedback", json={"message_id": message_id, "helpful": False,
                                              "comment": "mail me at jane@example.org"}).status_code == 204
    assert app.extensions["chatbot_chat_log"].flush()
    storage = app.extensions["chatbot"].storage
    assert storage.get_exchange(message_id) is not None
    [feedback] = storage.feedback_for(message_id)
    assert feedback.helpful is False and "jane@example.org" not in feedback.comment
    assert storage.feedback_for(made_up) == []


# -- storage: idempotent batches -------------------------------------------------

def test_storing_the_same_records_twice_stores_each_once(storage, raw):
    records = [exchange_record(exchange("m1")), exchange_record(exchange("m2"))]
    feedback = [feedback_record("m1", True, "good"), feedback_record("gone", True, None)]
    assert storage.store_records(records, feedback) == [feedback[1]]
    assert storage.store_records(records, feedback) == [feedback[1]]  # a replay after a crash
    assert raw("SELECT COUNT(*) FROM exchanges") == [(2,)]
    assert raw("SELECT COUNT(*) FROM feedback") == [(1,)]


def test_records_hold_the_redacted_text_only():
    record = exchange_record(exchange("m1", message="Call me on (206) 496-0630 please"))
    assert "496-0630" not in json.dumps(record)


# -- the spool ---------------------------------------------------------------------

def test_spool_keeps_records_across_processes_and_ignores_a_torn_last_line(tmp_path):
    folder = tmp_path / "spool"
    # A "worker" appends two records and dies without cleaning up; its last append was torn.
    script = ("import sys; from chatbot.storage.spool import Spool; from chatbot.storage.records import "
              "exchange_record; from chatbot.storage import Exchange; from datetime import datetime, timezone; "
              "spool = Spool(sys.argv[1]); now = datetime.now(timezone.utc); "
              "spool.append([exchange_record(Exchange(f'dead{i}', None, 'q', 'answer', (), (), 'v1', now)) "
              "for i in range(2)]); "
              "open(spool._path, 'ab').write(b'{\"type\": \"exchange\", \"message_id\": \"tor'); "
              "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    process = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=REPO_ROOT, timeout=60)
    assert process.returncode == -signal.SIGKILL
    [left] = list(folder.glob("spool-*.jsonl"))
    spool = Spool(folder)
    spool.append([exchange_record(exchange("mine"))])
    assert spool.count() == 3  # the dead worker's two whole records and ours; not the torn line
    seen: list[str] = []
    assert spool.replay(lambda records: seen.extend(r["message_id"] for r in records) or []) == 3
    assert sorted(seen) == ["dead0", "dead1", "mine"]
    assert not left.exists() and spool.count() == 0 and not spool.has_files()


def test_spool_file_of_a_live_process_is_left_to_it(tmp_path):
    folder = tmp_path / "spool"
    script = ("import sys, time; from chatbot.storage.spool import Spool; from chatbot.storage.records import "
              "feedback_record; spool = Spool(sys.argv[1]); spool.append([feedback_record('x', True, None)]); "
              "print('ready', flush=True); sys.stdin.readline()")
    with subprocess.Popen([sys.executable, "-c", script, str(folder)], cwd=REPO_ROOT, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as live:
        try:
            assert live.stdout.readline().strip() == "ready"
            assert Spool(folder).replay(lambda records: []) == 0  # locked by its live owner
            assert Spool(folder).count() == 1
        finally:
            live.stdin.write("\n")
            live.stdin.close()
            live.wait(timeout=30)
    assert Spool(folder).replay(lambda records: []) == 1  # its owner is gone


def test_failed_replay_keeps_the_file(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append([exchange_record(exchange("m1"))])

    def fail(records):
        raise OSError("database down")

    with pytest.raises(OSError):
        spool.replay(fail)
    assert spool.count() == 1
    assert spool.replay(lambda records: []) == 1


# -- the writer ------------------------------------------------------------------

def test_writer_writes_in_the_background_and_flush_waits_for_it(tmp_path, make_storage):
    storage = make_storage(f"sqlite:///{tmp_path / 'chatbot.db'}")
    storage.migrate()
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"))
    try:
        for number in range(50):
            writer.record_exchange(exchange(f"m{number}"))
        writer.record_feedback("m7", True, None)
        assert writer.flush()
        assert len(stored_ids(storage)) == 50 and len(storage.feedback_for("m7")) == 1
        assert writer.status() == WriterStatus("ok", spooled=0, queued=0)
    finally:
        writer.close()


def test_writer_spools_when_the_database_fails_and_writes_everything_once_it_is_back(tmp_path, make_storage):
    path = tmp_path / "chatbot.db"
    storage = make_storage(f"sqlite:///{path}", timeout=0.2)
    storage.migrate()
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"), retry_seconds=0.1, write_timeout=1.0)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        writer.record_exchange(exchange("during"))
        writer.record_feedback("during", False, None)
        assert writer.flush()
        assert writer.status().spooled == 2 and writer.status().database == "unavailable"
        holder.execute("ROLLBACK")
        assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
        assert stored_ids(storage) == {"during"} and len(storage.feedback_for("during")) == 1
    finally:
        holder.close()
        writer.close()


def test_feedback_waits_for_its_exchange_and_is_dropped_only_after_its_life(tmp_path, make_storage):
    storage = make_storage(f"sqlite:///{tmp_path / 'chatbot.db'}")
    storage.migrate()
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"), retry_seconds=0.05, waiting_grace=0.0,
                           feedback_life=0.5)
    try:
        writer.record_feedback("early", True, None)       # its exchange comes later (another worker)
        writer.record_feedback("never", True, None)       # its exchange never comes (purged)
        assert writer.flush()
        storage.store_records([exchange_record(exchange("early"))], [])
        assert wait_until(lambda: len(storage.feedback_for("early")) == 1)
        assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
        assert storage.feedback_for("never") == []
    finally:
        writer.close()


class StalledStorage:
    """A database whose writes hang until `gate` is set (as a stopped server's would)."""

    def __init__(self):
        self.gate = threading.Event()
        self.stored: set[str] = set()

    def store_records(self, exchanges, feedback):
        self.gate.wait(30)
        self.stored.update(record["message_id"] for record in exchanges)
        return []

    def dispose(self):
        """No connections to close."""

    def ping(self):
        self.gate.wait(30)


def test_a_full_queue_spools_in_the_caller_instead_of_waiting(tmp_path):
    storage = StalledStorage()
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"), queue_size=2, batch_wait=0.0,
                           write_timeout=0.2, retry_seconds=0.1)
    try:
        started = time.monotonic()
        for number in range(20):
            writer.record_exchange(exchange(f"m{number}"))
        assert time.monotonic() - started < 1.0
        assert wait_until(lambda: writer.status(wait=0.1).spooled > 0, seconds=5)
        storage.gate.set()
        assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
        assert storage.stored == {f"m{number}" for number in range(20)}
    finally:
        storage.gate.set()
        writer.close()


class PickyStorage:
    """A working database that refuses one exchange, as PostgreSQL refuses a value it cannot store."""

    def __init__(self, storage: Storage):
        self.storage = storage

    def store_records(self, exchanges, feedback):
        if any(record["message_id"] == "refused" for record in exchanges):
            try:
                raise IntegrityError("INSERT INTO exchanges ...", {}, Exception("value not allowed"))
            except IntegrityError as error:
                raise StorageError("writing the chat log failed: value not allowed") from error
        return self.storage.store_records(exchanges, feedback)

    def dispose(self):
        self.storage.dispose()

    def ping(self):
        self.storage.ping()


def test_a_record_the_database_refuses_is_set_aside_and_the_rest_stored(tmp_path, make_storage):
    storage = make_storage(f"sqlite:///{tmp_path / 'chatbot.db'}")
    storage.migrate()
    writer = ChatLogWriter(PickyStorage(storage), Spool(tmp_path / "spool"), retry_seconds=0.05)
    try:
        for message_id in ("before", "refused", "after"):
            writer.record_exchange(exchange(message_id))
        assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
        assert stored_ids(storage) == {"before", "after"}
        [rejected] = (tmp_path / "spool" / "rejected.jsonl").read_text().splitlines()
        assert json.loads(rejected)["message_id"] == "refused"
    finally:
        writer.close()


def test_close_spools_what_the_database_cannot_take(tmp_path, make_storage):
    storage = make_storage(f"sqlite:///{tmp_path / 'missing' / 'chatbot.db'}")
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"))
    writer.record_exchange(exchange("last"))
    writer.close()
    assert Spool(tmp_path / "spool").count() == 1


# -- the app under database faults ----------------------------------------------------

def test_sqlite_locked_for_seconds_chat_answers_fast_and_every_exchange_is_stored(make_app, tmp_path):
    app = make_app()
    client = app.test_client()
    client.post("/api/chat", json={"message": "warm up"})
    holder = sqlite3.connect(tmp_path / "chatbot.db", isolation_level=None)
    ids, slowest = [], 0.0
    try:
        holder.execute("BEGIN EXCLUSIVE")
        locked_until = time.monotonic() + 3.0
        while time.monotonic() < locked_until:
            response, seconds = timed_post(client, "/api/chat", {"message": QUESTION})
            assert response.status_code == 200
            ids.append(response.get_json()["message_id"])
            slowest = max(slowest, seconds)
            time.sleep(0.05)
        started = time.monotonic()
        health = client.get("/api/health").get_json()
        assert time.monotonic() - started < 1.0
        assert health["status"] == "degraded"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert slowest < 1.0, f"a chat took {slowest:.2f} s while the database was locked"
    assert len(ids) >= 10
    writer = app.extensions["chatbot_chat_log"]
    assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
    assert set(ids) <= stored_ids(app.extensions["chatbot"].storage)
    assert client.get("/api/health").get_json()["status"] == "ok"


def test_sqlite_file_replaced_spools_then_recovers_with_feedback_made_during_the_outage(make_app, tmp_path):
    app = make_app()
    client = app.test_client()
    before = client.post("/api/chat", json={"message": QUESTION}).get_json()["message_id"]
    writer = app.extensions["chatbot_chat_log"]
    assert writer.flush()
    # The file is moved away with its write-ahead log (as a restore would) and
    # something SQLite cannot write takes its place; the writer's pooled
    # connection still has the old file open and must not keep writing there.
    files = [tmp_path / f"chatbot.db{suffix}" for suffix in ("", "-wal", "-shm")]
    for file in files:
        os.replace(file, file.with_name("saved-" + file.name))
    files[0].write_bytes(b"this is not a database, it is an unwritable stand-in " * 100)
    try:
        during = [client.post("/api/chat", json={"message": QUESTION}).get_json()["message_id"] for _ in range(5)]
        feedback = client.post("/api/feedback", json={"message_id": during[0], "helpful": True})
        assert feedback.status_code == 204
        assert writer.flush()
        health = client.get("/api/health").get_json()
        assert health["status"] == "degraded" and health["spool"] >= 6
    finally:
        for file in files:
            os.replace(file.with_name("saved-" + file.name), file)
    assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
    storage = app.extensions["chatbot"].storage
    assert {before, *during} <= stored_ids(storage)
    assert [item.helpful for item in storage.feedback_for(during[0])] == [True]
    made_up = "b" * 48
    assert client.post("/api/feedback", json={"message_id": made_up, "helpful": True}).status_code == 404


def test_spool_left_by_a_dead_worker_is_replayed_by_the_next_process(make_app, tmp_path):
    folder = tmp_path / "spool"
    script = ("import sys; from chatbot.storage.spool import Spool; from chatbot.storage.records import "
              "exchange_record; from chatbot.storage import Exchange; from datetime import datetime, timezone; "
              "now = datetime.now(timezone.utc); Spool(sys.argv[1]).append([exchange_record(Exchange("
              "f'from-dead-{i}', None, 'q', 'answer', (), (), 'v1', now)) for i in range(3)]); "
              "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", script, str(folder)], cwd=REPO_ROOT, timeout=60)
    app = make_app()
    client = app.test_client()
    assert client.get("/api/health").get_json()["spool"] == 3
    writer = app.extensions["chatbot_chat_log"]
    assert wait_until(lambda: writer.flush() and writer.status().spooled == 0)
    assert {"from-dead-0", "from-dead-1", "from-dead-2"} <= stored_ids(app.extensions["chatbot"].storage)
    assert not list(folder.glob("spool-*.jsonl"))


# -- a hung PostgreSQL ----------------------------------------------------------------

class FreezableProxy:
    """A loopback TCP proxy that can stop passing bytes, keeping every connection open.

    Frozen, it behaves like a PostgreSQL server stopped with SIGSTOP: new
    connections are accepted by the kernel and never answered, and queries on
    open connections get no reply; no socket timeout fires on the client.
    With `target=None` it is a server that accepts and never answers.
    """

    def __init__(self, target: tuple[str, int] | None):
        self.target = target
        self.running = threading.Event()
        self.running.set()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def freeze(self):
        self.running.clear()

    def thaw(self):
        self.running.set()

    def close(self):
        self._stop.set()
        self.running.set()
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def _accept(self):
        accepted = []
        try:
            while not self._stop.is_set():
                try:
                    client, _ = self._listener.accept()
                except TimeoutError:
                    continue
                accepted.append(client)
                if self.target is not None:
                    thread = threading.Thread(target=self._pump, args=(client,), daemon=True)
                    self._threads.append(thread)
                    thread.start()
        finally:
            for client in accepted:
                client.close()

    def _pump(self, client: socket.socket):
        self.running.wait()
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            return
        pairs = {client: upstream, upstream: client}
        # A selector, not select.select: that refuses descriptors above 1024,
        # which a long test process (memory-mapped indexes hold theirs) passes.
        selector = selectors.DefaultSelector()
        for sock in pairs:
            selector.register(sock, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                if not self.running.is_set():
                    self.running.wait(0.05)
                    continue
                for key, _ in selector.select(0.05):
                    sock = key.fileobj
                    data = sock.recv(65536)
                    if not data:
                        return
                    pairs[sock].sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            upstream.close()


@contextmanager
def proxy_to(target):
    proxy = FreezableProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


def test_a_postgresql_server_that_never_answers_leaves_chat_and_health_fast(make_app):
    with proxy_to(None) as silent:
        app = make_app(f"postgresql+psycopg://chatbot:secret@127.0.0.1:{silent.port}/chatbot")
        client = app.test_client()
        for _ in range(5):
            response, seconds = timed_post(client, "/api/chat", {"message": QUESTION})
            assert response.status_code == 200 and seconds < 1.0
        started = time.monotonic()
        health = client.get("/api/health").get_json()
        assert time.monotonic() - started < 1.0
        assert health["status"] == "degraded" and health["database"] == "unavailable"


@pytest.mark.skipif(not POSTGRES_URL, reason="set CHATBOT_TEST_POSTGRES_URL to test a stopped PostgreSQL")
def test_postgresql_frozen_then_resumed_loses_nothing(make_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    url = make_url(database_url)
    with proxy_to((url.host, url.port or 5432)) as proxy:
        app = make_app(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        chat_through_an_outage(app, stop=proxy.freeze, resume=proxy.thaw)


@pytest.mark.skipif(not POSTGRES_URL, reason="set CHATBOT_TEST_POSTGRES_URL to test a stopped PostgreSQL")
def test_postgresql_stopped_with_sigstop_then_resumed_loses_nothing(make_app, database_url, raw):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    postmaster = find_postmaster(raw)
    app = make_app(database_url)
    stopped: list[int] = []

    def stop():
        # The whole server, the backends of the app's pooled connections included.
        stopped.extend([postmaster, *(int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
                                      if _parent_of(stat) == postmaster)])
        signal_all(stopped, signal.SIGSTOP)

    chat_through_an_outage(app, stop=stop, resume=lambda: signal_all(stopped, signal.SIGCONT))


def signal_all(pids: list[int], signal_number: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:  # a backend that ended meanwhile
            pass


def find_postmaster(raw) -> int:
    """The PostgreSQL server's main process, the parent of our backend; skips when it cannot be signalled."""
    [(backend,)] = raw("SELECT pg_backend_pid()")
    try:
        postmaster = _parent_of(Path(f"/proc/{backend}/stat"))
        if postmaster is None or b"postgres" not in Path(f"/proc/{postmaster}/cmdline").read_bytes():
            pytest.skip("the PostgreSQL backend is not a local process with a postmaster parent")
        os.kill(postmaster, 0)  # may we signal it?
    except OSError:
        pytest.skip("the PostgreSQL server is not a local process this test may signal")
    return postmaster


def _parent_of(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def chat_through_an_outage(app, stop, resume) -> None:
    """Chat for 4 s while the database is stopped: every chat within 1 s, health within 1 s, and
    every exchange and the feedback made meanwhile stored after `resume()`."""
    client = app.test_client()
    before = client.post("/api/chat", json={"message": QUESTION}).get_json()["message_id"]
    writer = app.extensions["chatbot_chat_log"]
    assert writer.flush()
    during, slowest = [], 0.0
    try:
        stop()
        stopped_until = time.monotonic() + 4.0
        while time.monotonic() < stopped_until:
            response, seconds = timed_post(client, "/api/chat", {"message": QUESTION})
            during.append(response.get_json()["message_id"])
            slowest = max(slowest, seconds)
            time.sleep(0.05)
        feedback, seconds = timed_post(client, "/api/feedback", {"message_id": during[0], "helpful": False})
        assert feedback.status_code == 204 and seconds < 1.0
        started = time.monotonic()
        health = client.get("/api/health").get_json()
        assert time.monotonic() - started < 1.0 and health["status"] == "degraded"
    finally:
        resume()
    assert slowest < 1.0, f"a chat took {slowest:.2f} s while the database was stopped"
    assert wait_until(lambda: writer.flush() and writer.status().spooled == 0, seconds=30)
    storage = app.extensions["chatbot"].storage
    assert {before, *during} <= stored_ids(storage)
    assert [item.helpful for item in storage.feedback_for(during[0])] == [False]


@pytest.mark.skipif(not POSTGRES_URL, reason="set CHATBOT_TEST_POSTGRES_URL to test PostgreSQL timeouts")
def test_postgresql_connections_carry_statement_and_lock_timeouts(make_storage, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    storage = make_storage(database_url, timeout=1.0, statement_timeout=5.0)
    with storage.transaction("reading timeouts") as session:
        assert session.execute(text_query("SHOW statement_timeout")).scalar() == "5s"
        assert session.execute(text_query("SHOW lock_timeout")).scalar() == "1s"


def text_query(sql: str):
    from sqlalchemy import text
    return text(sql)
