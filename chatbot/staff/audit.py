"""The audit log: who did what in the staff workspace, and when."""
from __future__ import annotations

from sqlalchemy import select

from ..storage import Storage
from .model import AuditEntry, checked_json, checked_name, transaction, utc_now
from .tables import AuditRow

MAX_ACTION_LENGTH = 64


class AuditLog:
    """Append-only record of staff actions in `storage`'s database."""

    def __init__(self, storage: Storage):
        self.storage = storage

    def record(self, actor: str, action: str, detail: dict | None = None) -> None:
        """Add one entry stamped now; `action` is a short name ("faq.update"), `detail` JSON-able."""
        actor = checked_name(actor, "actor")
        if not isinstance(action, str) or not action.strip():
            raise ValueError("action must be a non-empty text")
        action = action.strip()
        if len(action) > MAX_ACTION_LENGTH:
            raise ValueError(f"action is longer than {MAX_ACTION_LENGTH} characters")
        detail = checked_json({} if detail is None else detail, dict, "detail")
        row = AuditRow(at=utc_now(), actor=actor, action=action, detail=detail)
        with transaction(self.storage, "recording a staff action", write=True) as session:
            session.add(row)

    def recent(self, limit: int = 200) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be an integer of at least 0, not {limit!r}")
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        with transaction(self.storage, "reading the audit log") as session:
            return [AuditEntry(row.id, row.at, row.actor, row.action, dict(row.detail))
                    for row in session.scalars(query)]
