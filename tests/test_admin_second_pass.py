"""The staff workspace's second pass (issue 11, item 3): roles, error pages, no caching,
edit conflicts, confirmations, plain words, clinic settings, passwords."""
from __future__ import annotations

import shutil

import pytest

from admin_client import EMAIL, PASSWORD, Staff
from chatbot import create_app
from chatbot.staff.roles import COMMAND_LINE, Actor, Forbidden, Role

EDITOR, PUBLISHER = "eddie@example.com", "pat@example.com"


@pytest.fixture
def own_app(tmp_path, shared_index_dir):
    """An app over its own copy of the index folder and its own database; an administrator
    (the first account) exists."""
    index_dir = tmp_path / "index"
    shutil.copytree(shared_index_dir, index_dir)
    app = create_app({
        "CHATBOT_INDEX_DIR": str(index_dir), "CHATBOT_RATE_LIMIT": "off", "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}",
        "CHATBOT_SECRET_KEY": "test-secret-key-not-for-production"})
    workspace = app.extensions["chatbot_workspace"]
    workspace.accounts.create(EMAIL, PASSWORD)
    workspace.accounts.create(EDITOR, PASSWORD, Role.EDITOR)
    workspace.accounts.create(PUBLISHER, PASSWORD, Role.PUBLISHER)
    yield app
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()


def newer_candidate(app, version: str = "99990101T000000.000000Z-test00") -> str:
    """A finished candidate newer than anything built, holding a copy of the live version's files.
    This server stops following publications: these tests are about who may publish, not about
    serving the candidate."""
    app.extensions["chatbot"].live_index.stop()
    workspace = app.extensions["chatbot_workspace"]
    workspace.on_publish = lambda version: None
    workspace.versions.start(version, EDITOR)
    workspace.versions.upload_files(version, workspace.store.path(workspace.store.current()))
    workspace.versions.finish(version, {"documents": 1, "passages": 1}, {}, [])
    return version


# -- roles ---------------------------------------------------------------------------------------

def test_the_first_account_is_an_administrator_and_later_ones_editors_unless_a_role_is_given(wf):
    assert wf.accounts.create("first@example.com", PASSWORD).role == Role.ADMIN
    assert wf.accounts.create("second@example.com", PASSWORD).role == Role.EDITOR
    assert wf.accounts.create("third@example.com", PASSWORD, "publisher").role == Role.PUBLISHER
    with pytest.raises(ValueError, match="role must be one of"):
        wf.accounts.create("fourth@example.com", PASSWORD, "owner")


def test_staff_create_from_the_command_line_makes_the_first_account_an_administrator(runner, wf):
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    assert "(admin)" in runner.invoke(args=["staff", "create", EMAIL], input=typed).output
    assert "(editor)" in runner.invoke(args=["staff", "create", EDITOR], input=typed).output
    made = runner.invoke(args=["staff", "create", PUBLISHER, "--role", "publisher"], input=typed)
    assert made.exit_code == 0 and "(publisher)" in made.output
    refused = runner.invoke(args=["staff", "create", "x@example.com", "--role", "owner"], input=typed)
    assert refused.exit_code != 0
    assert {u.email: u.role for u in wf.accounts.list()} == {EMAIL: "admin", EDITOR: "editor", PUBLISHER: "publisher"}


