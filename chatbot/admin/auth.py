"""Staff login: Flask-Login sessions that end everywhere on logout or when an account is disabled.

A session stores "<account id>:<session_version>". Each request reloads the
account and accepts the session only while the account is active and its
session_version is unchanged; logout and `staff disable` bump that version,
which ends every session of the account on every server.

A login attempt passes the per-address limit, the per-account limit and
backoff and the server's budget of password checks (throttle.py), then the
server's limit on concurrent password hashes (staff/hashing.py), so a flood
of failed logins never crowds out chat.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from ..staff.hashing import HashingBusy
from ..staff.roles import Actor, Permission, checked_role
from ..web.errors import error_response
from ..web.limits import limiter
from .blueprint import bp, wants_json
from .drafts import sign_draft, unsign_draft
from .forms import LoginForm
from .throttle import (
    checked_a_password,
    current_backoff,
    login_account_key,
    login_account_rate_limit,
    login_failed,
    password_check_key,
    password_check_rate_limit,
)
from .workspace import current_workspace

EMAIL_LENGTH = 254


class StaffSession(UserMixin):
    """The logged-in staff member (a StaffUser), as Flask-Login sees it."""

    def __init__(self, user):
        self.user = user

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def actor(self) -> Actor:
        """Who acts, with the role the workspace core checks."""
        return Actor(self.user.email, checked_role(self.user.role))

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"


def load_staff_session(session_id: str) -> StaffSession | None:
    """The account of a stored session id, or None when it is unknown, disabled or its session ended."""
    account_id, _, version = session_id.partition(":")
    if not account_id.isdigit():
        return None
    user = current_workspace().accounts.get(int(account_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return StaffSession(user)


def refuse_anonymous():
    """Not logged in: 401 JSON for JSON endpoints, else the login page (coming back to a page after).
    A form sent without a session is kept: the login page carries it (drafts.py)."""
    if wants_json():
        return error_response(401, "login_required", "Log in to the staff workspace first.")
    draft = None
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        draft = sign_draft(request.path, request.form)
    if draft is not None:
        return render_template("admin/login.html", form=LoginForm(formdata=None), draft=draft,
                               action=url_for("admin.login"),
                               error="Your session ended before this was saved. Log in again: what you "
                                     "typed is kept, and you can save it right after."), 401
    back_to = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("admin.login", next=back_to))


class StaffLoginManager(LoginManager):
    """Flask-Login for the workspace only. There are no remember-me cookies, so responses outside
    /admin (the API, widget.js) need not read the session, and carry no `Vary: Cookie`."""

    def _update_remember_cookie(self, response):
        if request.blueprint != "admin":
            return response
        return super()._update_remember_cookie(response)


def init_login(app) -> LoginManager:
    """Attach Flask-Login to `app` with the workspace's loader and refusal."""
    manager = StaffLoginManager()
    manager.init_app(app)
    manager.login_view = "admin.login"
    manager.user_loader(load_staff_session)
    manager.unauthorized_handler(refuse_anonymous)
    return manager


def current_actor() -> str:
    """The logged-in staff member's email, as written in the audit log."""
    return current_user.email


def current_staff() -> Actor:
    """The logged-in staff member with their role, for the core's operations that check it."""
    return current_user.actor


def requires(permission: Permission):
    """View decorator: 403 (a page) unless the signed-in staff member's role allows `permission`.
    The core checks again; this keeps a refused POST from doing any work first."""
    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_staff().may(permission):
                abort(403)
            return view(*args, **kwargs)
        return checked
    return decorate


def login_rate_limit() -> str:
    return current_app.config["CHATBOT_LOGIN_RATE_LIMIT"]


def safe_next(target: str | None) -> str:
    """`target` when it is a path inside the workspace, else the dashboard (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
@limiter.limit(login_account_rate_limit, methods=["POST"], key_func=login_account_key,
               deduct_when=login_failed)
@limiter.limit(password_check_rate_limit, methods=["POST"], key_func=password_check_key,
               deduct_when=checked_a_password)
def login():
    """Log in with email and password; a new session each time, every attempt audited.

    429 while the email's backoff lasts, 503 when the server is busy hashing
    other logins (both with Retry-After, and no password checked).
    """
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    draft = request.form.get("draft") if request.method == "POST" else None
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form, draft=draft), 422 if form.errors else 200
    workspace = current_workspace()
    email = form.email.data.strip()
    backoff = current_backoff()
    wait = backoff.wait_seconds(email)
    if wait:
        return login_refused(form, 429, wait, f"Too many failed logins for this email address. "
                                              f"Please wait {wait} seconds and try again.")
    try:
        user = workspace.accounts.authenticate(email, form.password.data)
    except HashingBusy:
        return login_refused(form, 503, 1, "The server is busy checking other logins. "
                                           "Please try again in a moment.")
    if user is None:
        backoff.failed(email)
        workspace.audit.record(email[:EMAIL_LENGTH], "login_failed", {})
        return render_template("admin/login.html", form=form, draft=draft,
                               error="Wrong email or password, or the account is disabled."), 401
    backoff.succeeded(email)
    session.clear()  # nothing from before the login survives into the new session
    g.pop("csrf_token", None)  # nor the CSRF token Flask-WTF cached for this request from the old one
    login_user(StaffSession(user))
    workspace.audit.record(user.email, "login", {})
    kept = unsign_draft(draft)
    if kept is not None and safe_next(kept.path) == kept.path:
        # Shown at once (a redirect cannot carry it); sent again only when staff say so.
        return render_template("admin/resume.html", draft=kept), 200
    return redirect(safe_next(request.args.get("next")))


def login_refused(form: LoginForm, status: int, retry_after: int, message: str):
    """The login page with `message`, `status` and a Retry-After of `retry_after` seconds."""
    # The refusal states its own wait: Flask-Limiter would otherwise raise
    # Retry-After to the end of the address's limit window (a minute).
    limiter.context.view_rate_limit = None
    return render_template("admin/login.html", form=form, error=message), status, \
        {"Retry-After": str(retry_after)}


@bp.post("/logout")
def logout():
    """End this session and every other session of the account."""
    workspace = current_workspace()
    email = current_actor()
    workspace.accounts.bump_session(current_user.user.id)
    workspace.audit.record(email, "logout", {})
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("admin.login"))
