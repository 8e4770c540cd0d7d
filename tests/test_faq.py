"""FAQ files (CSV and JSON Lines): entries, errors with file and line, and matching as a field."""
from __future__ import annotations

import json

import pytest

from chatbot.build import build_index
from chatbot.corpus import CorpusError, FaqEntry, LoadError, load_corpus
from chatbot.corpus.faq import MAX_FIELD_CHARS, read_faq_csv, read_faq_jsonl

HEADER = "question,answer,alternates,source_title,source_url\n"

GOOD_CSV = HEADER + (
    'Does acupuncture hurt?,"Most people feel a brief prick, then a dull ache.",'
    'Is it painful? | Will the needles sting?||,Needle sensations,https://example.org/feel\n'
    "How many sessions are needed?,Six to eight weekly sessions are typical.,,,\n"
)


def jsonl(*items) -> str:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items) + "\n"


def errors_by_line(errors: list[LoadError]) -> dict[int, str]:
    return {e.line: e.message for e in errors}


def test_csv_entries_load_with_alternates_split_on_bars(make_corpus):
    loaded = load_corpus(make_corpus({"faq.csv": GOOD_CSV}))
    assert loaded.errors == []
    [document] = loaded.documents
    assert (document.doc_id, document.kind, document.path) == ("faq", "faq", "faq.csv")
    assert document.blocks == (
        FaqEntry("Does acupuncture hurt?", "Most people feel a brief prick, then a dull ache.",
                 ("Is it painful?", "Will the needles sting?"), "Needle sensations",
                 "https://example.org/feel", line=2),
        FaqEntry("How many sessions are needed?", "Six to eight weekly sessions are typical.",
                 (), None, None, line=3),
    )


def test_csv_header_names_are_matched_without_case_or_spaces(make_corpus):
    text = " Question , ANSWER \nIs cupping safe?,Cupping is generally safe.\n"
    loaded = load_corpus(make_corpus({"faq.csv": text}))
    assert loaded.errors == []
    assert [(e.question, e.answer) for e in loaded.documents[0].blocks] == [
        ("Is cupping safe?", "Cupping is generally safe.")]


def test_csv_saved_by_a_spreadsheet_with_bom_and_crlf_keeps_line_numbers(make_corpus):
    rows = [HEADER.strip(), "Does it hurt?,Rarely.,,,", "No answer here?,,,,", "Is it safe?,Yes.,,,"]
    data = b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8") + b"\r\n"
    loaded = load_corpus(make_corpus({"faq.csv": data}))
    assert [e.question for e in loaded.documents[0].blocks] == ["Does it hurt?", "Is it safe?"]
    assert [(e.path, e.line) for e in loaded.errors] == [("faq.csv", 3)]


def test_missing_answer_is_reported_with_file_and_line_and_other_rows_load(make_corpus):
    text = HEADER + "Does it hurt?,Rarely.,,,\nWhat about bruises?,,,,\nIs it safe?,Yes.,,,\n"
    loaded = load_corpus(make_corpus({"faq.csv": text}))
    assert loaded.errors == [LoadError("faq.csv", 3, "'answer' is missing or empty")]
    assert str(loaded.errors[0]).startswith("faq.csv:3: ")
    assert [e.line for e in loaded.documents[0].blocks] == [2, 4]


@pytest.mark.parametrize("text, line, fragment", [
    ("question,reply\nDoes it hurt?,Rarely.\n", 1, "missing: answer"),
    ("answer\nRarely.\n", 1, "missing: question"),
    ("", 1, "missing: question, answer"),
    (HEADER + ",Rarely.,,,\n", 2, "'question' is missing"),
    (HEADER + "Does it hurt?,   ,,,\n", 2, "'answer' is missing"),
    (HEADER + "Does it hurt?\n", 2, "'answer' is missing"),
    (HEADER + "Does it hurt?,Rarely.,,,,extra\n", 2, "more cells than the header"),
    (HEADER + "Does it hurt?,Rarely.,,Leaflet,www.example.org\n", 2, "source url must start with http"),
    (HEADER + f"Does it hurt?,{'x' * (MAX_FIELD_CHARS + 1)},,,\n", 2, "longer than"),
    (HEADER + f'Does it hurt?,"{"x" * 200_000}",,,\n', 2, "malformed CSV"),
])
def test_bad_csv_is_reported_with_its_line(text, line, fragment):
    entries, errors = read_faq_csv(text, "faq.csv")
    assert entries == []
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line) == ("faq.csv", line)
    assert fragment in errors[0].message


