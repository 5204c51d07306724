"""The agent service's calls to other services: the inference service (model calls, a run's
workspace model), the retrieval service (searches, the retrieval step of a run) and the chat
service (an action's events). Nothing else in the agent calls another service."""
