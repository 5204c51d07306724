"""The inference service (see DESIGN.md for what it owns)."""
