"""Smalltalk: greetings, thanks, goodbyes and questions about the bot itself.

Wordings and replies come from a staff-editable file, `corpus/smalltalk.txt`
(its header is the manual):

    filler: ok, so, much
    [thanks]
    reply: You're welcome!
    thanks
    thank you

Only a message made entirely of smalltalk counts: "hi" is smalltalk, "hi, does
acupuncture hurt?" is a question for retrieval. The message is cut into
wordings and filler words; a wording matches its words in any order, with
small typos ("helo", "thnak you") and stretched words ("hiii", "byee")
forgiven, and one message may miss or add one small word ("or", "the",
"real") against a wording. Words of one 'same:' line of the file are read as
one word, in wordings and messages alike ("speak" as "talk").
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from nltk.metrics.distance import edit_distance

from ..corpus.model import LoadError
from ..text import without_letter_framing, words
from .rules_file import LoadedFromFile
from .smalltalk_file import SMALLTALK_FILE, SmalltalkIntent, parse_smalltalk

MAX_EDITS = 1   # small words missing from or added to wordings, per message
# A message may be longer than any one wording (at most MAX_WORDS): a wording
# with a greeting, thanks or filler words around it ("is there a human typing
# these replies or is it automated", 11 words). Every word must still belong to
# smalltalk; longer messages are questions or text pasted in, not chat.
MAX_MESSAGE_WORDS = 15
# Words that carry no meaning of their own in smalltalk: one of them may be
# missing or extra ("are you a person or a bot" ~ "are you a real person or a
# bot"). Question words (who, what, how, can, do) are left out on purpose: "who
# are you" and "how are you" differ.
SMALL_WORDS = frozenset("""
a an the or and but so just really real actual actually there here now then still
anyone anybody someone somebody i me my you your it this that is are am be
to with for of on in at by about please right
""".split())

_STRETCHED = re.compile(r"(.)\1{2,}")   # "hiiii" -> "hi"
_DOUBLED = re.compile(r"(.)\1")         # "byee" -> "bye"
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class SmalltalkMatch:
    """A message that is only smalltalk, and which kind (a section name of the file)."""
    intent: str


# -- matching --------------------------------------------------------------------

class Smalltalk(LoadedFromFile):
    """Recognises smalltalk messages and writes their replies; compiled at construction."""
    IF_MISSING = "no smalltalk will be recognised"

    def __init__(self, intents: tuple[SmalltalkIntent, ...] | list[SmalltalkIntent] = (),
                 filler: tuple[str, ...] | list[str] = (),
                 not_typos: tuple[str, ...] | list[str] = (),
                 same: tuple[tuple[str, ...], ...] | list[tuple[str, ...]] = ()):
        self.intents = tuple(intents)
        self.families = tuple(tuple(family) for family in same)
        # Each word of a family is read as the family's first word.
        self._canonical = {word: family[0] for family in self.families for word in family}
        self.filler = frozenset(self._canonical.get(word, word) for word in filler)
        self.not_typos = frozenset(not_typos)
        self._compile()

    @classmethod
    def from_text(cls, text: str, path: str = SMALLTALK_FILE) -> tuple["Smalltalk", list[LoadError]]:
        """The smalltalk of the file text `text`, and the problems of the lines left out."""
        intents, filler, not_typos, same, errors = parse_smalltalk(text, path)
        return cls(intents, filler, not_typos, same), errors

    def _compile(self) -> None:
        """Wordings as word sets, indexed by each of their words; typo targets by first letter."""
        self._wordings: list[tuple[frozenset[str], int]] = []   # (words, intent rank)
        self._by_word: dict[str, list[int]] = {}               # word -> wording numbers
        for rank, intent in enumerate(self.intents):
            for wording in intent.wordings:
                word_set = frozenset(self._canonical.get(word, word) for word in words(wording))
                for word in word_set:
                    self._by_word.setdefault(word, []).append(len(self._wordings))
                self._wordings.append((word_set, rank))
        # A family's other words are known too: they are read as its first word.
        self._vocabulary = frozenset(self._by_word) | frozenset(self._canonical)
        # In file order, so that "helo" is read as "hello" (a greeting) before "help".
        self._typo_targets: dict[str, list[str]] = {}
        for word in [*self._by_word, *(w for w in self._canonical if w not in self._by_word)]:
            if len(word) >= 4:
                self._typo_targets.setdefault(word[0], []).append(word)
        self._replies = {intent.name: intent.reply for intent in self.intents}
        self._known_cache: dict[str, str | None] = {}

    def classify(self, message: str) -> SmalltalkMatch | None:
        """The smalltalk intent of a short message made only of smalltalk, else None.

        A letter's salutation and sign-off ("Regards, Dorothy") are set aside first: a
        name is no smalltalk wording, and the rest of the message still has to be.
        """
        tokens = words(without_letter_framing(message))
        if not self._wordings or not tokens or len(tokens) > MAX_MESSAGE_WORDS:
            return None
        known = []
        for token in tokens:
            word = self._known_word(token)
            if word is None and token not in SMALL_WORDS:
                return None   # most questions stop here, at their first content word
            known.append(self._canonical.get(word, word) if word else token)
        ranks = self._best_reading(known)
        if not ranks:
            return None
        return SmalltalkMatch(self.intents[max(ranks)].name)   # the section furthest down wins

    def canonical_text(self, message: str) -> str:
        """`message` as the learned model reads it (smalltalk_model.py): its words, a letter's
        framing set aside, each read as the first word of its `same:` line."""
        return " ".join(self._canonical.get(word, word) for word in words(without_letter_framing(message)))

    def reply(self, match: SmalltalkMatch, clinic_name: str | None = None, contact: str = "") -> str:
        """The plain-text reply of `match`'s section, placeholders filled in (`contact`: how to reach
        the clinic, the CHATBOT_CONTACT_TEXT setting)."""
        if match.intent not in self._replies:
            raise ValueError(f"no smalltalk section [{match.intent}]")
        name = clinic_name.strip() if clinic_name else ""
        return self._replies[match.intent].format(
            clinic_name=name or "the clinic",
            welcome=f", and welcome to {name}" if name else "",
            contact=contact.strip())

    def _known_word(self, word: str) -> str | None:
        """`word` as a wording or filler word: itself, de-stretched, or a one-edit typo."""
        if word in self._known_cache:
            return self._known_cache[word]
        known = self._read_word(word)
        if len(self._known_cache) >= _CACHE_LIMIT:
            self._known_cache.clear()
        self._known_cache[word] = known
        return known

    def _read_word(self, word: str) -> str | None:
        """Uncached `_known_word`; typos are looked for among wording words in file order."""
        for candidate in (word, _STRETCHED.sub(r"\1", word), _DOUBLED.sub(r"\1", word)):
            if candidate in self._vocabulary or candidate in self.filler:
                return candidate
        if len(word) < 4 or word in self.not_typos or word in SMALL_WORDS:
            return None
        for known in self._typo_targets.get(word[0], ()):
            if abs(len(known) - len(word)) <= 1 and edit_distance(word, known, transpositions=True) <= 1:
                return known
        return None

    def _best_reading(self, known: list[str]) -> set[int]:
        """Intent ranks of the cheapest cut of `known` into wordings and filler words.

        best[i] is (edits, has no intent, pieces, ranks) for the first i words:
        fewest small-word edits first, then readings that contain smalltalk,
        then the fewest pieces (longest wordings).
        """
        best: list[tuple[int, bool, int, frozenset[int]] | None] = [None] * (len(known) + 1)
        best[0] = (0, True, 0, frozenset())
        for start in range(len(known)):
            if best[start] is None:
                continue
            edits, _, pieces, ranks = best[start]
            steps = [(start + 1, 0, None)] if known[start] in self.filler else []
            steps += self._wordings_from(known, start, MAX_EDITS - edits)
            for end, cost, rank in steps:
                new_ranks = ranks if rank is None else ranks | {rank}
                candidate = (edits + cost, not new_ranks, pieces + 1, new_ranks)
                if best[end] is None or candidate[:3] < best[end][:3]:
                    best[end] = candidate
        final = best[-1]
        return set(final[3]) if final else set()

    def _wordings_from(self, known: list[str], start: int,
                       allowed: int) -> Iterator[tuple[int, int, int]]:
        """(end, edits, intent rank) of each wording that matches known[start:end]."""
        if known[start] in SMALL_WORDS:   # perhaps a small word the wording lacks
            numbers = sorted({n for word in known[start:] for n in self._by_word.get(word, ())})
        else:                             # else the wording has it (or it is a filler piece)
            numbers = self._by_word.get(known[start], [])
        for number in numbers:
            wording, rank = self._wordings[number]
            extra: set[str] = set()
            for end in range(start + 1, len(known) + 1):
                word = known[end - 1]
                if word not in wording and word not in self.filler:
                    extra.add(word)
                    if word not in SMALL_WORDS or len(extra) > allowed:
                        break   # a longer span only adds more words the wording lacks
                cost = _edits(frozenset(known[start:end]), wording, self.filler)
                if cost is not None and cost <= allowed:
                    yield end, cost, rank


def _edits(span: frozenset[str], wording: frozenset[str], filler: frozenset[str]) -> int | None:
    """Small words to add to or drop from `span` to read it as `wording`; None if other words differ."""
    extra = {w for w in span - wording if w not in filler}
    missing = wording - span
    if not extra and not missing:
        return 0
    if not (extra | missing) <= SMALL_WORDS or wording <= SMALL_WORDS:
        return None   # a wording of small words only must be typed in full
    return len(extra) + len(missing)
