"""Cuts in a chat request's server CPU outside answering (issue 9, item 7), each with the behaviour it keeps.

bench/README.md ("Chat cost on a real server", fourth pass) has the figures.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from chatbot.storage import Exchange
from chatbot.storage.spool import Spool
from chatbot.storage.writer import ChatLogWriter


def _exchange(number: int) -> Exchange:
    return Exchange(f"id-{number:06d}", "session-1", "Do the needles hurt?", "answer", ("p1",), (0.5,), "v1",
                    datetime.now(timezone.utc))


class _CountingStorage:
    """Stands in for Storage: stores instantly and remembers each batch."""

    def __init__(self):
        self.batches: list[list[str]] = []

    def store_records(self, exchanges, feedback):
        self.batches.append([record["message_id"] for record in exchanges])
        return []

    def ping(self):
        pass

    def dispose(self):
        pass


def test_a_busy_writer_takes_a_batch_at_most_once_per_batch_wait(tmp_path):
    # Before: a writer that found records queued took them at once, so a busy
    # server wrote whatever arrived during the previous transaction (9-12
    # records each); with an instant database, a transaction per record or two.
    storage = _CountingStorage()
    writer = ChatLogWriter(storage, Spool(tmp_path / "spool"), batch_wait=0.05)
    sent = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < 0.6:
            writer.record_exchange(_exchange(sent))
            sent += 1
            time.sleep(0.001)
        assert writer.flush(10)
        elapsed = time.monotonic() - started
    finally:
        writer.close()
    stored = [message_id for batch in storage.batches for message_id in batch]
    assert stored == [f"id-{number:06d}" for number in range(sent)]  # all, in order, once
    # Sleeps last at least as long as asked, so a slow machine only makes fewer batches;
    # the flush's batch and the first one (after an idle writer's wait) come on top.
    assert len(storage.batches) <= elapsed / 0.05 + 2
    assert sent > 3 * len(storage.batches)


# -- journal and spool lines: json.dumps's bytes, with an encoder made once -------------------------

def test_a_record_line_is_the_bytes_json_dumps_makes():
    import json
    import random

    from chatbot.answer.kinds import ReplyKind
    from chatbot.storage.records import exchange_record, feedback_record
    from chatbot.storage.spool import record_line
    rng = random.Random(3)
    alphabet = "abc XYZ 019 \"\\/\n\t\u00e9\u2028\u00ff\U0001F600<>&@:.-"
    records = []
    for number in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        kind = rng.choice(list(ReplyKind))
        scores = tuple(rng.choice([0.0, 1.0, rng.random(), 1e-7, 123456.789]) for _ in range(rng.randint(0, 4)))
        records.append(exchange_record(Exchange(
            f"id-{number}", rng.choice([None, "s-1"]), text, kind, tuple(f"p{i}" for i in range(len(scores))),
            scores, rng.choice([None, "v1"]), datetime.now(timezone.utc), rng.choice([None, 0.5, rng.random()]))))
        records.append(feedback_record(f"id-{number}", rng.random() < 0.5, rng.choice([None, text])))
    for record in records:
        assert record_line(record) == json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
