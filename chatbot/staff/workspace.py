"""The staff workspace's operations, one core for every door.

The admin pages, the `flask staff` commands and train.py are thin adapters
over a `Workspace`: build a candidate, judge it with the safety gate,
publish it, roll back, with the override rules and the rule for which
versions qualify written once, here. No Flask: a door builds the workspace
from the resolved `Settings`, the storage and the index store, in the way
flaskr's `init_app` attaches its database.

Publishing writes one row in the shared database; every server's index
watcher reads it, fetches the version's files if it does not have them and
swaps it in, so all servers switch within seconds. `on_publish(version)`
lets the door switch its own process at once.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Callable

from ..corpus import parse_document
from ..index.store import IndexStore
from ..passages import make_passages
from ..settings import PROJECT_ROOT, Settings
from ..storage import Storage, StorageError
from .account_admin import AccountAdmin
from .accounts import StaffAccounts
from .audit import AuditLog
from .build_job import build_candidate
from .checks import GateMargins, VersionBot, gate_reasons, version_bot
from .clinic_settings import ClinicSettingsStore
from .faq_csv import ImportTooLarge, faq_to_csv, import_faq
from .hashing import HashingGate
from .inbox import Inbox
from .knowledge import KnowledgeStore
from .model import Publication, VersionRecord
from .roles import Actor, Permission, require
from .shipped import ShippedDocuments
from .usage import Usage
from .versions import VersionRegistry, fetch_version, live_version

log = logging.getLogger(__name__)
STALE_BUILD = timedelta(seconds=30)  # a build whose heartbeat is older than this has died
MIN_OVERRIDE_CHARS = 10
MAX_IMPORT_PROBLEMS_KEPT = 500  # an import's problems kept in its audit entry
PUBLISH, ROLLBACK = "publish", "rollback"
ROLLBACK_REASON = "rollback"


class GateBlocked(Exception):
    """The safety gate objects to the version and no valid override was given; `reasons` say why."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class NotAllowed(ValueError):
    """The operation does not apply to this version (unknown, not finished, or the other step)."""


def open_store(settings: Settings) -> IndexStore:
    """This server's index store, as the settings place it."""
    return IndexStore(settings.index_dir, keep=settings["CHATBOT_INDEX_KEEP_VERSIONS"])


