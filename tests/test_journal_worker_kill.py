"""A gunicorn worker killed with SIGKILL loses no exchange whose reply left it.

The real server (the project's gunicorn.conf.py, 2 workers) on 127.0.0.1 and
a free port over the shared test index and its own SQLite file; bounded in
time (START_SECONDS, RECOVERY_SECONDS) and in requests (CHATS chats, one
feedback).
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request

from gunicorn_process import Gunicorn

START_SECONDS = 60
RECOVERY_SECONDS = 30
CHATS = 20


def post(port: int, path: str, body: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):
        return {}


def test_every_reply_of_workers_killed_before_their_writer_wrote_is_stored(tmp_path, shared_index_dir,
                                                                           make_storage):
    database = tmp_path / "chatbot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_") and k != "PORT"}
    env.update(CHATBOT_INDEX_DIR=str(shared_index_dir), CHATBOT_DATABASE_URL=f"sqlite:///{database}",
               CHATBOT_SPOOL_DIR=str(tmp_path / "spool"), CHATBOT_SERVER_STATE_DIR=str(tmp_path / "state"),
               CHATBOT_RATE_LIMIT="off", CHATBOT_INDEX_CHECK_SECONDS="60", CHATBOT_LOG_LEVEL="WARNING",
               CHATBOT_SECRET_KEY="test-secret-key-not-for-production")
    server = Gunicorn(env, tmp_path, start_seconds=START_SECONDS)
    holder = sqlite3.connect(database, isolation_level=None, timeout=10)
    try:
        # The writers cannot write while the test holds the database (they wait on its lock
        # for up to 1 s): every reply below is in a worker's memory, and in its journal, only.
        holder.execute("BEGIN EXCLUSIVE")
        killed = server.workers()
        message_ids = []
        for number in range(CHATS):
            status, body = post(server.port, "/api/chat", {"message": f"Do the needles hurt? ({number})"})
            assert status == 200, body
            message_ids.append(json.loads(body)["message_id"])
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        holder.execute("ROLLBACK")

        deadline = time.monotonic() + RECOVERY_SECONDS
        while time.monotonic() < deadline and (len(server.workers() - killed) < 2
                                               or health(server.port).get("status") != "ok"):
            time.sleep(0.2)
        assert not server.workers() & killed and len(server.workers()) == 2, server.log()[-3000:]
        storage = make_storage(f"sqlite:///{database}")
        assert {message_id for message_id in message_ids if storage.get_exchange(message_id) is None} == set()
        assert health(server.port)["spool"] == 0  # the killed workers' journals were replayed

        # Feedback on a reply of a killed worker is accepted (the id is genuine and stored).
        status, body = post(server.port, "/api/feedback", {"message_id": message_ids[3], "helpful": True})
        assert status == 204, body
        while time.monotonic() < deadline and not storage.feedback_for(message_ids[3]):
            time.sleep(0.2)
        assert [item.helpful for item in storage.feedback_for(message_ids[3])] == [True]
    finally:
        holder.close()
        server.stop()
    assert "Traceback" not in server.log()
