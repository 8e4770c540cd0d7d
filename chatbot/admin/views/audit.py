"""Audit log: the most recent staff actions, newest first."""
from __future__ import annotations

from flask import render_template

from ..blueprint import bp
from ..workspace import current_workspace

AUDIT_PAGE_SIZE = 200


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", entries=current_workspace().audit.recent(limit=AUDIT_PAGE_SIZE),
                           limit=AUDIT_PAGE_SIZE)
