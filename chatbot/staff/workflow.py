"""What staff do, in one place: retrain, check, publish, roll back, try, import.

The admin pages and `train.py` call this; the data lives in the shared
database (chatbot/staff/*) and each server's local index store. Publishing
writes one row in the database; every server's index watcher reads it (one
cheap query per check), fetches the version's files into its own store if it
does not have them, and swaps it in, so all servers switch within seconds.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app

from ..answer.policy import Responder
from ..corpus import parse_document
from ..index.artifact import IndexLoadError
from ..index.store import IndexStore
from ..passages import make_passages
from ..settings import PROJECT_ROOT
from ..storage import StorageError
from .accounts import StaffAccounts
from .hashing import HashingGate
from .audit import AuditLog
from .checks import GateMargins, gate_reasons
from .faq_csv import ImportTooLarge, faq_to_csv, import_faq
from .knowledge import KnowledgeStore
from .model import Publication, VersionRecord
from .versions import VersionRegistry

log = logging.getLogger(__name__)
STALE_BUILD = timedelta(seconds=30)  # a build whose heartbeat is older than this has died
MIN_OVERRIDE_CHARS = 10


class GateBlocked(Exception):
    """Publishing was refused by the safety gate; `reasons` say why."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def check_file(config) -> Path:
    """The check-question file: the setting, or check_questions.jsonl in the corpus folder."""
    return Path(config["CHATBOT_CHECK_FILE"] or Path(config["CHATBOT_CORPUS_DIR"]) / "check_questions.jsonl")


def gate_for(registry: VersionRegistry, version: str, margins: GateMargins) -> list[str]:
    """Reasons the safety gate refuses to publish `version` without an override ([] = none)."""
    record = registry.get(version)
    if record is None or record.status != "candidate":
        return [f"Version {version} is not a finished candidate."]
    return gate_reasons(record.evaluation or {}, margins)


def fetch_version(registry: VersionRegistry, store: IndexStore, version: str) -> Path:
    """The local folder of `version`, fetched from the database when missing here."""
    def fill(folder: Path) -> None:
        if not registry.download_files(version, folder):
            raise IndexLoadError(f"the database has no files for index version {version}")
    return store.receive(version, fill)


