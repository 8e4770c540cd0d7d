"""Remove site chrome from scraped pages and keep every piece of real content.

Scraped text carries menus, footers, bylines, calls to action, phone blocks,
"skip to main content" links, comment notices, related-post lists and image
alt text glued onto the next sentence. The rules below recognise these by
their shape (short title-case link lists, dates at the start of a line, phone
numbers, imperative sales phrases), never by the wording of a particular page,
so they also hold for the next page staff add.

Cleaning runs twice: `clean_text` drops chrome lines before the text is parsed
(so a menu cannot be mistaken for a table), and `clean_blocks` removes chrome
blocks and sentences from the parsed document.
"""
from __future__ import annotations

import re

from ..text import split_sentences, squash_spaces
from .model import Block, Heading, ListBlock, Paragraph, Table

_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
_DATE = (rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
         rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
         r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})")
_PHONE = re.compile(r"(?:\+?\d{1,2}[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")

_LINE_RULES = [
    re.compile(r"\bskip (?:to|navigation)\b.*\b(?:content|navigation|main)\b", re.I),
    re.compile(r"^\d[\d,.]*\s*(?:answers?|comments?|replies|responses|views|likes|shares|reviews|votes"
               r"|followers)\b\W*$", re.I),
    re.compile(rf"^(?:(?:posted|published|updated|written|last updated)\s+(?:on\s+)?)?{_DATE}", re.I),
    re.compile(r"^(?:tags|tagged|categories|category|filed under|posted in"
               r"|share(?: this)?(?: article| post| page)?)\s*:", re.I),
    re.compile(r"^(?:comments are closed|leave a (?:reply|comment)|read more|click here|back to top|load more"
               r"|print(?: this page)?|follow us|share this|subscribe(?: now)?|sign up|log ?in|you may also like"
               r"|related (?:articles|posts|stories)|recent (?:posts|articles|comments)|previous post|next post"
               r"|powered by\b.*|cookie (?:policy|settings)|accept(?: all)? cookies)\W*$", re.I),
    re.compile(r"(?:\u00a9|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b)", re.I),
]
_SHORT_LINE_RULES = [  # apply only to lines of a few words: in a sentence they may be content
    _PHONE,
    re.compile(r"\b(?:schedule|book|request)\s+(?:an?\s+|your\s+)?(?:appointment|consultation|visit)\b", re.I),
]
SHORT_LINE_WORDS = 10

# Sentences that sell or send the reader elsewhere rather than inform.
_CALL_TO_ACTION = re.compile(
    r"^(?:please\s+)?(?:call|contact|book|schedule|visit|click|subscribe|sign up|get in touch|request)\b"
    r"|\b(?:contact (?:us|our (?:office|clinic|team))|call (?:us|now|today|our)\b"
    r"|(?:book|schedule|set|request) (?:an? |your )?(?:free )?(?:consultation|appointment|visit)"
    r"|visit our (?:site|website|office|clinic)|come see us|don.t wait\b|ready to get started"
    r"|free (?:mri|consultation|review|evaluation))", re.I)
# Sentences that point the reader to other pages or sections. They stay in the
# text (they name topics the site covers) but weigh less in matching.
_CROSS_REFERENCE = re.compile(
    r"\b(?:check out|read|see|visit|explore|refer to|take a look at|learn more)\b[^.!?]{0,80}?"
    r"\b(?:our|these|this|the|additional|related|other)\b[^.!?]{0,60}?"
    r"\b(?:articles?|pages?|posts?|guides?|section|blog)\b"
    r"|\bour (?:articles?|pages?|posts?|guides?) (?:on|about)\b|\bthese links\b|\bexplore more\b", re.I)
_CLINIC_VOICE = re.compile(
    r"^(?:at [^,]{3,60},\s*)?(?:we\b|our (?:team|office|clinic|practice|staff|doctors?|surgeons?|practitioners?)\b"
    r"|conveniently located\b)", re.I)

_SMALL_WORDS = frozenset("a an and at by for from in of on or the to with your my our vs".split())
_FILE_NAME = re.compile(r"^(?:\w*_\w*|[a-z0-9]+(?:-[a-z0-9]+)+|\w*[a-z][A-Z]\w*)$")
_GLUED_PREFIX = re.compile(r"^((?:\S+\s+){1,8}?\S*[a-z]{3})(?=[A-Z][a-z])")
_GLUED_WORDS = re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z])")


def clean_text(text: str) -> str:
    """Blank out whole lines that are chrome; keep line structure otherwise."""
    return "\n".join("" if is_chrome_line(line) else line for line in text.split("\n"))


