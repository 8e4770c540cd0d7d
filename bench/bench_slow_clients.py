"""Slow clients against gunicorn's worker classes, side by side in one run.

    .venv/bin/python bench/bench_slow_clients.py [--clients 50] [--seconds 10]

For each worker class (sync, gunicorn's stock gthread, and the project's
BufferingThreadWorker), a real gunicorn (gunicorn.conf.py, 2 workers, 4
threads where threaded) serves the default corpus on 127.0.0.1. Then:

1. without slow clients, `wrk` (when installed) measures /api/health and
   /api/chat requests/s with 16 connections: 2 s turns, the three servers
   taking turns for `--rounds` rounds (all three run at once, so a machine
   busy with other work slows each alike), the median turn reported;
2. `--clients` connections hang on (a quarter silent, a quarter trickling
   a head one byte every 0.2 s, a quarter stalled mid-body, a quarter
   trickling a body) while /api/health is asked once every 0.1 s for
   `--seconds`, each with a 2 s timeout.

Prints one table; throughput as ratios to sync measured in the same run.
A measurement, not a test: always exits 0.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLASSES = ("sync", "gthread", "chatbot.serving.worker.BufferingThreadWorker")
CHAT_BODY = b'{"message": "does acupuncture hurt?"}'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health_seconds(port: int, timeout: float) -> float | None:
    """Seconds /api/health took, None when it did not answer within `timeout`."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
            client.sendall(b"GET /api/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            answer = client.recv(64)
    except OSError:
        return None
    return time.monotonic() - started if answer.startswith(b"HTTP/1.1 200") else None


def start(worker_class: str, index_dir: Path, state: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, CHATBOT_INDEX_DIR=str(index_dir), CHATBOT_DATABASE_URL=f"sqlite:///{state}/chat.db",
               CHATBOT_SERVER_STATE_DIR=str(state), CHATBOT_SPOOL_DIR=str(state / "spool"),
               CHATBOT_RATE_LIMIT="off", PORT=str(port), PYTHONPATH=str(ROOT))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "-w", "2", "-k", worker_class,
                                "--access-logfile", "/dev/null", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and health_seconds(port, 1) is None:
        time.sleep(0.2)
    return process, port


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wrk_rps(port: int, path: str, script: Path | None) -> float | None:
    if not shutil.which("wrk"):
        return None
    command = ["wrk", "-t2", "-c16", "-d2s"] + (["-s", str(script)] if script else [])
    output = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(found.group(1)) if found else None


class SlowClients:
    """`count` slow connections to 127.0.0.1:`port`, held open until close() (also used by
    tests/test_serving_front.py): a quarter silent, a quarter trickling a request head, a
    quarter stalled (the head and 10 bytes of a 100-byte body, then nothing), the rest
    trickling that body; trickling is one byte every 0.2 s, never finishing in time."""

    def __init__(self, port: int, count: int):
        body = CHAT_BODY + b" " * (100 - len(CHAT_BODY))
        head = b"GET /api/health HTTP/1.1\r\nHost: bench\r\n\r\n"
        post = (b"POST /api/chat HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)) + body
        quarter = count // 4
        self.stalled: list[socket.socket] = []
        self._trickled: list[tuple[socket.socket, bytes]] = []
        self._all: list[socket.socket] = []
        self._stop = threading.Event()
        for i in range(count):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            self._all.append(client)
            if quarter <= i < 2 * quarter:
                self._trickled.append((client, head))
            elif 2 * quarter <= i < 3 * quarter:
                client.sendall(post[:-90])
                self.stalled.append(client)
            elif i >= 3 * quarter:
                self._trickled.append((client, post))
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        sent = 0
        while True:
            for client, plan in self._trickled:
                if sent < len(plan) - 1:
                    try:
                        client.send(plan[sent:sent + 1])
                    except OSError:
                        pass
            sent += 1
            if self._stop.wait(0.2):
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for client in self._all:
            client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def throughput(ports: dict[str, int], script: Path, rounds: int) -> dict[str, dict]:
    """Median requests/s of health and chat per server, the servers taking turns."""
    turns = {name: {"health_rps": [], "chat_rps": []} for name in ports}
    for _ in range(rounds):
        for name, port in ports.items():
            turns[name]["health_rps"].append(wrk_rps(port, "/api/health", None))
            turns[name]["chat_rps"].append(wrk_rps(port, "/api/chat", script))
    return {name: {key: statistics.median(v) if None not in v else None for key, v in figures.items()}
            for name, figures in turns.items()}


def under_slow_clients(port: int, clients: int, seconds: float) -> dict:
    """How /api/health answers while `clients` slow connections hang on."""
    with SlowClients(port, clients):
        timings, ended = [], time.monotonic() + seconds
        while time.monotonic() < ended:
            timings.append(health_seconds(port, 2.0))
            time.sleep(0.1)
    answered = sorted(t for t in timings if t is not None)
    return {"asked": len(timings), "within_1s": sum(t < 1.0 for t in answered),
            "p50_ms": answered[len(answered) // 2] * 1000 if answered else None,
            "max_ms": answered[-1] * 1000 if answered else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from chatbot.build import build_index, publish_build
    with tempfile.TemporaryDirectory() as folder:
        index_dir = Path(folder) / "index"
        publish_build(build_index(ROOT / "corpus"), index_dir, ROOT / "corpus")
        servers = {}
        for name in CLASSES:
            (Path(folder) / name).mkdir()
            servers[name] = start(name, index_dir, Path(folder) / name)
        try:
            script = Path(folder) / "chat.lua"
            script.write_text('wrk.method = "POST"\nwrk.body = \'%s\'\n'
                              'wrk.headers["Content-Type"] = "application/json"\n' % CHAT_BODY.decode())
            results = throughput({name: port for name, (_, port) in servers.items()}, script, args.rounds)
            for name, (_, port) in servers.items():
                results[name].update(under_slow_clients(port, args.clients, args.seconds))
        finally:
            for process, _ in servers.values():
                stop(process)
    base = results["sync"]
    print(f"| worker class | health req/s (x sync) | chat req/s (x sync) | health answered within 1 s, "
          f"{args.clients} slow clients | p50 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        def ratio(key, r=r):
            if r[key] is None or not base[key]:
                return "n/a"
            return f"{r[key]:,.0f} ({r[key] / base[key]:.2f})"
        p50 = f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else "-"
        worst = f"{r['max_ms']:.1f}" if r["max_ms"] is not None else "-"
        print(f"| {name.rsplit('.', 1)[-1]} | {ratio('health_rps')} | {ratio('chat_rps')} | "
              f"{r['within_1s']}/{r['asked']} | {p50} | {worst} |")


if __name__ == "__main__":
    main()
