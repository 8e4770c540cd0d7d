"""Every worker serves the published index version: after a fork, a recycle, a corrupt local copy.

The gunicorn tests run the real server (the project's gunicorn.conf.py, 2
workers) on 127.0.0.1 with a random port over a four-document corpus; each
is bounded in time (SERVER_START_SECONDS, DEADLINE_SECONDS) and requests.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from chatbot import close_app, create_app
from chatbot.build import build_index, publish_build
from chatbot.index import store as store_module
from chatbot.index.artifact import IndexLoadError
from chatbot.index.live import CORPUS_FALLBACK, LiveIndex
from chatbot.index.store import IndexStore
from chatbot.staff.roles import COMMAND_LINE
from conftest import TOPIC_DOCUMENTS
from gunicorn_process import Gunicorn
from scripts import load_script

SERVER_START_SECONDS = 60
DEADLINE_SECONDS = 20
EVENING_FAQ = ("question,answer,alternates,source_title,source_url\n"
               "Do you offer evening appointments for acupuncture?,"
               "Yes: the clinic offers evening acupuncture appointments on Tuesdays and Thursdays until 8 pm.,"
               "Are you open in the evening?,Clinic hours,https://example.org/hours\n")


# -- helpers ---------------------------------------------------------------------

@pytest.fixture
def site(tmp_path, make_corpus):
    """A corpus, an index folder and a SQLite database for one server."""
    return {"corpus": make_corpus(TOPIC_DOCUMENTS, "corpus"), "index": tmp_path / "index",
            "database": f"sqlite:///{tmp_path / 'chatbot.db'}", "tmp": tmp_path}


@pytest.fixture
def shared_site(site, database_url):
    """`site` over the SQLite or PostgreSQL test database (the one every server shares)."""
    return {**site, "database": database_url}


@pytest.fixture
def train(monkeypatch):
    """train.main loaded from the script: publish(site) builds and publishes as `train.py --publish` does
    (the database's publication first, then this server's CURRENT file)."""
    for name in [k for k in os.environ if k.startswith("CHATBOT_")]:
        monkeypatch.delenv(name)
    module = load_script("train.py")

    def publish(site) -> str:
        before = set(IndexStore(site["index"]).versions_dir.glob("*"))
        assert module.main(["--corpus", str(site["corpus"]), "--out", str(site["index"]),
                            "--database-url", site["database"], "--publish"]) == 0
        (new,) = set(IndexStore(site["index"]).versions_dir.glob("*")) - before
        return new.name

    return publish


def app_for(site, **settings):
    return create_app({"CHATBOT_CORPUS_DIR": str(site["corpus"]), "CHATBOT_INDEX_DIR": str(site["index"]),
                       "CHATBOT_DATABASE_URL": site["database"], "CHATBOT_RATE_LIMIT": "off", **settings})


def settled_health(client, tries: int = 20) -> dict:
    """Health once it says "ok", or its last answer after `tries` quarter-seconds.

    Its database field is a cached ping that reads "unavailable" when the ping
    takes over half a second, which a loaded CI machine sometimes does just
    after train.py has written to the same SQLite file.
    """
    for _ in range(tries):
        health = client.get("/api/health").get_json()
        if health["status"] == "ok":
            break
        time.sleep(0.25)
    return health


def corrupt(index_dir: Path, version: str) -> None:
    """Truncate the largest data file of the version's local copy to half its size."""
    folder = IndexStore(index_dir).path(version)
    path = max((p for p in folder.iterdir() if p.name != "manifest.json"), key=lambda p: p.stat().st_size)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


class Server(Gunicorn):
    """gunicorn with the project's configuration, 2 workers, on 127.0.0.1 and a free port."""

    def __init__(self, site, *args: str, check_seconds: float):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_") and k != "PORT"}
        env.update(CHATBOT_CORPUS_DIR=str(site["corpus"]), CHATBOT_INDEX_DIR=str(site["index"]),
                   CHATBOT_DATABASE_URL=site["database"], CHATBOT_RATE_LIMIT="off",
                   CHATBOT_INDEX_CHECK_SECONDS=str(check_seconds),
                   CHATBOT_SECRET_KEY="test-secret-key-not-for-production")
        super().__init__(env, site["tmp"], *args, start_seconds=SERVER_START_SECONDS)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            return json.load(response)

    def chat(self, message: str = "Do the needles hurt?") -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/chat",
                                         data=json.dumps({"message": message}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=DEADLINE_SECONDS) as response:
            return json.load(response)

    def loads(self, version: str) -> dict[int, int]:
        """How many times each process logged that it now serves `version`."""
        counts: dict[int, int] = {}
        pattern = re.compile(rf"serving index version {re.escape(version)} \(.*\) in process (\d+)")
        for match in pattern.finditer(self.log()):
            counts[int(match.group(1))] = counts.get(int(match.group(1)), 0) + 1
        return counts


