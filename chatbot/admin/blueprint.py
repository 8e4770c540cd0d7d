"""The `admin` blueprint (under /admin) and what every one of its pages shares.

Every request to it passes `guard()` first: uploads get a larger body limit,
anyone not logged in is refused (a redirect to the login page, or 401 JSON for
a `.json` endpoint), and every POST must carry the form's CSRF token. Errors
on these pages are shown as pages, not as the API's JSON.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, TooManyRequests

from ..storage import StorageError
from ..web.errors import error_response
from .uploads import MAX_UPLOAD_MB, UPLOAD_BODY_LIMIT

STATIC_FOLDER = Path(__file__).resolve().parent.parent / "web" / "static"
bp = Blueprint("admin", __name__, url_prefix="/admin",
               static_folder=str(STATIC_FOLDER), static_url_path="/static")

PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})
UPLOAD_ENDPOINTS = frozenset({"admin.upload_page", "admin.confirm_page", "admin.import_faq"})


def wants_json() -> bool:
    """True for the workspace's JSON endpoints (paths ending in .json) and clients asking for JSON."""
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


@bp.before_request
def guard():
    """Body limit for uploads, then login, then CSRF: the order every admin request is checked in."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_BODY_LIMIT
        request.max_form_memory_size = UPLOAD_BODY_LIMIT
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    current_app.extensions["csrf"].protect()
    return None


@bp.context_processor
def page_helpers() -> dict:
    return {"when": format_time, "max_upload_mb": MAX_UPLOAD_MB}


def format_time(moment: datetime | None) -> str:
    """A UTC time as staff read it: '2026-11-21 10:15 UTC'; an em dash for none."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def error_page(status: int, title: str, message: str):
    if wants_json():
        return error_response(status, title.lower().replace(" ", "_"), message)
    return render_template("admin/error.html", title=title, message=message), status


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    return error_page(400, "Form expired", "This form has expired or did not come from the workspace. "
                                           "Go back, reload the page and try again.")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    return error_page(413, "Too large", f"The file is too large: at most {MAX_UPLOAD_MB} MB.")


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    return error_page(404, "Not found", "There is nothing here: it may have been deleted.")


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests):
    if wants_json():
        response = error_response(429, "rate_limited", "Too many attempts; please wait a minute.")
    else:
        from .forms import LoginForm
        response = current_app.make_response((render_template(
            "admin/login.html", form=LoginForm(formdata=None),
            error="Too many login attempts. Please wait a minute and try again."), 429))
    retry_after = error.get_response().headers.get("Retry-After")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


@bp.errorhandler(StorageError)
def storage_down(error: StorageError):
    current_app.logger.error("staff workspace: database problem: %s", error)
    return error_page(503, "Database unavailable", "The database cannot be reached right now. "
                                                   "Nothing was changed; please try again in a minute.")
