"""The usage page's queries at a million exchanges, on SQLite and PostgreSQL, beside a plain count.

    python bench/bench_usage.py [--exchanges 1000000] [--days 365] [--repeat 5]
                                [--sqlite PATH] [--postgres URL] [--no-sqlite]

Fills a fresh database, migrated to the newest schema, with `--exchanges`
synthetic exchanges spread evenly over the `--days` UTC days ending today
(about three questions a conversation; 60 % answers, 25 % "I don't know",
12 % small talk, 3 % urgent; answers quote 300 passages, a few far more than
the rest) and feedback on 5 % of them (a tenth of those with a second,
later verdict). Rows go in by bulk insert: executemany in one transaction
on SQLite, COPY on PostgreSQL (`--postgres`, e.g. the CI-like server of
.ci/run; the bench works in a schema of its own and drops it at the end).

Then, for a 30-day and a 365-day range, it times the page's figures
(`Usage.report`) cold, with no day kept in usage_days (so it counts every
day from the log and keeps them; median of half `--repeat` runs), and warm
(the days kept: median of `--repeat` runs after one warm-up), the CSV
export of the range (30 days only, median of `--repeat` runs), and the
baseline, a plain `SELECT count(*)` of the range's exchanges through the
created_at index, measured in the same run. The same figures are then
taken again with migration 0004's indexes dropped, to show what they buy.
Prints milliseconds and the ratio to the baseline, and the query plans
(EXPLAIN QUERY PLAN / EXPLAIN) of the page's queries. A measurement, not a
test: exits 0 unless something fails.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from chatbot.staff.tables import UsageDayRow  # noqa: E402
from chatbot.staff.usage import DayRange, Usage, last_days  # noqa: E402
from chatbot.staff.usage_days import in_range  # noqa: E402
from chatbot.storage import Storage  # noqa: E402
from chatbot.storage.tables import ExchangeRow, FeedbackRow  # noqa: E402

KINDS = (("answer", 0.60), ("no_answer", 0.25), ("smalltalk", 0.12), ("urgent", 0.03))
PASSAGES = [f"passage-{n:03d}" for n in range(300)]
FEEDBACK_SHARE = 0.05
BATCH = 50_000
USAGE_INDEXES = {"ix_exchanges_created_at_kind_session_id": "exchanges",
                 "ix_feedback_message_id_created_at": "feedback"}


def synthetic_rows(n: int, days: int, today: date, seed: int = 7):
    """Batches of (exchange rows, feedback rows), in time order."""
    rng = random.Random(seed)
    start = datetime.combine(today - timedelta(days=days - 1), day_time(), timezone.utc)
    step = timedelta(days=days) / n
    weights = [1 / (rank + 1) for rank in range(len(PASSAGES))]  # a few passages answer most
    kinds, kind_weights = zip(*KINDS, strict=True)
    exchanges, feedback, session = [], [], None
    for i in range(n):
        if session is None or rng.random() < 1 / 3:
            session = secrets.token_hex(8)
        kind = rng.choices(kinds, kind_weights)[0]
        passages = rng.choices(PASSAGES, weights, k=3) if kind in ("answer", "no_answer") else []
        when = start + step * i
        message_id = f"m{i:09d}"
        exchanges.append({"message_id": message_id, "session_id": session, "message": f"synthetic question {i}",
                          "kind": kind, "passage_ids": passages, "scores": [0.5] * len(passages),
                          "index_version": "v1", "created_at": when})
        if rng.random() < FEEDBACK_SHARE:
            feedback.append({"message_id": message_id, "helpful": rng.random() < 0.7, "comment": None,
                             "created_at": when + timedelta(seconds=30)})
            if rng.random() < 0.1:
                feedback.append({"message_id": message_id, "helpful": True, "comment": None,
                                 "created_at": when + timedelta(seconds=60)})
        if len(exchanges) == BATCH:
            yield exchanges, feedback
            exchanges, feedback = [], []
    if exchanges:
        yield exchanges, feedback


def fill(storage: Storage, n: int, days: int, today: date) -> float:
    """Insert the synthetic log; seconds taken."""
    started = time.perf_counter()
    with storage.transaction("filling the bench database", write=True) as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _copy(connection, n, days, today)
        else:
            for exchanges, feedback in synthetic_rows(n, days, today):
                connection.execute(insert(ExchangeRow.__table__), exchanges)
                if feedback:
                    connection.execute(insert(FeedbackRow.__table__), feedback)
    analyse(storage)
    return time.perf_counter() - started


def analyse(storage: Storage) -> None:
    """Fresh planner statistics; on PostgreSQL VACUUM too, so index-only scans see a visibility map."""
    engine = storage._engines()[0]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _copy(connection, n: int, days: int, today: date) -> None:
    """COPY the rows in (psycopg 3): ten times faster than INSERT at this size."""
    cursor = connection.connection.driver_connection.cursor()
    columns = "message_id, session_id, message, kind, passage_ids, scores, index_version, created_at"
    for exchanges, feedback in synthetic_rows(n, days, today):
        with cursor.copy(f"COPY exchanges ({columns}) FROM STDIN") as copy:
            for row in exchanges:
                copy.write_row([row["message_id"], row["session_id"], row["message"], row["kind"],
                                json.dumps(row["passage_ids"]), json.dumps(row["scores"]), row["index_version"],
                                row["created_at"]])
        with cursor.copy("COPY feedback (message_id, helpful, comment, created_at) FROM STDIN") as copy:
            for row in feedback:
                copy.write_row([row["message_id"], row["helpful"], row["comment"], row["created_at"]])


def median_ms(action, repeat: int) -> float:
    action()  # warm-up: caches and the plan
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def baseline_count(storage: Storage, span: DayRange) -> int:
    with storage.transaction("counting") as session:
        return session.scalar(select(func.count()).select_from(ExchangeRow).where(in_range(span)))


def export_all(usage: Usage, span: DayRange) -> int:
    out = io.StringIO()
    writer = csv.writer(out)
    rows = 0
    for row in usage.export_rows(span):
        writer.writerow(row)
        rows += 1
    return rows - 1


def forget_kept_days(storage: Storage) -> None:
    """Empty usage_days, so the next report counts every day from the log."""
    with storage.transaction("forgetting the kept days", write=True) as session:
        session.execute(delete(UsageDayRow))


def cold_ms(usage: Usage, span: DayRange, repeat: int) -> float:
    """The median time of a report with no day kept: it counts every day of `span` and keeps them."""
    runs = []
    for _ in range(repeat):
        forget_kept_days(usage.storage)
        started = time.perf_counter()
        usage.report(span)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def measure(storage: Storage, spans: dict[str, DayRange], repeat: int) -> list[dict]:
    usage = Usage(storage)
    results = []
    for name, span in spans.items():
        rows = baseline_count(storage, span)
        base = median_ms(lambda span=span: baseline_count(storage, span), repeat)
        cold = cold_ms(usage, span, max(1, repeat // 2))
        warm = median_ms(lambda span=span: usage.report(span), repeat)
        result = {"range": name, "exchanges": rows, "baseline_ms": base, "cold_ms": cold, "report_ms": warm}
        if name == "30 days":
            result["export_ms"] = median_ms(lambda span=span: export_all(usage, span), max(1, repeat // 2))
        results.append(result)
    return results


def print_results(label: str, results: list[dict]) -> None:
    print(f"\n{label}")
    print("| range | exchanges | count(*) ms | page figures, cold ms | ratio | page figures, warm ms | ratio "
          "| CSV export ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        export = (f"{r['export_ms']:.0f} | {r['export_ms'] / r['baseline_ms']:.0f}" if "export_ms" in r else "— | —")
        print(f"| {r['range']} | {r['exchanges']:,} | {r['baseline_ms']:.1f} | {r['cold_ms']:.1f} | "
              f"{r['cold_ms'] / r['baseline_ms']:.1f} | {r['report_ms']:.1f} | "
              f"{r['report_ms'] / r['baseline_ms']:.2f} | {export} |")


def page_queries(storage: Storage, span: DayRange) -> list:
    """The statements Usage.report runs, captured as they are sent."""
    from sqlalchemy import event
    captured = []
    engine = storage._engines()[0]

    def keep(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", keep)
    forget_kept_days(storage)  # so the report counts the days: the queries worth a plan
    try:
        Usage(storage).report(span)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return captured


def print_plans(storage: Storage, span: DayRange) -> None:
    dialect = storage._engines()[0].dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    for statement, parameters in page_queries(storage, span):
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        print("\n" + " ".join(statement.split())[:160] + " ...")
        with storage._engines()[0].connect() as connection:
            raw = connection.connection.driver_connection.cursor()
            raw.execute(prefix + statement, parameters)
            for row in raw.fetchall():
                print("   ", row[-1])


def drop_usage_indexes(storage: Storage) -> None:
    with storage.transaction("dropping the usage indexes", write=True) as session:
        for name in USAGE_INDEXES:
            session.execute(text(f"DROP INDEX {name}"))
    analyse(storage)


def run(label: str, url: str, args, today: date) -> None:
    storage = Storage(url, statement_timeout=3600)
    storage.migrate()
    seconds = fill(storage, args.exchanges, args.days, today)
    print(f"\n== {label}: {args.exchanges:,} exchanges over {args.days} days inserted in {seconds:.0f} s")
    spans = {"30 days": last_days(today, 30), "365 days": last_days(today, 365)}
    print_plans(storage, spans["30 days"])
    print_results(f"{label}, with migration 0004's indexes", measure(storage, spans, args.repeat))
    drop_usage_indexes(storage)
    print_results(f"{label}, without them (created_at index only)", measure(storage, spans, args.repeat))
    storage.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exchanges", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite", type=Path, help="database file to create (default: a temporary one)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres", help="postgresql+psycopg:// URL of a database the bench may use")
    args = parser.parse_args(argv)
    today = datetime.now(timezone.utc).date()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            path = args.sqlite or Path(folder) / "usage.db"
            if path.exists():
                parser.error(f"{path} exists: give a new file")
            run("SQLite", f"sqlite:///{path}", args, today)
    if args.postgres:
        schema = f"bench_usage_{secrets.token_hex(4)}"
        admin = create_engine(args.postgres, poolclass=NullPool)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            run("PostgreSQL", url.render_as_string(hide_password=False), args, today)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
