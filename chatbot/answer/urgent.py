"""Urgent screen: warning signs that need care now, checked before retrieval.

Rules come from a staff-editable file, `corpus/urgent.txt` (its header is the
manual), one rule per line:

    medical: fever with back pain => fever, high temperature + back pain, backache
    medical: back pain after a fall => fell, a fall + back pain unless years ago
    words: back pain => back pain, backache, back hurts
    medical: back pain after a crash => car crash + [back pain]
    ignore: fell asleep, fewer
    treatment: acup, needl, cupping

A rule fires when each `+` group has an alternative in the message that is
not negated ("I have no fever"), no `unless` phrase is present, and, for
medical rules, the message describes the visitor's own situation rather than
only asking about treatment ("does acupuncture for back pain cause fever?"):
a question is about treatment when one of its words starts with a
`treatment:` word of the file, so a clinic names its own therapies there.
A `words:` line names a list of alternatives once; `[name]` in a group or after
`unless` stands for all of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nltk.metrics.distance import edit_distance

from ..corpus.model import LoadError
from ..settings import BY_NAME
from ..text import LIGHT_WORDS, STOP_WORDS, normalize_text, stem
from .rules_file import read_rules_file

URGENT_FILE = "urgent.txt"
CATEGORIES = ("medical", "self_harm")

MAX_GAP = 2          # other words allowed between two words of an alternative
NEGATION_REACH = 5   # "no", "not", ... cancel this many following words
MY_REACH = 3         # in a question, "my" marks this many following words as the visitor's own

NEGATION_WORDS = frozenset({
    "no", "not", "never", "without", "nor", "neither", "deny", "denies", "denied",
    "don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't", "isn't", "aren't", "wasn't",
    "weren't"})
# Spellings folded together before matching, in rules and in messages alike.
CONTRACTIONS = {
    "cant": "can't", "cannot": "can't", "couldn't": "can't", "couldnt": "can't",
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "havent": "haven't",
    "hasnt": "hasn't", "hadnt": "hadn't", "isnt": "isn't", "arent": "aren't",
    "wasnt": "wasn't", "werent": "weren't", "im": "i'm", "ive": "i've"}
CLAUSE_WORDS = frozenset({"but", "however", "although", "though"})
SENTENCE_MARKS = frozenset(".!?;")
# A sentence with "?", or with a clause opening with one of these, asks something.
QUESTION_OPENERS = frozenset({
    "can", "could", "does", "do", "did", "will", "would", "is", "are", "should", "may",
    "might", "what", "what's", "whats", "how", "why"})
# In a question about treatment, what follows these is a possible effect, not a symptom.
CAUSAL_WORDS = frozenset({
    "cause", "causes", "caused", "causing", "give", "gives", "trigger", "triggers", "lead",
    "leads", "result", "results", "make", "makes", "side", "risk", "risks"})
# "can I", "should I": the visitor asks for advice rather than describing themselves;
# "if I get", "if I ever": a possibility, not their situation.
AUXILIARIES = frozenset({"can", "could", "should", "shall", "will", "would", "do", "did",
                         "may", "might", "must", "am"})
NOT_DESCRIBING = frozenset({"get", "ever"})
FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd"})
# Typos are forgiven in warning words, not in the small words around them.
NEVER_A_TYPO = STOP_WORDS | LIGHT_WORDS | NEGATION_WORDS

# Numbers stand apart from the letters they touch: "lost 8kg" has the words "8" and "kg".
_TOKENS = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[.!?;:,]")
_RULE_LINE = re.compile(r"^(?P<category>[A-Za-z_-]+)\s*:\s*(?P<name>.*?)\s*=>\s*(?P<groups>.*)$")
_IGNORE_LINE = re.compile(r"^ignore\s*:(?P<phrases>.*)$", re.IGNORECASE)
_TREATMENT_LINE = re.compile(r"^treatment\s*:(?P<words>.*)$", re.IGNORECASE)
_TREATMENT_WORD = re.compile(r"^[a-z]{3,}$")
_WORDS_LINE = re.compile(r"^words\s*:\s*(?P<name>.*?)\s*=>\s*(?P<alternatives>.*)$", re.IGNORECASE)
_WORD_LIST = re.compile(r"^\[(?P<name>[^\]]*)\]$")
_UNLESS = re.compile(r"\bunless\b", re.IGNORECASE)
_IGNORED, _EXCEPTION = -1, -1   # rule index of "ignore:" phrases; group index of "unless"
_HYPOTHETICAL, _GENERAL, _OWN = 0, 1, 2   # what a word says about the visitor
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class UrgentMatch:
    """The rule that made a message urgent."""
    category: str  # "medical" or "self_harm"
    rule: str


@dataclass(frozen=True)
class UrgentRule:
    """One rule: every group needs one of its alternatives, and no exception may be present."""
    category: str
    name: str
    groups: tuple[tuple[str, ...], ...]
    exceptions: tuple[str, ...] = ()
    line: int = 0


# -- the rules file -----------------------------------------------------------

def _phrase_words(phrase: str) -> list[str]:
    """Lower-cased words of a phrase with contractions folded ("cannot" -> "can't")."""
    return _Message(normalize_text(phrase).lower()).words


def _keys(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _phrase_words(phrase))


def _alternatives(text: str, word_lists: dict[str, tuple[str, ...]]
                  ) -> tuple[tuple[str, ...], list[str]]:
    """Comma-separated alternatives of one group, `[name]` expanded, and why any is unusable."""
    alternatives: list[str] = []
    problems = []
    for item in (a.strip() for a in text.split(",")):
        if word_list := _WORD_LIST.match(item):
            name = _list_name(word_list["name"])
            if name in word_lists:
                alternatives += word_lists[name]
            else:
                problems.append(f"no 'words: {name} => ...' line above this one")
            continue
        words = _phrase_words(item)
        if not words:
            continue
        if len(words) < 3 and all(w in STOP_WORDS or w in NEGATION_WORDS for w in words):
            problems.append(f"{item!r} is too common to be a warning sign on its own")
        elif len(words) == 1 and len(words[0]) < 3:
            problems.append(f"{item!r} is too short to be a warning sign on its own")
        alternatives.append(item)
    return tuple(alternatives), problems


def _list_name(name: str) -> str:
    """A word list's name as looked up: lower case, single spaces."""
    return " ".join(name.lower().split())


