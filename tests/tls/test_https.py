"""Real TLS handshakes: HTTPS at the gateway, mutual TLS between the services behind it (a chat
turn with a knowledge collection crosses gateway -> chat -> agent -> inference and retrieval ->
inference), and what is refused: a client without a certificate, a certificate of another CA."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import bearer
from tests.support.permissions import grant_by_default
from tests.tls.conftest import TlsStack, context, start_tls_service, wait_ready

PASSWORD = "correct-horse"


def _signup(base: str, verify: object, email: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auths/signup", verify=verify, timeout=30,
                      json={"name": "T", "email": email, "password": PASSWORD})


@pytest.fixture(scope="module", autouse=True)
def admin_first(tls_stack: TlsStack) -> None:
    """The first account (the admin) lets users make collections (the turn test's user does:
    Open WebUI's defaults withhold `workspace.knowledge`)."""
    token = _signup(tls_stack.url("gateway"), tls_stack.trusted(), "admin@tls.test"
                    ).json()["token"]
    with httpx.Client(base_url=tls_stack.url("gateway"), verify=tls_stack.trusted(),
                      headers=bearer(token), timeout=60) as admin:
        grant_by_default(admin, "workspace.knowledge")


def test_the_gateway_serves_https_and_its_cookie_is_secure(tls_stack: TlsStack) -> None:
    # The public door asks no client certificate: a browser has none.
    response = _signup(tls_stack.url("gateway"), tls_stack.trusted(), "cookie@tls.test")
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "token=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    with pytest.raises(httpx.TransportError):  # plain HTTP on the TLS port
        httpx.get(tls_stack.url("gateway").replace("https", "http") + "/healthz", timeout=5)


def test_a_chat_turn_crosses_every_service_over_mutual_tls(tls_stack: TlsStack) -> None:
    token = _signup(tls_stack.url("gateway"), tls_stack.trusted(), "turn@tls.test").json()["token"]
    with httpx.Client(base_url=tls_stack.url("gateway"), verify=tls_stack.trusted(),
                      headers=bearer(token), timeout=60) as client:
        knowledge = client.post("/api/v1/knowledge/create",
                                json={"name": "Over TLS", "description": "tls"}).json()
        text = b"# Quokka\n\nThe quokka lives on Rottnest Island.\n"
        file = client.post("/api/v1/files/", files={"file": ("quokka.md", text)})
        assert file.status_code == 200, file.text
        added = client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                            json={"file_id": file.json()["id"]})
        assert added.status_code == 200, added.text  # retrieval -> inference (embeddings)
        chat_id = client.post("/api/v1/chats/new", json={"chat": {}}).json()["id"]
        with client.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                           json={"model": "gpt-fake", "content": "Where does it live?",
                                 "collection_names": [knowledge["id"]],
                                 "params": {"max_tokens": 3}}) as response:
            assert response.status_code == 200
            body = response.read().decode()
        events = [json.loads(line[6:]) for line in body.splitlines()
                  if line.startswith("data: {")]
        assert events and not any("error" in event for event in events), body[-2000:]
        stored = client.get(f"/api/v1/chats/{chat_id}").json()
        assert "assistant" in json.dumps(stored)


def test_the_socket_passes_through_the_gateway_over_tls(tls_stack: TlsStack) -> None:
    token = _signup(tls_stack.url("gateway"), tls_stack.trusted(), "ws@tls.test").json()["token"]
    port = tls_stack.services["gateway"].proc.port
    with connect(f"wss://127.0.0.1:{port}/ws/socket.io/?EIO=4&transport=websocket",
                 additional_headers=bearer(token), ssl=tls_stack.trusted(), open_timeout=10,
                 close_timeout=2) as socket:
        assert str(socket.recv(timeout=10)).startswith("0{")  # engine.io's open packet


def test_a_backend_refuses_a_client_without_our_certificate(tls_stack: TlsStack) -> None:
    chat = tls_stack.url("chat")
    assert httpx.get(f"{chat}/healthz", verify=tls_stack.trusted("agent")).status_code == 200
    with pytest.raises(httpx.TransportError):  # no certificate at all
        httpx.get(f"{chat}/healthz", verify=tls_stack.trusted(), timeout=5)
    other = tls_stack.other
    with pytest.raises(httpx.TransportError):  # a certificate of another CA
        httpx.get(f"{chat}/healthz", timeout=5, verify=context(
            tls_stack.certs.ca, other.cert("agent"), other.key("agent")))


def test_a_server_certificate_of_another_ca_is_refused(tls_stack: TlsStack,
                                                       tmp_path) -> None:
    # A client trusting only our CA refuses a gateway whose certificate another CA signed...
    other = tls_stack.other
    stray = start_tls_service("gateway", {
        **tls_stack.env, **other.service_env("gateway"), "OWUI_DATA_DIR": str(tmp_path)},
        tmp_path / "logs")
    try:
        wait_ready(stray, context(other.ca))
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{stray.url}/healthz", verify=tls_stack.trusted(), timeout=5)
        # ... and that gateway, trusting only the other CA, refuses our chat service: a 502
        # that names the service and the handshake, not an outage.
        token = _signup(stray.url, context(other.ca), "stray@tls.test").json()["token"]
        response = httpx.get(f"{stray.url}/api/v1/chats/", headers=bearer(token),
                             verify=context(other.ca), timeout=30)
        assert response.status_code == 502, response.text
        assert "chat" in response.json()["detail"] and "TLS" in response.json()["detail"]
        assert "retry-after" not in response.headers
    finally:
        stray.proc.stop()


def test_the_rendered_health_check_passes_mutual_tls(tls_stack: TlsStack) -> None:
    # The command Compose runs in the chat container, with the mount and port of this stack.
    from owui.cli.manifests.tls import MOUNT, READY_CHECK
    from owui.core.services import BY_NAME

    check = READY_CHECK.format(ca=f"{MOUNT}/ca.pem", cert=f"{MOUNT}/chat.pem",
                               key=f"{MOUNT}/chat-key.pem", port=BY_NAME["chat"].port)
    check = check.replace(MOUNT, str(tls_stack.certs.folder)).replace(
        f":{BY_NAME['chat'].port}/", f":{tls_stack.services['chat'].proc.port}/")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_merged_openapi_document_is_fetched_over_mutual_tls(tls_stack: TlsStack) -> None:
    document = httpx.get(f"{tls_stack.url('gateway')}/openapi.json",
                         verify=tls_stack.trusted(), timeout=30).json()
    assert "Left out" not in document["info"]["description"], document["info"]
    owners = {"/api/v1/chats/": "chat", "/api/v1/knowledge/": "retrieval"}
    for prefix in owners:
        assert any(path.startswith(prefix) for path in document["paths"]), prefix
