"""Dashboard: what is published, the newest build and its status, what needs attention."""
from __future__ import annotations

from flask import render_template

from ..blueprint import bp
from ..workspace import current_workspace


@bp.get("/")
def dashboard():
    workspace = current_workspace()
    versions = workspace.versions.list()
    entries = workspace.knowledge.list_faq()
    published = workspace.published_version()
    return render_template(
        "admin/dashboard.html",
        published=published,
        published_record=workspace.versions.get(published) if published else None,
        publication=workspace.versions.published(),
        newest=versions[0] if versions else None,
        faq_count=len(entries),
        unreviewed=sum(1 for entry in entries if entry.reviewed_at is None),
        page_count=len(workspace.knowledge.list_documents()),
        check_count=len(workspace.knowledge.list_checks()),
    )
