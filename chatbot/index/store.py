"""Versioned index folders with atomic publishing and rollback.

    INDEX_DIR/
      versions/20261121T101500.123456Z-3f9a1c/   one complete index each
      CURRENT                             the id of the published version
      verified/<version>.json             which files of a version this server has checked
                                          (verification.py: one checksum pass per server)

A version is written under a hidden temporary name and renamed into place
only when complete; publishing replaces the one-line CURRENT file with
os.replace. A reader therefore sees the old index or the new one, never half
of either. The newest `keep` versions (and always the published one) are kept
for rollback.
"""
from __future__ import annotations

import calendar
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .artifact import IndexLoadError, load_index, read_manifest, save_index
from .passage_index import PassageIndex
from .verification import record_as_written

POINTER = "CURRENT"
VERIFIED = "verified"
STALE_BUILD_SECONDS = 3600


@dataclass(frozen=True)
class VersionInfo:
    version: str
    created_at: str
    passages: int
    documents: int
    current: bool


class IndexStore:
    """The index versions kept in one folder."""

    def __init__(self, root: str | Path, keep: int = 5):
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.root = Path(root)
        self.keep = keep
        self.versions_dir = self.root / "versions"
        self.verified_dir = self.root / VERIFIED

    def current(self) -> str | None:
        """The published version id, or None when nothing is published yet."""
        try:
            version = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return version or None

    def add(self, index: PassageIndex, info: dict | None = None, version: str | None = None,
            files: dict[str, bytes] | None = None) -> str:
        """Save `index` as a new, unpublished version and return its id (`version`, or a new one).

        `files` ({name: bytes}) are saved beside the index, in the same
        version, e.g. the rules the answers of this version follow.
        """
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        version = version or self.new_version_id()
        staging = self.versions_dir / f".building-{version}"
        try:
            manifest = save_index(index, staging, {"version": version, **(info or {})})
            for name, data in (files or {}).items():
                (staging / name).write_bytes(data)
            _fsync_tree(staging)
            os.rename(staging, self.versions_dir / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync_dir(self.versions_dir)
        # save_index has just hashed what it wrote, and the files are on disk: the publish
        # check and the workers' loads need not hash them again (verification.py).
        record_as_written(self.versions_dir / version, manifest["files"], self.verification_record(version))
        return version

    def new_version_id(self) -> str:
        """A new id that sorts after every existing version (UTC time to the microsecond).

        If the clock is behind the newest version, the id is one microsecond
        after it, so ids stay in build order whatever the clock does.
        """
        names = [p.name for p in self.versions_dir.iterdir()] if self.versions_dir.is_dir() else []
        latest = max((_version_micros(name) for name in names), default=0)
        micros = max(time.time_ns() // 1000, latest + 1)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(micros // 1_000_000))
        return f"{stamp}.{micros % 1_000_000:06d}Z-{secrets.token_hex(3)}"

    def receive(self, version: str, fill, replace: bool = False) -> Path:
        """Add a version whose files `fill(folder)` writes (e.g. fetched from the database).

        Written under a hidden name and renamed when complete, like `add`.
        A version already present is kept as it is, unless `replace` (its
        local copy is corrupt): then the new folder takes its place, and a
        process that has the old files open keeps reading them, since they
        are moved aside, never rewritten in place.
        """
        target = self.versions_dir / version
        self.path_is_valid(version)
        if target.is_dir() and not replace:
            return target
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging = self.versions_dir / f".building-{version}-{secrets.token_hex(3)}"
        try:
            fill(staging)
            read_manifest(staging)
            _fsync_tree(staging)
            if target.is_dir():
                discarded = self.versions_dir / f".discarded-{version}-{secrets.token_hex(3)}"
                os.rename(target, discarded)
                shutil.rmtree(discarded, ignore_errors=True)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync_dir(self.versions_dir)
        return target

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this store's repair lock (a file lock shared by every process of the server),
        so that one process fetches a broken version again while the others wait for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".repair.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def publish(self, version: str, check: bool = True) -> None:
        """Make `version` the one served; IndexLoadError if it is not a usable index.

        The check loads it in full; its files are hashed unless this server's
        record (verification.py) shows them unchanged since they were saved or
        last found whole.

        `check=False` skips loading it to check it, for a caller that has
        just loaded it itself (a worker following the database): one load
        per publication, not two.
        """
        folder = self.path(version)
        if check:
            # Refuse a missing, corrupt or foreign version before anyone serves it; the record
            # this check leaves spares the workers, who load it next, hashing it again.
            load_index(folder, record=self.verification_record(version))
        temporary = self.root / f".{POINTER}.{os.getpid()}.{secrets.token_hex(3)}"
        temporary.write_text(version + "\n", encoding="utf-8")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / POINTER)
        _fsync_dir(self.root)
        self.prune()

    def rollback(self, version: str) -> None:
        """Serve an earlier version again (publish checks that it loads completely)."""
        self.publish(version)

    @staticmethod
    def path_is_valid(version: str) -> None:
        """IndexLoadError unless `version` can name a folder (no path parts, no dot start)."""
        if not version or "/" in version or "\\" in version or version.startswith("."):
            raise IndexLoadError(f"not a version id: {version!r}")

    def path(self, version: str) -> Path:
        """Folder of `version`; IndexLoadError for an unknown or malformed id."""
        self.path_is_valid(version)
        folder = self.versions_dir / version
        if not folder.is_dir():
            raise IndexLoadError(f"no index version {version!r} in {self.versions_dir}")
        return folder

    def load(self, version: str | None = None) -> tuple[PassageIndex, dict]:
        """(index, manifest) of `version`, by default the published one."""
        version = version or self.current()
        if version is None:
            raise IndexLoadError(f"no index has been published in {self.root} (run train.py)")
        return load_index(self.path(version), record=self.verification_record(version))

    def verification_record(self, version: str) -> Path:
        """Where this server records which files of `version` it has found whole (verification.py)."""
        self.path_is_valid(version)
        return self.verified_dir / f"{version}.json"

    def versions(self) -> list[VersionInfo]:
        """All complete versions, newest first."""
        if not self.versions_dir.is_dir():
            return []
        current = self.current()
        found = []
        for folder in sorted(self.versions_dir.iterdir(), reverse=True):
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                manifest = read_manifest(folder)
            except IndexLoadError:
                continue
            counts, build = manifest.get("counts", {}), manifest.get("build", {})
            found.append(VersionInfo(folder.name, manifest.get("created_at", ""),
                                     counts.get("passages", 0), build.get("documents", 0),
                                     folder.name == current))
        return found

    def prune(self) -> list[str]:
        """Delete versions beyond the newest `keep` (never the published one) and stale builds."""
        current = self.current()
        removed = []
        for info in self.versions()[self.keep:]:
            if info.version != current:
                shutil.rmtree(self.versions_dir / info.version, ignore_errors=True)
                removed.append(info.version)
        for pattern in (".building-*", ".discarded-*"):
            for staging in self.versions_dir.glob(pattern):
                try:
                    stale = time.time() - staging.stat().st_mtime > STALE_BUILD_SECONDS
                except OSError:  # removed meanwhile by another worker's prune
                    continue
                if stale:
                    shutil.rmtree(staging, ignore_errors=True)
        if self.verified_dir.is_dir():
            for record in self.verified_dir.glob("*.json"):
                if not (self.versions_dir / record.stem).is_dir():
                    record.unlink(missing_ok=True)
        return removed


_VERSION_ID = re.compile(r"^(\d{8}T\d{6})\.(\d{6})Z-[0-9a-f]{6}$")


def _version_micros(name: str) -> int:
    """Microseconds since the epoch encoded in a version id; 0 for any other name."""
    match = _VERSION_ID.match(name)
    if not match:
        return 0
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y%m%dT%H%M%S"))
    return seconds * 1_000_000 + int(match.group(2))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(folder)
