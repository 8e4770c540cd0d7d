"""The widget in a real browser: Debian's Chromium driven by Playwright.

Skipped, with the reason, when Playwright or Chromium is not installed
(`.ci/run` installs both). The server runs on 127.0.0.1 in a thread.
"""
from __future__ import annotations

import pytest

from browser import serving
from chatbot import create_app


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_index_dir):
    """A real HTTP server with the app on 127.0.0.1 (random port)."""
    folder = tmp_path_factory.mktemp("browser")
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'chatbot.db'}", "CHATBOT_LOG_LEVEL": "WARNING"})
    with serving(app) as url:
        yield app, url
    app.extensions["chatbot"].live_index.stop()


@pytest.fixture
def page(browser, server):
    """A fresh page (own storage) on the demo site; collects console errors and every request."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.console_errors, page.requests = [], []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    context.on("request", lambda request: page.requests.append(request.url))
    page.goto(server[1] + "/")
    yield page
    context.close()


def open_panel(page):
    page.get_by_role("button", name="Open chat").click()
    frame = page.frame_locator("#acu-chat-frame")
    frame.get_by_label("Your question").wait_for()
    return frame


def ask(frame, question: str) -> None:
    box = frame.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_a_visitor_opens_the_chat_asks_and_sees_the_answer_with_its_source(page):
    frame = open_panel(page)
    ask(frame, "Are acupuncture needles sterile?")
    answer = frame.locator(".msg.bot.answer").last
    answer.wait_for()
    assert "sterile" in answer.locator("mark").first.inner_text().lower()
    assert "Source:" in answer.locator(".source").first.inner_text()
    answer.get_by_text("More from the sources").click()
    assert answer.locator(".more .passage").count() >= 1
    assert page.console_errors == []


def test_warning_signs_are_shown_as_an_alert(page):
    frame = open_panel(page)
    ask(frame, "I suddenly can't feel my legs and my back is killing me")
    alert = frame.get_by_role("alert")
    alert.wait_for()
    assert "emergency" in alert.inner_text().lower()
    assert "urgent" in alert.get_attribute("class")


def test_an_unanswerable_question_shows_the_contact_text_and_what_may_help(page, server):
    frame = open_panel(page)
    ask(frame, "What are the symptoms of the flu?")
    reply = frame.locator(".msg.bot.no_answer").last
    reply.wait_for()
    assert server[0].config["CHATBOT_CONTACT_TEXT"] in reply.inner_text()
    assert reply.get_by_text("These may help:").is_visible()


def test_feedback_is_sent_and_thanked(page, server):
    frame = open_panel(page)
    ask(frame, "How long do the needles stay in?")
    frame.locator(".msg.bot.answer").last.wait_for()
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as response:
        frame.get_by_role("button", name="Yes, helpful").click()
    assert response.value.status == 204
    assert frame.get_by_text("Thank you for your feedback.").first.is_visible()


def test_injected_markup_is_shown_as_text_and_never_runs(page):
    frame = open_panel(page)
    attack = '<img src=x onerror="window.top.__pwned=1"><script>window.top.__pwned=2</script>'
    ask(frame, attack)
    frame.locator(".msg.bot:not(.greeting):not(.typing)").last.wait_for()
    assert frame.locator(".msg.user").last.inner_text() == attack
    assert frame.locator("#log img, #log script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_the_conversation_survives_a_reload(page):
    frame = open_panel(page)
    ask(frame, "What is an acupoint?")
    frame.locator(".msg.bot.answer").last.wait_for()
    page.reload()
    frame = page.frame_locator("#acu-chat-frame")
    frame.locator(".msg.user").first.wait_for()
    assert frame.locator(".msg.user").first.inner_text() == "What is an acupoint?"
    frame.get_by_role("button", name="New").click()
    assert frame.locator(".msg.user").count() == 0


def wait_until_true(page, expression: str, tries: int = 100) -> None:
    """Poll `expression` in the page from here: the demo page's CSP forbids the
    eval that Playwright's wait_for_function needs once it has to poll."""
    for _ in range(tries):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {tries / 10:.0f} s: {expression}")


def test_keyboard_only_open_send_and_escape_back_to_the_launcher(page):
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement && document.activeElement.className") == "acu-chat-launcher":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    frame = page.frame_locator("#acu-chat-frame")
    box = frame.get_by_label("Your question")
    box.wait_for()
    wait_until_true(page, "document.activeElement && document.activeElement.id === 'acu-chat-frame'")
    page.keyboard.type("Will it sting?")
    page.keyboard.press("Enter")
    frame.locator(".msg.bot.answer").last.wait_for()
    page.keyboard.press("Escape")
    wait_until_true(page, "document.activeElement && document.activeElement.className === 'acu-chat-launcher'")
    assert page.get_by_role("button", name="Open chat").get_attribute("aria-expanded") == "false"


def test_the_panel_fills_a_360_pixel_screen(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(server[1] + "/")
    frame = open_panel(page)
    box = page.locator("#acu-chat-frame").bounding_box()
    assert box["width"] == 360 and box["height"] == 740
    send = frame.get_by_role("button", name="Send").bounding_box()
    assert send["x"] + send["width"] <= 360
    context.close()


def test_no_request_leaves_the_bots_origin(page, server):
    frame = open_panel(page)
    ask(frame, "Can cupping be combined with acupuncture?")
    frame.locator(".msg.bot.answer").last.wait_for()
    assert page.requests and all(url.startswith(server[1] + "/") for url in page.requests)
    assert page.console_errors == []


def test_a_rate_limit_or_a_network_error_shows_a_friendly_retry(page):
    frame = open_panel(page)
    page.route("**/api/chat", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "20", "Content-Type": "application/json"},
        body='{"error": {"code": "rate_limited", "message": "Too many requests"}}'))
    ask(frame, "Does acupuncture hurt?")
    frame.get_by_text("Please wait 20 seconds").first.wait_for()
    assert frame.locator(".typing").count() == 0
    page.unroute("**/api/chat")
    page.route("**/api/chat", lambda route: route.abort())
    frame.get_by_role("button", name="Try again").click()
    frame.get_by_text("could not reach the assistant").first.wait_for()
    assert frame.locator(".typing").count() == 0
    page.unroute("**/api/chat")
    frame.get_by_role("button", name="Try again").click()
    frame.locator(".msg.bot.answer").last.wait_for()


def test_the_question_box_waits_for_the_script_so_nothing_typed_is_lost(page):
    page.route("**/static/frame.js*", lambda route: route.abort())
    page.get_by_role("button", name="Open chat").click()
    box = page.frame_locator("#acu-chat-frame").get_by_label("Your question")
    box.wait_for()
    assert box.is_disabled() and page.frame_locator("#acu-chat-frame").get_by_role("button", name="Send").is_disabled()
