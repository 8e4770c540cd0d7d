"""Corpus stage: knowledge files -> cleaned documents made of blocks."""
from .loader import corpus_fingerprint, knowledge_files, load_corpus, parse_document
from .model import Block, CorpusError, CorpusLoad, Document, FaqEntry, Heading, ListBlock, LoadError, Paragraph, Table

__all__ = ["Block", "CorpusError", "CorpusLoad", "Document", "FaqEntry", "Heading", "ListBlock",
           "LoadError", "Paragraph", "Table", "corpus_fingerprint", "knowledge_files",
           "load_corpus", "parse_document"]
