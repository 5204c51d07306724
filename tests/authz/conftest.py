"""One stack and one world for the whole matrix: an admin, Alice (the victim: one of every
resource type, the admin-only ones made by the admin and kept private), Bob (another user, with
resources of his own to mix with Alice's) and a pending account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from owui.core.services import NAMES
from tests.authz.operations import Operation, admin_only, load_operations
from tests.authz.owners import (
    Owner,
    client_for,
    make_admin_resources,
    make_user_resources,
    ok,
    owner,
    read_back,
    sign_in,
)
from tests.authz.permissions import let_users_make_and_alice_share
from tests.support.fullstack import FullStack, full_stack

MODEL = "gpt-fake-echo"


@dataclass
class World:
    stack: FullStack
    admin: Owner
    alice: Owner
    bob: Owner
    pending_token: str
    operations: list[Operation]
    admin_only: set[tuple[str, str]]
    before: dict[str, Any]

    def alice_now(self) -> dict[str, Any]:
        return read_back(self.alice, self.admin.client)


@pytest.fixture(scope="package")
def authz_stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str,
                ) -> Iterator[FullStack]:
    # Plain accounts are users (the laptop default); code sessions outlive the matrix.
    with full_stack(jwt_secret, tmp_path_factory.mktemp("authz-data"),
                    tmp_path_factory.mktemp("authz-logs"), DEFAULT_USER_ROLE="user",
                    CODE_EXECUTION_IDLE_TIMEOUT="900") as stack:
        yield stack


@pytest.fixture(scope="package")
def world(authz_stack: FullStack) -> Iterator[World]:
    gateway = authz_stack.gateway
    admin = owner(gateway, "Admin")
    assert ok(admin.client.get("/api/v1/auths/"))["role"] == "admin"
    alice, bob = owner(gateway, "Alice"), owner(gateway, "Bob")
    let_users_make_and_alice_share(admin.client, alice.id)
    make_user_resources(alice, MODEL)
    make_admin_resources(admin.client, alice, authz_stack.fakes["openai"].url)
    make_user_resources(bob, MODEL)
    waiting = owner(gateway, "Pending")
    ok(admin.client.post(f"/api/v1/users/{waiting.id}/update", json={"role": "pending"}))
    pending = sign_in(gateway, waiting.email, "correct-horse")
    assert pending["role"] == "pending"
    operations = load_operations({name: authz_stack.url(name) for name in NAMES})
    built = World(authz_stack, admin, alice, bob, pending["token"], operations,
                  admin_only(list(NAMES)), read_back(alice, admin.client))
    yield built
    for who in (admin, alice, bob, waiting):
        who.client.close()


@pytest.fixture
def bob_client(world: World) -> Iterator[httpx.Client]:
    """Bob, on a session of his own: the matrix ends it (sign-out is one of the routes)."""
    session = sign_in(world.stack.gateway, world.bob.email, "correct-horse")
    with client_for(world.stack.gateway, session["token"]) as client:
        yield client