def _parse_rule(category: str, name: str, text: str, line: int,
                word_lists: dict[str, tuple[str, ...]]) -> tuple[UrgentRule | None, list[str]]:
    """A rule from the text after '=>', or the problems that make it unusable."""
    if category not in CATEGORIES:
        return None, [f"unknown category {category!r}; use 'medical' or 'self_harm'"]
    if not name:
        return None, ["the rule has no name before '=>'"]
    parts = _UNLESS.split(text)
    if len(parts) > 2:
        return None, ["'unless' may appear only once in a rule"]
    groups, problems = [], []
    for number, part in enumerate(parts[0].split("+"), start=1):
        alternatives, found = _alternatives(part, word_lists)
        problems += found or ([] if alternatives else [f"group {number} after '=>' has no words"])
        groups.append(alternatives)
    exceptions: tuple[str, ...] = ()
    if len(parts) == 2:
        exceptions, found = _alternatives(parts[1], word_lists)
        problems += found or ([] if exceptions else ["'unless' is followed by no words"])
    if problems:
        return None, problems
    return UrgentRule(category, name, tuple(groups), exceptions, line), []


def _treatment_words(text: str) -> tuple[list[str], list[str]]:
    """Word starts of a 'treatment:' line, and why any is unusable."""
    found, problems = [], []
    for item in (t.strip() for t in text.split(",")):
        word = item.lower()
        if not word:
            continue
        if _TREATMENT_WORD.match(word):
            found.append(word)
        elif word.isalpha():
            problems.append(f"treatment word {item!r} is too short: most questions would look "
                            "like questions about treatment")
        else:
            problems.append(f"treatment word {item!r} must be one word of letters (its start is "
                            "enough: 'acup' covers acupuncture and acupuncturist)")
    if not found and not problems:
        problems.append("'treatment:' is followed by no words")
    return found, problems


