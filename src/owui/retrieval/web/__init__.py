"""Web search: a search engine's results, their pages fetched safely, indexed for one query."""
