"""Deployment manifests built as plain dicts from a profile: Kubernetes and Docker Compose."""
