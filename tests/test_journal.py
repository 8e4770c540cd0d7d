"""The chat log's journal: what a request appends before its reply leaves, and what a killed process leaves.

Processes that die are real (a child Python killed with SIGKILL); every
database is a SQLite file in the test's folder.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chatbot.storage import Exchange, Storage
from chatbot.storage.journal import Journal
from chatbot.storage.records import exchange_record, feedback_record
from chatbot.storage.spool import Spool
from chatbot.storage.writer import ChatLogWriter, WriterStatus

REPO_ROOT = Path(__file__).resolve().parents[1]


def exchange(message_id: str, message: str = "Do the needles hurt?") -> Exchange:
    return Exchange(message_id, "session-1", message, "answer", ("p1",), (0.5,), "v1", datetime.now(timezone.utc))


def journal_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("journal-*.jsonl"))


def journal_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in journal_files(folder))


def stored_ids(storage: Storage) -> set[str]:
    return {item.message_id for item in storage.recent_exchanges(10_000)}


@pytest.fixture
def log_storage(tmp_path, make_storage):
    """A migrated SQLite chat log with a short busy timeout (tests lock it)."""
    made = make_storage(f"sqlite:///{tmp_path / 'chatbot.db'}", timeout=0.2)
    made.migrate()
    return made


def die_after(folder: Path, code: str) -> None:
    """Run `code` in a child Python (with `folder` as `folder` and `exchange(id)` at hand), then SIGKILL it."""
    script = ("import os, signal, sys\n"
              "from datetime import datetime, timezone\n"
              "from pathlib import Path\n"
              "from chatbot.storage import Exchange\n"
              "folder = Path(sys.argv[1])\n"
              "def exchange(i): return Exchange(i, 's', 'q', 'answer', (), (), 'v1', datetime.now(timezone.utc))\n"
              f"{code}\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    child = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=REPO_ROOT, timeout=60,
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr


# -- the journal itself -------------------------------------------------------------

def test_an_appended_record_is_one_whole_line_in_a_file_this_process_holds(tmp_path):
    folder = tmp_path / "spool"
    journal = Journal(folder)
    journal.append(exchange_record(exchange("m1")))
    journal.append(feedback_record("m1", True, "thanks"))
    [path] = journal_files(folder)
    assert path.name.startswith(f"journal-{os.getpid()}-")
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 3 and lines[-1] == b"" and b'"m1"' in lines[0] and b'"feedback"' in lines[1]
    # Held by its (live) owner: another reader neither counts nor replays it.
    other = Journal(folder)
    assert other.orphaned() == 0
    assert other.replay(lambda records: pytest.fail("a live process's journal was replayed"), list) == 0
    assert path.exists()


def test_a_killed_process_leaves_its_journal_whole_and_it_is_replayed_once_then_deleted(tmp_path, log_storage):
    folder = tmp_path / "spool"
    # The records were journaled (as a request does) and never written: the process is killed.
    die_after(folder, "from chatbot.storage.journal import Journal\n"
                      "from chatbot.storage.records import exchange_record, feedback_record\n"
                      "journal = Journal(folder)\n"
                      "for i in range(3): journal.append(exchange_record(exchange(f'dead{i}')))\n"
                      "journal.append(feedback_record('dead1', False, 'call me on (206) 496-0630'))\n")
    [left] = journal_files(folder)
    assert b"496-0630" not in left.read_bytes()  # the journal holds redacted records only
    journal = Journal(folder)
    assert journal.orphaned() == 4
    writes: list[list[str]] = []

    def write(records):
        writes.append([record["message_id"] for record in records])
        exchanges = [r for r in records if r["type"] == "exchange"]
        return log_storage.store_records(exchanges, [r for r in records if r["type"] == "feedback"])

    assert journal.replay(write, Spool(folder).append) == 4
    assert writes == [["dead0", "dead1", "dead2", "dead1"]]
    assert {"dead0", "dead1", "dead2"} <= stored_ids(log_storage) and len(log_storage.feedback_for("dead1")) == 1
    assert not left.exists() and journal.orphaned() == 0
    assert journal.replay(write, Spool(folder).append) == 0  # nothing is replayed twice
    assert len(writes) == 1


def test_a_torn_last_line_is_ignored_and_the_whole_ones_replayed(tmp_path):
    folder = tmp_path / "spool"
    die_after(folder, "from chatbot.storage.journal import Journal\n"
                      "from chatbot.storage.records import exchange_record\n"
                      "journal = Journal(folder)\n"
                      "for i in range(2): journal.append(exchange_record(exchange(f'whole{i}')))\n"
                      "[path] = folder.glob('journal-*.jsonl')\n"
                      "open(path, 'ab').write(b'{\"type\": \"exchange\", \"message_id\": \"tor')\n")
    journal = Journal(folder)
    assert journal.orphaned() == 2
    seen: list[str] = []
    assert journal.replay(lambda records: seen.extend(r["message_id"] for r in records) or [], list) == 2
    assert seen == ["whole0", "whole1"] and not journal_files(folder)


def test_replaying_records_the_dead_writer_had_stored_stores_each_once(tmp_path, log_storage):
    folder = tmp_path / "spool"
    die_after(folder, "import json\n"
                      "from chatbot.storage.journal import Journal\n"
                      "from chatbot.storage.records import exchange_record, feedback_record\n"
                      "journal = Journal(folder)\n"
                      "records = [exchange_record(exchange(f'm{i}')) for i in range(3)]\n"
                      "verdict = feedback_record('m0', True, None)\n"
                      "for record in [*records, verdict]: journal.append(record)\n"
                      "(folder / 'stored.json').write_text(json.dumps([records[:2], [verdict]]))\n")
    # Its writer had stored the first two exchanges and the feedback before the kill.
    exchanges, feedback = json.loads((folder / "stored.json").read_text())
    assert log_storage.store_records(exchanges, feedback) == []
    writer = ChatLogWriter(log_storage, Spool(folder), retry_seconds=0.05)
    try:
        assert writer.flush()  # a new process's writer replays dead journals at once
        assert stored_ids(log_storage) == {"m0", "m1", "m2"}
        assert len(log_storage.feedback_for("m0")) == 1
        assert not journal_files(folder)
    finally:
        writer.close()


def test_the_journal_is_emptied_once_nothing_in_it_is_pending_and_rotated_when_it_is_big(tmp_path):
    folder = tmp_path / "spool"
    journal = Journal(folder, rotate_bytes=1000)
    first = [journal.append(exchange_record(exchange(f"a{i}"))) for i in range(5)]  # about 1.4 kB
    [old] = journal_files(folder)
    journal.done(first[:4])
    journal.tidy()  # one record still pending and past rotate_bytes: a new file for what comes next
    later = journal.append(exchange_record(exchange("b0")))
    assert later.path != old and old.exists() and len(journal_files(folder)) == 2
    journal.done(first[4:])
    journal.tidy()  # the rotated file's last record is done: deleted
    assert journal_files(folder) == [later.path]
    journal.done([later])
    journal.tidy()  # nothing pending: emptied (the file stays open for the next append)
    assert journal_bytes(folder) == 0
    journal.append(exchange_record(exchange("c0")))
    assert journal_files(folder) == [later.path] and journal_bytes(folder) > 0
    journal.close()
    assert journal_files(folder) == [later.path]  # a record still pending: left for a replay
    Journal(folder).replay(lambda records: [], list)
    assert not journal_files(folder)


# -- the writer and its journal -------------------------------------------------------

def test_written_records_leave_the_journal_empty(tmp_path, log_storage):
    folder = tmp_path / "spool"
    writer = ChatLogWriter(log_storage, Spool(folder))
    try:
        for number in range(40):
            writer.record_exchange(exchange(f"m{number}"))
        writer.record_feedback("m3", True, None)
        assert journal_bytes(folder) > 40 * 200  # every record journaled before the call returned
        assert writer.flush()
        assert len(stored_ids(log_storage)) == 40 and journal_bytes(folder) == 0
        assert writer.status() == WriterStatus("ok", spooled=0, queued=0)
    finally:
        writer.close()
    assert not journal_files(folder)  # a clean stop deletes the journal


def test_feedback_waiting_for_its_exchange_stays_journaled_until_stored(tmp_path, log_storage):
    folder = tmp_path / "spool"
    writer = ChatLogWriter(log_storage, Spool(folder), retry_seconds=0.05)
    try:
        writer.record_feedback("later", True, None)  # its exchange sits in another worker's queue
        assert writer.flush()
        assert journal_bytes(folder) > 0  # held in memory only: a kill now must not lose it
        log_storage.store_records([exchange_record(exchange("later"))], [])
        assert writer.flush() and writer.flush()
        assert len(log_storage.feedback_for("later")) == 1 and journal_bytes(folder) == 0
    finally:
        writer.close()


def test_records_spooled_while_the_database_is_locked_leave_the_journal(tmp_path, log_storage):
    folder = tmp_path / "spool"
    writer = ChatLogWriter(log_storage, Spool(folder), retry_seconds=0.1, write_timeout=1.0)
    holder = sqlite3.connect(tmp_path / "chatbot.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        writer.record_exchange(exchange("during"))
        assert writer.flush()
        assert writer.status().spooled == 1 and journal_bytes(folder) == 0  # fsynced in the spool instead
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        writer.close()
    assert stored_ids(log_storage) == {"during"}


def test_a_process_killed_before_its_writer_wrote_loses_nothing(tmp_path, log_storage):
    folder = tmp_path / "spool"
    # The writer of the killed process never reaches its database (it waits on a lock that
    # is never released), as when a worker is killed within the writer's 50 ms batch wait.
    die_after(folder, "import threading\n"
                      "from chatbot.storage.spool import Spool\n"
                      "from chatbot.storage.writer import ChatLogWriter\n"
                      "class Stuck:\n"
                      "    def store_records(self, exchanges, feedback): threading.Event().wait()\n"
                      "    def ping(self): threading.Event().wait()\n"
                      "writer = ChatLogWriter(Stuck(), Spool(folder), write_timeout=60)\n"
                      "for i in range(20): writer.record_exchange(exchange(f'k{i}'))\n"
                      "writer.record_feedback('k5', True, None)\n")
    assert Journal(folder).orphaned() == 21  # health counts them as waiting
    writer = ChatLogWriter(log_storage, Spool(folder))
    try:
        assert writer.flush()
        assert stored_ids(log_storage) == {f"k{i}" for i in range(20)}
        assert len(log_storage.feedback_for("k5")) == 1 and not journal_files(folder)
        assert writer.status().spooled == 0
    finally:
        writer.close()


def test_a_dead_journal_moves_to_the_spool_while_the_database_is_down(tmp_path, log_storage):
    folder = tmp_path / "spool"
    die_after(folder, "from chatbot.storage.journal import Journal\n"
                      "from chatbot.storage.records import exchange_record\n"
                      "journal = Journal(folder)\n"
                      "for i in range(3): journal.append(exchange_record(exchange(f'out{i}')))\n")
    holder = sqlite3.connect(tmp_path / "chatbot.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    writer = ChatLogWriter(log_storage, Spool(folder), retry_seconds=0.1, write_timeout=1.0)
    try:
        writer.record_exchange(exchange("live"))  # finds the database down
        assert writer.flush() and writer.flush()
        assert writer.status().database == "unavailable"
        assert Journal(folder).orphaned() == 0 and journal_bytes(folder) == 0  # ours is empty, the dead one gone
        assert Spool(folder).count() == 4  # durable in the spool now
        holder.execute("ROLLBACK")
        assert writer.flush() and writer.flush()
        assert stored_ids(log_storage) == {"out0", "out1", "out2", "live"}
    finally:
        holder.close()
        writer.close()


def test_an_unusable_journal_is_said_once_and_records_are_still_written(tmp_path, log_storage, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the journal's folder should be")
    writer = ChatLogWriter(log_storage, Spool(tmp_path / "spool"), journal=Journal(blocked))
    try:
        with caplog.at_level(logging.ERROR):
            for number in range(5):
                writer.record_exchange(exchange(f"m{number}"))
            assert writer.flush()
        assert len(stored_ids(log_storage)) == 5
        assert [record.getMessage() for record in caplog.records if "journal" in record.getMessage()] == [
            f"chat log journal {blocked} unusable ([Errno 17] File exists: '{blocked}'): "
            "records are kept in memory until written"]
    finally:
        writer.close()


def test_appends_from_many_threads_make_whole_lines(tmp_path):
    folder = tmp_path / "spool"
    journal = Journal(folder)

    def append(worker: int) -> None:
        for number in range(200):
            journal.append(exchange_record(exchange(f"t{worker}-{number}", message="x" * (number % 50))))

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    seen: list[str] = []
    assert Journal(folder).replay(lambda records: seen.extend(r["message_id"] for r in records) or [], list) == 800
    assert len(set(seen)) == 800
