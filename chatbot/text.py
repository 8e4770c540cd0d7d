"""Offline text processing: tokens, stems, stop words and sentences.

Everything here works without NLTK data files: NLTK's Snowball stemmer and an
untrained Punkt splitter given the project's own abbreviation list. Words are
cut by one compiled regular expression: NLTK's RegexpTokenizer does the same
with a guarded `regex` engine that costs eleven times more per call (measured:
140 us against 12 us for a 100-word text), and tokenizing is most of an index
build. Functions are module-level so that scikit-learn vectorizers holding
them stay plain, inspectable objects.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from itertools import pairwise

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# Words that carry no topic. Negations (no, not, nor, without, never) are kept
# on purpose: "pain without needles" and "pain with needles" must differ; so are
# before/after/during, which separate "what to do after a session" from the rest.
STOP_WORDS = frozenset("""
a about above again against all also am an and any are aren't as at be
because been being below between both but by could couldn't did didn't
do does doesn't doing don't down each else ever few for from further get
gets got had hadn't has hasn't have haven't having he he'd he'll he's her here
here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
isn't it it's its itself just let's like may me might more most much must my
myself of off on once only or other ought our ours ourselves out over own please
really same she she'd she'll she's should shouldn't so some such than that
that's the their theirs them themselves then there there's these they they'd
they'll they're they've this those through thus to too under until up upon us
very was wasn't we we'd we'll we're we've were weren't what what's when when's
where where's whether which while who who's whom whose why why's will with won't
would wouldn't you you'd you'll you're you've your yours yourself yourselves
can cannot can't shall anyone anybody someone something anything thing things
tell know want wondering wonder im ive youre dont doesnt isnt cant
hi hello hey hiya ok okay lol tho though yeah yep yup u ur r pls plz thx um umm uh hmm
btw anyway anyways kinda sorta gonna wanna gotta dunno
""".split())
# The last two lines: chat words (greetings, "ok", "tho", "u", "gonna") that carry no topic;
# a document never needs them, and in a question they are not something the documents miss.
# Visitors often drop the apostrophe ("shouldnt", "wasnt", "theyre"): those forms
# are stop words too, except where they spell a word of their own ("well", "ill").
STOP_WORDS = STOP_WORDS | frozenset(
    w.replace("'", "") for w in STOP_WORDS if "'" in w
) - frozenset({"well", "shell", "hell", "ill", "shed", "wed", "id", "hed"})

# Light words: common verbs and vague nouns that rarely name a topic ("put",
# "get", "thing"). They stay in the index but weigh little in a question, so a
# rare light word cannot outrank the words that say what the visitor means.
LIGHT_WORDS = frozenset("""
put puts putting get gets getting got give gives go goes going went come comes coming came
make makes making made take takes taking took use used uses using need needs needed
try tries trying keep keeps let lets seem seems look looks looking find finds found
say says said think thinks thing things way ways lot lots kind kinds sort stuff
actually really exactly basically generally usually just also still even
good bad better best well okay ok much many
""".split())
LIGHT_WORD_WEIGHT = 0.25

NEGATIONS = frozenset({"no", "not", "nor", "without", "never", "none"})

# Abbreviations that end in a period but do not end a sentence (lower case,
# without the final period, as Punkt expects them).
ABBREVIATIONS = frozenset({
    "al", "approx", "ca", "cf", "dept", "dr", "e.g", "etc", "fig", "i.e", "inc",
    "jr", "ltd", "mr", "mrs", "ms", "no", "nos", "prof", "sr", "st", "u.s",
    "u.k", "vs", "min", "mins", "hr", "hrs", "mg", "ml", "esp",
})

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STEMMER = SnowballStemmer("english")

# A possible sentence end inside a text: the word before it, the mark, closing
# quotes or brackets, white space, then the first character of what follows
# (the definition; `_breaks` finds the same matches faster).
_INNER_BREAK = re.compile(r"(?P<word>[^\s]*?)(?P<stop>[.!?])[\"')\]\u201d\u2019]*\s+(?P<next>\S)")
# The same break without the word before it: found anywhere exactly when _INNER_BREAK
# is (its word may be empty), and far cheaper to look for (no lazy prefix tried at
# every position, six times faster), so a text of one sentence is settled by one scan.
_ANY_BREAK = re.compile(r"(?P<stop>[.!?])[\"')\]\u201d\u2019]*\s+(?P<next>\S)")
# A mark inside a token ("3.5", "e.g.", "U.S", "?!", "II).[4]"), where Punkt may cut
# or not although no break above is there.
_MARK_INSIDE_TOKEN = re.compile(r"[.!?](?![\"')\]\u201d\u2019]*(?:\s|$))")
_NOT_A_START = frozenset(".\"')]}\u201d\u2019")
_PUNKT_PARAMS = PunktParameters()
_PUNKT_PARAMS.abbrev_types = set(ABBREVIATIONS)
_SENTENCE_SPLITTER = PunktSentenceTokenizer(_PUNKT_PARAMS)

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": "-", "\u00a0": " "})


# A letter's salutation and sign-off around a question: "Dear Sir or Madam," before it,
# "Kind regards, Mr P. Hughes" after it. They say nothing about what is asked, and the
# writer's name would count as words no document uses (the confidence model reads such
# words as a question about something else).
_SALUTATION = re.compile(r"^\s*(?:dear\s+[^,.!?:;\n]{1,40}?|to whom it may concern)\s*[,.!:;\n]\s*", re.I)
_CLOSING = (r"yours\s+(?:faithfully|sincerely|truly)|(?:kind|best|warm|warmest|many)\s+regards|regards"
            r"|best\s+wishes|(?:many|with)\s+thanks|thanks\s+in\s+advance|thank\s+you\s+in\s+advance"
            r"|sincerely")
# The closing stands as a sentence of its own at the end, then at most a name of four
# capitalised words or initials ("E. Pritchard", "Miss H.", "Mr Okafor").
_NAME_WORD = r"\s+(?-i:[A-Z][\w'-]*\.?)"
_SIGN_OFF = re.compile(r"(?:(?<=[.!?,\n])|^)\s*(?:" + _CLOSING + r")\s*[,.!]?(?:" + _NAME_WORD + r"){0,4}\s*$", re.I)
_CLOSING_WORD = re.compile(r"regards|faithfully|sincerely|thanks|thank you|wishes|truly", re.I)


def without_letter_framing(text: str) -> str:
    """`text` without a letter's salutation ("Dear Sir or Madam,") at its start and sign-off
    ("Yours faithfully, E. Pritchard") at its end; `text` itself when that would leave nothing."""
    # Most questions hold neither: one cheap look settles them before the two patterns run.
    if "dear" not in text.lower() and not _CLOSING_WORD.search(text):
        return text
    inner = _SALUTATION.sub("", text, count=1)
    inner = _SIGN_OFF.sub("", inner, count=1)
    return inner if words(inner) else text


def normalize_text(text: str) -> str:
    """Return `text` in NFKC form with curly quotes, dashes and NBSP made plain."""
    if text.isascii():  # already NFKC, and nothing to translate: a third of an index build's tokenizing
        return text
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of `text` (letters and digits, inner apostrophes kept)."""
    return _WORD.findall(normalize_text(text).lower())


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one lower-cased word; cached because vocabularies repeat."""
    return _STEMMER.stem(word)


def content_stems(text: str) -> list[str]:
    """Stems of the words of `text` that are not stop words, in order.

    This is the tokenizer of the word index: stop words go before stemming so
    that "does" is dropped rather than turned into "doe".
    """
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) < 40]


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph, using Punkt with the project's abbreviations."""
    text = text.strip()
    if not text:
        return []
    breaks = _breaks(text)
    if not breaks:
        return [text]  # no full stop, ? or ! before the end: one sentence
    if (all(_is_clear_break(text, b) for b in breaks)
            or not _MARK_INSIDE_TOKEN.search(text) and all(_is_word_end(text, b) for b in breaks)):
        # Every break is unambiguous (no abbreviation, initial or number before
        # it, a capital after it, or a plain word before it): Punkt would cut at
        # each one, so cut directly; it is 20 times faster, and index builds
        # split hundreds of thousands.
        cuts = [0, *(b.next_start for b in breaks), len(text)]
        return [text[a:b].strip() for a, b in pairwise(cuts)]
    return [s.strip() for s in _SENTENCE_SPLITTER.tokenize(text) if s.strip()]


