"""Security headers on every response: a strict CSP, no sniffing, no referrer.

Pages allow scripts, styles, images and requests from this origin only, so
no inline script or style can run. The chat panel may be framed by the sites
in CHATBOT_FRAME_ANCESTORS; every other response may not be framed at all.
"""
from __future__ import annotations

from flask import Flask, Response, request

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


def init_app(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy(
            request.path, response.mimetype, app.config["CHATBOT_FRAME_ANCESTORS"]))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
