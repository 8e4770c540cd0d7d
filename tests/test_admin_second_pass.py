"""The staff workspace's second pass (issue 11, item 3): roles, error pages, no caching,
edit conflicts, confirmations, plain words, clinic settings, passwords."""
from __future__ import annotations

import re
import shutil
import threading

import pytest

from admin_client import EMAIL, PASSWORD, TOKEN, Staff, upload
from chatbot import create_app
from chatbot.staff.faq_entries import EditConflict, revision
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


# -- edit conflicts, ended sessions, deleted entries, duplicates ----------------------------------------

FAQ = {"question": "Is there parking for patients?", "alternates": "where can I park",
       "answer": "Yes: patients park free of charge in the courtyard behind the clinic.",
       "source_title": "", "source_url": ""}
OPENED = re.compile(r'name="opened" type="hidden" value="([^"]*)"')


def opened_form(staff: Staff, faq_id: int) -> dict:
    """The edit form's fields as a browser would send them untouched (the revision it was opened at)."""
    page = staff.text(f"/admin/faq/{faq_id}/edit")
    return {**FAQ, "opened": OPENED.search(page).group(1)}


def test_an_entry_saved_in_another_tab_is_not_overwritten_and_both_texts_are_shown(app, wf, staff):
    wf.accounts.create(EDITOR, PASSWORD)
    entry = wf.knowledge.add_faq(**{k: v for k, v in FAQ.items() if k != "alternates"}, author=EMAIL)
    mine = opened_form(staff, entry.id)
    other = Staff(app, EDITOR)
    theirs = opened_form(other, entry.id)
    assert other.post(f"/admin/faq/{entry.id}/edit", {**theirs, "answer": "Park in the street."}).status_code == 302
    refused = staff.post(f"/admin/faq/{entry.id}/edit", {**mine, "answer": "Park in the courtyard."})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert f"changed by {EDITOR}" in page and "since you opened it" in page
    assert "Park in the courtyard." in page and "Park in the street." in page  # mine in the form, theirs below
    assert wf.knowledge.get_faq(entry.id).answer == "Park in the street."
    again = {**mine, "answer": "Park in the courtyard.", "opened": OPENED.search(page).group(1)}
    assert staff.post(f"/admin/faq/{entry.id}/edit", again).status_code == 302  # knowingly replaces theirs
    assert wf.knowledge.get_faq(entry.id).answer == "Park in the courtyard."


def test_the_core_refuses_a_save_based_on_an_older_revision(wf):
    entry = wf.knowledge.add_faq(FAQ["question"], FAQ["answer"], author=EMAIL)
    changed = wf.knowledge.update_faq(entry.id, question=FAQ["question"], answer="Another answer.", alternates=(),
                                      source_title=None, source_url=None, editor=EDITOR, opened=revision(entry))
    with pytest.raises(EditConflict) as conflict:
        wf.knowledge.update_faq(entry.id, question=FAQ["question"], answer="Mine.", alternates=(),
                                source_title=None, source_url=None, editor=EMAIL, opened=revision(entry))
    assert conflict.value.current == changed and wf.knowledge.get_faq(entry.id).answer == "Another answer."


def test_saving_an_entry_deleted_meanwhile_says_so_and_keeps_the_text(wf, staff):
    entry = wf.knowledge.add_faq(FAQ["question"], FAQ["answer"], author=EMAIL)
    form = opened_form(staff, entry.id)
    assert staff.post(f"/admin/faq/{entry.id}/delete").status_code == 302
    response = staff.post(f"/admin/faq/{entry.id}/edit", {**form, "answer": "My new answer, typed at length."})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and f"deleted by {EMAIL} since you opened it" in page
    assert "My new answer, typed at length." in page and 'action="/admin/faq/new"' in page
    assert staff.post("/admin/faq/new", {**form, "answer": "My new answer, typed at length."}).status_code == 302
    assert [e.answer for e in wf.knowledge.list_faq()] == ["My new answer, typed at length."]


