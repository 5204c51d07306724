"""HTTP routes of the chat service, one module per area (Open WebUI's paths and shapes)."""
