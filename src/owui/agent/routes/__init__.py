"""The agent service's routes, one module per area."""
