"""The inference service's calls to other services: the agent service (the action and filter
functions the model list shows on each model). Nothing else in inference calls another
service."""
