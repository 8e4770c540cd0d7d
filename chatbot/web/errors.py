"""One JSON error shape for every error: {"error": {"code", "message"}}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Stable, machine-readable codes for the HTTP errors Flask and Werkzeug raise.
HTTP_CODES = {
    400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    408: "request_timeout", 413: "payload_too_large", 414: "uri_too_long", 415: "unsupported_media_type",
    417: "expectation_failed", 429: "rate_limited", 431: "headers_too_large", 500: "internal_error",
    501: "not_implemented", 503: "unavailable",
}


class ApiError(Exception):
    """An error a client caused or should know about, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_document(code: str, message: str) -> dict:
    """The body of every error answer, from Flask or from the serving front."""
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    response = jsonify(error_document(code, message))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Register handlers so that no error leaves as HTML or a stack trace."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = {
            413: "The request body is too large.",
            429: "Too many requests; please wait a moment and try again.",
        }.get(status, error.description or "Request failed.")
        response = error_response(status, HTTP_CODES.get(status, "http_error"), message)
        # Keep headers the exception carries (Allow on 405, Retry-After on 429).
        for name, value in error.get_response().headers.items():
            if name.lower() in {"allow", "retry-after"}:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unexpected error (%s)", type(error).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side; please try again.")
