"""Try it: how the published version and the newest candidate reply to a question, side by side."""
from __future__ import annotations

from flask import redirect, render_template, session, url_for

from ...index.artifact import IndexLoadError
from ..blueprint import bp
from ..forms import TryItForm
from ..workspace import current_workspace, served_bot

TRIED = "try_it_question"  # the last question tried, in this staff member's signed session


@bp.route("/try", methods=["GET", "POST"])
def try_it():
    """POST (so questions stay out of URLs and access logs) keeps the question in the signed
    session and redirects; the GET then shows both replies, so a reload never re-posts."""
    form = TryItForm()
    if form.validate_on_submit():
        session[TRIED] = form.message.data.strip()
        return redirect(url_for("admin.try_it"))
    if form.errors:
        return render_template("admin/try_it.html", form=form, result=None, problem=None), 422
    message = session.get(TRIED)
    result, problem = None, None
    if message:
        form = TryItForm(formdata=None, data={"message": message})
        try:
            result = current_workspace().try_it(message, served_bot())
        except IndexLoadError as error:
            problem = f"The candidate index could not be loaded: {error}"
    return render_template("admin/try_it.html", form=form, result=result, problem=problem)