class Workflow:
    """The staff workspace's operations over one app's storage and index store."""

    def __init__(self, app: Flask):
        service = app.extensions["chatbot"]
        self.config = app.config
        self.service = service
        self.storage = service.storage
        self.store: IndexStore = service.live_index.store
        hashing = HashingGate(app.config["CHATBOT_SERVER_STATE_DIR"])  # shared by the server's workers
        self.accounts = StaffAccounts(self.storage, hashing=hashing)
        self.audit = AuditLog(self.storage)
        self.knowledge = KnowledgeStore(self.storage)
        self.versions = VersionRegistry(self.storage)
        self._processes: dict[str, subprocess.Popen] = {}
        self._candidates: dict[str, object] = {}
        self._lock = threading.Lock()

    # -- building ------------------------------------------------------------
    def start_retrain(self, actor: str) -> str:
        """Start a background build of corpus/ + staff content; the new version's id."""
        with self._lock:
            self.versions.mark_stale_builds_failed(STALE_BUILD)
            if any(v.status == "building" for v in self.versions.list()):
                raise RuntimeError("a build is already running")
            version = self.store.new_version_id()
            self.versions.start(version, actor)
        command = [sys.executable, "-m", "chatbot.staff.build_job", "--version", version,
                   "--corpus", str(self.config["CHATBOT_CORPUS_DIR"]),
                   "--index-dir", str(self.config["CHATBOT_INDEX_DIR"]),
                   "--database-url", self.config["CHATBOT_DATABASE_URL"],
                   "--check-file", str(check_file(self.config)),
                   "--keep", str(self.config["CHATBOT_INDEX_KEEP_VERSIONS"]),
                   "--threshold", str(self.config["CHATBOT_ANSWER_THRESHOLD"])]
        log_path = Path(self.config["CHATBOT_INDEX_DIR"]) / f"build-{version}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as output:
            # A process of its own: a crash or kill cannot take the server with it.
            self._processes[version] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.audit.record(actor, "retrain", {"version": version})
        return version

    def close(self, timeout: float = 60) -> None:
        """Wait for the builds this server started (shutdown, tests)."""
        for process in list(self._processes.values()):
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()

    def _reap(self) -> None:
        """Forget build processes that have ended (so none is left as a zombie)."""
        for version, process in list(self._processes.items()):
            if process.poll() is not None:
                del self._processes[version]

    def build_process(self, version: str) -> subprocess.Popen | None:
        """The build process started by this server for `version` (tests, diagnostics)."""
        return self._processes.get(version)

    def build_status(self, version: str) -> VersionRecord | None:
        """The version's record, after marking builds whose heartbeat stopped as failed."""
        self._reap()
        self.versions.mark_stale_builds_failed(STALE_BUILD)
        return self.versions.get(version)

    # -- publishing ------------------------------------------------------------
    def gate(self, version: str) -> list[str]:
        """Reasons the safety gate refuses to publish `version` without an override."""
        return gate_for(self.versions, version, GateMargins.from_settings(self.config))

    def publish(self, version: str, actor: str, override_reason: str | None = None) -> Publication:
        """Make `version` live on every server; GateBlocked unless it passes or is overridden."""
        reasons = self.gate(version)
        reason = (override_reason or "").strip()
        if reasons and len(reason) < MIN_OVERRIDE_CHARS:
            raise GateBlocked(reasons)
        publication = self.versions.publish(version, actor, reason or None)
        self.audit.record(actor, "publish", {"version": version, "gate": reasons,
                                             "override_reason": reason or None})
        self._apply_here()
        return publication

    def rollback(self, version: str, actor: str) -> Publication:
        """Serve an earlier published or candidate version again (no gate: it served before)."""
        publication = self.versions.publish(version, actor, "rollback")
        self.audit.record(actor, "rollback", {"version": version})
        self._apply_here()
        return publication

    def _apply_here(self) -> None:
        """Switch this server now rather than at its next check."""
        try:
            self.service.live_index.refresh()
        except Exception as exc:  # the watcher will try again
            log.warning("could not switch index at once: %s", exc)

    def published_version(self) -> str | None:
        publication = self.versions.published()
        return publication.version if publication else self.store.current()

    # -- trying and previewing ----------------------------------------------------
    def try_it(self, message: str) -> dict:
        """How the published version and the newest candidate reply to `message`."""
        served = self.service.live_index.get()
        responder: Responder = self.service.responder()
        result = {"published": _reply_dict(served.version, responder.respond(message, served.index, 3)),
                  "candidate": None}
        candidate = self._newest_candidate(served.version)
        if candidate is not None:
            index = self._load_candidate(candidate)
            result["candidate"] = _reply_dict(candidate, responder.respond(message, index, 3))
        return result

    def _newest_candidate(self, published: str) -> str | None:
        return next((v.version for v in self.versions.list()
                     if v.status == "candidate" and v.version != published), None)

    def _load_candidate(self, version: str):
        if version not in self._candidates:
            fetch_version(self.versions, self.store, version)
            self._candidates = {version: self.store.load(version)[0]}  # keep one: they are large
        return self._candidates[version]

    def preview_document(self, filename: str, suffix: str, text: str):
        """(passages, errors) an uploaded page would give; nothing is saved."""
        document, errors = parse_document(text, f"staff/{filename}", suffix)
        if document is None:
            return [], errors
        passages, _ = make_passages([document])
        return passages, errors

    # -- FAQ files ----------------------------------------------------------------
    def export_faq_csv(self) -> str:
        return faq_to_csv(self.knowledge.list_faq())

    def import_faq_csv(self, text: str, actor: str):
        """(added, errors) of an import, audited; ImportTooLarge when refused and StorageError
        when the database failed (nothing written), both audited too when the audit log can be."""
        try:
            added, errors = import_faq(text, self.knowledge, actor)
        except ImportTooLarge as refusal:
            self.audit.record(actor, "import_faq_refused", {"reason": str(refusal)})
            raise
        except StorageError as failure:
            try:
                self.audit.record(actor, "import_faq_failed", {"reason": str(failure), "added": 0})
            except StorageError:
                log.warning("FAQ import failed and could not be audited: %s", failure)
            raise
        self.audit.record(actor, "import_faq", {"added": added, "errors": len(errors)})
        return added, errors


def _reply_dict(version: str, answer) -> dict:
    return {"version": version, "kind": answer.kind, "reply": answer.reply,
            "passages": [{"id": p.id, "text": p.text, "highlight": p.highlight, "score": p.score,
                          "question": p.question, "title": p.source.title, "section": p.source.section}
                         for p in answer.passages]}


def init_workflow(app: Flask) -> Workflow:
    """Attach the workflow to `app` (its live index follows the database's publications by itself)."""
    workflow = Workflow(app)
    app.extensions["chatbot_staff"] = workflow
    return workflow


def current_workflow() -> Workflow:
    return current_app.extensions["chatbot_staff"]


