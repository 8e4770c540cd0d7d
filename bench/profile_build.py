"""Where an index build spends its time and memory: PassageIndex.fit sampled by phase.

    python bench/profile_build.py ../shared/data/medquad.jsonl.gz [--size 65628] [--seed 0] [--every 0.05]

Makes the bench_scale.py corpus of `size` FAQ entries, turns it into passages,
then fits the index while a thread samples, every `every` seconds, the
process's RSS and the main thread's stack. Each sample is charged to the line
of `fit` running and the project or library function under it; the report
gives each phase's share of the samples (of wall time: under load, of CPU
time only roughly) and the highest RSS seen in it, then the build's CPU
seconds and peak RSS (VmHWM). A measurement, not a test.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import derived_corpus  # noqa: E402
from bench_search import read_medquad  # noqa: E402

from chatbot.index import PassageIndex  # noqa: E402
from chatbot.passages import make_passages  # noqa: E402

_WATCHED = ("chatbot", "sklearn", "scipy")


def _status_mb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def _where(frame) -> tuple[str, ...]:
    """The watched frames of a stack, outermost first, as file:function:line."""
    found = []
    while frame is not None:
        code = frame.f_code
        if any(part in code.co_filename for part in _WATCHED):
            found.append(f"{os.path.basename(code.co_filename)}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return tuple(reversed(found))


def profile_fit(passages, every: float) -> tuple[dict, list]:
    """(figures, samples) of one PassageIndex().fit(passages); a sample is (rss_mb, stack)."""
    main = threading.main_thread().ident
    samples: list[tuple[int, tuple[str, ...]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            frame = sys._current_frames().get(main)
            samples.append((_status_mb("VmRSS"), _where(frame)))
            done.wait(every)

    start_rss = _status_mb("VmRSS")
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    index = PassageIndex().fit(passages)
    figures = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
               "start_rss_mb": start_rss, "peak_rss_mb": _status_mb("VmHWM"),
               "terms": len(index.vocabulary_), "postings": int(index.postings_.nnz),
               "sentence_postings": int(index.sentence_postings_.nnz)}
    done.set()
    sampler.join()
    return figures, samples


def by_phase(samples: list) -> list[tuple[str, float, int]]:
    """(phase, share of the samples, highest RSS MB) per line of fit and the frame under it."""
    phases: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for rss, where in samples:
        fit_line = next((w for w in where if ":fit:" in w), "outside fit")
        below = [w for w in where if ":fit:" not in w]
        key = fit_line + (" > " + below[0] if below else "")
        phases[key][0] += 1
        phases[key][1] = max(phases[key][1], rss)
    total = max(len(samples), 1)
    return sorted(((k, count / total, rss) for k, (count, rss) in phases.items()), key=lambda p: -p[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("medquad", metavar="MEDQUAD", help="path to medquad.jsonl.gz")
    parser.add_argument("--size", type=int, default=65628, help="FAQ entries of the derived corpus (default 65628)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the derived corpus (as bench_scale.py)")
    parser.add_argument("--every", type=float, default=0.05, help="seconds between samples (default 0.05)")
    parser.add_argument("--top", type=int, default=25, help="phases printed (default 25)")
    args = parser.parse_args(argv)
    passages, _ = make_passages([derived_corpus(read_medquad(args.medquad), args.size, args.seed)])
    figures, samples = profile_fit(passages, args.every)
    print(f"{args.size} entries, {len(passages)} passages: fit {figures['cpu_s']:.1f} CPU s, "
          f"{figures['wall_s']:.1f} wall s, peak RSS {figures['peak_rss_mb']} MB (from {figures['start_rss_mb']}); "
          f"{figures['terms']} terms, {figures['postings']} postings, {figures['sentence_postings']} sentence postings")
    print(f"{'share':>6s} {'max RSS MB':>10s}  phase (line of fit > function under it)")
    for phase, share, rss in by_phase(samples)[:args.top]:
        print(f"{100 * share:5.1f}% {rss:10d}  {phase}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