class Workspace:
    """Staff operations over one database and one server's index store."""

    def __init__(self, settings: Settings, storage: Storage, store: IndexStore | None = None,
                 on_publish: Callable[[str], None] | None = None, hashing: HashingGate | None = None):
        self.settings = settings
        self.storage = storage
        self.store = store if store is not None else open_store(settings)
        self.on_publish = on_publish if on_publish is not None else self._follow_here
        hashing = hashing or HashingGate(settings["CHATBOT_SERVER_STATE_DIR"])  # shared by the server's workers
        self.accounts = StaffAccounts(storage, hashing=hashing)
        self.audit = AuditLog(storage)
        self.knowledge = KnowledgeStore(storage)
        self.versions = VersionRegistry(storage)
        self.account_admin = AccountAdmin(self.accounts, self.audit)
        self.clinic_settings = ClinicSettingsStore(storage, self.audit)
        self.shipped = ShippedDocuments(storage, settings.corpus_dir, self.audit)
        self.usage = Usage(storage, self.audit)
        self.inbox = Inbox(storage, self.knowledge, self.audit, settings, published=self._published_bot)
        self.margins = GateMargins.from_settings(settings)
        self._processes: dict[str, subprocess.Popen] = {}
        self._candidate: tuple[str, VersionBot] | None = None
        self._lock = threading.Lock()

    # -- building ------------------------------------------------------------
    def _register_build(self, actor: str, note: str | None = None) -> str:
        """Register a new version as building (one build at a time), with staff's note, and audit it."""
        with self._lock:
            self.versions.mark_stale_builds_failed(STALE_BUILD)
            if any(v.status == "building" for v in self.versions.list()):
                raise RuntimeError("a build is already running")
            version = self.store.new_version_id()
            record = self.versions.start(version, actor, note)
        self.audit.record(actor, "retrain", {"version": version, "note": record.note})
        return version

    def build(self, actor: str, strict: bool = False) -> str:
        """Build a candidate in this process and return its version (train.py).

        The build is registered, checked and recorded exactly as a background
        one; CorpusError (and the like) when it fails, after marking it failed.
        """
        version = self._register_build(actor)
        build_candidate(self.settings, self.storage, version, strict=strict)
        return version

    def start_build(self, actor: str, note: str | None = None) -> str:
        """Start a background build of corpus/ + staff content; the new version's id. `note`: why,
        in staff's words (ValueError when over 200 characters)."""
        version = self._register_build(actor, note)
        command = [sys.executable, "-m", "chatbot.staff.build_job",
                   "--instance", str(self.settings.instance_path), "--version", version]
        # The build resolves the same settings: the instance's config file plus these values.
        environment = {**os.environ, **self.settings.as_environ()}
        log_path = self.settings.index_dir / f"build-{version}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as output:
            # A process of its own: a crash or kill cannot take the server with it.
            self._processes[version] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
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

    # -- the gate, publishing and rolling back ----------------------------------
    def published_version(self) -> str | None:
        """The version visitors get: the database's publication, else this server's own."""
        return live_version(self.versions, self.store)

    def gate(self, version: str) -> list[str]:
        """Reasons the safety gate refuses `version` without an override ([] = none)."""
        record = self.versions.get(version)
        if record is None or record.status != "candidate":
            return [f"Version {version} is not a finished candidate."]
        return gate_reasons(record.evaluation or {}, self.margins)

    def next_step(self, version: str, published: str | None = None) -> str | None:
        """What staff can do with `version`: ROLLBACK to an earlier one (published before, or
        built before the published one), PUBLISH a newer candidate, else None (it is the
        published one, or not a finished candidate). `published`: the live version, if known."""
        record = self.versions.get(version)
        published = published if published is not None else self.published_version()
        if record is None or record.status != "candidate" or version == published:
            return None
        if version in {p.version for p in self.versions.history()}:
            return ROLLBACK
        live = self.versions.get(published) if published else None
        return ROLLBACK if live is not None and record.created_at < live.created_at else PUBLISH

    def publish(self, version: str, actor: Actor, override_reason: str | None = None) -> Publication:
        """Make a newer candidate live on every server.

        Forbidden unless `actor` is a publisher or an administrator (roles.py);
        NotAllowed when `version` is not a newer candidate; GateBlocked when
        the gate objects and the override reason is shorter than MIN_OVERRIDE_CHARS.
        """
        return self._make_live(PUBLISH, version, actor, override_reason)

    def rollback(self, version: str, actor: Actor, override_reason: str | None = None) -> Publication:
        """Serve an earlier version again; the same role, gate and override rules as publishing."""
        return self._make_live(ROLLBACK, version, actor, override_reason)

    def _make_live(self, step: str, version: str, actor: Actor, override_reason: str | None) -> Publication:
        actor = require(actor, Permission.PUBLISH, "publish or roll back a version").name
        allowed = self.next_step(version)
        if allowed != step:
            raise NotAllowed(_refusal(step, version, allowed, self.versions.get(version)))
        reasons = self.gate(version)
        reason = (override_reason or "").strip()
        if reasons and len(reason) < MIN_OVERRIDE_CHARS:
            raise GateBlocked(reasons)
        publication = self.versions.publish(version, actor, reason or (ROLLBACK_REASON if step == ROLLBACK else None))
        self.audit.record(actor, step, {"version": version, "gate": reasons, "override_reason": reason or None})
        try:
            self.on_publish(version)
        except Exception as exc:  # every server's watcher follows the database anyway
            log.warning("index version %s published, not switched here at once: %s", version, exc)
        return publication

    def _follow_here(self, version: str) -> None:
        """Make this server's store serve `version` (a door with no live index, e.g. train.py)."""
        fetch_version(self.versions, self.store, version)
        self.store.publish(version)

    # -- trying and previewing ----------------------------------------------------
    def bot(self, version: str) -> VersionBot:
        """The responder and index of `version` (fetched from the database if not here)."""
        return version_bot(self.versions, self.store, self.settings, version)

    def _published_bot(self) -> VersionBot | None:
        """The published version's bot (the inbox's passages), or None when nothing is published."""
        version = self.published_version()
        return self.bot(version) if version else None

    def newest_candidate(self, published: str | None) -> tuple[str, VersionBot] | None:
        """(version, bot) of the newest finished candidate other than `published`, or None."""
        version = next((v.version for v in self.versions.list()
                        if v.status == "candidate" and v.version != published), None)
        if version is None:
            return None
        cached = self._candidate
        if cached is None or cached[0] != version:
            cached = self._candidate = (version, self.bot(version))  # keep one: they are large
        return cached

    def try_it(self, message: str, published: tuple[str, VersionBot]) -> dict:
        """How the published version (given by the door, which serves it) and the newest
        candidate reply to `message`."""
        version, bot = published
        result = {"published": _reply_dict(version, bot.responder.respond(message, bot.index, 3)),
                  "candidate": None}
        candidate = self.newest_candidate(version)
        if candidate is not None:
            version, bot = candidate
            result["candidate"] = _reply_dict(version, bot.responder.respond(message, bot.index, 3))
        return result

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
        # The problems by line too: the import's page shows them from here after its redirect.
        problems = [{"line": e.line, "message": e.message} for e in sorted(errors, key=lambda e: e.line)]
        self.audit.record(actor, "import_faq", {"added": added, "errors": len(errors),
                                                "problems": problems[:MAX_IMPORT_PROBLEMS_KEPT]})
        return added, errors


def _refusal(step: str, version: str, allowed: str | None, record: VersionRecord | None) -> str:
    if record is None:
        return f"there is no index version {version}"
    if record.status != "candidate":
        return f"version {version} is not a finished candidate ({record.status})"
    if allowed is None:
        return f"version {version} is the published version"
    if step == ROLLBACK:
        return f"version {version} is newer than the published one: review it and publish it instead"
    return f"version {version} is older than the published one: roll back to it instead"


def _reply_dict(version: str, answer) -> dict:
    return {"version": version, "kind": answer.kind, "reply": answer.reply,
            "passages": [{"id": p.id, "text": p.text, "highlight": p.highlight, "score": p.score,
                          "question": p.question, "title": p.source.title, "section": p.source.section}
                         for p in answer.passages]}
