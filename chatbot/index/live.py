"""The published index as each worker serves it, swapped without a restart.

A watcher thread per process looks at the one-line CURRENT file every
`check_seconds`. When it names a new version, the thread loads that version
completely and only then replaces the reference that requests read, so a
request never waits for a load and never sees half an index. A version that
fails to load is logged and skipped; the previous one keeps serving.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .artifact import IndexLoadError
from .passage_index import PassageIndex
from .store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """An index with the version id and manifest it was loaded from."""
    index: PassageIndex
    version: str
    manifest: dict


class LiveIndex:
    """Hands out the published index; call `get()` on every request."""

    def __init__(self, store: IndexStore, check_seconds: float = 0.5):
        self.store = store
        self.check_seconds = check_seconds
        # Called before each check; may publish a version locally (e.g. one a
        # staff member published on another server, fetched from the database).
        self.sync: Callable[[], None] | None = None
        self._sync_failing = False
        self._served: Served | None = None
        self._failed_version: str | None = None
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None
        self._stop = threading.Event()

    def load_now(self) -> Served:
        """Load the published version in this thread (at start-up); IndexLoadError if none."""
        version = self.store.current()
        if version is None:
            raise IndexLoadError(f"no index has been published in {self.store.root}")
        index, manifest = self.store.load(version)
        self._served = Served(index, version, manifest)
        return self._served

    def get(self) -> Served:
        """The index to answer with now; starts this process's watcher on first use."""
        if self._watcher_pid != os.getpid():
            self._start_watcher()
        served = self._served
        if served is None:
            served = self.load_now()
        return served

    def refresh(self) -> bool:
        """Load the published version if it changed; True when a new one is now served."""
        if self.sync is not None:
            try:
                self.sync()
                if self._sync_failing:
                    log.info("index sync works again")
                self._sync_failing = False
            except Exception as exc:  # the database may be down: keep serving what we have
                if not self._sync_failing:  # say it once, not twice a second
                    log.warning("index sync failed (%s): %s", type(exc).__name__, exc)
                self._sync_failing = True
        version = self.store.current()
        served = self._served
        if version is None or (served is not None and served.version == version) or version == self._failed_version:
            return False
        try:
            index, manifest = self.store.load(version)
        except IndexLoadError as exc:
            self._failed_version = version
            log.error("index version %s not loaded, still serving %s: %s",
                      version, served.version if served else None, exc)
            return False
        self._served = Served(index, version, manifest)  # one reference swap
        log.info("serving index version %s (%d passages)", version, len(index.passages_))
        return True

    def _start_watcher(self) -> None:
        with self._lock:
            if self._watcher_pid == os.getpid():
                return
            # After a fork only the forking thread survives: start one per process.
            self._watcher_pid = os.getpid()
            self._stop = threading.Event()
            thread = threading.Thread(target=self._watch, name="index-watcher", daemon=True)
            thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.check_seconds):
            try:
                self.refresh()
            except Exception:  # the watcher must outlive any one bad check
                log.exception("index watcher check failed")

    def stop(self) -> None:
        """Stop this process's watcher thread (tests, shutdown)."""
        self._stop.set()
        self._watcher_pid = None
