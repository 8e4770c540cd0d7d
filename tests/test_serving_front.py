"""The serving front: a real gunicorn (gunicorn.conf.py) on 127.0.0.1, attacked with slow and malformed clients.

Fault tests are bounded: each client socket has a timeout, the server a
short request deadline (CHATBOT_REQUEST_READ_SECONDS=2), and the whole
module's server is stopped at the end.
"""
from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest

from bench.bench_slow_clients import SlowClients
from chatbot.serving.framing import BAD_CHUNKS, COMPLETE, INCOMPLETE, MALFORMED, TOO_LARGE, request_framing
from conftest import REPO_ROOT
from gunicorn_process import Gunicorn

READ_SECONDS = 2.0
ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


# -- the framing scan (pure) -------------------------------------------------------

HEAD = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(("data", "state"), [
    (b"", INCOMPLETE),
    (b"GET /api/hea", INCOMPLETE),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n", INCOMPLETE),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n", COMPLETE),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /next", COMPLETE),  # pipelined
    (HEAD + b"Content-Length: 10\r\n\r\n12345", INCOMPLETE),
    (HEAD + b"Content-Length: 10\r\n\r\n1234567890", COMPLETE),
    (HEAD + b"content-length: 1000\r\n\r\n", TOO_LARGE),
    (HEAD + b"Content-Length: -1\r\n\r\n", MALFORMED),
    (HEAD + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", MALFORMED),
    (HEAD + b"Transfer-Encoding: gzip\r\n\r\n", MALFORMED),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", INCOMPLETE),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", COMPLETE),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", COMPLETE),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n", INCOMPLETE),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", BAD_CHUNKS),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n", BAD_CHUNKS),  # longer than announced
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 2000, BAD_CHUNKS),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"100\r\n" + b"a" * 256 + b"\r\n" * 2, TOO_LARGE),
    (b"GET /" + b"a" * 9000, MALFORMED),           # a request line too long to be real: gunicorn's 414
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 20_000, MALFORMED),  # a head past the limit: gunicorn's 431
])
def test_framing_says_when_a_request_has_fully_arrived(data, state):
    assert request_framing(data, body_limit=lambda target: 100, max_head=64 * 1024).state == state


def test_framing_reports_the_declared_body_size_and_expect_continue():
    verdict = request_framing(HEAD + b"Content-Length: 50\r\nExpect: 100-continue\r\n\r\n", lambda t: 100, 65536)
    assert (verdict.state, verdict.body_size, verdict.expects_continue) == (INCOMPLETE, 50, True)


def test_framing_asks_for_the_body_limit_of_the_request_target():
    targets = []
    verdict = request_framing(HEAD + b"Content-Length: 500\r\n\r\n", lambda t: targets.append(t) or 1000, 65536)
    assert targets == [b"/api/chat"] and verdict.state == INCOMPLETE


# -- a real gunicorn -----------------------------------------------------------------

class Server(Gunicorn):
    """gunicorn -c gunicorn.conf.py on a free loopback port over `index_dir`, its log in `tmp`."""

    def __init__(self, tmp: Path, index_dir: Path, **settings: str):
        env = dict(os.environ, CHATBOT_INDEX_DIR=str(index_dir), CHATBOT_SERVER_STATE_DIR=str(tmp),
                   CHATBOT_DATABASE_URL=f"sqlite:///{tmp / 'chatbot.db'}", CHATBOT_SPOOL_DIR=str(tmp / "spool"),
                   CHATBOT_REQUEST_READ_SECONDS=str(READ_SECONDS), CHATBOT_RATE_LIMIT="off",
                   PYTHONPATH=str(REPO_ROOT))
        env.update(settings)
        super().__init__(env, tmp)


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n".encode()


