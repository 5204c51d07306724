"""HTTPS at the gateway against plain HTTP: requests/s and the latency it adds (issue 20).

One chat service behind gateways that differ only in TLS, measured in turns within each round
(the order turns each round), medians over rounds:

    http          the gateway over plain HTTP, chat over plain HTTP
    https         the gateway over HTTPS (owui certs' P-256 certificate), chat over plain HTTP
    https+mtls    the gateway over HTTPS, and HTTPS with client certificates to a chat service
                  that requires them (OWUI_TLS_REQUIRE_CLIENT_CERT): the cost inside too

wrk speaks TLS itself (it does not verify the certificate); its connections stay open, so the
keep-alive rows are the cost per request of encryption, and the `Connection: close` row the
cost of a handshake per request (a client that does not reuse its connection): there read
requests/s, since wrk's latency starts once the connection is made, after the handshake.
The probe is an authenticated GET that chat answers with its 404, as in bench/gateway.py.

    python bench/tls.py [--duration 5] [--warmup 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import (
    _WRK_LUA,
    _WRK_MARK,
    HOST,
    PROBE,
    Proc,
    Processes,
    WrkResult,
    _wrk_once,
    bench_env,
    http_get,
    lifted_limits,
    load_average,
    median_result,
    mint_token,
    progress,
    require_wrk,
    stop_on_sigterm,
)
from owui.cli.certs import CertSet, make_set

VARIANTS = ("http", "https", "https+mtls")
# (label, connections, close each connection after one request)
LOADS = (("c=1 keep-alive", 1, False), ("c=16 keep-alive", 16, False),
         ("c=1 new connection per request", 1, True))


def scheme_url(proc: Proc, tls: bool) -> str:
    return f"{'https' if tls else 'http'}://{HOST}:{proc.port}"


def wait_ready(proc: Proc, tls: bool, certs: CertSet, timeout: float = 90.0) -> None:
    """Ready over its own scheme; for TLS, with our CA and a client certificate."""
    if not tls:
        proc.wait_ready(timeout=timeout)
        return
    import time

    import httpx

    context = ssl.create_default_context(cafile=str(certs.ca))
    context.load_cert_chain(str(certs.cert("gateway")), str(certs.key("gateway")))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
        try:
            if httpx.get(scheme_url(proc, True) + "/readyz", verify=context,
                         timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{proc.name} not ready:\n{proc.log_tail()}")


def start(procs: Processes, tmp: Path) -> tuple[dict[str, str], str, CertSet]:
    certs = CertSet(tmp / "tls")
    make_set(certs)
    env = bench_env(tmp / "data")
    common = {**lifted_limits(), "OWUI_ACCESS_LOG": "false",
              "OWUI_METRICS": "false"}
    chat = procs.serve("chat", {**env, **common})
    everywhere_https = {f"{name.upper()}_SERVICE_URL": f"https://{HOST}:1"
                        for name in ("agent", "inference", "retrieval", "chat")}
    chat_tls = procs.serve("chat", {**env, **common, **certs.service_env("chat"),
                                    **everywhere_https, "OWUI_TLS_REQUIRE_CLIENT_CERT": "true",
                                    "OWUI_DATA_DIR": str(tmp / "data-tls")})
    wait_ready(chat, False, certs)
    wait_ready(chat_tls, True, certs)
    unused = f"http://{HOST}:1"
    backends = {"AGENT_SERVICE_URL": unused, "INFERENCE_SERVICE_URL": unused,
                "RETRIEVAL_SERVICE_URL": unused}
    gateway_tls = {"SSL_CERTFILE": str(certs.cert("gateway")),
                   "SSL_KEYFILE": str(certs.key("gateway"))}
    gateways = {
        "http": procs.serve("gateway", {**env, **common, **backends,
                                        "CHAT_SERVICE_URL": chat.url}),
        "https": procs.serve("gateway", {**env, **common, **backends, **gateway_tls,
                                         "CHAT_SERVICE_URL": chat.url}),
        "https+mtls": procs.serve("gateway", {
            **env, **common, **certs.service_env("gateway"),
            **{k: v.replace("http://", "https://") for k, v in backends.items()},
            "CHAT_SERVICE_URL": scheme_url(chat_tls, True)}),
    }
    for name, proc in gateways.items():
        wait_ready(proc, name != "http", certs)
    token = mint_token(env["JWT_SECRET_KEY"])
    urls = {name: scheme_url(proc, name != "http") for name, proc in gateways.items()}
    check(urls, token, certs)
    return urls, token, certs


def check(urls: dict[str, str], token: str, certs: CertSet) -> None:
    """Each gateway must answer the probe with chat's 404, not an error of its own."""
    import httpx

    status, _ = http_get(urls["http"] + PROBE, 10.0, token)
    answers = {"http": status}
    for name in ("https", "https+mtls"):
        answers[name] = httpx.get(urls[name] + PROBE, headers={"Authorization": f"Bearer {token}"},
                                  verify=ssl.create_default_context(cafile=str(certs.ca)),
                                  timeout=10).status_code
    if set(answers.values()) != {404}:
        raise RuntimeError(f"the probe should be chat's 404 through every gateway: {answers}")


