"""Index versions shared by every server through the database.

A build registers its version ("building"), reports progress with a
heartbeat, uploads the files of its saved index and ends as a "candidate"
(with its report and evaluation) or "failed". Publishing adds a row to the
publications; the newest row names the version every server serves, so
rolling back is publishing an older candidate again. The files of a version
never change once its build has ended.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, or_, select, update

from ..index.artifact import IndexLoadError
from ..index.store import IndexStore
from ..storage import Storage, StorageError
from ..storage.tables import ID_LENGTH
from ..text import squash_spaces
from .model import BULK, Publication, VersionRecord, checked_json, checked_name, is_conflict, transaction, utc_now
from .tables import IndexFileRow, IndexVersionRow, PublicationRow

STALE_BUILD_ERROR = "the build stopped before finishing"
MAX_STAGE_LENGTH = 200  # IndexVersionRow.stage
MAX_FILE_NAME_LENGTH = 64  # IndexFileRow.name
MAX_ERROR_LENGTH = 4000
MAX_REASON_LENGTH = 2000
MAX_NOTE_LENGTH = 200  # a build's note, one line


class VersionRegistry:
    """Index versions, their files and their publications in `storage`'s database."""

    def __init__(self, storage: Storage):
        self.storage = storage

    # -- builds --------------------------------------------------------------------

    def start(self, version: str, created_by: str, note: str | None = None) -> VersionRecord:
        """Register a new build of `version` ("building", progress 0) with staff's optional `note`
        (at most MAX_NOTE_LENGTH characters); ValueError if the id is taken."""
        version = checked_version(version)
        created_by = checked_name(created_by, "created_by")
        note = checked_note(note)
        row = IndexVersionRow(version=version, status="building", created_at=utc_now(), created_by=created_by,
                              progress=0, stage="", heartbeat_at=None, report={}, evaluation={}, changes=[],
                              error=None, note=note)
        try:
            with transaction(self.storage, "registering an index build", write=True) as session:
                if session.get(IndexVersionRow, version) is not None:
                    raise ValueError(f"index version {version} exists already")
                session.add(row)
                session.flush()
                return _record(row)
        except StorageError as error:
            if is_conflict(error):  # registered by someone else between the check and the insert
                raise ValueError(f"index version {version} exists already") from None
            raise

    def progress(self, version: str, percent: int, stage: str) -> None:
        """Record how far the build is (0-100 and what it does now) and that it is alive.

        ValueError when `version` is not building (unknown, ended, or marked
        failed because its heartbeat stopped): the build should stop.
        """
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValueError(f"percent must be an integer from 0 to 100, not {percent!r}")
        if not isinstance(stage, str):
            raise ValueError(f"stage must be text, not {type(stage).__name__}")
        stage = squash_spaces(stage)
        if len(stage) > MAX_STAGE_LENGTH:
            raise ValueError(f"stage is longer than {MAX_STAGE_LENGTH} characters")
        self._update_build(version, ("building",), "report progress",
                           progress=percent, stage=stage, heartbeat_at=utc_now())

    def finish(self, version: str, report: dict, evaluation: dict, changes: list) -> None:
        """End the build as a "candidate" with its report, evaluation and changes (JSON).

        ValueError when `version` is not building.
        """
        report = checked_json(report, dict, "report")
        evaluation = checked_json(evaluation, dict, "evaluation")
        changes = checked_json(changes, list, "changes")
        self._update_build(version, ("building",), "finish", status="candidate", progress=100,
                           heartbeat_at=utc_now(), report=report, evaluation=evaluation, changes=changes)

    def fail(self, version: str, error: str) -> None:
        """End the build as "failed" with `error` (cut to 4000 characters).

        A build already marked failed takes the new error, which says more
        than STALE_BUILD_ERROR; ValueError for an unknown version or a candidate.
        """
        if not isinstance(error, str):
            raise ValueError(f"error must be text, not {type(error).__name__}")
        error = error.replace("\x00", "").strip()[:MAX_ERROR_LENGTH] or "the build failed"
        self._update_build(version, ("building", "failed"), "fail", status="failed", error=error)

    def mark_stale_builds_failed(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Mark failed every build whose last heartbeat (or start, before any) is older than
        `now - older_than`: its process died. Returns how many."""
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        cutoff = (now or utc_now()) - older_than
        silent = or_(IndexVersionRow.heartbeat_at < cutoff,
                     and_(IndexVersionRow.heartbeat_at.is_(None), IndexVersionRow.created_at < cutoff))
        stale = (update(IndexVersionRow).where(IndexVersionRow.status == "building", silent)
                 .values(status="failed", error=STALE_BUILD_ERROR))
        with transaction(self.storage, "marking stopped builds failed", write=True) as session:
            return session.execute(stale, execution_options=BULK).rowcount

    def get(self, version: str) -> VersionRecord | None:
        """The version's record, or None when unknown."""
        _require_text(version)
        with transaction(self.storage, "reading an index version") as session:
            row = session.get(IndexVersionRow, version)
            return None if row is None else _record(row)

    def list(self) -> list[VersionRecord]:
        """Every version, newest first."""
        query = select(IndexVersionRow).order_by(IndexVersionRow.created_at.desc(), IndexVersionRow.version.desc())
        with transaction(self.storage, "listing index versions") as session:
            return [_record(row) for row in session.scalars(query)]

    # -- files ---------------------------------------------------------------------

    def upload_files(self, version: str, folder: Path) -> None:
        """Store every file directly in `folder` (a saved index; subfolders ignored) for `version`.

        Replaces files uploaded before. ValueError when `version` is not
        building, or `folder` has no files or one with a name over 64 characters.
        """
        _require_text(version)
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"not a folder: {folder}")
        files = {}
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False):
                    if len(entry.name) > MAX_FILE_NAME_LENGTH:
                        raise ValueError(f"{entry.name}: file names longer than {MAX_FILE_NAME_LENGTH} "
                                         "characters cannot be stored")
                    files[entry.name] = Path(entry.path).read_bytes()
        if not files:
            raise ValueError(f"no files to upload in {folder}")
        with transaction(self.storage, "uploading index files", write=True) as session:
            _require_status(session, version, ("building",), "take files")
            session.execute(delete(IndexFileRow).where(IndexFileRow.version == version), execution_options=BULK)
            session.add_all(IndexFileRow(version=version, name=name, data=data) for name, data in files.items())

    def download_files(self, version: str, folder: Path) -> bool:
        """Write the files of `version` into `folder` (created if missing); False when it has none."""
        _require_text(version)
        query = select(IndexFileRow.name, IndexFileRow.data).where(IndexFileRow.version == version)
        with transaction(self.storage, "downloading index files") as session:
            files = session.execute(query).all()
        if not files:
            return False
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files:
            if name in ("", ".", "..") or "/" in name or "\\" in name:  # never written by upload_files
                raise ValueError(f"index version {version} has a file named {name!r}")
            (folder / name).write_bytes(data)
        return True

    # -- publications --------------------------------------------------------------

    def publish(self, version: str, by: str, reason: str | None = None) -> Publication:
        """Make `version` the one every server serves; publishing an older one again rolls back.

        ValueError unless `version` is a candidate with files.
        """
        _require_text(version)
        by = checked_name(by, "by")
        if reason is not None:
            if not isinstance(reason, str):
                raise ValueError(f"reason must be text, not {type(reason).__name__}")
            reason = reason.replace("\x00", "").strip() or None
            if reason and len(reason) > MAX_REASON_LENGTH:
                raise ValueError(f"reason is longer than {MAX_REASON_LENGTH} characters")
        row = PublicationRow(version=version, published_at=utc_now(), published_by=by, reason=reason)
        with transaction(self.storage, "publishing an index version", write=True) as session:
            _require_status(session, version, ("candidate",), "be published")
            if session.scalar(select(IndexFileRow.name).where(IndexFileRow.version == version).limit(1)) is None:
                raise ValueError(f"index version {version} has no files to serve")
            session.add(row)
            session.flush()
            return _publication(row)

    def published(self) -> Publication | None:
        """The newest publication: the version to serve; None before the first."""
        query = select(PublicationRow).order_by(PublicationRow.id.desc()).limit(1)
        with transaction(self.storage, "reading the published version") as session:
            row = session.scalar(query)
            return None if row is None else _publication(row)

    def history(self) -> list[Publication]:
        """Every publication, newest first."""
        query = select(PublicationRow).order_by(PublicationRow.id.desc())
        with transaction(self.storage, "reading the publications") as session:
            return [_publication(row) for row in session.scalars(query)]

    def _update_build(self, version: str, statuses: tuple[str, ...], doing: str, **values) -> None:
        """Set `values` on `version` if its status is one of `statuses`; ValueError otherwise."""
        _require_text(version)
        change = (update(IndexVersionRow)
                  .where(IndexVersionRow.version == version, IndexVersionRow.status.in_(statuses))
                  .values(**values))
        with transaction(self.storage, f"updating index version ({doing})", write=True) as session:
            if session.execute(change, execution_options=BULK).rowcount != 1:
                _require_status(session, version, statuses, doing)


