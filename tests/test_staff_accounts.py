"""Staff accounts (create, sign in, disable, end sessions) and the audit log.

Runs on a SQLite file always and on PostgreSQL too when CHATBOT_TEST_POSTGRES_URL
names a database (each test gets a schema of its own, dropped afterwards).
"""
from __future__ import annotations

import pytest

import chatbot.staff.accounts as accounts_module
from chatbot.staff import AuditLog, StaffAccounts
from chatbot.staff.accounts import PASSWORD_METHOD
from chatbot.storage import Storage, StorageError

# A cheap scrypt for tests that are not about the hash itself (the real one takes 0.4 s).
FAST_HASH = "scrypt:1024:8:1"
PASSWORD = "needles and patience"


@pytest.fixture
def accounts(storage):
    return StaffAccounts(storage, password_method=FAST_HASH)


# Creating accounts

def test_a_new_account_is_active_with_its_email_in_lower_case_and_no_login_yet(accounts):
    user = accounts.create("  Ann.Lee@Clinic.Example ", PASSWORD)
    assert (user.email, user.active, user.session_version, user.last_login_at) == (
        "ann.lee@clinic.example", True, 1, None)
    assert user.created_at.utcoffset().total_seconds() == 0
    assert accounts.get(user.id) == user


def test_passwords_are_stored_only_as_scrypt_hashes_with_n_2_to_the_17(storage, raw):
    StaffAccounts(storage).create("ann@clinic.example", PASSWORD)
    [(stored,)] = raw("SELECT password_hash FROM staff_users")
    assert PASSWORD_METHOD == "scrypt:131072:8:1"
    assert stored.startswith("scrypt:131072:8:1$")
    assert PASSWORD not in stored


@pytest.mark.parametrize("email", [
    "", "ann", "ann@", "@clinic.example", "ann@clinic", "ann@@clinic.example", "ann@clinic.",
    "ann@.example", "ann lee@clinic.example", "ann@clinic\n.example", "ann\x00@clinic.example",
    "a" * 250 + "@x.org", None, 42])
def test_malformed_emails_are_refused(accounts, email):
    with pytest.raises(ValueError):
        accounts.create(email, PASSWORD)
    assert accounts.list() == []


@pytest.mark.parametrize("password, message", [
    ("x" * 11, "at least 12"), ("", "at least 12"), ("x" * 1025, "at most 1024"), (None, "text"),
    (b"bytes password", "text")])
def test_passwords_shorter_than_12_characters_or_not_text_are_refused(accounts, password, message):
    with pytest.raises(ValueError, match=message):
        accounts.create("ann@clinic.example", password)


def test_a_password_of_exactly_12_characters_is_accepted(accounts):
    accounts.create("ann@clinic.example", "x" * 12)
    assert accounts.authenticate("ann@clinic.example", "x" * 12) is not None


def test_an_email_in_use_is_refused_whatever_its_case(accounts):
    accounts.create("ann@clinic.example", PASSWORD)
    with pytest.raises(ValueError, match="exists already"):
        accounts.create("ANN@clinic.example", "another long password")
    assert len(accounts.list()) == 1


# Signing in

def test_the_right_password_signs_in_and_records_the_time(accounts):
    created = accounts.create("ann@clinic.example", PASSWORD)
    user = accounts.authenticate(" ANN@clinic.example", PASSWORD)
    assert user is not None and user.id == created.id
    assert user.last_login_at is not None and user.last_login_at >= created.created_at
    assert accounts.get(created.id).last_login_at == user.last_login_at


def test_a_wrong_password_gets_none_and_records_nothing(accounts):
    created = accounts.create("ann@clinic.example", PASSWORD)
    assert accounts.authenticate("ann@clinic.example", PASSWORD.upper()) is None
    assert accounts.authenticate("ann@clinic.example", None) is None
    assert accounts.get(created.id).last_login_at is None


@pytest.mark.parametrize("email", ["nobody@clinic.example", "not an email", None])
def test_an_unknown_email_gets_none_after_hashing_the_password_all_the_same(accounts, monkeypatch, email):
    accounts.create("ann@clinic.example", PASSWORD)
    hashed = []
    real_generate = accounts_module.generate_password_hash

    def spy(password, method):
        hashed.append(method)
        return real_generate(password, method=method)

    monkeypatch.setattr(accounts_module, "generate_password_hash", spy)
    assert accounts.authenticate(email, PASSWORD) is None
    # One hash with the accounts' method: what checking a real account's password costs.
    assert hashed == [FAST_HASH]


