"""Cleaning: site chrome goes, real content stays (made-up pages and the shipped seeds)."""
from __future__ import annotations

import pytest

from chatbot.corpus import load_corpus, parse_document
from chatbot.corpus.cleaning import is_caption, is_chrome_line, is_navigation_list, strip_glued_alt_text
from chatbot.passages import make_passages
from site_chrome import SEED_CHROME

# A backslash at the end of a line joins the next one to it: one long line of the page.
MADE_UP_PAGE = """\
Skip to main content
  • Home
  • Services
    • Acupuncture
    • Massage Therapy
  • About Us
  • Contact Us
CALL NOW (555) 123-4567
BOOK AN APPOINTMENT

Gentle Needles for Stiff Backs

March 3, 2021Jane DoeBack Care

Needling Basics

needles on a backNeedling works by placing very thin filaments into tense muscle so that the tissue relaxes \
and blood flow improves.

Most visitors notice less stiffness after three or four weekly visits, although results differ from person to person.

woman resting on a table

Aftercare

Drink water, walk gently and avoid heavy lifting for the rest of the day after your visit.

Visit Our Clinic

We are open six days a week and our friendly team is ready to help. Contact us today at (555) 987-6543 \
to book a consultation.

Tags: needling, back pain, aftercare
Related Posts
  • Five Stretches for Office Workers
  • Why Posture Matters
  • Sleeping Positions Explained
Comments are closed.
Privacy Policy | Terms of Use | Sitemap
Copyright \u00a9 2024 Example Wellness. All rights reserved.
logo-example-white2 seal_of_approval_HiRes
"""

REAL_SENTENCES = [
    "Needling works by placing very thin filaments into tense muscle so that the tissue relaxes "
    "and blood flow improves.",
    "Most visitors notice less stiffness after three or four weekly visits, "
    "although results differ from person to person.",
    "Drink water, walk gently and avoid heavy lifting for the rest of the day after your visit.",
]

CHROME = ["Skip to main content", "Home", "Massage Therapy", "Contact Us", "555", "BOOK AN APPOINTMENT",
          "Jane Doe", "needles on a back", "woman resting", "Tags:", "Related Posts", "Five Stretches",
          "Comments are closed", "Privacy Policy", "Copyright", "logo-example", "seal_of_approval",
          "our friendly team", "book a consultation"]


@pytest.fixture
def made_up_passages():
    document, errors = parse_document(MADE_UP_PAGE, "made-up.txt", ".txt")
    assert errors == []
    passages, _ = make_passages([document])
    return passages


def test_every_real_sentence_of_a_made_up_page_is_kept(made_up_passages):
    text = " ".join(p.text for p in made_up_passages)
    for sentence in REAL_SENTENCES:
        assert sentence in text


@pytest.mark.parametrize("chrome", CHROME)
def test_site_chrome_of_a_made_up_page_is_removed(made_up_passages, chrome):
    for passage in made_up_passages:
        assert chrome not in passage.text
        assert chrome not in (passage.section or "")


def test_headings_of_a_made_up_page_become_sections(made_up_passages):
    sections = {p.section for p in made_up_passages}
    assert {"Needling Basics", "Aftercare"} <= sections


@pytest.mark.parametrize("line, chrome", [
    ("Skip to main content", True),
    ("Fraud Blocker Skip to main content", True),
    ("14 Answers", True),
    ("3 comments", True),
    ("June 22, 2020Solomon KamsonTreatments for Back pain", True),
    ("Posted on 4 May 2019 by Admin", True),
    ("Tags: acupuncture, back pain", True),
    ("Comments are closed.", True),
    ("Privacy Policy | Terms of Use | Contact Us |", True),
    ("COPYRIGHT \u00a9 SPINE INSTITUTE NORTHWEST", True),
    ("CALL NOW (206) 496-0630", True),
    ("SCHEDULE AN APPOINTMENT", True),
    ("EPP_Award joint-commission-seal_HiRes MRIsealhipaa_blue", True),
    ("Acupuncture can help release muscle tension.", False),
    ("Rest Relax with needles in place 15-30 minutes", False),
    ("In 2015 a study of 1,000 patients found lasting relief for many of them.", False),
    ("Call your doctor if the pain spreads to your legs, as it may be a sign of a trapped nerve.", False),
])
def test_chrome_lines_are_recognised_by_their_shape(line, chrome):
    assert is_chrome_line(line) is chrome


def test_alt_text_glued_to_a_sentence_is_cut_off():
    assert strip_glued_alt_text("acupuncture for back painAcupuncture is a treatment.") == "Acupuncture is a treatment."


@pytest.mark.parametrize("text", ["PubMed lists many trials.", "The iPhone app reminds you.", "McDonald said so."])
def test_ordinary_capitals_inside_words_are_not_taken_for_glued_alt_text(text):
    assert strip_glued_alt_text(text) == text


def test_a_lower_case_line_of_a_few_words_is_a_caption():
    assert is_caption("woman undergoing acupuncture")
    assert not is_caption("acupuncture helps many people with back pain.")


def test_a_list_of_short_title_case_links_is_navigation():
    assert is_navigation_list(("Home", "Treatments", "About Us", "Contact Us"))
    assert not is_navigation_list(("Minor bleeding or bruising at the needle insertion sites",
                                   "Soreness that may last for a few days",
                                   "Dizziness or feeling lightheaded"))


def test_a_short_title_case_list_introduced_by_a_sentence_is_kept():
    text = "Conditions we treat:\n\n- Sciatica\n- Neck Pain\n- Tension Headaches\n"
    document, _ = parse_document(text, "conditions.md", ".md")
    passages, _ = make_passages([document])
    assert any("Neck Pain" in p.text and "Conditions we treat:" in p.text for p in passages)


# -- the shipped knowledge base --------------------------------------------------

@pytest.fixture(scope="module")
def seed_passages():
    from conftest import DEFAULT_CORPUS
    passages, _ = make_passages(load_corpus(DEFAULT_CORPUS).documents)
    return passages


def test_no_passage_of_the_shipped_corpus_contains_site_chrome(seed_passages):
    offenders = [p.text[:80] for p in seed_passages if SEED_CHROME.search(f"{p.section} {p.text}")]
    assert offenders == []


@pytest.mark.parametrize("content", [
    "Acupuncture has proven very effective to treat back pain",
    "BL23 Shenshu Located on the lower back, used for lumbar pain and kidney health",
    "You will rest for 15-30 minutes with the needles in place.",
    "Acupuncture is a treatment performed by certified practitioners",
    "as it breaks through the skin",
    "the needles themselves are not sore and indeed you hardly feel them",
    "acupuncture for sciatica and acupuncture for neck pain",
])
def test_real_content_of_the_shipped_corpus_is_kept(seed_passages, content):
    assert any(content in p.text for p in seed_passages)
