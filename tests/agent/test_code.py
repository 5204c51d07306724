"""The code interpreter: state kept per session, and every limit enforced by the OS."""

from __future__ import annotations

import base64
import socket
import subprocess
import uuid

import httpx
import pytest

from tests.agent.conftest import AgentStack


def execute(client: httpx.Client, code: str, session_id: str | None = None,
            **extra: object) -> httpx.Response:
    return client.post("/api/v1/agents/code/execute",
                       json={"code": code, "session_id": session_id, **extra}, timeout=60)


def ok(client: httpx.Client, code: str, session_id: str | None = None) -> dict:
    response = execute(client, code, session_id)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def session_id() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def test_state_stdout_stderr_and_last_value(user_client: httpx.Client, session_id: str) -> None:
    first = ok(user_client, "import sys\nx = 20\nprint('out'); print('err', file=sys.stderr)\n"
                            "x + 1", session_id)
    assert (first["stdout"], first["stderr"], first["result"]) == ("out\n", "err\n", "21")
    assert first["cold"] and first["status"] == "ok"
    second = ok(user_client, "x * 2", session_id)
    assert second["result"] == "40" and not second["cold"]
    failed = ok(user_client, "1 / 0", session_id)
    assert failed["status"] == "error" and failed["error"]["name"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in failed["stderr"]
    assert ok(user_client, "x", session_id)["result"] == "20"  # an error keeps the state
    sessions = user_client.get("/api/v1/agents/code/sessions").json()
    assert session_id in [s["session_id"] for s in sessions]
    assert user_client.delete(f"/api/v1/agents/code/sessions/{session_id}").status_code == 200
    assert ok(user_client, "'x' in globals()", session_id)["result"] == "False"


def test_sessions_belong_to_their_user(admin_client: httpx.Client, user_client: httpx.Client,
                                       session_id: str) -> None:
    ok(user_client, "secret = 'mine'", session_id)
    assert admin_client.delete(f"/api/v1/agents/code/sessions/{session_id}").status_code == 404
    assert ok(admin_client, "'secret' in globals()", session_id)["result"] == "False"
    assert ok(user_client, "secret", session_id)["result"] == "'mine'"


def test_open_webui_path_and_figures(user_client: httpx.Client) -> None:
    response = user_client.post("/api/v1/utils/code/execute", json={
        "code": "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('drawn')"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stdout"] == "drawn\n" and len(body["images"]) == 1
    assert base64.b64decode(body["images"][0]).startswith(b"\x89PNG")


def test_endless_loop_is_stopped(user_client: httpx.Client, session_id: str) -> None:
    ok(user_client, "kept = 1", session_id)
    response = execute(user_client, "while True:\n    pass", session_id, timeout=1.5)
    assert response.status_code == 408 and "1.5 s" in response.json()["detail"]
    # The session starts afresh; the service is fine.
    assert ok(user_client, "'kept' in globals()", session_id)["result"] == "False"


def test_cpu_time_limit(agent_stack: AgentStack, user_client: httpx.Client,
                        session_id: str) -> None:
    code = ("import resource\nresource.getrlimit(resource.RLIMIT_CPU)[0]")
    limit = int(ok(user_client, code, session_id)["result"])
    assert limit == int(agent_stack.env["CODE_EXECUTION_CPU_LIMIT"])


def test_huge_allocation_fails(user_client: httpx.Client, session_id: str) -> None:
    failed = ok(user_client, "block = bytearray(2 * 1024 ** 3)", session_id)
    assert failed["error"]["name"] == "MemoryError"
    assert ok(user_client, "len(bytearray(10 * 1024 ** 2))", session_id)["result"] == "10485760"


def test_fork_bomb_is_contained(user_client: httpx.Client, session_id: str) -> None:
    code = ("import os, time\nborn = 0\ntry:\n    for _ in range(10_000):\n"
            "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
            "        born += 1\nexcept OSError as exc:\n    print(type(exc).__name__)\nborn")
    result = ok(user_client, code, session_id)
    assert result["stdout"] == "BlockingIOError\n"
    assert int(result["result"]) < 24
    # The host still starts processes, and the service answers.
    subprocess.run(["true"], check=True)
    assert user_client.delete(f"/api/v1/agents/code/sessions/{session_id}").is_success


def test_no_network(agent_stack: AgentStack, user_client: httpx.Client) -> None:
    port = int(agent_stack.agent.url.rsplit(":", 1)[1])
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', "
            f"{port}), timeout=3)\n    print('connected')\nexcept OSError as exc:\n"
            "    print(type(exc).__name__)")
    assert ok(user_client, code)["stdout"] in ("ConnectionRefusedError\n", "OSError\n")
    dns = ok(user_client, "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n"
                          "except OSError as exc:\n    print('no dns')")
    assert dns["stdout"] == "no dns\n"
    with socket.create_connection(("127.0.0.1", port), timeout=3):
        pass  # the port is open from outside the sandbox


def test_file_system_is_confined(agent_stack: AgentStack, user_client: httpx.Client) -> None:
    data = agent_stack.data_dir
    (data / "jwt_secret").write_text("not-for-code")
    code = f"""
import os
found = {{}}
for path in [{str(data / 'agent.db')!r}, {str(data / 'jwt_secret')!r}, '/etc/shadow',
             '/root/.bashrc', '/proc/1/environ']:
    try:
        open(path, 'rb').read()
        found[path] = 'read'
    except OSError as exc:
        found[path] = type(exc).__name__
for path in ['/usr/owned', '/etc/owned', '/owned', {str(data / 'owned')!r}]:
    try:
        open(path, 'w').write('x')
        found[path] = 'written'
    except OSError as exc:
        found[path] = type(exc).__name__
open('here.txt', 'w').write('mine')
found['cwd'] = os.getcwd()
found['here'] = open('here.txt').read()
found
"""
    result = eval(ok(user_client, code)["result"])  # a dict's repr
    assert result.pop("cwd") == "/workspace" and result.pop("here") == "mine"
    assert "read" not in result.values() and "written" not in result.values(), result
    assert not (data / "owned").exists()


def test_data_dir_secrets_are_out_of_reach(agent_stack: AgentStack,
                                           user_client: httpx.Client) -> None:
    data = agent_stack.data_dir
    assert (data / "agent.db").exists()
    code = (f"import os\n[os.path.exists(p) for p in ({str(data)!r}, "
            f"{str(data / 'agent.db')!r})]")
    assert ok(user_client, code)["result"] == "[False, False]"


def test_environment_has_no_secrets(agent_stack: AgentStack, user_client: httpx.Client) -> None:
    env = eval(ok(user_client, "import os\ndict(os.environ)")["result"])
    assert not {"JWT_SECRET_KEY", "DATABASE_URL", "OPENAI_API_KEYS", "OWUI_DATA_DIR",
                "INFERENCE_SERVICE_URL"} & set(env)
    assert agent_stack.env["JWT_SECRET_KEY"] not in repr(env)
    identity = eval(ok(user_client, "import os\n(os.getuid(), os.getgroups())")["result"])
    assert identity[0] != 0 and identity[1] in ([], [identity[0]])


def test_output_size_is_bounded(user_client: httpx.Client) -> None:
    result = ok(user_client, "print('y' * 100_000)")
    assert len(result["stdout"]) == 64 * 1024 and result["truncated"]
    big = ok(user_client, "import sys\nfor _ in range(2000):\n    print('z' * 10_000)")
    assert big["error"]["name"] == "OSError" and "File too large" in big["error"]["value"]


def test_bad_requests(user_client: httpx.Client) -> None:
    assert execute(user_client, "x = (", None).json()["error"]["name"] == "SyntaxError"
    bad_id = user_client.post("/api/v1/agents/code/execute",
                              json={"code": "1", "session_id": "../../etc"})
    assert bad_id.status_code == 422
    missing = user_client.post("/api/v1/agents/code/execute", json={})
    assert missing.status_code == 422
