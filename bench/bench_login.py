"""Chat throughput before and during a flood of failed staff logins, against real gunicorn.

    python bench/bench_login.py [--seconds 10] [--rounds 3] [--connections 16] [--addresses 64]
                                [--interval 12] [--workers 2] [--worker-class CLASS]
                                [--baseline COMMIT | --no-baseline]

Starts gunicorn with the project's `gunicorn.conf.py` (2 workers, 127.0.0.1,
a free port) over a fresh instance: the default corpus's index, a SQLite
database with one staff account (real scrypt, n = 2**17), its own
server-state folder. The chat limit is set so high that it never refuses
but still counts every request in the shared counter file.

`wrk` (Debian's) sends `POST /api/chat` on `--connections` connections for
`--seconds`:

  1. before: no logins;
  2. during a flood at the default login limits: `--addresses` loopback
     addresses (127.0.x.y) each send a failed login (a random email, or the
     real account's, a wrong password) every `--interval` seconds, starting
     at random moments: 12 s is 5 a minute, within the default per-address
     limit, the flood the issue measured (61 attempts over 8 addresses cut
     chat from about 280 to 4 requests/s);
  3. during the same flood with every login limit lifted (10000/minute:
     per address, per account, and the server's password-check budget), so
     every attempt reaches the password hash: only the hashing gate and the
     backoff stand between the flood and chat.

The same flood also runs against the code before these protections
(`--baseline`, default the commit before them, extracted with `git archive`
and given its own index and database), and chat with the visitor limit "off"
(no counting) runs against a server of its own: the cost of the shared
counters. Every server runs side by side (an idle one costs nothing) and
the runs alternate in rotating order, `--rounds` times; figures are medians,
each flood compared with the same server's "before". Prints requests/s, the
ratios to "before", and what the flood's attempts got (401 checked, 429
limited, 503 busy). A measurement, not a test: always exits 0 unless
something fails to start. Talks only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMAIL = "staff@clinic.example"
PASSWORD = "a long and right passphrase"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{"message": "Does acupuncture hurt?"}'
wrk.headers["Content-Type"] = "application/json"
"""
NEVER_REFUSES = "1000000/minute"
# The commit before the shared limits, the login budget and the hashing gate.
BASELINE_COMMIT = "843f6e3^"


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_instance(folder: Path) -> dict[str, str]:
    """An index of the default corpus and a database with one staff account; the settings naming them."""
    from chatbot import create_app
    from chatbot.build import build_index, publish_build
    publish_build(build_index(ROOT / "corpus"), folder / "index", ROOT / "corpus")
    settings = {"CHATBOT_INDEX_DIR": str(folder / "index"),
                "CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'chatbot.db'}",
                "CHATBOT_SERVER_STATE_DIR": str(folder / "state"), "CHATBOT_SPOOL_DIR": str(folder / "spool"),
                "CHATBOT_SECRET_KEY": "bench-" + "k" * 40, "CHATBOT_LOG_LEVEL": "ERROR"}
    app = create_app({**settings, "CHATBOT_RATE_LIMIT": "off"})
    app.extensions["chatbot_workspace"].accounts.create(EMAIL, PASSWORD)
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()
    return settings


