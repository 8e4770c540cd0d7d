"""FAQ files: CSV (question,answer,alternates,source_title,source_url) or JSON Lines.

Each entry becomes an FaqEntry with its own source. A bad entry is reported
with its file and line and skipped; the good entries of the file still load.
"""
from __future__ import annotations

import csv
import io
import json

from ..text import squash_spaces
from .model import FaqEntry, LoadError

CSV_COLUMNS = ("question", "answer", "alternates", "source_title", "source_url")
REQUIRED_COLUMNS = ("question", "answer")
MAX_FIELD_CHARS = 20_000


def read_faq_csv(text: str, path: str) -> tuple[list[FaqEntry], list[LoadError]]:
    """Entries and errors of a CSV FAQ file (UTF-8, header row first)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [LoadError(path, 1, f"CSV header must name columns {', '.join(CSV_COLUMNS)}; "
                                       f"missing: {', '.join(missing)}")]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    errors = [LoadError(path, 1, f"unknown column {h!r} ignored") for h in unknown]
    reader.fieldnames = header
    entries = []
    while True:
        previous_end = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LoadError(path, previous_end + 1, f"malformed CSV: {exc}"))
            break
        # line_num is where the record ends; a quoted cell may span lines.
        line = reader.line_num - sum(str(v).count("\n") for v in row.values() if v)
        if None in row:
            errors.append(LoadError(path, line, "row has more cells than the header"))
            continue
        alternates = [a for a in (row.get("alternates") or "").split("|")]
        entry = _make_entry(row.get("question"), row.get("answer"), alternates,
                            row.get("source_title"), row.get("source_url"), path, line, errors)
        if entry:
            entries.append(entry)
    return entries, errors


def read_faq_jsonl(text: str, path: str) -> tuple[list[FaqEntry], list[LoadError]]:
    """Entries and errors of a JSON Lines FAQ file, one object per line."""
    entries, errors = [], []
    # split on "\n" only: JSON strings may hold U+2028 and friends unescaped
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(LoadError(path, line, f"not valid JSON: {exc.msg}"))
            continue
        except (ValueError, RecursionError):  # a number of thousands of digits; nesting thousands deep
            errors.append(LoadError(path, line, "not valid JSON: a number or nesting too large to read"))
            continue
        if not isinstance(item, dict):
            errors.append(LoadError(path, line, "each line must be a JSON object"))
            continue
        alternates = item.get("alternates") or []
        source = item.get("source") or {}
        if not isinstance(alternates, list) or not all(isinstance(a, str) for a in alternates):
            errors.append(LoadError(path, line, "'alternates' must be a list of strings"))
            continue
        if not isinstance(source, dict):
            errors.append(LoadError(path, line, "'source' must be an object with 'title' and 'url'"))
            continue
        entry = _make_entry(item.get("question"), item.get("answer"), alternates,
                            source.get("title"), source.get("url"), path, line, errors)
        if entry:
            entries.append(entry)
    return entries, errors


def _make_entry(question, answer, alternates, title, url, path, line, errors) -> FaqEntry | None:
    for name, value in (("question", question), ("answer", answer)):
        if not isinstance(value, str) or not value.strip():
            errors.append(LoadError(path, line, f"'{name}' is missing or empty"))
            return None
        if len(value) > MAX_FIELD_CHARS:
            errors.append(LoadError(path, line, f"'{name}' is longer than {MAX_FIELD_CHARS} characters"))
            return None
    for name, value in (("source title", title), ("source url", url)):
        if value is not None and not isinstance(value, str):
            errors.append(LoadError(path, line, f"{name} must be text"))
            return None
    url = (url or "").strip() or None
    if url and not url.startswith(("http://", "https://")):
        errors.append(LoadError(path, line, f"source url must start with http:// or https://, got {url[:60]!r}"))
        return None
    return FaqEntry(
        question=squash_spaces(question),
        answer=answer.strip(),
        alternates=tuple(squash_spaces(a) for a in alternates if a and a.strip()),
        source_title=(title or "").strip() or None,
        source_url=url,
        line=line,
    )
