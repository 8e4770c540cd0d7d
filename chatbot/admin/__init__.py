"""The staff workspace (blueprint `admin`, under /admin): server-rendered pages for clinic staff.

    from .admin import init_admin
    init_admin(app)      # after init_workspace(app, settings): the pages call the staff workspace

init_admin() sets the session-cookie key and flags, attaches Flask-Login and
CSRF protection (checked for the admin blueprint only; the JSON API is not
affected), the `flask staff` commands and the blueprint. Every page and
endpoint of the blueprint needs a staff login.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import auth, views  # noqa: F401  (registers the routes)
from .blueprint import bp, serve_errors_as_pages
from .cli import staff_cli
from .secret_key import secret_key_for
from .workspace import current_workspace, init_workspace

__all__ = ["bp", "current_workspace", "init_admin", "init_workspace"]


def init_admin(app: Flask) -> None:
    """Attach the staff workspace to `app` (call once, before the first request)."""
    app.config.update(
        SECRET_KEY=secret_key_for(app.config["CHATBOT_SECRET_KEY"], Path(app.instance_path)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["CHATBOT_SECURE_COOKIES"]),
        # CSRFProtect checks nothing by itself: the admin blueprint's guard calls protect().
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    CSRFProtect(app)
    auth.init_login(app)
    app.cli.add_command(staff_cli)
    app.register_blueprint(bp)
    serve_errors_as_pages(app)
