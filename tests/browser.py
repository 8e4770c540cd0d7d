"""Shared by the browser tests: Debian's Chromium through Playwright, the app on 127.0.0.1.

Importing this module skips the importing test module, with the reason, when
Playwright or Chromium is missing (`.ci/run` installs both).
"""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    from werkzeug.serving import make_server
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
