"""The smalltalk file (`corpus/smalltalk.txt`) read into intents, filler words and problems.

Format (the file's own header is the manual for staff):

    filler: ok, so, much
    not typos: hell, hall
    [thanks]
    reply: You're welcome!
    thanks
    thank you

A bad line is reported with its line number and left out; the rest loads.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

from ..corpus.files import SMALLTALK_FILE
from ..corpus.model import LoadError
from ..text import words

MAX_WORDS = 10
PLACEHOLDERS = frozenset({"clinic_name", "welcome", "contact"})
_SECTION = re.compile(r"^\[(?P<name>[^\]]*)\]$")
# "reply:", "filler:", "not typos:", "same:": the colon right after the key ("hi there :)" is a wording).
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"^(?P<key>[a-z]+(?: [a-z]+)?):(?=\s|$)(?P<value>.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class SmalltalkIntent:
    """One section of the file: its name, the wordings visitors type, and the reply."""
    name: str
    wordings: tuple[str, ...]
    reply: str
    line: int = 0


def _word_list(text: str) -> list[str]:
    """Words of a 'filler:', 'not typos:' or 'same:' line (commas or spaces between them)."""
    return words(text.replace(",", " "))


def _reply_problem(reply: str) -> str | None:
    """Why `reply` cannot be used as a reply template, or None."""
    if not reply:
        return "the reply is empty"
    try:
        fields = [(name, spec, conversion)
                  for _, name, spec, conversion in string.Formatter().parse(reply) if name is not None]
    except ValueError:
        return "a '{' or '}' without its partner; placeholders look like {clinic_name}"
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS or spec or conversion:
            return (f"unknown placeholder {{{name}}}; use "
                    + " or ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS)))
    return None


class _Section:
    """A section while its lines are read."""

    def __init__(self, name: str, line: int):
        self.name, self.line = name, line
        self.wordings: list[str] = []
        self.reply: str | None = None
        self.reply_line = 0
        self.reply_unusable = False


def parse_smalltalk(text: str, path: str = SMALLTALK_FILE
                    ) -> tuple[list[SmalltalkIntent], list[str], list[str], list[tuple[str, ...]], list[LoadError]]:
    """Intents, filler words, not-typo words, word families ('same:' lines, each a tuple whose
    first word stands for all) and problems (with line numbers) of a file's text."""
    sections: list[_Section] = []
    filler: list[str] = []
    not_typos: list[str] = []
    families: list[tuple[str, ...]] = []
    family_lines: dict[str, int] = {}
    errors: list[LoadError] = []
    seen_sections: dict[str, int] = {}
    seen_wordings: dict[frozenset[str], tuple[str, int]] = {}
    current: _Section | None = None
    skipping = False   # inside a section that is left out: its lines are not reported again
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = _SECTION.match(line)
            name = re.sub(r"[\s-]+", "_", section["name"].strip().lower()) if section else ""
            current, skipping = None, True
            if not section:
                errors.append(LoadError(path, number, "a section line is a name in square brackets "
                                        "and nothing else, like [greeting]; section left out"))
            elif not _NAME.match(name):
                errors.append(LoadError(path, number, f"section name {section['name']!r} must be "
                                        "letters, digits and _ (like [greeting]); section left out"))
            elif name in seen_sections:
                errors.append(LoadError(path, number, f"section [{name}] is already on line "
                                        f"{seen_sections[name]}; this one is left out"))
            else:
                seen_sections[name] = number
                current, skipping = _Section(name, number), False
                sections.append(current)
            continue
        if key := _KEY.match(line):
            name, value = key["key"].lower(), key["value"].strip()
            if name in ("filler", "not typos"):
                found = _word_list(value)
                if not found:
                    errors.append(LoadError(path, number, f"'{name}:' is followed by no words"))
                (filler if name == "filler" else not_typos).extend(found)
            elif name == "same":
                family = tuple(dict.fromkeys(_word_list(value)))
                taken = [word for word in family if word in family_lines]
                if len(family) < 2:
                    errors.append(LoadError(path, number, "'same:' needs at least two words; line left out"))
                elif taken:
                    errors.append(LoadError(path, number, f"{taken[0]!r} is already on the 'same:' line "
                                            f"{family_lines[taken[0]]}; line left out"))
                else:
                    families.append(family)
                    family_lines.update((word, number) for word in family)
            elif name != "reply":
                errors.append(LoadError(path, number, f"unknown line '{key['key']}:'; expected "
                                        "'reply:', 'filler:', 'not typos:', 'same:', [section] or a wording"))
            elif skipping:
                pass
            elif current is None:
                errors.append(LoadError(path, number, "'reply:' before any [section] line"))
            elif current.reply is not None or current.reply_unusable:
                errors.append(LoadError(path, number, f"section [{current.name}] already has a "
                                        f"reply on line {current.reply_line}"))
            elif problem := _reply_problem(value):
                errors.append(LoadError(path, number, f"{problem}; section [{current.name}] "
                                        "is left out"))
                current.reply_line, current.reply_unusable = number, True
            else:
                current.reply, current.reply_line = value, number
            continue
        if skipping:
            continue
        if current is None:
            errors.append(LoadError(path, number, f"wording {line!r} before any [section] line; "
                                    "start a section with a line like [greeting]"))
            continue
        wording = words(line)
        if not wording:
            errors.append(LoadError(path, number, f"wording {line!r} has no words"))
        elif len(wording) > MAX_WORDS:
            errors.append(LoadError(path, number, f"a wording has at most {MAX_WORDS} words"))
        elif (earlier := seen_wordings.get(frozenset(wording))) and earlier[0] != current.name:
            errors.append(LoadError(path, number, f"wording {line!r} is already in section "
                                    f"[{earlier[0]}] on line {earlier[1]}"))
        else:
            seen_wordings.setdefault(frozenset(wording), (current.name, number))
            current.wordings.append(line)
    intents = []
    for section in sections:
        if section.reply is None:
            if not section.reply_unusable:
                errors.append(LoadError(path, section.line, f"section [{section.name}] has no "
                                        "'reply:' line; it is left out"))
        elif not section.wordings:
            errors.append(LoadError(path, section.line, f"section [{section.name}] has no "
                                    "wordings; it never matches"))
        else:
            intents.append(SmalltalkIntent(section.name, tuple(section.wordings), section.reply,
                                           section.line))
    if not intents:
        errors.append(LoadError(path, 0, "no usable sections: no smalltalk will be recognised"))
    return intents, filler, not_typos, families, sorted(errors, key=lambda e: e.line)
