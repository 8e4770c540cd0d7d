"""Usage figures over the chat log for a range of UTC days, counted by the database.

    span = parse_range("2026-11-01", "2026-11-30", today=date(2026, 11, 30))  # RangeError: a message for staff
    report = workspace.usage.report(span)     # UsageReport: per day, per kind, rates, top passages
    for row in workspace.usage.export_rows(span):  # the redacted log, one list of cells per exchange
        ...

Every figure is one aggregate query (GROUP BY in SQL, never rows counted in
Python), and each reads an index: ix_exchanges_created_at_kind_session_id
covers the per-day and per-kind counts, ix_feedback_message_id_created_at the
visitors' latest verdicts (migration 0004). So the page costs the same at a
million exchanges as at a thousand, for the same range. The log is read as
stored: messages were redacted before writing, no IP address is kept, and
purged exchanges are gone from every figure.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, String, and_, case, cast, distinct, func, or_, select
from sqlalchemy.sql import ColumnElement

from ..answer.kinds import ReplyKind
from ..storage import Storage
from ..storage.tables import ExchangeRow, FeedbackRow
from .audit import AuditLog

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
TOP_PASSAGES = 10
EXPORT_BATCH = 2000  # exchanges read per query while exporting: one short transaction each
EXPORT_COLUMNS = ("time", "session", "message", "kind", "passages", "scores", "feedback")
HELPFUL, NOT_HELPFUL = "helpful", "not helpful"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


class RangeError(ValueError):
    """A date range staff cannot have: the message says why in plain words."""


@dataclass(frozen=True)
class DayRange:
    """UTC days from `first` to `last`, both included."""
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), timezone.utc)

    @property
    def end(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.last + timedelta(days=1), time(), timezone.utc)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


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

    def __init__(self, storage: Storage, audit: AuditLog | None = None):
        self.storage = storage
        self.audit = audit

    def report(self, span: DayRange, top: int = TOP_PASSAGES) -> UsageReport:
        """The figures of `span`: four aggregate queries in one read transaction."""
        with self.storage.transaction("reading usage figures") as session:
            dialect = session.get_bind().dialect.name
            in_span = _in_span(span)
            day = _utc_day(ExchangeRow.created_at, dialect)
            kinds = [kind.value for kind in ReplyKind]
            per_day = session.execute(
                select(day, func.count(), _conversations(),
                       *(func.sum(case((ExchangeRow.kind == kind, 1), else_=0)) for kind in kinds))
                .where(in_span).group_by(day))
            by_day = {}
            for when, count, sessions, *kind_counts in per_day:
                day_ = _as_date(when)
                by_day[day_] = DayFigures(day_, count, sessions, dict(zip(kinds, kind_counts, strict=True)))
            questions, conversations = session.execute(select(func.count(), _conversations()).where(in_span)).one()
            rated, helpful = session.execute(_latest_verdicts(in_span)).one()
            first_passage = ExchangeRow.passage_ids[0].as_string()
            answers = func.count().label("answers")
            top_rows = session.execute(
                select(first_passage, answers)
                .where(in_span, ExchangeRow.kind == ReplyKind.ANSWER.value, first_passage.is_not(None))
                .group_by(first_passage).order_by(answers.desc(), first_passage).limit(top))
            top_passages = [PassageCount(passage_id, count) for passage_id, count in top_rows]
        days = [by_day.get(d) or DayFigures(d, 0, 0, dict.fromkeys(kinds, 0)) for d in span.days]
        totals = {kind: sum(figures.kinds[kind] for figures in days) for kind in kinds}
        return UsageReport(span, days, questions, conversations, totals, rated, int(helpful or 0), top_passages)

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
                         .where(_in_span(span)).order_by(ExchangeRow.created_at, ExchangeRow.id).limit(batch))
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


def _in_span(span: DayRange) -> ColumnElement[bool]:
    return and_(ExchangeRow.created_at >= span.start, ExchangeRow.created_at < span.end)


def _conversations() -> ColumnElement[int]:
    """Distinct session ids; an exchange without one is a conversation of its own."""
    return func.count(distinct(ExchangeRow.session_id)) + func.count() - func.count(ExchangeRow.session_id)


def _utc_day(column, dialect: str) -> ColumnElement:
    """The UTC day of a stored time, computed from the index's own column."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.substr(column, 1, 10, type_=String)
    return cast(func.timezone("UTC", column), Date)  # PostgreSQL: timestamptz -> UTC wall time -> day


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _latest_verdicts(in_span: ColumnElement[bool]):
    """(rated, helpful): exchanges of the span with feedback, and those whose newest verdict is helpful."""
    newest_first = func.row_number().over(partition_by=FeedbackRow.message_id,
                                          order_by=(FeedbackRow.created_at.desc(), FeedbackRow.id.desc()))
    verdicts = (select(FeedbackRow.helpful, newest_first.label("rank"))
                .join(ExchangeRow, ExchangeRow.message_id == FeedbackRow.message_id)
                .where(in_span).subquery())
    return select(func.count(), func.sum(case((verdicts.c.helpful, 1), else_=0))).where(verdicts.c.rank == 1)


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
