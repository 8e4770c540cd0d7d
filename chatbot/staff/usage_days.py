"""The usage figures of each UTC day: counted from the chat log once, then kept in usage_days.

    totals = day_totals(storage, span, today)   # one DayTotals per day of span, in order

A year at a million exchanges is then 366 small rows summed, not a million
counted. Only the days not kept yet are counted, in as few aggregate queries
as there are runs of such days (GROUP BY day over the log's covering index).
Kept figures are used only when they cannot have changed:

- the last RECOMPUTE_DAYS days are always counted again and never kept, as
  late spooled writes and late feedback land there;
- the day of the oldest stored exchange, and the day after it, are always
  counted again, as a purge (Storage.purge, which knows nothing of this
  cache) may have cut the first in half, and the second's conversations
  "continued" from it; days before it have nothing left and read as zero;
  their kept rows are deleted the next time figures are stored.

So the figures equal those counted from the log, as long as no exchange or
verdict arrives for a day older than RECOMPUTE_DAYS (the chat log writer
spools for minutes, not days; a visitor rates an answer while reading it).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, String, and_, case, cast, delete, distinct, func, select
from sqlalchemy.sql import ColumnElement

from ..answer.kinds import ReplyKind
from ..storage import Storage, StorageError
from ..storage.tables import ExchangeRow, FeedbackRow
from .tables import UsageDayRow

# Today and the 2 days before are counted at each report and never kept: the
# chat log writer may store a spooled exchange late, and a visitor may rate an
# answer hours after reading it, so these days' figures may still change.
RECOMPUTE_DAYS = 3
# Passages kept per day, most quoted first. A range's top passages are summed
# from these, so beyond the first TOP_PASSAGES_PER_DAY of each day they are an
# approximation (a passage just below the cut every day would be missed); a
# clinic's documents have a few hundred passages, and the page shows ten.
TOP_PASSAGES_PER_DAY = 100
KINDS = [kind.value for kind in ReplyKind]


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


@dataclass(frozen=True)
class DayTotals:
    """One UTC day's figures. `continued`: its conversations also seen the day before, so a range
    counts a conversation across midnight once. Verdicts count on the day of their exchange."""
    day: date
    questions: int = 0
    conversations: int = 0
    continued: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    rated: int = 0
    helpful: int = 0
    passages: dict[str, int] = field(default_factory=dict)


def day_totals(storage: Storage, span: DayRange, today: date) -> list[DayTotals]:
    """The figures of every day of `span`, from usage_days where they are kept, else counted (and kept)."""
    recent = today - timedelta(days=RECOMPUTE_DAYS - 1)
    with storage.transaction("reading usage figures") as session:
        oldest = session.scalar(select(func.min(ExchangeRow.created_at)))
        oldest_day = oldest.date() if oldest is not None else None
        settled = oldest_day + timedelta(days=2) if oldest_day is not None else None  # purges cannot touch it
        kept = {} if oldest_day is None else {
            row.day: _from_row(row) for row in session.scalars(
                select(UsageDayRow).where(UsageDayRow.day >= settled, UsageDayRow.day >= span.first,
                                          UsageDayRow.day <= span.last, UsageDayRow.day < recent))}
        wanted = [] if oldest_day is None else [d for d in span.days if d >= oldest_day and d not in kept]
        counted = {}
        for run in _runs(wanted):
            counted.update(count_days(session, run))
    keep = [counted.get(d) or DayTotals(d) for d in wanted if settled <= d < recent]
    if keep:
        _store(storage, keep, oldest_day)
    return [kept.get(d) or counted.get(d) or DayTotals(d) for d in span.days]


def count_days(session, span: DayRange) -> dict[date, DayTotals]:
    """The figures of each day of `span` that has exchanges, counted from the log: four aggregate queries."""
    dialect = session.get_bind().dialect.name
    in_span = in_range(span)
    day = utc_day(ExchangeRow.created_at, dialect)
    figures = {}
    for when, questions, sessions, *kind_counts in session.execute(
            select(day, func.count(), _conversations(),
                   *(func.sum(case((ExchangeRow.kind == kind, 1), else_=0)) for kind in KINDS))
            .where(in_span).group_by(day)):
        figures[_as_date(when)] = {"questions": questions, "conversations": sessions,
                                   "kinds": dict(zip(KINDS, kind_counts, strict=True))}
    continued = _continued(session, span, dialect)
    verdicts = {_as_date(when): (rated, int(helpful or 0))
                for when, rated, helpful in session.execute(_latest_verdicts(in_span, day))}
    passages: dict[date, Counter] = {}
    first_passage = ExchangeRow.passage_ids[0].as_string()
    for when, passage_id, answers in session.execute(
            select(day, first_passage, func.count())
            .where(in_span, ExchangeRow.kind == ReplyKind.ANSWER.value, first_passage.is_not(None))
            .group_by(day, first_passage)):
        passages.setdefault(_as_date(when), Counter())[passage_id] = answers
    return {d: DayTotals(d, continued=continued.get(d, 0), rated=verdicts.get(d, (0, 0))[0],
                         helpful=verdicts.get(d, (0, 0))[1], **values,
                         passages=dict(_top(passages.get(d, Counter()), TOP_PASSAGES_PER_DAY)))
            for d, values in figures.items()}


def in_range(span: DayRange) -> ColumnElement[bool]:
    return and_(ExchangeRow.created_at >= span.start, ExchangeRow.created_at < span.end)


def utc_day(column, dialect: str) -> ColumnElement:
    """The UTC day of a stored time, computed from the index's own column."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.substr(column, 1, 10, type_=String)
    return cast(func.timezone("UTC", column), Date)  # PostgreSQL: timestamptz -> UTC wall time -> day


