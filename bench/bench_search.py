"""Speed benchmark: the passage index against two baselines on MedQuAD.

    python bench/bench_search.py ../shared/data/medquad.jsonl.gz [--queries 1000] [--seed 0] [--k 10]
                                 [--warmup 100] [--block 50] [--no-memory] [--json PATH]

One run builds three systems over the same passages and times the same
queries on each, one query at a time, in this process; the systems take
turns on blocks of queries so that a busy moment of the machine falls on all:

    ours     chatbot.index.PassageIndex: make_passages + fit, then index.search(q, k)
    cosine   scikit-learn TfidfVectorizer, cosine_similarity(query, full matrix), argsort
    bm25s    bm25s.BM25 (Lucene variant), retrieve([tokens], k) per query

All three read the index's own analyzer (content stems and stem bigrams), so
the figures compare scoring engines, not tokenizers. See bench/README.md for
what each figure means and the targets it is checked against.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import bm25s
import numpy as np
import scipy
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere, without installing the project
    sys.path.insert(0, str(ROOT))

from chatbot.corpus.model import Document, FaqEntry  # noqa: E402
from chatbot.index import PassageIndex  # noqa: E402
from chatbot.index.artifact import load_index, save_index  # noqa: E402
from chatbot.index.terms import word_terms  # noqa: E402
from chatbot.passages import Passage, make_passages  # noqa: E402
from chatbot.text import stem  # noqa: E402

# Targets from the issue; checked and printed, never turned into an exit code.
P50_TARGET_MS = 1.0
P99_TARGET_MS = 5.0
MIN_SPEEDUP_VS_COSINE = 20.0
BUILD_TARGET_SECONDS = 30.0

MB = 1024 * 1024


# -- corpus and queries --------------------------------------------------------
def read_medquad(path: str | Path) -> Document:
    """One FAQ document holding every MedQuAD record, in file order (line n = record n)."""
    entries = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            record = json.loads(line)
            url = record.get("url") or ""
            entries.append(FaqEntry(question=record["question"], answer=record["answer"],
                                    source_title=record.get("focus"),
                                    source_url=url if url.startswith("http") else None, line=number))
    return Document(doc_id="medquad", title="MedQuAD", blocks=tuple(entries), kind="faq")


def sample_queries(document: Document, n: int, warmup: int, seed: int) -> tuple[list[str], list[str]]:
    """(warm-up queries, timed queries): disjoint, seeded samples of the distinct questions, verbatim."""
    questions = sorted({entry.question for entry in document.blocks})
    if n + warmup > len(questions):
        raise ValueError(f"asked for {n} + {warmup} queries, the corpus has {len(questions)} distinct questions")
    chosen = random.Random(seed).sample(questions, n + warmup)
    return chosen[:warmup], chosen[warmup:]


def passage_document(passage: Passage) -> str:
    """A passage as one text for the baselines: FAQ question, heading, then text."""
    return "\n".join(part for part in (passage.question, passage.section, passage.text) if part)


# -- the baselines -------------------------------------------------------------
class CosineBaseline:
    """Full-matrix TF-IDF cosine: every query is compared with every passage."""

    def fit(self, passages: list[Passage]) -> "CosineBaseline":
        """L2-normalised sublinear TF-IDF rows, one per passage (our analyzer); returns self."""
        self.vectorizer_ = TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, dtype=np.float32)
        self.matrix_ = self.vectorizer_.fit_transform([passage_document(p) for p in passages])
        return self

    def search(self, query: str, k: int) -> np.ndarray:
        """Row numbers of the `k` best passages: cosine with the whole matrix, then a full argsort."""
        scores = cosine_similarity(self.vectorizer_.transform([query]), self.matrix_).ravel()
        return np.argsort(-scores)[:k]


class Bm25sBaseline:
    """bm25s with its defaults (Lucene BM25, k1 = 1.5, b = 0.75, numpy backend)."""

    def fit(self, passages: list[Passage]) -> "Bm25sBaseline":
        """Index the passages' analyzer terms; returns self."""
        self.retriever_ = bm25s.BM25()
        self.retriever_.index([word_terms(passage_document(p)) for p in passages], show_progress=False)
        return self

    def search(self, query: str, k: int) -> np.ndarray:
        """Row numbers of the `k` best passages for one query."""
        documents, _scores = self.retriever_.retrieve([word_terms(query)], k=k, show_progress=False)
        return documents[0]


