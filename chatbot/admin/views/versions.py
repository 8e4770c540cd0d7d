"""Retrain & versions: start a build, follow its progress, compare a candidate, publish or roll back."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for

from ...staff.workflow import GateBlocked, current_workflow
from ..auth import current_actor
from ..blueprint import bp
from ..check_report import evaluation_rows, report_rows
from ..forms import MIN_OVERRIDE_CHARS, PublishForm

@bp.get("/versions")
def versions():
    """Every version (newest first) with its status; the page refreshes itself while one builds."""
    workflow = current_workflow()
    records = [_fresh(workflow, r) for r in workflow.versions.list()]
    published = workflow.published_version()
    actions = {r.version: next_step(workflow, r, published) for r in records}
    return render_template("admin/versions.html", records=records, published=published, actions=actions,
                           ever_published={p.version for p in workflow.versions.history()},
                           building=any(r.status == "building" for r in records))


@bp.post("/versions/retrain")
def retrain():
    """Start a build of corpus/ and staff content; its page shows the progress."""
    try:
        version = current_workflow().start_retrain(current_actor())
    except RuntimeError as error:
        flash(f"No new build started: {error}.", "error")
        return redirect(url_for("admin.versions"))
    flash("Retraining started. This page follows its progress.", "success")
    return redirect(url_for("admin.version_detail", version=version))


@bp.get("/versions/<version>")
def version_detail(version: str):
    record = current_workflow().build_status(version) or abort(404)
    return _version_page(record, PublishForm(formdata=None))


@bp.get("/versions/<version>/status.json")
def version_status(version: str):
    """{version, status, progress, stage, error} of a build, for scripts and monitoring."""
    record = current_workflow().build_status(version) or abort(404)
    return jsonify({"version": record.version, "status": record.status, "progress": record.progress,
                    "stage": record.stage, "error": record.error})


@bp.post("/versions/<version>/publish")
def publish_version(version: str):
    """Publish a candidate; when the safety gate objects, only with a written reason."""
    workflow = current_workflow()
    record = workflow.build_status(version) or abort(404)
    form = PublishForm()
    if record.status != "candidate":
        flash("Only a finished candidate can be published.", "error")
        return redirect(url_for("admin.version_detail", version=version))
    if not form.validate_on_submit():
        return _version_page(record, form, 422)
    reason = (form.override_reason.data or "").strip() or None
    try:
        workflow.publish(version, current_actor(), reason)
    except GateBlocked:
        form.override_reason.errors.append(
            f"The safety checks object to this version: to publish it anyway, say why "
            f"(at least {MIN_OVERRIDE_CHARS} characters).")
        return _version_page(record, form, 422)
    except ValueError as error:
        flash(f"Not published: {error}", "error")
        return redirect(url_for("admin.version_detail", version=version))
    flash(f"Published {version}. Every server answers with it within a few seconds.", "success")
    return redirect(url_for("admin.versions"))


@bp.post("/versions/<version>/rollback")
def rollback_version(version: str):
    """Serve an earlier version again: one published before, or a candidate older than the published one."""
    workflow = current_workflow()
    record = workflow.build_status(version) or abort(404)
    if next_step(workflow, record, workflow.published_version()) != "rollback":
        flash("Only an earlier version can be rolled back to; review and publish a newer one.", "error")
        return redirect(url_for("admin.version_detail", version=version))
    try:
        workflow.rollback(version, current_actor())
    except ValueError as error:
        flash(f"Not rolled back: {error}", "error")
        return redirect(url_for("admin.version_detail", version=version))
    flash(f"Rolled back to {version}.", "success")
    return redirect(url_for("admin.versions"))


def _fresh(workflow, record):
    """A building version's record re-read through build_status (which marks dead builds failed)."""
    if record.status != "building":
        return record
    return workflow.build_status(record.version) or record


def next_step(workflow, record, published: str | None) -> str | None:
    """What staff can do with a version: "rollback" to an earlier one (published before, or built
    before the published one), "publish" a newer candidate (through the safety gate), else None."""
    if record.status != "candidate" or record.version == published:
        return None
    if record.version in {p.version for p in workflow.versions.history()}:
        return "rollback"
    live = workflow.versions.get(published) if published else None
    return "rollback" if live is not None and record.created_at < live.created_at else "publish"


def _version_page(record, form: PublishForm, status: int = 200):
    workflow = current_workflow()
    published = workflow.published_version()
    action = next_step(workflow, record, published)
    never_published = record.version not in {p.version for p in workflow.versions.history()}
    return render_template(
        "admin/version.html", record=record, form=form, action=action, published=published,
        never_published=never_published,
        gate=workflow.gate(record.version) if action == "publish" or (action == "rollback" and never_published)
        else [],
        report=report_rows(record.report or {}),
        problems=(record.report or {}).get("problems", []),
        figures=evaluation_rows(record.evaluation or {}),
        compared=bool((record.evaluation or {}).get("published")),
        urgent_missed=(record.evaluation or {}).get("urgent_missed", []),
    ), status
