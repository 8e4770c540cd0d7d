"""Cost of a chat reply against a bare retrieval, on the default corpus, in-process.

    python bench/bench_chat.py [--repeat N]

Times, per dev question: `index.search(q, 10)` (retrieval), `Responder.respond`
(the whole answer policy: urgent screen, smalltalk, retrieval with highlights,
threshold, suggestions), and a full `POST /api/chat` through Flask's test
client (JSON parsing, validation, policy, storage write in SQLite, JSON reply).
Prints p50/p99 in milliseconds and the ratios to retrieval.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot import create_app  # noqa: E402
from chatbot.build import build_index, publish_build  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(function, questions: list[str], repeat: int) -> list[float]:
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
    parser.add_argument("--repeat", type=int, default=20, help="passes over the questions (default 20)")
    args = parser.parse_args()
    questions = [json.loads(line)["q"] for line in (ROOT / "tests/data/dev.jsonl").read_text().splitlines()
                 if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = ROOT / "corpus"
        publish_build(build_index(corpus), Path(tmp) / "index", corpus)
        app = create_app({"CHATBOT_INDEX_DIR": str(Path(tmp) / "index"), "CHATBOT_RATE_LIMIT": "off",
                          "CHATBOT_DATABASE_URL": f"sqlite:///{tmp}/chatbot.db", "CHATBOT_LOG_LEVEL": "WARNING"})
        service = app.extensions["chatbot"]
        index = service.live_index.get().index
        responder = service.responder()
        client = app.test_client()
        rows = {
            "retrieval (search, k=10)": timed(lambda q: index.search(q, 10), questions, args.repeat),
            "answer policy (respond)": timed(lambda q: responder.respond(q, index, 3), questions, args.repeat),
            "POST /api/chat (test client)": timed(
                lambda q: client.post("/api/chat", json={"message": q}), questions, args.repeat // 4 or 1),
        }
        service.live_index.stop()
    base = statistics.median(rows["retrieval (search, k=10)"])
    print(f"{len(questions)} dev questions, {args.repeat} passes")
    print(f"{'what':32s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 / retrieval':>16s}")
    for name, times in rows.items():
        p50 = statistics.median(times)
        print(f"{name:32s} {p50:8.3f} {percentile(times, 0.99):8.3f} {p50 / base:16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