def prepare_baseline(commit: str, folder: Path) -> tuple[Path, dict[str, str]]:
    """The project's tree at `commit`, with an index and an account made by that code; its settings."""
    tree = folder / "baseline-tree"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    settings = {"CHATBOT_INDEX_DIR": str(folder / "baseline-index"),
                "CHATBOT_DATABASE_URL": f"sqlite:///{folder / 'baseline.db'}",
                "CHATBOT_SECRET_KEY": "bench-" + "k" * 40, "CHATBOT_LOG_LEVEL": "ERROR"}
    env = {**os.environ, **settings}
    subprocess.run([sys.executable, "train.py", "--publish"], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    create = (f"from chatbot import create_app; app = create_app({{'CHATBOT_RATE_LIMIT': 'off'}}); "
              f"app.extensions['chatbot_workspace'].accounts.create({EMAIL!r}, {PASSWORD!r}); "
              f"app.extensions['chatbot'].live_index.stop()")
    subprocess.run([sys.executable, "-c", create], cwd=tree, env=env, check=True)
    return tree, settings


class Server:
    """gunicorn with `root`'s gunicorn.conf.py and `settings`, on 127.0.0.1 at a free port."""

    def __init__(self, settings: dict[str, str], workers: int, worker_class: str | None, log: Path,
                 root: Path = ROOT):
        self.port = free_port()
        arguments = f"--workers {workers}" + (f" --worker-class {worker_class} --threads 1" if worker_class else "")
        env = {**os.environ, **settings, "PORT": str(self.port), "GUNICORN_CMD_ARGS": arguments}
        with log.open("ab") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(root / "gunicorn.conf.py"),
                                             "wsgi:app"], cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log}")
            try:
                with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)) as connection:
                    connection.request("GET", "/api/health")
                    if connection.getresponse().status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 90 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(port: int, seconds: int, connections: int, script: Path) -> dict:
    """Chat requests/s and non-2xx responses, by wrk."""
    run = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                          f"http://127.0.0.1:{port}/api/chat"], capture_output=True, text=True, check=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1))
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", run.stdout)
    return {"requests_per_second": rate, "non_2xx": int(failed.group(1)) if failed else 0}


def attempt_login(port: int, source: str, email: str) -> int:
    """One failed login from `source` (GET the form for its CSRF token, then POST); the POST's status."""
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))) as connection:
        connection.request("GET", "/admin/login")
        page = connection.getresponse()
        cookie = (page.getheader("Set-Cookie") or "").split(";")[0]
        token = TOKEN.search(page.read().decode()).group(1)
        body = f"csrf_token={token}&email={email}&password=wrong+password+{random.random()}"
        connection.request("POST", "/admin/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                          "Cookie": cookie})
        response = connection.getresponse()
        response.read()
        return response.status


def flood(port: int, addresses: int, interval: float, stop: threading.Event,
          outcomes: Counter) -> list[threading.Thread]:
    """Threads sending failed logins from `addresses` loopback addresses, each every `interval`
    seconds from a random start, until `stop` is set."""
    lock = threading.Lock()

    def attacker(source: str) -> None:
        stop.wait(random.uniform(0, interval))
        while not stop.is_set():
            email = EMAIL if random.random() < 0.3 else f"guess{random.randrange(10 ** 6)}@clinic.example"
            try:
                status = attempt_login(port, source, email)
            except (OSError, http.client.HTTPException, AttributeError):
                status = "error"
            with lock:
                outcomes[status] += 1
            stop.wait(interval)

    threads = [threading.Thread(target=attacker, args=(f"127.0.{1 + n // 250}.{1 + n % 250}",), daemon=True)
               for n in range(addresses)]
    for thread in threads:
        thread.start()
    return threads


def chat_during_flood(port: int, options, script: Path) -> tuple[dict, Counter]:
    stop, outcomes = threading.Event(), Counter()
    threads = flood(port, options.addresses, options.interval, stop, outcomes)
    result = wrk(port, options.seconds, options.connections, script)
    stop.set()
    for thread in threads:
        thread.join(40)
    return result, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="each run repeated, in rotating order (medians)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--addresses", type=int, default=64)
    parser.add_argument("--interval", type=float, default=12.0, help="seconds between one address's attempts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default=None, help="e.g. sync (default: gunicorn.conf.py's)")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="commit whose code is flooded too")
    parser.add_argument("--no-baseline", action="store_true")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="bench-login-"))
    script = folder / "chat.lua"
    script.write_text(WRK_SCRIPT)
    settings = prepare_instance(folder)
    log = folder / "gunicorn.log"
    lifted = {"CHATBOT_LOGIN_RATE_LIMIT": "10000/minute", "CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT": "10000/minute",
              "CHATBOT_PASSWORD_CHECK_RATE_LIMIT": "10000/minute"}
    configs = {"default login limits": {"CHATBOT_RATE_LIMIT": NEVER_REFUSES},
               "login limits lifted": {"CHATBOT_RATE_LIMIT": NEVER_REFUSES, **lifted},
               "visitor limit off": {"CHATBOT_RATE_LIMIT": "off"}}
    baseline = None if options.no_baseline else prepare_baseline(options.baseline, folder)
    # The servers run side by side (an idle one costs nothing), so the runs can alternate:
    # load from elsewhere on the machine then falls on all of them alike.
    # (run, the server it runs on, whether a login flood runs meanwhile)
    runs = [("before", "default login limits", False),
            ("during flood, default login limits", "default login limits", True),
            ("before (lifted server)", "login limits lifted", False),
            ("during flood, login limits lifted", "login limits lifted", True),
            ("visitor limit off (no counting)", "visitor limit off", False)]
    floods: dict[str, Counter] = {"default login limits": Counter(), "login limits lifted": Counter()}
    if baseline:
        runs += [("before (code before the protections)", "before the protections", False),
                 ("during flood, code before the protections", "before the protections", True)]
        floods["before the protections"] = Counter()
    rates: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    non_2xx: Counter = Counter()
    servers: dict[str, Server] = {}
    try:
        for n, (name, config) in enumerate(configs.items()):
            servers[name] = Server({**settings, **config, "CHATBOT_SERVER_STATE_DIR": str(folder / f"state-{n}")},
                                   options.workers, options.worker_class, log)
        if baseline:
            servers["before the protections"] = Server({**baseline[1], "CHATBOT_RATE_LIMIT": NEVER_REFUSES},
                                                       options.workers, options.worker_class, log, root=baseline[0])
        for server in servers.values():
            wrk(server.port, 2, options.connections, script)  # warm-up
        for round_number in range(options.rounds):
            shift = round_number % len(runs)
            for name, target, flooded in runs[shift:] + runs[:shift]:
                port = servers[target].port
                if flooded:
                    result, outcomes = chat_during_flood(port, options, script)
                    floods[target].update(outcomes)
                else:
                    result = wrk(port, options.seconds, options.connections, script)
                rates[name].append(result["requests_per_second"])
                non_2xx[name] += result["non_2xx"]
    finally:
        for server in servers.values():
            server.stop()
    report(options, rates, non_2xx, floods)


