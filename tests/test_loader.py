"""Reading a corpus folder: headers, encodings, which files count as knowledge, HTML extraction."""
from __future__ import annotations

import pytest

from chatbot.corpus import CorpusError, Heading, LoadError, Paragraph, knowledge_files, load_corpus
from chatbot.passages import make_passages

BODY = ("# Acupuncture and back pain\n\n"
        "Acupuncture places very thin needles at chosen points along the lower back, and many "
        "patients find that tight muscles relax within a few weekly sessions.\n")


def header(*lines: str) -> str:
    return "---\n" + "".join(f"{line}\n" for line in lines) + "---\n" + BODY


def test_header_sets_title_publisher_url_and_kind(make_corpus):
    text = header("title: Needles and Back Pain", "publisher: Example Clinic",
                  "url: https://example.org/needles", "kind: qa_thread")
    [document] = load_corpus(make_corpus({"needles.md": text})).documents
    assert (document.doc_id, document.title, document.publisher, document.url, document.kind) == (
        "needles", "Needles and Back Pain", "Example Clinic", "https://example.org/needles", "qa_thread")
    assert document.path == "needles.md"


def test_header_values_may_be_quoted_commented_or_empty(make_corpus):
    text = header('title: "Back Pain: A Quoted Title"', "# a comment line", "", "publisher: null",
                  "url:", "kind: article")
    [document] = load_corpus(make_corpus({"doc.txt": text})).documents
    assert (document.title, document.publisher, document.url, document.kind) == (
        "Back Pain: A Quoted Title", None, None, "article")


def test_document_without_header_takes_its_title_from_the_first_heading(make_corpus):
    [document] = load_corpus(make_corpus({"notes/back.md": BODY})).documents
    assert (document.doc_id, document.title, document.kind, document.url) == (
        "notes/back", "Acupuncture and back pain", "article", None)
    assert document.blocks[0] == Heading("Acupuncture and back pain", 1)
    assert any(isinstance(b, Paragraph) and "thin needles" in b.text for b in document.blocks)


def test_header_in_a_file_with_bom_and_windows_line_endings_is_read(make_corpus):
    text = header("title: Windows Title", "kind: article").replace("\n", "\r\n")
    [document] = load_corpus(make_corpus({"doc.txt": b"\xef\xbb\xbf" + text.encode()})).documents
    assert document.title == "Windows Title"


@pytest.mark.parametrize("text, line, fragment", [
    (header("title: Fine", "author: Someone"), 3, "unknown header key 'author'"),
    (header("url: example.org/page"), 2, "url must start with http"),
    (header("title: Fine", "publisher: Fine", "kind: blog"), 4, "unknown kind 'blog'"),
    (header("just some words"), 2, "not 'key: value'"),
    (header(": no key"), 2, "not 'key: value'"),
    ("---\ntitle: Never closed\nkind: article\n", 1, "never closed"),
])
def test_malformed_header_is_reported_with_its_line(make_corpus, text, line, fragment):
    loaded = load_corpus(make_corpus({"doc.md": text}))
    assert loaded.documents == []
    [error] = loaded.errors
    assert (error.path, error.line) == ("doc.md", line)
    assert fragment in error.message
    assert str(error).startswith(f"doc.md:{line}: ")


def test_file_that_is_not_utf8_is_reported_by_name(make_corpus):
    latin1 = "Caf\u00e9 talk: acupuncture eases back pain for many patients.\n".encode("latin-1")
    loaded = load_corpus(make_corpus({"good.md": BODY, "sub/latin1.txt": latin1}))
    assert [d.doc_id for d in loaded.documents] == ["good"]
    [error] = loaded.errors
    assert (error.path, error.line) == ("sub/latin1.txt", 0)
    assert "UTF-8" in error.message
    assert str(error).startswith("sub/latin1.txt: ")


def test_unsupported_extension_is_skipped_and_reported(make_corpus):
    loaded = load_corpus(make_corpus({"good.md": BODY, "scan.pdf": b"%PDF-1.4 binary",
                                      "photos/spine.png": b"\x89PNG\r\n", "notes.docx": b"PK\x03\x04"}))
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert sorted(loaded.skipped) == ["notes.docx", "photos/spine.png", "scan.pdf"]
    assert loaded.errors == []


