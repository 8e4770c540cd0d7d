"""Sign-in limits per account (a limit across addresses, a backoff after repeated failures)
and per server (a budget of password checks, whoever asks).

Both are kept in the rate limiter's counter store (Redis, or the server's
SQLite file), so every worker sees them, and both key on a hash of the
email typed, whether or not an account has it: the answers for a real and a
made-up email are the same, so neither tells which emails have accounts.

Backoff: the first FREE_FAILURES failures in a row cost nothing; each further
one makes the next attempt wait FIRST_DELAY_SECONDS, doubling, up to
MAX_DELAY_SECONDS. A successful sign-in clears it. Waiting attempts are
refused before any password is hashed.

Budget: one password check costs about 0.4 s of a core and 128 MiB. However
many addresses a flood comes from, CHATBOT_PASSWORD_CHECK_RATE_LIMIT bounds
the checks a server runs (5 per 10 seconds: at most a fifth of one core).
"""
from __future__ import annotations

import hashlib
import logging
import socket
import time

from flask import current_app, request

from ..web.limits import limiter

log = logging.getLogger(__name__)

FREE_FAILURES = 5
FIRST_DELAY_SECONDS = 10
MAX_DELAY_SECONDS = 15 * 60
# A run of failures is forgotten a day after it started.
FAILURES_KEPT_SECONDS = 24 * 3600


def account_key(email: str) -> str:
    """The counter key of the email typed: a hash, so no email is written to the store."""
    typed = (email or "").strip().lower()
    return "login-account:" + hashlib.sha256(typed.encode("utf-8", "replace")).hexdigest()[:32]


def login_account_key() -> str:
    """Flask-Limiter key of the per-account limit: the email of the submitted form."""
    return account_key(request.form.get("email", ""))


def login_account_rate_limit() -> str:
    return current_app.config["CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT"]


def login_failed(response) -> bool:
    """Only failed sign-ins count against the per-account limit (not refusals, not successes)."""
    return response.status_code == 401


def password_check_rate_limit() -> str:
    return current_app.config["CHATBOT_PASSWORD_CHECK_RATE_LIMIT"]


def password_check_key() -> str:
    """One budget per server, also when several servers share one Redis."""
    return "password-checks:" + socket.gethostname()


def checked_a_password(response) -> bool:
    """A login POST answered 401 (wrong), 302 (signed in) or 200 (signed in, showing a form kept
    from an ended session) has run a password hash."""
    return response.status_code in (200, 302, 401)


def backoff_delay(failures: int) -> int:
    """Seconds the next attempt must wait after `failures` failures in a row."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** min(failures - FREE_FAILURES, 20))


class LoginBackoff:
    """Failures in a row and the wait they impose, per email, in a `limits` storage.

    If the store fails, the backoff is skipped (logged): the per-address limit
    still holds (in each worker's memory) and hashing is still bounded.
    """

    def __init__(self, storage):
        self.storage = storage

    def wait_seconds(self, email: str) -> int:
        """Seconds before `email` may try again; 0 when it may now."""
        key = account_key(email)

        def remaining() -> int:
            if self.storage.get(f"{key}:wait") <= 0:
                return 0
            return max(1, round(self.storage.get_expiry(f"{key}:wait") - time.time()))
        return self._unless_store_fails("skipped", remaining, 0)

    def failed(self, email: str) -> int:
        """Count one more failure; the wait it imposes (seconds)."""
        key = account_key(email)

        def count() -> int:
            delay = backoff_delay(self.storage.incr(f"{key}:failures", FAILURES_KEPT_SECONDS))
            if delay:
                self.storage.clear(f"{key}:wait")  # a new wait starts now, whatever was left
                self.storage.incr(f"{key}:wait", delay)
            return delay
        return self._unless_store_fails("not recorded", count, 0)

    def succeeded(self, email: str) -> None:
        key = account_key(email)

        def forget() -> None:
            self.storage.clear(f"{key}:failures")
            self.storage.clear(f"{key}:wait")
        self._unless_store_fails("not cleared", forget, None)

    def _unless_store_fails(self, outcome: str, work, fallback):
        """`work()`, or `fallback` (logged) when the counter store fails."""
        try:
            return work()
        except self.storage.base_exceptions as error:
            log.warning("login backoff %s: counter store failed (%s)", outcome, type(error).__name__)
            return fallback


def current_backoff() -> LoginBackoff:
    """The backoff over the app's counter store."""
    return LoginBackoff(limiter.storage)
