"""FAQ entries as a CSV file: export (download) and import (upload, errors by line)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, render_template

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
    """GET: the upload form. POST: add every valid row; show how many and the errors by line."""
    form = ImportFaqForm()
    text = submitted_file(form, form.csv_file, read_uploaded_csv)
    if text is None:
        return render_template("admin/import_faq.html", form=form), 422 if form.errors else 200
    try:
        added, errors = current_workspace().import_faq_csv(text, current_actor())
    except ImportTooLarge as refusal:
        form.csv_file.errors.append(str(refusal))
        return render_template("admin/import_faq.html", form=form), 422
    return render_template("admin/import_faq.html", form=ImportFaqForm(formdata=None), added=added,
                           errors=sorted(errors, key=lambda e: e.line))
