"""One checksum pass per version per server: a verification record, and what it never trusts.

The hashes are counted by wrapping verification.sha256_of. A "worker" is a
LiveIndex over its own IndexStore object, as each gunicorn worker has.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest

from chatbot.index import PassageIndex, verification
from chatbot.index.artifact import DATA_FILES, IndexLoadError
from chatbot.index.live import LiveIndex
from chatbot.index.store import IndexStore

TEXTS = ("Acupuncture uses thin needles to relieve chronic lower back pain.",
         "Cupping uses suction cups to loosen tight back muscles.")
BOUND_SECONDS = 30


@pytest.fixture
def hashed(monkeypatch):
    """The names of the files hashed so far (every process of the test is this one)."""
    names: list[str] = []
    lock = threading.Lock()
    sha256_of = verification.sha256_of

    def counting(path):
        with lock:
            names.append(path.name)
        return sha256_of(path)

    monkeypatch.setattr(verification, "sha256_of", counting)
    return names


@pytest.fixture
def store(tmp_path, make_passage):
    store = IndexStore(tmp_path / "index")
    store.add(PassageIndex().fit([make_passage(f"doc{i}", text) for i, text in enumerate(TEXTS)]))
    return store


def only_version(store: IndexStore) -> str:
    [info] = store.versions()
    return info.version


def flip_a_byte_keeping_size_and_mtime(path) -> None:
    """Damage `path` in place the way a stray write would, then set its mtime back."""
    status = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(status.st_size // 2)
        byte = handle.read(1)
        handle.seek(status.st_size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


class Database:
    """A VersionSource publishing `version`, whose files come from a pristine store."""

    def __init__(self, pristine: IndexStore, version: str):
        self.pristine, self.version, self.fetched = pristine, version, []

    def published(self) -> str:
        return self.version

    def fetch(self, version, folder) -> bool:
        self.fetched.append(version)
        shutil.copytree(self.pristine.path(version), folder)
        return True


def publish_and_load_in_two_workers(store: IndexStore, version: str) -> None:
    """What one publish does on a server: the publisher's check, then each worker's load."""
    store.publish(version)
    workers = [LiveIndex(IndexStore(store.root)) for _ in range(2)]
    try:
        assert all(worker.refresh() for worker in workers)
        assert [worker.served.version for worker in workers] == [version, version]
    finally:
        for worker in workers:
            worker.stop()


def test_a_version_saved_here_is_hashed_again_by_neither_its_publish_nor_the_workers(store, hashed):
    publish_and_load_in_two_workers(store, only_version(store))
    assert hashed == []  # save_index hashed what it wrote: that is the one pass


def test_a_version_copied_in_is_hashed_once_on_a_server(store, tmp_path, hashed):
    version = only_version(store)
    server = IndexStore(tmp_path / "server")
    shutil.copytree(store.versions_dir, server.versions_dir)  # not saved by this store: no record
    publish_and_load_in_two_workers(server, version)
    assert sorted(hashed) == sorted(DATA_FILES)


def test_a_version_damaged_between_its_save_and_its_publish_is_refused(store):
    version = only_version(store)
    flip_a_byte_keeping_size_and_mtime(store.path(version) / "idf.npy")
    with pytest.raises(IndexLoadError, match=r"idf\.npy does not match its checksum"):
        store.publish(version)
    assert store.current() is None


def test_a_file_changed_in_place_after_the_check_is_hashed_again_and_refused(store, hashed):
    version = only_version(store)
    store.publish(version)
    damaged = store.path(version) / "postings.data.npy"
    flip_a_byte_keeping_size_and_mtime(damaged)
    with pytest.raises(IndexLoadError, match=r"postings\.data\.npy does not match its checksum"):
        store.load(version)
    assert hashed.count("postings.data.npy") == 1


def test_a_copy_damaged_after_it_was_recorded_whole_is_fetched_again_from_the_database(store, tmp_path, hashed):
    version = only_version(store)
    pristine = IndexStore(tmp_path / "pristine")
    shutil.copytree(store.versions_dir, pristine.versions_dir)
    store.publish(version)  # recorded whole
    flip_a_byte_keeping_size_and_mtime(store.path(version) / "passages.blob.npy")
    database = Database(pristine, version)
    worker = LiveIndex(IndexStore(store.root), source=database)
    try:
        assert worker.refresh() is True
        assert database.fetched == [version] and worker.served.version == version
    finally:
        worker.stop()
    hashed.clear()
    store.load(version)  # the fetched copy was checked in full, then recorded
    assert hashed == []


def test_workers_fetching_a_missing_version_at_once_hash_it_once(store, tmp_path, hashed):
    version = only_version(store)
    server = IndexStore(tmp_path / "new-server")  # a second server: nothing on its disk yet
    database = Database(store, version)
    workers = [LiveIndex(IndexStore(server.root), source=database) for _ in range(3)]
    threads = [threading.Thread(target=worker.refresh) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND_SECONDS)
    try:
        assert [worker.served.version for worker in workers] == [version] * 3
    finally:
        for worker in workers:
            worker.stop()
    assert database.fetched == [version]
    assert sorted(hashed) == sorted(DATA_FILES)


def test_a_copied_folder_is_hashed_in_full_even_with_the_record_beside_it(store, tmp_path, hashed):
    version = only_version(store)
    store.publish(version)
    copy = IndexStore(tmp_path / "copy")
    shutil.copytree(store.versions_dir, copy.versions_dir)  # same bytes and mtimes, other inodes
    shutil.copytree(store.verified_dir, copy.verified_dir)
    hashed.clear()
    copy.load(version)
    assert sorted(hashed) == sorted(DATA_FILES)


def test_a_record_made_before_a_reboot_is_not_trusted(store, hashed, monkeypatch):
    version = only_version(store)
    store.publish(version)
    monkeypatch.setattr(verification, "boot_id", lambda: "another-boot")
    hashed.clear()
    store.load(version)
    assert sorted(hashed) == sorted(DATA_FILES)


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b'{"format": 99, "files": {}}'])
def test_an_unreadable_record_is_ignored_and_made_again(store, hashed, garbage):
    version = only_version(store)
    store.publish(version)
    store.verification_record(version).write_bytes(garbage)
    hashed.clear()
    store.load(version)
    assert sorted(hashed) == sorted(DATA_FILES)
    hashed.clear()
    store.load(version)
    assert hashed == []


def test_a_record_naming_another_checksum_than_the_manifest_is_not_trusted(store, hashed):
    version = only_version(store)
    store.publish(version)
    record = store.verification_record(version)
    record.write_text(record.read_text("utf-8").replace('"sha256": "', '"sha256": "0'), encoding="utf-8")
    hashed.clear()
    store.load(version)
    assert sorted(hashed) == sorted(DATA_FILES)


def test_a_store_on_a_read_only_record_folder_still_loads_and_checks_in_full(store, hashed):
    version = only_version(store)
    shutil.rmtree(store.verified_dir)
    store.verified_dir.write_text("not a folder", encoding="utf-8")  # no record can be read or written
    for _ in range(2):
        store.load(version)
    assert sorted(hashed) == sorted(DATA_FILES * 2)


def test_prune_removes_the_records_of_removed_versions(tmp_path, make_passage):
    store = IndexStore(tmp_path / "index", keep=1)
    index = PassageIndex().fit([make_passage("doc0", TEXTS[0])])
    first = store.add(index)
    store.publish(first)
    second = store.add(index)
    store.publish(second)
    assert store.verification_record(second).is_file()
    assert not store.verification_record(first).exists()
