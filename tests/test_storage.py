"""Storage: migrations, the chat log, feedback, purge, failures as StorageError, threads and forks.

Runs on a SQLite file always and on PostgreSQL too when CHATBOT_TEST_POSTGRES_URL
names a database (each test gets a schema of its own, dropped afterwards).
"""
from __future__ import annotations

import ast
import os
import secrets
import signal
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import chatbot
import chatbot.storage
from chatbot.staff.tables import DATABASE_METADATA
from chatbot.storage import Exchange, Feedback, Storage, StorageError
from chatbot.storage.cli import purge_command, register_cli
from chatbot.storage.engine import create_database_engine
from chatbot.storage.migrate import alembic_config, migration_transaction

# Nothing listens on port 1; connecting is refused at once.
UNREACHABLE_POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/chatbot"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def make_exchange(message_id: str | None = None, **changes) -> Exchange:
    values = dict(message_id=secrets.token_hex(16) if message_id is None else message_id, session_id="session-1",
                  message="Does acupuncture help lower back pain?", kind="answer",
                  passage_ids=("p1", "p2"), scores=(0.8, 0.4), index_version="v1")
    return Exchange(**{**values, **changes})


# Migrations

def test_migrate_builds_the_schema_on_an_empty_database_and_a_second_run_changes_nothing(
        make_storage, database_url, raw):
    storage = make_storage(database_url)
    storage.migrate()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert raw("SELECT version_num FROM alembic_version") == [(head,)]
    storage.record_exchange(make_exchange("kept"))
    storage.migrate()
    assert raw("SELECT version_num FROM alembic_version") == [(head,)]
    assert storage.get_exchange("kept") is not None


def test_migrated_schema_matches_the_tables_modules(storage, database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), DATABASE_METADATA)
    engine.dispose()
    assert differences == []
    assert {"exchanges", "feedback", "staff_users", "faq_entries", "publications"} <= set(DATABASE_METADATA.tables)


def test_the_storage_layer_imports_nothing_of_the_staff_layer_above_it():
    # migrations/env.py aside: alembic runs it to see every table, staff's too; no module imports it.
    package = Path(chatbot.storage.__file__).parent
    modules = [path for path in package.rglob("*.py") if path != package / "migrations" / "env.py"]
    assert package / "storage.py" in modules
    assert {str(path.relative_to(package)): imported_modules(path) & {"chatbot.staff"}
            for path in modules} == {str(path.relative_to(package)): set() for path in modules}


