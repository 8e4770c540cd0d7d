"""A durable local spool for chat-log records the database cannot take now.

One append-only JSON Lines file per process (`spool-<pid>-<random>.jsonl`),
so workers never lock each other out while appending. Each append is one
write of whole lines followed by fsync: a record the spool accepted survives
a crash of the process or the machine. A crash in the middle of an append
leaves at most a torn last line without its newline; replay ignores it (that
append never returned, so its records were never reported as kept).

A process holds an exclusive flock on its own open file for as long as it
appends to it; the kernel drops the lock when the process dies. Replay takes
the same lock (without waiting) on every file it reads, so a file is read by
one process at a time, and never while its owner is still appending: files
of a live worker are skipped, files of a dead one are picked up by whichever
process replays next. A replayed file is deleted only after its records were
written, so a crash during replay means the file is replayed again, which is
why the database write must be idempotent (Storage.store_records is).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from .records import parse_record

log = logging.getLogger(__name__)
PATTERN = "spool-*.jsonl"


class Spool:
    """The spool files in `folder`; one instance serves all threads of a process (and survives a fork)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._fd: int | None = None       # this process's file, flocked while open
        self._path: Path | None = None
        self._size = 0
        self._records = 0                 # records in this process's open file
        self._counted: dict[Path, tuple[int, int]] = {}  # other files: size -> lines, as last counted

    def append(self, records: list[dict]) -> None:
        """Add `records` durably (written and fsynced) before returning; OSError when that fails.

        On failure the file is cut back to its last complete line, so the
        next append does not continue a torn one.
        """
        if not records:
            return
        data = b"".join(json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
                        for record in records)
        with self._lock:
            fd = self._open_own_file()
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                try:
                    os.ftruncate(fd, self._size)
                except OSError:
                    pass
                raise
            self._size += len(data)
            self._records += len(records)

    def count(self) -> int:
        """Records waiting in every spool file of the folder (this process's and others')."""
        total = 0
        with self._lock:
            own, own_records = (self._path if self._pid == os.getpid() else None), self._records
        counted = {}
        for path in self._files():
            if path == own:
                total += own_records
                continue
            try:
                size = path.stat().st_size
                if self._counted.get(path, (None,))[0] != size:  # read a file again only when it grew
                    self._counted[path] = (size, path.read_bytes().count(b"\n"))
            except OSError:  # replayed and deleted meanwhile
                continue
            counted[path] = self._counted[path]
            total += counted[path][1]
        self._counted = counted
        return total

    def has_files(self) -> bool:
        """True when any spool file exists (cheap: one directory listing)."""
        return bool(self._files())

    def replay(self, write: Callable[[list[dict]], list[dict]], chunk: int = 500) -> int:
        """Hand the records of every spool file no live process holds to `write`, in chunks; return how many.

        This process's own file is closed first so that it is replayed too.
        `write(records)` stores them and returns the records to keep for a
        later try (appended to this process's new file before the replayed
        file is deleted); when it raises, replay stops and the file stays for
        the next time (already written chunks are written again, harmlessly).
        """
        self.seal()
        replayed = 0
        for path in self._files():
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:  # deleted by another replayer
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process appends to it, or another replays it
                if os.fstat(fd).st_nlink == 0:
                    continue  # another process replayed and deleted it before we got the lock
                records = _read_records(fd, path)
                keep: list[dict] = []
                for start in range(0, len(records), chunk):
                    keep.extend(write(records[start:start + chunk]))
                self.append(keep)
                os.unlink(path)
                _sync_folder(self.folder)
                replayed += len(records)
            finally:
                os.close(fd)
        return replayed

    def seal(self) -> None:
        """Close this process's file (releasing its lock) so that replay may take it.

        The next append starts a new one.
        """
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd, self._path, self._size, self._records = None, None, 0, 0

    def _open_own_file(self) -> int:
        """This process's file, created (and locked) on first use; called with self._lock held."""
        pid = os.getpid()
        if self._pid != pid:
            if self._fd is not None:
                # Inherited from the parent across a fork: the parent's file
                # and lock stay the parent's. Closing our copy of the
                # descriptor leaves the parent's lock in place.
                os.close(self._fd)
            self._fd, self._path, self._size, self._records, self._pid = None, None, 0, 0, pid
        if self._fd is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"spool-{pid}-{secrets.token_hex(4)}.jsonl"
            # Locked under a name replay does not read, then renamed: replay
            # can never take (and delete) a file between its creation and its lock.
            hidden = self.folder / f".{name}.new"
            fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(hidden, self.folder / name)
            _sync_folder(self.folder)
            self._fd, self._path, self._size, self._records = fd, self.folder / name, 0, 0
        return self._fd

    def _files(self) -> list[Path]:
        try:
            paths = list(self.folder.glob(PATTERN))
        except OSError:
            return []
        return sorted(paths, key=_modified)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read_records(fd: int, path: Path) -> list[dict]:
    """The well-formed records of a spool file; a torn last line and damaged lines are skipped (and logged)."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    lines = b"".join(chunks).split(b"\n")
    if lines[-1]:
        log.warning("%s: ignoring a torn last line (%d bytes) left by a crash", path.name, len(lines[-1]))
    records = []
    damaged = 0
    for line in lines[:-1]:
        record = parse_record(line)
        if record is None:
            damaged += 1
        else:
            records.append(record)
    if damaged:
        log.error("%s: %d damaged line(s) skipped", path.name, damaged)
    return records


def _sync_folder(folder: Path) -> None:
    """Make a created, renamed or deleted file name durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
