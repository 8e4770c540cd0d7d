"""Usage: figures and charts over the chat log for a range of UTC days, and the range's redacted CSV.

Both are GET (a range in the address, so it can be bookmarked) and change
nothing but the audit log, which records who exported the log. A bad range
is shown on the page (400), never an error trace. The figures come from
`workspace.usage` (chatbot/staff/usage.py), the passages' titles from the
published index, the open groups from `workspace.inbox`.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from flask import Response, render_template, request, stream_with_context

from ...answer.kinds import ReplyKind
from ...service import current_service
from ...staff.usage import MAX_RANGE_DAYS, RangeError, last_days, parse_range
from ..auth import current_actor
from ..blueprint import bp, error_page
from ..charts import daily_chart, share_chart
from ..workspace import current_workspace

# The reply kinds in the words staff read, in the order the charts stack them.
KIND_WORDS = {ReplyKind.ANSWER: "Answered", ReplyKind.NO_ANSWER: "“I don't know”",
              ReplyKind.URGENT: "Urgent: seek care", ReplyKind.SMALLTALK: "Small talk"}
OPEN_GROUPS = 5
EXCERPT_CHARS = 220
CSV_ROWS_PER_CHUNK = 500


def _today():
    return datetime.now(timezone.utc).date()


@bp.get("/usage")
def usage():
    """The figures of the range in the address (`from`, `to`: YYYY-MM-DD), by default the last 30 days."""
    chosen = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    try:
        span = parse_range(chosen["from"], chosen["to"], _today())
    except RangeError as error:
        return render_template("admin/usage.html", problem=str(error), chosen=chosen, report=None,
                               max_days=MAX_RANGE_DAYS, span=last_days(_today())), 400
    workspace = current_workspace()
    report = workspace.usage.report(span)
    served, _ = current_service().bot()
    top = [(count, _passage(served.index, count.passage_id)) for count in report.top_passages]
    groups = workspace.inbox.groups(limit=OPEN_GROUPS, since=span.start)
    return render_template(
        "admin/usage.html", report=report, span=span, chosen={"from": span.first, "to": span.last},
        problem=None, max_days=MAX_RANGE_DAYS, kind_words=KIND_WORDS, top=top, groups=groups,
        daily=daily_chart(report.days, KIND_WORDS), shares=share_chart(report.kinds, KIND_WORDS))


@bp.get("/usage.csv")
def usage_csv():
    """The range's exchanges as CSV, streamed (a year of log never sits in memory); never cached."""
    try:
        span = parse_range(request.args.get("from"), request.args.get("to"), _today())
    except RangeError as error:
        return error_page(400, "Bad date range", str(error))
    rows = current_workspace().usage.export(span, current_actor())
    # The header and the first batch are read now, so a database failure is an error page, not a cut file.
    first = [next(rows), next(rows, None)]
    response = Response(stream_with_context(_csv_chunks(first, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="chat-log-{span.first}-to-{span.last}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_chunks(first: list, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in first:
        if row is not None:
            writer.writerow(row)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % CSV_ROWS_PER_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _passage(index, passage_id: str):
    """The served index's passage with `passage_id`, or None when this version no longer has it."""
    row = index.passage_ids_.get(passage_id)
    return None if row is None else index.passages_[row]
