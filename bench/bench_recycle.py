"""Health latency while gunicorn recycles its workers, against the same run without recycling.

    python bench/bench_recycle.py [--seconds 20] [--connections 8] [--delay-ms 20] [--max-requests 300]

Two servers, one after the other, each gunicorn with the project's
`gunicorn.conf.py` (2 workers) on 127.0.0.1 over a fresh instance folder (a
copy of corpus/, its own index and SQLite database): the baseline with
recycling off (`--max-requests 0`), then the same with `--max-requests N`
(jitter N/5). The master boots with version 1; versions 2 and 3 are published
(`train.py --publish`) before the load starts, so every recycled worker, forked
from the master's boot copy, must load a version two publications newer
before it serves. `wrk` then loads /api/health for `--seconds` at a steady
rate below saturation (each connection pauses `--delay-ms` between requests),
and counts replies that do not name version 3. The script prints p50/p99
(wrk's latency distribution), requests/s, errors, stale replies, how many
workers were started and how many processes loaded version 3.
A measurement, not a test: it always exits 0. Talks only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_SECONDS = 120


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    """A corpus copy, an index folder and a SQLite database in a temporary folder."""

    def __init__(self, folder: Path):
        self.corpus, self.index = folder / "corpus", folder / "index"
        self.database = f"sqlite:///{folder / 'chatbot.db'}"
        self.folder = folder
        shutil.copytree(ROOT / "corpus", self.corpus)
        self.pages = 0

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_") and k != "PORT"}
        env.update(CHATBOT_CORPUS_DIR=str(self.corpus), CHATBOT_INDEX_DIR=str(self.index),
                   CHATBOT_DATABASE_URL=self.database, CHATBOT_RATE_LIMIT="off",
                   CHATBOT_SERVER_STATE_DIR=str(self.folder / "state"),
                   CHATBOT_SECRET_KEY="bench-secret-key-not-for-production")
        return env

    def publish(self) -> str:
        """Add a page and `train.py --publish` it; the new version's id."""
        self.pages += 1
        (self.corpus / f"bench-page-{self.pages}.md").write_text(
            f"---\ntitle: Parking note {self.pages}\nkind: article\n---\n"
            f"Visitors who park in the side street should allow five minutes' walk (note {self.pages}).\n",
            encoding="utf-8")
        output = subprocess.run([PYTHON, "train.py", "--corpus", str(self.corpus), "--out", str(self.index),
                                 "--database-url", self.database, "--publish", "--override", "benchmark run"],
                                cwd=ROOT, env=self.env(), capture_output=True, text=True, check=True).stdout
        return re.search(r"^published\s+(\S+)", output, re.M).group(1)


class Server:
    def __init__(self, instance: Instance, *args: str):
        self.port = free_port()
        self.log_path = instance.folder / f"gunicorn-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--access-logfile", "/dev/null", *args, "wsgi:app"],
            cwd=ROOT, env=instance.env(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.health()
                return
            except OSError as err:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()  # never leave a half-started server behind
                    raise SystemExit(f"gunicorn did not start; see {self.log_path}") from err
                time.sleep(0.2)

    def health(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=5) as response:
            return json.load(response)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) stale = 0 end
function delay() return %(delay_ms)d end
function response(status, headers, body)
  if not string.find(body, "%(version)s", 1, true) then stale = stale + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("stale") end
  io.write(string.format("Stale replies: %%d\\n", total))
end
"""


def run_wrk(port: int, seconds: int, connections: int, delay_ms: int, version: str) -> dict:
    """wrk on /api/health; each connection waits `delay_ms` between requests (a steady load
    below saturation, so that a stall shows in the latency rather than in a queue), and
    replies that do not name `version` are counted as stale."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"delay_ms": delay_ms, "version": version})
        script.flush()
        output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
                                 "-s", script.name, f"http://127.0.0.1:{port}/api/health"],
                                capture_output=True, text=True).stdout
    figures = {"output": output}
    for label, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        figures[f"p{label}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    figures["requests_per_second"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    figures["stale_replies"] = int(re.search(r"Stale replies: (\d+)", output).group(1))
    return figures


def measure(label: str, args: list[str], seconds: int, connections: int, delay_ms: int) -> dict:
    """One server: boot with v1, publish v2 and v3, then load (no build runs meanwhile)."""
    with tempfile.TemporaryDirectory(prefix="bench-recycle-") as folder:
        instance = Instance(Path(folder))
        instance.publish()
        server = Server(instance, *args)
        try:
            instance.publish()
            newest = instance.publish()
            deadline = time.monotonic() + 30
            while any(server.health()["index_version"] != newest for _ in range(10)):
                if time.monotonic() > deadline:
                    raise SystemExit(f"version {newest} not served after 30 s; see {server.log_path}")
                time.sleep(0.2)
            figures = run_wrk(server.port, seconds, connections, delay_ms, newest)
            log = server.log()
        finally:
            server.stop()
    figures.update(label=label, workers_started=log.count("Booting worker"),
                   newest_loads=len(re.findall(rf"serving index version {re.escape(newest)} ", log)))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="load duration per server (default 20)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--delay-ms", type=int, default=20,
                        help="pause of each connection between requests (default 20: about 400 requests/s)")
    parser.add_argument("--max-requests", type=int, default=300, help="gunicorn max_requests when recycling")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 0
    jitter = max(1, args.max_requests // 5)
    load = (args.seconds, args.connections, args.delay_ms)
    runs = [measure("recycling off", ["--max-requests", "0"], *load),
            measure(f"max_requests {args.max_requests} (jitter {jitter})",
                    ["--max-requests", str(args.max_requests), "--max-requests-jitter", str(jitter)], *load)]
    base = runs[0]
    print("| run | workers started | loads of v3 | health p50 ms | health p99 ms | p99 / baseline |"
          " requests/s | errors | replies not from v3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(f"| {run['label']} | {run['workers_started']} | {run['newest_loads']} | "
              f"{run.get('p50_ms', float('nan')):.2f} | {run.get('p99_ms', float('nan')):.2f} | "
              f"{run.get('p99_ms', 0) / base.get('p99_ms', 1):.2f} | {run['requests_per_second']:.0f} | "
              f"{run['socket_errors'] + run['non_2xx']} | {run['stale_replies']} |")
    print(json.dumps([{k: v for k, v in run.items() if k != "output"} for run in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
