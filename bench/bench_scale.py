"""Scale benchmark: build cost, memory per worker and query time at 16k, 64k and 250k passages.

    python bench/bench_scale.py ../shared/data/medquad.jsonl.gz [--sizes 16407 65628 250000]
                                [--queries 500] [--warmup 50] [--seed 0] [--k 10] [--json PATH]

For each size, one run makes a MedQuAD-derived corpus of that many FAQ
entries (`derived_corpus`: the real records first, then seeded variants of
them), turns it into passages, and then measures our index beside bm25s on
the same passages:

    build        each system is built in a forked child of this process (which
                 holds the passages), so its peak RSS is its own: seconds of
                 PassageIndex.fit (bm25s: BM25.index, tokenizing included), peak
                 RSS (VmHWM) and the RSS the child started from (the passages)
    workers      a fresh interpreter stands in for gunicorn's master: it imports
                 the code, then forks two workers; each loads the saved index the
                 way a server does (ours: load_index, checksums verified, arrays
                 memory-mapped; bm25s: BM25.load) and answers the warm-up queries.
                 With both alive, the master reads each worker's RSS and PSS from
                 /proc/PID/smaps_rollup. PSS divides a shared page between the
                 processes that map it, so it shows what sharing saves; "index"
                 is a worker's PSS minus its PSS before loading.
    queries      this process loads both saved indexes and times the same queries
                 on each, one at a time, in turns of 50 (as bench_search.py)

The figures are printed as one table per size; see bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bm25s

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere, without installing the project
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import Bm25sBaseline, found_at_k, hit_rows, machine, read_medquad, time_queries  # noqa: E402

from chatbot.corpus.model import Document, FaqEntry  # noqa: E402
from chatbot.index import PassageIndex  # noqa: E402
from chatbot.index.artifact import load_index, save_index  # noqa: E402
from chatbot.index.terms import word_terms  # noqa: E402
from chatbot.passages import make_passages  # noqa: E402

MB = 1024 * 1024
WORKERS = 2
# Share of the words (of 4 letters or more) of a variant that are altered: enough
# that a variant is not a near duplicate of its record (3-word shingles, Jaccard
# 0.8) and that the vocabulary keeps growing with the corpus, as new documents'
# names and terms make it do.
ALTERED_WORD_SHARE = 0.15
_WORD = re.compile(r"[A-Za-z]{4,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# -- the derived corpus --------------------------------------------------------
def _alter(word: str, rng: random.Random) -> str:
    """A new word made from `word`: one inner letter replaced, or two inner letters swapped."""
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1:]
    j = min(i + 1, len(word) - 1)
    return word[:i] + word[j] + word[i] + word[j + 1:]


def _altered_text(text: str, rng: random.Random) -> str:
    return _WORD.sub(lambda m: _alter(m.group(0), rng) if rng.random() < ALTERED_WORD_SHARE else m.group(0), text)


def _variant(entry: FaqEntry, other: FaqEntry, rng: random.Random, copy: int, line: int) -> FaqEntry:
    """A seeded variant of `entry`: its answer's sentences shuffled, one sentence of
    `other` mixed in, and about 15 % of the words of question and answer altered."""
    sentences = _SENTENCE_END.split(entry.answer.strip())
    rng.shuffle(sentences)
    borrowed = _SENTENCE_END.split(other.answer.strip())
    sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(borrowed))
    return FaqEntry(question=_altered_text(entry.question, rng), answer=_altered_text(" ".join(sentences), rng),
                    source_title=f"{entry.source_title or 'MedQuAD'} ({copy})", source_url=None, line=line)


def derived_corpus(document: Document, size: int, seed: int) -> Document:
    """`size` FAQ entries: the records of `document` in order, then variants (copy 1, 2, ...)
    of each record in turn, every variant seeded by (seed, its number)."""
    records = list(document.blocks)
    entries = records[:size]
    for number in range(len(records), size):
        copy, source = divmod(number, len(records))
        rng = random.Random(f"{seed}-{number}")
        other = records[rng.randrange(len(records))]
        entries.append(_variant(records[source], other, rng, copy, number + 1))
    return Document(doc_id="medquad", title="MedQuAD", blocks=tuple(entries), kind="faq")


# -- measuring in children -----------------------------------------------------
def _status_kb(field: str, pid: str = "self") -> int:
    """A field of /proc/PID/status (VmRSS, VmHWM) in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _rollup_kb(pid: int | str = "self") -> dict[str, int]:
    """Rss, Pss and private pages of a process, from /proc/PID/smaps_rollup (kB)."""
    figures = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            figures[parts[0].rstrip(":")] = int(parts[1])
    return {"rss": figures.get("Rss", 0), "pss": figures.get("Pss", 0),
            "private": figures.get("Private_Clean", 0) + figures.get("Private_Dirty", 0)}


