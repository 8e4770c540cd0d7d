"""Retrain & versions: start a build, follow its progress, compare a candidate, publish or roll back."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for

from ...staff.roles import Permission
from ...staff.workspace import MIN_OVERRIDE_CHARS, PUBLISH, ROLLBACK, GateBlocked, NotAllowed
from ..auth import current_actor, current_staff, requires
from ..blueprint import bp
from ..check_report import evaluation_rows, report_rows
from ..forms import PublishForm, RetrainForm
from ..workspace import current_workspace


@bp.get("/versions")
def versions():
    """Every version (newest first) with its status; the page refreshes itself while one builds."""
    workspace = current_workspace()
    records = [_fresh(workspace, r) for r in workspace.versions.list()]
    published = workspace.published_version()
    actions = {r.version: workspace.next_step(r.version, published) for r in records}
    return render_template("admin/versions.html", records=records, published=published, actions=actions,
                           ever_published={p.version for p in workspace.versions.history()},
                           building=any(r.status == "building" for r in records), form=RetrainForm())


@bp.post("/versions/retrain")
def retrain():
    """Start a build of corpus/ and staff content, with the note staff gave; its page shows the progress."""
    form = RetrainForm()
    if not form.validate_on_submit():
        flash("No new build started: " + " ".join(form.note.errors or ["the form was not complete"]), "error")
        return redirect(url_for("admin.versions"))
    try:
        version = current_workspace().start_build(current_actor(), form.note.data or None)
    except RuntimeError as error:
        flash(f"No new build started: {error}.", "error")
        return redirect(url_for("admin.versions"))
    flash("Retraining started. This page follows its progress.", "success")
    return redirect(url_for("admin.version_detail", version=version))


@bp.get("/versions/<version>")
def version_detail(version: str):
    record = current_workspace().build_status(version) or abort(404)
    return _version_page(record, PublishForm(formdata=None))


@bp.get("/versions/<version>/status.json")
def version_status(version: str):
    """{version, status, progress, stage, error} of a build, for scripts and monitoring."""
    record = current_workspace().build_status(version) or abort(404)
    return jsonify({"version": record.version, "status": record.status, "progress": record.progress,
                    "stage": record.stage, "error": record.error})


@bp.post("/versions/<version>/publish")
@requires(Permission.PUBLISH)
def publish_version(version: str):
    """Publish a newer candidate; when the safety gate objects, only with a written reason."""
    return _make_live(version, PUBLISH)


@bp.post("/versions/<version>/rollback")
@requires(Permission.PUBLISH)
def rollback_version(version: str):
    """Serve an earlier version again; when the safety gate objects, only with a written reason."""
    return _make_live(version, ROLLBACK)


def _make_live(version: str, step: str):
    workspace = current_workspace()
    record = workspace.build_status(version) or abort(404)
    form = PublishForm()
    if not form.validate_on_submit():
        return _version_page(record, form, 422)
    operation = workspace.publish if step == PUBLISH else workspace.rollback
    try:
        operation(version, current_staff(), form.override_reason.data)
    except GateBlocked:
        form.override_reason.errors.append(
            f"The safety checks object to this version: to go ahead anyway, say why "
            f"(at least {MIN_OVERRIDE_CHARS} characters).")
        return _version_page(record, form, 422)
    except NotAllowed as error:
        flash(f"Not {'published' if step == PUBLISH else 'rolled back'}: {error}.", "error")
        return redirect(url_for("admin.version_detail", version=version))
    if step == PUBLISH:
        flash(f"Published {version}. Every server answers with it within a few seconds.", "success")
    else:
        flash(f"Rolled back to {version}.", "success")
    return redirect(url_for("admin.versions"))


def _fresh(workspace, record):
    """A building version's record re-read through build_status (which marks dead builds failed)."""
    if record.status != "building":
        return record
    return workspace.build_status(record.version) or record


def _version_page(record, form: PublishForm, status: int = 200):
    workspace = current_workspace()
    published = workspace.published_version()
    action = workspace.next_step(record.version, published)
    never_published = record.version not in {p.version for p in workspace.versions.history()}
    return render_template(
        "admin/version.html", record=record, form=form, action=action, published=published,
        never_published=never_published,
        gate=workspace.gate(record.version) if action else [],
        report=report_rows(record.report or {}),
        problems=(record.report or {}).get("problems", []),
        figures=evaluation_rows(record.evaluation or {}),
        compared=bool((record.evaluation or {}).get("published")),
        urgent_missed=(record.evaluation or {}).get("urgent_missed", []),
    ), status
