"""Per-app state of the chat service, kept in app.extensions["chatbot"].

Holds the live index (whose versions carry their own urgent and smalltalk
rules), the settings and the storage; built by create_app(), reached through
`current_service()`.
"""
from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from .answer.policy import Responder
from .answer.version_rules import load_responder
from .build import build_index, publish_build
from .index.live import CORPUS_FALLBACK, ORIGIN, LiveIndex, Served
from .index.store import IndexStore
from .settings import Settings
from .staff.audit import AuditLog
from .staff.clinic_settings import ClinicSettingsStore, LiveClinicSettings
from .staff.versions import SharedVersions, VersionRegistry
from .storage import Storage

log = logging.getLogger(__name__)
MAX_CACHED_RESPONDERS = 2  # the served version and the one before it, during a switch


@dataclass
class ChatbotService:
    """The live index, the settings and the storage of one app.

    The urgent and smalltalk rules are those saved in the version served
    (answer/version_rules.py), so `responder_for(served)` is asked on every
    request; it reads the rule files once per version.
    """
    live_index: LiveIndex
    settings: Settings
    storage: Storage
    # The settings with the clinic settings staff saved on top (staff/clinic_settings.py).
    clinic: LiveClinicSettings | None = None
    _responders: dict = field(default_factory=dict, repr=False)

    def current_settings(self):
        """The settings replies follow now: the clinic settings staff saved win over the server's."""
        return self.clinic.current() if self.clinic is not None else self.settings

    def responder_for(self, served: Served) -> Responder:
        """The responder of the served version (its rules, the clinic's settings)."""
        settings = self.current_settings()
        cached = self._responders.get(served.version)
        if cached is None or cached[0] is not settings:  # a new version, or staff changed a setting
            responder, problems = load_responder(self.live_index.store.path(served.version), settings,
                                                 fallback_dir=self.settings.corpus_dir)
            for problem in problems:
                log.warning("index version %s: %s", served.version, problem)
            cached = (settings, responder)
            kept = [item for item in self._responders.items() if item[0] != served.version]
            kept = kept[-(MAX_CACHED_RESPONDERS - 1):]
            self._responders = {**dict(kept), served.version: cached}  # replaced whole: readers never lock
        return cached[1]

    def bot(self) -> tuple[Served, Responder]:
        """What visitors get now: the served version and its responder."""
        served = self.live_index.get()
        return served, self.responder_for(served)


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
    """Load the index of `app`'s service and read the clinic settings staff saved (create_app,
    after the database is migrated)."""
    app.extensions["chatbot"].clinic.refresh()
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


def init_service(app: Flask, settings: Settings) -> ChatbotService:
    """Build the service from the resolved settings and attach it to `app`."""
    storage = Storage(settings["CHATBOT_DATABASE_URL"])
    # Loaded by start_index() once the database is migrated: it may hold the published version.
    live_index = LiveIndex(IndexStore(settings.index_dir, keep=settings["CHATBOT_INDEX_KEEP_VERSIONS"]),
                           settings["CHATBOT_INDEX_CHECK_SECONDS"], SharedVersions(VersionRegistry(storage)))
    clinic = LiveClinicSettings(ClinicSettingsStore(storage, AuditLog(storage)), settings)
    service = ChatbotService(live_index, settings, storage, clinic)
    app.extensions["chatbot"] = service
    return service


def current_service() -> ChatbotService:
    return current_app.extensions["chatbot"]
