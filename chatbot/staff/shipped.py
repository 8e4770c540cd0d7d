"""The documents shipped in the corpus folder, as staff see them: read-only, with their passages,
and each one can be hidden from the next builds (and shown again).

    shipped = ShippedDocuments(storage, corpus_dir, audit)
    shipped.list()                          # every shipped document, hidden or not
    shipped.set_hidden("documents/x.md", True, actor)   # audited; the next build leaves it out
    hidden_corpus_files(storage)            # what build_job passes to build_index

The files stay as shipped: hiding is a row in the database (every server and
every build sees it), so an update of the corpus folder keeps the choice.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select

from ..corpus import Document, LoadError, load_corpus
from ..corpus.loader import corpus_fingerprint
from ..passages import Passage, make_passages
from ..storage import Storage
from .audit import AuditLog
from .model import BULK, transaction, utc_now
from .roles import Permission, require
from .tables import HiddenCorpusFileRow


def hidden_corpus_files(storage: Storage) -> frozenset[str]:
    """The paths (relative to the corpus folder) of the files staff hid from the next builds."""
    with transaction(storage, "reading the hidden corpus files") as session:
        return frozenset(session.scalars(select(HiddenCorpusFileRow.path)))


@dataclass(frozen=True)
class ShippedDocument:
    """A document of the corpus folder; `path` is relative to it. `hidden_*` are None unless hidden."""
    path: str
    title: str
    publisher: str | None
    url: str | None
    kind: str
    hidden_by: str | None = None
    hidden_at: datetime | None = None

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class ShippedDocuments:
    """The corpus folder's documents (parsed once per content of the folder) and which are hidden."""

    def __init__(self, storage: Storage, corpus_dir: str | Path, audit: AuditLog):
        self.storage = storage
        self.corpus_dir = Path(corpus_dir)
        self.audit = audit
        self._parsed: tuple[str, list[Document], list[LoadError]] | None = None
        self._lock = threading.Lock()

    def documents(self) -> tuple[list[Document], list[LoadError]]:
        """The shipped documents and the problems of files that did not load (cached until the folder changes)."""
        fingerprint = corpus_fingerprint(self.corpus_dir)
        with self._lock:
            if self._parsed is None or self._parsed[0] != fingerprint:
                loaded = load_corpus(self.corpus_dir)
                self._parsed = (fingerprint, loaded.documents, loaded.errors)
            return self._parsed[1], self._parsed[2]

    def hidden(self) -> frozenset[str]:
        return hidden_corpus_files(self.storage)

    def list(self) -> list[ShippedDocument]:
        """Every shipped document, by path, with whether and by whom it is hidden."""
        with transaction(self.storage, "reading the hidden corpus files") as session:
            hidden = {row.path: (row.hidden_by, row.hidden_at)
                      for row in session.scalars(select(HiddenCorpusFileRow))}
        return [ShippedDocument(d.path, d.title, d.publisher, d.url, d.kind, *hidden.get(d.path, (None, None)))
                for d in sorted(self.documents()[0], key=lambda d: d.path)]

    def get(self, path: str) -> tuple[ShippedDocument, list[Passage]] | None:
        """The shipped document at `path` with the passages it yields, or None."""
        document = next((d for d in self.documents()[0] if d.path == path), None)
        if document is None:
            return None
        listed = next(d for d in self.list() if d.path == path)
        passages, _ = make_passages([document])
        return listed, passages

    def set_hidden(self, path: str, hidden: bool, actor) -> bool:
        """Hide `path` from the next builds, or show it again; audited. False when nothing changed
        or no shipped document has that path. Forbidden unless `actor` may edit the knowledge."""
        name = require(actor, Permission.EDIT, "hide or show a shipped document").name
        if not any(d.path == path for d in self.documents()[0]):
            return False
        with transaction(self.storage, "hiding a corpus file", write=True) as session:
            row = session.get(HiddenCorpusFileRow, path)
            if hidden and row is None:
                session.add(HiddenCorpusFileRow(path=path, hidden_at=utc_now(), hidden_by=name))
            elif not hidden and row is not None:
                session.execute(delete(HiddenCorpusFileRow).where(HiddenCorpusFileRow.path == path),
                                execution_options=BULK)
            else:
                return False
        self.audit.record(name, "corpus_file_hide" if hidden else "corpus_file_show", {"path": path})
        return True
