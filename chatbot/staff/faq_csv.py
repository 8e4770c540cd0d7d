"""FAQ entries to and from the corpus CSV format (question,answer,alternates,source_title,source_url)."""
from __future__ import annotations

import csv
import io

from ..corpus.faq import CSV_COLUMNS, read_faq_csv
from ..corpus.model import LoadError
from .faq_entries import faq_entry

ALTERNATE_SEPARATOR = "|"
# One import is one transaction and one request: 5,000 rows take under 2 s
# (with a transaction per row, 1.1 ms a row, 40,000 rows ran past the 30 s
# budget). A larger file is refused before anything is written.
MAX_IMPORT_ROWS = 5_000


class ImportTooLarge(ValueError):
    """A file with more rows than one import takes; the message says so in plain words, for staff."""


def faq_to_csv(records) -> str:
    """CSV text of FAQ records (FaqRecord), in the corpus format; reads back unchanged."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([record.question, record.answer, ALTERNATE_SEPARATOR.join(record.alternates),
                         record.source_title or "", record.source_url or ""])
    return out.getvalue()


def import_faq(text: str, knowledge, actor: str, name: str = "import.csv") -> tuple[int, list[LoadError]]:
    """Add every valid entry of a CSV text to `knowledge`; (entries added, errors by line).

    The valid entries go in one transaction: all of them, or (StorageError)
    none. ImportTooLarge, before anything is written, for more than
    MAX_IMPORT_ROWS rows.
    """
    entries, errors = read_faq_csv(text.lstrip("\ufeff"), name)
    rows = len(entries) + sum(1 for error in errors if error.line)
    if rows > MAX_IMPORT_ROWS:
        raise ImportTooLarge(f"The file has {rows:,} rows; one import takes at most {MAX_IMPORT_ROWS:,}. "
                             f"Split it into files of {MAX_IMPORT_ROWS:,} rows or fewer and import them "
                             "one after the other. Nothing was imported.")
    checked = []
    for entry in entries:
        try:
            checked.append(faq_entry(entry.question, entry.answer, entry.alternates, entry.source_title,
                                     entry.source_url))
        except ValueError as exc:
            errors.append(LoadError(name, entry.line, str(exc)))
    return knowledge.add_faqs(checked, actor), errors
