"""Usage figures (chatbot/staff/usage.py), their page at /admin/usage and the redacted CSV export."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from admin_client import EMAIL, PASSWORD, Staff
from chatbot.admin.charts import daily_chart, share_chart
from chatbot.admin.views.usage import KIND_WORDS
from chatbot.staff.usage import DayRange, RangeError, Usage, parse_range
from chatbot.storage import Exchange
from chatbot.storage.records import feedback_record
from scripts import load_script

TODAY = date(2026, 11, 30)
NOV_1_TO_3 = DayRange(date(2026, 11, 1), date(2026, 11, 3))


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=timezone.utc)


# (message_id, session, kind, passages, when): a small log whose figures are counted by hand below.
LOG = [
    ("e1", "s1", "answer", ["p1", "p4"], at(1, 9)),
    ("e2", "s1", "answer", ["p1"], at(1, 9, 1)),
    ("e3", "s1", "no_answer", ["p4"], at(1, 9, 2)),
    ("e4", "s2", "urgent", [], at(1, 0, 0, 0)),          # the first moment of the range
    ("e5", None, "smalltalk", [], at(1, 18)),            # no session: a conversation of its own
    ("e6", "s3", "answer", ["p2", "p1"], at(2, 10)),
    ("e7", "s3", "answer", ["p1"], at(2, 23, 59, 59)),
    ("e8", "s1", "no_answer", [], at(2, 0, 0, 0)),
    ("before", "s9", "answer", ["p3"], at(31, 23, 59, 59, month=10)),  # outside the range
    ("after", "s9", "answer", ["p3"], at(4, 0, 0, 0)),                 # outside the range
]
# e1: "no" then "yes" (the latest counts: helpful); e2: "no"; e6: "yes"; "before": outside the range.
VERDICTS = [("e1", False, at(1, 9, 5)), ("e1", True, at(1, 9, 6)), ("e2", False, at(1, 10)),
            ("e6", True, at(2, 11)), ("before", True, at(1, 1))]


def record_log(storage, log=LOG, verdicts=VERDICTS) -> None:
    for message_id, session, kind, passages, when in log:
        storage.record_exchange(Exchange(message_id, session, f"question {message_id}", kind, passages,
                                         [0.5] * len(passages), "v1", when))
    storage.store_records([], [feedback_record(message_id, helpful, None, when)
                               for message_id, helpful, when in verdicts])


@pytest.fixture
def usage(storage) -> Usage:
    record_log(storage)
    return Usage(storage)


# -- figures ----------------------------------------------------------------------------

def test_questions_and_conversations_are_counted_per_utc_day(usage):
    report = usage.report(NOV_1_TO_3)
    assert [(d.day.day, d.questions, d.conversations) for d in report.days] == [(1, 5, 3), (2, 3, 2), (3, 0, 0)]
    assert (report.questions, report.conversations) == (8, 4)  # s1 spans both days: counted once


def test_each_reply_kind_is_counted_per_day_and_as_a_share_of_the_range(usage):
    report = usage.report(NOV_1_TO_3)
    assert report.kinds == {"answer": 4, "no_answer": 2, "urgent": 1, "smalltalk": 1}
    assert [d.kinds["answer"] for d in report.days] == [2, 2, 0]
    assert report.share("answer") == 4 / 8 and report.share("urgent") == 1 / 8
    assert report.urgent == 1


def test_answered_rate_counts_answers_among_looked_up_questions(usage):
    assert usage.report(NOV_1_TO_3).answered_rate == 4 / 6  # urgent and small talk aside


def test_helpful_rate_takes_each_exchanges_latest_verdict_within_the_range(usage):
    report = usage.report(NOV_1_TO_3)
    assert (report.rated, report.helpful, report.helpful_rate) == (3, 2, 2 / 3)


def test_top_passages_are_the_first_passage_of_answers_most_quoted_first(usage):
    top = usage.report(NOV_1_TO_3).top_passages
    assert [(p.passage_id, p.answers) for p in top] == [("p1", 3), ("p2", 1)]  # p4 only 2nd, or no_answer
    assert [p.passage_id for p in usage.report(NOV_1_TO_3, top=1).top_passages] == ["p1"]


def test_a_range_without_exchanges_has_zero_counts_and_no_rates(usage):
    report = usage.report(DayRange(date(2026, 6, 1), date(2026, 6, 2)))
    assert (report.questions, report.conversations, report.rated, report.top_passages) == (0, 0, 0, [])
    assert report.answered_rate is None and report.helpful_rate is None and report.share("answer") is None
    assert [d.questions for d in report.days] == [0, 0]


def test_purged_exchanges_leave_the_figures(usage, storage):
    storage.purge(older_than=timedelta(days=1), now=at(2, 12))  # everything before 1 Nov 12:00
    report = usage.report(NOV_1_TO_3)
    assert [d.questions for d in report.days] == [1, 3, 0]  # e5 (18:00) is left of 1 Nov
    assert (report.rated, report.helpful) == (1, 1)  # e6's; e1's and e2's went with them
    assert [(p.passage_id, p.answers) for p in report.top_passages] == [("p1", 1), ("p2", 1)]


# -- per-day totals kept in usage_days ---------------------------------------------------------

NOVEMBER = DayRange(date(2026, 11, 1), TODAY)
# Exchanges in the last days, which are counted at each report (RECOMPUTE_DAYS): Nov 28-30.
RECENT = [("r1", "s5", "answer", ["p2"], at(28, 8)), ("r2", "s5", "no_answer", [], at(29, 0, 0, 1)),
          ("r3", "s6", "answer", ["p1"], at(30, 7))]


def from_the_log(storage, span):
    """The figures of `span` with nothing kept: every day counted from the chat log."""
    forget_kept_days(storage)
    report = Usage(storage, today=lambda: TODAY).report(span)
    forget_kept_days(storage)
    return report


def forget_kept_days(storage) -> None:
    from sqlalchemy import delete

    from chatbot.staff.tables import UsageDayRow
    with storage.transaction("forgetting the kept days", write=True) as session:
        session.execute(delete(UsageDayRow))


def figures(report):
    return (report.days, report.questions, report.conversations, report.kinds, report.rated, report.helpful,
            report.top_passages)


def test_kept_days_give_the_figures_counted_from_the_log_through_late_writes_feedback_and_purges(storage, raw):
    record_log(storage, LOG + RECENT)
    usage = Usage(storage, today=lambda: TODAY)
    first = usage.report(NOVEMBER)
    kept = [day for (day,) in raw("SELECT day FROM usage_days ORDER BY day")]
    # Not 31 Oct (the oldest exchange's day) nor 1 Nov (after it): a purge may change them; not 28-30 Nov.
    assert len(kept) == 26 and str(kept[0]).startswith("2026-11-02") and str(kept[-1]).startswith("2026-11-27")
    assert figures(first) == figures(from_the_log(storage, NOVEMBER))
    usage.report(NOVEMBER)  # keeps the days again
    assert (first.questions, first.conversations) == (12, 7)  # s1 on 1 and 2 Nov, s5 on 28 and 29: once each
    # Late feedback on an exchange of the last days, and a late (spooled) exchange there.
    storage.store_records([], [feedback_record("r1", False, None, at(30, 9))])
    storage.record_exchange(Exchange("late", "s5", "late question", "urgent", [], [], "v1", at(28, 23)))
    late = usage.report(NOVEMBER)
    assert (late.questions, late.rated, late.urgent) == (13, first.rated + 1, 2)
    assert figures(late) == figures(from_the_log(storage, NOVEMBER))
    # A purge cutting 1 Nov in half, then one taking all of it.
    usage.report(NOVEMBER)
    storage.purge(older_than=timedelta(days=1), now=at(2, 12))
    purged = usage.report(NOVEMBER)
    assert [d.questions for d in purged.days[:3]] == [1, 3, 0]
    assert figures(purged) == figures(from_the_log(storage, NOVEMBER))
    usage.report(NOVEMBER)
    storage.purge(older_than=timedelta(days=1), now=at(3, 0))
    assert [d.questions for d in usage.report(NOVEMBER).days[:3]] == [0, 3, 0]
    assert figures(usage.report(NOVEMBER)) == figures(from_the_log(storage, NOVEMBER))
    usage.report(NOVEMBER)
    assert not raw("SELECT day FROM usage_days WHERE day < '2026-11-04'")  # nor are purged days


def test_an_emptied_log_has_no_figures_whatever_was_kept(storage, raw):
    record_log(storage)
    usage = Usage(storage, today=lambda: TODAY)
    assert usage.report(NOVEMBER).questions == 9  # with "after", on 4 Nov
    storage.purge(older_than=timedelta(0), now=at(30))
    report = usage.report(NOVEMBER)
    assert (report.questions, report.conversations, report.rated, report.top_passages) == (0, 0, 0, [])


def test_figures_are_given_when_they_cannot_be_kept(storage, monkeypatch):
    from chatbot.storage import StorageError
    record_log(storage)
    reading = storage.transaction

    def read_only(action, write=False):
        if write:
            raise StorageError(f"{action} failed: the database is read only")
        return reading(action, write)
    monkeypatch.setattr(storage, "transaction", read_only)
    usage = Usage(storage, today=lambda: TODAY)
    assert (usage.report(NOV_1_TO_3).questions, usage.report(NOV_1_TO_3).conversations) == (8, 4)


def test_a_second_report_reads_no_exchange_of_the_kept_days(storage):
    record_log(storage, LOG + RECENT)
    usage = Usage(storage, today=lambda: TODAY)
    year = DayRange(date(2025, 11, 30), TODAY)
    # Kept after the first report: 2-27 Nov. Counted again: the oldest exchange's day (31 Oct) and the
    # day after, the last 3 days; with the day before each counted day, for conversations going on.
    kept_unread = (at(3, 0), at(27, 0))
    first = times_read(storage, lambda: usage.report(year))
    second = times_read(storage, lambda: usage.report(year))
    assert any(reads_into(moments, kept_unread) for moments in first)
    assert second and not any(reads_into(moments, kept_unread) for moments in second)
    assert usage.report(year) == usage.report(year) and usage.report(year).questions == 13


def reads_into(moments: list[datetime], span: tuple[datetime, datetime]) -> bool:
    """Whether a statement bounded by `moments` (created_at bounds) reads any time of `span`."""
    return bool(moments) and min(moments) < span[1] and max(moments) > span[0]


def times_read(storage, action) -> list[list[datetime]]:
    """For each statement `action` sends that reads the exchanges table: the times it is bounded by."""
    from sqlalchemy import event
    engine = storage._engines()[0]
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "exchanges" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            sent.append([_moment(value) for value in values if _moment(value) is not None])
    event.listen(engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def _moment(value) -> datetime | None:
    if isinstance(value, datetime):  # PostgreSQL
        return value.astimezone(timezone.utc)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", value):  # SQLite
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return None


# -- the date range -------------------------------------------------------------------------

def test_blank_range_is_the_last_30_days_ending_today():
    assert parse_range(None, "", TODAY) == DayRange(date(2026, 11, 1), TODAY)
    assert parse_range("2026-11-20", None, TODAY) == DayRange(date(2026, 11, 20), TODAY)
    assert parse_range("", "2026-02-28", TODAY) == DayRange(date(2026, 1, 30), date(2026, 2, 28))


@pytest.mark.parametrize(("first", "last", "reason"), [
    ("2026-13-01", "", "YYYY-MM-DD"),
    ("yesterday", "", "YYYY-MM-DD"),
    ("2026-11-01", "2026-11-01T00:00", "YYYY-MM-DD"),
    ("9999-12-31", "9999-12-31", "after today"),
    ("2026-11-10", "2026-11-09", "after the end date"),
    ("2025-11-29", "2026-11-30", "at most 366 days"),
    ("0001-01-01", "2026-11-30", "at most 366 days"),
])
def test_a_bad_range_is_refused_with_a_reason(first, last, reason):
    with pytest.raises(RangeError, match=reason):
        parse_range(first, last, TODAY)


def test_a_range_of_366_days_is_accepted():
    assert len(parse_range("2025-11-30", "2026-11-30", TODAY).days) == 366


# -- the export -----------------------------------------------------------------------------

def test_export_has_one_row_per_exchange_of_the_range_oldest_first_with_the_latest_verdict(usage):
    rows = list(usage.export_rows(NOV_1_TO_3, batch=3))  # several keyset pages
    assert rows[0] == ["time", "session", "message", "kind", "passages", "scores", "feedback"]
    assert [row[2] for row in rows[1:]] == [f"question e{n}" for n in (4, 1, 2, 3, 5, 8, 6, 7)]
    by_message = {row[2]: row for row in rows[1:]}
    assert by_message["question e1"] == ["2026-11-01 09:00:00", "s1", "question e1", "answer", "p1 p4",
                                         "0.500 0.500", "helpful"]
    assert by_message["question e2"][6] == "not helpful" and by_message["question e5"][1:7:5] == ["", ""]


def test_export_never_holds_what_redaction_removed(storage):
    storage.record_exchange(Exchange("m1", "s1", "my email is jane.doe@example.com, call 0412 345 678",
                                     "no_answer", [], [], "v1", at(1)))
    text = "\n".join(",".join(row) for row in Usage(storage).export_rows(NOV_1_TO_3))
    assert "jane.doe@example.com" not in text and "0412 345 678" not in text
    assert "my email is" in text


def test_export_defuses_cells_a_spreadsheet_would_run_as_formulas(storage):
    storage.record_exchange(Exchange("m1", "=cmd", "=HYPERLINK(\"http://x.example\")", "no_answer", [], [], "v1",
                                     at(1)))
    [_, row] = list(Usage(storage).export_rows(NOV_1_TO_3))
    assert row[1] == "'=cmd" and row[2].startswith("'=HYPERLINK")


# -- the charts -----------------------------------------------------------------------------

def test_daily_chart_draws_one_bar_per_kind_and_day_with_figures_for_screen_readers(usage):
    chart = daily_chart(usage.report(NOV_1_TO_3).days, KIND_WORDS)
    assert chart.startswith("<svg") and 'role="img"' in chart and "<desc" in chart
    assert chart.count('<rect class="bar ') == 6  # day 1: four kinds; day 2: answers and "I don't know"
    assert "2026-11-01: 5 questions in 3 conversations" in chart and "<polyline" in chart
    assert not re.search(r"\sstyle=|<script|\son[a-z]+=", chart)


def test_share_chart_gives_each_kind_its_share_in_words(usage):
    chart = share_chart(usage.report(NOV_1_TO_3).kinds, {"answer": "<Answered>", "urgent": "Urgent"})
    assert "50% (4)" in chart and "12% (1)" in chart
    assert "&lt;Answered&gt;" in chart and "<Answered>" not in chart  # words are escaped


# -- the page and the export ------------------------------------------------------------------

@pytest.fixture
def staff(app, wf):
    wf.accounts.create(EMAIL, PASSWORD)
    return Staff(app)


@pytest.fixture
def app_log(app):
    storage = app.extensions["chatbot"].storage
    record_log(storage)
    return storage


def test_usage_page_and_export_need_a_login(client):
    for url in ("/admin/usage", "/admin/usage.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login"), url


def test_usage_page_shows_the_figures_and_charts_of_the_range(staff, app_log):
    page = staff.text("/admin/usage?from=2026-11-01&to=2026-11-03")
    for shown in ("<strong>8</strong> questions", "<strong>4</strong> conversations", "<strong>67%</strong> answered",
                  "<strong>67%</strong> helpful", "of 3 rated replies", "<strong>1</strong> urgent",
                  '<svg class="chart"', "2026-11-02: 3 questions in 2 conversations", "50% (4)",
                  "<code>p1</code> (not in the published version)"):
        assert shown in page, shown
    assert 'href="/admin/usage.csv?from=2026-11-01&amp;to=2026-11-03"' in page
    assert not re.search(r"\sstyle=|<script|\son[a-z]+=", page)  # the strict CSP holds


def test_top_answers_are_shown_with_the_published_passage(app, staff, app_log):
    served, _ = app.extensions["chatbot"].bot()
    passage = served.index.passages_[0]
    app_log.record_exchange(Exchange("quoted", "s1", "a question", "answer", [passage.id], [0.9], "v1", at(3)))
    page = staff.text("/admin/usage?from=2026-11-03&to=2026-11-03")
    assert passage.source.title in page and "<strong>1</strong> answer ·" in page


def test_usage_page_defaults_to_the_last_30_days():
    page_range = parse_range(None, None, TODAY)
    assert len(page_range.days) == 30 and page_range.last == TODAY


@pytest.mark.parametrize("query", ["from=2026-02-30", "from=2020-01-01&to=2026-11-01", "to=2026-11-01&from=2026-11-05",
                                   "from=%00%ff", "from=" + "9" * 5000])
def test_a_bad_range_is_a_clear_400_page(staff, query):
    response = staff.get(f"/admin/usage?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text and "Traceback" not in text and "YYYY-MM-DD" in text
    assert staff.get(f"/admin/usage.csv?{query}").status_code == 400


def test_viewing_the_usage_page_changes_nothing(staff, wf, app_log, raw_app):
    before = (raw_app(), [entry.action for entry in wf.audit.recent()])
    staff.text("/admin/usage?from=2026-11-01&to=2026-11-03")
    staff.text("/admin/usage")
    assert (raw_app(), [entry.action for entry in wf.audit.recent()]) == before


@pytest.fixture
def raw_app(app):
    """Every row of the chat log's tables, to compare before and after a request."""
    from sqlalchemy import create_engine, text
    engine = create_engine(app.config["CHATBOT_DATABASE_URL"])

    def snapshot():
        with engine.connect() as connection:
            return [list(connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")))
                    for table in ("exchanges", "feedback")]
    yield snapshot
    engine.dispose()


def test_csv_export_is_redacted_streamed_uncached_and_audited(staff, wf, app_log):
    app_log.record_exchange(Exchange("private", "s7", "write to jane.doe@example.com or call +44 20 7946 0958",
                                     "no_answer", [], [], "v1", at(2)))
    response = staff.get("/admin/usage.csv?from=2026-11-01&to=2026-11-03")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="chat-log-2026-11-01-to-2026-11-03.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["time", "session", "message", "kind", "passages", "scores", "feedback"] and len(rows) == 10
    body = response.get_data(as_text=True)
    assert "jane.doe@example.com" not in body and "7946 0958" not in body and "write to" in body
    assert "127.0.0.1" not in body
    assert "export_chat_log" in [entry.action for entry in wf.audit.recent()]


def test_the_benchmark_runs_on_a_small_log_and_its_queries_read_the_usage_index(tmp_path, capsys):
    bench = load_script("bench/bench_usage.py")
    assert bench.main(["--exchanges", "400", "--repeat", "1", "--sqlite", str(tmp_path / "bench.db")]) == 0
    out = capsys.readouterr().out
    assert "COVERING INDEX ix_exchanges_created_at_kind_session_id" in out
    assert "| 365 days | 400 |" in out and "without them" in out
