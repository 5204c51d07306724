"""What a chat turn adds to the time to the first token of an answer.

    .venv/bin/python bench/turn.py [--turns 200] [--chunks 10000]

A full turn goes client -> gateway -> chat (stores the user's message and the pending answer,
reads the branch) -> agent (-> retrieval) -> inference -> the fake OpenAI provider
(tests/fakes/openai.py), and its first token back the same way. The bare call is a streamed
completion straight to the fake provider. Both are timed from the request to the first content
token, alternately (paired), p50 and p99, in ms; added = turn - bare.

1. Retrieval off: a plain turn. Target: at most 15 ms added.
2. Retrieval on: the same turn with a knowledge collection of 10,000 chunks attached, so the
   agent's retrieval step embeds the question and searches the collection (LanceDB, vector)
   before the model. Target: at most 60 ms added. The corpus is bench/retrieval.py's (same
   sentences, same cached vectors of the bundled all-MiniLM-L6-v2), written into the service's
   LanceDB before it starts.

The CPU time each service spends per turn is shown too (from /proc): on a shared machine it is
steadier than latency.

Each turn is a new root in one chat (the history stays one message, and the chat's title is set,
so no title task runs in the background). Every turn is read to its end before the next, so the
answer's final write is inside the loop, not piled up. Loopback only; every process started
here is stopped. The machine may be shared: the load average before the start is shown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from _common import (
    PYTHON,
    Processes,
    bench_env,
    cpu_seconds,
    free_port,
    lifted_limits,
    load_average,
    progress,
    stop_on_sigterm,
)
from agent import percentiles
from retrieval import corpus, corpus_vectors, load_elsewhere, wait_model

MODEL = "gpt-fake"
QUESTION = "Where does the router keep the buffer of the cluster?"


def first_token(client: httpx.Client, url: str, body: dict, token_line: bytes) -> float:
    """ms from the request to the first line holding a token; the stream is read to its end."""
    started = time.perf_counter()
    seen = None
    with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.read()!r}")
        for line in response.iter_lines():
            if seen is None and token_line in line.encode():
                seen = (time.perf_counter() - started) * 1000
    if seen is None:
        raise SystemExit(f"{url} streamed no token")
    return seen


def measure(client: httpx.Client, gateway: str, chat_id: str, provider: str, turns: int,
            extra: dict, pids: dict[str, int]) -> dict:
    turn_url = f"{gateway}/api/v1/chats/{chat_id}/completions"
    bare_url = f"{provider}/v1/chat/completions"
    turn_body = {"model": MODEL, "content": QUESTION, "parent_id": None, **extra}
    bare_body = {"model": MODEL, "stream": True,
                 "messages": [{"role": "user", "content": QUESTION}]}

    def one_turn() -> float:
        return first_token(client, turn_url, turn_body, b'"type":"token"')

    def one_bare() -> float:
        return first_token(client, bare_url, bare_body, b'word0')

    for _ in range(20):  # warm-up: connections, caches, the interpreter's paths
        one_turn()
        one_bare()
    whole, bare, cpu = [], [], dict.fromkeys(pids, 0.0)
    for _ in range(turns):
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        whole.append(one_turn())
        for name, pid in pids.items():
            cpu[name] += cpu_seconds(pid) - before[name]
        bare.append(one_bare())
    diffs = [w - b for w, b in zip(whole, bare, strict=True)]
    return {"turn": percentiles(whole), "bare": percentiles(bare),
            "paired": statistics.median(diffs),
            "cpu": {name: seconds / turns * 1000 for name, seconds in cpu.items()}}


def time_rag(client: httpx.Client, retrieval: str, knowledge: str, count: int
             ) -> tuple[float, float]:
    """The retrieval step alone: the agent's call, straight to the retrieval service."""
    body = {"messages": [{"role": "user", "content": QUESTION}],
            "collection_names": [knowledge]}
    samples = []
    for index in range(count + 10):
        started = time.perf_counter()
        client.post(f"{retrieval}/api/v1/retrieval/rag", json=body).raise_for_status()
        if index >= 10:
            samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def report(title: str, result: dict, target: float) -> None:
    turn_p50, turn_p99 = result["turn"]
    bare_p50, bare_p99 = result["bare"]
    print(f"\n{title}")
    print(f"  full turn, first token      p50 {turn_p50:7.2f} ms   p99 {turn_p99:7.2f} ms")
    print(f"  bare completion, first token p50 {bare_p50:6.2f} ms   p99 {bare_p99:7.2f} ms")
    print(f"  added (turn - bare)         p50 {turn_p50 - bare_p50:7.2f} ms   "
          f"p99 {turn_p99 - bare_p99:7.2f} ms   (paired p50 {result['paired']:.2f} ms)   "
          f"target <= {target:g} ms")
    print(f"  ratio turn / bare           p50 {turn_p50 / bare_p50:7.1f} x    "
          f"p99 {turn_p99 / bare_p99:7.1f} x")
    print("  CPU per turn (user + system, from /proc; moves much less with the machine's "
          "load than latency does):")
    print("    " + "   ".join(f"{name} {ms:.2f} ms" for name, ms in result["cpu"].items()))


