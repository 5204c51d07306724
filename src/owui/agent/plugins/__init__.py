"""User code: Open WebUI's tools and functions, loaded from their Python source."""
