"""Knowledge: the list of FAQ entries and uploaded pages, with search; add, edit, delete, review FAQ entries."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth import current_actor
from ..blueprint import bp
from ..forms import FaqForm
from ..workspace import current_workspace

MAX_SEARCH_CHARS = 200
AUDIT_TEXT_CHARS = 200


@bp.get("/knowledge")
def knowledge():
    """Every FAQ entry and page, or those matching ?q= (case-insensitive)."""
    search = request.args.get("q", "").strip()[:MAX_SEARCH_CHARS]
    store = current_workspace().knowledge
    return render_template("admin/knowledge.html", search=search,
                           entries=store.list_faq(search), pages=store.list_documents(search))


@bp.route("/faq/new", methods=["GET", "POST"])
def add_faq():
    form = FaqForm()
    if form.validate_on_submit():
        workspace = current_workspace()
        try:
            entry = workspace.knowledge.add_faq(**form.entry_fields(), author=current_actor())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            workspace.audit.record(current_actor(), "faq_add", _described(entry))
            flash(f"Added the FAQ entry “{entry.question}”. Retrain to make the bot use it.", "success")
            return redirect(url_for("admin.knowledge"))
    return render_template("admin/faq_form.html", form=form, entry=None), _status(form)


@bp.route("/faq/<int:faq_id>/edit", methods=["GET", "POST"])
def edit_faq(faq_id: int):
    workspace = current_workspace()
    entry = workspace.knowledge.get_faq(faq_id) or abort(404)
    form = FaqForm.for_entry(entry)
    if form.validate_on_submit():
        try:
            updated = workspace.knowledge.update_faq(faq_id, **form.entry_fields(), editor=current_actor())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            if updated is None:
                abort(404)
            workspace.audit.record(current_actor(), "faq_edit", _described(updated))
            flash(f"Saved the FAQ entry “{updated.question}”. Retrain to make the bot use it.", "success")
            return redirect(url_for("admin.knowledge"))
    return render_template("admin/faq_form.html", form=form, entry=entry), _status(form)


@bp.route("/faq/<int:faq_id>/delete", methods=["GET", "POST"])
def delete_faq(faq_id: int):
    """GET asks for confirmation; POST deletes."""
    workspace = current_workspace()
    entry = workspace.knowledge.get_faq(faq_id) or abort(404)
    if request.method == "POST":
        if workspace.knowledge.delete_faq(faq_id):
            workspace.audit.record(current_actor(), "faq_delete", _described(entry))
            flash(f"Deleted the FAQ entry “{entry.question}”. Retrain to remove it from the bot.", "success")
        return redirect(url_for("admin.knowledge"))
    return render_template("admin/confirm_delete.html", what="FAQ entry", name=entry.question,
                           action=url_for("admin.delete_faq", faq_id=faq_id))


@bp.post("/faq/<int:faq_id>/review")
def review_faq(faq_id: int):
    """Mark an entry as checked by the logged-in staff member."""
    workspace = current_workspace()
    entry = workspace.knowledge.mark_reviewed(faq_id, current_actor()) or abort(404)
    workspace.audit.record(current_actor(), "faq_review", _described(entry))
    flash(f"Marked “{entry.question}” as reviewed.", "success")
    return redirect(url_for("admin.knowledge", q=request.args.get("q") or None))


def _described(entry) -> dict:
    return {"id": entry.id, "question": entry.question[:AUDIT_TEXT_CHARS]}


def _status(form) -> int:
    """422 when a submitted form has errors, else 200."""
    return 422 if form.errors or form.form_errors else 200
