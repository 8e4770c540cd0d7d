"""Reading a staff-edited rules file (urgent.txt, smalltalk.txt) without ever raising."""
from __future__ import annotations

from pathlib import Path

from ..corpus.model import LoadError


def read_rules_file(path: str | Path, if_missing: str) -> tuple[str | None, list[LoadError]]:
    """(text, []) of the UTF-8 file at `path`, or (None, [the problem]); `if_missing` says what a missing file means."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig"), []
    except FileNotFoundError:
        problem = f"file not found: {if_missing}"
    except UnicodeDecodeError:
        problem = "not UTF-8 text; save the file as UTF-8"
    except OSError as error:
        problem = f"cannot be read ({error.strerror})"
    return None, [LoadError(path.name, 0, problem)]
