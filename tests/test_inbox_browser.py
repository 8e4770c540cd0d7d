"""Learning from visitors in a real browser: Debian's Chromium driven by Playwright.

The widget's "No" opens a one-line comment box; a visitor's unanswered
questions reach the staff inbox as one group, a staff member picks the
answer, retrains and publishes through the pages, and the widget then
answers a new wording. The app runs over a small corpus of the test's own
(two documents, the project's urgent and smalltalk rules), so a build takes
seconds. Skipped, with the reason, when Playwright or Chromium is missing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from browser import serving
from chatbot import close_app, create_app
from chatbot.corpus.files import SMALLTALK_FILE, URGENT_FILE
from chatbot.staff.roles import COMMAND_LINE

EMAIL = "anna@example.com"
PASSWORD = "correct horse battery"
BUILD_TIMEOUT_MS = 60_000
PROJECT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DOCUMENTS = ("acupuncture-for-chronic-back-pain.txt", "can-acupuncture-help-back-pain.txt")

PARKING_QUESTION = "Is there parking at the clinic?"
PARKING_ANSWER = "Free parking is behind the clinic building; the entrance is on Mill Lane."
# Wordings of the same question that share no word with the entry: the bot does not know them yet.
PARAPHRASES = ("where do I leave my car during the visit",
               "where can I leave the car when I come",
               "can I leave my car near you")
FOURTH_PARAPHRASE = "where should I leave my car"


def small_corpus(folder: Path) -> Path:
    """Two of the project's documents and its urgent and smalltalk rules."""
    (folder / "documents").mkdir(parents=True)
    for name in DOCUMENTS:
        shutil.copy(PROJECT_CORPUS / "documents" / name, folder / "documents" / name)
    for name in (URGENT_FILE, SMALLTALK_FILE):
        shutil.copy(PROJECT_CORPUS / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app over the small corpus, with one staff account and the parking entry published."""
    folder = tmp_path_factory.mktemp("inbox-browser")
    app = create_app({"CHATBOT_CORPUS_DIR": str(small_corpus(folder / "corpus")),
                      "CHATBOT_INDEX_DIR": str(folder / "index"), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_SECRET_KEY": "inbox-browser-test-key-" + "x" * 48,
                      "CHATBOT_SERVER_STATE_DIR": str(folder / "server-state"),
                      "CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'chatbot.db'}", "CHATBOT_LOG_LEVEL": "WARNING"})
    workspace = app.extensions["chatbot_workspace"]
    workspace.accounts.create(EMAIL, PASSWORD)
    workspace.knowledge.add_faq(question=PARKING_QUESTION, answer=PARKING_ANSWER, alternates=(), author=EMAIL)
    workspace.publish(workspace.build(EMAIL), COMMAND_LINE)
    with serving(app) as url:
        yield app, url
    close_app(app)  # the chat log writer, builds started through the pages, the watcher, connections


def watched_page(browser):
    """A page in a fresh context (own cookies and storage) that collects console errors, CSP
    violations included, and the bodies of the feedback it sends."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.console_errors, page.feedback = [], []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("request", lambda request: request.url.endswith("/api/feedback")
            and page.feedback.append(request.post_data_json))
    return page


@pytest.fixture
def page(browser, server):
    page = watched_page(browser)
    yield page
    page.context.close()


def open_panel(page, base: str):
    page.goto(base + "/")
    page.get_by_role("button", name="Open chat").click()
    frame = page.frame_locator("#acu-chat-frame")
    frame.get_by_label("Your question").wait_for()
    return frame


def ask(frame, question: str, kind: str):
    """Ask `question` and return the reply bubble, which must be of `kind`."""
    count = frame.locator(".msg.bot:not(.greeting)").count()
    box = frame.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    reply = frame.locator(".msg.bot:not(.greeting):not(.typing)").nth(count)
    reply.wait_for()
    assert kind in reply.get_attribute("class").split(), (question, reply.inner_text())
    return reply


