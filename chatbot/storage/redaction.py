"""Remove a visitor's personal details from text before it is stored.

The patterns aim at what visitors actually type into a clinic's chat box
(contact details, birth dates, card and insurance numbers) while leaving the
numbers that acupuncture questions are full of alone: durations ("15-30
minutes"), counts ("1-2 sessions a week"), years ("a 2015 study"), ages
("age 35") and point names ("BL23").
"""
from __future__ import annotations

import ipaddress
import re

EMAIL = "[email]"
PHONE = "[phone]"
DATE = "[date]"
NUMBER = "[number]"
IP_ADDRESS = "[ip]"

# A digit that is not part of a longer number, a word or a decimal.
_START = r"(?<![\w.,/+-])"
_END = r"(?![\w/]|[.,-]\d)"

_DIGIT = re.compile(r"\d")  # what \d matches in the patterns below (any Unicode digit)
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# Addresses spelled out to dodge filters: "jane.doe (at) example (dot) com",
# "jane [at] example [dot] co [dot] uk", "jane at example dot com". "at" and
# "dot" as bare words are ordinary English, so the bare form needs a known
# top-level domain at the end ("look at the dot marked" stays).
_AT = r"(?:\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+|\.)"
_TLD = (r"(?:com|org|net|edu|gov|info|biz|io|me|co|uk|us|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|dk"
        r"|fi|pl|pt|in|jp|cn|br|mx|za|sg|hk|email|health|clinic)")
_SPELLED_EMAIL = re.compile(rf"(?<![\w.])[\w.+-]*\w{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.IGNORECASE)

# IP addresses, checked by the ipaddress module (so "10:30:45" or "1.2.3" stay).
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_DOTTED_QUAD_MIDDLE = re.compile(r"\.\d{1,3}\.\d{1,3}\.")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
                   r"(?:%\w+)?(?![\w:]|\.\d)")

# Dates with day, month and year. A year alone, or a month and year, is not a
# birth date and is kept ("a 2015 study", "since March 2020").
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
# With a month name the year needs four digits (or an apostrophe), so that
# "on 3 May 20 patients" stays as written.
_NAMED_YEAR = r"(?:(?:19|20)\d\d|'\d\d)"
_NAMED_DATE = re.compile(
    rf"\b(?:{_DAY}(?:\s+of)?[\s/-]+{_MONTH},?[\s/-]+{_NAMED_YEAR}"
    rf"|{_MONTH}\s+{_DAY},?\s+{_NAMED_YEAR})(?!\w)",
    re.IGNORECASE)
# 03/04/1985, 4/3/85, 3.4.1985: the same separator twice; checked by _date_if_valid.
_NUMERIC_DATE = re.compile(
    rf"{_START}(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?:\d{{4}}|\d\d){_END}")
# 1985-04-03, 1985/4/3.
_ISO_DATE = re.compile(
    rf"{_START}(?:19|20)\d\d(?P<sep>[/.-])(?P<a>\d{{1,2}})(?P=sep)(?P<b>\d{{1,2}}){_END}")

# Phone numbers, most specific shape first. Each needs a shape ranges and
# counts never have: a leading +, an area code in brackets, the North
# American 3-3-4 grouping or a national number starting with a trunk 0
# (international: "+" or "00", then the country code).
_SEP = r"[\s.-]?"
_PHONES = (
    re.compile(rf"(?<![\w+])(?:\+|\b00)\d{{1,3}}(?:{_SEP}\(?\d{{1,8}}\)?){{2,5}}{_END}"),
    re.compile(rf"(?<![\w(])\(\d{{2,5}}\){_SEP}\d{{3,4}}{_SEP}\d{{3,4}}{_END}"),
    re.compile(rf"{_START}(?:1[\s.-])?\d{{3}}[\s.-]\d{{3}}[\s.-]\d{{4}}{_END}"),
    re.compile(rf"{_START}0\d{{2,4}}[\s-]?\d{{3,4}}[\s-]?\d{{3,4}}{_END}"),
)
# A short local number ("496-0630") only counts as a phone after a word that
# says so; elsewhere "100-1000 mg" is a range.
_LABELLED_PHONE = re.compile(
    r"(\b(?:phone|tel(?:ephone)?|mobile|cell|call(?:\s+me)?|text(?:\s+me)?|whatsapp|number)"
    r"\b\.?(?:\s*(?:is|at|on|:|-)\s*|\s+))"
    rf"(\d{{3}}[\s.-]?\d{{4}}){_END}",
    re.IGNORECASE)

# Nine or more digits in one run, or in three or more groups with the same
# separator (cards, insurance and social security numbers). Two groups are
# left alone, "10000-20000 steps" is a range; so are groups of one digit,
# "weeks 1 2 3 4 5 6 7 8 9" is a list.
_DIGIT_RUN = re.compile(rf"{_START}\d{{9,}}{_END}")
_GROUPED_DIGITS = re.compile(rf"{_START}\d{{1,8}}([\s-])\d{{2,8}}(?:\1\d{{2,8}})+{_END}")
_YEAR = re.compile(r"(?:19|20)\d\d")
# Bank accounts (IBAN): country, check digits, an optional bank code in
# letters, then groups of digits. Groups that mix letters and digits are
# acupuncture points ("GV20 BL23 BL40"), not accounts.
_IBAN = re.compile(r"\b[A-Z]{2}\d\d(?:\s?[A-Z]{4})?(?:\s?\d{4}){2,7}(?:\s?\d{1,3})?\b")
# Identifiers of letters and digits: "AB123456789", "123456789A". Acupuncture
# points ("BL23", "GV20") have at most two digits.
_LETTERED_ID = re.compile(r"\b(?:[A-Za-z]{1,4}[-]?\d{7,}[A-Za-z]?|\d{7,}[A-Za-z]{1,3})\b")
# After a word that names an identifier, any number of six or more digits,
# however it is grouped: "medicare 1234 56789 1", "insurance id 12-345-678",
# "policy no. 556677".
_ID_LABEL = (r"(?:insurance|insurer|policy|member(?:ship)?|medicare|medicaid|nhs|subscriber|ssn"
             r"|social\s+security|passport|licen[cs]e|account|health\s+card)")
