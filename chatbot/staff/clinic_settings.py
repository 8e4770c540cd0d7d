"""The clinic's own words, edited by administrators in the workspace: greeting, contact text,
starter questions, clinic name, notice, emergency and crisis numbers.

    store = ClinicSettingsStore(storage, audit)
    store.save({"CHATBOT_GREETING": "Hello!"}, actor)    # validated, audited; Forbidden unless admin
    live = LiveClinicSettings(store, base_settings)      # one per process
    live.current()                                       # base settings with the saved values on top

A saved value wins over config.toml and the environment for its name (the
database is shared, so every server gets it). Each process re-reads the
saved values at most every REFRESH_SECONDS, in a background thread: a
visitor's reply never waits for the database, and a database that is down
leaves the last values read in place.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from ..storage import Storage, StorageError
from .audit import AuditLog
from .model import transaction, utc_now
from .roles import Permission, require
from .tables import ClinicSettingRow

log = logging.getLogger(__name__)
REFRESH_SECONDS = 2.0
MAX_STARTER_QUESTIONS = 5
PHONE_NUMBER = re.compile(r"^[0-9+()./ -]{2,30}$")


@dataclass(frozen=True)
class EditableSetting:
    """A setting staff may edit: its label, how long it may be, whether it may be empty, and
    whether it is a list (one item per line)."""
    name: str
    label: str
    max_chars: int
    required: bool = True
    is_list: bool = False
    is_phone: bool = False


EDITABLE = (
    EditableSetting("CHATBOT_CLINIC_NAME", "Clinic name (empty: the bot says “the clinic”)", 120, required=False),
    EditableSetting("CHATBOT_GREETING", "Greeting: the first message of the chat panel", 300),
    EditableSetting("CHATBOT_STARTER_QUESTIONS", f"Starter questions offered under the greeting "
                    f"(one per line, at most {MAX_STARTER_QUESTIONS})", 120, required=False, is_list=True),
    EditableSetting("CHATBOT_CONTACT_TEXT", "How to reach the clinic, said when the bot cannot answer", 500),
    EditableSetting("CHATBOT_NOTICE", "Notice that goes with every answer", 300),
    EditableSetting("CHATBOT_EMERGENCY_NUMBER", "Emergency number, given with urgent replies", 30, is_phone=True),
    EditableSetting("CHATBOT_CRISIS_NUMBER", "Crisis line, given to visitors who mention self-harm", 30,
                    is_phone=True),
)
BY_NAME = {setting.name: setting for setting in EDITABLE}


def checked_value(name: str, value: Any):
    """`value` cleaned for setting `name` (a text, or a tuple of texts for a list); ValueError
    naming the setting and the rule it breaks."""
    setting = BY_NAME.get(name)
    if setting is None:
        raise ValueError(f"{name} cannot be edited in the workspace")
    label = setting.label.split(":")[0].split(" (")[0]
    if setting.is_list:
        items = value.splitlines() if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{label}: expected lines of text")
        items = tuple(" ".join(i.split()) for i in items if i.strip())
        if len(items) > MAX_STARTER_QUESTIONS:
            raise ValueError(f"{label}: at most {MAX_STARTER_QUESTIONS}, not {len(items)}")
        if any(len(i) > setting.max_chars for i in items):
            raise ValueError(f"{label}: each at most {setting.max_chars} characters")
        return items
    if not isinstance(value, str):
        raise ValueError(f"{label}: expected text")
    text = value.replace("\x00", "").strip()
    if setting.required and not text:
        raise ValueError(f"{label}: cannot be empty")
    if len(text) > setting.max_chars:
        raise ValueError(f"{label}: at most {setting.max_chars} characters, not {len(text)}")
    if setting.is_phone and not PHONE_NUMBER.match(text):
        raise ValueError(f"{label}: digits, spaces and + ( ) - . / only, e.g. 112 or 116 123")
    return text


class ClinicSettingsStore:
    """The saved clinic settings in `storage`'s database; saving is for administrators and audited."""

    def __init__(self, storage: Storage, audit: AuditLog):
        self.storage = storage
        self.audit = audit

    def saved(self) -> dict[str, Any]:
        """Every saved value by name (lists as tuples); StorageError when the database fails."""
        with transaction(self.storage, "reading the clinic settings") as session:
            rows = session.scalars(select(ClinicSettingRow)).all()
            return {row.name: tuple(row.value) if isinstance(row.value, list) else row.value
                    for row in rows if row.name in BY_NAME}

    def save(self, values: Mapping[str, Any], actor) -> list[str]:
        """Check every value (ValueError for the first that breaks a rule: nothing saved), then
        save those that differ from the saved ones; the names changed, in one audit entry with
        before and after. Forbidden unless `actor` is an administrator."""
        actor = require(actor, Permission.ADMINISTER, "change the clinic settings").name
        cleaned = {name: checked_value(name, value) for name, value in values.items()}
        now = utc_now()
        changed: dict[str, dict] = {}
        with transaction(self.storage, "saving the clinic settings", write=True) as session:
            rows = {row.name: row for row in session.scalars(select(ClinicSettingRow))}
            for name, value in cleaned.items():
                row = rows.get(name)
                before = None if row is None else (tuple(row.value) if isinstance(row.value, list) else row.value)
                if before == value:
                    continue
                stored = list(value) if isinstance(value, tuple) else value
                if row is None:
                    session.add(ClinicSettingRow(name=name, value=stored, updated_at=now, updated_by=actor))
                else:
                    row.value, row.updated_at, row.updated_by = stored, now, actor
                changed[name] = {"before": _json(before), "after": _json(value)}
        if changed:
            self.audit.record(actor, "clinic_settings", changed)
        return list(changed)


