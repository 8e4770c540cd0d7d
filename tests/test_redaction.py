"""redact_personal_details: contact details, dates and long numbers go; clinical numbers stay."""
from __future__ import annotations

import pytest

from chatbot.storage import redact_personal_details

REDACTED = [
    # emails
    ("my email is jane.doe+clinic@example.co.uk thanks", "my email is [email] thanks"),
    ("Write to J_Smith@mail-server.org.", "Write to [email]."),
    # phones: North American
    ("call me at (206) 496-0630 please", "call me at [phone] please"),
    ("my number is 206-496-0630", "my number is [phone]"),
    ("206.496.0630", "[phone]"),
    ("206 496 0630", "[phone]"),
    ("1-800-555-0199 is the office", "[phone] is the office"),
    ("+1 (206) 496-0630", "[phone]"),
    # phones: international and national
    ("+44 20 7946 0958", "[phone]"),
    ("ring +33 1 23 45 67 89 today", "ring [phone] today"),
    ("+4915112345678", "[phone]"),
    ("020 7946 0958", "[phone]"),
    ("mobile 07700 900123", "mobile [phone]"),
    ("(020) 7946 0958", "[phone]"),
    # short local numbers only after a word that says "phone"
    ("call me on 496-0630", "call me on [phone]"),
    ("my phone: 4960630", "my phone: [phone]"),
    ("tel. 496 0630", "tel. [phone]"),
    ("Call 0049 30 12345678", "Call [phone]"),
    # dates
    ("DOB 03/04/1985", "DOB [date]"),
    ("born 1985-04-03 in Leeds", "born [date] in Leeds"),
    ("I was born on 3 April 1985.", "I was born on [date]."),
    ("born on the 3rd of April, 1985", "born on the [date]"),
    ("DOB: 4/3/85", "DOB: [date]"),
    ("birthday April 3, 1985", "birthday [date]"),
    ("seen on 12.11.2023 and 3-Apr-1985", "seen on [date] and [date]"),
    ("born 3 apr '85", "born [date]"),
    # long digit runs: cards, insurance and social security numbers
    ("card 4111 1111 1111 1111 exp 12/26", "card [number] exp 12/26"),
    ("card 4111-1111-1111-1111", "card [number]"),
    ("4111111111111111", "[number]"),
    ("member id 123456789", "member id [number]"),
    ("SSN 123-45-6789", "SSN [number]"),
    ("policy 12 345 678 901", "policy [number]"),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [number]"),
    ("GB82 WEST 1234 5698 7654 32", "[number]"),
    # e-mail addresses spelled out
    ("jane.doe (at) example (dot) com", "[email]"),
    ("write to jane [at] example [dot] co [dot] uk today", "write to [email] today"),
    ("jane_doe at example dot com", "[email]"),
    ("jane.doe(at)example.com", "[email]"),
    ("J.Doe {AT} Mail-Server {DOT} org", "[email]"),
    # IP addresses
    ("my ip is 203.0.113.7", "my ip is [ip]"),
    ("from 192.168.1.10.", "from [ip]."),
    ("2001:db8::8a2e:370:7334 and ::1", "[ip] and [ip]"),
    ("[fe80::1%eth0]:8080", "[[ip]]:8080"),
    ("2001:0db8:0000:0000:0000:ff00:0042:8329", "[ip]"),
    ("::ffff:198.51.100.4", "[ip]"),
    # identifiers of letters and digits, and numbers after a word naming an id
    ("insurance id AB123456789", "insurance id [number]"),
    ("member XYZ12345678 here", "member [number] here"),
    ("ref 123456789AB", "ref [number]"),
    ("medicare 1234 56789 1", "medicare [number]"),
    ("Medicare number: 2123-45670-1", "Medicare number: [number]"),
    ("policy no. 556677", "policy no. [number]"),
    ("my member number is 12-345-678", "my member number is [number]"),
    ("NHS number 485 777 3456", "NHS number [number]"),
    # several at once
    ("Jane, jane@example.com, 206-496-0630, DOB 3/4/1985",
     "Jane, [email], [phone], DOB [date]"),
]

KEPT = [
    "Sessions last 15-30 minutes.",
    "A 2015 study of 1,200 patients found a small benefit.",
    "Is BL23 the point for lower back pain?",
    "Most people come 1-2 sessions a week.",
    "I am age 35 and have had back pain since March 2020.",
    "Between 2010 and 2015, 3-4 times a year.",
    "Trials from 2015-2019 with 1200 patients",
    "It costs $75-$120 per visit, or 60% less with cover.",
    "ICD-10 code M54.5 for low back pain",
    "Take 100-1000 mg? Walk 10000-20000 steps a day?",
    "On 3 May 20 patients were treated.",
    "Points GV4, BL40 and KI3; needles 0.25 x 25 mm.",
    "pain score 7/10, down from 9/10",
    "appointment at 10:30 on Monday",
    "version 1.2.3 of the leaflet",
    "12,345,678 people in the survey",
    "call us for 1-2 sessions",
    "1 in 10 people, 8 to 12 sessions over 6 weeks",
    "I'm 35, 180 cm and 80 kg.",
    "Points GV20 BL23 BL40 ST36 GB30 GB34",
    "weeks 1 2 3 4 5 6 7 8 9 10",
    "trials in 2005 2010 2015",
    "since 01/2020, about 3/4 of the time",
    "born in April 1985",
    "look at the dot marked on the skin",
    "I was at the clinic at 10 and home at 12.",
    "appointment at 10:30:45, or 12:30",
    "version 1.2.3 of the leaflet, step 1.2.3.4.5",
    "insurance covers 10 sessions a year",
    "my policy since 2015 2016",
    "medicare paid for 12 of 20 sessions",
    "Points GV20, BL23, KI3 and LI4; 3x weekly",
    "a ratio of 3:1 or 2:1:1",
    "pain at T12-L1, at level L4/L5",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_details_are_replaced_by_placeholders(text, expected):
    assert redact_personal_details(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_numbers_and_words_are_kept(text):
    assert redact_personal_details(text) == text


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_redacting_twice_changes_nothing_more(text, expected):
    assert redact_personal_details(redact_personal_details(text)) == expected


def test_empty_text_stays_empty():
    assert redact_personal_details("") == ""


def test_text_without_digits_at_signs_or_colons_takes_the_short_way_to_the_same_result(monkeypatch):
    from chatbot.storage import redaction
    texts = [text for text, _ in REDACTED] + KEPT + [
        "jane.doe (at) example (dot) com", "mail jane at example dot com please", "look at the dot marked",
        "Does acupuncture hurt?", "fe ab cd ef", "my insurance id is AB", "call me on Monday morning"]
    short = [redaction.redact_personal_details(text) for text in texts]
    monkeypatch.setattr(redaction, "_DIGIT", type("Always", (), {"search": staticmethod(lambda text: True)}))
    assert [redaction.redact_personal_details(text) for text in texts] == short
    assert redaction.redact_personal_details("jane (at) example (dot) com") == "[email]"
