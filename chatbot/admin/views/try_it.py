"""Try it: how the published version and the newest candidate reply to a question, side by side."""
from __future__ import annotations

from flask import render_template

from ...index.artifact import IndexLoadError
from ...service import current_service
from ...staff.checks import VersionBot
from ..blueprint import bp
from ..forms import TryItForm
from ..workspace import current_workspace


@bp.route("/try", methods=["GET", "POST"])
def try_it():
    """POST (so questions stay out of URLs and access logs) shows both replies; GET the empty box."""
    form = TryItForm()
    result, problem = None, None
    if form.validate_on_submit():
        try:
            served, responder = current_service().bot()
            published = (served.version, VersionBot(responder, served.index))
            result = current_workspace().try_it(form.message.data.strip(), published)
        except IndexLoadError as error:
            problem = f"The candidate index could not be loaded: {error}"
    status = 422 if form.errors else 200
    return render_template("admin/try_it.html", form=form, result=result, problem=problem), status