BASELINES = {"cosine": CosineBaseline, "bm25s": Bm25sBaseline}


def build_ours(document: Document) -> tuple[PassageIndex, dict]:
    """(fitted index, {"passages_seconds", "fit_seconds"}): the build the issue's 30 s target is about."""
    started = time.perf_counter()
    passages, _stats = make_passages([document])
    made = time.perf_counter()
    index = PassageIndex().fit(passages)
    return index, {"passages_seconds": made - started, "fit_seconds": time.perf_counter() - made}


# -- measuring -----------------------------------------------------------------
def cold_start() -> None:
    """Empty the stem cache (if stemming is cached), so that every build pays for its own stemming."""
    getattr(stem, "cache_clear", lambda: None)()


def timed(build: Callable, *args) -> tuple[object, float]:
    """(build(*args), wall seconds), from a cold stem cache."""
    cold_start()
    started = time.perf_counter()
    result = build(*args)
    return result, time.perf_counter() - started


def traced(build: Callable, *args) -> dict:
    """Peak and retained Python-heap MB of build(*args) (tracemalloc; numpy buffers included).

    Run apart from `timed`: tracing slows allocation, so its wall time is not reported.
    """
    cold_start()
    tracemalloc.start()
    try:
        result = build(*args)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return {"peak_mb": peak / MB, "retained_mb": retained / MB}


def latency_figures(seconds: list[float]) -> dict:
    """p50, p99, mean and max in ms, and queries per second (count / summed time) of per-query times."""
    ms = np.asarray(seconds) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()), "max_ms": float(ms.max()),
            "queries_per_second": len(ms) / float(np.sum(seconds))}


def time_queries(searches: dict[str, Callable[[str], object]], warmup: list[str],
                 queries: list[str], block: int) -> dict[str, tuple[dict, list]]:
    """{system: (latency figures, results)}, each query timed alone with perf_counter.

    Every system first answers `warmup` untimed. Then the systems take turns on
    blocks of `block` queries, in an order that rotates, so that a busy moment
    of a shared machine falls on all of them alike.
    """
    for search in searches.values():
        for query in warmup:
            search(query)
    names = list(searches)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    results: dict[str, list] = {name: [] for name in names}
    for turn, first in enumerate(range(0, len(queries), block)):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            search = searches[name]
            for query in queries[first:first + block]:
                started = time.perf_counter()
                result = search(query)
                seconds[name].append(time.perf_counter() - started)
                results[name].append(result)
    return {name: (latency_figures(seconds[name]), results[name]) for name in names}


def found_at_k(ranked_rows: list, queries: list[str], passages: list[Passage]) -> float:
    """Share of queries whose own FAQ passage is among the returned rows (a sanity check, not a quality figure)."""
    rows_of: dict[str, set[int]] = {}
    for row, passage in enumerate(passages):
        rows_of.setdefault(passage.question, set()).add(row)
    found = sum(bool(rows_of.get(query, set()) & {int(r) for r in rows})
                for query, rows in zip(queries, ranked_rows, strict=True))
    return found / len(queries)


def hit_rows(hits: list, row_of: dict[str, int]) -> list[int]:
    """Passage rows of our index's hits."""
    return [row_of[hit.passage.id] for hit in hits]


