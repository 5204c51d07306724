"""What the agent service adds to a run, and how fast its code interpreter answers.

    .venv/bin/python bench/agent.py [--runs 200] [--executions 200] [--cold 20]

1. Run overhead: a run with one tool call (`calculator`) makes two model calls: the first
   answers with the tool call, the second with the text. Against the fake OpenAI server
   (tests/fakes/openai.py, its `agent` switch) behind the real inference service, the script
   times the whole run (POST /api/v1/agents/run, streamed, read to the end) and, alternating
   with it, the same two calls made bare to the inference service (the same bodies the agent
   sends, streamed, read to the end, one after the other). Overhead = run - both bare calls,
   p50 and p99 of each, in ms. Target: at most 5 ms p50. The agent service's CPU time per run
   (from /proc) is shown too: on a shared machine it moves much less than latency does.
2. Code execution latency of `1+1` (POST /api/v1/agents/code/execute): warm, in a session
   that already has its kernel (target: at most 20 ms p50), and cold, where each call starts a
   kernel in its sandbox (bubblewrap) and stops it after.

The agent service is called directly on its port (no gateway). Loopback only; every process
started here is stopped. The machine may be shared: the load average before the start is shown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from _common import (
    PYTHON,
    Processes,
    bench_env,
    cpu_seconds,
    free_port,
    load_average,
    mint_token,
    progress,
    stop_on_sigterm,
)

MODEL = "gpt-fake-agent"
PROMPT = 'call: calculator {"expression": "6 * 7"}'


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def read_stream(client: httpx.Client, url: str, body: dict) -> None:
    with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}: {response.read().decode()}")
        for _ in response.iter_bytes():
            pass


def bare_bodies(client: httpx.Client, agent: str) -> tuple[dict, dict]:
    """The two requests the agent sends to the inference service for one tool call."""
    tools = client.get(f"{agent}/api/v1/agents/tools").json()
    spec = next(t for t in tools if t["id"] == "calculator")["specs"][0]
    first = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True,
             "stream_options": {"include_usage": True},
             "tools": [{"type": "function", "function": spec}]}
    call = {"id": "call_bench", "type": "function",
            "function": {"name": "calculator", "arguments": '{"expression": "6 * 7"}'}}
    second = {**first, "messages": [
        *first["messages"], {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_bench", "content": "42"}]}
    return first, second


def bench_runs(client: httpx.Client, agent: str, inference: str, runs: int,
               agent_pid: int) -> None:
    run_url = f"{agent}/api/v1/agents/run"
    call_url = f"{inference}/api/v1/inference/chat/completions"
    run_body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}],
                "tool_ids": ["calculator"], "stream": True}
    first, second = bare_bodies(client, agent)
    for _ in range(20):  # warm-up: connections, caches, the JIT-less interpreter's paths
        read_stream(client, run_url, run_body)
        read_stream(client, call_url, first)
        read_stream(client, call_url, second)
    whole, bare, cpu = [], [], 0.0
    for _ in range(runs):
        before = cpu_seconds(agent_pid)
        whole.append(timed(lambda: read_stream(client, run_url, run_body)))
        cpu += cpu_seconds(agent_pid) - before
        bare.append(timed(lambda: read_stream(client, call_url, first))
                    + timed(lambda: read_stream(client, call_url, second)))
    run_p50, run_p99 = percentiles(whole)
    bare_p50, bare_p99 = percentiles(bare)
    diffs = [w - b for w, b in zip(whole, bare, strict=True)]
    print(f"\nRun with one tool call ({runs} runs, streamed, read to the end)")
    print(f"  whole run                    p50 {run_p50:7.2f} ms   p99 {run_p99:7.2f} ms")
    print(f"  the two bare model calls     p50 {bare_p50:7.2f} ms   p99 {bare_p99:7.2f} ms")
    print(f"  overhead (run - bare)        p50 {run_p50 - bare_p50:7.2f} ms   "
          f"(paired p50 {statistics.median(diffs):.2f} ms)   target <= 5 ms p50")
    print(f"  CPU of the agent service per run   {cpu / runs * 1000:.2f} ms "
          "(user + system, from /proc: hardly moved by the machine's load)")


def execute(client: httpx.Client, agent: str, session_id: str | None) -> dict:
    response = client.post(f"{agent}/api/v1/agents/code/execute",
                           json={"code": "1+1", "session_id": session_id})
    if response.status_code != 200 or response.json().get("result") != "2":
        sys.exit(f"code execution failed: {response.status_code} {response.text}")
    return response.json()


def bench_code(client: httpx.Client, agent: str, executions: int, cold: int) -> None:
    execute(client, agent, "bench")
    for _ in range(20):
        execute(client, agent, "bench")
    warm = [timed(lambda: execute(client, agent, "bench")) for _ in range(executions)]
    server = [execute(client, agent, "bench")["duration_ms"] for _ in range(executions)]
    cold_times = [timed(lambda: execute(client, agent, None)) for _ in range(cold)]
    warm_p50, warm_p99 = percentiles(warm)
    server_p50, _ = percentiles(server)
    cold_p50, cold_p99 = percentiles(cold_times)
    print("\nCode execution of 1+1 (HTTP round trip, direct to the agent service)")
    print(f"  warm session ({executions})          p50 {warm_p50:7.2f} ms   p99 {warm_p99:7.2f} ms"
          f"   (in the service: p50 {server_p50:.2f} ms)   target <= 20 ms p50")
    print(f"  cold: new sandboxed kernel ({cold})  p50 {cold_p50:7.2f} ms   "
          f"p99 {cold_p99:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--cold", type=int, default=20)
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"load average before start: {load_average():.2f}")
    with tempfile.TemporaryDirectory(prefix="owui-bench-agent-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        env = {**bench_env(Path(tmp)), "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false",
               "OWUI_LOG_LEVEL": "WARNING"}
        port = free_port()
        fake = procs.start("openai-fake", [PYTHON, "-m", "uvicorn", "tests.fakes.openai:app",
                                           "--port", str(port), "--log-level", "warning"],
                           {"FAKE_MODELS": MODEL}, port)
        fake.wait_ready("/healthz")
        inference = procs.serve("inference", {**env, "ENABLE_OLLAMA_API": "false",
                                              "OPENAI_API_BASE_URLS": f"{fake.url}/v1"})
        agent = procs.serve("agent", {**env, "INFERENCE_SERVICE_URL": inference.url})
        inference.wait_ready()
        agent.wait_ready()
        progress("services ready")
        token = mint_token(env["JWT_SECRET_KEY"])
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            bench_runs(client, agent.url, inference.url, args.runs, agent.popen.pid)
            bench_code(client, agent.url, args.executions, args.cold)


if __name__ == "__main__":
    main()
