"""Security headers on every response: a strict CSP, no sniffing, no referrer.

Pages allow scripts, styles, images and requests from this origin only, so
no inline script or style can run. The chat panel may be framed by the sites
in CHATBOT_FRAME_ANCESTORS; every other response may not be framed at all.
The JSON API is cookie-less: it neither reads nor sets the session cookie.
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

API_PREFIX = "/api/"

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-src 'self'; "
            "frame-ancestors {ancestors}")
FRAMED_PATHS = ("/widget/frame",)


def content_security_policy(path: str, mimetype: str, frame_ancestors: str) -> str:
    """The CSP for a response: the page policy for HTML, the closed one for the rest."""
    if mimetype != "text/html":
        return API_CSP
    return PAGE_CSP.format(ancestors=frame_ancestors if path in FRAMED_PATHS else "'self'")


def security_headers(csp: str, api: bool) -> tuple[tuple[str, str, str], ...]:
    """(lowercased name, name, value) of the headers every response of one kind gets."""
    headers = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "strict-origin-when-cross-origin")]
    if api:
        headers.append(("Cache-Control", "no-store"))
    return tuple((name.lower(), name, value) for name, value in headers)


class NoSessionOnTheApi(SecureCookieSessionInterface):
    """Flask's signed-cookie session for pages (the staff workspace); none for /api/.

    An API request gets Flask's null session: empty, refusing writes, never
    saved, so no Set-Cookie can leave the API. Opening the cookie session
    built a signing serializer on every request (about 0.1 ms of a chat reply)
    for an endpoint that never looks at it.
    """

    def open_session(self, app: Flask, request):
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Add the headers to every response of `app` (CHATBOT_FRAME_ANCESTORS is read now, once)
    and keep sessions off the API."""
    app.session_interface = NoSessionOnTheApi()
    frame_ancestors = app.config["CHATBOT_FRAME_ANCESTORS"]
    # Each kind of response (framed path or not, HTML or not, API or not) gets
    # a fixed set of headers, built here once rather than formatted and looked
    # up for each response (a chat reply's after_request cost about as much
    # CPU as its urgent screen).
    by_kind = {(path, mimetype, api): security_headers(content_security_policy(path, mimetype, frame_ancestors),
                                                       api)
               for path in (*FRAMED_PATHS, "") for mimetype in ("text/html", "") for api in (False, True)}

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        path = request.path
        kind = (path if path in FRAMED_PATHS else "", "text/html" if response.mimetype == "text/html" else "",
                path.startswith(API_PREFIX))
        present = {name.lower() for name, _ in response.headers}
        for lowered, name, value in by_kind[kind]:
            if lowered not in present:  # a header the view set itself is kept
                response.headers.add(name, value)
        return response
