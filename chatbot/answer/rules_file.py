"""Reading a staff-edited rules file (urgent.txt, smalltalk.txt) without ever raising."""
from __future__ import annotations

from pathlib import Path
from typing import Self

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



class LoadedFromFile:
    """Base of what is made from a rules file: `load(path)` reads the file and calls the
    class's `from_text(text, file name)`; IF_MISSING says what an unreadable file means."""
    IF_MISSING = "nothing is loaded"

    @classmethod
    def from_text(cls, text: str, path: str) -> tuple[Self, list[LoadError]]:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path) -> tuple[Self, list[LoadError]]:
        """(loaded, problems) of the file at `path`: an empty one and the reason when it
        cannot be read; never raises."""
        text, problems = read_rules_file(path, cls.IF_MISSING)
        return (cls(), problems) if text is None else cls.from_text(text, Path(path).name)
