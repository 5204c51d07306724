"""Providers by kind: each speaks one protocol (see base.py)."""

from __future__ import annotations

from owui.inference.providers.base import Provider
from owui.inference.providers.ollama import OllamaProvider
from owui.inference.providers.openai import OpenAIProvider

PROVIDERS: dict[str, Provider] = {"ollama": OllamaProvider(), "openai": OpenAIProvider()}
KINDS = tuple(PROVIDERS)