def measure_artifact(index: PassageIndex) -> dict:
    """Save the index to a temporary folder, then load it back (checksums verified, as the server does)."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        started = time.perf_counter()
        save_index(index, folder)
        figures["save_seconds"] = time.perf_counter() - started
        figures["size_mb"] = sum(path.stat().st_size for path in Path(folder).iterdir()) / MB
        started = time.perf_counter()
        try:
            load_index(folder)
            figures["load_seconds"] = time.perf_counter() - started
        except Exception as exc:  # a broken artifact is a finding to print, not a reason to lose the run
            figures["load_error"] = f"{type(exc).__name__}: {exc}"
    return figures


# -- the run -------------------------------------------------------------------
def build_all(document: Document) -> tuple[dict[str, object], dict[str, dict]]:
    """({system: fitted system}, {system: build figures}); the baselines index our passages."""
    (index, parts), seconds = timed(build_ours, document)
    systems = {"ours": index}
    figures = {"ours": {"build_seconds": seconds, **parts, "passages": len(index.passages_),
                        "vocabulary": index.vocabulary_size, "postings": int(index.postings_.nnz),
                        "artifact": measure_artifact(index)}}
    for name, baseline in BASELINES.items():
        print(f"building {name} ...", flush=True)
        systems[name], seconds = timed(baseline().fit, index.passages_)
        figures[name] = {"build_seconds": seconds}
    return systems, figures


def query_all(systems: dict[str, object], warmup: list[str], queries: list[str], k: int,
              block: int) -> dict[str, dict]:
    """{system: latency figures and found@k} over the same queries."""
    passages = systems["ours"].passages_
    row_of = {passage.id: row for row, passage in enumerate(passages)}
    searches = {name: functools.partial(system.search, k=k) for name, system in systems.items()}
    figures = {}
    for name, (latency, results) in time_queries(searches, warmup, queries, block).items():
        rows = [hit_rows(hits, row_of) for hits in results] if name == "ours" else results
        figures[name] = {**latency, "found_at_k": found_at_k(rows, queries, passages)}
    return figures


def measure_memory(document: Document, passages: list[Passage]) -> dict[str, dict]:
    """{system: peak and kept MB} from a second, traced build of each system."""
    memory = {"ours": traced(build_ours, document)}
    for name, baseline in BASELINES.items():
        memory[name] = traced(baseline().fit, passages)
    return memory


def verdicts(systems: dict) -> list[tuple[str, bool]]:
    """(target, met) for each target of the issue."""
    ours, cosine, bm25 = systems["ours"], systems["cosine"], systems["bm25s"]
    speedup = cosine["p50_ms"] / ours["p50_ms"]
    return [
        (f"p50 <= {P50_TARGET_MS:g} ms (ours {ours['p50_ms']:.3f} ms)", ours["p50_ms"] <= P50_TARGET_MS),
        (f"p99 <= {P99_TARGET_MS:g} ms (ours {ours['p99_ms']:.3f} ms)", ours["p99_ms"] <= P99_TARGET_MS),
        (f">= {MIN_SPEEDUP_VS_COSINE:g}x faster than cosine_similarity at p50 ({speedup:.1f}x)",
         speedup >= MIN_SPEEDUP_VS_COSINE),
        (f"no slower than bm25s (bm25s time / ours: p50 {bm25['p50_ms'] / ours['p50_ms']:.2f}, "
         f"p99 {bm25['p99_ms'] / ours['p99_ms']:.2f}; below 1 means ours is slower)",
         ours["p50_ms"] <= bm25["p50_ms"] and ours["p99_ms"] <= bm25["p99_ms"]),
        (f"build <= {BUILD_TARGET_SECONDS:g} s (make_passages + fit {ours['build_seconds']:.1f} s)",
         ours["build_seconds"] <= BUILD_TARGET_SECONDS),
    ]


def code_version() -> str:
    """The checked-out commit, with "+changes" when chatbot/ differs from it; "unknown" outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "chatbot") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    """What the figures were measured on, and how busy it was when the run started."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "bm25s": bm25s.__version__, "code": code_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def print_report(report: dict) -> None:
    """The figures as a table, then the index artifact and the targets."""
    k, systems = report["k"], report["systems"]
    print(f"\nMedQuAD: {systems['ours']['passages']} passages, {systems['ours']['vocabulary']} terms, "
          f"{systems['ours']['postings']} postings; {report['queries']} queries (+{report['warmup']} warm-up), "
          f"k = {k}, seed = {report['seed']}, turns of {report['block']}")
    header = f"{'system':8s} {'build s':>8s} {'peak MB':>8s} {'kept MB':>8s} {'p50 ms':>8s} {'p99 ms':>8s} " \
             f"{'q/s':>8s} {f'found@{k}':>9s}"
    print(header)
    print("-" * len(header))
    for name, row in systems.items():
        peak = f"{row['peak_mb']:8.0f}" if "peak_mb" in row else f"{'-':>8s}"
        kept = f"{row['retained_mb']:8.0f}" if "retained_mb" in row else f"{'-':>8s}"
        print(f"{name:8s} {row['build_seconds']:8.2f} {peak} {kept} {row['p50_ms']:8.3f} {row['p99_ms']:8.3f} "
              f"{row['queries_per_second']:8.0f} {row['found_at_k']:9.3f}")
    ours, artifact = systems["ours"], systems["ours"]["artifact"]
    print(f"ours build = make_passages {ours['passages_seconds']:.2f} s + fit {ours['fit_seconds']:.2f} s; "
          f"baselines index the same passages (make_passages not counted)")
    load = (f"load {artifact['load_seconds']:.2f} s (checksums verified)" if "load_seconds" in artifact
            else f"LOAD FAILED ({artifact['load_error']})")
    print(f"index on disk: {artifact['size_mb']:.1f} MB, save {artifact['save_seconds']:.2f} s, {load}")
    print(f"speed-up of ours at p50 (their p50 / ours): {systems['cosine']['p50_ms'] / ours['p50_ms']:.1f}x "
          f"vs cosine_similarity, {systems['bm25s']['p50_ms'] / ours['p50_ms']:.2f}x vs bm25s")
    for target, met in report["targets"]:
        print(f"  [{'met' if met else 'MISSED'}] {target}")
    env = report["machine"]
    print(f"machine: {env['cpus']} CPUs, Python {env['python']}, code {env['code']}, "
          f"load average at start {env['load_average']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("medquad", metavar="MEDQUAD", help="path to medquad.jsonl.gz (JSON Lines, gzipped)")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per system (default: 1000)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="untimed warm-up queries per system, disjoint from the timed ones (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the query sample (default: 0)")
    parser.add_argument("--k", type=int, default=10, help="results per query (default: 10)")
    parser.add_argument("--block", type=int, default=50,
                        help="queries a system answers before the next system takes its turn (default: 50)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the second, traced builds that measure peak memory (over half the run time)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if min(args.queries, args.k, args.block) < 1 or args.warmup < 0:
        parser.error("--queries, --k and --block must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = machine()
    try:
        document = read_medquad(args.medquad)
        warmup, queries = sample_queries(document, args.queries, args.warmup, args.seed)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot read queries from {args.medquad}: {exc!r}", file=sys.stderr)
        return 2
    print(f"read {len(document.blocks)} MedQuAD records; building ours ...", flush=True)
    built, systems = build_all(document)
    print(f"timing {len(queries)} queries on each system, in turns of {args.block} ...", flush=True)
    for name, figures in query_all(built, warmup, queries, args.k, args.block).items():
        systems[name].update(figures)
    if not args.no_memory:
        print("measuring peak memory of each build again, under tracemalloc ...", flush=True)
        for name, figures in measure_memory(document, built["ours"].passages_).items():
            systems[name].update(figures)
    report = {"corpus": str(args.medquad), "queries": len(queries), "warmup": len(warmup), "k": args.k,
              "seed": args.seed, "block": args.block, "machine": env, "systems": systems, "targets": verdicts(systems)}
    print_report(report)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