def live_version(registry: VersionRegistry, store: IndexStore) -> str | None:
    """The version visitors get: the database's publication, else this server's own CURRENT."""
    publication = registry.published()
    return publication.version if publication else store.current()


def fetch_version(registry: VersionRegistry, store: IndexStore, version: str) -> Path:
    """The local folder of `version`, fetched from the database when missing here."""
    def fill(folder: Path) -> None:
        if not registry.download_files(version, folder):
            raise IndexLoadError(f"the database has no files for index version {version}")
    return store.receive(version, fill)


def checked_version(version: str) -> str:
    """`version` if it can name a version and its folder (1-64 printable characters, no
    spaces or path parts, no leading dot); ValueError otherwise."""
    _require_text(version)
    fits = (0 < len(version) <= ID_LENGTH and version.isprintable() and not version.startswith(".")
            and not any(c.isspace() or c in "/\\" for c in version))
    if not fits:
        raise ValueError(f"not a version id: {version[:80]!r}")
    return version


def _require_text(version: str) -> None:
    if not isinstance(version, str):
        raise ValueError(f"a version id is text, not {version!r}")


def _require_status(session, version: str, statuses: tuple[str, ...], doing: str) -> None:
    """ValueError unless `version` exists with one of `statuses`."""
    status = session.scalar(select(IndexVersionRow.status).where(IndexVersionRow.version == version))
    if status is None:
        raise ValueError(f"no index version {version!r}")
    if status not in statuses:
        raise ValueError(f"index version {version} is {status}: it cannot {doing}")