def test_unknown_csv_column_is_reported_but_entries_still_load():
    entries, errors = read_faq_csv("question,answer,notes\nDoes it hurt?,Rarely.,internal\n", "f.csv")
    assert [e.question for e in entries] == ["Does it hurt?"]
    assert [(e.line, e.message) for e in errors] == [(1, "unknown column 'notes' ignored")]


def test_error_in_a_multi_line_csv_record_names_the_line_where_the_record_starts():
    text = HEADER + '"Does it hurt?","A brief prick,\nthen a dull ache.",,,www.example.org\n'
    _, errors = read_faq_csv(text, "faq.csv")
    assert [(e.line, "source url" in e.message) for e in errors] == [(2, True)]



def test_blank_lines_between_csv_records_do_not_shift_line_numbers():
    text = HEADER + "\nWhat about bruises?,,,,\n\n\nIs it safe?,Yes.,,,\n"
    entries, errors = read_faq_csv(text, "faq.csv")
    assert [(e.line, e.message) for e in errors] == [(3, "'answer' is missing or empty")]
    assert [e.line for e in entries] == [6]

def test_jsonl_entries_load_with_alternates_and_source(make_corpus):
    text = jsonl(
        {"question": "Does acupuncture hurt?", "answer": "Most people feel a brief prick.",
         "alternates": ["Is it painful?", "  "],
         "source": {"title": "Leaflet", "url": "https://example.org/a"}},
        "",
        {"question": "Is cupping safe?", "answer": "Cupping is generally safe."},
    )
    loaded = load_corpus(make_corpus({"faq.jsonl": text}))
    assert loaded.errors == []
    assert loaded.documents[0].blocks == (
        FaqEntry("Does acupuncture hurt?", "Most people feel a brief prick.", ("Is it painful?",),
                 "Leaflet", "https://example.org/a", line=1),
        FaqEntry("Is cupping safe?", "Cupping is generally safe.", line=3),
    )


def test_invalid_json_on_line_two_is_reported_as_line_two(make_corpus):
    text = jsonl({"question": "Does it hurt?", "answer": "Rarely."},
                 '{"question": "Is it safe?", "answer": "Yes."',
                 {"question": "Is cupping safe?", "answer": "Generally."})
    loaded = load_corpus(make_corpus({"faq.jsonl": text}))
    assert [(e.path, e.line) for e in loaded.errors] == [("faq.jsonl", 2)]
    assert "not valid JSON" in loaded.errors[0].message
    assert [e.line for e in loaded.documents[0].blocks] == [1, 3]


@pytest.mark.parametrize("line", ['{"question": "Q?", "answer": "A.", "n": ' + "9" * 5000 + "}",
                                  "[" * 100_000 + "]" * 100_000])
def test_a_line_too_large_to_read_is_reported_not_raised(make_corpus, line):
    text = jsonl({"question": "Does it hurt?", "answer": "Rarely."}, line)
    loaded = load_corpus(make_corpus({"faq.jsonl": text}))
    assert [(e.line, "not valid JSON" in e.message) for e in loaded.errors] == [(2, True)]
    assert [e.line for e in loaded.documents[0].blocks] == [1]


@pytest.mark.parametrize("item, fragment", [
    ({"question": 7, "answer": "Rarely."}, "'question' is missing"),
    ({"answer": "Rarely."}, "'question' is missing"),
    ({"question": "Does it hurt?", "answer": ["Rarely."]}, "'answer' is missing"),
    ({"question": "Does it hurt?", "answer": None}, "'answer' is missing"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "alternates": "Is it painful?"},
     "'alternates' must be a list of strings"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "alternates": ["ok", 3]},
     "'alternates' must be a list of strings"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "source": "https://example.org"},
     "'source' must be an object"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "source": {"title": 12}},
     "source title must be text"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "source": {"url": ["https://example.org"]}},
     "source url must be text"),
    ({"question": "Does it hurt?", "answer": "Rarely.", "source": {"url": "ftp://example.org"}},
     "source url must start with http"),
    (["Does it hurt?", "Rarely."], "must be a JSON object"),
    ("just a string", "must be a JSON object"),
])
def test_jsonl_entry_of_wrong_type_is_reported_with_its_line(item, fragment):
    good = {"question": "Is it safe?", "answer": "Yes."}
    entries, errors = read_faq_jsonl(jsonl(good, json.dumps(item), good), "faq.jsonl")
    assert [e.line for e in entries] == [1, 3]
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line) == ("faq.jsonl", 2)
    assert fragment in errors[0].message


