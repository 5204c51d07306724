"""The agent service's calls to other services: the inference service (model calls) and the
retrieval service (searches, the retrieval step of a run). Nothing else in the agent calls
another service."""
