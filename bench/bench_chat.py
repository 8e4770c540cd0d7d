"""What a chat request costs a real server, beside a minimal Flask endpoint, in one run.

    python bench/bench_chat.py [--seconds 10] [--rounds 3] [--connections 16]
                               [--postgres postgresql+psycopg://...] [--json PATH]
    python bench/bench_chat.py --in-process     # a reply's cost against a bare retrieval

Starts gunicorn with the project's `gunicorn.conf.py` (2 workers, worker
recycling off, on free loopback ports) for each of:

  * `minimal`: a Flask app with one POST endpoint that parses the same JSON
    body and answers a small JSON object (the floor of Flask + gunicorn);
  * `chat, no database write`: the chatbot with its chat log replaced by one
    that drops records (what answering costs);
  * `chat, SQLite` (the default) and, with --postgres, `chat, PostgreSQL`;
  * `chat, SQLite, limit on`: as `chat, SQLite` with the visitor limit
    counted (CHATBOT_RATE_LIMIT=1000000/minute, high enough never to refuse
    wrk, in the server's shared counter file), as real deployments run;

then drives them with wrk (Debian package `wrk`) at `--connections`
concurrent connections: POST /api/chat cycling through the dev questions (a
Lua script sets the bodies), and GET /api/health on the SQLite server. The
endpoints take turns, `--rounds` times, and the median requests/s of the
rounds is reported with its ratio to the minimal endpoint, beside the
server CPU per request, then that CPU by kind of thread (request threads,
each worker's event loop, the chat log's writer and database threads, the
index watcher, the master: the apps name their threads in the kernel, and
the chat servers load `bench_chat:chat_app()`, which is `wsgi:app`'s
create_app() with that naming). Every server but `limit on` gets
CHATBOT_RATE_LIMIT=off; logging stays at its default. After the load the
servers are stopped gracefully and the exchanges in each database are
counted against the replies wrk received (a few more may be stored: replies
still in flight when wrk stops are not counted by it).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
TARGETS = {"minimal": 0.0, "chat, SQLite": 0.40, "chat, PostgreSQL": 0.35}
# Counted on every request, never reached by wrk from its one address.
COUNTED_LIMIT = "1000000/minute"


# -- apps gunicorn loads (bench_chat:minimal_app() and bench_chat:chat_app_without_log()) --

def name_os_threads() -> None:
    """Give every Python thread started from now on its name in the kernel too (`/proc/.../comm`,
    15 bytes), so that the server's CPU can be read per kind of thread; costs nothing per request."""
    import ctypes
    import threading
    if getattr(threading.Thread, "_bench_named", False):
        return
    set_name = ctypes.CDLL(None, use_errno=True).prctl
    started = threading.Thread._bootstrap_inner

    def named(thread):
        set_name(15, thread.name.encode("ascii", "replace")[:15], 0, 0, 0)  # PR_SET_NAME
        started(thread)

    threading.Thread._bootstrap_inner = named
    threading.Thread._bench_named = True


def minimal_app():
    """The floor: Flask parses a JSON body and answers JSON, nothing else."""
    from flask import Flask, jsonify, request
    name_os_threads()
    app = Flask("minimal")

    @app.post("/api/chat")
    def echo():
        body = request.get_json()
        return jsonify({"reply": "ok", "length": len(body.get("message", ""))})

    return app


class DroppingChatLog:
    """Stands in for the chat-log writer: takes records and keeps nothing."""

    def record_exchange(self, exchange) -> None:
        pass

    def record_feedback(self, message_id, helpful, comment) -> None:
        pass

    def status(self, wait: float = 0.5):
        from chatbot.storage.writer import WriterStatus
        return WriterStatus("ok", 0, 0)


def chat_app():
    """The chatbot as `wsgi:app` makes it, its threads named for the CPU breakdown."""
    from chatbot import create_app
    name_os_threads()
    return create_app()


def chat_app_without_log():
    """The chatbot as configured by the environment, with a chat log that stores nothing."""
    app = chat_app()
    app.extensions["chatbot_chat_log"] = DroppingChatLog()
    return app


# -- running servers and wrk -----------------------------------------------------------

@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    database_url: str | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(name: str, app_spec: str, env: dict, logs: Path, database_url: str | None = None) -> Server:
    port = free_port()
    log_file = open(logs / f"{name.replace(',', '').replace(' ', '-')}.log", "wb")
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         # Recycling off: it would stall whichever server answers the most
         # requests most often (the minimal one), measuring restarts, not requests.
         "--max-requests", "0",
         "--pythonpath", f"{ROOT},{ROOT / 'bench'}", app_spec],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return Server(name, port, process, database_url)


