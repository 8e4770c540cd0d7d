"""IndexStore: versions written aside, published atomically, rolled back and pruned."""
from __future__ import annotations

import os
import time
import types

import pytest

from chatbot.index import PassageIndex
from chatbot.index import store as store_module
from chatbot.index.artifact import IndexLoadError, save_index
from chatbot.index.store import POINTER, STALE_BUILD_SECONDS, IndexStore

FIRST = ("Acupuncture uses thin needles to relieve chronic lower back pain.",
         "Cupping uses suction cups to loosen tight back muscles.")
SECOND = ("Moxibustion warms acupuncture points with burning mugwort.",
          "Electroacupuncture passes a small current between two needles.",
          "Heat packs relax stiff muscles after a session.")


@pytest.fixture
def tiny_index(make_passage):
    """Factory: a fitted index with one hand-made passage per text."""
    def fit(*texts: str) -> PassageIndex:
        return PassageIndex().fit([make_passage(f"doc{i}", text) for i, text in enumerate(texts)])
    return fit


@pytest.fixture
def store(tmp_path):
    return IndexStore(tmp_path / "index", keep=3)


def ids_of(index: PassageIndex) -> list[str]:
    return [p.id for p in index.passages_]


def test_empty_store_has_no_current_version(tmp_path):
    store = IndexStore(tmp_path / "index")
    assert store.current() is None
    assert store.versions() == []
    with pytest.raises(IndexLoadError, match="no index has been published"):
        store.load()


def test_add_does_not_publish_and_publish_sets_current(store, tiny_index):
    version = store.add(tiny_index(*FIRST))
    assert store.current() is None
    assert [v.version for v in store.versions()] == [version]
    store.publish(version)
    assert store.current() == version
    assert (store.root / POINTER).read_text(encoding="utf-8").strip() == version
    index, manifest = store.load()
    assert manifest["version"] == version
    assert ids_of(index) == ids_of(tiny_index(*FIRST))


def test_versions_lists_counts_and_marks_the_published_one(store, tiny_index):
    first = store.add(tiny_index(*FIRST), {"build": {"documents": 2}})
    second = store.add(tiny_index(*SECOND), {"build": {"documents": 3}})
    store.publish(first)
    listed = [(v.version, v.passages, v.documents, v.current) for v in store.versions()]
    assert listed == [(second, 3, 3, False), (first, 2, 2, True)]  # newest first


def test_reader_never_sees_a_half_written_version(store, monkeypatch, tiny_index):
    published = store.add(tiny_index(*FIRST))
    store.publish(published)
    seen_while_writing = {}
    real_save = store_module.save_index

    def observing_save(index, folder, info=None):
        manifest = real_save(index, folder, info)
        seen_while_writing["folder"] = folder
        seen_while_writing["versions"] = [v.version for v in store.versions()]
        seen_while_writing["current"] = store.current()
        return manifest

    monkeypatch.setattr(store_module, "save_index", observing_save)
    added = store.add(tiny_index(*SECOND))
    assert seen_while_writing["folder"].name.startswith(".")
    assert seen_while_writing["folder"].name != added
    assert seen_while_writing["versions"] == [published]
    assert seen_while_writing["current"] == published
    assert {v.version for v in store.versions()} == {published, added}
    assert not any(p.name.startswith(".") for p in store.versions_dir.iterdir())


def test_failed_write_leaves_no_version_and_no_staging_folder(store, monkeypatch, tiny_index):
    published = store.add(tiny_index(*FIRST))
    store.publish(published)
    real_save = store_module.save_index

    def failing_save(index, folder, info=None):
        real_save(index, folder, info)
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "save_index", failing_save)
    with pytest.raises(OSError, match="disk full"):
        store.add(tiny_index(*SECOND))
    assert [p.name for p in store.versions_dir.iterdir()] == [published]
    assert store.current() == published


def test_hidden_staging_folder_is_not_a_version(store, tiny_index):
    staging = store.versions_dir / ".building-20260101T000000Z-abcdef"
    save_index(tiny_index(*FIRST), staging)
    assert store.versions() == []
    with pytest.raises(IndexLoadError, match="not a version id"):
        store.publish(staging.name)
    assert store.current() is None


@pytest.mark.parametrize("version", ["", ".", "..", ".building-20260101T000000Z-abcdef",
                                     "../versions", "a/b", "a\\b", "20990101T000000Z-000000"])
def test_publish_of_unknown_or_malformed_version_is_refused(store, version, tiny_index):
    published = store.add(tiny_index(*FIRST))
    store.publish(published)
    with pytest.raises(IndexLoadError):
        store.publish(version)
    with pytest.raises(IndexLoadError):
        store.rollback(version)
    assert store.current() == published