def test_the_core_refuses_to_publish_or_roll_back_for_an_editor_or_an_unnamed_caller(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    version = newer_candidate(own_app)
    for who in (Actor(EDITOR, Role.EDITOR), EDITOR):
        with pytest.raises(Forbidden):
            workspace.publish(version, who)
    assert workspace.published_version() != version
    workspace.publish(version, Actor(PUBLISHER, Role.PUBLISHER))
    assert workspace.published_version() == version


def test_an_editor_cannot_publish_roll_back_or_override_from_the_pages(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    first = newer_candidate(own_app, "99990101T000000.000000Z-first0")
    workspace.publish(first, COMMAND_LINE)
    version = newer_candidate(own_app)
    editor = Staff(own_app, EDITOR)
    page = editor.text(f"/admin/versions/{version}")
    assert "Only a publisher or an administrator can publish this version" in page
    assert f'action="/admin/versions/{version}/publish"' not in page
    assert "Publish…" not in editor.text("/admin/versions")
    for step, target, data in (("publish", version, {}),
                               ("publish", version, {"override_reason": "The gate is wrong about this one."}),
                               ("rollback", first, {})):
        refused = editor.post(f"/admin/versions/{target}/{step}", data)
        assert refused.status_code == 403 and refused.mimetype == "text/html"
        assert "Not allowed" in refused.get_data(as_text=True)
    assert workspace.published_version() == first
    assert [e.actor for e in workspace.audit.recent() if e.action in ("publish", "rollback")] == [COMMAND_LINE.name]


def test_a_publisher_can_publish_and_roll_back_from_the_pages(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    first = newer_candidate(own_app, "99990101T000000.000000Z-first0")
    workspace.publish(first, COMMAND_LINE)
    version = newer_candidate(own_app)
    publisher = Staff(own_app, PUBLISHER)
    assert "Publish…" in publisher.text("/admin/versions")
    assert publisher.post(f"/admin/versions/{version}/publish").status_code == 302
    assert workspace.published_version() == version
    assert "Roll back…" in publisher.text("/admin/versions")
    assert publisher.post(f"/admin/versions/{first}/rollback").status_code == 302
    assert workspace.published_version() == first
    assert [(e.actor, e.action) for e in workspace.audit.recent() if e.action in ("publish", "rollback")] == [
        (PUBLISHER, "rollback"), (PUBLISHER, "publish"), (COMMAND_LINE.name, "publish")]


def test_the_command_line_acts_as_an_administrator(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    version = newer_candidate(own_app)
    workspace.publish(version, COMMAND_LINE)
    assert workspace.versions.published().published_by == COMMAND_LINE.name


# -- errors are pages, nothing is cached -----------------------------------------------------------

@pytest.fixture
def staff(app, wf) -> Staff:
    wf.accounts.create(EMAIL, PASSWORD)
    return Staff(app)


def test_admin_errors_are_html_pages_and_the_api_keeps_its_json(staff, client):
    for url, status in (("/admin/no-such-page", 404), ("/admin/faq/999/edit", 404),
                        ("/admin/versions/nope", 404)):
        response = staff.get(url)
        assert (response.status_code, response.mimetype) == (status, "text/html"), url
        assert "<h1>Not found</h1>" in response.get_data(as_text=True)
    wrong_method = staff.client.put("/admin/knowledge")
    assert (wrong_method.status_code, wrong_method.mimetype) == (405, "text/html") and wrong_method.headers["Allow"]
    forged = staff.client.post("/admin/faq/new", data={"csrf_token": "forged", "question": "q", "answer": "a"})
    assert (forged.status_code, forged.mimetype) == (400, "text/html")
    assert "Form expired" in forged.get_data(as_text=True)
    assert staff.get("/admin/versions/nope/status.json").json["error"]["code"] == "not_found"
    api = client.get("/api/no-such-endpoint")
    assert api.status_code == 404 and api.json["error"]["code"]


def test_an_unexpected_error_in_a_staff_page_is_a_500_page_without_a_stack_trace(staff, wf, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(wf.knowledge, "list_faq", broken)
    response = staff.get("/admin/knowledge")
    page = response.get_data(as_text=True)
    assert (response.status_code, response.mimetype) == (500, "text/html")
    assert "Something went wrong" in page and "secret internals" not in page and "Traceback" not in page


def test_staff_pages_are_not_kept_in_caches_but_static_files_may_be(staff, client):
    for url in ("/admin/", "/admin/knowledge", "/admin/versions", "/admin/no-such-page"):
        assert staff.get(url).headers["Cache-Control"] == "no-store", url
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store"
    with client.get("/admin/static/admin.css") as stylesheet:  # closes the file it streams
        assert stylesheet.headers.get("Cache-Control") != "no-store"
