"""FAQ entries to and from the corpus CSV format (question,answer,alternates,source_title,source_url)."""
from __future__ import annotations

import csv
import io

from ..corpus.faq import CSV_COLUMNS, read_faq_csv
from ..corpus.model import LoadError

ALTERNATE_SEPARATOR = "|"


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
    """Add every valid entry of a CSV text to `knowledge`; (entries added, errors by line)."""
    entries, errors = read_faq_csv(text.lstrip("\ufeff"), name)
    added = 0
    for entry in entries:
        try:
            knowledge.add_faq(entry.question, entry.answer, entry.alternates, entry.source_title,
                              entry.source_url, author=actor)
            added += 1
        except ValueError as exc:
            errors.append(LoadError(name, entry.line, str(exc)))
    return added, errors
