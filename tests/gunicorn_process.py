"""A real gunicorn for the fault tests: the project's gunicorn.conf.py on 127.0.0.1.

One helper for every test that needs the real server (slow clients, worker
restarts, shared limits), so they start, wait and stop it the same way.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import REPO_ROOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn -c gunicorn.conf.py with `workers` workers on a free loopback port.

    `env` is the whole environment of the server (PORT is set here); its
    output goes to `gunicorn-PORT.log` in `log_dir`. The constructor returns once /api/health
    answers and `workers` workers are up, and raises RuntimeError (with the
    log's tail) when the server exits or is not ready within `start_seconds`.
    """

    def __init__(self, env: dict[str, str], log_dir: Path, *args: str, workers: int = 2,
                 start_seconds: float = 60):
        self.port = free_port()
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), *args, "wsgi:app"],
            cwd=REPO_ROOT, env={**env, "PORT": str(self.port)}, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + start_seconds
        while len(self.workers()) < workers or not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn was not ready within {start_seconds:.0f} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answered, if not with 200
        except OSError:
            return False

    def workers(self) -> set[int]:
        """Process ids of the master's live worker processes."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in path.read_text().split()}
        except OSError:
            return set()

    def log(self) -> str:
        """What the server wrote so far (also after stop())."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL if it has not exited within 15 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()
