"""Read a corpus folder into documents, reporting each bad file by name and line."""
from __future__ import annotations

import hashlib
from pathlib import Path

from .cleaning import clean_blocks, clean_text
from .faq import read_faq_csv, read_faq_jsonl
from .files import CONFIG_FILES
from .frontmatter import HeaderError, split_header
from .html import HtmlError, extract_html
from .model import CorpusError, CorpusLoad, Document, Heading, LoadError
from .plaintext import parse_text

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
HTML_SUFFIXES = (".html", ".htm")
FAQ_SUFFIXES = (".csv", ".jsonl")
KNOWLEDGE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + FAQ_SUFFIXES
MAX_FILE_BYTES = 5_000_000


def knowledge_files(corpus_dir: Path) -> list[Path]:
    """The knowledge files below `corpus_dir`, in a stable order."""
    return sorted(
        p for p in corpus_dir.rglob("*")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(corpus_dir).parts)
        and p.name.lower() not in CONFIG_FILES
    )


def corpus_fingerprint(corpus_dir: Path) -> str:
    """SHA-256 over the names and bytes of every corpus file (config included)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(corpus_dir).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(corpus_dir)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_corpus(corpus_dir: str | Path, strict: bool = False) -> CorpusLoad:
    """Load every knowledge file; a bad file is reported and skipped.

    With `strict`, any problem raises CorpusError instead.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    result = CorpusLoad()
    seen: dict[str, str] = {}  # doc_id -> file, so ids stay unique
    for path in knowledge_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        if path.suffix.lower() not in KNOWLEDGE_SUFFIXES:
            result.skipped.append(rel)
            continue
        document, errors = load_file(path, rel)
        result.errors.extend(errors)
        if document is not None and document.doc_id in seen:
            result.errors.append(LoadError(rel, 0, f"has the same name as {seen[document.doc_id]} "
                                                   "(only the extension differs); rename one of them"))
        elif document is not None:
            seen[document.doc_id] = rel
            result.documents.append(document)
    if strict and result.errors:
        raise CorpusError(result.errors)
    return result


def load_file(path: Path, rel: str) -> tuple[Document | None, list[LoadError]]:
    """One file as a document (or None) plus the problems found in it."""
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, [LoadError(rel, 0, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [LoadError(rel, 0, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    return parse_document(text, rel, path.suffix.lower())


def parse_document(text: str, rel: str, suffix: str) -> tuple[Document | None, list[LoadError]]:
    """Parse the text of one knowledge file named `rel` with extension `suffix`."""
    doc_id = rel.rsplit(".", 1)[0]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if suffix in FAQ_SUFFIXES:
        reader = read_faq_csv if suffix == ".csv" else read_faq_jsonl
        entries, errors = reader(text, rel)
        if not entries:
            return None, errors or [LoadError(rel, 0, "no FAQ entries found")]
        title = Path(doc_id).stem.replace("-", " ").replace("_", " ").capitalize()
        return Document(doc_id, title, tuple(entries), kind="faq", path=rel), errors
    if suffix in HTML_SUFFIXES:
        try:
            meta, body = extract_html(text)
        except HtmlError as exc:
            return None, [LoadError(rel, 0, str(exc))]
    else:
        try:
            meta, body, _ = split_header(text)
        except HeaderError as exc:
            return None, [LoadError(rel, exc.line, str(exc))]
    blocks = clean_blocks(parse_text(clean_text(body)))
    if not blocks:
        return None, [LoadError(rel, 0, "no readable text in the document")]
    title = meta.get("title") or _first_heading(blocks) or Path(doc_id).stem
    return Document(doc_id, title, tuple(blocks), publisher=meta.get("publisher"),
                    url=meta.get("url"), kind=meta.get("kind") or "article", path=rel), []


def _first_heading(blocks) -> str | None:
    return next((b.text for b in blocks if isinstance(b, Heading)), None)