def log_in(page, base: str) -> None:
    page.goto(base + "/admin/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_not_helpful_opens_a_comment_line_sent_from_the_keyboard(page, server):
    frame = open_panel(page, server[1])
    ask(frame, "Are acupuncture needles sterile?", "answer")
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")):
        frame.get_by_role("button", name="No, not helpful").click()
    line = frame.get_by_label("What were you looking for? (optional)")
    line.wait_for()
    assert line.evaluate("element => element === document.activeElement")
    assert line.get_attribute("maxlength") == "1000"
    assert "what you were looking for" in frame.locator("#status").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as response:
        page.keyboard.type("the price of a session")
        page.keyboard.press("Enter")
    assert response.value.status == 204
    assert page.feedback == [{"message_id": page.feedback[0]["message_id"], "helpful": False},
                             {"message_id": page.feedback[0]["message_id"], "helpful": False,
                              "comment": "the price of a session"}]
    assert frame.get_by_text("Thank you, your comment was sent.").is_visible()
    assert frame.locator(".comment").count() == 0
    assert frame.get_by_label("Your question").evaluate("element => element === document.activeElement")
    assert page.console_errors == []


def test_skipping_the_comment_sends_nothing_more(page, server):
    frame = open_panel(page, server[1])
    ask(frame, "Are acupuncture needles sterile?", "answer")
    frame.get_by_role("button", name="No, not helpful").click()
    frame.get_by_role("button", name="Skip comment").click()
    assert frame.locator(".comment").count() == 0
    assert frame.get_by_text("Thank you for your feedback.").first.is_visible()
    ask(frame, PARKING_QUESTION, "answer")  # a comment would have been sent before this question
    assert [body.get("comment") for body in page.feedback] == [None]
    assert frame.get_by_role("button", name="No, not helpful").count() == 1  # the new reply's, not the old one's


def reload_until(page, condition, tries: int = 40) -> None:
    """Reload `page` until `condition()` holds: the chat log is written by a background thread."""
    for _ in range(tries):
        if condition():
            return
        page.wait_for_timeout(250)
        page.reload()
    raise AssertionError(f"{page.url}: still not there after {tries} reloads")


def wait_for_build(page, base: str, version: str) -> None:
    """Poll the build's status.json (with the staff member's cookies) until it is a candidate."""
    for _ in range(BUILD_TIMEOUT_MS // 250):
        status = page.request.get(f"{base}/admin/versions/{version}/status.json").json()
        assert status["status"] != "failed", status
        if status["status"] == "candidate":
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the build {version} did not finish: {status}")


def test_staff_teach_the_bot_what_visitors_asked_and_the_widget_answers_a_new_wording(page, browser, server):
    base = server[1]
    frame = open_panel(page, base)
    for question in PARAPHRASES:
        reply = ask(frame, question, "no_answer")
    reply.get_by_role("button", name="No, not helpful").click()
    frame.get_by_label("What were you looking for? (optional)").fill("where to park, mail me at jo@example.com")
    frame.get_by_role("button", name="Send comment").click()

    staff = watched_page(browser)  # a second browser context: the staff member's own cookies
    log_in(staff, base)
    staff.get_by_role("navigation", name="Workspace").get_by_role("link", name="Questions to review").click()
    staff.get_by_role("heading", name="Questions to review", level=1).wait_for()
    group = staff.locator("article").filter(has_text=PARAPHRASES[0])
    reload_until(staff, lambda: "where to park" in (group.inner_text() if group.count() else ""))
    assert group.count() == 1
    for question in PARAPHRASES:  # one group: the three wordings together
        assert question in group.inner_text()
    assert "3 questions" in group.inner_text()
    assert "where to park, mail me at [email]" in group.inner_text()  # the comment, redacted
    assert "jo@example.com" not in staff.content()

    group.get_by_role("link", name="Find another answer…").click()
    staff.get_by_label("Search passages and FAQ entries").fill("parking")
    staff.get_by_role("button", name="Search").click()
    staff.get_by_role("button", name=f"This answers it: “{PARKING_QUESTION}”").click()
    staff.get_by_text(f"Taught 3 new wordings to “{PARKING_QUESTION}”").wait_for()
    assert staff.locator("article").filter(has_text=PARAPHRASES[0]).count() == 0

    staff.get_by_role("link", name="Retrain & versions").click()
    staff.get_by_role("button", name="Retrain now").click()
    version = staff.url.rstrip("/").rsplit("/", 1)[-1]
    wait_for_build(staff, base, version)
    staff.goto(f"{base}/admin/versions/{version}")
    staff.get_by_role("button", name="Publish").click()
    staff.locator(".alert.success").wait_for()
    assert server[0].extensions["chatbot"].bot()[0].version == version
    assert staff.console_errors == []
    staff.context.close()

    answer = ask(frame, FOURTH_PARAPHRASE, "answer")
    assert "Mill Lane" in answer.inner_text()
    assert page.console_errors == []


def assert_fits(page) -> None:
    """One h1, and nothing wider than the window."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    assert page.locator("h1").count() == 1, page.url


def test_the_inbox_pages_fit_a_tablet_and_run_without_console_errors(browser, server):
    base = server[1]
    staff = watched_page(browser)
    staff.set_viewport_size({"width": 768, "height": 1024})
    reply = staff.request.post(base + "/api/chat", data={"message": "do you sell gift vouchers"}).json()
    assert reply["kind"] == "no_answer"
    log_in(staff, base)
    staff.goto(base + "/admin/inbox")
    group = staff.locator("article").filter(has_text="do you sell gift vouchers")
    reload_until(staff, lambda: group.count() == 1)
    assert_fits(staff)
    group.get_by_role("link", name="Find another answer…").click()
    staff.get_by_role("heading", name="This is answered by…").wait_for()
    assert_fits(staff)
    staff.go_back()
    group.get_by_role("link", name="Write a new answer").click()
    assert staff.get_by_label("Question", exact=True).input_value() == "do you sell gift vouchers"
    assert_fits(staff)
    assert staff.console_errors == []
    staff.context.close()
