"""The workspace's pages, one module per area; importing this package registers their routes."""
from . import audit, checks, dashboard, faq, faq_files, inbox, pages, settings, try_it, usage, versions  # noqa: F401
