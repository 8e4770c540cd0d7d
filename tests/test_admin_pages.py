"""Staff workspace pages: knowledge CRUD, uploads, CSV export/import, check questions, try it,
retrain -> publish -> rollback, the audit log, and what every page may not contain."""
from __future__ import annotations

import re
import shutil

import pytest

from admin_client import EMAIL, PASSWORD, TOKEN, Staff, actions, upload
from chatbot import create_app

BUILD_TIMEOUT_SECONDS = 180

PAGE_TEXT = ("---\ntitle: Parking at the clinic\npublisher: Evergreen Acupuncture Clinic\n---\n"
             "# Parking\n\nVisitors may park in the courtyard behind the clinic. The courtyard gate opens "
             "at eight in the morning and closes at six in the evening on weekdays.\n\n"
             "# Bicycles\n\nBicycle stands are next to the entrance, under the roof.\n")


def without_csrf(page: str) -> str:
    """`page` with its CSRF tokens blanked (a token holds the time it was made)."""
    blanked, found = TOKEN.subn('name="csrf_token" value=""', page)
    assert found, "no CSRF token on the page"
    return blanked


@pytest.fixture
def staff(app, wf) -> Staff:
    wf.accounts.create(EMAIL, PASSWORD)
    return Staff(app)


FAQ = {"question": "Is there parking for patients?", "alternates": "where can I park\ncar park",
       "answer": "Yes: patients park free of charge in the courtyard behind the clinic.",
       "source_title": "Clinic leaflet", "source_url": "https://clinic.example/parking"}


# -- FAQ entries -----------------------------------------------------------------------

def test_staff_add_an_faq_entry_and_see_it_in_the_list(staff, wf):
    response = staff.post("/admin/faq/new", FAQ)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/knowledge"
    [entry] = wf.knowledge.list_faq()
    expected = (FAQ["question"], ("where can I park", "car park"), EMAIL)
    assert (entry.question, entry.alternates, entry.author) == expected
    page = staff.text("/admin/knowledge")
    for shown in ("Is there parking for patients?", "where can I park", "Clinic leaflet",
                  "https://clinic.example/parking", "Not reviewed", EMAIL):
        assert shown in page
    assert "faq_add" in actions(wf)


def test_staff_edit_an_faq_entry(staff, wf):
    staff.post("/admin/faq/new", FAQ)
    [entry] = wf.knowledge.list_faq()
    form = staff.text(f"/admin/faq/{entry.id}/edit")
    assert "where can I park\ncar park" in form and FAQ["answer"] in form
    response = staff.post(f"/admin/faq/{entry.id}/edit", {**FAQ, "answer": "Yes, in the courtyard.", "source_url": ""})
    assert response.status_code == 302
    edited = wf.knowledge.get_faq(entry.id)
    assert edited.answer == "Yes, in the courtyard." and edited.source_url is None and edited.updated_by == EMAIL
    assert "faq_edit" in actions(wf)


def test_staff_mark_an_faq_entry_reviewed(staff, wf):
    staff.post("/admin/faq/new", FAQ)
    [entry] = wf.knowledge.list_faq()
    assert staff.post(f"/admin/faq/{entry.id}/review").status_code == 302
    reviewed = wf.knowledge.get_faq(entry.id)
    assert reviewed.reviewed_by == EMAIL and reviewed.reviewed_at is not None
    assert "Not reviewed" not in staff.text("/admin/knowledge")
    assert "faq_review" in actions(wf)


def test_deleting_an_faq_entry_asks_for_confirmation_first(staff, wf):
    staff.post("/admin/faq/new", FAQ)
    [entry] = wf.knowledge.list_faq()
    confirmation = staff.text(f"/admin/faq/{entry.id}/delete")
    assert "Delete this FAQ entry?" in confirmation and FAQ["question"] in confirmation
    assert wf.knowledge.get_faq(entry.id) is not None
    assert staff.post(f"/admin/faq/{entry.id}/delete").status_code == 302
    assert wf.knowledge.list_faq() == []
    assert "faq_delete" in actions(wf)