_LABELLED_ID = re.compile(
    rf"(\b{_ID_LABEL}(?:\s+(?:id|no\.?|number|num|card|#))*\s*(?:is|:|#|-)?\s*)"
    r"([A-Za-z]{0,4}\d[\d\s-]*\d[A-Za-z]{0,2})(?![\w])",
    re.IGNORECASE)


def redact_personal_details(text: str) -> str:
    """`text` with personal details replaced by placeholders.

    Replaces email addresses with "[email]", phone numbers (international
    "+44 20 7946 0958", "(206) 496-0630", "206.496.0630", national "020 7946
    0958", and "496-0630" after a word like "phone" or "call") with "[phone]",
    dates with day, month and year ("03/04/1985", "1985-04-03", "3 April 1985",
    "DOB: 4/3/85") with "[date]", and runs of nine or more digits, also
    grouped by spaces or dashes like "4111 1111 1111 1111", and bank account
    numbers (IBAN), identifiers of letters and digits ("AB123456789") and
    numbers after a word like "insurance", "policy" or "medicare" ("medicare
    1234 56789 1") with "[number]", addresses spelled out ("jane (at) example
    (dot) com") with "[email]", and IPv4 and IPv6 addresses with "[ip]".
    Years, ages, durations, ranges and counts are kept. Names and street
    addresses are not detected. Redacting twice gives the same text.
    """
    if "@" not in text and ":" not in text and not _DIGIT.search(text):
        # Every other pattern needs a digit, an "@" or (IPv6) a colon, and most
        # questions have none: this is 3 us instead of 30 on the request path.
        return _SPELLED_EMAIL.sub(EMAIL, text)
    # Most specific first: a later pattern would take part of an earlier one's
    # match (an IBAN's digit groups look like a phone number).
    text = _EMAIL.sub(EMAIL, text)
    text = _SPELLED_EMAIL.sub(EMAIL, text)
    text = redact_ip_addresses(text)
    text = _LABELLED_ID.sub(_id_if_long, text)
    text = _IBAN.sub(NUMBER, text)
    text = _LETTERED_ID.sub(NUMBER, text)
    text = _NAMED_DATE.sub(DATE, text)
    text = _ISO_DATE.sub(_date_if_valid, text)
    text = _NUMERIC_DATE.sub(_date_if_valid, text)
    for pattern in _PHONES:
        text = pattern.sub(_phone_if_plausible, text)
    text = _LABELLED_PHONE.sub(r"\g<1>" + PHONE, text)
    text = _DIGIT_RUN.sub(NUMBER, text)
    return _GROUPED_DIGITS.sub(_number_if_long, text)


def redact_ip_addresses(text: str) -> str:
    """`text` with IPv4 ("203.0.113.7") and IPv6 ("2001:db8::1", "::1") addresses replaced by "[ip]".

    Used for stored text and for log lines (chatbot.serving.log_privacy)."""
    # Each pattern runs only where it could match (every log line comes here,
    # and each scan costs about 5 us on a 200-character line): an IPv6
    # address has two colons or more, and every dotted quad contains
    # ".d.d." (a search for it jumps from dot to dot).
    if text.count(":") >= 2:
        text = _IPV6.sub(_ip_if_valid, text)
    if _DOTTED_QUAD_MIDDLE.search(text):
        text = _IPV4.sub(_ip_if_valid, text)
    return text


def _ip_if_valid(match: re.Match) -> str:
    try:
        ipaddress.ip_address(match.group(0).split("%", 1)[0])
    except ValueError:
        return match.group(0)
    return IP_ADDRESS


def _id_if_long(match: re.Match) -> str:
    """label + [number] when the identifier has six or more digits, not all of them years."""
    identifier = match.group(2)
    groups = re.split(r"[\s-]+", identifier)
    if sum(char.isdigit() for char in identifier) < 6 or all(_YEAR.fullmatch(g) for g in groups):
        return match.group(0)
    return match.group(1) + NUMBER


def _date_if_valid(match: re.Match) -> str:
    """[date] when the parts `a` and `b` can be a day and a month, in either order."""
    a, b = int(match["a"]), int(match["b"])
    if (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31):
        return DATE
    return match.group(0)


def _phone_if_plausible(match: re.Match) -> str:
    """[phone] for 7 to 15 digits, the lengths the international numbering plan allows."""
    digits = sum(char.isdigit() for char in match.group(0))
    return PHONE if 7 <= digits <= 15 else match.group(0)


def _number_if_long(match: re.Match) -> str:
    """[number] for nine or more digits, unless the groups are all years ("2005 2010 2015")."""
    groups = re.split(r"[\s-]", match.group(0))
    if all(_YEAR.fullmatch(group) for group in groups):
        return match.group(0)
    return NUMBER if sum(len(group) for group in groups) >= 9 else match.group(0)