def test_config_files_hidden_files_and_underscore_folders_are_not_knowledge(make_corpus):
    corpus = make_corpus({
        "good.md": BODY,
        "README.md": "# How to edit this folder\n\nZanzibar instructions for staff who edit files.\n",
        "synonyms.txt": "pins => needles\n",
        "documents/Readme.MD": "# Nested readme\n\nZanzibar notes about the documents folder.\n",
        ".draft.md": BODY.replace("needles", "zanzibar"),
        "_archive/old.md": BODY.replace("needles", "zanzibar"),
    })
    assert [p.relative_to(corpus).as_posix() for p in knowledge_files(corpus)] == ["good.md"]
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert (loaded.errors, loaded.skipped) == ([], [])
    passages, _ = make_passages(loaded.documents)
    assert not any("zanzibar" in p.text.lower() for p in passages)


def test_knowledge_files_come_in_a_stable_order(make_corpus):
    corpus = make_corpus({"b.md": BODY, "a/z.md": BODY, "a.md": BODY, "c.csv": "question,answer\n"})
    first = knowledge_files(corpus)
    assert first == sorted(first)
    assert knowledge_files(corpus) == first


def test_empty_document_is_reported(make_corpus):
    loaded = load_corpus(make_corpus({"empty.md": "\n\n", "header-only.md": "---\ntitle: X\n---\n"}))
    assert loaded.documents == []
    assert sorted((e.path, e.line) for e in loaded.errors) == [("empty.md", 0), ("header-only.md", 0)]


def test_missing_corpus_folder_raises_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "missing")


def test_strict_loading_raises_for_a_malformed_header(make_corpus):
    corpus = make_corpus({"good.md": BODY, "bad.md": header("kind: blog")})
    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus, strict=True)
    assert [(e.path, e.line) for e in caught.value.errors] == [("bad.md", 2)]
    assert isinstance(caught.value.errors[0], LoadError)


ARTICLE_PARAGRAPHS = (
    "Acupuncture places very thin needles at chosen points along the lower back and legs, which "
    "many patients find relaxes tight muscles within a few sessions.",
    "Researchers think the needles prompt the nervous system to release endorphins, the body's "
    "own pain-relieving chemicals, and that this explains part of the relief patients describe.",
    "Most people feel little more than a dull ache or tingling when the needles go in, and side "
    "effects such as bruising are usually minor and short-lived.",
)
NAV_WORDS = ("Zebrafinch", "Xylophone", "Quokka", "Wombat", "Narwhal")

PAGE = f"""<!DOCTYPE html>
<html><head><title>Acupuncture and Back Pain | Example Clinic</title>
<meta property="og:url" content="https://example.org/back-pain"></head>
<body>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/team">Zebrafinch Team</a></li>
  <li><a href="/services">Xylophone Services</a></li><li><a href="/contact">Quokka Office</a></li>
</ul></nav></header>
<main><article>
  <h1>How acupuncture eases lower back pain</h1>
  {"".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)}
</article></main>
<footer><ul><li><a href="/jobs">Wombat Careers</a></li><li><a href="/press">Narwhal Press</a></li>
  <li><a href="/privacy">Privacy</a></li></ul></footer>
</body></html>
"""


def test_html_page_keeps_the_article_and_drops_navigation(make_corpus):
    loaded = load_corpus(make_corpus({"pages/back-pain.html": PAGE}))
    assert loaded.errors == []
    [document] = loaded.documents
    assert document.doc_id == "pages/back-pain"
    assert document.url == "https://example.org/back-pain"
    passages, _ = make_passages(loaded.documents)
    text = " ".join(p.text for p in passages)
    for paragraph in ARTICLE_PARAGRAPHS:
        assert paragraph in text
    for word in NAV_WORDS:
        assert word not in text
        assert all(word not in (p.section or "") for p in passages)


def test_html_page_without_readable_content_is_reported(make_corpus):
    page = "<html><head><title>Loading</title></head><body><script>var x = 1;</script></body></html>"
    loaded = load_corpus(make_corpus({"empty.html": page, "good.md": BODY}))
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert [(e.path, e.line) for e in loaded.errors] == [("empty.html", 0)]


def test_two_files_that_differ_only_in_extension_are_reported_not_merged(make_corpus):
    from chatbot.corpus import load_corpus
    corpus = make_corpus({"faq.csv": "question,answer\nDoes it hurt?,Rarely.\n",
                          "faq.jsonl": '{"question": "Is it safe?", "answer": "Yes, with a licensed practitioner."}\n'})
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["faq"]
    assert any(e.path == "faq.jsonl" and "same name" in e.message for e in loaded.errors)
