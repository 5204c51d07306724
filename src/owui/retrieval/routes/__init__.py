"""HTTP routes of the retrieval service."""
