"""Staff-written "questions this passage answers" for the documents' passages (`corpus/questions.txt`).

File format: one section per passage, `#` starts a comment.

    [wear loose, comfortable clothing]
    what should i wear to my appointment
    do i have to get undressed

The line in square brackets quotes words of the passage meant, copied from
its document (at least MIN_QUOTE_WORDS words; case, spacing and punctuation
do not matter). The lines under it are ways visitors ask what that passage
answers, one per line. The build joins them to the passage that contains the
quote, exactly as if staff had taught them from the inbox (taught.py): the
index matches them as the passage's question field, and what the visitor
reads does not change.

Quoting words rather than naming a passage keeps the questions with their
passage when a document is edited elsewhere, or its passages are cut
differently; a quote that no longer matches exactly one passage is reported
with its line number, and its questions wait until it is fixed.

A section headed `[no passage]` lists questions visitors ask that no passage
answers ("do you take my insurance", "can acupuncture help with tinnitus"):
how closely a visitor asked one of them is a signal of the confidence model,
so that the bot learns to say it does not know.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..corpus.model import LoadError
from ..text import words
from .model import Passage

MIN_QUOTE_WORDS = 4
NO_PASSAGE = "no passage"  # the heading of the questions no passage answers
MAX_WORDING_CHARS = 300


@dataclass(frozen=True)
class QuestionSection:
    """One `[quote]` section: the quoted words (normalised), their line, and the wordings under it."""
    quote: str
    line: int
    wordings: tuple[str, ...]


def parse_questions(text: str, path: str = "questions.txt") -> tuple[list[QuestionSection], list[LoadError]]:
    """Sections and problems (with line numbers) of a questions file's text."""
    sections: list[QuestionSection] = []
    errors: list[LoadError] = []
    quote: str | None = None
    quote_line = 0
    wordings: list[str] = []
    faulty = False  # a wording of this section was reported

    def close() -> None:
        if quote is None:
            return
        if wordings:
            sections.append(QuestionSection(quote, quote_line, tuple(dict.fromkeys(wordings))))
        elif not faulty:
            errors.append(LoadError(path, quote_line, "no questions under this quote"))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            close()
            quote, quote_line, wordings, faulty = None, number, [], False
            if not line.endswith("]"):
                errors.append(LoadError(path, number, "a quote line must end with ']'"))
                continue
            quoted = words(line[1:-1])
            if " ".join(quoted) == NO_PASSAGE:
                quote = NO_PASSAGE
                continue
            if len(quoted) < MIN_QUOTE_WORDS:
                errors.append(LoadError(path, number, f"quote at least {MIN_QUOTE_WORDS} words of the passage"))
                continue
            quote = " ".join(quoted)
        elif quote is None:
            if not quote_line:  # before any section; lines under a faulty quote were reported with it
                errors.append(LoadError(path, number, "a question must come under a [quote] of its passage"))
        elif len(line) > MAX_WORDING_CHARS or not words(line):
            faulty = True
            errors.append(LoadError(path, number, f"{line!r} has no words" if not words(line) else
                                    f"a question of at most {MAX_WORDING_CHARS} characters"))
        else:
            wordings.append(line)
    close()
    return sections, errors


def load_questions(path: Path) -> tuple[list[QuestionSection], list[LoadError]]:
    """Sections of the questions file at `path`; no file means none."""
    if not path.is_file():
        return [], []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [LoadError(path.name, 0, "not UTF-8 text; save the file as UTF-8")]
    return parse_questions(text, path.name)


def questions_by_passage(passages: list[Passage], sections: list[QuestionSection], path: str = "questions.txt",
                         hidden_texts: Sequence[str] = ()) -> tuple[dict[str, tuple[str, ...]], list[LoadError]]:
    """({passage id: wordings}, problems): each section joined to the one passage containing its quote.

    A quote found in no passage, or in several, is a problem of its line and
    its wordings are left out; one found in no passage but in `hidden_texts`
    (documents staff chose to leave out) is left out without a report.
    """
    sections = [s for s in sections if s.quote != NO_PASSAGE]
    if not sections:
        return {}, []
    joined, starts = _joined([" ".join(words(p.text)) for p in passages])
    hidden = _joined([" ".join(words(t)) for t in hidden_texts])[0] if hidden_texts else ""
    found: dict[str, list[str]] = {}
    errors: list[LoadError] = []
    for section in sections:
        rows = _rows_containing(joined, starts, f" {section.quote} ")
        if not rows and f" {section.quote} " in hidden:
            continue
        if not rows:
            errors.append(LoadError(path, section.line, f"no passage contains {section.quote!r}: "
                                                        "copy the words from the document"))
        elif len(rows) > 1:
            errors.append(LoadError(path, section.line, f"{len(rows)} passages contain {section.quote!r}: "
                                                        "quote more words, from the one meant"))
        else:
            found.setdefault(passages[rows.pop()].id, []).extend(section.wordings)
    return {pid: tuple(dict.fromkeys(w)) for pid, w in found.items()}, errors


def unanswered_questions(sections: list[QuestionSection]) -> tuple[str, ...]:
    """The wordings of the `[no passage]` sections: questions no passage answers."""
    return tuple(dict.fromkeys(w for s in sections if s.quote == NO_PASSAGE for w in s.wordings))


def _joined(texts: list[str]) -> tuple[str, list[int]]:
    """(every text between separators in one string, each text's first offset in it): a quote
    is looked up with str.find, and its passage found from the offset of each occurrence."""
    starts, offset = [], 2
    for text in texts:
        starts.append(offset)
        offset += len(text) + 3
    return "\n " + " \n ".join(texts) + " \n", starts


def _rows_containing(joined: str, starts: list[int], needle: str, most: int = 2) -> set[int]:
    """The rows (by `starts`, each row's first offset in `joined`) holding `needle`; stops at `most`."""
    rows: set[int] = set()
    position = joined.find(needle)
    while position >= 0 and len(rows) < most:
        rows.add(bisect_right(starts, position + 1) - 1)
        position = joined.find(needle, position + 1)
    return rows
