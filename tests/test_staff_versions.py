"""Index versions in the database: builds and their heartbeat, files, publications.

Runs on a SQLite file always and on PostgreSQL too when CHATBOT_TEST_POSTGRES_URL
names a database (each test gets a schema of its own, dropped afterwards).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from chatbot.index.artifact import load_index, save_index
from chatbot.staff import VersionRegistry
from chatbot.staff.model import transaction
from chatbot.staff.tables import IndexVersionRow
from chatbot.staff.versions import STALE_BUILD_ERROR
from chatbot.storage import Storage, StorageError

ANN, BOB = "ann@clinic.example", "bob@clinic.example"
REPORT = {"passages": 5, "problems": []}
EVALUATION = {"candidate": {"hit@3": 0.9}, "published": None}
CHANGES = [{"question": "How long?", "before": None, "after": "answer"}]


@pytest.fixture
def registry(storage):
    return VersionRegistry(storage)


@pytest.fixture
def index_folder(tmp_path, topic_index):
    """A tiny saved index."""
    folder = tmp_path / "built"
    save_index(topic_index, folder, {"version": "v1"})
    return folder


@pytest.fixture
def candidate(registry, index_folder):
    """Factory: a finished build with files, by version id."""
    def make(version: str) -> str:
        registry.start(version, ANN)
        registry.upload_files(version, index_folder)
        registry.finish(version, REPORT, EVALUATION, CHANGES)
        return version
    return make


def set_times(storage, version: str, **times: datetime | None) -> None:
    """Move a version's created_at or heartbeat_at, as if it had been written then."""
    with transaction(storage, "moving times", write=True) as session:
        session.execute(update(IndexVersionRow).where(IndexVersionRow.version == version).values(**times))


# Builds

def test_a_started_build_is_building_at_0_percent_without_a_heartbeat(registry):
    record = registry.start("20261121T101500.123456Z-3f9a1c", ANN)
    assert (record.version, record.status, record.created_by, record.progress, record.stage) == (
        "20261121T101500.123456Z-3f9a1c", "building", ANN, 0, "")
    assert (record.heartbeat_at, record.report, record.evaluation, record.changes, record.error) == (
        None, {}, {}, [], None)
    assert record.created_at.utcoffset().total_seconds() == 0
    assert registry.get(record.version) == record


def test_starting_a_version_id_twice_is_refused(registry):
    registry.start("v1", ANN)
    with pytest.raises(ValueError, match="exists already"):
        registry.start("v1", BOB)
    assert registry.get("v1").created_by == ANN


@pytest.mark.parametrize("version", ["", ".hidden", "a/b", "a\\b", "a b", "v\n1", "x" * 65, None, 1])
def test_version_ids_that_cannot_name_a_folder_are_refused(registry, version):
    with pytest.raises(ValueError):
        registry.start(version, ANN)
    assert registry.list() == []


def test_progress_records_percent_stage_and_a_heartbeat(registry):
    started = registry.start("v1", ANN)
    registry.progress("v1", 40, "  Building   the index ")
    record = registry.get("v1")
    assert (record.status, record.progress, record.stage) == ("building", 40, "Building the index")
    assert record.heartbeat_at >= started.created_at


@pytest.mark.parametrize("percent, stage", [(-1, "x"), (101, "x"), (50.5, "x"), (True, "x"), (10, None),
                                            (10, "x" * 201)])
def test_progress_refuses_percentages_outside_0_to_100_and_long_stages(registry, percent, stage):
    registry.start("v1", ANN)
    with pytest.raises(ValueError):
        registry.progress("v1", percent, stage)
    assert registry.get("v1").progress == 0


def test_a_finished_build_is_a_candidate_with_its_report_evaluation_and_changes(registry):
    registry.start("v1", ANN)
    registry.progress("v1", 75, "Checking")
    registry.finish("v1", REPORT, EVALUATION, CHANGES)
    record = registry.get("v1")
    assert (record.status, record.progress, record.error) == ("candidate", 100, None)
    assert (record.report, record.evaluation, record.changes) == (REPORT, EVALUATION, CHANGES)


def test_a_failed_build_keeps_its_error(registry):
    registry.start("v1", ANN)
    registry.fail("v1", "  CorpusError: corpus folder not found ")
    record = registry.get("v1")
    assert (record.status, record.error) == ("failed", "CorpusError: corpus folder not found")


