"""The published index as each worker serves it, swapped without a restart.

Which version is published: the database's newest publication when a
`source` (the database's copy of every version) is attached and answers,
else this server's CURRENT file. A watcher thread per process checks that
every `check_seconds`; when it names a version other than the one served,
the thread loads it completely and only then replaces the reference that
requests read, so a request never waits for a load and never sees half an
index. Whatever triggered the check (a database row, a CURRENT file, both),
a version already served is never loaded again: one load per publication.

A missing or corrupt local copy is fetched again from the source. A version
that cannot be loaded even so is logged and skipped; the previous one keeps
serving.

Under gunicorn the watcher starts when a worker is forked (see
`serve_published`), so a new or recycled worker loads the published version
before it takes its first request; elsewhere (flask run, tests) it starts
with the first request.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .artifact import IndexLoadError
from .passage_index import PassageIndex
from .store import IndexStore

log = logging.getLogger(__name__)

# The manifest's "origin" of an index built from the corpus alone because the
# published version could not be loaded and the database had no usable copy.
ORIGIN = "origin"
CORPUS_FALLBACK = "corpus-fallback"
PUBLISHED = "published"
# A new worker waits at most this long for its first check before it serves
# what it inherited (a database that never answers must not keep it out).
FIRST_CHECK_LIMIT_SECONDS = 120.0
WARM_UP_WORDS = 2   # words of the first passage, each misspelt, that the warm-up query asks about


def warm_up_query(index: PassageIndex) -> str:
    """A query that runs every path of a visitor's search on `index`: known words
    misspelt (spelling correction) and a word it lacks. Made from the index's own
    first passage, so it names no clinic's subject and suits any corpus."""
    first = index.passages_[0].text if len(index.passages_) else ""
    chosen = [w for w in re.findall(r"[a-z]+", first.lower()) if len(w) >= 5][:WARM_UP_WORDS]
    misspelt = [w[:len(w) // 2] + w[len(w) // 2 + 1:] for w in chosen]  # one letter dropped
    return " ".join(misspelt + ["warm-up"])


class VersionSource(Protocol):
    """Where every server finds the published version and the files of any version."""

    def published(self) -> str | None:
        """The version every server should serve; None when none is published (raises when unreachable)."""

    def fetch(self, version: str, folder: Path) -> bool:
        """Write the files of `version` into `folder`; False when the source has none."""


@dataclass(frozen=True)
class Served:
    """An index with the version id and manifest it was loaded from."""
    index: PassageIndex
    version: str
    manifest: dict

    @property
    def source(self) -> str:
        """"published", or "corpus-fallback" for an emergency build of the corpus alone
        (staff content missing: health reports it)."""
        return CORPUS_FALLBACK if self.manifest.get(ORIGIN) == CORPUS_FALLBACK else PUBLISHED


class LiveIndex:
    """Hands out the published index; call `get()` on every request."""

    def __init__(self, store: IndexStore, check_seconds: float = 0.5, source: VersionSource | None = None):
        self.store = store
        self.check_seconds = check_seconds
        self.source = source
        self._source_failing = False
        self._served: Served | None = None
        self.failed_version: str | None = None  # the last version that could not be loaded
        # One refresh at a time in a process (the watcher, and a staff publish
        # switching at once), so two triggers never load one version twice.
        self._refresh_lock = threading.Lock()
        self._watcher_lock = threading.Lock()
        self._watcher_pid: int | None = None
        self._stop = threading.Event()
        self._first_check = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def served(self) -> Served | None:
        """What requests get now (None before the first load)."""
        return self._served

    def get(self) -> Served:
        """The index to answer with now; starts this process's watcher on first use.

        IndexLoadError when no version has ever been loaded and none loads now.
        """
        if self._watcher_pid != os.getpid():
            self.start_watching()
        served = self._served
        if served is None:
            self.refresh()
            served = self._served
            if served is None:
                raise IndexLoadError(f"no usable index is published in {self.store.root}")
        return served

    def published_version(self) -> str | None:
        """The version to serve: the source's publication if it has one and answers, else CURRENT."""
        if self.source is not None:
            try:
                published = self.source.published()
            except Exception as exc:  # the database may be down: this server's own choice stands
                if not self._source_failing:  # say it once, not twice a second
                    log.warning("index sync failed (%s): %s", type(exc).__name__, exc)
                self._source_failing = True
            else:
                if self._source_failing:
                    log.info("index sync works again")
                    self.failed_version = None  # it may have failed only because its files could not be fetched
                self._source_failing = False
                if published is not None:
                    return published
        return self.store.current()

    def refresh(self) -> bool:
        """Load the published version if it is not the one served; True when a new one is now served."""
        with self._refresh_lock:
            version = self.published_version()
            served = self._served
            if version is None or (served is not None and served.version == version) \
                    or version == self.failed_version:
                return False
            try:
                self._swap_to(version)
            except IndexLoadError as exc:
                self.failed_version = version
                log.error("index version %s not loaded, still serving %s: %s",
                          version, served.version if served else None, exc)
                return False
            return True

    def serve(self, version: str) -> Served:
        """Load and serve `version` now, whatever is published (a start-up fallback); IndexLoadError if it fails."""
        with self._refresh_lock:
            return self._swap_to(version)

    def _swap_to(self, version: str) -> Served:
        started, cpu_started = time.monotonic(), time.thread_time()
        index, manifest = self._load(version)
        index.search(warm_up_query(index), 1)  # the first visitor should not pay for loading word tables
        if self.store.current() != version:  # e.g. published on another server: this one follows
            try:
                self.store.publish(version, check=False)  # just loaded: no second load to check it
            except (OSError, IndexLoadError) as exc:
                log.warning("index version %s served but not recorded as current here: %s", version, exc)
        self._served = Served(index, version, manifest)  # one reference swap
        # The load's CPU is this thread's alone (the request threads go on meanwhile): what a
        # swap costs the requests it competes with (bench_publish.py reads it).
        log.info("serving index version %s (%d passages) in process %d, loaded in %.2f s, %.2f CPU s",
                 version, len(index.passages_), os.getpid(), time.monotonic() - started,
                 time.thread_time() - cpu_started)
        return self._served

    def _load(self, version: str) -> tuple[PassageIndex, dict]:
        """(index, manifest) of `version`; a missing or corrupt local copy is fetched again from the source."""
        try:
            return self.store.load(version)
        except IndexLoadError as exc:
            if self.source is None:
                raise
            log.warning("local copy of index version %s unusable (%s); fetching it from the database", version, exc)

        def fill(folder: Path) -> None:
            if not self.source.fetch(version, folder):
                raise IndexLoadError(f"the database has no files for index version {version}")

        with self.store.exclusive():  # one worker of this server fetches; the others then find it whole
            try:
                return self.store.load(version)  # fetched by another worker meanwhile?
            except IndexLoadError:
                pass
            try:
                self.store.receive(version, fill, replace=True)
            except IndexLoadError:
                raise
            except Exception as exc:  # the database is down, or the disk is full
                raise IndexLoadError(f"index version {version} could not be fetched again "
                                     f"({type(exc).__name__}: {exc})") from None
            # Checked while the others wait: they then find it recorded whole and do not hash it again.
            return self.store.load(version)

    # -- the watcher -------------------------------------------------------------

    def start_watching(self) -> threading.Event:
        """Start this process's watcher (once per process); the event is set when its first check is done.

        The first check runs at once, then one every `check_seconds`.
        """
        with self._watcher_lock:
            if self._watcher_pid != os.getpid():
                # After a fork only the forking thread survives: start one per process.
                self._watcher_pid = os.getpid()
                self._stop = threading.Event()
                self._first_check = threading.Event()
                self._watcher = threading.Thread(target=self._watch, args=(self._stop, self._first_check),
                                                 name="index-watcher", daemon=True)
                self._watcher.start()
            return self._first_check

    def serve_published(self, heartbeat: Callable[[], None] = lambda: None, beat_seconds: float = 1.0,
                        limit_seconds: float = FIRST_CHECK_LIMIT_SECONDS) -> None:
        """In a newly forked worker, before its first request: start the watcher and wait for its
        first check, which loads the published version if the worker inherited another.

        `heartbeat` is called every `beat_seconds` meanwhile (gunicorn's notify,
        so a long load is not taken for a hung worker); after `limit_seconds`
        the worker serves what it has and the watcher keeps trying.
        """
        checked = self.start_watching()
        deadline = time.monotonic() + limit_seconds
        while not checked.wait(beat_seconds):
            heartbeat()
            if time.monotonic() > deadline:
                log.warning("index check not done after %.0f s; serving %s meanwhile", limit_seconds,
                            self._served.version if self._served else None)
                return

    def _watch(self, stop: threading.Event, first_check: threading.Event) -> None:
        try:
            self._check()
        finally:
            first_check.set()
        while not stop.wait(self.check_seconds):
            self._check()

    def _check(self) -> None:
        try:
            self.refresh()
        except Exception:  # the watcher must outlive any one bad check
            log.exception("index watcher check failed")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop this process's watcher thread and wait up to `timeout` s for a check under way (tests,
        shutdown): the caller may then close the storage without the watcher opening a connection after."""
        with self._watcher_lock:
            self._stop.set()
            thread = self._watcher if self._watcher_pid == os.getpid() else None
            self._watcher_pid = None
            self._watcher = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