def wait_ready(server: Server, path: str, method: str = "GET", seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    body = json.dumps({"message": "warm up"}).encode() if method == "POST" else None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name}: gunicorn exited with {server.process.returncode}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=body, method=method,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name}: not ready after {seconds:.0f} s")


def stop_server(server: Server) -> None:
    """SIGTERM: workers finish their requests and flush their chat log, then exit."""
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(60)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def chat_script(questions: list[str], folder: Path) -> Path:
    """A wrk Lua script that POSTs the questions in turn."""
    bodies = ",\n".join(f"[==[{json.dumps({'message': q})}]==]" for q in questions)
    script = folder / "chat.lua"
    script.write_text(
        f"local bodies = {{\n{bodies}\n}}\n"
        "local headers = {['Content-Type'] = 'application/json'}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        "  return wrk.format('POST', '/api/chat', headers, bodies[i])\n"
        "end\n", encoding="utf-8")
    return script


@dataclass
class Load:
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0  # server CPU (master and workers, all threads) per request
    thread_us: dict | None = None  # the same in microseconds, by kind of thread (thread_cpu_seconds)


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds of a gunicorn master and its workers so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == master_pid or parent == master_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# Kinds of server thread, by the name name_os_threads() gives them (cut to 15 bytes by the kernel).
THREAD_KINDS = (("ThreadPoolExec", "request threads"), ("chat-log-write", "chat-log writer"),
                ("chat-log-datab", "chat-log database"), ("index-watcher", "index watcher"))


def thread_cpu_seconds(master_pid: int) -> dict[str, float]:
    """CPU seconds so far of a gunicorn server by kind of thread: the request threads, the chat
    log's, the index watcher, each worker's main thread (its event loop), the master, and `other`
    (threads that ended, others unnamed)."""
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}

    def add(kind: str, seconds: float) -> None:
        kinds[kind] = kinds.get(kind, 0.0) + seconds

    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid, parent = int(stat.parent.name), int(fields[1])
            if pid == master_pid:
                add("master", (int(fields[11]) + int(fields[12])) / ticks)
            if parent != master_pid:
                continue
            whole = (int(fields[11]) + int(fields[12])) / ticks
            threads = 0.0
            for task in (stat.parent / "task").iterdir():
                name, rest = task.joinpath("stat").read_text().split("(", 1)[1].rsplit(")", 1)
                cpu = (int(rest.split()[11]) + int(rest.split()[12])) / ticks
                kind = "worker main (event loop)" if int(task.name) == pid else next(
                    (label for prefix, label in THREAD_KINDS if name.startswith(prefix)), "other")
                add(kind, cpu)
                threads += cpu
            add("other", max(whole - threads, 0.0))
        except (OSError, ValueError, IndexError):
            continue
    return kinds


def measured(server_pid: int, url: str, seconds: float, connections: int, script: Path | None) -> Load:
    """wrk against `url`, with the server's CPU time per request over the run, also by kind of thread."""
    before, threads_before = server_cpu_seconds(server_pid), thread_cpu_seconds(server_pid)
    load = run_wrk(url, seconds, connections, script)
    requests = max(load.requests, 1)
    load.cpu_ms = (server_cpu_seconds(server_pid) - before) * 1000 / requests
    load.thread_us = {kind: (seconds_after - threads_before.get(kind, 0.0)) * 1e6 / requests
                      for kind, seconds_after in thread_cpu_seconds(server_pid).items()}
    return load


def run_wrk(url: str, seconds: float, connections: int, script: Path | None) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    return Load(requests=int(re.search(r"(\d+) requests in", output).group(1)),
                rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
                p50_ms=_latency(output, "50%"), p99_ms=_latency(output, "99%"),
                errors=_errors(output))


def _latency(output: str, label: str) -> float:
    value, unit = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _errors(output: str) -> int:
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in match.groups())
    return errors


def count_exchanges(database_url: str) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM exchanges")).scalar()
    finally:
        engine.dispose()


# -- the run ---------------------------------------------------------------------------

