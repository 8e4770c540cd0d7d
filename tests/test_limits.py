"""Rate limits counted once for every worker: the server's SQLite counter file, or Redis.

The real-server tests start gunicorn (2 workers, 127.0.0.1, a free port) and
send 90 chats with a limit of 30/minute: at most 30 get through. Each test's
client uses its own loopback source address (127.x.y.z), so its counter is
its own even in a Redis that other runs share. The Redis tests need
CHATBOT_TEST_REDIS_URL (`.ci/run` starts one) and are skipped without it.
"""
from __future__ import annotations

import gc
import http.client
import json
import multiprocessing
import os
import random
import re
import socket
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from chatbot import create_app
from chatbot.settings import SettingsError
from chatbot.shared_counters import storage_uri
from chatbot.web.limits import REDIS_TIMEOUT_SECONDS, counter_storage_uri
from gunicorn_process import Gunicorn, free_port

REDIS_URL = os.environ.get("CHATBOT_TEST_REDIS_URL")
NO_REDIS = "set CHATBOT_TEST_REDIS_URL=redis://127.0.0.1:6390/0 (a Redis on loopback) to test Redis storage"
CHAT = json.dumps({"message": "Does acupuncture hurt?"})


# -- the counter file --------------------------------------------------------------

# The tests below fork "workers" from a fresh process, never from pytest's own: a child
# forked from a process with threads (earlier tests' apps) can inherit a lock that one
# of them held, SQLite's included, and hang (3 of 120 children did, under load).

def in_fresh_process(function, *args):
    """function(*args), run in a newly spawned Python process that has no other threads; its result."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as fresh_process:
        return fresh_process.submit(function, *args).result(timeout=600)


def stop_stragglers(workers) -> None:
    """Kills the workers still running after their join's timeout: multiprocessing would wait for
    them when the process exits, and a hung test would hang the suite."""
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


def _hit_many(uri: str, times: int) -> int:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    return sum(limiter.hit(parse("1000/hour"), "visitor") for _ in range(times))


def _two_workers_hit_200_times_each(uri: str) -> int:
    """Hits once, then forks two workers that hit 200 times each; the count stored."""
    _hit_many(uri, 1)  # opened here first, then used by forked children: none reuses this connection
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.starmap(_hit_many, [(uri, 200), (uri, 200)])
    return storage_from_string(uri).get(parse("1000/hour").key_for("visitor"))


def test_two_processes_hitting_one_counter_file_lose_no_hit(tmp_path):
    assert in_fresh_process(_two_workers_hit_200_times_each, storage_uri(tmp_path / "limits.sqlite")) == 401


def _hit_when_all_are_ready(uri: str, ready, times: int, counted) -> None:
    storage = storage_from_string(uri)  # opens nothing yet: the first hit opens the file
    ready.wait(30)
    key = parse("1000/hour").key_for("visitor")
    for _ in range(times):
        try:
            storage.incr(key, 3600)
            with counted.get_lock():
                counted.value += 1
        except Exception:  # noqa: BLE001 - a hit the file refused: counted below as lost
            pass


def _fresh_starts_that_lost_hits(folder: str, starts: int) -> list[tuple]:
    """`starts` times, 3 forked workers hit a new counter file 10 times each from the same moment;
    (start, hits counted, hits stored, exit codes) of each start that lost a hit."""
    context = multiprocessing.get_context("fork")
    lost = []
    for start in range(starts):
        uri = storage_uri(Path(folder) / f"limits-{start}.sqlite")
        ready, counted = context.Barrier(3), context.Value("i", 0)
        workers = [context.Process(target=_hit_when_all_are_ready, args=(uri, ready, 10, counted))
                   for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        stop_stragglers(workers)
        stored = storage_from_string(uri).get(parse("1000/hour").key_for("visitor"))
        if counted.value != 30 or stored != 30:
            lost.append((start, counted.value, stored, [worker.exitcode for worker in workers]))
    return lost


def test_workers_opening_a_fresh_counter_file_at_the_same_moment_lose_no_hit(tmp_path):
    # The first hits of a new server's workers all switch the new file to WAL. SQLite
    # refused a switch racing another process's at once ("database is locked", no busy
    # wait), in about one start in twenty, so the hit went uncounted.
    assert in_fresh_process(_fresh_starts_that_lost_hits, str(tmp_path), 40) == []


def _count_then_stop_or_go_on(uri: str, role: str, master_let_go, first_stopped) -> None:
    storage = storage_from_string(uri)
    key = parse("1000/hour").key_for("visitor")
    for _ in range(100):
        storage.incr(key, 3600)
    if role == "stops":  # a worker recycled by max_requests while the other still counts
        master_let_go.wait(10)
        del storage
        gc.collect()
        first_stopped.set()
    else:
        first_stopped.wait(10)
        for _ in range(100):
            storage.incr(key, 3600)


def _master_lets_go_and_one_worker_stops(uri: str) -> tuple[list, int]:
    """A "master" that has the file open forks two workers, then lets go; one worker stops early.
    (the workers' exit codes, the count stored)."""
    master = storage_from_string(uri)
    master.incr(parse("1000/hour").key_for("visitor"), 3600)
    context = multiprocessing.get_context("fork")
    master_let_go, first_stopped = context.Event(), context.Event()
    workers = [context.Process(target=_count_then_stop_or_go_on, args=(uri, role, master_let_go, first_stopped))
               for role in ("stops", "goes on")]
    for worker in workers:
        worker.start()
    del master
    gc.collect()
    master_let_go.set()
    for worker in workers:
        worker.join(30)
    stop_stragglers(workers)
    return [worker.exitcode for worker in workers], storage_from_string(uri).get(parse("1000/hour").key_for("visitor"))


def test_a_counter_file_open_in_the_master_across_the_fork_loses_no_hit_when_a_worker_stops(tmp_path):
    # gunicorn preloads the app: a master that has touched the file forks workers. SQLite's
    # per-file lock state crossed the fork with the open connection, so when the master let go
    # and one worker closed, that worker took itself for the file's last user and deleted the
    # WAL that the other went on writing to: 201 of 301 counted, without an error (9 runs in 10).
    exit_codes, stored = in_fresh_process(_master_lets_go_and_one_worker_stops, storage_uri(tmp_path / "limits.sqlite"))
    assert exit_codes == [0, 0]
    assert stored == 301


def test_a_counter_window_starts_again_once_it_has_expired(tmp_path):
    storage = storage_from_string(storage_uri(tmp_path / "limits.sqlite"))
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert time.time() < storage.get_expiry("k") <= time.time() + 60
    storage.incr("gone", -1)  # a window that has already ended
    assert storage.get("gone") == 0 and storage.incr("gone", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


def test_without_redis_the_counters_live_in_the_server_state_folder(tmp_path):
    uri = counter_storage_uri({"CHATBOT_REDIS_URL": " ", "CHATBOT_SERVER_STATE_DIR": str(tmp_path)})
    assert uri == storage_uri(tmp_path / "rate_limits.sqlite")


def test_a_redis_url_gets_short_socket_timeouts_unless_it_sets_its_own():
    uri = counter_storage_uri({"CHATBOT_REDIS_URL": "redis://127.0.0.1:6390/2?socket_timeout=1",
                               "CHATBOT_SERVER_STATE_DIR": "unused"})
    assert uri == f"redis://127.0.0.1:6390/2?socket_timeout=1&socket_connect_timeout={REDIS_TIMEOUT_SECONDS}"


def test_a_redis_url_that_is_not_redis_is_refused_with_the_setting_name():
    with pytest.raises(SettingsError, match="CHATBOT_REDIS_URL"):
        counter_storage_uri({"CHATBOT_REDIS_URL": "http://127.0.0.1:6379", "CHATBOT_SERVER_STATE_DIR": "x"})


# -- Redis down ------------------------------------------------------------------------

def test_with_redis_down_chat_answers_and_each_worker_still_limits(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "2/minute",
                      "CHATBOT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}"})
    try:
        client = app.test_client()
        statuses = [client.post("/api/chat", json={"message": "Does acupuncture hurt?"}).status_code
                    for _ in range(3)]
        assert statuses == [200, 200, 429]  # fell back to this worker's memory: not open, not closed
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          client.get("/admin/login").get_data(as_text=True)).group(1)
        login = client.post("/admin/login", data={"csrf_token": token, "email": "a@example.com",
                                                  "password": "not the password"})
        assert login.status_code == 401  # checked as usual: the backoff's store is skipped, not fatal
    finally:
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


