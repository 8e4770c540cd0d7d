"""Index stage: passages -> searchable, saved, versioned index."""
from .passage_index import Hit, PassageIndex

__all__ = ["Hit", "PassageIndex"]
