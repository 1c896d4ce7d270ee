"""Passes: the base class, its config and the search-space marker."""

from olive_core.passes.base import Pass, PassConfig, PassContext, PassRecords
from olive_core.passes.searchable import Searchable, SearchDimension, search_space

__all__ = ["Pass", "PassConfig", "PassContext", "PassRecords", "Searchable", "SearchDimension", "search_space"]