def load_test(args) -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    from chatbot.build import build_index, publish_build
    questions = [json.loads(line)["q"] for line in (ROOT / "tests/data/dev.jsonl").read_text().splitlines()
                 if line.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        folder = Path(tmp)
        corpus = ROOT / "corpus"
        publish_build(build_index(corpus), folder / "index", corpus)
        script = chat_script(questions, folder)
        base_env = {**os.environ, "CHATBOT_INDEX_DIR": str(folder / "index"), "CHATBOT_RATE_LIMIT": "off",
                    "CHATBOT_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                    "CHATBOT_SERVER_STATE_DIR": str(folder / "state")}
        sqlite_url = f"sqlite:///{folder / 'chatbot.db'}"
        specs = [("minimal", "bench_chat:minimal_app()", {}, None),
                 ("chat, no database write", "bench_chat:chat_app_without_log()",
                  {"CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'unused.db'}"}, None),
                 ("chat, SQLite", "bench_chat:chat_app()", {"CHATBOT_DATABASE_URL": sqlite_url,
                                               "CHATBOT_SPOOL_DIR": str(folder / "spool-sqlite")}, sqlite_url)]
        limited_url = f"sqlite:///{folder / 'chatbot-limited.db'}"
        specs.append(("chat, SQLite, limit on", "bench_chat:chat_app()",
                      {"CHATBOT_DATABASE_URL": limited_url, "CHATBOT_SPOOL_DIR": str(folder / "spool-limited"),
                       "CHATBOT_RATE_LIMIT": COUNTED_LIMIT}, limited_url))
        if args.postgres:
            specs.append(("chat, PostgreSQL", "bench_chat:chat_app()", {"CHATBOT_DATABASE_URL": args.postgres,
                                                           "CHATBOT_SPOOL_DIR": str(folder / "spool-pg")},
                          args.postgres))
        servers = []
        try:
            for name, app_spec, env, url in specs:  # one at a time: start-ups migrate and load
                server = start_server(name, app_spec, {**base_env, **env}, folder, url)
                servers.append(server)
                wait_ready(server, "/api/chat", "POST")
            before = {s.name: count_exchanges(s.database_url) for s in servers if s.database_url}
            runs = [(s.name, s.process.pid, f"http://127.0.0.1:{s.port}/api/chat", script) for s in servers]
            sqlite_server = next(s for s in servers if s.name == "chat, SQLite")
            runs.insert(1, ("/api/health", sqlite_server.process.pid,
                            f"http://127.0.0.1:{sqlite_server.port}/api/health", None))
            results: dict[str, list[Load]] = {name: [] for name, _, _, _ in runs}
            # Warm-up (caches, pools, first writes); its replies, and wait_ready's one, count as sent.
            sent = {name: 1 + run_wrk(url, 2, args.connections, body).requests for name, _, url, body in runs}
            for _round in range(args.rounds):
                for name, pid, url, body in runs:
                    results[name].append(measured(pid, url, args.seconds, args.connections, body))
        finally:
            for server in servers:
                stop_server(server)
        stored = {s.name: count_exchanges(s.database_url) - before[s.name] for s in servers if s.database_url}
        left = sorted(str(path.relative_to(folder)) for path in folder.glob("spool-*/spool-*.jsonl"))
        print(f"spool files left after the servers stopped: {left or 'none'}")
    return report(results, stored, sent, args)


def report(results: dict[str, list], stored: dict[str, int], sent: dict[str, int], args) -> int:
    floor = statistics.median(load.rate for load in results["minimal"])
    rows = []
    print(f"gunicorn.conf.py ({_worker_class()}), 2 workers, no recycling, wrk {args.connections} connections, "
          f"{args.rounds} rounds of {args.seconds:g} s, median of the rounds")
    print(f"{'endpoint':26s} {'requests/s':>11s} {'ratio':>6s} {'target':>7s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'CPU ms':>7s} {'errors':>7s} {'replies':>8s} {'stored':>8s}")
    for name, loads in results.items():
        rate = statistics.median(load.rate for load in loads)
        target = TARGETS.get(name)
        row = {"endpoint": name, "requests_per_s": round(rate), "ratio": round(rate / floor, 3),
               "target": target, "p50_ms": statistics.median(load.p50_ms for load in loads),
               "p99_ms": statistics.median(load.p99_ms for load in loads),
               "cpu_ms_per_request": round(statistics.median(load.cpu_ms for load in loads), 3),
               "errors": sum(load.errors for load in loads),
               "replies": sent[name] + sum(load.requests for load in loads),
               "stored": stored.get(name), "rounds": [round(load.rate) for load in loads]}
        rows.append(row)
        print(f"{name:26s} {rate:11.0f} {rate / floor:6.2f} {(f'>={target:.2f}' if target else ''):>7s} "
              f"{row['p50_ms']:7.2f} {row['p99_ms']:7.2f} {row['cpu_ms_per_request']:7.3f} "
              f"{row['errors']:7d} {row['replies']:8d} "
              f"{'' if row['stored'] is None else row['stored']:>8}")
    print("CPU ms: server CPU (master and workers, every thread) per request, median of the rounds; replies: "
          "all the replies wrk received, warm-up included; stored: exchanges in the database after the servers "
          "stopped")
    kinds = ["request threads", "worker main (event loop)", "chat-log database", "chat-log writer",
             "index watcher", "master", "other"]
    print(f"\nserver CPU us per request by kind of thread (median of the rounds)\n{'endpoint':26s} "
          + " ".join(f"{kind[:17]:>17s}" for kind in kinds))
    for row, (name, loads) in zip(rows, results.items(), strict=True):
        row["thread_us"] = {kind: round(statistics.median((load.thread_us or {}).get(kind, 0.0)
                                                          for load in loads)) for kind in kinds}
        print(f"{name:26s} " + " ".join(f"{row['thread_us'][kind]:17d}" for kind in kinds))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def _worker_class() -> str:
    text = (ROOT / "gunicorn.conf.py").read_text()
    worker = re.search(r'^worker_class\s*=\s*"([^"]+)"', text, re.M)
    threads = re.search(r"^threads\s*=\s*(\d+)", text, re.M)
    return f"{worker.group(1) if worker else 'sync'}{f', {threads.group(1)} threads' if threads else ''}"


# -- in process: a reply against a bare retrieval -------------------------------------------

def in_process(args) -> int:
    """Times per dev question: retrieval, the answer policy and POST /api/chat through Flask's test client."""
    from chatbot import create_app
    from chatbot.build import build_index, publish_build
    questions = [json.loads(line)["q"] for line in (ROOT / "tests/data/dev.jsonl").read_text().splitlines()
                 if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = ROOT / "corpus"
        publish_build(build_index(corpus), Path(tmp) / "index", corpus)
        app = create_app({"CHATBOT_INDEX_DIR": str(Path(tmp) / "index"), "CHATBOT_RATE_LIMIT": "off",
                          "CHATBOT_DATABASE_URL": f"sqlite:///{tmp}/chatbot.db", "CHATBOT_LOG_LEVEL": "WARNING",
                          "CHATBOT_SPOOL_DIR": f"{tmp}/spool", "CHATBOT_SERVER_STATE_DIR": tmp})
        service = app.extensions["chatbot"]
        served, responder = service.bot()
        index = served.index
        client = app.test_client()
        repeat = args.repeat
        rows = {
            "retrieval (search, k=10)": _timed(lambda q: index.search(q, 10), questions, repeat),
            "answer policy (respond)": _timed(lambda q: responder.respond(q, index, 3), questions, repeat),
            "POST /api/chat (test client)": _timed(
                lambda q: client.post("/api/chat", json={"message": q}), questions, repeat // 4 or 1),
        }
        app.extensions["chatbot_chat_log"].close()
        service.live_index.stop()
    base = statistics.median(rows["retrieval (search, k=10)"])
    print(f"{len(questions)} dev questions, {repeat} passes")
    print(f"{'what':32s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 / retrieval':>16s}")
    for name, times in rows.items():
        p50 = statistics.median(times)
        p99 = sorted(times)[min(len(times) - 1, int(0.99 * len(times)))]
        print(f"{name:32s} {p50:8.3f} {p99:8.3f} {p50 / base:16.2f}")
    return 0


def _timed(function, questions: list[str], repeat: int) -> list[float]:
    """Milliseconds of each call of `function(question)`, after one warm-up pass."""
    for question in questions:
        function(question)
    times = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            function(question)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each timed wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="turns each endpoint gets (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database to measure chat on")
    parser.add_argument("--json", help="also write the figures as JSON to this path")
    parser.add_argument("--in-process", action="store_true",
                        help="instead: a reply's cost against a bare retrieval, in this process")
    parser.add_argument("--repeat", type=int, default=20, help="--in-process: passes over the questions")
    args = parser.parse_args()
    return in_process(args) if args.in_process else load_test(args)


if __name__ == "__main__":
    sys.exit(main())