def post_json(path: str, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n").encode() + body


def exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send `data`, read the answer until the server closes (or `timeout` for each read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(data)
        return read_all(client)


def read_all(client: socket.socket) -> bytes:
    answer = b""
    while True:
        try:
            chunk = client.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
    return answer


def status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"application/json" in head.lower(), head
    return status, json.loads(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_index_dir):
    running = Server(tmp_path_factory.mktemp("front"), shared_index_dir)
    yield running
    running.stop()


def test_health_answers_within_a_second_while_fifty_slow_clients_hang_on(server):
    """50 connections at once: silent, trickling a head, trickling a body, stalled mid-body."""
    with SlowClients(server.port, 50) as slow:
        timings = []
        for _ in range(10):
            started = time.monotonic()
            answer = exchange(server.port, get("/api/health"), timeout=3)
            timings.append(time.monotonic() - started)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            time.sleep(0.1)
        assert max(timings) < 1.0, timings
        chat = exchange(server.port, post_json("/api/chat", b'{"message": "does acupuncture hurt?"}'), 3)
        assert chat.startswith(b"HTTP/1.1 200"), chat[:200]
        # Past the deadline every stalled request is answered 408 (or closed), none hangs.
        for client in slow.stalled:
            client.settimeout(READ_SECONDS + 4)
            answer = read_all(client)
            if answer:
                status, body = status_and_json(answer)
                assert (status, body["error"]["code"]) == (408, "request_timeout")
    assert exchange(server.port, get("/api/health"), timeout=1).startswith(b"HTTP/1.1 200")


def test_a_stalled_body_gets_408_in_the_error_shape(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=READ_SECONDS + 4) as client:
        client.sendall(post_json("/api/chat", b'{"message": "does it hurt?"}' + b" " * 72)[:-94])
        started = time.monotonic()
        status, body = status_and_json(read_all(client))
    assert (status, body["error"]["code"]) == (408, "request_timeout")
    assert time.monotonic() - started < READ_SECONDS + 3


def test_a_request_sent_in_pieces_within_the_deadline_is_answered(server):
    request = post_json("/api/chat", b'{"message": "how long do the needles stay in?"}')
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        for start in range(0, len(request), 40):
            client.sendall(request[start:start + 40])
            time.sleep(0.02)
        answer = read_all(client)
    assert answer.startswith(b"HTTP/1.1 200")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["kind"] in {"answer", "no_answer"}


def test_kept_alive_and_pipelined_requests_are_answered_in_order(server):
    two = get("/api/health").replace(b"Connection: close\r\n", b"") + get("/api/openapi.json")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(two)
        answer = read_all(client)
    assert answer.count(b"HTTP/1.1 200") == 2
    assert answer.index(b'"index_version"') < answer.index(b'"openapi"')


def test_expect_100_continue_is_honoured(server):
    body = b'{"message": "does it hurt?"}'
    request = post_json("/api/chat", body, extra="Expect: 100-continue\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(request[:-len(body)])
        assert client.recv(100).startswith(b"HTTP/1.1 100 Continue")
        client.sendall(body)
        answer = read_all(client)
    assert b"HTTP/1.1 200" in answer


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: bot\r\n\r\n", 414, "uri_too_long"),
    (b"GET / HTTP/1.1\r\nHost: bot\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(60)) + b"\r\n",
     431, "headers_too_large"),
    (b"GET / HTTP/1.1\r\nHost: bot\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"),
    (b"GET / HTTP/1.1\r\nHost: bot\r\nContent-Length: 1x\r\n\r\n", 400, "bad_request"),
    (b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400, "bad_request"),
    (b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nContent-Length: 99999999\r\n\r\n", 413, "payload_too_large"),
])
def test_malformed_requests_get_the_json_error_shape(server, request_bytes, status, code):
    answer = exchange(server.port, request_bytes)
    answered, body = status_and_json(answer)
    assert (answered, body["error"]["code"]) == (status, code)
    assert body["error"]["message"] and b"<html" not in answer.lower()


def test_a_chunked_body_over_the_limit_gets_413_not_a_cut(server):
    body = b'{"message": "' + b"a" * 20_000 + b'"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096]) for i in range(0, len(body), 4096))
    request = (b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    assert status_and_json(exchange(server.port, request))[0] == 413


def test_a_declared_body_over_the_api_limit_is_refused_before_it_is_sent(server):
    head = (b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000\r\n\r\n")
    assert status_and_json(exchange(server.port, head))[0] == 413


def test_staff_uploads_may_be_larger_than_api_bodies(server):
    body = b"a" * 1_000_000
    request = (b"POST /admin/pages/upload HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n"
               b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    answer = exchange(server.port, request)
    assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 413"), answer[:100]


def test_logs_carry_no_address_after_a_429_and_a_malformed_request(tmp_path, shared_index_dir):
    limited = Server(tmp_path, shared_index_dir, CHATBOT_RATE_LIMIT="2/minute")
    try:
        statuses = [exchange(limited.port, post_json("/api/chat", b'{"message": "hello"}'))[9:12]
                    for _ in range(5)]
        assert b"429" in statuses, statuses
        assert exchange(limited.port, b"BAD REQUEST LINE\r\n\r\n").startswith(b"HTTP/1.1 400")
        time.sleep(0.3)
    finally:
        limited.stop()
    log = limited.log()
    assert "exceeded at endpoint" in log, log[-2000:]  # Flask-Limiter's line is there, scrubbed
    assert "invalid request" in log
    assert not ADDRESS.search(log), ADDRESS.search(log)