def wrk(url: str, token: str, connections: int, close: bool, duration: int,
        warmup: int, directory: Path) -> WrkResult:
    script = directory / ("close.lua" if close else "keep.lua")
    text = _WRK_LUA % {"method": "GET", "token": token, "mark": _WRK_MARK}
    if close:
        text = 'wrk.headers["Connection"] = "close"\n' + text
    script.write_text(text)
    threads = max(1, min(2, connections // 16))
    if warmup:
        _wrk_once(script, url, threads, connections, warmup)
    return _wrk_once(script, url, threads, connections, duration)


def measure(urls: dict[str, str], token: str, args: argparse.Namespace,
            directory: Path) -> dict[tuple[str, str], WrkResult]:
    results: dict[tuple[str, str], list[WrkResult]] = {}
    for index in range(args.rounds):
        order = VARIANTS[index % 3:] + VARIANTS[:index % 3]
        for label, connections, close in LOADS:
            for name in order:
                progress(f"round {index + 1}/{args.rounds}: {name}, {label}")
                result = wrk(urls[name] + PROBE, token, connections, close, args.duration,
                             args.warmup, directory)
                results.setdefault((label, name), []).append(result)
    return {key: median_result(values) for key, values in results.items()}


def report(results: dict[tuple[str, str], WrkResult], args: argparse.Namespace,
           load: float) -> None:
    table = Table(title=f"owui gateway over HTTPS against HTTP: {os.cpu_count()} CPUs, load "
                        f"{load:.2f} before start, {os.getloadavg()[0]:.2f} at the end; "
                        f"{args.warmup} s warm-up + {args.duration} s per run, {args.rounds} "
                        "rounds (medians)", title_justify="left")
    # wrk counts chat's 404 as a bad status: only socket errors are errors here.
    for column in ("load", "variant", "requests/s", "p50", "p99", "p50 added vs http",
                   "socket errors"):
        table.add_column(column, no_wrap=True)
    for label, _, _ in LOADS:
        base = results[label, "http"]
        for name in VARIANTS:
            result = results[label, name]
            added = "" if name == "http" else f"{(result.p50_ms - base.p50_ms) * 1000:+.0f} µs"
            table.add_row(label, name, f"{result.rps:,.0f}", f"{result.p50_ms:.2f} ms",
                          f"{result.p99_ms:.2f} ms", added, str(result.socket_errors))
    Console(width=max(120, Console().width)).print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_wrk()
    stop_on_sigterm()
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="owui-bench-tls-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        progress("starting two chat services (http, https with client certificates) and "
                 "three gateways")
        urls, token, _ = start(procs, Path(tmp))
        results = measure(urls, token, args, Path(tmp))
    report(results, args, load)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        progress("interrupted; every process started here has been stopped")
        raise SystemExit(130) from None