def checked_note(note) -> str | None:
    """A build's note trimmed (None when blank); ValueError for anything but text of at most MAX_NOTE_LENGTH."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValueError(f"note must be text, not {type(note).__name__}")
    note = " ".join(note.replace("\x00", "").split())
    if len(note) > MAX_NOTE_LENGTH:
        raise ValueError(f"note is longer than {MAX_NOTE_LENGTH} characters")
    return note or None


def _record(row: IndexVersionRow) -> VersionRecord:
    return VersionRecord(row.version, row.status, row.created_at, row.created_by, row.progress, row.stage,
                         row.heartbeat_at, dict(row.report), dict(row.evaluation), list(row.changes), row.error,
                         row.note)


def _publication(row: PublicationRow) -> Publication:
    return Publication(row.version, row.published_at, row.published_by, row.reason)


class SharedVersions:
    """The database as every server's live index sees it (chatbot.index.live.VersionSource):
    which version is published, the files of any version, and registering one built here."""

    def __init__(self, registry: VersionRegistry):
        self.registry = registry

    def published(self) -> str | None:
        """The version every server serves; None before the first publication. StorageError when down."""
        publication = self.registry.published()
        return publication.version if publication else None

    def fetch(self, version: str, folder: Path) -> bool:
        """Write the files of `version` into `folder`; False when the database has none."""
        return self.registry.download_files(version, folder)

    def register(self, version: str, folder: Path, report: dict, created_by: str) -> None:
        """Record a version built on this server (e.g. at its first start) as a candidate with its
        files, so that staff can see it and roll back to it; publishes nothing."""
        self.registry.start(version, created_by)
        try:
            self.registry.upload_files(version, folder)
            self.registry.finish(version, report, {}, [])
        except Exception as error:
            self.registry.fail(version, f"{type(error).__name__}: {error}")
            raise
