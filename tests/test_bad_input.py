"""Bad input inside the app: huge JSON numbers, chunked bodies past the limit, the limiter's logs,
proxy hops. (What gunicorn itself meets, slow or malformed HTTP, is in test_serving_front.py.)"""
from __future__ import annotations

import io
import json
import logging

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from chatbot import create_app
from chatbot.serving.log_privacy import scrub

HUGE = "9" * 5000


def _app(tmp_path, shared_index_dir, **settings):
    config = {"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path}/chatbot.db",
              "CHATBOT_SERVER_STATE_DIR": str(tmp_path), "CHATBOT_SPOOL_DIR": str(tmp_path / "spool")}
    config.update(settings)
    return create_app(config)


@pytest.mark.parametrize("body", [
    f'{{"message": "hi", "top_k": {HUGE}}}',
    f'{{"message": {HUGE}}}',
    f'{{"message": "hi", "session_id": -{HUGE}}}',
    f'{{"message": "hi", "anything": [{HUGE}]}}',
    f'{{"message": "hi", "nested": {{"deep": {HUGE}}}}}',
])
def test_a_5000_digit_number_in_any_chat_field_is_a_400(client, body):
    response = client.post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "number_too_long"
    assert "100 digits" in response.get_json()["error"]["message"]


def test_a_5000_digit_number_in_feedback_is_a_400(client):
    body = f'{{"message_id": "abc", "helpful": true, "comment": {HUGE}}}'
    response = client.post("/api/feedback", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "number_too_long")


def test_ordinary_numbers_still_parse(client):
    response = client.post("/api/chat", data='{"message": "does it hurt?", "top_k": 5}',
                           content_type="application/json")
    assert response.status_code == 200 and len(response.get_json()["passages"]) <= 5


def _chunked_post(app, body: bytes) -> tuple[int, dict]:
    """POST as gunicorn presents a chunked body: no Content-Length, input terminated by the server
    (past the test client, which would add a Content-Length)."""
    environ = EnvironBuilder(path="/api/chat", method="POST", input_stream=io.BytesIO(body),
                             content_type="application/json").get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    answer, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(answer))


def test_a_chunked_body_over_the_limit_gets_413_instead_of_being_cut(app):
    limit = app.config["CHATBOT_MAX_BODY_BYTES"]
    body = json.dumps({"message": "hi", "padding": "a" * limit}).encode()
    status, answer = _chunked_post(app, body)
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize("padding", [0, None])
def test_a_chunked_body_within_the_limit_is_read_whole(app, padding):
    limit = app.config["CHATBOT_MAX_BODY_BYTES"]
    body = json.dumps({"message": "does it hurt?", "padding": ""}).encode()
    if padding is None:  # exactly at the limit
        body = body[:-2] + b"a" * (limit - len(body)) + b'"}'
        assert len(body) == limit
    status, answer = _chunked_post(app, body)
    assert status == 200 and answer["kind"], answer


def test_rate_limit_off_logs_no_error(client, caplog):
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert client.post("/api/chat", json={"message": "hello"}).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], \
        [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_limiters_exceeded_line_carries_no_address(tmp_path, shared_index_dir, caplog):
    app = _app(tmp_path, shared_index_dir, CHATBOT_RATE_LIMIT="1/minute")
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        statuses = [client.post("/api/chat", json={"message": "hello"},
                                environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code for _ in range(2)]
    assert statuses == [200, 429]
    exceeded = [r.getMessage() for r in caplog.records if "exceeded" in r.getMessage()]
    assert exceeded and all("203.0.113.7" not in line and "[ip]" in line for line in exceeded)
    assert not any("203.0.113.7" in r.getMessage() for r in caplog.records)


def _statuses_by_forwarded_address(client, addresses):
    return [client.post("/api/chat", json={"message": "hello"}, headers={"X-Forwarded-For": address},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code for address in addresses]


def test_behind_one_trusted_proxy_each_visitor_has_their_own_limit(tmp_path, shared_index_dir):
    app = _app(tmp_path, shared_index_dir, CHATBOT_RATE_LIMIT="1/minute", CHATBOT_TRUSTED_PROXIES=1)
    statuses = _statuses_by_forwarded_address(app.test_client(), ["198.51.100.1", "198.51.100.1", "198.51.100.2"])
    assert statuses == [200, 429, 200]


def test_without_trusted_proxies_forwarded_addresses_are_ignored(tmp_path, shared_index_dir):
    app = _app(tmp_path, shared_index_dir, CHATBOT_RATE_LIMIT="1/minute")
    statuses = _statuses_by_forwarded_address(app.test_client(), ["198.51.100.1", "198.51.100.2"])
    assert statuses == [200, 429]  # a client cannot pick its own address


def test_log_lines_and_tracebacks_through_a_scrubbed_handler_carry_no_address():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    scrub(handler)
    log = logging.getLogger("test.log_privacy")
    log.addHandler(handler)
    try:
        log.warning("client %s and %s", "203.0.113.7", "2001:db8::1")
        try:
            raise ConnectionError("connection to 198.51.100.4 port 5432 refused")
        except ConnectionError:
            log.exception("database at 198.51.100.4 unreachable")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "ConnectionError: connection to [ip] port 5432 refused" in output
    assert not any(address in output for address in ("203.0.113.7", "2001:db8::1", "198.51.100.4"))
