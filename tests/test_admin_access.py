"""Staff workspace access: logins, sessions, CSRF, rate limit, cookies, secret key and the `staff` CLI."""
from __future__ import annotations

import re
import stat

import pytest
from flask import Flask

from chatbot import create_app
from chatbot.admin import init_admin
from chatbot.admin.secret_key import load_or_create_secret_key, secret_key_for

EMAIL = "anna@example.com"
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def account(wf):
    return wf.accounts.create(EMAIL, PASSWORD)


def csrf_token(client, url: str = "/admin/login") -> str:
    """The CSRF token of the form on `url` (tied to the client's session)."""
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def log_in(client, email: str = EMAIL, password: str = PASSWORD):
    return client.post("/admin/login", data={"csrf_token": csrf_token(client), "email": email,
                                             "password": password})


def logged_in_client(app):
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def actions(wf) -> list[tuple[str, str]]:
    return [(entry.actor, entry.action) for entry in wf.audit.recent()]


def admin_urls(app) -> list[tuple[str, str]]:
    """(method, url) of every admin endpoint except the login page and static files."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in {"admin.login", "admin.static"}:
            continue
        values = {name: 1 if converter == "int" else "v1"
                  for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)}
        path = rule.build(values)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        urls.append((method, path))
    return urls


# -- refusing anyone not logged in -------------------------------------------------

def test_every_admin_page_redirects_to_the_login_page_without_a_login(app, client):
    urls = admin_urls(app)
    assert len(urls) >= 20
    for method, url in urls:
        if url.endswith(".json"):
            continue
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        expected = f"/admin/login?next={url}" if method == "GET" else "/admin/login"
        assert response.headers["Location"] == expected, (method, url)


def test_json_endpoints_answer_401_json_without_a_login(app, client):
    json_urls = [url for _, url in admin_urls(app) if url.endswith(".json")]
    assert json_urls
    for url in json_urls:
        response = client.get(url)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "login_required"


def test_a_page_asked_for_as_json_answers_401_json(client):
    response = client.get("/admin/knowledge", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "login_required"


def test_there_is_no_default_account(wf):
    assert wf.accounts.list() == []


def test_after_logging_in_staff_return_to_the_page_they_asked_for(app, account):
    client = app.test_client()
    login_page = client.get("/admin/checks").headers["Location"]
    response = client.post(login_page, data={"csrf_token": csrf_token(client), "email": EMAIL,
                                             "password": PASSWORD})
    assert response.headers["Location"] == "/admin/checks"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin/", "/api/health",
                                    "/admin\\..\\x", "javascript:alert(1)"])
def test_the_login_never_redirects_outside_the_workspace(app, account, target):
    client = app.test_client()
    response = client.post("/admin/login?next=" + target, data={"csrf_token": csrf_token(client),
                                                                "email": EMAIL, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"


# -- logging in ---------------------------------------------------------------------

def test_a_staff_member_logs_in_and_the_login_is_audited(app, account, wf):
    client = app.test_client()
    response = log_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert (EMAIL, "login") in actions(wf)


def test_a_wrong_password_is_refused_and_audited_under_the_email_typed(app, account, wf):
    client = app.test_client()
    response = log_in(client, "Anna@Example.com", "not the password at all")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert ("Anna@Example.com", "login_failed") in actions(wf)


def test_an_unknown_email_is_refused_like_a_wrong_password(app, wf):
    response = log_in(app.test_client(), "nobody@example.com")
    assert response.status_code == 401
    assert ("nobody@example.com", "login_failed") in actions(wf)


def test_a_disabled_account_cannot_log_in(app, account, wf):
    wf.accounts.disable(EMAIL)
    response = log_in(app.test_client())
    assert response.status_code == 401


def test_a_login_without_the_csrf_token_is_refused(app, account, wf):
    client = app.test_client()
    response = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert (EMAIL, "login") not in actions(wf)


def test_a_form_without_the_csrf_token_changes_nothing(app, account, wf):
    client = logged_in_client(app)
    response = client.post("/admin/faq/new", data={"question": "Q?", "answer": "A."})
    assert response.status_code == 400
    response = client.post("/admin/faq/new", data={"csrf_token": "forged", "question": "Q?", "answer": "A."})
    assert response.status_code == 400
    assert wf.knowledge.list_faq() == []


def test_logging_in_starts_a_new_session(app, account):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted_by_someone_else"] = "x"
    log_in(client)
    with client.session_transaction() as session:
        assert "planted_by_someone_else" not in session
        assert session["_user_id"].startswith(f"{app.extensions['chatbot_workspace'].accounts.list()[0].id}:")


def test_logging_out_ends_every_session_of_the_account(app, account, wf):
    laptop, tablet = logged_in_client(app), logged_in_client(app)
    assert tablet.get("/admin/").status_code == 200
    response = laptop.post("/admin/logout", data={"csrf_token": csrf_token(laptop, "/admin/")})
    assert response.headers["Location"] == "/admin/login"
    assert laptop.get("/admin/").status_code == 302
    assert tablet.get("/admin/").status_code == 302
    assert (EMAIL, "logout") in actions(wf)


def test_logging_out_needs_the_csrf_token(app, account):
    client = logged_in_client(app)
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200


def test_an_old_session_cookie_is_refused_after_logout(app, account):
    client = logged_in_client(app)
    cookie = client.get_cookie("session").value
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/admin/").status_code == 302


def test_disabling_an_account_ends_its_open_sessions(app, account, runner):
    client = logged_in_client(app)
    assert runner.invoke(args=["staff", "disable", EMAIL]).exit_code == 0
    assert client.get("/admin/knowledge").status_code == 302
    assert client.get("/admin/versions/v1/status.json").status_code == 401


def test_login_attempts_are_rate_limited_even_when_the_visitor_limit_is_off(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_LOGIN_RATE_LIMIT": "3/minute",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}"})
    try:
        app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
        client = app.test_client()
        statuses = [log_in(client, password="wrong password here").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        refused = log_in(client)
        assert refused.status_code == 429
        assert "Too many login attempts" in refused.get_data(as_text=True)
        assert int(refused.headers["Retry-After"]) > 0
        assert client.get("/admin/").status_code == 302
        assert client.get("/admin/login").status_code == 200  # only attempts count
    finally:
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


# -- cookies, key, CSRF scope ----------------------------------------------------------

def test_the_session_cookie_is_httponly_and_samesite_lax(app, account):
    response = log_in(app.test_client())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_setting_says_so(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_SECURE_COOKIES": True, "CHATBOT_SECRET_KEY": "k" * 40,
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}"})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.secret_key == "k" * 40
    finally:
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


def test_without_a_configured_key_one_is_made_once_in_the_instance_folder(tmp_path):
    bare = Flask("keyless", instance_path=str(tmp_path / "instance"))
    bare.config.update(CHATBOT_SECRET_KEY="", CHATBOT_SECURE_COOKIES=False)
    init_admin(bare)
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bare.secret_key == path.read_text(encoding="ascii").strip()
    assert secret_key_for("", tmp_path / "instance") == bare.secret_key
    assert secret_key_for("  configured  ", tmp_path / "instance") == "configured"


def test_a_new_key_file_is_written_with_mode_0600(tmp_path):
    key = load_or_create_secret_key(tmp_path / "instance" / "secret_key")
    assert len(key) >= 64
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600
    assert load_or_create_secret_key(tmp_path / "instance" / "secret_key") == key
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]


def test_the_json_api_needs_no_csrf_token(app, client):
    response = client.post("/api/chat", json={"message": "Does acupuncture hurt?"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_api_and_the_embed_script_do_not_vary_by_cookie(app, client):
    with client.get("/widget.js") as script:
        assert "Cookie" not in script.headers.get("Vary", "")
    answer = client.post("/api/chat", json={"message": "Does acupuncture hurt?"})
    assert "Cookie" not in answer.headers.get("Vary", "")


# -- the staff CLI ------------------------------------------------------------------

def test_staff_create_asks_for_the_password_twice_and_creates_the_account(runner, wf):
    result = runner.invoke(args=["staff", "create", EMAIL], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat for confirmation" in result.output
    assert [u.email for u in wf.accounts.list()] == [EMAIL]
    assert wf.accounts.authenticate(EMAIL, PASSWORD) is not None
    assert ("command line", "account_create") in actions(wf)


def test_staff_create_refuses_a_password_under_12_characters(runner, wf):
    result = runner.invoke(args=["staff", "create", EMAIL], input="short pass\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert wf.accounts.list() == []


def test_staff_create_refuses_passwords_that_differ(runner, wf):
    result = runner.invoke(args=["staff", "create", EMAIL], input=f"{PASSWORD}\nanother password\n")
    assert result.exit_code != 0
    assert wf.accounts.list() == []


def test_staff_create_refuses_an_existing_email(runner, account):
    result = runner.invoke(args=["staff", "create", EMAIL], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 1
    assert "Error" in result.output


def test_staff_disable_stops_the_account_logging_in(app, runner, account, wf):
    result = runner.invoke(args=["staff", "disable", EMAIL])
    assert result.exit_code == 0 and "Disabled" in result.output
    assert log_in(app.test_client()).status_code == 401
    assert ("command line", "account_disable") in actions(wf)


def test_staff_disable_of_an_unknown_email_fails(runner):
    result = runner.invoke(args=["staff", "disable", "nobody@example.com"])
    assert result.exit_code == 1
    assert "no staff account" in result.output


def test_staff_list_shows_accounts_and_whether_they_are_active(runner, account, wf):
    wf.accounts.create("ben@example.com", PASSWORD)
    wf.accounts.disable("ben@example.com")
    output = runner.invoke(args=["staff", "list"]).output
    assert f"{EMAIL}\tactive" in output and "ben@example.com\tdisabled" in output
