"""Alembic revisions of the agent service (applied at start by owui.core.migrate)."""
