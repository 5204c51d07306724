"""Wrong observability settings stop a service at start, with a message naming the variable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers_cli import clean_env, run_owui
from tests.support.procs import free_port

CASES = {
    "an unknown sampler": ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER",
                           "unknown sampler"),
    "a ratio past 1": ({"OTEL_TRACES_SAMPLER": "traceidratio",
                        "OTEL_TRACES_SAMPLER_ARG": "10"}, "OTEL_TRACES_SAMPLER_ARG", "0 to 1"),
    "gRPC export": ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "http/protobuf"),
    "an endpoint that is no URL": ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
                                   "OTEL_EXPORTER_OTLP_ENDPOINT", "http"),
    "a metrics port out of range": ({"OWUI_METRICS_PORT": "70000"}, "OWUI_METRICS_PORT",
                                    "65535"),
    "a metrics port that is no number": ({"OWUI_METRICS_PORT": "metrics"},
                                         "OWUI_METRICS_PORT", "integer"),
    "a missing multiprocess directory": ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent/prom"},
                                         "PROMETHEUS_MULTIPROC_DIR", "writable directory"),
    "an unknown log level": ({"OWUI_LOG_LEVEL_CHAT": "loud"}, "OWUI_LOG_LEVEL_CHAT", "DEBUG"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_wrong_setting_is_named_at_start(case: str, tmp_path: Path) -> None:
    env, variable, hint = CASES[case]
    result = run_owui("serve", "inference", "--port", str(free_port()),
                      env=clean_env(OWUI_DATA_DIR=str(tmp_path), **env))
    assert result.returncode == 1, result.stdout + result.stderr
    assert variable in result.stderr and hint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_metrics_port_already_taken_is_named_at_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_owui("serve", "gateway", "--port", str(free_port()),
                          env=clean_env(OWUI_DATA_DIR=str(tmp_path),
                                        OWUI_METRICS_PORT=str(port)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"OWUI_METRICS_PORT: cannot serve metrics on 127.0.0.1:{port}" in result.stderr
    assert "already in use" in result.stderr
