"""Cuts in what a chat request costs (issue 9, item 7), each with the behaviour it must keep.

bench/README.md ("Chat cost on a real server") has the figures.
"""
from __future__ import annotations

import io
import json
import logging
import random
from pathlib import Path

import pytest

from chatbot.answer.urgent import UrgentScreen
from chatbot.answer.urgent.matching import _match_at
from chatbot.answer.urgent.message import Message
from chatbot.serving.log_privacy import AddressScrubber
from chatbot.storage.redaction import _IPV4, _IPV6, _ip_if_valid, redact_ip_addresses
from chatbot.text import normalize_text
from chatbot.web.limits import RouteLimiter

ROOT = Path(__file__).resolve().parent.parent

# -- IP addresses in log lines: the patterns run only where they could match ---------------


def _every_position_scanned(text: str) -> str:
    """What redact_ip_addresses did before it skipped text that cannot hold an address."""
    return _IPV4.sub(_ip_if_valid, _IPV6.sub(_ip_if_valid, text))


def test_addresses_are_found_as_by_scanning_every_position():
    alphabet = "0123456789....::::abcdefABCDEF%[] -/=,x"
    rng = random.Random(7)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(20_000)]
    texts += ["from 203.0.113.7 at 10:30", "::1", "fe80::1%eth0", "::ffff:192.0.2.1", "1.2.3", "1.2.3.4.5",
              "999.1.1.1", "v1.2.3.4", "2001:db8::1 and 198.51.100.23.", "ms=3.5 top_score=0.412 x.1.2.3",
              "chat message_id=5f0c length=33 index=20261121T101500.123456Z-3f9a1c ms=3.5"]
    changed = 0
    for text in texts:
        expected = _every_position_scanned(text)
        assert redact_ip_addresses(text) == expected, text
        changed += expected != text
    assert changed > 100  # the sample holds addresses, not only text without any


def test_a_log_record_is_formatted_once_with_its_addresses_scrubbed():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(AddressScrubber())
    logger = logging.getLogger("tests.chat_cost")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("from %s: %d%% done, %s", "203.0.113.7", 50, "ok")
        logger.warning("a literal %s and 100%% with no arguments")
        logger.warning({"not": "a string"})
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == ["WARNING from [ip]: 50% done, ok",
                                              "WARNING a literal %s and 100%% with no arguments",
                                              "WARNING {'not': 'a string'}"]


# -- Flask-Limiter's hooks: only for requests it counted --------------------------------------

@pytest.fixture
def limiter_state_reads(monkeypatch):
    """How often Flask-Limiter's per-request state is reached (its hooks start there)."""
    reads = []
    original = RouteLimiter.context

    def counted(self):
        reads.append(1)
        return original.fget(self)

    monkeypatch.setattr(RouteLimiter, "context", property(counted))
    return reads


def test_with_the_limit_off_a_chat_never_reaches_the_limiter(client, limiter_state_reads):
    for path in ("/api/chat", "/api/health"):
        reply = client.post(path, json={"message": "hello"}) if path == "/api/chat" else client.get(path)
        assert reply.status_code == 200 and "X-RateLimit-Limit" not in reply.headers
    assert limiter_state_reads == []
    # Where a limit is counted, its hooks still add the X-RateLimit headers and the 429:
    # tests/test_request_overhead.py and tests/test_limits.py.


# -- the urgent screen: alternatives looked for only when all their words are there ----------

def _every_alternative_tried(screen, keys, clauses):
    """What UrgentScreen._find did before it skipped alternatives with a word the message lacks."""
    found = []
    for start, key in enumerate(keys):
        if key is None:
            continue
        for alternative, places in screen._by_first.get(key, {}).items():
            positions = _match_at(keys, clauses, start, alternative)
            if positions:
                found += [(positions, rule, group) for rule, group in places]
    return found


def test_the_urgent_screen_finds_what_trying_every_alternative_finds():
    screen, errors = UrgentScreen.load(ROOT / "corpus" / "urgent.txt")
    assert not errors
    messages = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                messages.append(record.get("message") or record.get("q"))
    assert len(messages) > 800
    found_any = urgent = 0
    for message in messages:
        text = Message(normalize_text(message).lower())
        keys = [screen.read_as(word) for word in text.words]
        expected = _every_alternative_tried(screen, keys, text.clauses)
        assert screen._find(keys, text.clauses) == expected, message
        found_any += bool(expected)
        urgent += screen.check(message) is not None
    assert found_any > 300 and urgent > 150


# -- the chat body's JSON: one decoder for every request -------------------------------------

@pytest.mark.parametrize("body, status, code", [
    ('{"message": "Does it hurt?"}', 200, None),
    ('\ufeff{"message": "Does it hurt?"}', 400, "invalid_json"),
    ('{"message": "Does it hurt?", "top_k": 1' + "0" * 101 + "}", 400, "number_too_long"),
    ('{"message": "Does it hurt?", "top_k": 2}', 200, None),
    ('["message"]', 400, "invalid_json"),
    ('{"message": "Does it hurt?"', 400, "invalid_json"),
])
def test_the_shared_decoder_answers_every_body_as_before(client, body, status, code):
    reply = client.post("/api/chat", data=body.encode("utf-8"), content_type="application/json")
    assert reply.status_code == status
    assert (reply.get_json().get("error") or {}).get("code") == code
    if status == 200:
        assert len(reply.get_json()["passages"]) == json.loads(body).get("top_k", 3)