def report(options, rates: dict[str, list[float]], non_2xx: Counter, floods: dict[str, Counter]) -> None:
    median = {name: statistics.median(values) for name, values in rates.items()}
    baseline = {"during flood, default login limits": "before", "during flood, login limits lifted":
                "before (lifted server)", "visitor limit off (no counting)": "before",
                "during flood, code before the protections": "before (code before the protections)"}
    print(f"chat, {options.connections} connections, {options.rounds} x {options.seconds} s per run (median), "
          f"{options.workers} workers ({options.worker_class or 'gunicorn.conf.py worker class'}); "
          f"flood from {options.addresses} addresses, one attempt each every {options.interval:g} s")
    print("| run | chat requests/s | ratio to its server's before | chat non-2xx |")
    print("|---|---|---|---|")
    for name, rate in median.items():
        ratio = f"{rate / median[baseline[name]]:.2f}" if name in baseline else "1.00"
        print(f"| {name} | {rate:,.0f} | {ratio} | {non_2xx[name]} |")
    print()
    print("| flood | attempts | 401 (password checked) | 429 (limited or backing off) | 503 (busy hashing) | other |")
    print("|---|---|---|---|---|---|")
    for name, outcomes in floods.items():
        other = sum(count for status, count in outcomes.items() if status not in (401, 429, 503))
        print(f"| {name} | {sum(outcomes.values())} | {outcomes[401]} | {outcomes[429]} | {outcomes[503]} | {other} |")
    print(json.dumps({"requests_per_second": rates, "floods": {k: dict(v) for k, v in floods.items()}}))


if __name__ == "__main__":
    main()