def test_with_redis_hung_chat_answers_after_the_short_timeout_and_still_limits(tmp_path, shared_index_dir):
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "2/minute",
                          "CHATBOT_REDIS_URL": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
                          "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}"})
        try:
            client = app.test_client()
            statuses = [client.post("/api/chat", json={"message": "Does acupuncture hurt?"}).status_code
                        for _ in range(3)]
            assert statuses == [200, 200, 429]
        finally:
            app.extensions["chatbot"].live_index.stop()
            app.extensions["chatbot"].storage.dispose()


# -- a real server with 2 workers --------------------------------------------------------

@pytest.fixture
def gunicorn_server(tmp_path, shared_index_dir):
    """Factory: gunicorn with 2 workers on 127.0.0.1 with `env` settings; yields its port."""
    servers = []

    def start(**settings: str) -> int:
        env = {**os.environ, "CHATBOT_INDEX_DIR": str(shared_index_dir),
               "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}",
               "CHATBOT_SERVER_STATE_DIR": str(tmp_path / "state"), "CHATBOT_SPOOL_DIR": str(tmp_path / "spool"),
               "CHATBOT_LOG_LEVEL": "WARNING", **settings}
        servers.append(Gunicorn(env, tmp_path))
        return servers[-1].port

    yield start
    for server in servers:
        server.stop()


def chat_from(port: int, source: str) -> int:
    """One chat from the loopback address `source`; the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", "/api/chat", CHAT, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


def statuses_of_90_chats(port: int) -> list[int]:
    """90 chats from one visitor address of its own, 6 at a time so both workers answer."""
    source = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(lambda _: chat_from(port, source), range(90)))


def test_30_a_minute_lets_through_at_most_30_of_90_across_two_workers(gunicorn_server):
    port = gunicorn_server(CHATBOT_RATE_LIMIT="30/minute")
    statuses = statuses_of_90_chats(port)
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) == 30  # counted per worker, 60 got through


@pytest.mark.skipif(not REDIS_URL, reason=NO_REDIS)
def test_30_a_minute_lets_through_at_most_30_of_90_across_two_workers_with_redis(gunicorn_server):
    port = gunicorn_server(CHATBOT_RATE_LIMIT="30/minute", CHATBOT_REDIS_URL=REDIS_URL)
    statuses = statuses_of_90_chats(port)
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) == 30
