"""The widget's pages and files, without a browser: routes, headers, size, safety."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot import create_app

STATIC = Path(__file__).resolve().parents[1] / "chatbot" / "web" / "static"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
WIDGET_FILES = ["widget.js", "widget.css", "frame.js", "frame.css"]


def test_the_demo_page_embeds_the_widget_with_one_script_tag(client):
    page = client.get("/").get_data(as_text=True)
    assert len(re.findall(r"<script\b", page)) == 1
    assert re.search(r'<script src="/widget.js" defer', page)


@pytest.mark.parametrize("path, mimetype", [
    ("/widget.js", "text/javascript"), ("/widget.css", "text/css"), ("/favicon.ico", "image/svg+xml"),
    ("/static/frame.js", "text/javascript"), ("/static/frame.css", "text/css"),
])
def test_widget_files_are_served_with_their_type(client, path, mimetype):
    with client.get(path) as response:
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_carry_a_strict_content_security_policy(client):
    for path in ("/", "/widget/frame"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert "default-src 'none'" in csp


def test_only_the_panel_may_be_framed_and_only_by_the_allowed_sites(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
                      "CHATBOT_FRAME_ANCESTORS": "'self' https://www.example-clinic.com"})
    client = app.test_client()
    assert "frame-ancestors 'self' https://www.example-clinic.com" in \
        client.get("/widget/frame").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.get("/api/health").headers["Content-Security-Policy"]
    app.extensions["chatbot"].live_index.stop()


def test_page_options_are_escaped_and_a_bad_accent_falls_back(client):
    page = client.get("/widget/frame", query_string={"title": "<script>alert(1)</script>",
                                                     "accent": "red;background:url(x)"}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'data-accent="#0f6b62"' in page


def test_widget_code_and_styles_stay_under_30_kb():
    assert sum((STATIC / name).stat().st_size for name in WIDGET_FILES) <= 30_000


@pytest.mark.parametrize("name", ["widget.js", "frame.js"])
def test_widget_scripts_never_write_html(name):
    code = (STATIC / name).read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", code)


def test_no_inline_script_or_style_in_the_templates():
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template.name
        assert "<style" not in html and " style=" not in html and not re.search(r"\bon\w+=", html)


def test_no_third_party_resources_are_referenced():
    for path in [*TEMPLATES.glob("*.html"), *(STATIC / n for n in WIDGET_FILES)]:
        text = re.sub(r"/\*.*?\*/|<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)  # comments
        assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", text), path.name
        assert not re.search(r"@import|url\(\s*[\"']?https?:", text), path.name
