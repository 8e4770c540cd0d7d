"""FAQ entries as a CSV file: export (download) and import (upload, errors by line).

An import redirects to its report (kept in its audit entry), so reloading the
page never imports the file twice.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, redirect, render_template, request, url_for

from ...staff.faq_csv import ImportTooLarge
from ..auth import current_actor
from ..blueprint import bp
from ..forms import ImportFaqForm
from ..uploads import read_uploaded_csv, submitted_file
from ..workspace import current_workspace


@bp.get("/faq/export.csv")
def export_faq():
    """Every FAQ entry in the corpus CSV format, as a download."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(current_workspace().export_faq_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="faq-{stamp}.csv"',
                             "Cache-Control": "no-store"})


@bp.route("/faq/import", methods=["GET", "POST"])
def import_faq():
    """GET: the upload form, with the report of one's import ?report=<audit id>. POST: add every
    valid row, then redirect to its report: how many were added and the problems by line."""
    form = ImportFaqForm()
    text = submitted_file(form, form.csv_file, read_uploaded_csv)
    if text is None:
        report = _report(request.args.get("report", type=int)) if not form.is_submitted() else None
        return render_template("admin/import_faq.html", form=form, report=report), 422 if form.errors else 200
    workspace = current_workspace()
    try:
        workspace.import_faq_csv(text, current_actor())
    except ImportTooLarge as refusal:
        form.csv_file.errors.append(str(refusal))
        return render_template("admin/import_faq.html", form=form), 422
    done = next((e for e in workspace.audit.recent(REPORTS_LOOKED_AT)
                 if e.action == "import_faq" and e.actor == current_actor()), None)
    return redirect(url_for("admin.import_faq", report=done.id if done else None))


REPORTS_LOOKED_AT = 200  # an import's report is found among this many latest audit entries


def _report(entry_id: int | None) -> dict | None:
    """The report of the signed-in staff member's import with audit entry `entry_id`, or None."""
    if entry_id is None:
        return None
    entry = next((e for e in current_workspace().audit.recent(REPORTS_LOOKED_AT) if e.id == entry_id), None)
    if entry is None or entry.action != "import_faq" or entry.actor != current_actor():
        return None
    return entry.detail
