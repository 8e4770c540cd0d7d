"""Usage figures over the chat log for a range of UTC days, counted by the database.

    span = parse_range("2026-11-01", "2026-11-30", today=date(2026, 11, 30))  # RangeError: a message for staff
    report = workspace.usage.report(span)     # UsageReport: per day, per kind, rates, top passages
    for row in workspace.usage.export_rows(span):  # the redacted log, one list of cells per exchange
        ...

The figures are summed from per-day totals (usage_days.py): each past day is
counted once from the log (aggregate queries reading the covering index
ix_exchanges_created_at_kind_session_id and ix_feedback_message_id_created_at,
migration 0004) and kept in the usage_days table; the last few days are
counted at every report. So a year at a million exchanges costs 366 small
rows once its days are kept. The log is read as stored: messages were
redacted before writing, no IP address is kept, and purged exchanges are
gone from every figure.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, or_, select

from ..answer.kinds import ReplyKind
from ..storage import Storage
from ..storage.tables import ExchangeRow, FeedbackRow
from .audit import AuditLog
from .usage_days import KINDS, DayRange, day_totals, in_range, top_passages

__all__ = ["DayRange", "RangeError", "Usage", "UsageReport", "last_days", "parse_range"]

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
TOP_PASSAGES = 10
EXPORT_BATCH = 2000  # exchanges read per query while exporting: one short transaction each
EXPORT_COLUMNS = ("time", "session", "message", "kind", "passages", "scores", "feedback")
HELPFUL, NOT_HELPFUL = "helpful", "not helpful"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


class RangeError(ValueError):
    """A date range staff cannot have: the message says why in plain words."""


def last_days(today: date, days: int = DEFAULT_DAYS) -> DayRange:
    """The `days` UTC days ending with `today`."""
    return DayRange(today - timedelta(days=days - 1), today)


def parse_range(first: str | None, last: str | None, today: date) -> DayRange:
    """The range staff typed (YYYY-MM-DD, both included); the last DEFAULT_DAYS days when both are blank.

    A blank end is today; a blank start is DEFAULT_DAYS days before the end.
    RangeError for a date that is not one, a start after the end, an end
    after tomorrow (a visitor's today may be tomorrow in UTC) or more than
    MAX_RANGE_DAYS days.
    """
    end = _day(last, "end") or today
    start = _day(first, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise RangeError(f"The start date ({start}) is after the end date ({end}).")
    if end > today + timedelta(days=1):
        raise RangeError(f"The range cannot end after today ({today}, UTC).")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise RangeError(f"Choose at most {MAX_RANGE_DAYS} days; this range has {days}.")
    return DayRange(start, end)


def _day(text: str | None, name: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) != len("2026-11-30"):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RangeError(f"The {name} date must be a date written YYYY-MM-DD, for example 2026-11-30.") from None


@dataclass(frozen=True)
class DayFigures:
    """One UTC day: questions asked, conversations they belong to, and questions of each reply kind."""
    day: date
    questions: int
    conversations: int
    kinds: dict[str, int]


@dataclass(frozen=True)
class PassageCount:
    """How many answers in the range quoted `passage_id` first."""
    passage_id: str
    answers: int


@dataclass(frozen=True)
class UsageReport:
    """The figures of one range. Rates are None when nothing was there to divide."""
    span: DayRange
    days: list[DayFigures]
    questions: int
    conversations: int
    kinds: dict[str, int]      # every ReplyKind value, 0 when none
    rated: int                 # exchanges with feedback: the latest verdict of each counts
    helpful: int               # ... of which the latest says helpful
    top_passages: list[PassageCount] = field(default_factory=list)

    def share(self, kind: str) -> float | None:
        """The share of the range's questions that got a reply of `kind`."""
        return self.kinds.get(kind, 0) / self.questions if self.questions else None

    @property
    def urgent(self) -> int:
        return self.kinds[ReplyKind.URGENT]

    @property
    def answered_rate(self) -> float | None:
        """Of the questions the bot looked up (answers and "I don't know"; urgent and small talk
        aside), the share it answered."""
        looked_up = self.kinds[ReplyKind.ANSWER] + self.kinds[ReplyKind.NO_ANSWER]
        return self.kinds[ReplyKind.ANSWER] / looked_up if looked_up else None

    @property
    def helpful_rate(self) -> float | None:
        """Of the exchanges visitors rated, the share whose latest verdict was "helpful"."""
        return self.helpful / self.rated if self.rated else None


class Usage:
    """Usage figures and the redacted export over `storage`'s chat log (read only); exports are
    recorded in `audit` when given: who took a copy of the visitors' questions, and of which days."""

    def __init__(self, storage: Storage, audit: AuditLog | None = None,
                 today: Callable[[], date] = lambda: datetime.now(timezone.utc).date()):
        self.storage = storage
        self.audit = audit
        self.today = today  # the UTC day now: the last days' figures are counted, not kept

    def report(self, span: DayRange, top: int = TOP_PASSAGES) -> UsageReport:
        """The figures of `span`, summed from its days' totals (counted from the log when not kept)."""
        totals = day_totals(self.storage, span, self.today())
        days = [DayFigures(t.day, t.questions, t.conversations, t.kinds) for t in totals]
        kinds = {kind: sum(t.kinds[kind] for t in totals) for kind in KINDS}
        # A conversation going on across midnight is counted on both days; once is enough.
        conversations = sum(t.conversations for t in totals) - sum(t.continued for t in totals[1:])
        top = [PassageCount(passage_id, count) for passage_id, count in top_passages(totals, top)]
        return UsageReport(span, days, sum(t.questions for t in totals), conversations, kinds,
                           sum(t.rated for t in totals), sum(t.helpful for t in totals), top)

    def export(self, span: DayRange, actor: str) -> Iterator[list[str]]:
        """export_rows(span), once the export is audited as `actor`'s."""
        if self.audit is not None:
            self.audit.record(actor, "export_chat_log", {"from": str(span.first), "to": str(span.last)})
        return self.export_rows(span)

    def export_rows(self, span: DayRange, batch: int = EXPORT_BATCH) -> Iterator[list[str]]:
        """The header, then one row of EXPORT_COLUMNS per exchange of `span`, oldest first.

        Messages are as stored (redacted before writing); there is no IP address
        to export. `feedback` is the visitor's latest verdict. Read in batches
        of `batch` (keyset pages, one short transaction each), so a year of log
        streams without holding the database or the memory. Cells a spreadsheet
        would run as a formula start with an apostrophe.
        """
        yield list(EXPORT_COLUMNS)
        after = None
        while True:
            with self.storage.transaction("exporting the chat log") as session:
                query = (select(ExchangeRow.id, ExchangeRow.created_at, ExchangeRow.session_id, ExchangeRow.message,
                                ExchangeRow.kind, ExchangeRow.passage_ids, ExchangeRow.scores,
                                ExchangeRow.message_id)
                         .where(in_range(span)).order_by(ExchangeRow.created_at, ExchangeRow.id).limit(batch))
                if after is not None:
                    moment, last_id = after
                    query = query.where(or_(ExchangeRow.created_at > moment,
                                            and_(ExchangeRow.created_at == moment, ExchangeRow.id > last_id)))
                rows = session.execute(query).all()
                verdicts = _verdicts(session, [row.message_id for row in rows])
            for row in rows:
                yield [row.created_at.strftime("%Y-%m-%d %H:%M:%S"), _cell(row.session_id or ""), _cell(row.message),
                       row.kind, " ".join(row.passage_ids), " ".join(f"{score:.3f}" for score in row.scores),
                       verdicts.get(row.message_id, "")]
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)


def _verdicts(session, message_ids: list[str]) -> dict[str, str]:
    """The latest verdict on each of `message_ids` that has one."""
    if not message_ids:
        return {}
    rows = session.execute(select(FeedbackRow.message_id, FeedbackRow.helpful)
                           .where(FeedbackRow.message_id.in_(message_ids))
                           .order_by(FeedbackRow.created_at, FeedbackRow.id))
    return {message_id: HELPFUL if helpful else NOT_HELPFUL for message_id, helpful in rows}  # newest wins


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
