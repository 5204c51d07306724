"""The chat service's calls to other services, one module per service called."""