@pytest.fixture
def serve(site):
    servers: list[Server] = []

    def start(*args: str, check_seconds: float = 60) -> Server:
        servers.append(Server(site, *args, check_seconds=check_seconds))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# -- workers under gunicorn ----------------------------------------------------------

def test_workers_killed_after_a_publish_come_back_serving_only_the_published_version(site, train, serve):
    first = train(site)
    # The watchers check once a minute: only the check at a worker's fork can bring the new version.
    server = serve(check_seconds=60)
    assert server.get("/api/health")["index_version"] == first
    published = train(site)
    old_workers = server.workers()
    for pid in old_workers:
        os.kill(pid, signal.SIGKILL)
    replies = [server.chat()["index_version"] for _ in range(20)]
    assert not server.workers() & old_workers
    assert replies == [published] * 20


def test_workers_recycled_by_max_requests_serve_the_newest_of_two_publications(site, train, serve):
    boot = train(site)
    server = serve("--max-requests", "5", "--max-requests-jitter", "0", check_seconds=60)
    train(site)
    newest = train(site)  # two publications after the version the master loaded at boot
    replies = [server.chat()["index_version"] for _ in range(30)]
    # The boot workers answer a few requests (about 5 each) before they are
    # recycled; every worker forked after that answers with the newest version.
    assert set(replies) == {boot, newest}
    assert replies[-15:] == [newest] * 15


def test_a_publish_loads_the_new_version_once_in_each_worker(site, train, serve):
    train(site)
    server = serve(check_seconds=0.2)
    workers = server.workers()
    published = train(site)  # the database row, then the CURRENT file: two triggers
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(server.loads(published)) < len(workers):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    time.sleep(1.0)  # five more checks each: room for a second load, if there were one
    assert server.loads(published) == {pid: 1 for pid in workers}
    assert {server.get("/api/health")["index_version"] for _ in range(6)} == {published}


# -- start-up: corrupt or missing local copies ---------------------------------------

def test_a_corrupt_local_copy_of_the_published_version_is_fetched_again_from_the_database(shared_site, train):
    (shared_site["corpus"] / "hours.csv").write_text(EVENING_FAQ, encoding="utf-8")
    published = train(shared_site)
    (shared_site["corpus"] / "hours.csv").unlink()  # a corpus-only rebuild could not answer about evenings
    corrupt(shared_site["index"], published)
    app = app_for(shared_site)
    try:
        client = app.test_client()
        health = settled_health(client)
        assert (health["status"], health["index_version"], health["index_source"]) == ("ok", published, "published")
        reply = client.post("/api/chat", json={"message": "Are you open in the evening?"}).get_json()
        assert reply["kind"] == "answer" and "evening" in reply["passages"][0]["text"]
        IndexStore(shared_site["index"]).load(published)  # the local copy is whole again
    finally:
        close_app(app)


def test_a_missing_local_copy_on_a_new_server_is_fetched_from_the_database(shared_site, train, tmp_path):
    published = train(shared_site)
    other = {**shared_site, "index": tmp_path / "other-index"}  # a second server, own disk, same database
    app = app_for(other)
    try:
        assert app.test_client().get("/api/health").get_json()["index_version"] == published
        assert IndexStore(other["index"]).current() == published
    finally:
        close_app(app)


def test_without_a_usable_copy_anywhere_a_corpus_fallback_serves_and_health_says_so(site):
    local_only = publish_build(build_index(site["corpus"]), site["index"], site["corpus"])
    corrupt(site["index"], local_only)
    for _ in range(2):  # and again after a restart: still the fallback, still said
        app = app_for(site)
        try:
            health = app.test_client().get("/api/health").get_json()
            assert (health["status"], health["index_source"]) == ("degraded", CORPUS_FALLBACK)
            assert health["index_version"] != local_only
            assert app.test_client().post("/api/chat", json={"message": "Do the needles hurt?"}).status_code == 200
        finally:
            close_app(app)


