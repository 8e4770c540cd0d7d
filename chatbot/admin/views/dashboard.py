"""Dashboard: what is published, the newest build and its status, what needs attention."""
from __future__ import annotations

from flask import render_template

from ...staff.workflow import current_workflow
from ..blueprint import bp


@bp.get("/")
def dashboard():
    workflow = current_workflow()
    versions = workflow.versions.list()
    entries = workflow.knowledge.list_faq()
    return render_template(
        "admin/dashboard.html",
        published=workflow.published_version(),
        publication=workflow.versions.published(),
        newest=versions[0] if versions else None,
        faq_count=len(entries),
        unreviewed=sum(1 for entry in entries if entry.reviewed_at is None),
        page_count=len(workflow.knowledge.list_documents()),
        check_count=len(workflow.knowledge.list_checks()),
    )