def imported_modules(path: Path) -> set[str]:
    """The absolute names a module's imports name, and each of their parent packages."""
    package_parts = ["chatbot", *path.relative_to(Path(chatbot.__file__).parent).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package_parts[:len(package_parts) - node.level + 1] if node.level else []
            names.add(".".join(base + ([node.module] if node.module else [])))
    return {".".join(name.split(".")[:depth]) for name in names for depth in range(1, name.count(".") + 2)}


def test_several_workers_migrating_at_once_all_succeed(make_storage, database_url, raw):
    # Each Storage has its own engine and connections, as each worker process would.
    storages = [make_storage(database_url, timeout=30) for _ in range(4)]
    errors = run_in_threads([storage.migrate for storage in storages])
    assert errors == []
    assert len(raw("SELECT version_num FROM alembic_version")) == 1
    storages[0].record_exchange(make_exchange("after"))


def test_migrate_on_a_database_from_a_newer_release_raises_storage_error(storage, database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StorageError, match="migrating the database failed"):
        storage.migrate()


def test_rebuilding_the_exchanges_table_in_a_migration_keeps_the_feedback(make_storage, tmp_path):
    # Alembic's batch mode alters a SQLite table by copying it, dropping it, renaming the copy.
    storage = make_storage(f"sqlite:///{tmp_path / 'chatbot.db'}")
    storage.migrate()
    storage.record_exchange(make_exchange("m1"))
    storage.record_feedback("m1", True, None)
    engine = create_database_engine(make_url(storage.url), timeout=5)
    with engine.connect() as connection, migration_transaction(connection):
        with Operations(MigrationContext.configure(connection)).batch_alter_table(
                "exchanges", recreate="always"):
            pass
    with engine.connect() as connection:  # foreign keys are on again for the pool's next user
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
    assert [item.helpful for item in storage.feedback_for("m1")] == [True]


def test_calls_before_migrate_raise_storage_error_for_the_missing_schema(make_storage, database_url):
    storage = make_storage(database_url)
    with pytest.raises(StorageError, match="recording an exchange failed"):
        storage.record_exchange(make_exchange())
    with pytest.raises(StorageError):
        storage.recent_exchanges()


# Exchanges

def test_recorded_exchange_reads_back_as_recorded_with_the_message_redacted(storage):
    exchange = make_exchange("m1", message="I'm jane@example.com, is BL23 good for my back?",
                             passage_ids=["p9", "p3"], scores=[1.5, 0.25], created_at=NOW)
    storage.record_exchange(exchange)
    stored = storage.get_exchange("m1")
    assert stored == Exchange("m1", "session-1", "I'm [email], is BL23 good for my back?", "answer",
                              ("p9", "p3"), (1.5, 0.25), "v1", NOW)
    assert stored.created_at.tzinfo == timezone.utc


def test_message_is_redacted_before_it_is_written(storage, raw):
    storage.record_exchange(make_exchange("m1", message="Call me on (206) 496-0630, DOB 03/04/1985"))
    assert raw("SELECT message FROM exchanges") == [("Call me on [phone], DOB [date]",)]


def test_no_column_could_hold_an_ip_address(storage, database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    columns = {column["name"] for table in ("exchanges", "feedback")
               for column in inspect(engine).get_columns(table)}
    engine.dispose()
    assert not {name for name in columns if "ip" in name.split("_") or "addr" in name}


def test_created_at_defaults_to_now_in_utc(storage):
    before = datetime.now(timezone.utc)
    storage.record_exchange(make_exchange("m1"))
    created = storage.get_exchange("m1").created_at
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc)
    assert created.utcoffset() == timedelta(0)


def test_created_at_in_another_timezone_is_stored_as_the_same_instant_in_utc(storage):
    paris = timezone(timedelta(hours=2))
    storage.record_exchange(make_exchange("m1", created_at=datetime(2026, 6, 1, 14, 0, tzinfo=paris)))
    assert storage.get_exchange("m1").created_at == NOW
    assert storage.get_exchange("m1").created_at.tzinfo == timezone.utc


def test_unknown_message_id_reads_as_none(storage):
    assert storage.get_exchange("never-recorded") is None


def test_recent_exchanges_are_newest_first_up_to_the_limit(storage):
    for minutes in (5, 1, 3):
        storage.record_exchange(make_exchange(f"m{minutes}", created_at=NOW - timedelta(minutes=minutes)))
    assert [exchange.message_id for exchange in storage.recent_exchanges(2)] == ["m1", "m3"]
    assert len(storage.recent_exchanges()) == 3


def test_exchange_without_session_passages_or_index_version_is_recorded(storage):
    storage.record_exchange(make_exchange("m1", session_id=None, kind="no_answer", passage_ids=(),
                                          scores=(), index_version=None))
    stored = storage.get_exchange("m1")
    assert (stored.session_id, stored.passage_ids, stored.scores, stored.index_version) == (None, (), (), None)


def test_recording_the_same_message_id_twice_raises_storage_error_without_the_visitor_text(storage):
    storage.record_exchange(make_exchange("m1", message="my very private words"))
    with pytest.raises(StorageError) as caught:
        storage.record_exchange(make_exchange("m1", message="my very private words"))
    assert "private" not in str(caught.value)
    assert "private" not in str(caught.value.__cause__)


@pytest.mark.parametrize(("changes", "message"), [
    ({"kind": "chitchat"}, "kind must be one of"),
    ({"message_id": ""}, "message_id"),
    ({"message_id": "x" * 65}, "message_id"),
    ({"session_id": "s" * 65}, "session_id"),
    ({"index_version": "v" * 65}, "index_version"),
    ({"created_at": datetime(2026, 6, 1, 12, 0)}, "timezone-aware"),
    ({"scores": (0.5, float("nan"))}, "finite"),
    ({"scores": (float("inf"),)}, "finite"),
])
def test_invalid_exchange_is_rejected_when_made(changes, message):
    with pytest.raises(ValueError, match=message):
        make_exchange(**changes)


def test_exchange_keeps_lists_as_tuples_and_scores_as_floats():
    exchange = make_exchange(passage_ids=["a", "b"], scores=[1, 0.5])
    assert exchange.passage_ids == ("a", "b")
    assert exchange.scores == (1.0, 0.5) and isinstance(exchange.scores[0], float)
    hash(exchange)


# Feedback

def test_feedback_on_a_recorded_exchange_is_kept_with_its_comment_redacted(storage, raw):
    storage.record_exchange(make_exchange("m1"))
    assert storage.record_feedback("m1", False, "  Not what I asked, mail me at a.b@example.org ")
    assert storage.record_feedback("m1", True, None)
    feedback = storage.feedback_for("m1")
    assert [(item.helpful, item.comment) for item in feedback] == [
        (False, "Not what I asked, mail me at [email]"), (True, None)]
    assert all(isinstance(item, Feedback) and item.created_at.tzinfo == timezone.utc
               for item in feedback)
    assert raw("SELECT comment FROM feedback ORDER BY id") == [
        ("Not what I asked, mail me at [email]",), (None,)]


def test_feedback_on_an_unknown_message_id_returns_false_and_writes_nothing(storage, raw):
    assert storage.record_feedback("never-recorded", True, "great") is False
    assert raw("SELECT COUNT(*) FROM feedback") == [(0,)]


def test_blank_feedback_comment_is_stored_as_none(storage):
    storage.record_exchange(make_exchange("m1"))
    storage.record_feedback("m1", True, "   ")
    assert storage.feedback_for("m1")[0].comment is None


def test_feedback_comment_of_1000_characters_is_kept_and_1001_is_rejected(storage):
    storage.record_exchange(make_exchange("m1"))
    assert storage.record_feedback("m1", True, "a" * 1000)
    with pytest.raises(ValueError, match="1000"):
        storage.record_feedback("m1", True, "a" * 1001)
    assert len(storage.feedback_for("m1")) == 1


def test_feedback_helpful_must_be_a_boolean(storage):
    storage.record_exchange(make_exchange("m1"))
    with pytest.raises(TypeError):
        storage.record_feedback("m1", "yes", None)


# Purge

def test_purge_deletes_only_exchanges_older_than_the_limit_and_their_feedback(storage, raw):
    for message_id, age in (("old1", 91), ("old2", 200), ("new", 89)):
        storage.record_exchange(make_exchange(message_id, created_at=NOW - timedelta(days=age)))
        storage.record_feedback(message_id, True, f"feedback on {message_id}")
    assert storage.purge(timedelta(days=90), now=NOW) == 2
    assert [exchange.message_id for exchange in storage.recent_exchanges()] == ["new"]
    assert raw("SELECT message_id, comment FROM feedback") == [("new", "feedback on new")]
    assert storage.purge(timedelta(days=90), now=NOW) == 0


def test_purge_without_now_uses_the_current_time(storage):
    storage.record_exchange(make_exchange("old", created_at=datetime.now(timezone.utc) - timedelta(days=2)))
    storage.record_exchange(make_exchange("new"))
    assert storage.purge(timedelta(days=1)) == 1
    assert storage.get_exchange("new") is not None


@pytest.mark.parametrize(("older_than", "now"), [
    (timedelta(days=-1), NOW),
    (timedelta(days=1), datetime(2026, 6, 1)),
])
def test_purge_refuses_a_negative_age_or_a_naive_now(storage, older_than, now):
    with pytest.raises(ValueError):
        storage.purge(older_than, now=now)


def test_purge_command_takes_days_and_refuses_less_than_one(storage):
    storage.record_exchange(make_exchange("old", created_at=datetime.now(timezone.utc) - timedelta(days=31)))
    assert purge_command(storage, 30) == 1
    with pytest.raises(ValueError):
        purge_command(storage, 0)


def make_flask_app(storage: Storage, default_days: int = 90) -> Flask:
    app = Flask(__name__)
    app.extensions["storage"] = storage
    register_cli(app, get_app_storage, default_days)
    return app


def get_app_storage() -> Storage:
    from flask import current_app
    return current_app.extensions["storage"]


def test_flask_purge_command_uses_the_default_days_or_the_given_ones(storage):
    for message_id, age in (("a", 100), ("b", 40), ("c", 1)):
        storage.record_exchange(make_exchange(message_id, created_at=datetime.now(timezone.utc) - timedelta(days=age)))
    runner = make_flask_app(storage).test_cli_runner()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "Deleted 1 exchange(s) older than 90 days" in result.output
    result = runner.invoke(args=["purge", "--days", "30"])
    assert result.exit_code == 0 and "Deleted 1 exchange(s) older than 30 days" in result.output
    assert [exchange.message_id for exchange in storage.recent_exchanges()] == ["c"]


def test_flask_purge_command_exits_with_status_1_when_the_database_fails(make_storage, tmp_path):
    storage = make_storage(f"sqlite:///{tmp_path / 'missing' / 'chatbot.db'}")
    result = make_flask_app(storage).test_cli_runner().invoke(args=["purge", "--days", "30"])
    assert result.exit_code == 1 and "purging old exchanges failed" in result.output


def test_flask_purge_command_refuses_zero_days(storage):
    result = make_flask_app(storage).test_cli_runner().invoke(args=["purge", "--days", "0"])
    assert result.exit_code == 2


# Failures

@pytest.mark.parametrize("url", ["sqlite:///{tmp_path}/no-such-folder/chatbot.db", UNREACHABLE_POSTGRES])
def test_ping_raises_storage_error_when_the_database_is_unreachable(make_storage, url, tmp_path):
    storage = make_storage(url.format(tmp_path=tmp_path))
    with pytest.raises(StorageError, match="database unreachable"):
        storage.ping()


def test_ping_returns_when_the_database_answers(storage):
    assert storage.ping() is None


@pytest.mark.parametrize("url", ["sqlite:///{tmp_path}/no-such-folder/chatbot.db", UNREACHABLE_POSTGRES])
def test_every_call_raises_storage_error_when_the_database_is_unreachable(make_storage, url, tmp_path):
    storage = make_storage(url.format(tmp_path=tmp_path))
    calls = [storage.migrate, lambda: storage.record_exchange(make_exchange()),
             lambda: storage.record_feedback("m1", True, None),
             lambda: storage.purge(timedelta(days=1)), lambda: storage.get_exchange("m1"),
             storage.recent_exchanges, lambda: storage.feedback_for("m1")]
    for call in calls:
        with pytest.raises(StorageError):
            call()


def test_write_raises_storage_error_when_sqlite_stays_locked_past_the_timeout(make_storage, tmp_path):
    path = tmp_path / "chatbot.db"
    make_storage(f"sqlite:///{path}").migrate()
    storage = make_storage(f"sqlite:///{path}", timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match="locked"):
            storage.record_exchange(make_exchange())
        assert storage.recent_exchanges() == []  # readers are not blocked by the writer (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    storage.record_exchange(make_exchange())


def test_sqlite_database_uses_write_ahead_logging(make_storage, tmp_path):
    path = tmp_path / "chatbot.db"
    make_storage(f"sqlite:///{path}").migrate()
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_several_workers_opening_a_new_sqlite_file_at_once_all_succeed(make_storage, tmp_path):
    # Switching a new file to WAL is refused at once, not after the busy
    # timeout, while other connections read it; the race is rare, so repeat it.
    for attempt in range(20):
        url = f"sqlite:///{tmp_path / f'chatbot{attempt}.db'}"
        storages = [make_storage(url) for _ in range(6)]
        assert run_in_threads([storage.ping for storage in storages]) == []


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "not a url", "nosuchdb://host/db"])
def test_unusable_database_url_raises_storage_error_at_once(url):
    with pytest.raises(StorageError):
        Storage(url)