def _json(value):
    return list(value) if isinstance(value, tuple) else value


class LiveClinicSettings:
    """The settings a process answers with: `base` (config file, environment) with the saved
    clinic settings on top, re-read in the background at most every `refresh_seconds`."""

    def __init__(self, store: ClinicSettingsStore, base: Mapping[str, Any],
                 refresh_seconds: float = REFRESH_SECONDS):
        self.store = store
        self.base = base
        self.refresh_seconds = refresh_seconds
        self._current: Mapping[str, Any] = MappingProxyType(dict(base))
        self._read_at = float("-inf")
        self._refreshing = threading.Lock()
        self._pid = os.getpid()
        self._closed = False

    def current(self) -> Mapping[str, Any]:
        """The settings in effect now (never waits for the database)."""
        if self._pid != os.getpid():  # a forked worker: a refresh the parent ran is not running here
            self._refreshing, self._pid = threading.Lock(), os.getpid()
        if (not self._closed and time.monotonic() - self._read_at >= self.refresh_seconds
                and self._refreshing.acquire(blocking=False)):
            self._read_at = time.monotonic()
            threading.Thread(target=self._refresh_and_release, name="clinic-settings", daemon=True).start()
        return self._current

    def refresh(self) -> None:
        """Re-read the saved values now (at start, and right after saving on this server)."""
        try:
            saved = self.store.saved()
        except StorageError as error:  # keep the last values read; try again later
            log.warning("clinic settings not re-read: %s", error)
            return
        merged = {**self.base, **saved}
        if merged != dict(self._current):  # a new object only for new values: users cache by identity
            self._current = MappingProxyType(merged)
        self._read_at = time.monotonic()

    def close(self, timeout: float = 10.0) -> None:
        """Start no more background re-reads and wait up to `timeout` s for one under way (shutdown,
        tests): the caller may then close the storage without a re-read opening a connection after."""
        self._closed = True
        if self._pid == os.getpid() and self._refreshing.acquire(timeout=timeout):
            self._refreshing.release()

    def _refresh_and_release(self) -> None:
        try:
            self.refresh()
        finally:
            self._refreshing.release()