def test_a_publication_after_a_fallback_makes_health_ok_again(site, train):
    corrupt(site["index"], publish_build(build_index(site["corpus"]), site["index"], site["corpus"]))
    app = app_for(site)
    try:
        assert app.test_client().get("/api/health").get_json()["index_source"] == CORPUS_FALLBACK
        published = train(site)
        app.extensions["chatbot"].live_index.refresh()  # (or the watcher's check, whichever comes first)
        health = settled_health(app.test_client())
        assert (health["status"], health["index_version"], health["index_source"]) == ("ok", published, "published")
    finally:
        close_app(app)


def test_the_version_built_at_a_first_start_is_registered_and_can_be_rolled_back_to(shared_site, train):
    app = app_for(shared_site)
    try:
        first = app.extensions["chatbot"].live_index.get().version
        record = app.extensions["chatbot_workspace"].versions.get(first)
        assert (record.status, record.created_by, record.report["passages"]) == ("candidate", "server first start", 4)
        later = train(shared_site)
        app.extensions["chatbot_workspace"].rollback(first, COMMAND_LINE)
        assert app.extensions["chatbot"].live_index.get().version == first != later
    finally:
        close_app(app)


# -- the live index itself -----------------------------------------------------------

class CountingStore(IndexStore):
    """An IndexStore that counts how often each version's files are loaded (to serve or to check them)."""

    def __init__(self, root, monkeypatch, **kwargs):
        super().__init__(root, **kwargs)
        self.loads: dict[str, int] = {}
        count_lock = threading.Lock()
        load_index = store_module.load_index

        def counting_load_index(folder, *args, **kwargs):
            with count_lock:
                self.loads[Path(folder).name] = self.loads.get(Path(folder).name, 0) + 1
            return load_index(folder, *args, **kwargs)

        monkeypatch.setattr(store_module, "load_index", counting_load_index)


class FakeDatabase:
    """A VersionSource: `version` is published; files come from a folder of saved versions."""

    def __init__(self, store: IndexStore, version: str | None = None):
        self.store, self.version, self.fetched = store, version, []

    def published(self):
        return self.version

    def fetch(self, version, folder):
        self.fetched.append(version)
        shutil.copytree(self.store.path(version), folder)
        return True


@pytest.fixture
def two_versions(tmp_path, topic_index, monkeypatch):
    """(store, database, old, new): `old` published in the store, `new` added but not published."""
    store = CountingStore(tmp_path / "index", monkeypatch)
    old = store.add(topic_index)
    store.publish(old)
    new = store.add(topic_index)
    database = FakeDatabase(IndexStore(tmp_path / "index"), old)
    return store, database, old, new


def test_the_database_row_and_the_current_file_of_one_publish_load_it_once(two_versions):
    store, database, old, new = two_versions
    live = LiveIndex(store, source=database)
    assert live.refresh() is True
    database.version = new  # the database row first, as train.py writes it
    assert live.refresh() is True
    assert store.loads[new] == 1  # served and recorded as CURRENT here without a second load to check it
    store.publish(new)  # then train.py writes the CURRENT file (checking the version in its own process)
    loads = store.loads[new]
    assert live.refresh() is False
    assert live.get().version == new and store.loads[new] == loads
    live.stop()


class SlowDatabase(FakeDatabase):
    """A FakeDatabase whose checks take a while, and which records whether one was under way."""

    def __init__(self, *args):
        super().__init__(*args)
        self.checking = threading.Event()
        self.checks_after_stop = 0
        self.stopped = False

    def published(self):
        self.checking.set()
        time.sleep(0.3)
        if self.stopped:
            self.checks_after_stop += 1
        return self.version


def test_stopping_the_watcher_waits_for_a_check_under_way(two_versions):
    # close_app disposes the storage right after stop(): a check still running
    # then would open a connection nobody closes.
    store, _, old, _ = two_versions
    database = SlowDatabase(IndexStore(store.root), old)
    live = LiveIndex(store, source=database, check_seconds=0.05)
    live.start_watching()
    assert database.checking.wait(5)
    live.stop()
    database.stopped = True
    time.sleep(0.5)
    assert database.checks_after_stop == 0


def test_two_triggers_at_once_load_one_version_once(two_versions):
    store, database, old, new = two_versions
    live = LiveIndex(store, source=database)
    live.refresh()
    database.version = new
    at_once([live.refresh] * 4)
    assert store.loads[new] == 1 and live.served.version == new


