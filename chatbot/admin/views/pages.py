"""Uploaded pages: upload -> preview of the passages it yields -> confirm; view, give a publisher
and a link; delete. Shipped documents (the corpus folder's): view with their passages, hide from
the next builds or show again."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ...corpus import LoadError
from ..auth import current_actor, current_staff
from ..blueprint import bp
from ..forms import ConfirmPageForm, PageSourceForm, UploadPageForm
from ..uploads import UploadedPage, read_uploaded_page, submitted_file, too_large_to_preview
from ..workspace import current_workspace


@bp.route("/pages/upload", methods=["GET", "POST"])
def upload_page():
    """GET: the upload form. POST: check the file and show its passages; nothing is saved yet."""
    form = UploadPageForm()
    page = submitted_file(form, form.page, read_uploaded_page)
    if page is None:
        return render_template("admin/upload_page.html", form=form), 422 if form.errors else 200
    try:
        token = current_workspace().knowledge.hold_upload(page.filename, page.suffix, page.text, current_actor())
    except ValueError as error:
        form.page.errors.append(str(error))
        return render_template("admin/upload_page.html", form=form), 422
    # The preview is a page of its own: reloading it never sends the file again.
    return redirect(url_for("admin.preview_page", token=token), 303)


@bp.get("/pages/preview/<token>")
def preview_page(token: str):
    """The passages a held upload would give, with the button that saves it."""
    page = _held(token)
    if page is None:
        return redirect(url_for("admin.upload_page"))
    passages, problems = current_workspace().preview_document(page.filename, page.suffix, page.text)
    confirm = ConfirmPageForm(formdata=None, data={"upload": token})
    replaces, conflict = _same_name(page.filename)
    return render_template("admin/page_preview.html", page=page, passages=passages, problems=problems,
                           replaces=replaces, conflict=conflict, confirm=confirm)


@bp.post("/pages/confirm")
def confirm_page():
    """Save the previewed page (a new page, or a new text for a page of the same name)."""
    form = ConfirmPageForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.upload_page"))
    page = _held(form.upload.data)
    if page is None:
        return redirect(url_for("admin.upload_page"))
    workspace, actor = current_workspace(), current_actor()
    workspace.knowledge.drop_upload(form.upload.data)
    existing, conflict = _same_name(page.filename)
    if conflict is not None:
        flash(f"A page named {conflict.filename} exists already: delete it first or rename the file.", "error")
        return redirect(url_for("admin.upload_page"))
    try:
        if existing is not None:
            saved = workspace.knowledge.update_document(existing.id, page.text, actor)
        else:
            saved = workspace.knowledge.add_document(page.filename, page.suffix, page.text, actor)
    except ValueError as error:
        flash(f"The page was not saved: {error}", "error")
        return redirect(url_for("admin.upload_page"))
    if saved is None:
        abort(404)
    workspace.audit.record(actor, "page_upload", {"id": saved.id, "filename": saved.filename,
                                                 "replaced": existing is not None,
                                                 "characters": len(saved.text)})
    flash(f"Saved the page {saved.filename}. Retrain to make the bot use it.", "success")
    return redirect(url_for("admin.knowledge"))


@bp.get("/pages/<int:doc_id>")
def view_page(doc_id: int):
    """A stored page with the passages it yields (and the form for its source)."""
    return _page(doc_id, None)


@bp.post("/pages/<int:doc_id>/source")
def page_source(doc_id: int):
    """Save the publisher and link visitors see for the page (used from the next build)."""
    workspace = current_workspace()
    page = workspace.knowledge.get_document(doc_id) or abort(404)
    form = PageSourceForm()
    if form.validate_on_submit():
        try:
            saved = workspace.knowledge.set_source(doc_id, form.publisher.data, form.url.data, current_actor())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            if saved is None:
                abort(404)
            workspace.audit.record(current_actor(), "page_source", {"id": page.id, "filename": page.filename,
                                                                   "publisher": saved.publisher, "url": saved.url})
            flash(f"Saved the source of {page.filename}. Retrain to show it to visitors.", "success")
            return redirect(url_for("admin.view_page", doc_id=doc_id))
    return _page(doc_id, form)


@bp.get("/shipped/<path:path>")
def view_shipped(path: str):
    """A document shipped in the corpus folder, read-only, with its passages."""
    found = current_workspace().shipped.get(path) or abort(404)
    document, passages = found
    return render_template("admin/shipped.html", document=document, passages=passages)


@bp.post("/shipped/<path:path>/<change>")
def hide_shipped(path: str, change: str):
    """Hide a shipped document from the next builds, or use it again (audited); `change` is hide or show."""
    shipped = current_workspace().shipped
    if change not in ("hide", "show"):
        abort(404)
    shipped.get(path) or abort(404)
    if shipped.set_hidden(path, change == "hide", current_staff()):
        flash(f"{path} is left out of the next build." if change == "hide" else
              f"{path} is used again from the next build.", "success")
    return redirect(url_for("admin.view_shipped", path=path))


def _page(doc_id: int, form: PageSourceForm | None):
    workspace = current_workspace()
    page = workspace.knowledge.get_document(doc_id) or abort(404)
    form = form or PageSourceForm(formdata=None, data={"publisher": page.publisher or "", "url": page.url or ""})
    too_large = too_large_to_preview(page.text)  # stored before pages had a preview limit
    if too_large:
        passages, problems = [], [LoadError(page.filename, 0, f"{too_large} Its passages are not shown.")]
    else:
        passages, problems = workspace.preview_document(page.filename, page.suffix, page.text)
    return render_template("admin/page.html", page=page, passages=passages, problems=problems, form=form), \
        422 if form.errors or form.form_errors else 200


@bp.route("/pages/<int:doc_id>/delete", methods=["GET", "POST"])
def delete_page(doc_id: int):
    """GET asks for confirmation; POST deletes."""
    workspace = current_workspace()
    page = workspace.knowledge.get_document(doc_id) or abort(404)
    if request.method == "POST":
        if workspace.knowledge.delete_document(doc_id):
            workspace.audit.record(current_actor(), "page_delete", {"id": page.id, "filename": page.filename})
            flash(f"Deleted the page {page.filename}. Retrain to remove it from the bot.", "success")
        return redirect(url_for("admin.knowledge"))
    return render_template("admin/confirm_delete.html", what="page", name=page.filename,
                           action=url_for("admin.delete_page", doc_id=doc_id))


def _held(token: str) -> UploadedPage | None:
    """The upload the signed-in staff member holds under `token`, or None with a message saying why."""
    held = current_workspace().knowledge.held_upload(token, current_actor())
    if held is None:
        flash("That preview is gone (confirmed already, or more than an hour old): upload the file again.",
              "error")
        return None
    return UploadedPage(*held)


def _same_name(filename: str):
    """(page this upload replaces, page it clashes with): pages are named by file name without
    extension, case aside, so "Back.md" replaces "back.md" but clashes with "back.txt"."""
    stem = filename.rsplit(".", 1)[0].lower()
    for page in current_workspace().knowledge.list_documents():
        if page.filename.rsplit(".", 1)[0].lower() == stem:
            return (page, None) if page.filename.lower() == filename.lower() else (None, page)
    return None, None
