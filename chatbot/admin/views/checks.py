"""Check questions: staff's own evaluation questions every candidate is measured on."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth import current_actor
from ..blueprint import bp
from ..forms import EXPECTED_KINDS, CheckQuestionForm, lines
from ..workspace import current_workspace

AUDIT_TEXT_CHARS = 200


@bp.route("/checks", methods=["GET", "POST"])
def checks():
    """GET: the list and the add form. POST: add a check question."""
    workspace = current_workspace()
    form = CheckQuestionForm()
    if form.validate_on_submit():
        try:
            check = workspace.knowledge.add_check(form.question.data.strip(), form.expect.data,
                                                 lines(form.phrases.data), current_actor())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            workspace.audit.record(current_actor(), "check_add", {"id": check.id, "question":
                                                                 check.question[:AUDIT_TEXT_CHARS],
                                                                 "expect": check.expect})
            flash("Added the check question; the next retrain will be measured on it.", "success")
            return redirect(url_for("admin.checks"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/checks.html", form=form, checks=workspace.knowledge.list_checks(),
                           kinds=dict(EXPECTED_KINDS)), status


@bp.route("/checks/<int:check_id>/delete", methods=["GET", "POST"])
def delete_check(check_id: int):
    """GET asks for confirmation; POST deletes."""
    workspace = current_workspace()
    check = next((c for c in workspace.knowledge.list_checks() if c.id == check_id), None) or abort(404)
    if request.method == "POST":
        if workspace.knowledge.delete_check(check_id):
            workspace.audit.record(current_actor(), "check_delete",
                                  {"id": check.id, "question": check.question[:AUDIT_TEXT_CHARS]})
            flash("Deleted the check question.", "success")
        return redirect(url_for("admin.checks"))
    return render_template("admin/confirm_delete.html", what="check question", name=check.question,
                           action=url_for("admin.delete_check", check_id=check_id))