def test_a_wrong_password_for_a_known_email_checks_the_stored_hash(accounts, monkeypatch):
    accounts.create("ann@clinic.example", PASSWORD)
    checked = []
    real_check = accounts_module.check_password_hash

    def spy(password_hash, password):
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(accounts_module, "check_password_hash", spy)
    assert accounts.authenticate("ann@clinic.example", "wrong password!") is None
    assert len(checked) == 1 and checked[0].startswith(FAST_HASH + "$")


def test_a_disabled_account_cannot_sign_in_even_with_the_right_password(accounts):
    accounts.create("ann@clinic.example", PASSWORD)
    assert accounts.disable("ANN@clinic.example") is True
    assert accounts.authenticate("ann@clinic.example", PASSWORD) is None


# Disabling and ending sessions

def test_disabling_ends_the_sessions_of_the_account_and_only_its_own(accounts):
    ann = accounts.create("ann@clinic.example", PASSWORD)
    bob = accounts.create("bob@clinic.example", PASSWORD)
    accounts.disable("ann@clinic.example")
    after = accounts.get(ann.id)
    assert (after.active, after.session_version) == (False, ann.session_version + 1)
    assert accounts.get(bob.id) == bob


@pytest.mark.parametrize("email", ["nobody@clinic.example", "not an email"])
def test_disabling_an_unknown_email_returns_false(accounts, email):
    assert accounts.disable(email) is False


def test_bump_session_returns_a_new_session_version_each_time(accounts):
    user = accounts.create("ann@clinic.example", PASSWORD)
    assert accounts.bump_session(user.id) == 2
    assert accounts.bump_session(user.id) == 3
    assert accounts.get(user.id).session_version == 3
    assert accounts.get(user.id).active is True


def test_bump_session_of_an_unknown_account_raises_value_error(accounts):
    with pytest.raises(ValueError, match="no staff account"):
        accounts.bump_session(404)
    with pytest.raises(ValueError):
        accounts.bump_session("1")


def test_get_of_an_unknown_id_is_none_and_list_is_by_email(accounts):
    assert accounts.get(404) is None
    for email in ("cat@clinic.example", "ann@clinic.example", "bob@clinic.example"):
        accounts.create(email, PASSWORD)
    accounts.disable("bob@clinic.example")
    assert [(u.email, u.active) for u in accounts.list()] == [
        ("ann@clinic.example", True), ("bob@clinic.example", False), ("cat@clinic.example", True)]


def test_accounts_on_a_database_without_the_schema_raise_storage_error(database_url):
    storage = Storage(database_url)  # not migrated
    try:
        with pytest.raises(StorageError, match="staff account"):
            StaffAccounts(storage, password_method=FAST_HASH).create("ann@clinic.example", PASSWORD)
    finally:
        storage.dispose()


# Audit log

def test_audit_entries_read_back_newest_first_up_to_the_limit(storage):
    audit = AuditLog(storage)
    audit.record("ann@clinic.example", "faq.add", {"id": 1, "question": "How long?"})
    audit.record("bob@clinic.example", "publish", {"version": "v2"})
    audit.record("ann@clinic.example", "login")
    entries = audit.recent()
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("ann@clinic.example", "login", {}), ("bob@clinic.example", "publish", {"version": "v2"}),
        ("ann@clinic.example", "faq.add", {"id": 1, "question": "How long?"})]
    assert entries[0].at >= entries[-1].at and entries[0].at.utcoffset().total_seconds() == 0
    assert [e.action for e in audit.recent(limit=2)] == ["login", "publish"]
    assert audit.recent(limit=0) == []


@pytest.mark.parametrize("actor, action, detail, message", [
    ("ann", "", None, "action"), ("ann", "x" * 65, None, "action"), ("ann", None, None, "action"),
    ("a" * 255, "login", None, "actor"), (None, "login", None, "actor"),
    ("ann", "login", ["not", "a", "dict"], "detail"), ("ann", "login", {"when": object()}, "JSON"),
    ("ann", "login", {"score": float("nan")}, "JSON")])
def test_audit_refuses_bad_entries(storage, actor, action, detail, message):
    audit = AuditLog(storage)
    with pytest.raises(ValueError, match=message):
        audit.record(actor, action, detail)
    assert audit.recent() == []


def test_audit_refuses_a_negative_limit(storage):
    with pytest.raises(ValueError):
        AuditLog(storage).recent(limit=-1)
