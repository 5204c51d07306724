"""Reads and writes of the chat service, one module per kind of row."""
