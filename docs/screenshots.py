"""Take the README's screenshots of the widget (desktop and 360 px phone).

    .venv/bin/python docs/screenshots.py

Needs Playwright for Python and Debian's Chromium (`apt-get install chromium`).
Serves the demo page on 127.0.0.1 from a temporary index and database.
"""
from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from chatbot import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def conversation(page, questions: list[str]) -> None:
    page.get_by_role("button", name="Open chat").click()
    frame = page.frame_locator("#acu-chat-frame")
    replies = frame.locator(".msg.bot:not(.greeting):not(.typing)")
    for question in questions:
        count = replies.count()
        frame.get_by_label("Your question").fill(question)
        frame.get_by_label("Your question").press("Enter")
        replies.nth(count).wait_for()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"CHATBOT_INDEX_DIR": f"{tmp}/index", "CHATBOT_DATABASE_URL": f"sqlite:///{tmp}/c.db",
                          "CHATBOT_RATE_LIMIT": "off", "CHATBOT_LOG_LEVEL": "WARNING"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            desktop = browser.new_page(viewport={"width": 1280, "height": 800})
            desktop.goto(url)
            conversation(desktop, ["How long do the needles stay in?"])
            desktop.screenshot(path=str(ROOT / "docs" / "widget-desktop.png"))
            phone = browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=2)
            phone.goto(url)
            conversation(phone, ["I fell off a ladder and now my back hurts terribly"])
            phone.screenshot(path=str(ROOT / "docs" / "widget-mobile.png"))
            browser.close()
        server.shutdown()
        app.extensions["chatbot"].live_index.stop()
    print("wrote docs/widget-desktop.png and docs/widget-mobile.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