def test_a_save_after_the_session_ended_keeps_the_text_through_the_login(app, wf, staff):
    entry = wf.knowledge.add_faq(FAQ["question"], FAQ["answer"], author=EMAIL)
    form = opened_form(staff, entry.id)
    Staff(app).post("/admin/logout")  # from another browser: ends every session of the account
    other_tab = staff.client
    typed = {**form, "answer": "An answer written while the session ran out."}
    ended = staff.post(f"/admin/faq/{entry.id}/edit", typed)
    page = ended.get_data(as_text=True)
    assert ended.status_code == 401 and "Your session ended before this was saved" in page
    draft = re.search(r'name="draft" value="([^"]+)"', page).group(1)
    logged_in = other_tab.post("/admin/login", data={"csrf_token": TOKEN.search(page).group(1), "email": EMAIL,
                                                    "password": PASSWORD, "draft": draft})
    resume = logged_in.get_data(as_text=True)
    assert logged_in.status_code == 200 and "An answer written while the session ran out." in resume
    assert f'action="/admin/faq/{entry.id}/edit"' in resume
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', resume))
    saved = other_tab.post(f"/admin/faq/{entry.id}/edit", data=fields)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert wf.knowledge.get_faq(entry.id).answer == "An answer written while the session ran out."


def test_a_forged_or_foreign_draft_is_ignored_at_login(app, wf, client):
    wf.accounts.create(EMAIL, PASSWORD)
    page = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login", data={"csrf_token": TOKEN.search(page).group(1), "email": EMAIL,
                                                 "password": PASSWORD, "draft": "not-a-signed-draft"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_a_question_another_entry_has_is_flagged_with_a_link_before_it_is_saved(wf, staff):
    first = wf.knowledge.add_faq(FAQ["question"], FAQ["answer"], author=EMAIL)
    flagged = staff.post("/admin/faq/new", {**FAQ, "question": "  is there PARKING for patients "})
    page = flagged.get_data(as_text=True)
    assert flagged.status_code == 422 and "An entry with this question exists" in page
    assert f'href="/admin/faq/{first.id}/edit"' in page and 'name="same_question_ok"' in page
    assert len(wf.knowledge.list_faq()) == 1
    anyway = staff.post("/admin/faq/new", {**FAQ, "question": "Is there parking for patients", "same_question_ok": "y"})
    assert anyway.status_code == 302 and len(wf.knowledge.list_faq()) == 2
    second = wf.knowledge.list_faq()[1]
    form = opened_form(staff, first.id)
    assert staff.post(f"/admin/faq/{first.id}/edit", {**form, "answer": "Changed."}).status_code == 422
    assert staff.post(f"/admin/faq/{second.id}/delete").status_code == 302
    assert staff.post(f"/admin/faq/{first.id}/edit", {**form, "answer": "Changed."}).status_code == 302


# -- clinic settings, accounts, passwords -----------------------------------------------------------

SETTINGS_FORM = {"CHATBOT_CLINIC_NAME": "Evergreen Acupuncture", "CHATBOT_GREETING": "Welcome to Evergreen!",
                 "CHATBOT_STARTER_QUESTIONS": "Does it hurt?\nHow long does a session last?",
                 "CHATBOT_CONTACT_TEXT": "Call us on 020 7946 0000.", "CHATBOT_NOTICE": "Not medical advice.",
                 "CHATBOT_EMERGENCY_NUMBER": "999", "CHATBOT_CRISIS_NUMBER": "116 123"}


