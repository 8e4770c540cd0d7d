"""Error answers the serving front writes itself, before or instead of the app, in the API's shape."""
from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn.http import errors as http_errors

from ..web.errors import HTTP_CODES, error_document

# gunicorn's parse errors that are not plain 400s, and what to tell the client.
_PARSE_ERRORS = (
    (http_errors.LimitRequestLine, 414, "The request line (address) is too long."),
    (http_errors.LimitRequestHeaders, 431, "The request headers are too large or too many."),
    (http_errors.UnsupportedTransferCoding, 501, "That transfer encoding is not supported."),
    (http_errors.ExpectationFailed, 417, "That Expect header is not supported."),
    (http_errors.ForbiddenProxyRequest, 403, "Request forbidden."),
    (http_errors.InvalidResponseHeader, 500, "Something went wrong on our side; please try again."),
    (http_errors.InvalidResponseHeaderName, 500, "Something went wrong on our side; please try again."),
    (http_errors.ConfigurationProblem, 500, "Something went wrong on our side; please try again."),
)
BAD_REQUEST = "The request is not valid HTTP."


def status_for_parse_error(exc: BaseException) -> tuple[int, str]:
    """(status, message for the client) for an exception gunicorn met while reading a request."""
    for kind, status, message in _PARSE_ERRORS:
        if isinstance(exc, kind):
            return status, message
    if isinstance(exc, http_errors.ParseException):
        return 400, BAD_REQUEST
    return 500, "Something went wrong on our side; please try again."


def raw_error_response(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 answer (connection closing) with the JSON error body."""
    body = json.dumps(error_document(HTTP_CODES.get(status, "http_error"), message),
                      separators=(",", ":")).encode() + b"\n"
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\n")
    return head.encode("ascii") + body
