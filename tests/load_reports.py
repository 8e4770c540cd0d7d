"""Checking what a loader reported about a bad file: the lines, their reasons, the file's name."""
from __future__ import annotations

from chatbot.corpus.model import LoadError


def assert_reported(errors: list, path: str, expected: dict[int, str]) -> None:
    """`errors` are LoadErrors of the file `path`, one for each line of `expected`, whose message
    holds the words given for that line, and none for any other line."""
    reported = {e.line: e.message for e in errors}
    assert sorted(reported) == sorted(expected)
    for line, words in expected.items():
        assert words in reported[line], (line, reported[line])
    assert all(isinstance(e, LoadError) and e.path == path for e in errors)
    first = min(expected)
    assert str(next(e for e in errors if e.line == first)).startswith(f"{path}:{first}: ")
