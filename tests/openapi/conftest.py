"""The whole API behind one gateway, for its merged document and the fuzzing against it: the
five real services, fake providers, and two accounts (the first, admin; then a user)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import bearer, signup
from tests.support.fullstack import FullStack, full_stack

# Small code-execution limits: fuzzed code must not hold a CPU for long.
CODE_ENV = {"CODE_EXECUTION_TIMEOUT": "5", "CODE_EXECUTION_MEMORY_LIMIT": "256MiB",
            "CODE_EXECUTION_OUTPUT_LIMIT": "16KiB", "CODE_EXECUTION_IDLE_TIMEOUT": "60",
            "AGENT_TOOL_TIMEOUT": "5", "DEFAULT_USER_ROLE": "user"}


@dataclass
class ApiStack:
    stack: FullStack
    admin: dict[str, str]  # request headers
    user: dict[str, str]

    @property
    def gateway(self) -> str:
        return self.stack.gateway


@pytest.fixture(scope="package")
def api_stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[ApiStack]:
    data_dir = tmp_path_factory.mktemp("openapi-data")
    log_dir = tmp_path_factory.mktemp("openapi-logs")
    with full_stack(jwt_secret, data_dir, log_dir, **CODE_ENV) as stack:
        admin = signup(stack.gateway, name="Admin", email="admin@openapi.test")
        user = signup(stack.gateway, name="User", email="user@openapi.test")
        yield ApiStack(stack, bearer(admin["token"]), bearer(user["token"]))
