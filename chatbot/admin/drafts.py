"""What staff sent after their session ended, kept through the login page instead of lost.

    token = sign_draft(request.path, request.form)   # the login page carries it in a hidden field
    draft = unsign_draft(token)                      # after the login: Draft(path, fields) or None

A form posted without a session (it expired, or the account logged out in
another tab) cannot be saved: it has no login and no valid CSRF token. Its
fields go into a signed token on the login page; after logging in, staff see
what they typed and send it again, with a fresh token, to the same address,
where the page's own checks (edit conflicts included) apply as to any save.
Uploads are not kept (a file cannot travel in a form field).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

DRAFT_SALT = "chatbot.admin.draft"
DRAFT_MAX_AGE_SECONDS = 24 * 3600
# A kept draft of a form at the app's body limit (16 kB) travels back in the login form, encoded.
DRAFT_BODY_LIMIT = 64 * 1024
NOT_KEPT = frozenset({"csrf_token"})


@dataclass(frozen=True)
class Draft:
    """Where the fields were sent, and the fields (name -> values) without the old CSRF token."""
    path: str
    fields: dict[str, list[str]]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=DRAFT_SALT)


def sign_draft(path: str, form: MultiDict) -> str | None:
    """A tamper-proof token of the text fields of `form` sent to `path`; None when nothing is worth keeping."""
    fields = {name: values for name, values in form.to_dict(flat=False).items()
              if name not in NOT_KEPT and any(v.strip() for v in values)}
    if not fields:
        return None
    return _serializer().dumps({"path": path, "fields": fields})


def unsign_draft(token: str | None) -> Draft | None:
    """The draft in a token from sign_draft(), or None when there is none, or it is altered or a day old."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=DRAFT_MAX_AGE_SECONDS)
        path, fields = data["path"], data["fields"]
    except (BadSignature, KeyError, TypeError):
        return None
    if not isinstance(path, str) or not isinstance(fields, dict):
        return None
    return Draft(path, {str(name): [str(v) for v in values] for name, values in fields.items()
                        if isinstance(values, list)})
