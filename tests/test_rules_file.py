"""The staff-edited rules files (urgent.txt, smalltalk.txt) share one loader: a file that cannot
be used is reported with its name, never raised, and the rules made from it match nothing."""
from __future__ import annotations

import pytest

from chatbot.answer import Smalltalk, UrgentScreen

# (the class made from the file, its file name, a message its shipped rules would catch,
#  a text with undecodable bytes, what an empty file is reported as)
KINDS = {
    "urgent": (UrgentScreen, "urgent.txt", "I want to kill myself",
               b"medical: x => fever \xff\xfe + back", "no usable rules"),
    "smalltalk": (Smalltalk, "smalltalk.txt", "hi", b"[greeting]\nreply: hi \xff\xfe\nhi\n", "no usable sections"),
}


def _matches(loaded, message: str) -> bool:
    return (loaded.check(message) if isinstance(loaded, UrgentScreen) else loaded.classify(message)) is not None


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("problem", ["missing", "not UTF-8", "empty", "only comments"])
def test_an_unusable_rules_file_is_reported_not_raised_and_matches_nothing(tmp_path, kind, problem):
    cls, name, message, undecodable, empty_report = KINDS[kind]
    content, reported = {"missing": (None, "file not found"), "not UTF-8": (undecodable, "not UTF-8"),
                         "empty": (b"", empty_report), "only comments": (b"# only comments\n", empty_report)}[problem]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    loaded, errors = cls.load(path)
    assert [(e.path, e.line) for e in errors] == [(name, 0)]
    assert reported in errors[0].message
    assert not _matches(loaded, message)
