"""The chat API contract: replies, kinds, errors, feedback, health, OpenAPI."""
from __future__ import annotations

import json
import logging

import jsonschema
import pytest

from chatbot import create_app
from chatbot.web.openapi import openapi_document

BAD_REQUESTS = [
    # (description, body, content type, status, error code)
    ("malformed JSON", b'{"message": "hi"', "application/json", 400, "invalid_json"),
    ("not UTF-8", b'{"message": "\xff\xfe"}', "application/json", 400, "invalid_json"),
    ("JSON array", b'["hello"]', "application/json", 400, "invalid_json"),
    ("JSON string", b'"hello"', "application/json", 400, "invalid_json"),
    ("form post", b"message=hello", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("plain text", b"hello", "text/plain", 415, "unsupported_media_type"),
    ("no message", b'{"session_id": "abc"}', "application/json", 400, "missing_message"),
    ("null message", b'{"message": null}', "application/json", 400, "missing_message"),
    ("blank message", b'{"message": "   \\n\\t "}', "application/json", 400, "blank_message"),
    ("only NUL", b'{"message": "\\u0000\\u0000"}', "application/json", 400, "blank_message"),
    ("too long", json.dumps({"message": "a" * 1001}).encode(), "application/json", 400, "message_too_long"),
    ("number message", b'{"message": 42}', "application/json", 400, "invalid_message"),
    ("list message", b'{"message": ["hi"]}', "application/json", 400, "invalid_message"),
    ("bad session id", b'{"message": "hi", "session_id": "a b"}', "application/json", 400, "invalid_session_id"),
    ("long session id", json.dumps({"message": "hi", "session_id": "a" * 65}).encode(), "application/json", 400,
     "invalid_session_id"),
    ("number session id", b'{"message": "hi", "session_id": 7}', "application/json", 400, "invalid_session_id"),
    ("top_k zero", b'{"message": "hi", "top_k": 0}', "application/json", 400, "invalid_top_k"),
    ("top_k eleven", b'{"message": "hi", "top_k": 11}', "application/json", 400, "invalid_top_k"),
    ("top_k string", b'{"message": "hi", "top_k": "3"}', "application/json", 400, "invalid_top_k"),
    ("top_k bool", b'{"message": "hi", "top_k": true}', "application/json", 400, "invalid_top_k"),
    ("top_k float", b'{"message": "hi", "top_k": 2.5}', "application/json", 400, "invalid_top_k"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "application/json", 413, "payload_too_large"),
    ("2 MB body", json.dumps({"message": "a" * 2_000_000}).encode(), "application/json", 413, "payload_too_large"),
]


def validate(document: dict, schema_name: str, instance) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.validate(instance, schema)


@pytest.mark.parametrize("description, body, content_type, status, code", BAD_REQUESTS,
                         ids=[r[0] for r in BAD_REQUESTS])
def test_bad_chat_requests_get_a_clear_json_error(client, description, body, content_type, status, code):
    response = client.post("/api/chat", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json() == {"error": {"code": code, "message": response.get_json()["error"]["message"]}}
    assert response.get_json()["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_every_error_uses_the_one_json_shape(client):
    for response in (client.get("/api/nowhere"), client.get("/api/chat"), client.put("/api/feedback")):
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}


def test_wrong_method_gets_405_with_allow(client):
    response = client.get("/api/chat")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("message", [
    "what about \ud800 lone surrogates?", "right\u202eto\u202cleft marks", "nul\u0000in the middle",
    "\u200f\u05e9\u05dc\u05d5\u05dd acupuncture", "emoji \U0001f600 and needles", "<script>alert(1)</script>",
])
def test_odd_characters_never_break_a_reply(client, message):
    response = client.post("/api/chat", data=json.dumps({"message": message}), content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["kind"] in {"answer", "no_answer", "urgent", "smalltalk"}


def test_unknown_fields_are_ignored(client):
    response = client.post("/api/chat", json={"message": "Are acupuncture needles sterile?", "colour": "blue"})
    assert response.status_code == 200


def test_an_answer_names_its_source_and_matches_the_openapi_schema(client):
    response = client.post("/api/chat", json={"message": "Are acupuncture needles sterile?", "session_id": "s-1"})
    body = response.get_json()
    validate(openapi_document(), "ChatResponse", body)
    assert body["kind"] == "answer"
    best = body["passages"][0]
    assert "sterile" in best["text"].lower()
    assert best["highlight"] and best["highlight"] in best["text"]
    assert best["source"]["title"] in body["reply"]
    assert "not medical advice" in body["reply"]
    assert len(body["passages"]) == 3 and [p["score"] for p in body["passages"]] == sorted(
        (p["score"] for p in body["passages"]), reverse=True)


def test_top_k_sets_the_number_of_passages(client):
    body = client.post("/api/chat", json={"message": "What are the risks of acupuncture?", "top_k": 5}).get_json()
    assert len(body["passages"]) == 5


def test_an_off_topic_question_gets_no_answer_with_candidates_and_the_contact_text(client, app):
    body = client.post("/api/chat", json={"message": "What's the weather in Seattle tomorrow?"}).get_json()
    assert body["kind"] == "no_answer"
    assert app.config["CHATBOT_CONTACT_TEXT"] in body["reply"]
    validate(openapi_document(), "ChatResponse", body)


def test_warning_signs_get_an_urgent_reply_without_passages(client):
    body = client.post("/api/chat", json={"message": "I fell off a ladder and now my back hurts terribly"}).get_json()
    assert body["kind"] == "urgent" and body["passages"] == []
    assert "911" in body["reply"] or "emergency" in body["reply"].lower()


def test_a_greeting_gets_smalltalk(client):
    body = client.post("/api/chat", json={"message": "good morning"}).get_json()
    assert body["kind"] == "smalltalk" and body["passages"] == []
    assert "acupuncture" in body["reply"].lower()


def test_the_reply_is_plain_text_not_html(client):
    body = client.post("/api/chat", json={"message": "<b>Are needles sterile?</b>"}).get_json()
    assert "<" not in body["reply"]


def test_feedback_on_a_reply_is_recorded(client, app):
    message_id = client.post("/api/chat", json={"message": "Is acupuncture painful?"}).get_json()["message_id"]
    response = client.post("/api/feedback", json={"message_id": message_id, "helpful": True, "comment": "Thanks"})
    assert response.status_code == 204 and response.data == b""


@pytest.mark.parametrize("body, status, code", [
    ({"message_id": "0" * 32, "helpful": True}, 404, "unknown_message"),
    ({"message_id": "abc"}, 400, "invalid_helpful"),
    ({"message_id": "abc", "helpful": "yes"}, 400, "invalid_helpful"),
    ({"helpful": True}, 400, "invalid_message_id"),
    ({"message_id": "../etc", "helpful": True}, 400, "invalid_message_id"),
    ({"message_id": "abc", "helpful": False, "comment": 5}, 400, "invalid_comment"),
    ({"message_id": "abc", "helpful": False, "comment": "x" * 1001}, 400, "comment_too_long"),
])
def test_bad_feedback_gets_a_clear_error(client, body, status, code):
    response = client.post("/api/feedback", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_health_reports_the_index_and_the_database(client):
    body = client.get("/api/health").get_json()
    validate(openapi_document(), "Health", body)
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["documents"] == 5 and body["passages"] > 50


def test_chat_still_answers_when_the_database_is_down(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/chatbot.db",
                      "CHATBOT_SPOOL_DIR": str(tmp_path / "spool")})
    client = app.test_client()
    body = client.post("/api/chat", json={"message": "Are acupuncture needles sterile?"}).get_json()
    assert body["kind"] == "answer"
    # Feedback on that reply is accepted: its id is checked by its signature, and it is kept for later.
    feedback = client.post("/api/feedback", json={"message_id": body["message_id"], "helpful": True})
    assert feedback.status_code == 204
    assert app.extensions["chatbot_chat_log"].flush()
    health = client.get("/api/health").get_json()
    validate(openapi_document(), "Health", health)
    assert health["status"] == "degraded" and health["database"] == "unavailable" and health["spool"] == 2
    app.extensions["chatbot_chat_log"].close()


def test_rate_limit_answers_429_with_retry_after(tmp_path, shared_index_dir):
    app = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "2/minute",
                      "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/chatbot.db"})
    client = app.test_client()
    statuses = [client.post("/api/chat", json={"message": "hello"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.post("/api/chat", json={"message": "hello"})
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_logs_never_contain_the_visitors_words(client, caplog):
    secret = "zebrafish-marmalade question about my neighbour"
    with caplog.at_level(logging.DEBUG):
        client.post("/api/chat", json={"message": secret})
    assert caplog.records
    assert all("zebrafish" not in record.getMessage() for record in caplog.records)


def test_security_headers_are_on_api_responses(client):
    response = client.get("/api/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response.headers and "Content-Security-Policy" in response.headers


# -- OpenAPI ------------------------------------------------------------------

def test_openapi_document_is_served_and_describes_every_api_route(client, app):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented


def test_openapi_error_responses_match_real_errors(client):
    document = openapi_document()
    response = client.post("/api/chat", data=b"{", content_type="application/json")
    validate(document, "Error", response.get_json())
    assert "400" in document["paths"]["/api/chat"]["post"]["responses"]


def test_openapi_request_schema_accepts_what_the_endpoint_accepts(client):
    document = openapi_document()
    for body in ({"message": "hi"}, {"message": "hi", "session_id": "a_b-9", "top_k": 10}):
        validate(document, "ChatRequest", body)
        assert client.post("/api/chat", json=body).status_code == 200
    for body in ({"message": "hi", "top_k": 0}, {"session_id": "x"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(document, "ChatRequest", body)
        assert client.post("/api/chat", json=body).status_code == 400


def test_purge_command_deletes_old_exchanges(runner, client, app):
    from datetime import datetime, timedelta, timezone

    from chatbot.storage import Exchange
    storage = app.extensions["chatbot"].storage
    old = datetime.now(timezone.utc) - timedelta(days=120)
    storage.record_exchange(Exchange("old0message", None, "an old question", "answer", (), (), "v1", old))
    client.post("/api/chat", json={"message": "Are needles sterile?"})
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "Deleted 1 exchange" in result.output
