"""Values the staff stores return, and their one way into the database."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..storage import Storage, StorageError
from ..text import squash_spaces
from .tables import EMAIL_LENGTH

# Execution options of UPDATE and DELETE statements: nothing they touch is loaded in the session.
BULK = {"synchronize_session": False}


@dataclass(frozen=True)
class StaffUser:
    """A staff account, without its password hash."""
    id: int
    email: str
    active: bool
    session_version: int
    created_at: datetime
    last_login_at: datetime | None
    role: str = "editor"  # a staff.roles.Role value


@dataclass(frozen=True)
class AuditEntry:
    """One staff action: who (`actor`), what (`action`), details as JSON."""
    id: int
    at: datetime
    actor: str
    action: str
    detail: dict


@dataclass(frozen=True)
class FaqRecord:
    """An FAQ entry written by staff; `reviewed_*` are None until someone reviews this wording."""
    id: int
    question: str
    answer: str
    alternates: tuple[str, ...]
    source_title: str | None
    source_url: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    updated_by: str
    reviewed_by: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True)
class DocumentRecord:
    """A page uploaded by staff; `suffix` (".md", ".txt" or ".html") says how to parse `text`."""
    id: int
    filename: str
    suffix: str
    text: str
    author: str
    created_at: datetime
    updated_at: datetime
    updated_by: str
    publisher: str | None = None  # set in the workspace: wins over the page's own header
    url: str | None = None


@dataclass(frozen=True)
class CheckQuestion:
    """A question every candidate index is checked on: the reply kind expected, and for
    answers the phrases one of which a good passage contains."""
    id: int
    question: str
    expect: str
    phrases: tuple[str, ...]
    author: str
    created_at: datetime


@dataclass(frozen=True)
class VersionRecord:
    """An index build: "building" (with progress), then "candidate" (with its report) or "failed"."""
    version: str
    status: str
    created_at: datetime
    created_by: str
    progress: int
    stage: str
    heartbeat_at: datetime | None
    report: dict
    evaluation: dict
    changes: list
    error: str | None
    note: str | None = None  # why it was built, in staff's words


@dataclass(frozen=True)
class Publication:
    """One publication of a version; the newest is the version every server serves."""
    version: str
    published_at: datetime
    published_by: str
    reason: str | None


@contextmanager
def transaction(storage: Storage, action: str, write: bool = False) -> Iterator[Session]:
    """One short transaction on `storage`'s database, committed at the end; errors as StorageError.

    `action` names the work in the StorageError message ("reading FAQ entries").
    """
    # Storage's own transaction: the staff stores share its engines, its SQLite
    # write lock (BEGIN IMMEDIATE) and its error wrapping.
    with storage.transaction(action, write=write) as session:
        yield session


def is_conflict(error: StorageError) -> bool:
    """True when the database refused a write for breaking a unique or foreign key."""
    return isinstance(error.__cause__, IntegrityError)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def checked_id(value, what: str) -> int:
    """`value` if it is an integer row id; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is an integer, not {value!r}")
    return value


def checked_name(value, what: str) -> str:
    """`value` as a staff member's name or email for an author/editor column; ValueError if unfit."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if len(value) > EMAIL_LENGTH:
        raise ValueError(f"{what} is longer than {EMAIL_LENGTH} characters")
    return value


def checked_json(value, kind: type, what: str):
    """`value` if it is a `kind` (dict or list) that JSON can hold; ValueError otherwise."""
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be a {kind.__name__}, not {type(value).__name__}")
    try:
        # allow_nan=False: JSON has no NaN or infinity, and PostgreSQL refuses them.
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} cannot be stored as JSON: {error}") from None
    return value


def checked_texts(values, what: str, max_chars: int) -> tuple[str, ...]:
    """`values` (a list of texts) trimmed, spaces squashed, empty ones dropped; ValueError for
    anything but texts, or one longer than `max_chars`."""
    if values is None:
        return ()
    try:
        values = list(values) if not isinstance(values, str) else None
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{what} must be a list of texts")
    texts = tuple(squash_spaces(v.replace("\x00", "")) for v in values)
    if any(len(t) > max_chars for t in texts):
        raise ValueError(f"one of the {what} is longer than {max_chars} characters")
    return tuple(t for t in texts if t)


def search_words(search: str) -> list[str]:
    """The case-folded words of a staff search box; ValueError when `search` is not text."""
    if not isinstance(search, str):
        raise ValueError(f"search must be text, not {type(search).__name__}")
    return search.casefold().split()


def matches_search(words: list[str], *fields: str) -> bool:
    """True when every one of `words` (from search_words) occurs in one of `fields`, case aside."""
    haystack = "\n".join(fields).casefold()
    return all(word in haystack for word in words)
