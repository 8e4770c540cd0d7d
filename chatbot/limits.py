"""Per-visitor rate limits on the chat and feedback endpoints (Flask-Limiter).

The limit is the CHATBOT_RATE_LIMIT setting ("30/minute"; "off" disables it).
Counts are kept in memory per worker; the visitor's address is used only as
the counter's key and is never logged or stored.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=True)


def visitor_limit() -> str:
    """The limit string for the current app (read per request, so tests can vary it). Flask-Limiter
    parses it even when exempt_when skips it, so "off" gives a valid stand-in (no ERROR per request)."""
    return "1/second" if visitor_limit_off() else current_app.config["CHATBOT_RATE_LIMIT"]


def visitor_limit_off() -> bool:
    """True when CHATBOT_RATE_LIMIT is "off" (load tests); the staff login limit still holds."""
    return str(current_app.config["CHATBOT_RATE_LIMIT"]).strip().lower() == "off"


def init_app(app: Flask) -> None:
    limiter.init_app(app)
