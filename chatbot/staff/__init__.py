"""Staff workspace data: accounts, audit log, staff-written knowledge and index versions.

    accounts = StaffAccounts(storage)          # storage: the app's chatbot.storage.Storage
    user = accounts.authenticate(email, password)   # StaffUser, or None
    knowledge = KnowledgeStore(storage)
    knowledge.add_faq(question, answer, alternates, author=user.email)
    documents, errors = knowledge.as_documents()    # for an index build
    versions = VersionRegistry(storage)
    versions.start(version, user.email) ... versions.finish(...); versions.publish(version, user.email)
    AuditLog(storage).record(user.email, "publish", {"version": version})

Every call is one short transaction in the chat log's database (SQLite or
PostgreSQL, tables in chatbot/staff/tables.py). Database problems raise
chatbot.storage.StorageError; bad arguments ValueError.
"""
from .accounts import StaffAccounts
from .audit import AuditLog
from .knowledge import KnowledgeStore
from .model import AuditEntry, CheckQuestion, DocumentRecord, FaqRecord, Publication, StaffUser, VersionRecord
from .versions import VersionRegistry

__all__ = ["AuditEntry", "AuditLog", "CheckQuestion", "DocumentRecord", "FaqRecord", "KnowledgeStore",
           "Publication", "StaffAccounts", "StaffUser", "VersionRecord", "VersionRegistry"]