def start_services(procs: Processes, env: dict[str, str], provider: str
                   ) -> tuple[dict[str, int], dict[str, str]]:
    """The five services on free ports, each told where the others are: (ports, their env)."""
    ports = {name: free_port() for name in ("inference", "agent", "retrieval", "chat",
                                            "gateway")}
    env = {**env, **{f"{n.upper()}_SERVICE_URL": f"http://127.0.0.1:{p}"
                     for n, p in ports.items() if n != "gateway"},
           "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{provider}/v1",
           "RAG_EMBEDDING_MODEL_PRELOAD": "true", **lifted_limits()}
    started = [procs.serve(name, env, port) for name, port in ports.items()]
    for proc in started:
        proc.wait_ready(timeout=120)
    return ports, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=10_000)
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"load average before start: {load_average():.2f}")
    texts = corpus(args.chunks)
    _vectors, how = corpus_vectors(texts)  # made once and cached, read again by the loader
    progress(f"{len(texts)} corpus vectors {how}")
    with tempfile.TemporaryDirectory(prefix="owui-bench-turn-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        env = {**bench_env(Path(tmp) / "data"), "OWUI_LOG_FORMAT": "text",
               "OWUI_ACCESS_LOG": "false", "OWUI_LOG_LEVEL": "WARNING"}
        port = free_port()
        fake = procs.start("openai-fake", [PYTHON, "-m", "uvicorn", "tests.fakes.openai:app",
                                           "--port", str(port), "--log-level", "warning"],
                           {"FAKE_MODELS": MODEL}, port)
        fake.wait_ready("/healthz")
        ports, env = start_services(procs, env, fake.url)
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        account = httpx.post(f"{gateway}/api/v1/auths/signup", timeout=30, json={
            "name": "Bench", "email": "bench@bench.test", "password": "bench-password"}).json()
        headers = {"Authorization": f"Bearer {account['token']}"}
        with httpx.Client(headers=headers, timeout=120) as client:
            knowledge = client.post(f"{gateway}/api/v1/knowledge/create", json={
                "name": "bench", "description": ""}).json()["id"]
            retrieval = next(p for p in procs.started if p.name == "retrieval")
            retrieval.stop()
            progress(f"writing {len(texts)} chunks into LanceDB and building its indexes")
            load_elsewhere({"VECTOR_DB": "lancedb"}, Path(env["OWUI_DATA_DIR"]), knowledge,
                           len(texts), len(texts))
            retrieval = procs.serve("retrieval", env, ports["retrieval"])
            retrieval.wait_ready(timeout=120)
            with httpx.Client(base_url=retrieval.url, headers=headers, timeout=60) as direct:
                wait_model(direct)
            chat_id = client.post(f"{gateway}/api/v1/chats/new",
                                  json={"chat": {"title": "bench"}}).json()["id"]
            pids = {p.name: p.popen.pid for p in procs.started
                    if p.name in ("gateway", "chat", "agent", "retrieval", "inference")
                    and p.popen.poll() is None}
            progress(f"{args.turns} turns, retrieval off")
            off = measure(client, gateway, chat_id, fake.url, args.turns, {}, pids)
            progress(f"{args.turns} turns, retrieval on ({len(texts)} chunks)")
            on = measure(client, gateway, chat_id, fake.url, args.turns,
                         {"collection_names": [knowledge]}, pids)
            rag = time_rag(client, retrieval.url, knowledge, args.turns)
    report(f"Retrieval off ({args.turns} turns, paired with bare calls)", off, 15)
    report(f"Retrieval on: a {len(texts)}-chunk collection attached ({args.turns} turns)", on,
           60)
    print(f"  of which the retrieval step alone (POST /api/v1/retrieval/rag, direct)   "
          f"p50 {rag[0]:7.2f} ms   p99 {rag[1]:7.2f} ms")


if __name__ == "__main__":
    main()
