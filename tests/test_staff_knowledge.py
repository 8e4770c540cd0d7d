"""Staff knowledge: FAQ entries, uploaded pages, check questions, and all of it as corpus documents.

Runs on a SQLite file always and on PostgreSQL too when CHATBOT_TEST_POSTGRES_URL
names a database (each test gets a schema of its own, dropped afterwards).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from chatbot.corpus import Document, FaqEntry, LoadError
from chatbot.index import PassageIndex
from chatbot.passages import make_passages
from chatbot.staff import KnowledgeStore
from chatbot.staff import pages as pages_module
from chatbot.staff.pages import MAX_DOCUMENT_BYTES, safe_filename
from chatbot.storage import Storage, StorageError

ANN, BOB = "ann@clinic.example", "bob@clinic.example"
PAGE = "# Aftercare\n\nDrink water and rest after a session; mild soreness fades within a day.\n"


@pytest.fixture
def knowledge(storage):
    return KnowledgeStore(storage)


def add_price_faq(knowledge: KnowledgeStore, author: str = ANN):
    return knowledge.add_faq("How much does a session cost?",
                             "A first visit with treatment is 65 pounds; later sessions are 50 pounds.",
                             ["What are your prices", "fees"], "Price list", "https://clinic.example/prices",
                             author=author)


# FAQ entries

def test_a_new_faq_entry_is_cleaned_like_a_line_of_an_faq_file_and_unreviewed(knowledge):
    entry = knowledge.add_faq("  How   long is a session? ", "  About 45 minutes.\n",
                              [" How long does it take ", "", "   "], " Our clinic ", " https://clinic.example ",
                              author=ANN)
    assert (entry.question, entry.answer, entry.alternates) == (
        "How long is a session?", "About 45 minutes.", ("How long does it take",))
    assert (entry.source_title, entry.source_url) == ("Our clinic", "https://clinic.example")
    assert (entry.author, entry.updated_by, entry.reviewed_by, entry.reviewed_at) == (ANN, ANN, None, None)
    assert entry.created_at == entry.updated_at and entry.created_at.utcoffset().total_seconds() == 0
    assert knowledge.get_faq(entry.id) == entry


def test_an_faq_entry_without_source_or_alternates_keeps_them_empty(knowledge):
    entry = knowledge.add_faq("Is parking free?", "Yes, behind the building.")
    assert (entry.alternates, entry.source_title, entry.source_url, entry.author) == ((), None, None, "")


@pytest.mark.parametrize("changes, message", [
    ({"question": "  "}, "'question' is missing or empty"),
    ({"question": None}, "'question' is missing or empty"),
    ({"answer": ""}, "'answer' is missing or empty"),
    ({"answer": "x" * 20_001}, "longer than 20000"),
    ({"question": "x" * 20_001}, "longer than 20000"),
    ({"alternates": ["x" * 20_001]}, "longer than 20000"),
    ({"alternates": "what are your prices"}, "list of texts"),
    ({"alternates": ["ok", 3]}, "list of texts"),
    ({"source_url": "ftp://clinic.example/prices"}, "http:// or https://"),
    ({"source_url": "javascript:alert(1)"}, "http:// or https://"),
    ({"source_url": "clinic.example"}, "http:// or https://"),
    ({"source_title": 12}, "source title must be text"),
    ({"author": "a" * 255}, "author"),
])
def test_invalid_faq_entries_are_refused_with_the_reason(knowledge, changes, message):
    values = {"question": "How much?", "answer": "50 pounds.", "alternates": (), "source_title": None,
              "source_url": None, "author": ANN, **changes}
    with pytest.raises(ValueError, match=message):
        knowledge.add_faq(**values)
    assert knowledge.list_faq() == []


def test_an_answer_of_exactly_20000_characters_is_accepted(knowledge):
    assert len(knowledge.add_faq("Long?", "x" * 20_000).answer) == 20_000


def test_updating_an_faq_entry_records_the_editor_and_clears_the_review(knowledge):
    entry = add_price_faq(knowledge)
    knowledge.mark_reviewed(entry.id, BOB)
    updated = knowledge.update_faq(entry.id, question="What does a session cost?", answer="50 pounds.",
                                   alternates=["prices", " "], source_title=None, source_url=None, editor=BOB)
    assert (updated.question, updated.answer, updated.alternates, updated.source_title, updated.source_url) == (
        "What does a session cost?", "50 pounds.", ("prices",), None, None)
    assert (updated.author, updated.updated_by, updated.created_at) == (ANN, BOB, entry.created_at)
    assert updated.updated_at >= entry.updated_at
    assert (updated.reviewed_by, updated.reviewed_at) == (None, None)
    assert knowledge.get_faq(entry.id) == updated


def test_saving_an_faq_entry_unchanged_keeps_its_review_and_editor(knowledge):
    entry = add_price_faq(knowledge)
    reviewed = knowledge.mark_reviewed(entry.id, BOB)
    same = knowledge.update_faq(entry.id, question=entry.question, answer=entry.answer,
                                alternates=entry.alternates, source_title=entry.source_title,
                                source_url=entry.source_url, editor=BOB)
    assert same == reviewed


def test_updating_with_invalid_content_changes_nothing(knowledge):
    entry = add_price_faq(knowledge)
    with pytest.raises(ValueError):
        knowledge.update_faq(entry.id, question="", answer="x", alternates=(), source_title=None,
                             source_url=None, editor=BOB)
    assert knowledge.get_faq(entry.id) == entry


def test_reviewing_an_faq_entry_records_who_and_when(knowledge):
    entry = add_price_faq(knowledge)
    reviewed = knowledge.mark_reviewed(entry.id, BOB)
    assert reviewed.reviewed_by == BOB and reviewed.reviewed_at >= entry.created_at
    assert (reviewed.question, reviewed.updated_by) == (entry.question, entry.updated_by)


def test_unknown_faq_ids_read_as_none_or_false(knowledge):
    assert knowledge.get_faq(404) is None
    assert knowledge.mark_reviewed(404, BOB) is None
    assert knowledge.update_faq(404, question="q", answer="a", alternates=(), source_title=None,
                                source_url=None, editor=BOB) is None
    assert knowledge.delete_faq(404) is False
    with pytest.raises(ValueError):
        knowledge.get_faq("1")


def test_deleting_an_faq_entry_removes_only_that_one(knowledge):
    first = add_price_faq(knowledge)
    second = knowledge.add_faq("Is parking free?", "Yes.")
    assert knowledge.delete_faq(first.id) is True
    assert knowledge.delete_faq(first.id) is False
    assert knowledge.list_faq() == [second]


@pytest.mark.parametrize("search, found", [
    ("", ["How much does a session cost?", "Is parking free?"]),
    ("PRICES", ["How much does a session cost?"]),          # an alternate
    ("behind the building", ["Is parking free?"]),          # the answer
    ("parking", ["Is parking free?"]),                      # the question
    ("free building", ["Is parking free?"]),                # every word, anywhere
    ("free pounds", []),
    ("  ", ["How much does a session cost?", "Is parking free?"]),
])
def test_faq_search_is_case_insensitive_over_question_answer_and_alternates(knowledge, search, found):
    add_price_faq(knowledge)
    knowledge.add_faq("Is parking free?", "Yes, behind the building.")
    assert [entry.question for entry in knowledge.list_faq(search)] == found


# Uploaded pages

def test_a_new_page_is_kept_as_uploaded(knowledge):
    page = knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    assert (page.filename, page.suffix, page.text, page.author, page.updated_by) == (
        "aftercare.md", ".md", PAGE, ANN, ANN)
    assert knowledge.get_document(page.id) == page


@pytest.mark.parametrize("filename, suffix, stored", [
    ("../../etc/aftercare.md", ".md", "aftercare.md"),
    ("C:\\Users\\ann\\Back Pain.MD", ".md", "Back Pain.md"),
    ("notes", ".txt", "notes.txt"),
    ("notes.md", ".txt", "notes.md.txt"),
    ("  .hidden.html", "HTML", "hidden.html"),
    ("evil\x00\nname\t.html", ".html", "evilname.html"),
    ("x" * 252 + ".md", ".md", "x" * 252 + ".md"),
])
def test_page_filenames_are_made_safe(knowledge, filename, suffix, stored):
    assert safe_filename(filename, suffix) == stored
    assert knowledge.add_document(filename, suffix, PAGE, ANN).filename == stored


@pytest.mark.parametrize("filename, suffix, text_, message", [
    ("page.pdf", ".pdf", PAGE, "pages must be"),
    ("faq.csv", ".csv", "question,answer\nq,a\n", "pages must be"),
    ("page.md", None, PAGE, "suffix must be text"),
    ("page.md", ".md", "", "empty"),
    ("page.md", ".md", " \n\t\x00 ", "empty"),
    ("page.md", ".md", b"# bytes", "must be text"),
    ("page.md", ".md", "x" * (MAX_DOCUMENT_BYTES + 1), "larger than 2 MB"),
    ("page.md", ".md", "\u00e9" * (MAX_DOCUMENT_BYTES // 2 + 1), "larger than 2 MB"),  # counted in bytes
    ("../", ".md", PAGE, "no name"),
    (".md", ".md", PAGE, "no name"),
    ("..", ".md", PAGE, "no name"),
    ("x" * 253 + ".md", ".md", PAGE, "longer than 255"),
    ("FAQ.md", ".md", PAGE, "kept for the FAQ"),
    ("page.md", ".md", PAGE.replace("Drink", "\ud800"), "not valid Unicode"),
])
def test_invalid_pages_are_refused_with_the_reason(knowledge, filename, suffix, text_, message):
    with pytest.raises(ValueError, match=message):
        knowledge.add_document(filename, suffix, text_, ANN)
    assert knowledge.list_documents() == []


def test_a_page_of_exactly_2_mb_is_accepted(knowledge):
    assert len(knowledge.add_document("big.txt", ".txt", "x" * MAX_DOCUMENT_BYTES, ANN).text) == MAX_DOCUMENT_BYTES


@pytest.mark.parametrize("second", ["aftercare.md", "AfterCare.md", "aftercare.txt", "sub/aftercare.html"])
def test_a_second_page_with_the_same_name_is_refused_whatever_its_case_or_extension(knowledge, second):
    knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    with pytest.raises(ValueError, match="exists already"):
        knowledge.add_document(second, second.rsplit(".", 1)[1], PAGE, BOB)
    assert len(knowledge.list_documents()) == 1


def test_updating_a_page_replaces_its_text_and_records_the_editor(knowledge):
    page = knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    updated = knowledge.update_document(page.id, PAGE + "\nCall us if pain lasts.\n", BOB)
    assert updated.text.endswith("Call us if pain lasts.\n")
    assert (updated.filename, updated.author, updated.updated_by) == ("aftercare.md", ANN, BOB)
    assert knowledge.get_document(page.id) == updated
    with pytest.raises(ValueError, match="empty"):
        knowledge.update_document(page.id, "  ", BOB)
    assert knowledge.get_document(page.id) == updated


def test_unknown_page_ids_read_as_none_or_false(knowledge):
    assert knowledge.get_document(404) is None
    assert knowledge.update_document(404, PAGE, BOB) is None
    assert knowledge.delete_document(404) is False


def test_deleting_a_page_frees_its_name(knowledge):
    page = knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    assert knowledge.delete_document(page.id) is True
    assert knowledge.list_documents() == []
    assert knowledge.add_document("aftercare.md", ".md", PAGE, ANN).filename == "aftercare.md"


def test_pages_are_listed_by_filename_and_searched_in_filename_and_text(knowledge):
    knowledge.add_document("parking.txt", ".txt", "Parking is free behind the building.", ANN)
    knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    assert [p.filename for p in knowledge.list_documents()] == ["aftercare.md", "parking.txt"]
    assert [p.filename for p in knowledge.list_documents("SORENESS")] == ["aftercare.md"]
    assert [p.filename for p in knowledge.list_documents("parking building")] == ["parking.txt"]
    assert knowledge.list_documents("cupping") == []


# Check questions

def test_check_questions_are_added_listed_oldest_first_and_deleted(knowledge):
    first = knowledge.add_check("  How long is  a session? ", "answer", [" 45 minutes ", "", "an hour"], ANN)
    second = knowledge.add_check("Can I pay by card?", "no_answer", [], BOB)
    assert (first.question, first.expect, first.phrases, first.author) == (
        "How long is a session?", "answer", ("45 minutes", "an hour"), ANN)
    assert (second.expect, second.phrases) == ("no_answer", ())
    assert knowledge.list_checks() == [first, second]
    assert knowledge.delete_check(first.id) is True
    assert knowledge.delete_check(first.id) is False
    assert knowledge.list_checks() == [second]


@pytest.mark.parametrize("expect", ["no_answer", "urgent", "smalltalk"])
def test_check_questions_expecting_no_answer_need_no_phrases(knowledge, expect):
    assert knowledge.add_check("Numb legs after a fall", expect, (), ANN).expect == expect


@pytest.mark.parametrize("question, expect, phrases, message", [
    ("How long?", "answer", [], "at least one phrase"),
    ("How long?", "answer", ["  ", ""], "at least one phrase"),
    ("How long?", "maybe", ["x"], "expect must be one of"),
    ("How long?", "answer", "45 minutes", "list of texts"),
    ("  ", "answer", ["x"], "question is missing"),
    (None, "answer", ["x"], "question is missing"),
])
def test_invalid_check_questions_are_refused_with_the_reason(knowledge, question, expect, phrases, message):
    with pytest.raises(ValueError, match=message):
        knowledge.add_check(question, expect, phrases, ANN)
    assert knowledge.list_checks() == []


# As corpus documents

def test_without_staff_content_there_are_no_documents(knowledge):
    assert knowledge.as_documents() == ([], [])


def test_faq_entries_make_one_faq_document_and_each_page_its_own(knowledge):
    price = add_price_faq(knowledge)
    knowledge.add_faq("Is parking free?", "Yes, behind the building.")
    knowledge.add_document("parking.txt", ".txt", "Parking is free behind the building.", ANN)
    knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    documents, errors = knowledge.as_documents()
    assert errors == []
    faq, aftercare, parking = documents
    assert (faq.doc_id, faq.title, faq.kind, faq.path) == ("staff/faq", "Clinic FAQ", "faq", "staff/faq")
    assert faq.blocks[0] == FaqEntry(price.question, price.answer, price.alternates, "Price list",
                                     "https://clinic.example/prices")
    assert [b.question for b in faq.blocks] == ["How much does a session cost?", "Is parking free?"]
    assert (aftercare.doc_id, aftercare.title, aftercare.path) == ("staff/aftercare", "Aftercare",
                                                                   "staff/aftercare.md")
    assert parking.doc_id == "staff/parking" and isinstance(parking, Document)


def test_pages_without_readable_text_are_left_out_with_their_problems(knowledge):
    knowledge.add_document("script.html", ".html", "<html><body><script>track()</script></body></html>", ANN)
    knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    knowledge.add_document("front.md", ".md", "---\ntitle: Empty\n---\n", ANN)
    documents, errors = knowledge.as_documents()
    assert [d.doc_id for d in documents] == ["staff/aftercare"]
    assert [(e.path, e.line) for e in errors] == [("staff/front.md", 0), ("staff/script.html", 0)]
    assert all(isinstance(e, LoadError) for e in errors)


def test_a_question_worded_like_an_alternate_finds_the_faq_entry_in_an_index(knowledge):
    add_price_faq(knowledge)
    knowledge.add_faq("Is parking free?", "Yes, there is free parking behind the building.")
    knowledge.add_faq("Do the needles hurt?", "Most people feel a brief prick and then a dull warmth.")
    knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    documents, _ = knowledge.as_documents()
    passages, _ = make_passages(documents)
    index = PassageIndex().fit(passages)
    [best, *_] = index.search("what are your prices?", k=3)
    assert best.passage.question == "How much does a session cost?"
    assert best.passage.source.doc_id == "staff/faq"
    assert (best.passage.source.title, best.passage.source.url) == ("Price list", "https://clinic.example/prices")


# Fingerprint

def test_the_fingerprint_changes_with_every_kind_of_content(knowledge):
    seen = {knowledge.fingerprint()}
    entry = add_price_faq(knowledge)
    seen.add(knowledge.fingerprint())
    knowledge.update_faq(entry.id, question=entry.question, answer="60 pounds.", alternates=entry.alternates,
                         source_title=entry.source_title, source_url=entry.source_url, editor=BOB)
    seen.add(knowledge.fingerprint())
    page = knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    seen.add(knowledge.fingerprint())
    knowledge.update_document(page.id, PAGE + "More.", BOB)
    seen.add(knowledge.fingerprint())
    knowledge.add_check("How long?", "answer", ["45 minutes"], ANN)
    seen.add(knowledge.fingerprint())
    assert len(seen) == 6 and all(len(f) == 64 for f in seen)


def test_the_fingerprint_depends_on_content_only_not_on_ids_authors_or_reviews(knowledge):
    entry = add_price_faq(knowledge, author=ANN)
    page = knowledge.add_document("aftercare.md", ".md", PAGE, ANN)
    before = knowledge.fingerprint()
    assert knowledge.fingerprint() == before
    knowledge.mark_reviewed(entry.id, BOB)
    assert knowledge.fingerprint() == before
    knowledge.delete_faq(entry.id)
    knowledge.delete_document(page.id)
    knowledge.add_document("aftercare.md", ".md", PAGE, BOB)
    add_price_faq(knowledge, author=BOB)
    assert knowledge.fingerprint() == before


def test_knowledge_on_a_database_without_the_schema_raises_storage_error(database_url):
    storage = Storage(database_url)  # not migrated
    try:
        with pytest.raises(StorageError, match="FAQ"):
            KnowledgeStore(storage).list_faq()
    finally:
        storage.dispose()


# -- uploads waiting on their preview --------------------------------------------------------

def test_a_held_upload_is_read_back_only_by_who_uploaded_it_until_dropped(knowledge):
    token = knowledge.hold_upload("Parking Info.MD", ".md", "Park in the courtyard.", ANN)
    stored_name = safe_filename("Parking Info.MD", ".md")
    assert knowledge.held_upload(token, ANN) == (stored_name, ".md", "Park in the courtyard.")
    assert knowledge.held_upload(token, "someone.else@example.org") is None
    assert knowledge.held_upload("no-such-token", ANN) is None
    knowledge.drop_upload(token)
    assert knowledge.held_upload(token, ANN) is None
    assert knowledge.list_documents() == []  # holding an upload saves no page


def test_a_held_upload_expires_and_bad_pages_are_not_held(knowledge, monkeypatch):
    token = knowledge.hold_upload("a.md", ".md", "Some text.", ANN)
    monkeypatch.setattr(pages_module, "PENDING_UPLOAD_TTL", timedelta(0))
    assert knowledge.held_upload(token, ANN) is None
    with pytest.raises(ValueError):
        knowledge.hold_upload("a.pdf", ".pdf", "Some text.", ANN)
    with pytest.raises(ValueError):
        knowledge.hold_upload("a.md", ".md", "   ", ANN)
