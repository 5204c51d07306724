"""The agent service (see DESIGN.md for what it owns)."""