@pytest.mark.parametrize("ended", ["candidate", "failed"])
def test_an_ended_build_takes_no_more_progress_and_cannot_finish_again(registry, ended):
    registry.start("v1", ANN)
    if ended == "candidate":
        registry.finish("v1", REPORT, EVALUATION, CHANGES)
    else:
        registry.fail("v1", "boom")
    with pytest.raises(ValueError, match=f"is {ended}"):
        registry.progress("v1", 50, "late beat")
    with pytest.raises(ValueError, match=f"is {ended}"):
        registry.finish("v1", {}, {}, [])
    assert registry.get("v1").status == ended


def test_a_candidate_cannot_fail(registry):
    registry.start("v1", ANN)
    registry.finish("v1", REPORT, EVALUATION, CHANGES)
    with pytest.raises(ValueError, match="is candidate"):
        registry.fail("v1", "late error")
    assert registry.get("v1").error is None


def test_the_real_error_replaces_the_stale_marking_of_a_build(registry):
    registry.start("v1", ANN)
    assert registry.mark_stale_builds_failed(timedelta(0), now=datetime.now(timezone.utc) + timedelta(1)) == 1
    registry.fail("v1", "MemoryError: out of memory")
    assert registry.get("v1").error == "MemoryError: out of memory"


def test_unknown_versions_read_as_none_and_cannot_be_updated(registry):
    assert registry.get("nope") is None
    for call in (lambda: registry.progress("nope", 1, "x"), lambda: registry.finish("nope", {}, {}, []),
                 lambda: registry.fail("nope", "x")):
        with pytest.raises(ValueError, match="no index version"):
            call()


@pytest.mark.parametrize("report, evaluation, changes", [
    ({"score": float("nan")}, {}, []), ({}, {"when": datetime.now()}, []), ({}, {}, {"not": "a list"}),
    ([], {}, [])])
def test_finish_refuses_results_that_are_not_json(registry, report, evaluation, changes):
    registry.start("v1", ANN)
    with pytest.raises(ValueError):
        registry.finish("v1", report, evaluation, changes)
    assert registry.get("v1").status == "building"