def asking_sentence(text: str) -> str | None:
    """The one sentence of a message of several that asks (ends with a question mark), or None
    when the message is a single sentence or asks in none or in more than one."""
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if s.rstrip(" \"')\u201d\u2019").endswith("?")]
    return asking[0] if len(asking) == 1 else None


class _Break:
    """A match of _INNER_BREAK: the `word` before the mark, the `stop` mark, the `next` character."""
    __slots__ = ("word", "word_start", "stop", "stop_start", "next", "next_start")

    def __init__(self, text: str, word_start: int, match: re.Match):
        self.word_start, self.stop_start, self.next_start = word_start, match.start("stop"), match.start("next")
        self.word, self.stop, self.next = text[word_start:self.stop_start], match["stop"], match["next"]


def _breaks(text: str) -> list[_Break]:
    """The matches of _INNER_BREAK.finditer(text), found with _ANY_BREAK.

    _INNER_BREAK's lazy word is tried from every position; its match starts
    where the search stands or at the start of the token before the mark,
    whichever is later, and the search goes on after `next`.
    """
    found = []
    searched_from = 0
    for match in _ANY_BREAK.finditer(text):
        start = match.start()
        while start > searched_from and not text[start - 1].isspace():
            start -= 1
        found.append(_Break(text, start, match))
        searched_from = match.end()
    return found


def _is_clear_break(text: str, match: _Break) -> bool:
    before = match.word.lower().rstrip(".")
    return (match.next.isupper() and match.stop != "."
            or match.next.isupper() and len(before) > 1 and not before.isdigit()
            and before not in ABBREVIATIONS and "." not in before)


def _is_word_end(text: str, match: _Break) -> bool:
    """Whether the break ends a whole token of two letters or more that is not an abbreviation,
    with white space right after the mark.

    Punkt marks such a token a sentence end on its first pass and revisits only
    abbreviations, initials and numbers, so it cuts there whatever follows
    ("... cancer. - Radiation" in a list, "... rest. then"). Left to Punkt: a
    next "." (an ellipsis?), a closing quote or bracket (Punkt moves it to the
    sentence before) and texts with a mark inside a token (_MARK_INSIDE_TOKEN).
    """
    if match.next in _NOT_A_START or not text[match.stop_start + 1].isspace():
        return False
    start = match.word_start
    while start > 0 and not text[start - 1].isspace():  # the word may begin before the match
        start -= 1
    token = text[start:match.stop_start]
    return len(token) > 1 and token.isalpha() and token.lower() not in ABBREVIATIONS


def word_count(text: str) -> int:
    """Number of word tokens in `text`."""
    return len(words(text))


_SPACES = re.compile(r"\s+")


def squash_spaces(text: str) -> str:
    """Collapse runs of white space into one space and trim the ends."""
    return _SPACES.sub(" ", text).strip()