def test_the_database_publication_wins_over_the_local_current_file_and_is_recorded_here(two_versions):
    store, database, old, new = two_versions
    database.version = new
    live = LiveIndex(store, source=database)
    assert live.refresh() is True
    assert (live.served.version, store.current()) == (new, new)


@pytest.fixture
def corrupt_new(two_versions, tmp_path):
    """(store, database, new): `new`'s local copy is corrupt; the database publishes a whole copy."""
    store, _, old, new = two_versions
    pristine = IndexStore(tmp_path / "pristine")
    shutil.copytree(store.versions_dir, pristine.versions_dir)
    corrupt(store.root, new)
    return store, FakeDatabase(pristine, new), new


def at_once(calls) -> None:
    """Run `calls` in threads started together (each bounded by DEADLINE_SECONDS)."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS)


def test_a_corrupt_local_copy_is_replaced_by_the_database_copy(corrupt_new):
    store, database, new = corrupt_new
    live = LiveIndex(store, source=database)
    assert live.refresh() is True
    assert database.fetched == [new] and live.served.version == new
    assert live.refresh() is False and database.fetched == [new]


def test_workers_finding_one_corrupt_copy_at_once_fetch_it_once(corrupt_new):
    store, database, new = corrupt_new
    workers = [LiveIndex(IndexStore(store.root), source=database) for _ in range(3)]
    at_once(worker.refresh for worker in workers)
    assert [worker.served.version for worker in workers] == [new] * 3
    assert database.fetched == [new]


def test_a_version_the_database_cannot_provide_either_is_skipped(two_versions, tmp_path):
    store, database, old, new = two_versions
    live = LiveIndex(store, source=database)
    live.refresh()
    corrupt(store.root, new)
    database.version = new
    database.fetch = lambda version, folder: False
    assert live.refresh() is False
    assert live.served.version == old and live.failed_version == new


def test_a_database_that_is_down_leaves_the_local_current_file_in_charge(two_versions):
    store, database, old, new = two_versions

    def down():
        raise OSError("connection refused")

    database.published = down
    live = LiveIndex(store, source=database)
    assert live.refresh() is True and live.served.version == old


def test_a_forked_worker_waits_for_its_first_check_and_beats_meanwhile(two_versions):
    store, database, old, new = two_versions
    live = LiveIndex(store, check_seconds=60, source=database)
    live.refresh()
    database.version = new
    beaten = threading.Event()
    answer = database.published

    def published_after_a_heartbeat():
        assert beaten.wait(DEADLINE_SECONDS)  # the check lasts until the worker has beaten once
        return answer()

    database.published = published_after_a_heartbeat
    live.serve_published(heartbeat=beaten.set, beat_seconds=0.01)
    assert live.served.version == new
    live.stop()


def test_store_receive_with_replace_swaps_a_corrupt_folder_for_a_whole_one(corrupt_new):
    store, database, new = corrupt_new
    pristine = database.store
    store.receive(new, lambda folder: shutil.copytree(pristine.path(new), folder))
    with pytest.raises(IndexLoadError):
        store.load(new)  # without replace, the version present is kept
    store.receive(new, lambda folder: shutil.copytree(pristine.path(new), folder), replace=True)
    store.load(new)
    assert not [p for p in store.versions_dir.iterdir() if p.name.startswith(".")]


# -- recycling: a stopping worker exits at once ----------------------------------------

@pytest.fixture
def gunicorn_hooks():
    return load_script("gunicorn.conf.py")


class Exited(Exception):
    pass


def test_a_worker_that_served_runs_its_exit_handlers_then_skips_the_interpreter_teardown(gunicorn_hooks,
                                                                                          monkeypatch):
    ran, exits = [], []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append("exit handlers"))

    def fake_exit(status):
        exits.append(status)
        raise Exited

    monkeypatch.setattr(os, "_exit", fake_exit)
    with pytest.raises(Exited):
        gunicorn_hooks.worker_exit(None, type("Worker", (), {"booted": True})())
    assert ran == ["exit handlers"] and exits == [0]


def test_a_worker_that_failed_to_boot_keeps_its_exit_status(gunicorn_hooks, monkeypatch):
    monkeypatch.setattr(os, "_exit", lambda status: pytest.fail("a boot failure must reach the master"))
    assert gunicorn_hooks.worker_exit(None, type("Worker", (), {"booted": False})()) is None