def test_versions_are_listed_newest_first(registry, storage):
    for version in ("v1", "v2", "v3"):
        registry.start(version, ANN)
    set_times(storage, "v2", created_at=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert [v.version for v in registry.list()] == ["v2", "v3", "v1"]


def test_builds_whose_heartbeat_stopped_are_marked_failed(registry, storage):
    now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    hour_ago, minute_ago = now - timedelta(hours=1), now - timedelta(minutes=1)
    for version in ("silent", "beating", "never-beat", "young", "done"):
        registry.start(version, ANN)
    set_times(storage, "silent", created_at=hour_ago, heartbeat_at=hour_ago)
    set_times(storage, "beating", created_at=hour_ago, heartbeat_at=minute_ago)
    set_times(storage, "never-beat", created_at=hour_ago)
    set_times(storage, "young", created_at=minute_ago)
    registry.finish("done", REPORT, EVALUATION, CHANGES)
    set_times(storage, "done", created_at=hour_ago, heartbeat_at=hour_ago)

    assert registry.mark_stale_builds_failed(timedelta(minutes=10), now=now) == 2
    status = {v.version: (v.status, v.error) for v in registry.list()}
    assert status == {"silent": ("failed", STALE_BUILD_ERROR), "never-beat": ("failed", STALE_BUILD_ERROR),
                      "beating": ("building", None), "young": ("building", None), "done": ("candidate", None)}
    assert registry.mark_stale_builds_failed(timedelta(minutes=10), now=now) == 0


def test_marking_stale_builds_uses_the_current_time_by_default(registry):
    registry.start("v1", ANN)
    assert registry.mark_stale_builds_failed(timedelta(minutes=10)) == 0
    assert registry.mark_stale_builds_failed(timedelta(0)) == 1


@pytest.mark.parametrize("older_than, now", [(timedelta(seconds=-1), None), (timedelta(0), datetime(2026, 1, 1))])
def test_marking_stale_builds_refuses_a_negative_age_or_a_naive_now(registry, older_than, now):
    with pytest.raises(ValueError):
        registry.mark_stale_builds_failed(older_than, now=now)


# Files

def test_the_files_of_a_saved_index_come_back_byte_for_byte_and_load(registry, index_folder, tmp_path,
                                                                     topic_index):
    (index_folder / "notes").mkdir()
    (index_folder / "notes" / "ignored.txt").write_text("not part of the index")
    registry.start("v1", ANN)
    registry.upload_files("v1", index_folder)
    fetched = tmp_path / "fetched" / "versions" / "v1"
    assert registry.download_files("v1", fetched) is True
    expected = {p.name: p.read_bytes() for p in index_folder.iterdir() if p.is_file()}
    assert {p.name: p.read_bytes() for p in fetched.iterdir()} == expected
    loaded, manifest = load_index(fetched)
    assert manifest["version"] == "v1"
    query = "do the needles hurt"
    assert [h.passage.id for h in loaded.search(query)] == [h.passage.id for h in topic_index.search(query)]


def test_uploading_again_replaces_the_files(registry, index_folder, tmp_path):
    registry.start("v1", ANN)
    registry.upload_files("v1", index_folder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text("{}")
    registry.upload_files("v1", other)
    assert registry.download_files("v1", tmp_path / "fetched") is True
    assert [p.name for p in (tmp_path / "fetched").iterdir()] == ["manifest.json"]


def test_a_version_without_files_downloads_nothing(registry, tmp_path):
    registry.start("v1", ANN)
    assert registry.download_files("v1", tmp_path / "v1") is False
    assert registry.download_files("unknown", tmp_path / "unknown") is False
    assert not (tmp_path / "v1").exists() and not (tmp_path / "unknown").exists()


def test_only_a_building_version_takes_files(registry, index_folder, candidate):
    candidate("v1")
    with pytest.raises(ValueError, match="is candidate"):
        registry.upload_files("v1", index_folder)
    with pytest.raises(ValueError, match="no index version"):
        registry.upload_files("unknown", index_folder)


def test_uploading_needs_a_folder_with_files_of_short_names(registry, tmp_path):
    registry.start("v1", ANN)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no files"):
        registry.upload_files("v1", empty)
    with pytest.raises(ValueError, match="not a folder"):
        registry.upload_files("v1", tmp_path / "missing")
    (empty / ("x" * 65)).write_bytes(b"data")
    with pytest.raises(ValueError, match="longer than 64"):
        registry.upload_files("v1", empty)
    assert registry.download_files("v1", tmp_path / "fetched") is False


# Publications

def test_nothing_is_published_at_first(registry):
    assert registry.published() is None
    assert registry.history() == []


def test_publishing_a_candidate_makes_it_the_published_version(registry, candidate):
    candidate("v1")
    publication = registry.publish("v1", BOB, "  first index ")
    assert (publication.version, publication.published_by, publication.reason) == ("v1", BOB, "first index")
    assert publication.published_at.utcoffset().total_seconds() == 0
    assert registry.published() == publication
    assert registry.history() == [publication]


def test_publishing_an_older_version_again_rolls_back_and_history_is_newest_first(registry, candidate):
    candidate("v1")
    candidate("v2")
    first = registry.publish("v1", ANN)
    second = registry.publish("v2", ANN, "")
    rollback = registry.publish("v1", BOB, "rollback")
    assert registry.published() == rollback and rollback.version == "v1"
    assert registry.history() == [rollback, second, first]
    assert (first.reason, second.reason) == (None, None)
    again = registry.publish("v1", BOB)
    assert registry.published() == again


def test_only_a_candidate_with_files_can_be_published(registry, index_folder):
    registry.start("building", ANN)
    registry.upload_files("building", index_folder)
    registry.start("failed", ANN)
    registry.upload_files("failed", index_folder)
    registry.fail("failed", "boom")
    registry.start("empty", ANN)
    registry.finish("empty", REPORT, EVALUATION, CHANGES)
    for version, message in (("unknown", "no index version"), ("building", "is building"),
                             ("failed", "is failed"), ("empty", "no files")):
        with pytest.raises(ValueError, match=message):
            registry.publish(version, ANN)
    assert registry.history() == []


def test_publishing_refuses_an_overlong_reason(registry, candidate):
    candidate("v1")
    with pytest.raises(ValueError, match="reason"):
        registry.publish("v1", ANN, "x" * 2001)
    assert registry.published() is None


def test_versions_on_a_database_without_the_schema_raise_storage_error(database_url):
    storage = Storage(database_url)  # not migrated
    try:
        with pytest.raises(StorageError, match="published version"):
            VersionRegistry(storage).published()
    finally:
        storage.dispose()
