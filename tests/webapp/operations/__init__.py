"""The operations of each area that the conformance test checks, one module per area (chats,
knowledge, models, ...), each with its own `OPERATIONS` list: areas are added without touching
tests/webapp/test_conformance.py, which runs them all against one prepared stack."""

from __future__ import annotations

import importlib
import pkgutil

from tests.support.conformance import Operation


def collected() -> list[Operation]:
    found: list[Operation] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        found += importlib.import_module(f"{__name__}.{module.name}").OPERATIONS
    return found