def test_an_administrator_edits_the_clinic_settings_and_visitors_get_them_at_once(app, staff, wf, client):
    response = staff.post("/admin/settings", SETTINGS_FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/settings"
    frame = client.get("/widget/frame").get_data(as_text=True)
    assert "Welcome to Evergreen!" in frame and "How long does a session last?" in frame
    urgent = client.post("/api/chat", json={"message": "I lost bladder control and my legs are numb"}).json
    assert urgent["kind"] == "urgent" and "999" in urgent["reply"]
    unknown = client.post("/api/chat", json={"message": "What is the airspeed of an unladen swallow?"}).json
    assert unknown["kind"] == "no_answer" and "Call us on 020 7946 0000." in unknown["reply"]
    [entry] = [e for e in wf.audit.recent() if e.action == "clinic_settings"]
    assert entry.actor == EMAIL and entry.detail["CHATBOT_GREETING"]["after"] == "Welcome to Evergreen!"
    assert staff.post("/admin/settings", SETTINGS_FORM).status_code == 302  # unchanged: nothing audited
    assert len([e for e in wf.audit.recent() if e.action == "clinic_settings"]) == 1


@pytest.mark.parametrize("change, problem", [
    ({"CHATBOT_STARTER_QUESTIONS": "\n".join(f"Question {n}?" for n in range(6))}, "at most 5"),
    ({"CHATBOT_GREETING": "  "}, "cannot be empty"),
    ({"CHATBOT_GREETING": "x" * 301}, "at most 300 characters"),
    ({"CHATBOT_EMERGENCY_NUMBER": "call <script>"}, "digits, spaces"),
])
def test_clinic_settings_that_break_a_rule_are_refused_and_nothing_is_saved(staff, wf, change, problem):
    response = staff.post("/admin/settings", {**SETTINGS_FORM, **change})
    assert response.status_code == 422 and problem in response.get_data(as_text=True)
    assert wf.clinic_settings.saved() == {}


def test_saved_clinic_settings_reach_another_server_within_its_refresh(app, wf):
    from chatbot.staff.clinic_settings import LiveClinicSettings
    other_server = LiveClinicSettings(wf.clinic_settings, app.extensions["chatbot"].settings, refresh_seconds=0)
    assert other_server.current()["CHATBOT_GREETING"] != "Hi from the database"
    wf.clinic_settings.save({"CHATBOT_GREETING": "Hi from the database"}, COMMAND_LINE)
    other_server.current()  # starts a background re-read; the reply never waits for it
    for _ in range(200):
        if other_server.current()["CHATBOT_GREETING"] == "Hi from the database":
            break
        threading.Event().wait(0.02)
    assert other_server.current()["CHATBOT_GREETING"] == "Hi from the database"
    other_server.close()  # its last re-read ends before the app's connections are closed


def test_closing_clinic_settings_waits_for_a_re_read_and_starts_no_more():
    from chatbot.staff.clinic_settings import LiveClinicSettings

    class SlowStore:
        def __init__(self):
            self.started, self.finished = threading.Event(), 0

        def saved(self):
            self.started.set()
            threading.Event().wait(0.3)
            self.finished += 1
            return {}

    store = SlowStore()
    live = LiveClinicSettings(store, {"CHATBOT_GREETING": "Hi"}, refresh_seconds=0)
    live.current()
    assert store.started.wait(5)
    live.close()
    assert store.finished == 1  # the re-read under way ended before close() returned
    live.current()
    threading.Event().wait(0.1)
    assert store.finished == 1 and live.current()["CHATBOT_GREETING"] == "Hi"


def test_only_administrators_reach_the_settings_and_accounts_pages(own_app):
    for email in (EDITOR, PUBLISHER):
        member = Staff(own_app, email)
        assert "Clinic settings" not in member.text("/admin/")
        for url in ("/admin/settings", "/admin/accounts", "/admin/accounts/1/password"):
            assert member.get(url).status_code == 403, (email, url)
        assert member.post("/admin/settings", SETTINGS_FORM).status_code == 403
        assert member.post("/admin/accounts/2/role", {"role": "admin"}).status_code == 403
    with pytest.raises(Forbidden):
        own_app.extensions["chatbot_workspace"].clinic_settings.save(SETTINGS_FORM, Actor(PUBLISHER, Role.PUBLISHER))
    assert "Clinic settings" in Staff(own_app).text("/admin/")


def test_an_administrator_changes_a_role_disables_enables_and_resets_a_password(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    admin = Staff(own_app)
    editor = {u.email: u for u in workspace.accounts.list()}[EDITOR]
    assert admin.post(f"/admin/accounts/{editor.id}/role", {"role": "publisher"}).status_code == 302
    assert workspace.accounts.get(editor.id).role == "publisher"
    session = Staff(own_app, EDITOR)
    assert admin.post(f"/admin/accounts/{editor.id}/disable").status_code == 302
    assert session.get("/admin/").status_code == 302  # its session has ended
    assert admin.post(f"/admin/accounts/{editor.id}/enable").status_code == 302
    new = "a brand new passphrase"
    assert admin.post(f"/admin/accounts/{editor.id}/password", {"password": new, "confirm": new}).status_code == 302
    Staff(own_app, EDITOR, new)  # signs in with the new password
    me = {u.email: u for u in workspace.accounts.list()}[EMAIL]
    refused = admin.post(f"/admin/accounts/{me.id}/role", {"role": "editor"})
    assert refused.status_code == 302 and workspace.accounts.get(me.id).role == "admin"
    assert "cannot lower your own role" in admin.text("/admin/accounts")
    assert [e.action for e in workspace.audit.recent() if e.actor == EMAIL and e.action.startswith("account_")] == [
        "account_password_reset", "account_enable", "account_disable", "account_role"]


def test_staff_change_their_own_password_and_their_other_sessions_end(app, wf, staff):
    other = Staff(app)
    wrong = staff.post("/admin/password", {"current": "not my password", "password": "x" * 12, "confirm": "x" * 12})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    new = "another long passphrase"
    assert staff.post("/admin/password", {"current": PASSWORD, "password": new, "confirm": new}).status_code == 302
    assert staff.get("/admin/").status_code == 200  # this session goes on
    assert other.get("/admin/").status_code == 302  # the other one has ended
    Staff(app, EMAIL, new)
    assert ["password_change", "password_change_refused"] == [
        e.action for e in wf.audit.recent() if e.action.startswith("password_change")]


# -- plain words ----------------------------------------------------------------------------------

def test_versions_are_named_by_date_builder_and_note_with_the_id_kept_small(own_app):
    workspace = own_app.extensions["chatbot_workspace"]
    admin = Staff(own_app)
    form = admin.text("/admin/versions")
    assert 'name="note"' in form
    too_long = admin.post("/admin/versions/retrain", {"note": "x" * 201})
    assert too_long.headers["Location"] == "/admin/versions" and not workspace.versions.list()
    with pytest.raises(ValueError, match="note is longer"):
        workspace.start_build(EMAIL, "x" * 201)
    first = newer_candidate(own_app, "99990101T000000.000000Z-first0")
    workspace.publish(first, COMMAND_LINE)
    version = "99990101T000000.000000Z-noted0"
    workspace.versions.start(version, EDITOR, "  new parking   FAQ ")
    workspace.versions.finish(version, {"documents": 1, "passages": 1}, {}, [])
    record = workspace.versions.get(version)
    assert record.note == "new parking FAQ"
    listing = admin.text("/admin/versions")
    built = f"Built {record.created_at:%Y-%m-%d %H:%M} UTC"
    assert built in listing and f"by {EDITOR} · “new parking FAQ”" in listing
    assert f'<code class="meta" title="Version id">{version}</code>' in listing
    assert f'aria-label="Publish… {version}"' in listing and f'aria-label="Roll back… {version}"' not in listing
    page = admin.text(f"/admin/versions/{version}")
    assert f"<h1>Version built {record.created_at:%Y-%m-%d %H:%M} UTC</h1>" in page and "“new parking FAQ”" in page
    assert "hit@" not in page and "hit@" not in admin.text("/admin/")


def test_an_import_report_is_shown_after_a_redirect_and_only_to_whoever_imported(app, wf, staff):
    csv_text = "question,answer,alternates,source_title,source_url\nIs there parking?,Yes.,,,\n,No question.,,,\n"
    response = upload(staff, "faq.csv", csv_text.encode(), url="/admin/faq/import", field="csv_file")
    assert response.status_code == 302 and "report=" in response.headers["Location"]
    page = staff.text(response.headers["Location"])
    assert "Added 1 FAQ entry; 1 problem." in page and "<td>3</td>" in page
    staff.text(response.headers["Location"])  # reloading the report imports nothing
    assert len(wf.knowledge.list_faq()) == 1
    wf.accounts.create(EDITOR, PASSWORD)
    assert "Added 1 FAQ entry" not in Staff(app, EDITOR).text(response.headers["Location"])


def test_the_audit_log_shows_setting_changes_and_import_problems_in_words(staff, wf):
    wf.clinic_settings.save({"CHATBOT_EMERGENCY_NUMBER": "112"}, COMMAND_LINE)
    wf.import_faq_csv("question,answer,alternates,source_title,source_url\n,No question.,,,\n", EMAIL)
    page = staff.text("/admin/audit")
    assert "— → 112" in page and "2: " in page and "{" not in page.split("<main", 1)[1]


# -- shipped documents, and the source of an uploaded page ---------------------------------------------

@pytest.fixture
def small_corpus_app(tmp_path, make_corpus, topic_files):
    """An app over a small corpus folder of its own (its first start builds from it)."""
    app = create_app({
        "CHATBOT_CORPUS_DIR": str(make_corpus(topic_files)), "CHATBOT_INDEX_DIR": str(tmp_path / "index"),
        "CHATBOT_RATE_LIMIT": "off", "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}",
        "CHATBOT_SECRET_KEY": "test-secret-key-not-for-production"})
    app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
    app.extensions["chatbot_workspace"].accounts.create(EDITOR, PASSWORD, Role.EDITOR)
    yield app
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()


def test_shipped_documents_show_read_only_and_a_hidden_one_is_left_out_of_the_next_build(small_corpus_app):
    workspace = small_corpus_app.extensions["chatbot_workspace"]
    editor = Staff(small_corpus_app, EDITOR)
    knowledge = editor.text("/admin/knowledge")
    assert "How acupuncture works" in knowledge and "Cupping" in knowledge and "side-effects.md" in knowledge
    assert "Cupping" not in editor.text("/admin/knowledge?q=needles")
    page = editor.text("/admin/shipped/cupping.md")
    assert "glass or silicone cups" in page and "Hide it from the next build" in page
    assert editor.get("/admin/shipped/no-such-file.md").status_code == 404
    assert editor.post("/admin/shipped/cupping.md/hide").status_code == 302
    assert "Hidden" in editor.text("/admin/knowledge") and "Use it again" in editor.text("/admin/shipped/cupping.md")
    report = workspace.versions.get(workspace.build(EDITOR)).report
    assert report["hidden_files"] == ["cupping.md"]
    assert editor.post("/admin/shipped/cupping.md/show").status_code == 302
    again = workspace.versions.get(workspace.build(EDITOR)).report
    assert again["hidden_files"] == [] and again["documents"] == report["documents"] + 1
    assert [(e.actor, e.action, e.detail["path"]) for e in workspace.audit.recent() if "corpus_file" in e.action] == [
        (EDITOR, "corpus_file_show", "cupping.md"), (EDITOR, "corpus_file_hide", "cupping.md")]


def test_an_uploaded_page_gets_a_publisher_and_a_link_used_by_the_next_build(staff, wf):
    page = wf.knowledge.add_document("parking.md", ".md", "# Parking\n\nPatients park free of charge in the "
                                     "courtyard behind the clinic, from eight to six.\n", EMAIL)
    bad = staff.post(f"/admin/pages/{page.id}/source", {"publisher": "Evergreen", "url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "http://" in bad.get_data(as_text=True)
    saved = staff.post(f"/admin/pages/{page.id}/source", {"publisher": "Evergreen Clinic",
                                                         "url": "https://evergreen.example/parking"})
    assert saved.status_code == 302
    shown = staff.text(f"/admin/pages/{page.id}")
    assert "(Evergreen Clinic), https://evergreen.example/parking" in shown
    [document], _ = wf.knowledge.as_documents()
    assert (document.publisher, document.url) == ("Evergreen Clinic", "https://evergreen.example/parking")
    assert "page_source" in [e.action for e in wf.audit.recent()]


# -- migration 0005 ---------------------------------------------------------------------------------

def test_accounts_made_before_roles_existed_become_administrators(database_url, make_storage, raw):
    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from chatbot.storage.migrate import alembic_config, migration_transaction
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection, migration_transaction(connection):
        command.upgrade(alembic_config(connection), "0004")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO staff_users (email, password_hash, active, session_version, created_at) "
            "VALUES ('old@example.com', 'x', true, 1, CURRENT_TIMESTAMP)"))
    engine.dispose()
    storage = make_storage(database_url)
    storage.migrate()
    assert raw("SELECT email, role FROM staff_users") == [("old@example.com", "admin")]
    from chatbot.staff import StaffAccounts
    assert StaffAccounts(storage).create("new@example.com", PASSWORD).role == Role.EDITOR  # not the first


def test_flask_staff_changes_a_role_and_enables_an_account(runner, wf):
    wf.accounts.create(EMAIL, PASSWORD)
    wf.accounts.create(EDITOR, PASSWORD)
    assert runner.invoke(args=["staff", "role", EDITOR, "publisher"]).exit_code == 0
    assert runner.invoke(args=["staff", "disable", EDITOR]).exit_code == 0
    assert runner.invoke(args=["staff", "enable", EDITOR]).exit_code == 0
    assert {(u.email, u.role, u.active) for u in wf.accounts.list()} == {
        (EMAIL, "admin", True), (EDITOR, "publisher", True)}
    unknown = runner.invoke(args=["staff", "role", "nobody@example.com", "admin"])
    assert unknown.exit_code == 1 and "no staff account" in unknown.output
    assert runner.invoke(args=["staff", "role", EDITOR, "owner"]).exit_code != 0


@pytest.mark.parametrize("url", ["/admin/settings", "/admin/accounts/1/role", "/admin/accounts/1/disable",
                                 "/admin/accounts/1/password", "/admin/password", "/admin/pages/1/source",
                                 "/admin/shipped/x.md/hide", "/admin/versions/retrain"])
def test_every_new_form_needs_its_csrf_token(staff, wf, url):
    wf.knowledge.add_document("parking.md", ".md", "# Parking\n\nIn the courtyard behind the clinic.\n", EMAIL)
    response = staff.client.post(url, data={"role": "admin", "publisher": "x", "CHATBOT_GREETING": "Hi"})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert wf.clinic_settings.saved() == {} and wf.knowledge.list_documents()[0].publisher is None
