"""A provider that hangs: calls to its models end with 504 once the configured read timeout
has passed (whether it sends nothing at all, or stream headers and then nothing), while its
other models and other providers keep answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.support.procs import Proc, start_fake, start_service

READ_TIMEOUT = 4.0
HUNG_CALLS = 6  # of each kind, all at once
CALLS_MEANWHILE = 10


@pytest.fixture
def gateway(tmp_path: Path, jwt_secret: str) -> Iterator[str]:
    log_dir, started = tmp_path / "logs", list[Proc]()
    try:
        stuck = start_fake("openai", "openai-stuck", {
            "FAKE_MODELS": "gpt-fake;gpt-fake-hang;gpt-fake-stall"}, log_dir)
        healthy = start_fake("openai", "openai-healthy", {"FAKE_MODELS": "other-fake"}, log_dir)
        started += [stuck, healthy]
        base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text"}
        started.append(start_service("inference", {
            **base, "OWUI_DATA_DIR": str(tmp_path / "inference"), "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URLS": f"{stuck.url}/v1;{healthy.url}/v1",
            "UPSTREAM_READ_TIMEOUT": str(READ_TIMEOUT)}, log_dir))
        started.append(start_service("gateway", {
            **base, "OWUI_DATA_DIR": str(tmp_path / "gateway"),
            "INFERENCE_SERVICE_URL": started[-1].url, "RATE_LIMIT": "100000/minute"}, log_dir))
        yield started[-1].url
    finally:
        for proc in reversed(started):
            if proc.name == "openai-stuck":  # its hung handlers would hold up a graceful stop
                proc.process.kill()
            proc.stop()


async def timed_call(client: httpx.AsyncClient, model: str, stream: bool
                     ) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = await client.post("/api/v1/inference/chat/completions", json={
        "model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
    return response, time.monotonic() - began


async def exercise(gateway: str, headers: dict[str, str]) -> tuple[list, list, bool]:
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=120) as client:
        hung = [asyncio.create_task(timed_call(client, model, stream))
                for model, stream in (("gpt-fake-hang", False), ("gpt-fake-hang", True),
                                      ("gpt-fake-stall", True))
                for _ in range(HUNG_CALLS)]
        await asyncio.sleep(0.5)  # the hung calls are in flight, holding their connections
        meanwhile = [await timed_call(client, model, stream)
                     for _ in range(CALLS_MEANWHILE // 2)
                     for model, stream in (("gpt-fake", True), ("other-fake", False))]
        still_hung = not any(task.done() for task in hung)
        return [await task for task in hung], meanwhile, still_hung


def test_a_hanging_provider_times_out_with_504(gateway: str) -> None:
    headers = bearer(signup(gateway)["token"])
    hung, meanwhile, still_hung = asyncio.run(exercise(gateway, headers))

    for response, _ in meanwhile:
        assert response.status_code == 200, response.text
    assert still_hung, "the other calls waited until the hung ones had ended"
    for response, seconds in hung:
        assert response.status_code == 504, response.text
        assert "did not answer in time" in response.json()["detail"], response.text
        assert response.json()["error"]["code"] == 504
        assert READ_TIMEOUT <= seconds < READ_TIMEOUT + 30, seconds
