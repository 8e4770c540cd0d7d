"""Knowledge: the list of FAQ entries and uploaded pages, with search; add, edit, delete, review FAQ entries.

Saving never loses what staff typed: an entry someone else saved since the
form was opened is not overwritten (the form comes back with both texts), an
entry deleted meanwhile can be added again from the same text, and a question
another entry has already is flagged, with a link, before it is saved.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ...staff.faq_entries import EditConflict, revision
from ...staff.model import matches_search, search_words
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
    workspace = current_workspace()
    store = workspace.knowledge
    words = search_words(search)
    shipped = [d for d in workspace.shipped.list() if matches_search(words, d.title, d.path, d.publisher or "")]
    return render_template("admin/knowledge.html", search=search, shipped=shipped,
                           entries=store.list_faq(search), pages=store.list_documents(search))


@bp.route("/faq/new", methods=["GET", "POST"])
def add_faq():
    form = FaqForm()
    duplicates = []
    if form.validate_on_submit() and not (duplicates := _same_question(form)):
        workspace = current_workspace()
        try:
            entry = workspace.knowledge.add_faq(**form.entry_fields(), author=current_actor())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            workspace.audit.record(current_actor(), "faq_add", _described(entry))
            flash(f"Added the FAQ entry “{entry.question}”. Retrain to make the bot use it.", "success")
            return redirect(url_for("admin.knowledge"))
    return render_template("admin/faq_form.html", form=form, entry=None, duplicates=duplicates), _status(form)


@bp.route("/faq/<int:faq_id>/edit", methods=["GET", "POST"])
def edit_faq(faq_id: int):
    workspace = current_workspace()
    entry = workspace.knowledge.get_faq(faq_id)
    if entry is None:
        if request.method != "POST":
            abort(404)
        return _deleted_meanwhile(faq_id, FaqForm())
    form = FaqForm.for_entry(entry)
    duplicates, conflict = [], None
    if form.validate_on_submit() and not (duplicates := _same_question(form, faq_id)):
        try:
            updated = workspace.knowledge.update_faq(faq_id, **form.entry_fields(), editor=current_actor(),
                                                     opened=form.opened.data or None)
        except EditConflict as changed:
            conflict = entry = changed.current
            form.opened.data = revision(conflict)  # saving again replaces their text, knowingly
            form.form_errors.append(f"Not saved: this entry was {changed}. Your text is kept in the form; "
                                    "their version is shown below it. Save again to replace theirs with yours.")
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            if updated is None:
                return _deleted_meanwhile(faq_id, form)
            workspace.audit.record(current_actor(), "faq_edit", _described(updated))
            flash(f"Saved the FAQ entry “{updated.question}”. Retrain to make the bot use it.", "success")
            return redirect(url_for("admin.knowledge"))
    status = 409 if conflict else _status(form)
    return render_template("admin/faq_form.html", form=form, entry=entry, conflict=conflict,
                           duplicates=duplicates), status


def _deleted_meanwhile(faq_id: int, form: FaqForm):
    """The form with what was typed, to add it as a new entry: the entry was deleted since it was opened."""
    deleted = next((e for e in current_workspace().audit.recent()
                    if e.action == "faq_delete" and e.detail.get("id") == faq_id), None)
    by = f" by {deleted.actor}" if deleted else ""
    form.form_errors.append(f"Not saved: this entry was deleted{by} since you opened it. Your text is kept below: "
                            "add it as a new entry, or cancel.")
    return render_template("admin/faq_form.html", form=form, entry=None, duplicates=[],
                           action=url_for("admin.add_faq")), 409


def _same_question(form: FaqForm, except_id: int | None = None) -> list:
    """Other entries with the form's question, unless staff said to save anyway; flagged on the form."""
    if form.same_question_ok.data:
        return []
    duplicates = current_workspace().knowledge.same_question(form.question.data, except_id)
    if duplicates:
        form.question.errors.append("An entry with this question exists (linked above). Change the question, "
                                    "add your wording to that entry, or tick “Save it anyway”.")
    return duplicates


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