def test_an_unknown_faq_entry_is_a_404_page(staff):
    response = staff.get("/admin/faq/999/edit")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert staff.post("/admin/faq/999/delete").status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"question": ""}, "This field is required."),
    ({"answer": "   "}, "This field is required."),
    ({"source_url": "clinic.example/parking"}, "starting with http:// or https://"),
    ({"source_url": "ftp://clinic.example/parking"}, "http"),
])
def test_an_faq_entry_with_a_problem_is_not_saved_and_the_form_says_why(staff, wf, change, message):
    response = staff.post("/admin/faq/new", {**FAQ, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert wf.knowledge.list_faq() == []


def test_search_shows_only_matching_entries_and_pages(staff, wf):
    wf.knowledge.add_faq("Is there parking?", "In the courtyard.", author=EMAIL)
    wf.knowledge.add_faq("Do needles hurt?", "Barely.", author=EMAIL)
    wf.knowledge.add_document("parking.md", ".md", PAGE_TEXT, EMAIL)
    page = staff.text("/admin/knowledge?q=PARKING")
    assert "Is there parking?" in page and "Do needles hurt?" not in page and "parking.md" in page
    page = staff.text("/admin/knowledge?q=needles")
    assert "Do needles hurt?" in page and "parking.md" not in page


def test_text_typed_by_staff_is_escaped_on_every_page(staff, wf):
    attack = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    staff.post("/admin/faq/new", {**FAQ, "question": attack, "answer": attack})
    for url in ("/admin/knowledge", "/admin/audit", f"/admin/faq/{wf.knowledge.list_faq()[0].id}/delete"):
        page = staff.text(url)
        assert attack not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- uploaded pages ----------------------------------------------------------------------

def test_an_uploaded_page_is_previewed_as_passages_before_it_is_saved(staff, wf):
    response = upload(staff, "Parking.md", PAGE_TEXT.encode())
    assert response.status_code == 200 and response.request.method == "GET"  # redirected to the preview
    preview = response.get_data(as_text=True)
    assert "Preview: parking.md" in preview
    assert "cited as <strong>Parking at the clinic</strong> (Evergreen Acupuncture Clinic)" in preview
    assert "Visitors may park in the courtyard" in preview and "Bicycle stands" in preview
    assert wf.knowledge.list_documents() == []
    token = re.search(r'name="upload" type="hidden" value="([^"]+)"', preview).group(1)
    # A reload shows it again (each page carries a fresh CSRF token: it holds the time).
    assert without_csrf(staff.text(f"/admin/pages/preview/{token}")) == without_csrf(preview)
    assert staff.post("/admin/pages/confirm", {"upload": token}).status_code == 302
    assert staff.post("/admin/pages/confirm", {"upload": token}).status_code == 302  # a second confirm...
    [page] = wf.knowledge.list_documents()  # ...saves nothing more
    assert (page.filename, page.suffix, page.text, page.author) == ("parking.md", ".md", PAGE_TEXT, EMAIL)
    assert "page_upload" in actions(wf)
    shown = staff.text(f"/admin/pages/{page.id}")
    assert "Bicycle stands are next to the entrance" in shown


def test_an_html_page_is_read_for_its_main_text(staff):
    html = ("<html><head><title>Opening hours</title></head><body><nav><a href='/'>Home</a></nav>"
            "<main><h1>Opening hours</h1><p>The clinic is open from Monday to Saturday, from eight in the "
            "morning until six in the evening, and closed on public holidays.</p></main></body></html>")
    preview = upload(staff, "hours.htm", html.encode()).get_data(as_text=True)
    assert "Preview: hours.html" in preview and "open from Monday to Saturday" in preview


def test_uploading_a_page_of_the_same_name_replaces_its_text(staff, wf):
    wf.knowledge.add_document("parking.md", ".md", "title: Old\n\nOld text about parking in town.\n", EMAIL)
    preview = upload(staff, "parking.md", PAGE_TEXT.encode()).get_data(as_text=True)
    assert "This replaces the text of the uploaded page parking.md" in preview
    token = re.search(r'name="upload" type="hidden" value="([^"]+)"', preview).group(1)
    staff.post("/admin/pages/confirm", {"upload": token})
    [page] = wf.knowledge.list_documents()
    assert page.text == PAGE_TEXT


def test_a_page_whose_name_clashes_with_another_type_cannot_be_saved(staff, wf):
    wf.knowledge.add_document("parking.txt", ".txt", "Old text about parking in town.\n", EMAIL)
    preview = upload(staff, "parking.md", PAGE_TEXT.encode()).get_data(as_text=True)
    assert "A page named parking.txt exists already" in preview
    assert "Save this page" not in preview


@pytest.mark.parametrize("name, content, message", [
    ("leaflet.pdf", b"%PDF-1.4 some pdf", "Wrong type of file"),
    ("noextension", b"Some text", "Wrong type of file"),
    ("huge.txt", b"a" * 2_000_001, "The file is too large"),
    ("latin1.txt", "Café crème au lait".encode("latin-1"), "save it as UTF-8"),
    ("binary.txt", b"text\x00with a NUL", "not a text file"),
    ("empty.md", b"", "The file is empty"),
    ("blank.md", b" \n\t\n", "The file is empty"),
])
def test_an_unusable_upload_is_refused_with_the_reason(staff, wf, name, content, message):
    response = upload(staff, name, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert wf.knowledge.list_documents() == []


def test_a_request_far_over_the_upload_limit_gets_a_page_saying_so(staff):
    response = upload(staff, "enormous.txt", b"a" * 5_000_000)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_uploading_without_a_file_asks_for_one(staff):
    response = staff.post("/admin/pages/upload", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_a_page_without_readable_text_can_be_previewed_but_not_saved(staff):
    preview = upload(staff, "menu.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert "No passage can be made from this file" in preview.get_data(as_text=True)
    assert "Save this page" not in preview.get_data(as_text=True)


def test_an_altered_preview_token_saves_nothing(staff, wf):
    preview = upload(staff, "parking.md", PAGE_TEXT.encode()).get_data(as_text=True)
    token = re.search(r'name="upload" type="hidden" value="([^"]+)"', preview).group(1)
    response = staff.post("/admin/pages/confirm", {"upload": token[:-3] + "AAA"})
    assert response.status_code == 302
    assert "That preview is gone" in staff.text("/admin/pages/upload")
    assert wf.knowledge.list_documents() == []


def test_deleting_a_page_asks_for_confirmation_first(staff, wf):
    page = wf.knowledge.add_document("parking.md", ".md", PAGE_TEXT, EMAIL)
    assert "Delete this page?" in staff.text(f"/admin/pages/{page.id}/delete")
    assert wf.knowledge.get_document(page.id) is not None
    staff.post(f"/admin/pages/{page.id}/delete")
    assert wf.knowledge.list_documents() == []
    assert "page_delete" in actions(wf)


# -- FAQ CSV export and import --------------------------------------------------------------

def test_faq_entries_survive_an_export_and_import_round_trip_through_the_pages(staff, wf):
    staff.post("/admin/faq/new", FAQ)
    staff.post("/admin/faq/new", {"question": "Do the needles hurt, \"really\"?",
                                  "answer": "Line one.\nLine two, with a comma.",
                                  "alternates": "", "source_title": "", "source_url": ""})
    before = sorted((e.question, e.answer, e.alternates, e.source_title, e.source_url) for e in wf.knowledge.list_faq())
    export = staff.get("/admin/faq/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="faq-')
    for entry in wf.knowledge.list_faq():
        wf.knowledge.delete_faq(entry.id)
    response = upload(staff, "faq.csv", export.data, url="/admin/faq/import", field="csv_file")
    assert response.status_code == 302  # to the import's report: a reload does not import again
    assert "Added 2 FAQ entries." in staff.text(response.headers["Location"])
    after = sorted((e.question, e.answer, e.alternates, e.source_title, e.source_url) for e in wf.knowledge.list_faq())
    assert after == before
    assert "import_faq" in actions(wf)


def test_an_import_lists_its_problems_by_line(staff, wf):
    csv_text = ("question,answer,alternates,source_title,source_url\n"
                "Is there parking?,In the courtyard.,,,\n"
                ",An answer without a question.,,,\n"
                "Do you take cards?,Yes.,,,not-a-link\n")
    response = upload(staff, "faq.csv", csv_text.encode(), url="/admin/faq/import", field="csv_file")
    page = staff.text(response.headers["Location"])
    assert "Added 1 FAQ entry" in page and "2 problems" in page
    assert re.search(r"<td>3</td><td>[^<]+</td>", page) and re.search(r"<td>4</td><td>[^<]+</td>", page)
    assert [e.question for e in wf.knowledge.list_faq()] == ["Is there parking?"]


@pytest.mark.parametrize("name, content, message", [
    ("faq.xlsx", b"PK\x03\x04", "Wrong type of file"),
    ("faq.csv", b"question,answer\n\xff\xfe", "save it as UTF-8"),
    ("faq.csv", b"", "The file is empty"),
])
def test_an_unusable_import_file_is_refused_with_the_reason(staff, wf, name, content, message):
    response = upload(staff, name, content, url="/admin/faq/import", field="csv_file")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert wf.knowledge.list_faq() == []


# -- check questions -----------------------------------------------------------------------

def test_staff_add_and_delete_check_questions(staff, wf):
    response = staff.post("/admin/checks", {"question": "Where do I park?", "expect": "answer",
                                            "phrases": "courtyard\nbehind the clinic"})
    assert response.status_code == 302
    [check] = wf.knowledge.list_checks()
    assert (check.question, check.expect, check.phrases) == ("Where do I park?", "answer",
                                                             ("courtyard", "behind the clinic"))
    page = staff.text("/admin/checks")
    assert "Where do I park?" in page and "behind the clinic" in page
    assert "Delete this check question?" in staff.text(f"/admin/checks/{check.id}/delete")
    staff.post(f"/admin/checks/{check.id}/delete")
    assert wf.knowledge.list_checks() == []
    assert {"check_add", "check_delete"} <= set(actions(wf))


def test_a_check_question_expecting_an_answer_needs_a_phrase(staff, wf):
    response = staff.post("/admin/checks", {"question": "Where do I park?", "expect": "answer", "phrases": ""})
    assert response.status_code == 422
    assert "Give at least one phrase" in response.get_data(as_text=True)
    assert staff.post("/admin/checks", {"question": "What is the capital of France?",
                                        "expect": "no_answer", "phrases": ""}).status_code == 302


# -- try it, dashboard, audit -------------------------------------------------------------------

def test_try_it_shows_the_published_reply_with_its_passages_and_scores(staff, app):
    response = staff.post("/admin/try", {"message": "Are acupuncture needles sterile?"})
    assert response.status_code == 302  # then a GET: a reload never posts the question again
    page = staff.text(response.headers["Location"])
    assert "Are acupuncture needles sterile?" in page  # kept in the box
    published = app.extensions["chatbot"].live_index.get().version
    assert f"Published <code>{published}</code>" in page
    assert "kind-answer" in page and "sterile" in page.lower()
    assert re.search(r"<strong>0\.\d{3}</strong>", page)
    assert "No candidate is waiting to be published" in page


def test_try_it_needs_a_question(staff):
    response = staff.post("/admin/try", {"message": ""})
    assert response.status_code == 422


def test_the_dashboard_shows_the_published_version_and_counts(staff, app, wf):
    wf.knowledge.add_faq("Is there parking?", "In the courtyard.", author=EMAIL)
    page = staff.text("/admin/")
    assert app.extensions["chatbot"].live_index.get().version in page
    assert "<strong>1</strong> FAQ entry, <strong>1</strong> not reviewed" in page
    assert "Nothing has been built in the workspace yet." in page


def test_the_audit_log_page_shows_who_did_what(staff, wf):
    staff.post("/admin/faq/new", FAQ)
    page = staff.text("/admin/audit")
    assert "faq add" in page and "login" in page and EMAIL in page and FAQ["question"] in page


# -- what no page may contain ---------------------------------------------------------------

def test_no_page_has_inline_script_or_style(staff, wf):
    entry = wf.knowledge.add_faq("Is there parking?", "In the courtyard.", author=EMAIL)
    page = wf.knowledge.add_document("parking.md", ".md", PAGE_TEXT, EMAIL)
    check = wf.knowledge.add_check("Where do I park?", "answer", ["courtyard"], EMAIL)
    urls = ["/admin/login", "/admin/", "/admin/knowledge", "/admin/faq/new", f"/admin/faq/{entry.id}/edit",
            f"/admin/faq/{entry.id}/delete", "/admin/pages/upload", f"/admin/pages/{page.id}",
            f"/admin/pages/{page.id}/delete", "/admin/faq/import", "/admin/checks",
            f"/admin/checks/{check.id}/delete", "/admin/try", "/admin/versions", "/admin/audit"]
    for url in urls:
        response = staff.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 302), url
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<script" not in html and "<style" not in html, url
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), url


def test_every_form_field_has_a_label(staff):
    for url in ("/admin/faq/new", "/admin/pages/upload", "/admin/faq/import", "/admin/checks", "/admin/try",
                "/admin/knowledge"):
        html = staff.text(url)
        ids = re.findall(r'<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', html)
        assert ids, url
        for field_id in ids:
            assert f'for="{field_id}"' in html, (url, field_id)


# -- retrain -> publish -> roll back, with the real workspace -------------------------------------

@pytest.fixture
def own_index_app(tmp_path, shared_index_dir):
    """An app over its own copy of the index folder: a build here cannot touch other tests' index."""
    index_dir = tmp_path / "index"
    shutil.copytree(shared_index_dir, index_dir)
    app = create_app({
        "CHATBOT_INDEX_DIR": str(index_dir), "CHATBOT_RATE_LIMIT": "off", "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}"})
    app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
    yield app
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()


def retrain(staff: Staff, app) -> str:
    """Start a build through the page and wait for it; the new version id."""
    response = staff.post("/admin/versions/retrain")
    assert response.status_code == 302
    version = response.headers["Location"].rsplit("/", 1)[1]
    building = staff.text(f"/admin/versions/{version}")
    assert '<meta http-equiv="refresh" content="2">' in building and "<progress" in building
    process = app.extensions["chatbot_workspace"].build_process(version)
    assert process.wait(timeout=BUILD_TIMEOUT_SECONDS) == 0
    return version


def ask(app, message: str) -> dict:
    return app.test_client().post("/api/chat", json={"message": message}).json


ZEBRA = {"question": "Can I bring my zebra to the clinic?", "alternates": "zebra visit",
         "answer": "Zebras wait in the paddock next to the car park during treatment.",
         "source_title": "", "source_url": ""}


def test_staff_retrain_see_the_candidate_publish_it_and_visitors_get_the_new_answer(own_index_app):
    app = own_index_app
    staff = Staff(app)
    staff.post("/admin/faq/new", ZEBRA)
    before = app.extensions["chatbot"].live_index.get().version
    version = retrain(staff, app)
    status = staff.get(f"/admin/versions/{version}/status.json").json
    assert status["status"] == "candidate" and status["progress"] == 100
    page = staff.text(f"/admin/versions/{version}")
    assert 'http-equiv="refresh"' not in page
    for shown in ("What was built", "Passages", "On the check questions", "Right answer among the first three",
                  "Replies that changed", ">Publish<"):
        assert shown in page
    staff.post("/admin/try", {"message": "Can I bring my zebra?"})
    tried = staff.text("/admin/try")
    assert f"Candidate <code>{version}</code>" in tried and "paddock" in tried
    response = staff.post(f"/admin/versions/{version}/publish")
    assert response.status_code == 302
    assert app.extensions["chatbot_workspace"].published_version() == version
    reply = ask(app, "Can I bring my zebra to the clinic?")
    assert reply["index_version"] == version and "paddock" in reply["reply"]
    versions_page = staff.text("/admin/versions")
    assert 'class="is-published"' in versions_page and version in versions_page
    assert before != version
    assert {"retrain", "publish"} <= set(actions(app.extensions["chatbot_workspace"]))


def test_publishing_past_the_safety_gate_needs_a_written_reason(own_index_app, monkeypatch):
    app = own_index_app
    workspace = app.extensions["chatbot_workspace"]
    staff = Staff(app)
    version = retrain(staff, app)
    monkeypatch.setattr(workspace, "gate", lambda v: ["Answer hit@3 on the check questions drops from 0.97 to 0.80."])
    page = staff.text(f"/admin/versions/{version}")
    assert "drops from 0.97 to 0.80" in page and "Publish anyway" in page and 'name="override_reason"' in page
    refused = staff.post(f"/admin/versions/{version}/publish", {"override_reason": ""})
    assert refused.status_code == 422 and "at least 10 characters" in refused.get_data(as_text=True)
    assert staff.post(f"/admin/versions/{version}/publish", {"override_reason": "too short"}).status_code == 422
    assert workspace.published_version() != version
    reason = "The drop comes from a check question that was wrong."
    assert staff.post(f"/admin/versions/{version}/publish", {"override_reason": reason}).status_code == 302
    assert workspace.published_version() == version
    publish = next(e for e in workspace.audit.recent() if e.action == "publish")
    assert publish.actor == EMAIL and publish.detail["override_reason"] == reason


def test_staff_roll_back_to_a_version_published_before(own_index_app):
    app = own_index_app
    workspace = app.extensions["chatbot_workspace"]
    staff = Staff(app)
    first = retrain(staff, app)
    staff.post(f"/admin/versions/{first}/publish")
    staff.post("/admin/faq/new", ZEBRA)
    second = retrain(staff, app)
    assert "Roll back" not in staff.text(f"/admin/versions/{second}")
    staff.post(f"/admin/versions/{second}/publish")
    assert "paddock" in ask(app, "Can I bring my zebra to the clinic?")["reply"]
    page = staff.text(f"/admin/versions/{first}")
    assert "Roll back to this version" in page
    listing = staff.text("/admin/versions")
    # The list only leads to the version's page, which asks for confirmation.
    assert f'aria-label="Roll back… {first}"' in listing and f'action="/admin/versions/{first}/rollback"' not in listing
    assert f'aria-label="Roll back… {second}"' not in listing
    assert staff.post(f"/admin/versions/{first}/rollback").status_code == 302
    assert workspace.published_version() == first
    assert "paddock" not in ask(app, "Can I bring my zebra to the clinic?")["reply"]
    assert "rollback" in actions(workspace)


def test_a_candidate_older_than_the_published_version_offers_a_roll_back_not_a_publish(own_index_app):
    app = own_index_app
    staff = Staff(app)
    older = retrain(staff, app)
    newer = retrain(staff, app)
    assert f'aria-label="Publish… {newer}"' in staff.text("/admin/versions")
    staff.post(f"/admin/versions/{newer}/publish")
    page = staff.text(f"/admin/versions/{older}")
    assert "was never published" in page and "Roll back to this version" in page and ">Publish<" not in page
    assert staff.post(f"/admin/versions/{older}/rollback").status_code == 302
    assert app.extensions["chatbot_workspace"].published_version() == older
    assert "Roll back to this version" in staff.text(f"/admin/versions/{newer}")


def test_a_second_build_cannot_start_while_one_is_running(own_index_app):
    app = own_index_app
    staff = Staff(app)
    first = staff.post("/admin/versions/retrain").headers["Location"].rsplit("/", 1)[1]
    response = staff.post("/admin/versions/retrain")
    assert response.headers["Location"] == "/admin/versions"
    assert "a build is already running" in staff.text("/admin/versions")
    app.extensions["chatbot_workspace"].build_process(first).wait(timeout=BUILD_TIMEOUT_SECONDS)


def test_an_unknown_version_is_a_404(staff):
    assert staff.get("/admin/versions/20990101T000000.000000Z-000000").status_code == 404
    response = staff.get("/admin/versions/nope/status.json")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
