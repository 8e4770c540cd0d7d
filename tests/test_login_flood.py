"""Logins cannot starve chat: a limit per account across addresses, a backoff after failures,
and at most one password hash at a time per server (observed through the gate's counters)."""
from __future__ import annotations

import re
import threading
import time
from contextlib import ExitStack

import pytest

import chatbot.staff.accounts as accounts_module
from chatbot import create_app
from chatbot.admin.throttle import FIRST_DELAY_SECONDS, FREE_FAILURES, MAX_DELAY_SECONDS, account_key, backoff_delay
from chatbot.staff import StaffAccounts
from chatbot.staff.hashing import DEFAULT_SLOTS, HashingBusy, HashingGate

EMAIL = "anna@example.com"
PASSWORD = "correct horse battery"
WRONG = "wrong password here"
FAST_HASH = "scrypt:1024:8:1"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def make_app(tmp_path, shared_index_dir):
    """Factory: an app with its own database and server-state folder, and the given login limits."""
    made = []

    def make(**config):
        app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                          "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}",
                          "CHATBOT_SERVER_STATE_DIR": str(tmp_path / "state"), **config})
        app.extensions["chatbot_workspace"].accounts.password_method = FAST_HASH
        if not made:  # later apps stand for other workers of the same server and database
            app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


