"""Per-app state of the chat service, kept in app.extensions["chatbot"].

Holds the live index, the responder (with the staff-editable urgent rules)
and the storage; built by create_app(), reached through `current_service()`.
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from .answer.policy import PolicySettings, Responder
from .answer.smalltalk import Smalltalk
from .answer.urgent import UrgentScreen
from .build import build_index, publish_build
from .index.live import CORPUS_FALLBACK, ORIGIN, LiveIndex, Served
from .index.store import IndexStore
from .staff.versions import SharedVersions, VersionRegistry
from .storage import Storage

log = logging.getLogger(__name__)
URGENT_RULES_FILE = "urgent.txt"
SMALLTALK_FILE = "smalltalk.txt"


class RulesFile:
    """A staff-edited rules file (urgent.txt, smalltalk.txt), reloaded when it changes.

    `loader(path) -> (rules, errors)`, as UrgentScreen.load and Smalltalk.load.
    The file is looked at (one stat) at most once per `check_seconds` per
    process, so an edit takes effect within that long; a stat on every
    message was two system calls a chat reply for a file edited a few times
    a year. `clock` is for tests.
    """

    def __init__(self, path: Path, loader, check_seconds: float = 1.0, clock=time.monotonic):
        self.path = path
        self.loader = loader
        self.check_seconds = check_seconds
        self.clock = clock
        self._stamp: float | None = None
        self._rules = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self.reload_if_changed()

    def reload_if_changed(self):
        """The rules; the file is looked at when check_seconds have passed since the last look,
        and read again when it changed."""
        now = self.clock()
        if now < self._next_check and self._rules is not None:
            return self._rules
        self._next_check = now + self.check_seconds
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp != self._stamp or self._rules is None:
            with self._lock:
                rules, errors = self.loader(self.path)
                for error in errors:
                    log.warning("%s: %s", self.path.name, error)
                self._rules, self._stamp = rules, stamp
        return self._rules


@dataclass
class ChatbotService:
    live_index: LiveIndex
    urgent_rules: RulesFile
    smalltalk: RulesFile
    policy: PolicySettings
    storage: Storage

    def responder(self) -> Responder:
        return Responder(self.urgent_rules.reload_if_changed(), self.policy, self.smalltalk.reload_if_changed())


FIRST_START_BY = "server first start"


def build_corpus_index(corpus_dir: Path, store: IndexStore, seen: str | None, fallback: bool):
    """Build an index of the corpus alone and publish it on this server: (version, result), or
    None when another process of this server published one since it saw `seen` as CURRENT.

    A file lock makes concurrent starts (workers without preload) build once.
    A `fallback` build is marked as such in its manifest, so health reports it
    for as long as it serves, restarts included.
    """
    store.root.mkdir(parents=True, exist_ok=True)
    with open(store.root / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if store.current() != seen:
            return None
        log.info("building an index from %s into %s%s", corpus_dir, store.root,
                 " (fallback: no usable published version)" if fallback else "")
        result = build_index(corpus_dir)
        for error in result.errors:
            log.warning("corpus: %s", error)
        origin = {ORIGIN: CORPUS_FALLBACK} if fallback else {}
        return publish_build(result, store.root, corpus_dir, keep=store.keep, extra_info=origin), result


def start_live_index(live_index: LiveIndex, corpus_dir: Path) -> Served:
    """Serve the published version: the database's, else this server's (a missing or corrupt
    local copy is fetched again from the database).

    When nothing is published anywhere (a first start), an index of the corpus
    is built, published here and registered in the database as a candidate,
    so that it can be rolled back to. When a version is published but cannot
    be loaded from here or the database, an index of the corpus alone is
    served as a fallback, and health says so.
    """
    live_index.refresh()
    if live_index.served is not None:
        return live_index.served
    store = live_index.store
    fallback = live_index.failed_version is not None
    built = build_corpus_index(corpus_dir, store, store.current(), fallback)
    if built is None:  # another worker of this server built it meanwhile
        live_index.refresh()
        return live_index.get()
    version, result = built
    if fallback:
        log.error("index version %s, built from the corpus alone, is served as a fallback: staff content "
                  "is missing until a version is published again", version)
    elif isinstance(live_index.source, SharedVersions):
        try:
            live_index.source.register(version, store.path(version),
                                       {**result.report, "problems": [str(e) for e in result.errors]},
                                       FIRST_START_BY)
        except Exception as exc:  # the database may be down: the version still serves here
            log.warning("index version %s not registered in the database (%s: %s)",
                        version, type(exc).__name__, exc)
    return live_index.serve(version)


def start_index(app: Flask) -> Served:
    """Load the index of `app`'s service (create_app, after the database is migrated)."""
    return start_live_index(app.extensions["chatbot"].live_index, Path(app.config["CHATBOT_CORPUS_DIR"]))


def serve_published_in_worker(wsgi, heartbeat) -> None:
    """gunicorn's post_fork: this worker loads the published version before its first request,
    then follows publications (its watcher starts now, not on the first request).

    `wsgi` is the worker's application (a Flask app, or middleware whose
    `.app` leads to it); `heartbeat` is the worker's notify. Then one health
    check is answered in-process, so that what a new process opens on first
    use (its database connection, the chat log's writer) is ready before the
    first visitor: a recycled worker's first health check took 15-35 ms, the
    next ones under 1 ms.
    """
    app = wsgi
    while app is not None and not isinstance(app, Flask):
        app = getattr(app, "app", None)
    if app is None or "chatbot" not in app.extensions:
        log.warning("no chatbot app in %r: the index watcher starts with the first request", wsgi)
        return
    app.extensions["chatbot"].live_index.serve_published(heartbeat)
    try:
        app.test_client().get("/api/health")
    except Exception as exc:  # a warm-up only: the worker serves anyway
        log.warning("worker warm-up failed (%s: %s)", type(exc).__name__, exc)


def init_service(app: Flask) -> ChatbotService:
    """Build the service from app.config and attach it to `app`."""
    config = app.config
    corpus_dir = Path(config["CHATBOT_CORPUS_DIR"])
    policy = PolicySettings(threshold=config["CHATBOT_ANSWER_THRESHOLD"],
                            suggestion_margin=config["CHATBOT_SUGGESTION_MARGIN"],
                            contact_text=config["CHATBOT_CONTACT_TEXT"],
                            notice=config["CHATBOT_NOTICE"],
                            clinic_name=config["CHATBOT_CLINIC_NAME"])
    storage = Storage(config["CHATBOT_DATABASE_URL"])
    # Loaded by start_index() once the database is migrated: it may hold the published version.
    live_index = LiveIndex(IndexStore(config["CHATBOT_INDEX_DIR"], keep=config["CHATBOT_INDEX_KEEP_VERSIONS"]),
                           config["CHATBOT_INDEX_CHECK_SECONDS"], SharedVersions(VersionRegistry(storage)))
    service = ChatbotService(live_index, RulesFile(corpus_dir / URGENT_RULES_FILE, UrgentScreen.load),
                             RulesFile(corpus_dir / SMALLTALK_FILE, Smalltalk.load), policy, storage)
    app.extensions["chatbot"] = service
    return service


def current_service() -> ChatbotService:
    return current_app.extensions["chatbot"]
