"""Cost of one rate-limit hit in each candidate storage, alone and with two processes at once.

    python bench/bench_limits.py [--hits N] [--redis redis://127.0.0.1:6390/0]

Each candidate counts `FixedWindowRateLimiter.hit` (what Flask-Limiter calls
once per limited request) on 200 visitor keys in turn. "alone" is one
process; "2 procs" is two processes hitting the same storage at once (as two
gunicorn workers do), timed per process. The in-memory storage is the
baseline: it is what counted per worker before, and the only one that does
not share its counts. Prints microseconds per hit and the ratio to memory.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from limits import parse  # noqa: E402
from limits.storage import storage_from_string  # noqa: E402
from limits.strategies import FixedWindowRateLimiter  # noqa: E402

from chatbot.shared_counters import SharedCounterStorage, storage_uri  # noqa: E402

KEYS = [f"10.0.{i // 250}.{i % 250}" for i in range(200)]


class DurableCounterStorage(SharedCounterStorage):
    """The same table with SQLite's default rollback journal and synchronous=FULL (a candidate)."""

    STORAGE_SCHEME = ["bench+sqlite-durable"]
    JOURNAL_MODE = "DELETE"
    SYNCHRONOUS = "FULL"


def microseconds_per_hit(uri: str, hits: int) -> float:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    item = parse("1000000/hour")
    for key in KEYS:  # warm-up: connections open, rows exist
        limiter.hit(item, key)
    started = time.perf_counter()
    for i in range(hits):
        limiter.hit(item, KEYS[i % len(KEYS)])
    return (time.perf_counter() - started) / hits * 1e6


def _worker(args) -> float:
    return microseconds_per_hit(*args)


def measure(uri: str, hits: int) -> tuple[float, float]:
    """(µs per hit alone, mean µs per hit of each of two processes hitting at once)."""
    alone = microseconds_per_hit(uri, hits)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        both = pool.map(_worker, [(uri, hits)] * 2)
    return alone, sum(both) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=20_000)
    parser.add_argument("--redis", default="", help="a Redis URL to measure too (e.g. redis://127.0.0.1:6390/0)")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-limits-"))
    candidates = [
        ("memory:// (per worker: not shared)", "memory://"),
        ("SQLite file, WAL, synchronous=OFF (chosen)", storage_uri(folder / "wal.sqlite")),
        ("SQLite file, rollback journal, synchronous=FULL",
         storage_uri(folder / "durable.sqlite").replace("chatbot+sqlite", "bench+sqlite-durable")),
    ]
    if options.redis:
        candidates.append(("Redis on loopback", options.redis))
    baseline = None
    print(f"{options.hits} hits per process; µs per hit (ratio to memory://)")
    print("| storage | alone | 2 processes at once |")
    print("|---|---|---|")
    for name, uri in candidates:
        try:
            alone, both = measure(uri, options.hits)
        except Exception as error:  # a candidate that fails under load is a result too
            print(f"| {name} | failed: {type(error).__name__}: {error} | |")
            continue
        baseline = baseline or alone
        print(f"| {name} | {alone:.1f} ({alone / baseline:.1f}x) | {both:.1f} ({both / baseline:.1f}x) |")


if __name__ == "__main__":
    main()