def _build_ours(passages, folder: str) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    index = PassageIndex().fit(passages)
    fit_seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    save_index(index, folder)
    return {"build_seconds": fit_seconds, "cpu_seconds": cpu_seconds, "save_seconds": time.perf_counter() - started,
            "vocabulary": len(index.vocabulary_), "postings": int(index.postings_.nnz),
            "sentence_postings": int(index.sentence_postings_.nnz)}


def _build_bm25s(passages, folder: str) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    retriever = Bm25sBaseline().fit(passages).retriever_
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    retriever.save(folder, show_progress=False)
    return {"build_seconds": seconds, "cpu_seconds": cpu_seconds}


def _child(build, passages, folder: str, conn) -> None:
    start_kb = _status_kb("VmRSS")
    try:
        figures = build(passages, folder)
        figures.update(start_rss_mb=start_kb / 1024, peak_rss_mb=_status_kb("VmHWM") / 1024)
    except BaseException as exc:  # report, do not hang the parent
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    conn.send(figures)
    conn.close()


def build_in_child(build, passages, folder: str) -> dict:
    """Figures of build(passages, folder), run in a forked child so that its peak RSS is its own."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(build, passages, folder, sender))
    process.start()
    figures = receiver.recv()
    process.join()
    return figures


# -- workers: a fresh master forks two, as gunicorn does ------------------------
def _worker_loop(system: str, folder: str, queries: list[str], ready: int, go: int) -> None:
    before = _rollup_kb()
    started = time.perf_counter()
    if system == "ours":
        index, _ = load_index(folder)
        search = index.search
    else:
        retriever = bm25s.BM25.load(folder, show_progress=False)

        def search(query: str, k: int):
            return retriever.retrieve([word_terms(query)], k=k, show_progress=False)
    load_seconds = time.perf_counter() - started
    for query in queries:
        search(query, 10)
    os.write(ready, (json.dumps({"load_seconds": load_seconds, "before": before}) + "\n").encode())
    os.read(go, 1)  # the master measures this process while it waits here
    os._exit(0)


def serve_workers(system: str, folder: str, queries_file: str) -> dict:
    """(in the fresh master) Fork WORKERS workers, let each load and query, measure them all together."""
    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            os.close(go_w)
            _worker_loop(system, folder, queries, ready_w, go_r)
        pids.append(pid)
    os.close(ready_w)
    os.close(go_r)
    reports = []
    with os.fdopen(ready_r) as lines:
        for _ in pids:
            reports.append(json.loads(lines.readline()))
    workers = []
    for pid, report in zip(pids, reports, strict=True):
        after = _rollup_kb(pid)
        workers.append({"load_seconds": report["load_seconds"], "rss_mb": after["rss"] / 1024,
                        "pss_mb": after["pss"] / 1024, "private_mb": after["private"] / 1024,
                        "index_pss_mb": (after["pss"] - report["before"]["pss"]) / 1024})
    os.close(go_w)
    for pid in pids:
        os.waitpid(pid, 0)
    return {"workers": workers}


def measure_workers(system: str, folder: str, queries: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(queries, handle)
    try:
        run = subprocess.run([sys.executable, __file__, "--serve-workers", system, folder, handle.name],
                             capture_output=True, text=True, check=False)
    finally:
        os.unlink(handle.name)
    if run.returncode != 0:
        return {"error": run.stderr.strip()[-2000:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


# -- one size ------------------------------------------------------------------
def measure_size(medquad: Document, size: int, args: argparse.Namespace) -> dict:
    document = derived_corpus(medquad, size, args.seed)
    started = time.perf_counter()
    passages, _stats = make_passages([document])
    result = {"entries": size, "passages": len(passages), "make_passages_seconds": time.perf_counter() - started}
    print(f"{size} entries -> {len(passages)} passages ({result['make_passages_seconds']:.0f} s)", flush=True)
    questions = sorted({entry.question for entry in medquad.blocks})
    chosen = random.Random(args.seed).sample(questions, args.queries + args.warmup)
    warmup, queries = chosen[:args.warmup], chosen[args.warmup:]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        folders = {"ours": os.path.join(work, "ours"), "bm25s": os.path.join(work, "bm25s")}
        systems = {}
        for name, build in (("ours", _build_ours), ("bm25s", _build_bm25s)):
            print(f"  building {name} ...", flush=True)
            systems[name] = build_in_child(build, passages, folders[name])
            systems[name]["disk_mb"] = sum(p.stat().st_size for p in Path(folders[name]).rglob("*")
                                           if p.is_file()) / MB
        del passages
        for name in systems:
            print(f"  two workers load {name} ...", flush=True)
            systems[name].update(measure_workers(name, folders[name], warmup))
        print("  timing queries ...", flush=True)
        index, _ = load_index(folders["ours"])
        retriever = bm25s.BM25.load(folders["bm25s"], show_progress=False)
        searches = {"ours": lambda q: index.search(q, args.k),
                    "bm25s": lambda q: retriever.retrieve([word_terms(q)], k=args.k, show_progress=False)[0][0]}
        row_of = {p.id: row for row, p in enumerate(index.passages_)}
        for name, (latency, results) in time_queries(searches, warmup, queries, 50).items():
            rows = [hit_rows(hits, row_of) for hits in results] if name == "ours" else results
            systems[name].update(latency, found_at_k=found_at_k(rows, queries, index.passages_))
    result["systems"] = systems
    return result


def print_size(result: dict) -> None:
    print(f"\n{result['entries']} entries, {result['passages']} passages "
          f"(make_passages {result['make_passages_seconds']:.0f} s)")
    header = (f"{'system':7s} {'build s':>8s} {'CPU s':>6s} {'peak RSS MB':>12s} {'from MB':>8s} {'disk MB':>8s} "
              f"{'load s':>7s} {'worker RSS':>11s} {'worker PSS':>11s} {'index PSS':>10s} {'p50 ms':>7s} "
              f"{'p99 ms':>7s} {'found':>6s}")
    print(header)
    print("-" * len(header))
    for name, row in result["systems"].items():
        if "error" in row:
            print(f"{name:7s} ERROR {row['error']}")
            continue
        workers = row["workers"]
        mean = {key: sum(w[key] for w in workers) / len(workers)
                for key in ("load_seconds", "rss_mb", "pss_mb", "index_pss_mb")}
        print(f"{name:7s} {row['build_seconds']:8.1f} {row['cpu_seconds']:6.0f} {row['peak_rss_mb']:12.0f} "
              f"{row['start_rss_mb']:8.0f} {row['disk_mb']:8.0f} {mean['load_seconds']:7.2f} {mean['rss_mb']:11.0f} "
              f"{mean['pss_mb']:11.0f} {mean['index_pss_mb']:10.0f} {row['p50_ms']:7.3f} {row['p99_ms']:7.3f} "
              f"{row['found_at_k']:6.3f}")
    ours, bm25 = result["systems"]["ours"], result["systems"]["bm25s"]
    if "error" not in ours and "error" not in bm25:
        print(f"ours / bm25s: build CPU {ours['cpu_seconds'] / bm25['cpu_seconds']:.2f}x, "
              f"build wall {ours['build_seconds'] / bm25['build_seconds']:.2f}x, "
              f"peak build RSS {ours['peak_rss_mb'] / bm25['peak_rss_mb']:.2f}x, "
              f"p50 {ours['p50_ms'] / bm25['p50_ms']:.2f}x")
    if "vocabulary" in ours:
        print(f"ours: {ours['vocabulary']} terms, {ours['postings']} postings, "
              f"{ours['sentence_postings']} sentence postings; save {ours['save_seconds']:.1f} s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("medquad", metavar="MEDQUAD", help="path to medquad.jsonl.gz (JSON Lines, gzipped)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16407, 65628, 250000],
                        help="corpus sizes in FAQ entries (default: 16407 65628 250000, = 1x, 4x, 15.2x MedQuAD)")
    parser.add_argument("--queries", type=int, default=500, help="timed queries per system (default: 500)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up queries, also what each worker answers")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variants and the query sample")
    parser.add_argument("--k", type=int, default=10, help="results per query (default: 10)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-workers"]:  # the stand-in for gunicorn's master
        print(json.dumps(serve_workers(*argv[1:4])))
        return 0
    args = parse_args(argv)
    report = {"machine": machine(), "sizes": []}
    medquad = read_medquad(args.medquad)
    for size in args.sizes:
        result = measure_size(medquad, size, args)
        report["sizes"].append(result)
        print_size(result)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    env = report["machine"]
    print(f"machine: {env['cpus']} CPUs, Python {env['python']}, code {env['code']}, "
          f"load average at start {env['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
