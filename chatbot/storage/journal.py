"""A per-process journal of the chat-log records a request hands to the writer: what a killed worker leaves.

    journal = Journal(folder)
    segment = journal.append(record)   # in the request, before the reply leaves
    journal.done([segment])            # the writer stored or spooled that record
    journal.tidy()                     # the writer, after each batch: drop or rotate finished files
    journal.replay(write, keep)        # journals of dead processes into the database, then deleted

The writer (writer.py) keeps records in memory until it writes them in
batches; a worker killed with SIGKILL would lose that queue although the
visitor already has the reply and its message_id. So each record is first
appended to this process's journal file, `journal-<pid>-<random>.jsonl`,
with one `os.write` of its whole line to a descriptor opened with O_APPEND:
once write returns the line is in the kernel's page cache, which the death
of the process does not touch, and a process is never stopped half way
through a write to a regular file, so SIGKILL leaves whole lines. There is
no fsync: a crash of the machine (or of its power) can still lose the
records written since the kernel last flushed the file, a few seconds'
worth. The spool (spool.py), which holds what the database could not take,
keeps its fsync.

A file is flocked by its process for as long as it is open, exactly like a
spool file (the same helpers), so replay takes only the files of dead
processes. Their records are written with the writer's idempotent write
(Storage.store_records): a record the dead writer had stored already is
stored once. While the database cannot take them, the writer moves them to
the spool as they are (replayed with a `write` that keeps everything), where
they are fsynced.

The journal stays small: each record counts as pending in the file it went
to until the writer calls done() for it (stored, or safely in the spool).
tidy() then empties the current file when nothing in it is pending, and,
when it has grown past `rotate_bytes` with records still pending (a busy
server always has some in flight), starts a new file and deletes the old
one once its last record is done.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .spool import LineCounts, create_own_file, files_in, record_line, replay_files, unheld_files

log = logging.getLogger(__name__)
PREFIX = "journal"
PATTERN = f"{PREFIX}-*.jsonl"


class Segment:
    """One journal file of this process: its descriptor (holding the flock), size and pending records."""
    __slots__ = ("fd", "path", "size", "pending")

    def __init__(self, fd: int, path: Path):
        self.fd, self.path, self.size, self.pending = fd, path, 0, 0


class Journal:
    """This process's journal files in `folder` and the replay of dead processes' ones; thread-safe."""

    def __init__(self, folder: Path | str, rotate_bytes: int = 1 << 20):
        self.folder = Path(folder)
        self.rotate_bytes = rotate_bytes
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._current: Segment | None = None
        self._sealed: list[Segment] = []   # rotated out, deleted when their last record is done
        self._lines = LineCounts()

    def append(self, record: dict) -> Segment:
        """Write `record` as one line with one write call; the segment to pass to done() later.

        OSError when it cannot be written (a partial line, on a full disk, is cut off again).
        """
        line = record_line(record)
        with self._lock:
            segment = self._own_segment()
            written = os.write(segment.fd, line)
            if written != len(line):
                os.ftruncate(segment.fd, segment.size)  # no torn line before the next one
                raise OSError(errno.ENOSPC, f"journal {segment.path.name}: short write")
            segment.size += written
            segment.pending += 1
        return segment

    def done(self, segments: Iterable[Segment]) -> None:
        """One record of each of `segments` (with repeats) is stored or spooled: no longer pending."""
        counts = collections.Counter(segments)
        if not counts:
            return
        with self._lock:
            for segment, count in counts.items():
                segment.pending -= count

    def tidy(self) -> None:
        """Delete rotated files with nothing pending; empty the current one when nothing in it is
        pending, or start a new one when it is past `rotate_bytes`. OSError is logged, not raised."""
        try:
            self._tidy()
        except OSError as error:
            log.error("chat log journal %s cannot be tidied: %s", self.folder, error)

    def _tidy(self) -> None:
        with self._lock:
            if self._pid != os.getpid():
                return
            finished = [segment for segment in self._sealed if segment.pending <= 0]
            self._sealed = [segment for segment in self._sealed if segment.pending > 0]
            current = self._current
            if current is not None and current.pending <= 0 and current.size:
                os.ftruncate(current.fd, 0)  # appends (O_APPEND) start again at 0
                current.size = 0
            rotate = current is not None and current.size >= self.rotate_bytes
        for segment in finished:
            _delete(segment)
        if rotate:
            fresh = Segment(*create_own_file(self.folder, PREFIX, durable=False))
            with self._lock:
                self._sealed.append(self._current)
                self._current = fresh

    def close(self) -> None:
        """Delete this process's files when nothing in them is pending (at shutdown, after the
        writer's last batch); a file with records pending stays, for the next process to replay."""
        with self._lock:
            if self._pid != os.getpid():
                return
            segments = [s for s in [*self._sealed, self._current] if s is not None]
            self._current, self._sealed, self._pid = None, [], None
        for segment in segments:
            if segment.pending <= 0:
                _delete(segment)
            else:
                log.error("chat log: %d record(s) not stored at shutdown stay in %s, replayed by the next process",
                          segment.pending, segment.path)
                os.close(segment.fd)

    def replay(self, write: Callable[[list[dict]], list[dict]], keep: Callable[[list[dict]], None],
               chunk: int = 500) -> int:
        """Hand the records of journal files no live process holds to `write`, then delete those files.

        As Spool.replay: `keep` gets what `write` returns (feedback whose
        exchange is not stored yet) before a file is deleted; when either
        raises, the file stays for the next try. This process's own files
        are held by it, so never replayed here.
        """
        return replay_files(files_in(self.folder, PATTERN), write, keep, chunk)

    def orphaned(self) -> int:
        """Records in journal files no live process holds (left by a dead one, not replayed yet)."""
        return self._lines.total(path for path, _ in unheld_files(files_in(self.folder, PATTERN)))

    def _own_segment(self) -> Segment:
        """This process's current file, created on first use; called with self._lock held."""
        pid = os.getpid()
        if self._pid != pid:
            # Inherited across a fork: the files and their locks stay the
            # parent's; closing our copies of the descriptors leaves the locks.
            for segment in [*self._sealed, self._current]:
                if segment is not None:
                    os.close(segment.fd)
            self._current, self._sealed, self._pid = None, [], pid
        if self._current is None:
            self._current = Segment(*create_own_file(self.folder, PREFIX, durable=False))
        return self._current


def _delete(segment: Segment) -> None:
    """Delete a file of this process (the name first, while the flock still keeps replayers off)."""
    try:
        os.unlink(segment.path)
    finally:
        os.close(segment.fd)
