"""What the chat log's journal costs a chat request: two commits side by side in one run.

    python bench/bench_journal.py --baseline 5ba418d --change 7a30087 --paths chatbot/storage [--chats 2000]
                                  [--rounds 3]

Both commits are unpacked with `git archive` (read only: no checkout, no
worktree); with `--paths`, the change's tree is the baseline's with only
those paths taken from the change (so that what others committed in between,
a corpus edit say, is not measured). Each tree gets its own index of the
default corpus built by its own code. Then, taking turns for `--rounds` rounds, a fresh process per commit
posts `--chats` dev questions to /api/chat through Flask's test client (an
app over a SQLite file, rate limit off, after 200 warm-up chats) and
measures per chat:

  * `wall`: the request's time as the caller sees it (median);
  * `request CPU`: CPU time of the request's thread (`time.thread_time`):
    what the reply costs before it leaves, where the journal write happens;
  * `process CPU`: CPU time of the whole process over the loop, divided by
    the chats: the request plus the writer threads (the redaction moved
    from the writer thread to the request, so this shows what is added).

Medians of the rounds and the ratio change / baseline are printed. The
journal's own pieces (making the redacted record, one `os.write` of its
line) are also timed in a loop in this process, in microseconds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run inside the unpacked tree of one commit: argv = tree, work folder, chats; prints one JSON line.
MEASURE = r"""
import json, statistics, sys, time
from pathlib import Path
tree, work, chats = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, str(tree))
from chatbot import create_app
questions = [json.loads(line)["q"] for line in (tree / "tests/data/dev.jsonl").read_text().splitlines() if line.strip()]
app = create_app({"CHATBOT_INDEX_DIR": str(work / "index"), "CHATBOT_RATE_LIMIT": "off",
                  "CHATBOT_CORPUS_DIR": str(tree / "corpus"),
                  "CHATBOT_DATABASE_URL": f"sqlite:///{work}/chatbot-{time.time_ns()}.db",
                  "CHATBOT_LOG_LEVEL": "WARNING", "CHATBOT_SPOOL_DIR": str(work / f"spool-{time.time_ns()}"),
                  "CHATBOT_SERVER_STATE_DIR": str(work), "CHATBOT_SECRET_KEY": "bench"})
client = app.test_client()
for number in range(200):
    client.post("/api/chat", json={"message": questions[number % len(questions)]})
writer = app.extensions["chatbot_chat_log"]
writer.flush()
walls, cpus = [], []
process_started = time.process_time()
for number in range(chats):
    body = {"message": questions[number % len(questions)]}
    wall, cpu = time.perf_counter(), time.thread_time()
    response = client.post("/api/chat", json=body)
    cpus.append(time.thread_time() - cpu)
    walls.append(time.perf_counter() - wall)
    assert response.status_code == 200
writer.flush(60)
process = time.process_time() - process_started
stored = len(writer.storage.recent_exchanges(chats + 1000))
writer.close()
app.extensions["chatbot"].live_index.stop()
print(json.dumps({"wall_ms": statistics.median(walls) * 1e3, "request_cpu_ms": statistics.median(cpus) * 1e3,
                  "process_cpu_ms": process / chats * 1e3, "stored": stored}))
"""

BUILD = r"""
import sys
from pathlib import Path
tree, work = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(tree))
from chatbot.build import build_index, publish_build
publish_build(build_index(tree / "corpus"), work / "index", tree / "corpus")
"""


def unpack(rev: str, folder: Path, *paths: str) -> Path:
    """The files of commit `rev` (only `paths`, if given) in `folder` (git archive | tar), without
    touching the checkout."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *paths], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_python(code: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout


def journal_pieces(loops: int = 20_000) -> dict[str, float]:
    """Microseconds of the journal's pieces in this process (the change's code from this checkout)."""
    sys.path.insert(0, str(ROOT))
    from datetime import datetime, timezone

    from chatbot.storage import Exchange
    from chatbot.storage.journal import Journal
    from chatbot.storage.records import exchange_record
    exchange = Exchange("0" * 48, "session-0001", "How many sessions will I need for my lower back pain?",
                        "answer", ("57e98bdbb0628c2f", "1234567890abcdef", "fedcba0987654321"), (0.41, 0.3, 0.2),
                        "20261121T101500.123456Z-3f9a1c", datetime.now(timezone.utc), 0.8)
    record = exchange_record(exchange)
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(folder, rotate_bytes=1 << 30)
        append = timeit.timeit(lambda: journal.append(record), number=loops) / loops
        journal.done([journal.append(record)] * (loops + 1))  # all in one file: rotation is off
        journal.close()
    make = timeit.timeit(lambda: exchange_record(exchange), number=loops) / loops
    line = len(json.dumps(record, separators=(",", ":"))) + 1
    return {"record (redaction) us": make * 1e6, "journal append us": append * 1e6, "line bytes": line}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="commit before the journal")
    parser.add_argument("--change", default="HEAD", help="commit with the journal (default HEAD)")
    parser.add_argument("--paths", nargs="*", default=[],
                        help="take only these paths from the change, the rest from the baseline")
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        trees = {}
        for name, rev in (("baseline", args.baseline), ("change", args.change)):
            tree = unpack(args.baseline if args.paths else rev, Path(tmp) / name / "tree")
            if name == "change" and args.paths:
                unpack(rev, tree, *args.paths)
            work = Path(tmp) / name / "work"
            run_python(BUILD, str(tree), str(work))
            trees[name] = (tree, work)
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, (tree, work) in trees.items():
                results[name].append(json.loads(run_python(MEASURE, str(tree), str(work), str(args.chats))))
    print(f"{args.chats} chats per round, {args.rounds} rounds; baseline {args.baseline}, change {args.change}"
          + (f" (only {' '.join(args.paths)})" if args.paths else ""))
    print(f"{'per chat (median of rounds)':28s} {'baseline':>10s} {'change':>10s} {'ratio':>7s}")
    for key, label in (("wall_ms", "wall ms"), ("request_cpu_ms", "request CPU ms"),
                       ("process_cpu_ms", "process CPU ms")):
        base = statistics.median(r[key] for r in results["baseline"])
        change = statistics.median(r[key] for r in results["change"])
        print(f"{label:28s} {base:10.3f} {change:10.3f} {change / base:7.3f}")
    for name in trees:
        print(f"{name}: stored {[r['stored'] for r in results[name]]} of {args.chats + 200} per round")
    for label, value in journal_pieces().items():
        print(f"{label:28s} {value:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