def parse_urgent_rules(text: str, path: str = URGENT_FILE
                       ) -> tuple[list[UrgentRule], list[str], list[str], list[LoadError]]:
    """Rules, ignored phrases, treatment word starts and problems (with line numbers) of a rules file's text."""
    rules: list[UrgentRule] = []
    ignored: list[tuple[str, int]] = []
    treatment: list[str] = []
    errors: list[LoadError] = []
    seen: dict[str, int] = {}
    word_lists: dict[str, tuple[str, ...]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if ignore := _IGNORE_LINE.match(line):
            phrases = [p.strip() for p in ignore["phrases"].split(",") if _phrase_words(p)]
            if "=>" in line or not phrases:
                errors.append(LoadError(path, number, "expected 'ignore: phrase, other phrase'"))
                continue
            ignored += [(p, number) for p in phrases]
            continue
        if treatment_line := _TREATMENT_LINE.match(line):
            found, problems = _treatment_words(treatment_line["words"])
            treatment += found
            errors += [LoadError(path, number, p) for p in problems]
            continue
        if listed := _WORDS_LINE.match(line):
            name = _list_name(listed["name"])
            alternatives, problems = _alternatives(listed["alternatives"], word_lists)
            if not name or name in word_lists:
                problems.append(f"word list {name!r} is already defined" if name
                                else "the word list has no name before '=>'")
            elif not alternatives and not problems:
                problems.append("the word list has no words after '=>'")
            errors += [LoadError(path, number, p) for p in problems]
            if not problems:
                word_lists[name] = alternatives
            continue
        match = _RULE_LINE.match(line)
        if not match:
            errors.append(LoadError(path, number, "expected 'category: rule name => words, "
                                                  "other words + words'"))
            continue
        name = match["name"]
        if name.lower() in seen:
            errors.append(LoadError(path, number, f"rule {name!r} is already defined on line "
                                                  f"{seen[name.lower()]}"))
            continue
        category = match["category"].lower().replace("-", "_")
        rule, problems = _parse_rule(category, name, match["groups"], number, word_lists)
        errors += [LoadError(path, number, p) for p in problems]
        if rule:
            seen[name.lower()] = number
            rules.append(rule)
    warning_words = {k for r in rules for g in r.groups for a in g for k in _keys(a)}
    kept = []
    for phrase, number in ignored:
        keys = _keys(phrase)
        if len(keys) == 1 and keys[0] in warning_words:
            errors.append(LoadError(path, number, f"ignoring {phrase!r} would switch off a "
                                                  "warning word of a rule"))
        else:
            kept.append(phrase)
    if not rules:
        errors.append(LoadError(path, 0, "no usable rules: urgent messages will not be caught"))
    if not treatment and any(r.category == "medical" for r in rules):
        errors.append(LoadError(path, 0, "no 'treatment:' line: medical rules also fire on general "
                                         "questions about a treatment's effects; add one like "
                                         "'treatment: massage, therap'"))
    return rules, kept, treatment, sorted(errors, key=lambda e: e.line)


# -- the screen -------------------------------------------------------------------

class UrgentScreen:
    """Flags messages that describe warning signs; everything is compiled at construction."""

    def __init__(self, rules: tuple[UrgentRule, ...] | list[UrgentRule] = (),
                 ignored: tuple[str, ...] | list[str] = (),
                 treatment: tuple[str, ...] | list[str] = ()):
        self.rules = tuple(rules)
        self.ignored = tuple(ignored)
        self.treatment = tuple(treatment)   # word starts that make a question one about treatment
        self._compile()

    @classmethod
    def from_text(cls, text: str, path: str = URGENT_FILE) -> tuple["UrgentScreen", list[LoadError]]:
        """A screen of the rules in `text`, and the problems of the lines left out."""
        rules, ignored, treatment, errors = parse_urgent_rules(text, path)
        return cls(rules, ignored, treatment), errors

    @classmethod
    def load(cls, path: Path) -> tuple["UrgentScreen", list[LoadError]]:
        """A screen of the rules file at `path`; problems are reported, never raised."""
        text, problems = read_rules_file(path, "urgent messages will not be caught")
        return (cls(), problems) if text is None else cls.from_text(text, Path(path).name)

    def _compile(self) -> None:
        """Index alternatives by their first word, and warning words by one-letter deletions."""
        # first key -> alternative's keys -> (rule, group) of each place it is written;
        # shared word lists put one alternative in many rules, and it is matched once.
        self._by_first: dict[str, dict[tuple[str, ...], list[tuple[int, int]]]] = {}
        forms: dict[str, str] = {}  # a warning word as written -> its stem
        for rule_index, rule in enumerate(self.rules):
            for group_index, group in enumerate(rule.groups):
                for alternative in group:
                    forms.update(self._index(alternative, rule_index, group_index))
        exact_only: dict[str, str] = {}  # words of exceptions and ignored phrases
        for rule_index, rule in enumerate(self.rules):
            for exception in rule.exceptions:
                exact_only.update(self._index(exception, rule_index, _EXCEPTION))
        for phrase in self.ignored:
            exact_only.update(self._index(phrase, _IGNORED, 0))
        self._vocabulary = frozenset(forms.values()) | frozenset(exact_only.values())
        # Symmetric deletion: a word one edit from a warning word shares a one-deletion variant.
        self._neighbours: dict[str, set[str]] = {}
        for form in forms:
            if len(form) >= 4 and form.isalpha() and form not in NEVER_A_TYPO:
                for variant in _deletions(form):
                    self._neighbours.setdefault(variant, set()).add(form)
        self._forms = forms
        self._order = sorted(range(len(self.rules)),
                             key=lambda i: (self.rules[i].category != "self_harm", i))
        self._key_cache: dict[str, str | None] = {}

    def _index(self, phrase: str, rule_index: int, group_index: int) -> dict[str, str]:
        words = _phrase_words(phrase)
        keys = tuple(stem(w) for w in words)
        places = self._by_first.setdefault(keys[0], {}).setdefault(keys, [])
        places.append((rule_index, group_index))
        return dict(zip(words, keys))

    def read_as(self, word: str) -> str | None:
        """The stem of the rule word that `word` counts as (itself or its typo), or None."""
        key = self._key_cache.get(word, "")
        if key != "":
            return key
        key = stem(word)
        if key not in self._vocabulary:
            key = None if word in NEVER_A_TYPO else self._typo_of(word)
        if len(self._key_cache) >= _CACHE_LIMIT:
            self._key_cache.clear()
        self._key_cache[word] = key
        return key

    def _typo_of(self, word: str) -> str | None:
        """Stem of a warning word one edit from `word` (both 5+ letters) or one swap (4 letters)."""
        if len(word) < 4 or not word.isalpha():
            return None
        candidates: set[str] = set()
        for variant in _deletions(word):
            candidates |= self._neighbours.get(variant, set())
        for form in sorted(candidates):
            if form[0] != word[0]:
                continue  # typos rarely hit the first letter, and "never" is not "fever"
            if len(word) >= 5 and len(form) >= 5:
                close = edit_distance(word, form, transpositions=True) <= 1
            else:
                close = (len(word) == len(form) == 4 and sorted(word) == sorted(form)
                         and edit_distance(word, form, transpositions=True) == 1)
            if close:
                return self._forms[form]
        return None

    def check(self, message: str) -> UrgentMatch | None:
        """The first rule (self-harm rules first) that `message` satisfies, or None."""
        text = _Message(normalize_text(message).lower())
        keys = [self.read_as(w) for w in text.words]
        found = self._find(keys, text.clauses)
        if not any(rule >= 0 and group >= 0 for _, rule, group in found):
            return None
        ignored = {p for positions, rule, _ in found if rule == _IGNORED for p in positions}
        found = [f for f in found if f[1] == _IGNORED or ignored.isdisjoint(f[0])]
        negated = text.negated(consumed={p for positions, _, _ in found for p in positions})
        standing = text.standing(self.treatment)
        best: dict[int, dict[int, int]] = {}   # rule -> group -> best standing found
        vetoed = set()
        for positions, rule_index, group_index in found:
            start = positions[0]
            if rule_index == _IGNORED or negated[start]:
                continue
            if group_index == _EXCEPTION:
                vetoed.add(rule_index)
                continue
            level = standing[start] if self.rules[rule_index].category == "medical" else _OWN
            if level != _HYPOTHETICAL:
                groups = best.setdefault(rule_index, {})
                groups[group_index] = max(groups.get(group_index, level), level)
        for rule_index in self._order:
            rule, groups = self.rules[rule_index], best.get(rule_index)
            if (groups and len(groups) == len(rule.groups) and max(groups.values()) == _OWN
                    and rule_index not in vetoed):
                return UrgentMatch(rule.category, rule.name)
        return None

    def _find(self, keys: list[str | None], clauses: list[int]) -> list[tuple[tuple[int, ...], int, int]]:
        """(word positions, rule index, group index) of every alternative present."""
        found = []
        for start, key in enumerate(keys):
            if key is None:
                continue
            for alternative, places in self._by_first.get(key, {}).items():
                positions = _match_at(keys, clauses, start, alternative)
                if positions:
                    found += [(positions, rule, group) for rule, group in places]
        return found


def _deletions(word: str) -> set[str]:
    """`word` and every string one deleted letter away from it."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _match_at(keys: list[str | None], clauses: list[int], start: int,
              alternative: tuple[str, ...]) -> tuple[int, ...] | None:
    """Positions of `alternative`'s words from `start`: in order, gaps <= MAX_GAP, one clause."""
    positions = [start]
    for key in alternative[1:]:
        last = positions[-1]
        for k in range(last + 1, min(last + 2 + MAX_GAP, len(keys))):
            if clauses[k] != clauses[start]:
                return None
            if keys[k] == key:
                positions.append(k)
                break
        else:
            return None
    return tuple(positions)


class _Message:
    """Words of a message with their clause and sentence, and which sentences ask something."""

    def __init__(self, text: str):
        self.words: list[str] = []
        self.clauses: list[int] = []
        self.sentences: list[int] = []
        self.questions: set[int] = set()
        clause = sentence = 0
        clause_start = True
        for token in _TOKENS.findall(text):
            if token in SENTENCE_MARKS:
                if token == "?":
                    self.questions.add(sentence)
                if self.sentences and self.sentences[-1] == sentence:
                    sentence += 1
                clause, clause_start = clause + 1, True
            elif token in ",:" or token in CLAUSE_WORDS:
                clause, clause_start = clause + 1, True
            else:
                token = CONTRACTIONS.get(token, token)
                if token == "not" and not clause_start and self.words[-1] == "can":
                    self.words[-1] = "can't"
                    continue
                if clause_start and token in QUESTION_OPENERS:
                    self.questions.add(sentence)
                clause_start = False
                self.words.append(token)
                self.clauses.append(clause)
                self.sentences.append(sentence)

    def negated(self, consumed: set[int]) -> list[bool]:
        """Per word: is it within reach of a negation that no found phrase contains?"""
        flags = []
        negation_at, negation_clause = 0, -1
        for i, word in enumerate(self.words):
            flags.append(self.clauses[i] == negation_clause and i - negation_at <= NEGATION_REACH)
            if word in NEGATION_WORDS and i not in consumed:
                negation_at, negation_clause = i, self.clauses[i]
        return flags

    def standing(self, treatment: tuple[str, ...]) -> list[int]:
        """Per word: _OWN (the visitor's situation), or _GENERAL / _HYPOTHETICAL in a question
        about treatment (one with a word that starts with a `treatment` word start)."""
        words = self.words
        treatment_questions = {self.sentences[i] for i, word in enumerate(words)
                               if self.sentences[i] in self.questions
                               and word.startswith(treatment)}
        levels = []
        own_until, own_clause, causal_sentence = -1, -1, -1
        for i, word in enumerate(words):
            sentence, clause = self.sentences[i], self.clauses[i]
            if sentence not in treatment_questions:
                levels.append(_OWN)
                continue
            if word == "my":
                own_until = max(own_until, i + MY_REACH) if own_clause == clause else i + MY_REACH
                own_clause = clause
            elif (word in FIRST_PERSON and (i == 0 or words[i - 1] not in AUXILIARIES)
                  and (i + 1 == len(words) or words[i + 1] not in NOT_DESCRIBING)):
                own_until, own_clause = len(words), clause
            if own_clause == clause and i <= own_until:
                levels.append(_OWN)
            elif causal_sentence == sentence:
                levels.append(_HYPOTHETICAL)
            else:
                levels.append(_GENERAL)
            if word in CAUSAL_WORDS:
                causal_sentence = sentence
        return levels


def _default(name: str) -> str:
    return BY_NAME[name].default


@dataclass(frozen=True)
class UrgentReplies:
    """What the bot tells a visitor with warning signs, per category; the texts are
    settings, and `{emergency_number}` / `{crisis_number}` in them become the clinic's numbers."""
    medical: str = _default("CHATBOT_URGENT_MEDICAL_REPLY")
    self_harm: str = _default("CHATBOT_URGENT_SELF_HARM_REPLY")
    emergency_number: str = _default("CHATBOT_EMERGENCY_NUMBER")
    crisis_number: str = _default("CHATBOT_CRISIS_NUMBER")

    def text(self, category: str) -> str:
        template = self.self_harm if category == "self_harm" else self.medical
        # Plain replacement, not str.format: a stray brace in a clinic's text never fails a reply.
        return (template.replace("{emergency_number}", self.emergency_number)
                .replace("{crisis_number}", self.crisis_number))


def urgent_reply(match: UrgentMatch, replies: UrgentReplies = UrgentReplies()) -> str:
    """The plain-text reply to an urgent message: where to get help now."""
    return replies.text(match.category)
