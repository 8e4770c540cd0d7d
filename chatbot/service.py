"""Per-app state of the chat service, kept in app.extensions["chatbot"].

Holds the live index, the responder (with the staff-editable urgent rules)
and the storage; built by create_app(), reached through `current_service()`.
"""
from __future__ import annotations

import fcntl
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from .answer.policy import PolicySettings, Responder
from .answer.smalltalk import Smalltalk
from .answer.urgent import UrgentScreen
from .build import build_index, publish_build
from .index.artifact import IndexLoadError
from .index.live import LiveIndex
from .index.store import IndexStore
from .storage import Storage

log = logging.getLogger(__name__)
URGENT_RULES_FILE = "urgent.txt"
SMALLTALK_FILE = "smalltalk.txt"


class RulesFile:
    """A staff-edited rules file (urgent.txt, smalltalk.txt), reloaded when it changes (a stat per message).

    `loader(path) -> (rules, errors)`, as UrgentScreen.load and Smalltalk.load.
    """

    def __init__(self, path: Path, loader):
        self.path = path
        self.loader = loader
        self._stamp: float | None = None
        self._rules = None
        self._lock = threading.Lock()
        self.reload_if_changed()

    def reload_if_changed(self):
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


def build_first_index(corpus_dir: Path, index_dir: Path, keep: int, unusable: str | None = None) -> None:
    """Build and publish an index from the corpus when none (or only `unusable`) is published.

    A file lock makes concurrent first starts (several workers) build once.
    """
    store = IndexStore(index_dir, keep=keep)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if store.current() in (None, unusable):
            log.info("building an index from %s into %s", corpus_dir, index_dir)
            result = build_index(corpus_dir)
            for error in result.errors:
                log.warning("corpus: %s", error)
            publish_build(result, index_dir, corpus_dir, keep=keep)


def start_live_index(corpus_dir: Path, index_dir: Path, keep: int, check_seconds: float) -> LiveIndex:
    """The live index, loaded; a fresh checkout (no index) or an unreadable one is rebuilt."""
    store = IndexStore(index_dir, keep=keep)
    if store.current() is None:
        build_first_index(corpus_dir, index_dir, keep)
    live_index = LiveIndex(store, check_seconds)
    try:
        served = live_index.load_now()
    except IndexLoadError as exc:
        log.error("published index unusable (%s); building a new one from the corpus", exc)
        build_first_index(corpus_dir, index_dir, keep, unusable=store.current())
        served = live_index.load_now()
    # Warm up before gunicorn forks its workers (without starting the watcher
    # thread here): the first visitor should not pay for loading word tables.
    served.index.search("acupunture needels warm-up", 1)
    return live_index


def init_service(app: Flask) -> ChatbotService:
    """Build the service from app.config and attach it to `app`."""
    config = app.config
    corpus_dir = Path(config["CHATBOT_CORPUS_DIR"])
    live_index = start_live_index(corpus_dir, Path(config["CHATBOT_INDEX_DIR"]),
                                  config["CHATBOT_INDEX_KEEP_VERSIONS"], config["CHATBOT_INDEX_CHECK_SECONDS"])
    policy = PolicySettings(threshold=config["CHATBOT_ANSWER_THRESHOLD"],
                            suggestion_margin=config["CHATBOT_SUGGESTION_MARGIN"],
                            contact_text=config["CHATBOT_CONTACT_TEXT"],
                            notice=config["CHATBOT_NOTICE"],
                            clinic_name=config["CHATBOT_CLINIC_NAME"])
    storage = Storage(config["CHATBOT_DATABASE_URL"])
    service = ChatbotService(live_index, RulesFile(corpus_dir / URGENT_RULES_FILE, UrgentScreen.load),
                             RulesFile(corpus_dir / SMALLTALK_FILE, Smalltalk.load), policy, storage)
    app.extensions["chatbot"] = service
    return service


def current_service() -> ChatbotService:
    return current_app.extensions["chatbot"]
