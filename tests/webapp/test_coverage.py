"""How much of Open WebUI's API the conformance test's stack serves (tests/support/coverage.py):
the figure is printed, and may only go up (FLOOR is raised as operations are added)."""

from __future__ import annotations

import pytest

from tests.support.coverage import missing, reference_rows, summary
from tests.webapp.world import World

FLOOR = 415  # operations of the 446 in scope served (README); raise it when you serve more


def test_coverage_of_open_webuis_api(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    document = world.client.get("/openapi.json").json()
    with capsys.disabled():
        print("\n" + summary(document))
    served = len(reference_rows()) - len(missing(document))
    assert served >= FLOOR, f"{served} operations served, fewer than the {FLOOR} before"
