"""Per-visitor rate limits on the chat and feedback endpoints (Flask-Limiter).

The limit is the CHATBOT_RATE_LIMIT setting ("30/minute"; "off" disables it).
Counts are shared: through Redis by every worker of every server when
CHATBOT_REDIS_URL is set, else through a SQLite file in
CHATBOT_SERVER_STATE_DIR by the workers of this server (shared_counters.py).
The visitor's address is used only as the counter's key and is never logged
or stored.

When the counter store fails (Redis down or hung, the file locked), each
worker counts in its own memory until the store answers again (Flask-Limiter
checks after 1, 2, 4... s): the limits hold, looser by the number of
workers, and chat keeps answering. Failing closed would turn a Redis outage
into a site outage; failing fully open would lift the login limit whenever
an attacker can slow Redis. No store error ever becomes a 500.
"""
from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, current_app
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .. import shared_counters
from ..settings import SettingsError


class RouteLimiter(Limiter):
    """Flask-Limiter that checks a request once, in the route's decorator.

    Flask-Limiter also checks every request in a before_request hook, for
    default, application and meta limits. This project declares none, so that
    pass found nothing to count yet cost as much as the real check (about a
    tenth of a chat reply's CPU); it still runs whenever such limits, or
    in-memory fallback limits, are configured (RATELIMIT_* settings).
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self._has_request_wide_limits():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _has_request_wide_limits(self) -> bool:
        # The declared groups, not their limits: reading those would evaluate them on every request.
        manager = self.limit_manager
        return bool(manager._default_limits or manager._application_limits or self._meta_limits
                    or self._in_memory_fallback)


limiter = RouteLimiter(key_func=get_remote_address, headers_enabled=True,
                       in_memory_fallback_enabled=True, swallow_errors=True)

COUNTERS_FILE = "rate_limits.sqlite"
# Where Flask-Limiter keeps its per-request state, on Flask's request context (flask_limiter 4).
LIMITER_STATE = "_limiter_request_context"
# A Redis that does not answer within this costs a request at most this long
# (then the worker counts in memory, above) instead of hanging it.
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


def visitor_limit() -> str:
    """The limit string for the current app (read per request, so tests can vary it); never "off",
    which `visitor_limited` keeps away from Flask-Limiter."""
    return current_app.config["CHATBOT_RATE_LIMIT"]


def visitor_limit_off() -> bool:
    """True when CHATBOT_RATE_LIMIT is "off" (load tests); the staff login limit still holds."""
    return str(current_app.config["CHATBOT_RATE_LIMIT"]).strip().lower() == "off"


def visitor_limited(view):
    """Decorates a visitor endpoint (chat, feedback) with the CHATBOT_RATE_LIMIT limit.

    With the limit "off" the view runs without entering Flask-Limiter at all
    (its exempt_when still resolved and filtered every limit of the route, a
    seventh of a chat reply); otherwise the limit is counted once per request.
    """
    limited = limiter.limit(visitor_limit)(view)

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if visitor_limit_off():
            return view(*args, **kwargs)
        return limited(*args, **kwargs)

    return checked


def counter_storage_uri(config) -> str:
    """Where the counters live: CHATBOT_REDIS_URL (with timeouts), else the server's SQLite file."""
    redis_url = str(config["CHATBOT_REDIS_URL"]).strip()
    if not redis_url:
        return shared_counters.storage_uri(Path(config["CHATBOT_SERVER_STATE_DIR"]) / COUNTERS_FILE)
    parts = urlsplit(redis_url)
    if parts.scheme not in REDIS_SCHEMES:
        raise SettingsError(f"CHATBOT_REDIS_URL must start with redis://, rediss:// or redis+unix://, "
                            f"not {parts.scheme or '(nothing)'}://")
    given = {name for name, _ in parse_qsl(parts.query)}
    timeouts = [f"{name}={REDIS_TIMEOUT_SECONDS}" for name in ("socket_timeout", "socket_connect_timeout")
                if name not in given]
    return parts._replace(query="&".join(filter(None, [parts.query, *timeouts]))).geturl()


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = counter_storage_uri(app.config)
    # One limiter serves every app of the process (tests make many): a store
    # that failed for an earlier app must not leave this one counting in memory.
    limiter._storage_dead = False
    limiter.init_app(app)
    _hooks_only_where_counted(app)


def _hooks_only_where_counted(app: Flask) -> None:
    """Flask-Limiter's after-request hook (its headers) and teardown run only for requests it counted.

    Both start by making Flask-Limiter's per-request state, then find it empty
    when the request never entered the limiter (pages, health, chat with the
    visitor limit "off"): a chat reply's cost for nothing. Where the limiter
    counted, its state exists and both run as before.
    """
    headers_hook = functools.partial(Limiter._Limiter__inject_headers, limiter)
    release_hook = limiter._Limiter__release_context
    for hooks, hook in ((app.after_request_funcs.get(None, []), headers_hook),
                        (app.teardown_request_funcs.get(None, []), release_hook)):
        for position, registered in enumerate(hooks):
            if registered == hook or (isinstance(registered, functools.partial)
                                      and registered.func is hook.func and registered.args == hook.args):
                hooks[position] = _when_counted(registered)


def _when_counted(hook):
    @functools.wraps(hook)
    def run(response_or_error):
        if not hasattr(request_ctx, LIMITER_STATE):
            return response_or_error  # teardown's return value is ignored
        return hook(response_or_error)
    return run
