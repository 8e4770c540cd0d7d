"""What a chat request skips to cost less, and what it must still do.

The rules files are read once per index version, not per message (tests/test_workspace.py);
the API opens no session; the visitor limit is counted once per request (and not at all
when it is "off"); the security headers are exactly those of before.
"""
from __future__ import annotations

import pytest
from flask import session

from chatbot import create_app
from chatbot.web.security import API_CSP

# -- sessions: none on the API ------------------------------------------------------

def test_the_api_opens_no_session_and_the_workspace_does(app):
    interface = app.session_interface
    with app.test_request_context("/api/chat", method="POST"):
        assert interface.is_null_session(session)
        assert session.get("_user_id") is None
    with app.test_request_context("/admin/login"):
        assert not interface.is_null_session(session)


def test_an_api_reply_sets_no_cookie_even_when_one_is_sent(client):
    client.set_cookie("session", "anything")
    response = client.post("/api/chat", json={"message": "Does acupuncture hurt?"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")


# -- the visitor limit ----------------------------------------------------------------

def test_a_chat_is_counted_once_against_the_visitor_limit(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "3/minute",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/chatbot.db",
                      "CHATBOT_SPOOL_DIR": str(tmp_path / "spool")})
    try:
        client = app.test_client()
        replies = [client.post("/api/chat", json={"message": "hello"}) for _ in range(4)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in replies[:3]] == ["2", "1", "0"]
        assert all(r.headers["X-RateLimit-Limit"] == "3" for r in replies)
    finally:
        app.extensions["chatbot_chat_log"].close()
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


def test_with_the_visitor_limit_off_chat_and_feedback_carry_no_limit(client):
    replies = [client.post("/api/chat", json={"message": "hello"}) for _ in range(5)]
    assert all(r.status_code == 200 and "X-RateLimit-Limit" not in r.headers for r in replies)
    feedback = client.post("/api/feedback", json={"message_id": replies[0].get_json()["message_id"],
                                                   "helpful": True})
    assert feedback.status_code == 204 and "X-RateLimit-Limit" not in feedback.headers


# -- security headers: exactly as before ------------------------------------------------

PAGE = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-src 'self'; frame-ancestors {}")
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}


@pytest.mark.parametrize("method, path, body, expected", [
    ("GET", "/api/health", None, {"Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}),
    ("POST", "/api/chat", {"message": "hello"}, {"Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}),
    ("POST", "/api/chat", {"message": 5}, {"Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}),
    ("GET", "/api/nothing-here", None, {"Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}),
    ("GET", "/", None, {"Content-Security-Policy": PAGE.format("'self'"), "Cache-Control": None}),
    ("GET", "/widget/frame", None, {"Content-Security-Policy": PAGE.format("'self' https://clinic.example"),
                                    "Cache-Control": None}),
    # Staff pages are never kept in a cache (chatbot/admin/blueprint.py).
    ("GET", "/admin/login", None, {"Content-Security-Policy": PAGE.format("'self'"), "Cache-Control": "no-store"}),
])
def test_every_response_carries_exactly_its_security_headers(tmp_path, shared_index_dir, method, path, body,
                                                             expected):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/chatbot.db",
                      "CHATBOT_SPOOL_DIR": str(tmp_path / "spool"),
                      "CHATBOT_FRAME_ANCESTORS": "'self' https://clinic.example"})
    try:
        response = app.test_client().open(path, method=method, json=body)
        for name, value in {**COMMON, **expected}.items():
            assert response.headers.get(name) == value, name
            assert len(response.headers.getlist(name)) == (value is not None), name
    finally:
        if "chatbot_chat_log" in app.extensions:
            app.extensions["chatbot_chat_log"].close()
        app.extensions["chatbot"].live_index.stop()
        app.extensions["chatbot"].storage.dispose()


def test_a_header_the_view_sets_itself_is_kept(app):
    @app.get("/api/test-own-cache-control")
    def own_cache_control():
        return {"ok": True}, 200, {"Cache-Control": "private, max-age=5"}

    response = app.test_client().get("/api/test-own-cache-control")
    assert response.headers.getlist("Cache-Control") == ["private, max-age=5"]
    assert response.headers["Content-Security-Policy"] == API_CSP