def test_repr_hides_the_password():
    assert "secret" not in repr(Storage("postgresql+psycopg://bot:secret@127.0.0.1:5432/chatbot"))


# Concurrency

def run_in_threads(calls) -> list[BaseException]:
    """Start every call in its own thread at the same moment; the exceptions they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        barrier.wait()
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("shared", [True, False], ids=["one-storage", "storage-per-thread"])
def test_concurrent_writes_from_several_threads_all_succeed(storage, make_storage, database_url, raw,
                                                           shared):
    threads, per_thread = 8, 15
    storages = [storage if shared else make_storage(database_url, timeout=30) for _ in range(threads)]

    def write(worker: int):
        def run():
            for number in range(per_thread):
                message_id = f"w{worker}-{number}"
                storages[worker].record_exchange(make_exchange(message_id))
                assert storages[worker].record_feedback(message_id, number % 2 == 0, "ok")
        return run

    assert run_in_threads([write(worker) for worker in range(threads)]) == []
    assert raw("SELECT COUNT(*) FROM exchanges") == [(threads * per_thread,)]
    assert raw("SELECT COUNT(*) FROM feedback") == [(threads * per_thread,)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# Python 3.12+ warns when forking with threads alive (other tests' helpers);
# the child here only uses the database and exits.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_storage_used_before_a_fork_works_in_the_child_and_still_in_the_parent(storage):
    storage.record_exchange(make_exchange("parent-before"))  # the parent's pool now holds a connection
    pid = os.fork()
    if pid == 0:  # child: report through the exit status, never return into pytest
        status = 1
        try:
            storage.record_exchange(make_exchange("child"))
            status = 0
        finally:
            os._exit(status)
    # Bounded: a child forked beside other tests' threads can inherit a lock one of them held and hang.
    deadline = time.monotonic() + 60
    while (finished := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if finished[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not finish within 60 s")
    assert os.waitstatus_to_exitcode(finished[1]) == 0
    storage.record_exchange(make_exchange("parent-after"))
    assert storage.get_exchange("child") is not None
