"""The "Questions to review" pages: access, CSRF, each action through HTTP, redaction, stale and damaged ids."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from admin_client import EMAIL, PASSWORD, Staff, actions
from chatbot.passages.questions_file import NO_PASSAGE
from chatbot.storage.model import Exchange

PARKING = ("where do I park my car", "where can I park the car", "where to park my car near the clinic")
PAYMENT = ("do you take credit cards for payment", "can I pay by credit card")
COMMENT = "I wanted the parking, write to jane.doe@example.com"


def log_questions(app, texts, kind="no_answer", prefix="m") -> list[str]:
    """Record each of `texts` as a visitor question the bot gave `kind` to; their message ids."""
    storage = app.extensions["chatbot"].storage
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    ids = []
    for number, text in enumerate(texts):
        message_id = f"{prefix}{number:03d}{'a' * 20}"
        storage.record_exchange(Exchange(message_id, "session-1", text, kind, (), (), "v1",
                                         created_at=start + timedelta(minutes=number)))
        ids.append(message_id)
    return ids


@pytest.fixture
def staff(app, wf):
    wf.accounts.create(EMAIL, PASSWORD)
    return Staff(app)


@pytest.fixture
def parking(app, wf):
    """Three wordings of a parking question the bot did not know, one with a "not helpful" comment."""
    ids = log_questions(app, PARKING)
    log_questions(app, PAYMENT, prefix="p")
    app.extensions["chatbot"].storage.record_feedback(ids[0], False, COMMENT)
    return next(g for g in wf.inbox.groups() if ids[0] in g.message_ids)


def open_ids(wf) -> set[str]:
    return {message_id for group in wf.inbox.groups() for message_id in group.message_ids}


def shown(response) -> str:
    """The text of a page reached after a redirect (flashed messages included)."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_every_inbox_page_and_action_needs_a_login(client, parking, wf):
    for url in ("/admin/inbox", f"/admin/inbox/{parking.key}", f"/admin/inbox/{parking.key}/new-answer"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.location, url
    for url in ("/admin/inbox/answer", "/admin/inbox/not-ours", "/admin/inbox/dismiss",
                f"/admin/inbox/{parking.key}/new-answer"):
        response = client.post(url, data={"message_ids": " ".join(parking.message_ids), "target": "faq:1"})
        # the login page, at once (keeping what was typed) or through a redirect
        assert (response.status_code == 401 and "Log in" in response.get_data(as_text=True)
                or response.status_code == 302 and "/admin/login" in response.location), url
    assert set(parking.message_ids) <= open_ids(wf)


def test_every_inbox_form_needs_its_csrf_token(staff, parking, wf):
    fields = {"message_ids": " ".join(parking.message_ids), "target": f"passage:{parking.closest[0].passage_id}"
              if parking.closest else "faq:1", "question": "Where to park?", "answer": "Behind the clinic."}
    for url in ("/admin/inbox/answer", "/admin/inbox/not-ours", "/admin/inbox/dismiss",
                f"/admin/inbox/{parking.key}/new-answer"):
        response = staff.client.post(url, data=fields)
        assert response.status_code == 400, url
        assert "Form expired" in response.get_data(as_text=True)
    assert set(parking.message_ids) <= open_ids(wf)
    assert wf.knowledge.list_faq() == []


def test_the_inbox_shows_each_group_with_its_wordings_reply_and_redacted_comment(staff, parking):
    page = staff.text("/admin/inbox")
    assert "Questions to review" in page
    for wording in PARKING:
        assert wording in page
    assert "3 questions" in page
    assert "I wanted the parking, write to [email]" in page
    assert "jane.doe@example.com" not in page
    assert "a visitor said the reply did not help" in page
    assert "The published version now replies with “I don" in page
    assert 'aria-current="page">Questions to review' in page
    assert page.count('name="message_ids"') >= 2 * 2  # each group: its candidates, not-ours and dismiss


def test_an_empty_inbox_says_so(staff):
    assert "Nothing to review" in staff.text("/admin/inbox")


def test_this_is_answered_by_a_passage_teaches_its_wordings(staff, parking, wf, app):
    page = staff.text(f"/admin/inbox/{parking.key}?q=needles+sterile")
    assert "Found for “needles sterile”" in page and "This answers it" in page
    served, _ = app.extensions["chatbot"].bot()
    passage = next(p for p in served.index.passages_ if "sterile" in p.text.lower())
    response = staff.post("/admin/inbox/answer", {"message_ids": " ".join(parking.message_ids),
                                                  "target": f"passage:{passage.id}"})
    assert response.status_code == 303 and response.location.endswith("/admin/inbox")
    page = shown(staff.get("/admin/inbox"))
    assert f"Taught 3 new wordings to “{passage.source.title}”" in page
    assert set(wf.knowledge.taught_questions()[passage.id]) == set(PARKING)
    assert not set(parking.message_ids) & open_ids(wf)
    assert "inbox.answer_with_passage" in actions(wf)


def test_this_is_answered_by_an_faq_entry_adds_the_wordings_as_alternates(staff, parking, wf, app):
    entry = wf.knowledge.add_faq(question="Is there parking?", answer="Behind the clinic.", alternates=(),
                                 author=EMAIL)
    response = staff.post("/admin/inbox/answer", {"message_ids": " ".join(parking.message_ids),
                                                  "target": f"faq:{entry.id}"}, follow_redirects=True)
    assert "Taught 3 new wordings to “Is there parking?”" in shown(response)
    assert set(wf.knowledge.get_faq(entry.id).alternates) == set(PARKING)
    assert not set(parking.message_ids) & open_ids(wf)
    again = log_questions(app, PARKING[:1], prefix="r")  # asked again before the retrain
    response = staff.post("/admin/inbox/answer", {"message_ids": again[0], "target": f"faq:{entry.id}"},
                          follow_redirects=True)
    assert "“Is there parking?” knew these wordings already" in shown(response)


def test_write_a_new_answer_prefills_the_form_and_closes_the_group(staff, parking, wf):
    form = staff.text(f"/admin/inbox/{parking.key}/new-answer")
    assert 'name="message_ids"' in form
    for wording in PARKING:
        assert wording in form
    question, *alternates = wf.inbox.draft_answer(parking.message_ids).values()
    response = staff.post(f"/admin/inbox/{parking.key}/new-answer", {
        "message_ids": " ".join(parking.message_ids), "question": question,
        "alternates": "\n".join(alternates[0]), "answer": "Free parking behind the clinic."}, follow_redirects=True)
    assert f"Added the FAQ entry “{question}” for these questions" in shown(response)
    [entry] = wf.knowledge.list_faq()
    assert {entry.question, *entry.alternates} == set(PARKING)
    assert not set(parking.message_ids) & open_ids(wf)
    assert actions(wf)[:2] == ["inbox.answer_with_entry", "faq_add"]
    checks = {c.question: c.expect for c in wf.knowledge.list_checks()}
    assert {checks.get(wording) for wording in PARKING} == {"answer"}  # the gate guards what was taught


def test_a_new_answer_without_its_answer_is_shown_again_with_the_text_kept(staff, parking, wf):
    response = staff.post(f"/admin/inbox/{parking.key}/new-answer", {
        "message_ids": " ".join(parking.message_ids), "question": "Where can I park?", "answer": ""})
    assert response.status_code == 422
    assert "Where can I park?" in response.get_data(as_text=True)
    assert wf.knowledge.list_faq() == [] and set(parking.message_ids) <= open_ids(wf)


def test_a_new_answer_whose_question_an_entry_has_is_flagged_before_it_is_saved(staff, parking, wf):
    other = wf.knowledge.add_faq(question=PARKING[1], answer="Behind the clinic.", alternates=(), author=EMAIL)
    response = staff.post(f"/admin/inbox/{parking.key}/new-answer", {
        "message_ids": " ".join(parking.message_ids), "question": PARKING[1], "answer": "In the car park."})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "An entry with this question exists" in page and f"/admin/faq/{other.id}/edit" in page
    assert [entry.id for entry in wf.knowledge.list_faq()] == [other.id]
    assert set(parking.message_ids) <= open_ids(wf)


def test_not_something_we_answer_keeps_them_as_no_answer_check_questions(staff, parking, wf):
    response = staff.post("/admin/inbox/not-ours", {"message_ids": " ".join(parking.message_ids)},
                          follow_redirects=True)
    assert "Marked as not something the clinic answers" in shown(response)
    assert "Retrain so the bot says it does not know to these and to questions like them" in shown(response)
    checks = {c.question: c.expect for c in wf.knowledge.list_checks()}
    assert {checks.get(wording) for wording in PARKING} == {"no_answer"}
    assert set(PARKING) <= set(wf.knowledge.taught_questions()[NO_PASSAGE])  # the next build's unanswered list
    assert not set(parking.message_ids) & open_ids(wf)


def test_dismiss_removes_the_group_and_a_second_dismiss_says_nothing_changed(staff, parking, wf):
    fields = {"message_ids": " ".join(parking.message_ids)}
    assert "Dismissed 3 questions." in shown(staff.post("/admin/inbox/dismiss", fields, follow_redirects=True))
    assert not set(parking.message_ids) & open_ids(wf)
    for url in ("/admin/inbox/dismiss", "/admin/inbox/not-ours"):
        assert "Nothing changed: these questions were handled already" in shown(
            staff.post(url, fields, follow_redirects=True))
    assert "Nothing changed" in shown(staff.post("/admin/inbox/answer", {**fields, "target": "faq:1"},
                                                   follow_redirects=True))
    assert "That group has changed" in shown(staff.get(f"/admin/inbox/{parking.key}", follow_redirects=True))
    assert "That group has changed" in shown(staff.get(f"/admin/inbox/{parking.key}/new-answer",
                                                         follow_redirects=True))
    response = staff.post(f"/admin/inbox/{parking.key}/new-answer",
                          {**fields, "question": "Where to park?", "answer": "Behind."}, follow_redirects=True)
    assert "Nothing changed" in shown(response) and wf.knowledge.list_faq() == []


@pytest.mark.parametrize("fields, message", [
    ({"message_ids": "", "target": "faq:1"}, "No questions were chosen."),
    ({"message_ids": "../../etc/passwd <script>", "target": "faq:1"}, "The list of questions was damaged"),
    ({"message_ids": " ".join(f"id{n}" for n in range(251)), "target": "faq:1"}, "The list of questions was damaged"),
    ({"message_ids": "m000aaaaaaaaaaaaaaaaaaaa", "target": "faq:one"}, "The chosen answer was damaged"),
    ({"message_ids": "m000aaaaaaaaaaaaaaaaaaaa", "target": "page:12"}, "The chosen answer was damaged"),
    ({"message_ids": "m000aaaaaaaaaaaaaaaaaaaa", "target": "faq:²"}, "The chosen answer was damaged"),
    ({"message_ids": "m000aaaaaaaaaaaaaaaaaaaa", "target": "faq:" + "9" * 30}, "The chosen answer was damaged"),
    ({"message_ids": "m000aaaaaaaaaaaaaaaaaaaa"}, "Choose an answer."),
])
def test_damaged_forms_change_nothing_and_say_so(staff, parking, wf, fields, message):
    assert message in shown(staff.post("/admin/inbox/answer", fields, follow_redirects=True))
    assert set(parking.message_ids) <= open_ids(wf)


def test_an_unknown_entry_or_passage_is_a_clear_message(staff, parking, wf):
    fields = {"message_ids": " ".join(parking.message_ids)}
    page = shown(staff.post("/admin/inbox/answer", {**fields, "target": "faq:999"}, follow_redirects=True))
    assert "Nothing changed: there is no FAQ entry 999" in page
    page = shown(staff.post("/admin/inbox/answer", {**fields, "target": "passage:0123456789abcdef"},
                              follow_redirects=True))
    assert "Nothing changed:" in page and "0123456789abcdef" in page
    assert set(parking.message_ids) <= open_ids(wf)


def test_odd_searches_show_the_group_page(staff, parking):
    for query in ("???", "\x00\x01", "needles " * 100, "<script>alert(1)</script>", "é€😀"):
        response = staff.get(f"/admin/inbox/{parking.key}", query_string={"q": query})
        assert response.status_code == 200, query
        assert "<script>alert" not in response.get_data(as_text=True)