def is_chrome_line(line: str) -> bool:
    """True for a line that is navigation, a byline, a footer or a call to act."""
    stripped = line.strip().lstrip("\u2022*-\u00b7 ").strip()
    if not stripped:
        return False
    if any(rule.search(stripped) for rule in _LINE_RULES):
        return len(stripped.split()) <= 20
    words = stripped.split()
    if len(words) <= SHORT_LINE_WORDS and any(rule.search(stripped) for rule in _SHORT_LINE_RULES):
        return True
    if (stripped.count("|") >= 2 and not stripped.startswith("|")
            and all(len(part.split()) <= 4 for part in stripped.split("|"))):
        return True  # a bar of footer links: "Privacy Policy | Terms of Use | Contact Us"
    return _looks_like_file_names(words)


def _looks_like_file_names(words: list[str]) -> bool:
    """Image names left behind by a scraper: "logo-sinw-white1", "EPP_Award"."""
    if not words or len(words) > 8 or re.search(r"[.!?,:]$", words[-1]):
        return False
    return sum(bool(_FILE_NAME.match(w)) for w in words) / len(words) >= 0.6


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Remove chrome blocks and sentences; keep the order of what remains."""
    cleaned: list[Block] = []
    in_sales_section = False
    previous: Block | None = None
    for block in blocks:
        if isinstance(block, Heading):
            text = strip_glued_alt_text(block.text)
            if _is_doubled_label(block.text) or is_caption(text):
                continue
            in_sales_section = bool(_CALL_TO_ACTION.search(text)) or text.lower().startswith("booking")
            block = Heading(text, block.level)
        elif isinstance(block, Paragraph):
            block = _clean_paragraph(block, in_sales_section)
        elif isinstance(block, ListBlock):
            introduced = isinstance(previous, Paragraph) and previous.text.endswith(":")
            block = None if (not introduced and is_navigation_list(block.items)) else block
        elif isinstance(block, Table):
            block = _clean_table(block)
        if block is not None:
            cleaned.append(block)
            previous = block
    return cleaned


def _clean_paragraph(block: Paragraph, in_sales_section: bool) -> Paragraph | None:
    text = strip_glued_alt_text(block.text)
    if is_caption(text):
        return None
    sentences = split_sentences(text)
    selling = [bool(_CALL_TO_ACTION.search(s) or _PHONE.search(s)) for s in sentences]
    clinic = [bool(_CLINIC_VOICE.search(s)) for s in sentences]
    if sentences and all(s or c for s, c in zip(selling, clinic, strict=True)) and (any(selling) or in_sales_section):
        return None  # a sales pitch: every sentence sells or speaks for the clinic
    kept = [s for s, sells in zip(sentences, selling, strict=True) if not sells]
    if not kept:
        return None
    return Paragraph(squash_spaces(" ".join(kept)))


def _clean_table(block: Table) -> Table | None:
    rows = tuple(r for r in block.rows if not is_chrome_line(r))
    if is_chrome_line(block.header) or not rows:
        return None
    return Table(block.header, rows)


def is_cross_reference(sentence: str) -> bool:
    """True for a sentence that sends the reader to another article or section."""
    return bool(_CROSS_REFERENCE.search(sentence))


def strip_glued_alt_text(text: str) -> str:
    """Drop an image's alt text glued to the start of a sentence.

    "acupuncture for back painAcupuncture is ..." -> "Acupuncture is ...":
    a scraper joined the alt text and the paragraph with no space between.
    """
    match = _GLUED_PREFIX.match(text)
    if not match or re.search(r"[.!?:;,]", match.group(1)):
        return text
    return text[match.end():]


def _is_doubled_label(text: str) -> bool:
    """An avatar's alt text glued to the same name: "AcupuncturistAcupuncturist"."""
    parts = [p.strip().lower() for p in _GLUED_WORDS.split(text.strip())]
    return len(parts) == 2 and parts[0] == parts[1]


def is_caption(text: str) -> bool:
    """A stray image caption: a few words, lower-case start, no sentence end."""
    return (len(text.split()) <= 8 and text[:1].islower()
            and not re.search(r"[.!?]['\")]?$", text))


def is_navigation_list(items: tuple[str, ...]) -> bool:
    """Most items are short title-case links ("Home", "Contact Us", "Seattle")."""
    if len(items) < 3:
        return False
    return sum(_is_link_like(item) for item in items) / len(items) >= 0.6


def _is_link_like(item: str) -> bool:
    words = item.split()
    if not words or len(words) > 9 or re.search(r"[.!:;]$", item):
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS] or words
    capitalised = sum(w[:1].isupper() or w[:1].isdigit() for w in content)
    return capitalised / len(content) >= 0.6