def test_line_separator_inside_a_json_string_does_not_split_the_entry():
    first = json.dumps({"question": "Does it hurt?", "answer": "A brief prick.\u2028Then warmth."},
                       ensure_ascii=False)
    text = jsonl(first, "{not json", {"question": "Is it safe?", "answer": "Yes."})
    entries, errors = read_faq_jsonl(text, "faq.jsonl")
    assert [(e.question, e.line) for e in entries] == [("Does it hurt?", 1), ("Is it safe?", 3)]
    assert [e.line for e in errors] == [2]


def test_faq_file_without_any_good_entry_gives_no_document(make_corpus):
    loaded = load_corpus(make_corpus({"faq.jsonl": jsonl("{", "[]")}))
    assert loaded.documents == []
    assert sorted(errors_by_line(loaded.errors)) == [1, 2]


def test_empty_faq_file_is_reported(make_corpus):
    loaded = load_corpus(make_corpus({"faq.jsonl": ""}))
    assert loaded.documents == []
    assert [(e.path, e.message) for e in loaded.errors] == [("faq.jsonl", "no FAQ entries found")]


ARTICLE = ("# Needles\n\nAcupuncture needles are very fine, and most patients feel only a brief "
           "prick followed by a dull warmth around the point while they stay in place.\n")


def test_bad_faq_file_does_not_stop_other_files_from_loading(make_corpus):
    corpus = make_corpus({
        "a-broken.jsonl": jsonl("{not json", {"question": "Missing answer?"}),
        "b-good.csv": GOOD_CSV,
        "c-article.md": ARTICLE,
    })
    loaded = load_corpus(corpus)
    assert sorted(d.doc_id for d in loaded.documents) == ["b-good", "c-article"]
    assert {(e.path, e.line) for e in loaded.errors} == {("a-broken.jsonl", 1), ("a-broken.jsonl", 2)}


def test_strict_loading_raises_corpus_error_naming_the_bad_file(make_corpus):
    corpus = make_corpus({"b-good.csv": GOOD_CSV,
                          "partly-bad.csv": HEADER + "Does it hurt?,Rarely.,,,\nNo answer?,,,,\n"})
    assert len(load_corpus(corpus).documents) == 2  # without strict, the good rows still load
    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus, strict=True)
    assert caught.value.errors == [LoadError("partly-bad.csv", 3, "'answer' is missing or empty")]
    assert "partly-bad.csv:3" in str(caught.value)


FAQ_AND_ARTICLE = {
    "faq.csv": HEADER + (
        'Is acupuncture safe during pregnancy?,"Tell the practitioner first: some points on the '
        'lower back and belly are avoided in the first months, and treatment is otherwise '
        'considered low risk.",Can I have needles while expecting a baby?|Is it okay when pregnant?,'
        "Pregnancy and acupuncture,https://example.org/pregnancy\n"
        "How long does a session last?,\"A typical session lasts thirty to forty minutes, including "
        'about twenty minutes of rest with the needles in place.",,,\n'),
    "article.md": (
        "---\ntitle: Needles and what to expect\nkind: article\n---\n"
        "# What the needles feel like\n\n" + ARTICLE.split("\n\n", 1)[1] + "\n"
        "Some patients who are expecting a first visit worry about the needles, but the sensation "
        "is usually much milder than an injection and fades quickly after the needles are removed.\n"),
}


def test_query_worded_like_an_alternate_finds_that_faq_entry_first(make_corpus):
    index = build_index(make_corpus(FAQ_AND_ARTICLE)).index
    query = "Can I have needles while expecting a baby?"
    [entry] = [p for p in index.passages_ if p.question == "Is acupuncture safe during pregnancy?"]
    # the answer shares no word with the query: only the question field can match it
    assert not {"needles", "expecting", "baby"} & set(entry.text.lower().split())
    assert index.search(query, 3)[0].passage.id == entry.id
    assert index.search("is it okay when pregnant", 3)[0].passage.id == entry.id


def test_faq_passage_carries_its_own_question_alternates_and_source(make_corpus):
    index = build_index(make_corpus(FAQ_AND_ARTICLE)).index
    faq = {p.question: p for p in index.passages_ if p.form == "faq"}
    pregnancy = faq["Is acupuncture safe during pregnancy?"]
    assert pregnancy.alternates == ("Can I have needles while expecting a baby?",
                                    "Is it okay when pregnant?")
    assert (pregnancy.source.title, pregnancy.source.url) == (
        "Pregnancy and acupuncture", "https://example.org/pregnancy")
    session = faq["How long does a session last?"]
    assert session.source.doc_id == "faq" and session.source.url is None
    assert session.text.startswith("A typical session lasts thirty to forty minutes")
