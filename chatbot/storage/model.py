"""Values that cross the storage boundary, and its one exception."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ..answer.kinds import ReplyKind

KINDS = tuple(kind.value for kind in ReplyKind)   # stored as these plain strings
MAX_ID_LENGTH = 64
MAX_COMMENT_LENGTH = 1000


class StorageError(Exception):
    """The database could not be used (unreachable, locked, schema missing or too new).

    Always raised in place of the database driver's or SQLAlchemy's own
    errors, so a caller can catch this one type and keep chatting without a log.
    """


@dataclass(frozen=True)
class Exchange:
    """One visitor message and the bot's reply, as recorded.

    `message` is what the visitor typed; storage redacts it before writing, so
    an Exchange read back holds the redacted text. `scores` are the retrieval
    scores of `passage_ids`. `created_at` must be timezone-aware; None means
    "when recorded". Lists are accepted and kept as tuples. `confidence` is the
    answer probability of a retrieval reply (answer or no_answer), None for the others.
    """
    message_id: str
    session_id: str | None
    message: str
    kind: str
    passage_ids: tuple[str, ...]
    scores: tuple[float, ...]
    index_version: str | None
    created_at: datetime | None = None
    confidence: float | None = None

    def __post_init__(self):
        if not self.message_id or len(self.message_id) > MAX_ID_LENGTH:
            raise ValueError(f"message_id must have 1 to {MAX_ID_LENGTH} characters")
        if self.session_id is not None and len(self.session_id) > MAX_ID_LENGTH:
            raise ValueError(f"session_id must have at most {MAX_ID_LENGTH} characters")
        if self.index_version is not None and len(self.index_version) > MAX_ID_LENGTH:
            raise ValueError(f"index_version must have at most {MAX_ID_LENGTH} characters")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.created_at is not None and self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        object.__setattr__(self, "passage_ids", tuple(str(id_) for id_ in self.passage_ids))
        object.__setattr__(self, "scores", tuple(float(score) for score in self.scores))
        # JSON has no NaN or infinity; PostgreSQL would refuse the row.
        if not all(math.isfinite(score) for score in self.scores):
            raise ValueError("scores must be finite numbers")
        if self.confidence is not None:
            object.__setattr__(self, "confidence", checked_confidence(self.confidence))


def checked_confidence(value) -> float:
    """`value` as a probability; ValueError for anything else (NaN, out of [0, 1], not a number)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number, not {value!r}") from None
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError(f"confidence must be between 0 and 1, not {value!r}")
    return value


@dataclass(frozen=True)
class Feedback:
    """A visitor's verdict on one exchange; `comment` as stored (redacted)."""
    message_id: str
    helpful: bool
    comment: str | None
    created_at: datetime