def _top(counts: Counter, n: int) -> list[tuple[str, int]]:
    """The `n` most counted, ties by name, so the cut is the same on every database."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def top_passages(days: list[DayTotals], n: int) -> list[tuple[str, int]]:
    """The `n` passages most quoted first over `days` (see TOP_PASSAGES_PER_DAY)."""
    total: Counter = Counter()
    for figures in days:
        total.update(figures.passages)
    return _top(total, n)


def _conversations() -> ColumnElement[int]:
    """Distinct session ids; an exchange without one is a conversation of its own."""
    return func.count(distinct(ExchangeRow.session_id)) + func.count() - func.count(ExchangeRow.session_id)


def _continued(session, span: DayRange, dialect: str) -> dict[date, int]:
    """Per day of `span`: its distinct session ids that have an exchange on the day before too."""
    def sessions_by_day(days: DayRange):
        day = utc_day(ExchangeRow.created_at, dialect).label("day")
        return (select(day, ExchangeRow.session_id).distinct()
                .where(in_range(days), ExchangeRow.session_id.is_not(None)).subquery())
    today = sessions_by_day(span)
    before = sessions_by_day(DayRange(span.first - timedelta(days=1), span.last - timedelta(days=1)))
    previous = (func.date(today.c.day, "-1 day") if dialect == "sqlite"
                else today.c.day - timedelta(days=1))
    rows = session.execute(select(today.c.day, func.count())
                           .join(before, and_(before.c.session_id == today.c.session_id,
                                              before.c.day == previous))
                           .group_by(today.c.day))
    return {_as_date(when): count for when, count in rows}


def _latest_verdicts(in_span: ColumnElement[bool], day: ColumnElement):
    """Per day: exchanges of the span with feedback, and those whose newest verdict is helpful."""
    newest_first = func.row_number().over(partition_by=FeedbackRow.message_id,
                                          order_by=(FeedbackRow.created_at.desc(), FeedbackRow.id.desc()))
    verdicts = (select(day.label("day"), FeedbackRow.helpful, newest_first.label("rank"))
                .join(ExchangeRow, ExchangeRow.message_id == FeedbackRow.message_id)
                .where(in_span).subquery())
    return (select(verdicts.c.day, func.count(), func.sum(case((verdicts.c.helpful, 1), else_=0)))
            .where(verdicts.c.rank == 1).group_by(verdicts.c.day))


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def _runs(days: list[date]) -> list[DayRange]:
    """`days` (in order) as ranges of consecutive days."""
    runs: list[DayRange] = []
    for d in days:
        if runs and runs[-1].last == d - timedelta(days=1):
            runs[-1] = DayRange(runs[-1].first, d)
        else:
            runs.append(DayRange(d, d))
    return runs


def _from_row(row: UsageDayRow) -> DayTotals:
    return DayTotals(row.day, row.questions, row.conversations, row.continued, {**dict.fromkeys(KINDS, 0), **row.kinds},
                     row.rated, row.helpful, dict(row.passages))


def _store(storage: Storage, days: list[DayTotals], oldest_day: date) -> None:
    """Keep `days`, and forget kept days before `oldest_day` (purged). Best effort: the figures
    are right without it, so a failed write (another process keeping the same day first, a
    read-only database) only means counting again next time."""
    now = datetime.now(timezone.utc)
    try:
        with storage.transaction("keeping usage figures", write=True) as session:
            session.execute(delete(UsageDayRow).where(
                (UsageDayRow.day < oldest_day) | UsageDayRow.day.in_([d.day for d in days])))
            session.add_all(UsageDayRow(day=d.day, questions=d.questions, conversations=d.conversations,
                                        continued=d.continued, kinds=d.kinds, rated=d.rated, helpful=d.helpful,
                                        passages=d.passages, computed_at=now) for d in days)
    except StorageError:  # e.g. the IntegrityError of a day another process kept first
        pass
