"""Gateways of their own, serving the small stand-in build (tests/webapp/fake_build.py); the
services behind them are not started (their URLs lead nowhere) unless a test names one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from owui.core.services import SERVICES
from tests.support.procs import Proc, closed_port, start_service
from tests.webapp.fake_build import write_build
from tests.webapp.world import World, prepared_world


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    return write_build(tmp_path / "build")


@pytest.fixture
def start_gateway(tmp_path: Path, jwt_secret: str) -> Iterator[Callable[..., Proc]]:
    started: list[Proc] = []

    def start(**env: str) -> Proc:
        base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text",
                "OWUI_DATA_DIR": str(tmp_path / f"gw-{uuid.uuid4().hex[:8]}"),
                "RATE_LIMIT": "100000/minute", "SIGNIN_RATE_LIMIT": "100000/minute",
                **{s.url_variable: f"http://127.0.0.1:{closed_port()}"
                   for s in SERVICES if s.url_variable}}
        proc = start_service("gateway", {**base, **env}, tmp_path / "logs")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def app_gateway(start_gateway: Callable[..., Proc], build_dir: Path) -> Proc:
    """A gateway (no account yet) with the build in FRONTEND_BUILD_DIR/STATIC_DIR."""
    return start_gateway(FRONTEND_BUILD_DIR=str(build_dir / "frontend"),
                         STATIC_DIR=str(build_dir / "static"))


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[World]:
    """The conformance test's stack (tests/webapp/world.py), shared by the modules that read it."""
    with prepared_world(tmp_path_factory, jwt_secret) as prepared:
        yield prepared
