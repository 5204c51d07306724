"""The retrieval service's calls to other owui services, one module per service called."""