def log_in(app, address: str, email: str = EMAIL, password: str = WRONG):
    """One login attempt from the visitor address `address` (a fresh client: its own session)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = TOKEN.search(client.get("/admin/login").get_data(as_text=True)).group(1)
    return client.post("/admin/login", data={"csrf_token": token, "email": email, "password": password})


# -- the per-account limit -----------------------------------------------------------

def test_failed_logins_for_one_account_are_limited_across_addresses(make_app):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="5/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="3/hour")
    statuses = [log_in(app, f"10.0.0.{n}").status_code for n in range(1, 4)]
    assert statuses == [401, 401, 401]  # each address is far below its own limit
    refused = log_in(app, "10.0.0.4", password=PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert log_in(app, "10.0.0.5", email="bob@example.com").status_code == 401  # another account is not held


def test_a_made_up_email_is_limited_exactly_like_a_real_one(make_app):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="5/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="3/hour")
    real = [log_in(app, f"10.0.1.{n}").status_code for n in range(1, 5)]
    made_up = [log_in(app, f"10.0.2.{n}", email="nobody@example.com").status_code for n in range(1, 5)]
    assert real == made_up == [401, 401, 401, 429]


def test_successful_logins_do_not_count_against_the_account(make_app):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="50/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="2/hour")
    assert [log_in(app, f"10.0.3.{n}", password=PASSWORD).status_code for n in range(4)] == [302] * 4


# -- the server's budget of password checks ----------------------------------------------

def test_the_server_runs_only_its_budget_of_password_checks_whoever_asks(make_app, monkeypatch):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute", CHATBOT_PASSWORD_CHECK_RATE_LIMIT="3/minute")
    checks = [log_in(app, "10.0.8.1", password=PASSWORD).status_code,  # a sign-in checks a password too
              log_in(app, "10.0.8.2", email="one@example.com").status_code,
              log_in(app, "10.0.8.3", email="two@example.com").status_code]
    assert checks == [302, 401, 401]
    hashed = []
    monkeypatch.setattr(accounts_module, "check_password_hash", lambda *args: hashed.append(1) or True)
    refused = log_in(app, "10.0.8.4", password=PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert hashed == []


# -- backoff after repeated failures -------------------------------------------------------

def test_the_backoff_doubles_from_the_first_paid_failure_up_to_its_cap():
    delays = [backoff_delay(failures) for failures in range(1, FREE_FAILURES + 4)]
    assert delays[:FREE_FAILURES - 1] == [0] * (FREE_FAILURES - 1)
    assert delays[FREE_FAILURES - 1:] == [FIRST_DELAY_SECONDS * 2 ** k for k in range(4)]
    assert backoff_delay(1_000) == MAX_DELAY_SECONDS


def test_after_repeated_failures_even_the_right_password_waits_and_no_password_is_hashed(make_app, monkeypatch):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="100/hour")
    assert [log_in(app, f"10.0.4.{n}").status_code for n in range(FREE_FAILURES)] == [401] * FREE_FAILURES
    hashed = []
    monkeypatch.setattr(accounts_module, "check_password_hash", lambda *args: hashed.append(1) or True)
    waiting = log_in(app, "10.0.4.200", password=PASSWORD)
    assert waiting.status_code == 429
    wait = int(re.search(r"Too many failed logins for this email address\. Please wait (\d+) seconds",
                         waiting.get_data(as_text=True)).group(1))
    assert 0 < wait <= FIRST_DELAY_SECONDS
    assert int(waiting.headers["Retry-After"]) == wait
    assert hashed == []  # refused before any hash


def test_the_backoff_ends_when_its_wait_is_over_and_a_success_clears_the_failures(make_app):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="100/hour")
    for n in range(FREE_FAILURES):
        log_in(app, f"10.0.5.{n}")
    from chatbot.web.limits import limiter
    limiter.storage.clear(account_key(EMAIL) + ":wait")  # as if the wait had run out
    assert log_in(app, "10.0.5.100", password=PASSWORD).status_code == 302
    # The run of failures starts again from zero: the next failure costs no wait.
    assert log_in(app, "10.0.5.101").status_code == 401
    assert log_in(app, "10.0.5.102", password=PASSWORD).status_code == 302


def test_the_backoff_is_counted_for_every_worker_of_the_server(make_app):
    first = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="100/hour")
    for n in range(FREE_FAILURES):
        log_in(first, f"10.0.6.{n}")
    # A second app over the same server-state folder opens the counter file anew, as another worker does.
    second = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute", CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT="100/hour")
    assert log_in(second, "10.0.6.100", password=PASSWORD).status_code == 429


# -- at most one hash at a time ------------------------------------------------------------

def test_two_concurrent_logins_on_one_server_never_hash_at_once(storage, tmp_path, monkeypatch):
    # Two gates over one folder stand for two workers; each login runs in its own thread.
    gates = [HashingGate(tmp_path / "state", slots=1, wait_seconds=10) for _ in range(2)]
    workers = [StaffAccounts(storage, password_method=FAST_HASH, hashing=gate) for gate in gates]
    workers[0].create(EMAIL, PASSWORD)
    inside, most_inside, first_inside = [0], [0], threading.Event()
    lock = threading.Lock()
    real_check = accounts_module.check_password_hash

    def observed_check(stored, password):
        with lock:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
        if threading.current_thread().name == "first":
            first_inside.set()
            # Hold the slot until the second login has found it taken (or, were the gate
            # broken, has come in too); the deadline only bounds the test.
            deadline = time.monotonic() + 10
            while not gates[1].waits and inside[0] < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        try:
            return real_check(stored, password)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(accounts_module, "check_password_hash", observed_check)
    results = {}
    first = threading.Thread(target=lambda: results.update(first=workers[0].authenticate(EMAIL, PASSWORD)),
                             name="first")
    second = threading.Thread(target=lambda: results.update(second=workers[1].authenticate(EMAIL, PASSWORD)),
                              name="second")
    first.start()
    assert first_inside.wait(10)
    second.start()
    first.join(10)
    second.join(10)
    assert results["first"] is not None and results["second"] is not None
    assert gates[1].waits == 1  # the second login queued behind the first...
    assert most_inside[0] == 1  # ...and the two hashes never ran at once


def test_a_login_that_finds_every_slot_taken_too_long_is_refused(storage, tmp_path):
    holder = HashingGate(tmp_path / "state", slots=1)
    accounts = StaffAccounts(storage, password_method=FAST_HASH,
                             hashing=HashingGate(tmp_path / "state", slots=1, wait_seconds=0))
    with holder.hold():
        with pytest.raises(HashingBusy):
            accounts.authenticate(EMAIL, PASSWORD)
    assert accounts.authenticate("nobody@example.com", PASSWORD) is None  # free again afterwards


def test_a_login_while_the_server_is_busy_hashing_gets_503_with_retry_after(make_app, tmp_path):
    app = make_app(CHATBOT_LOGIN_RATE_LIMIT="100/minute")
    with ExitStack() as others:  # other workers' hashes fill every slot of the server
        for _ in range(DEFAULT_SLOTS):
            others.enter_context(HashingGate(tmp_path / "state", slots=DEFAULT_SLOTS).hold())
        busy = log_in(app, "10.0.7.1", password=PASSWORD)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert "busy checking other logins" in busy.get_data(as_text=True)
    assert log_in(app, "10.0.7.1", password=PASSWORD).status_code == 302
