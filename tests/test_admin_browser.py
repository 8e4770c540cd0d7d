"""The staff workspace in a real browser: Debian's Chromium driven by Playwright.

Skipped, with the reason, when Playwright or Chromium is not installed
(`.ci/run` installs both). The server runs on 127.0.0.1 in a thread, over its
own copy of the index folder, so a build here touches no other test's index.
"""
from __future__ import annotations

import shutil

import pytest

from browser import serving
from chatbot import create_app

EMAIL = "anna@example.com"
PASSWORD = "correct horse battery"
BUILD_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_index_dir):
    """A real HTTP server with the app and one staff account on 127.0.0.1 (random port)."""
    folder = tmp_path_factory.mktemp("admin-browser")
    shutil.copytree(shared_index_dir, folder / "index")
    app = create_app({"CHATBOT_INDEX_DIR": str(folder / "index"), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_SECRET_KEY": "browser-test-key-" + "x" * 48,
                      "CHATBOT_SERVER_STATE_DIR": str(folder / "server-state"),
                      "CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'chatbot.db'}", "CHATBOT_LOG_LEVEL": "WARNING"})
    app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
    with serving(app) as url:
        yield app, url
    app.extensions["chatbot_workspace"].close(timeout=BUILD_TIMEOUT_MS / 1000)  # builds started through the pages
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()


def new_page(browser, width: int, height: int):
    """A fresh page (own cookies) that collects console errors, CSP violations included."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


@pytest.fixture
def laptop(browser):
    page = new_page(browser, 1280, 800)
    yield page
    page.context.close()


@pytest.fixture
def tablet(browser):
    page = new_page(browser, 768, 1024)
    yield page
    page.context.close()


def log_in(page, base: str) -> None:
    page.goto(base + "/admin/")
    page.get_by_role("heading", name="Log in").wait_for()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_staff_add_an_answer_retrain_publish_and_visitors_see_it_in_the_widget(laptop, server):
    page, base = laptop, server[1]
    log_in(page, base)

    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Knowledge").click()
    page.get_by_role("link", name="Add an FAQ entry").click()
    page.get_by_label("Question", exact=True).fill("Can I bring my zebra to the clinic?")
    page.get_by_label("Other ways visitors ask it (one per line)").fill("zebra visit\nzebras at the clinic")
    page.get_by_label("Answer").fill("Zebras wait in the paddock next to the car park during treatment.")
    page.get_by_role("button", name="Add entry").click()
    page.get_by_text("Added the FAQ entry").wait_for()

    page.get_by_role("link", name="Retrain & versions").click()
    page.get_by_role("button", name="Retrain now").click()
    page.get_by_role("progressbar").or_(page.get_by_role("heading", name="What was built")).first.wait_for()
    # The version page refreshes itself (meta refresh) until the candidate is ready.
    page.get_by_role("heading", name="What was built").wait_for(timeout=BUILD_TIMEOUT_MS)
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Every server answers with it").wait_for()

    page.goto(base + "/")
    page.get_by_role("button", name="Open chat").click()
    frame = page.frame_locator("#acu-chat-frame")
    box = frame.get_by_label("Your question")
    box.fill("Can I bring my zebra to the clinic?")
    box.press("Enter")
    answer = frame.locator(".msg.bot.answer").last
    answer.wait_for()
    assert "paddock" in answer.inner_text()
    assert page.console_errors == []


def test_the_workspace_fits_a_tablet_and_runs_without_console_errors(tablet, server):
    page, base = tablet, server[1]
    log_in(page, base)
    for path in ("/admin/", "/admin/knowledge", "/admin/faq/new", "/admin/pages/upload", "/admin/checks",
                 "/admin/try", "/admin/versions", "/admin/audit"):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert page.locator("h1").count() == 1, path
    assert page.console_errors == []


def test_keyboard_users_skip_to_the_content_and_see_where_the_focus_is(laptop, server):
    page, base = laptop, server[1]
    log_in(page, base)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