def test_publish_of_a_folder_that_is_not_an_index_is_refused(store, tiny_index):
    published = store.add(tiny_index(*FIRST))
    store.publish(published)
    (store.versions_dir / "20260101T999999Z-000000").mkdir()
    with pytest.raises(IndexLoadError, match="not an index"):
        store.publish("20260101T999999Z-000000")
    assert store.current() == published


def test_publish_of_a_version_with_a_missing_data_file_is_refused(store, tiny_index):
    published = store.add(tiny_index(*FIRST))
    store.publish(published)
    broken = store.add(tiny_index(*SECOND))
    (store.path(broken) / "postings.data.npy").unlink()
    with pytest.raises(IndexLoadError, match=r"postings\.data\.npy"):
        store.publish(broken)
    assert store.current() == published


def test_rollback_serves_the_earlier_version_again(store, tiny_index):
    first = store.add(tiny_index(*FIRST))
    store.publish(first)
    second = store.add(tiny_index(*SECOND))
    store.publish(second)
    assert ids_of(store.load()[0]) == ids_of(tiny_index(*SECOND))
    store.rollback(first)
    assert store.current() == first
    index, manifest = store.load()
    assert manifest["version"] == first
    assert ids_of(index) == ids_of(tiny_index(*FIRST))


def test_rollback_to_a_corrupt_version_is_refused(store, tiny_index):
    first = store.add(tiny_index(*FIRST))
    second = store.add(tiny_index(*SECOND))
    store.publish(second)
    postings = store.path(first) / "postings.data.npy"
    postings.write_bytes(postings.read_bytes()[:-20])
    with pytest.raises(IndexLoadError, match=r"postings\.data\.npy"):
        store.rollback(first)
    assert store.current() == second


def test_prune_keeps_the_newest_versions_and_the_published_one(tmp_path, tiny_index):
    store = IndexStore(tmp_path / "index", keep=2)
    added = [store.add(tiny_index(*FIRST)) for _ in range(5)]
    store.publish(added[0])  # publishing prunes
    assert {v.version for v in store.versions()} == {added[4], added[3], added[0]}
    on_disk = sorted(p.name for p in store.versions_dir.iterdir())
    assert on_disk == sorted([added[0], added[3], added[4]])
    assert store.prune() == []


def test_prune_returns_what_it_removed(tmp_path, tiny_index):
    store = IndexStore(tmp_path / "index", keep=1)
    added = [store.add(tiny_index(*FIRST)) for _ in range(3)]
    assert sorted(store.prune()) == sorted(added[:2])
    assert [v.version for v in store.versions()] == [added[2]]


def test_prune_removes_only_stale_staging_folders(store, tiny_index):
    store.add(tiny_index(*FIRST))
    fresh = store.versions_dir / ".building-fresh"
    stale = store.versions_dir / ".building-stale"
    fresh.mkdir()
    stale.mkdir()
    old = time.time() - STALE_BUILD_SECONDS - 60
    os.utime(stale, (old, old))
    store.prune()
    assert fresh.is_dir()
    assert not stale.exists()


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_below_one_is_rejected(tmp_path, keep):
    with pytest.raises(ValueError, match="keep"):
        IndexStore(tmp_path, keep=keep)


def test_versions_added_in_quick_succession_are_listed_newest_first(tmp_path, tiny_index):
    store = IndexStore(tmp_path / "index", keep=10)
    added = [store.add(tiny_index(*FIRST)) for _ in range(6)]
    assert [v.version for v in store.versions()] == added[::-1]


@pytest.fixture
def guard_against_endless_id_loop(monkeypatch):
    """Fail instead of hanging if IndexStore keeps generating version ids."""
    real_token_hex = store_module.secrets.token_hex
    calls = []

    def counted_token_hex(n):
        calls.append(n)
        if len(calls) > 1_000:
            raise RuntimeError("IndexStore keeps generating version ids")
        return real_token_hex(n)

    monkeypatch.setattr(store_module, "secrets", types.SimpleNamespace(token_hex=counted_token_hex))


@pytest.mark.parametrize("stray", ["backup-before-update", "old", "README.txt"])
def test_stray_entry_in_versions_does_not_stop_new_versions(store, tiny_index, stray,
                                                            guard_against_endless_id_loop):
    store.versions_dir.mkdir(parents=True)
    if "." in stray:
        (store.versions_dir / stray).write_text("notes\n", encoding="utf-8")
    else:
        (store.versions_dir / stray).mkdir()
    version = store.add(tiny_index(*FIRST))
    store.publish(version)
    assert store.current() == version
    assert [v.version for v in store.versions()] == [version]


def test_new_version_sorts_after_a_version_from_a_clock_that_was_ahead(store, tiny_index,
                                                                     guard_against_endless_id_loop):
    future = store.add(tiny_index(*FIRST))
    future_id = "20991231T235959.999999Z-abcdef"
    store.path(future).rename(store.versions_dir / future_id)
    version = store.add(tiny_index(*SECOND))
    assert version > future_id
    assert [v.version for v in store.versions()] == [version, future_id]
