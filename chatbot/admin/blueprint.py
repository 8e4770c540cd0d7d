"""The `admin` blueprint (under /admin) and what every one of its pages shares.

Every request to it passes `guard()` first: uploads get a larger body limit,
anyone not logged in is refused (a redirect to the login page, or 401 JSON for
a `.json` endpoint), and every POST must carry the form's CSRF token. Errors
on these pages are shown as pages, not as the API's JSON (also for an address
under /admin that matches no page), and no staff page is kept in a cache.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge, TooManyRequests

from ..staff.roles import ROLE_LABELS, Forbidden, Permission, Role
from ..storage import StorageError
from ..web.errors import error_response
from .drafts import DRAFT_BODY_LIMIT
from .uploads import MAX_UPLOAD_MB, UPLOAD_BODY_LIMIT

PREFIX = "/admin"
STATIC_FOLDER = Path(__file__).resolve().parent.parent / "web" / "static"
bp = Blueprint("admin", __name__, url_prefix=PREFIX,
               static_folder=str(STATIC_FOLDER), static_url_path="/static")

PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})
UPLOAD_ENDPOINTS = frozenset({"admin.upload_page", "admin.confirm_page", "admin.import_faq"})


def in_workspace() -> bool:
    """True for a request to an address under /admin."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def wants_json() -> bool:
    """True for the workspace's JSON endpoints (paths ending in .json) and clients asking for JSON."""
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


@bp.before_request
def guard():
    """Body limit for uploads, then login, then CSRF: the order every admin request is checked in."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_BODY_LIMIT
        request.max_form_memory_size = UPLOAD_BODY_LIMIT
    elif request.endpoint == "admin.login":  # it may carry back a form sent after the session ended
        request.max_content_length = request.max_form_memory_size = DRAFT_BODY_LIMIT
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    current_app.extensions["csrf"].protect()
    return None


@bp.after_app_request
def not_kept_in_caches(response):
    """Staff pages show unpublished knowledge and accounts: no browser or proxy may keep them
    (the back button after logging out must not show them either). Static files may be cached."""
    if in_workspace() and request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def may(permission: Permission | str) -> bool:
    """True when the signed-in staff member's role allows `permission` (templates hide what it does not)."""
    return current_user.is_authenticated and current_user.actor.may(Permission(permission))


@bp.context_processor
def page_helpers() -> dict:
    return {"when": format_time, "max_upload_mb": MAX_UPLOAD_MB, "may": may,
            "role_labels": ROLE_LABELS, "Role": Role}


def format_time(moment: datetime | None) -> str:
    """A UTC time as staff read it: '2026-11-21 10:15 UTC'; an em dash for none."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def error_page(status: int, title: str, message: str, headers: dict | None = None):
    if wants_json():
        return error_response(status, title.lower().replace(" ", "_"), message, headers)
    # page_helpers() given here too: an address under /admin that matches no view has no blueprint.
    return render_template("admin/error.html", title=title, message=message, status=status,
                           **page_helpers()), status, headers or {}


# Staff read these; the details of an HTTP error are not for them.
HTTP_ERRORS = {
    400: ("Bad request", "The workspace could not understand what was sent. Go back, reload the page and try again."),
    403: ("Not allowed", "Your account is not allowed to do this. Ask an administrator if you need to."),
    404: ("Not found", "There is nothing here: it may have been deleted."),
    405: ("Not possible here", "This address does not take that kind of request. Use the workspace's "
                               "buttons and links."),
}
KEPT_HEADERS = ("Allow", "Retry-After")


def http_error_page(error: HTTPException):
    """An HTTP error as a workspace page (or JSON for a .json endpoint), with its Allow/Retry-After."""
    status = error.code or 500
    title, message = HTTP_ERRORS.get(status, ("Request failed", "The workspace could not do this. "
                                                                "Go back and try again."))
    original = error.get_response().headers
    return error_page(status, title, message, {name: original[name] for name in KEPT_HEADERS if name in original})


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return http_error_page(error)


@bp.errorhandler(Forbidden)
def role_forbidden(error: Forbidden):
    """The core refused the operation for the staff member's role."""
    return error_page(403, "Not allowed", f"Your role does not allow this: {error}. "
                                          "Ask an administrator if you need to.")


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    current_app.logger.exception("staff workspace: unexpected error (%s)", type(error).__name__)
    return error_page(500, "Something went wrong", "The workspace could not do this because of a problem on "
                                                  "our side. Nothing you saved before is lost; please try again.")


def serve_errors_as_pages(app: Flask) -> None:
    """Errors raised before any admin view is chosen (an unknown address under /admin, a wrong
    method) are pages too: the app-wide handler, JSON for the API, is wrapped for /admin.
    Call after the API's handlers are registered."""
    handlers = app.error_handler_spec[None][None]
    api_handler = handlers.get(HTTPException)

    def page_in_the_workspace(error: HTTPException):
        if in_workspace() or api_handler is None:
            return http_error_page(error)
        return api_handler(error)
    handlers[HTTPException] = page_in_the_workspace


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
