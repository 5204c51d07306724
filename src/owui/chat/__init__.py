"""The chat service (see DESIGN.md for what it owns)."""
