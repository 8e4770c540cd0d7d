"""Soak: a minute of chat load through the faults a clinic's server meets, then count what was lost.

    python bench/soak.py [--seconds 60] [--clients 8] [--workers 2]
                         [--database-url URL --db-pid PID]

Starts gunicorn with the project's `gunicorn.conf.py` on 127.0.0.1 (a free
port) over a fresh instance folder (its own corpus copy, index and SQLite
database, unless --database-url names a PostgreSQL one), and keeps
`--clients` visitors chatting for `--seconds`. Meanwhile, on a schedule:

  * two publishes: a page is added to the corpus copy and `train.py --publish`
    builds and publishes it;
  * a rollback to the first version (`train.py --rollback`);
  * a worker killed (SIGTERM by default, as a restart or a deploy does;
    `--kill-signal KILL` for a crash, which loses the requests that worker
    had in flight by nature: nothing can answer them; their connections are
    reset. The replies it had already sent are not lost: their exchanges are
    in its journal, replayed by the other processes);
  * the database stopped for a few seconds: SQLite held under an exclusive
    lock, or, with --db-pid, the PostgreSQL server paused with SIGSTOP.

At the end it waits until /api/health says "ok" (the spool drained), then
counts failed requests (anything but a 200 with a message_id) and lost
exchanges (message_ids a visitor received that are not in the database).
Failures within KILL_WINDOW seconds after the kill signal are also counted
apart: under SIGKILL those are the requests in flight in the killed worker
(or sent on its keep-alive connections before the reset reached the client).
Prints one table and a JSON line; exit status 1 when an exchange is lost or
a request failed (under SIGKILL: a request failed other than at the kill).
Talks only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUESTIONS = ["Does acupuncture hurt?", "How many sessions will I need for back pain?",
             "Are the needles sterile?", "can it help sciatica down my leg", "what should I wear",
             "Is acupuncture safe during pregnancy?", "hello", "What is the weather tomorrow?"]
KILL_WINDOW = 1.0  # seconds after the kill signal in which a failure counts as "at the kill"
SOAK_PAGE = """---
title: Soak test page {n}
kind: article
---
Visitors who park in the side street should allow five minutes' walk (soak note {n}).
"""


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tally:
    """What the visitors saw: message_ids received, failures by reason (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.message_ids: list[str] = []
        self.failures: dict[str, int] = {}
        self.failed_at: list[float] = []  # time.monotonic() of each failure
        self.versions: dict[str, int] = {}

    def ok(self, message_id: str, version: str) -> None:
        with self.lock:
            self.message_ids.append(message_id)
            self.versions[version] = self.versions.get(version, 0) + 1

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures[reason] = self.failures.get(reason, 0) + 1
            self.failed_at.append(time.monotonic())

    def failed_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(start <= moment <= end for moment in self.failed_at)


def visitor(port: int, stop: threading.Event, tally: Tally, seed: int) -> None:
    """One visitor on a keep-alive connection, asking until `stop`; reconnects after any error."""
    rng = random.Random(seed)
    conn = None
    while not stop.is_set():
        body = json.dumps({"message": rng.choice(QUESTIONS), "session_id": f"soak{seed:04d}"})
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/chat", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                tally.fail(f"HTTP {response.status}")
                continue
            reply = json.loads(data)
            tally.ok(reply["message_id"], reply.get("index_version", "?"))
        except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
            tally.fail(type(exc).__name__)
            if conn is not None:
                conn.close()
            conn = None


def get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def train(env: dict, *args: str) -> str:
    result = subprocess.run([PYTHON, str(ROOT / "train.py"), *args], env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"train.py {' '.join(args)} failed: {result.stderr.strip()[-400:]}")
    return result.stdout


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def hold_sqlite_lock(path: Path, seconds: float) -> None:
    """Stop SQLite writers: hold an exclusive lock on the database for `seconds`."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def pause_process(pid: int, seconds: float) -> None:
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


def stored_ids(database_url: str, message_ids: list[str]) -> set[str]:
    from sqlalchemy import bindparam, create_engine, text
    engine = create_engine(database_url)
    query = text("SELECT message_id FROM exchanges WHERE message_id IN :ids").bindparams(
        bindparam("ids", expanding=True))
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(message_ids), 500):
            found.update(row[0] for row in conn.execute(query, {"ids": message_ids[start:start + 500]}))
    engine.dispose()
    return found


def wait_healthy(port: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    health: dict = {}
    while time.monotonic() < deadline:
        try:
            health = get_json(port, "/api/health")
            if health.get("status") == "ok":
                return health
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    return health


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file in the temp folder)")
    parser.add_argument("--db-pid", type=int, help="PostgreSQL server pid to pause with SIGSTOP")
    parser.add_argument("--kill-signal", default="TERM", choices=["TERM", "KILL", "INT", "QUIT"],
                        help="signal sent to one worker (default TERM)")
    parser.add_argument("--stop-seconds", type=float, default=8, help="how long the database is stopped")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        sqlite_path = tmp / "chatbot.db"
        database_url = args.database_url or f"sqlite:///{sqlite_path}"
        port = free_port()
        env = {**os.environ, "PORT": str(port), "CHATBOT_CORPUS_DIR": str(corpus),
               "CHATBOT_INDEX_DIR": str(tmp / "index"), "CHATBOT_DATABASE_URL": database_url,
               "CHATBOT_RATE_LIMIT": "off", "CHATBOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        first = train(env, "--publish").split()[2]
        server = subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                                   "--workers", str(args.workers), "--access-logfile", "/dev/null", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
        try:
            if not wait_healthy(port, 60):
                print("the server did not start; see its log:\n" + (tmp / "server.log").read_text()[-2000:])
                return 1
            tally, stop = Tally(), threading.Event()
            threads = [threading.Thread(target=visitor, args=(port, stop, tally, n), daemon=True)
                       for n in range(args.clients)]
            for thread in threads:
                thread.start()
            events = []
            killed_at: list[float] = []
            started = time.monotonic()

            def at(share: float, name: str, action) -> None:
                time.sleep(max(0.0, started + share * args.seconds - time.monotonic()))
                began = time.monotonic()
                try:
                    action()
                    events.append((name, "done", time.monotonic() - began))
                except Exception as exc:  # a failed fault step is reported, not fatal
                    events.append((name, f"FAILED: {exc}", time.monotonic() - began))

            def publish(n: int):
                (corpus / "documents" / f"soak-{n}.txt").write_text(SOAK_PAGE.format(n=n))
                return lambda: train(env, "--publish", "--override", "soak test: a page that changes no answer")

            def kill_worker():
                pids = worker_pids(server.pid)
                if not pids:
                    raise RuntimeError("no worker found")
                killed_at.append(time.monotonic())
                os.kill(pids[0], getattr(signal, f"SIG{args.kill_signal}"))

            def stop_database():
                if args.database_url:
                    if not args.db_pid:
                        raise RuntimeError("--db-pid is needed to stop PostgreSQL")
                    pause_process(args.db_pid, args.stop_seconds)
                else:
                    hold_sqlite_lock(sqlite_path, args.stop_seconds)

            at(0.10, "publish 1", publish(1))
            at(0.30, f"kill a worker (SIG{args.kill_signal})", kill_worker)
            at(0.45, "stop the database", stop_database)
            at(0.65, "publish 2", publish(2))
            at(0.80, f"roll back to {first}", lambda: train(env, "--rollback", first))
            time.sleep(max(0.0, started + args.seconds - time.monotonic()))
            stop.set()
            for thread in threads:
                thread.join(15)
            health = wait_healthy(port, 60)
            stored = stored_ids(database_url, tally.message_ids)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        lost = len(set(tally.message_ids) - stored)
        failed = sum(tally.failures.values())
        at_kill = tally.failed_between(killed_at[0], killed_at[0] + KILL_WINDOW) if killed_at else 0
        print(f"soak: {args.seconds:.0f} s, {args.clients} clients, {args.workers} workers, "
              f"{'PostgreSQL' if args.database_url else 'SQLite'}")
        for name, outcome, took in events:
            print(f"  {name:32s} {outcome} ({took:.1f} s)")
        print(f"  replies            {len(tally.message_ids)}")
        print(f"  failed requests    {failed} {tally.failures or ''}")
        print(f"    at the kill      {at_kill} (within {KILL_WINDOW:g} s after SIG{args.kill_signal})")
        print(f"  lost exchanges     {lost}")
        print(f"  health at the end  {health.get('status')} (index {health.get('index_version')})")
        print(json.dumps({"replies": len(tally.message_ids), "failed": failed, "failed_at_kill": at_kill,
                          "failures": tally.failures, "lost": lost, "events": events, "versions": tally.versions}))
        # A SIGKILL cannot answer what the killed worker had in flight; anything else must not fail.
        tolerated = at_kill if args.kill_signal == "KILL" else 0
        return 0 if failed == tolerated and lost == 0 and all(e[1] == "done" for e in events) else 1


if __name__ == "__main__":
    sys.exit(main())
