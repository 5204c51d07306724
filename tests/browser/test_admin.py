"""The Admin Panel in the web app: the admin adds a user (Users > Add User) who then signs in,
makes a group (Users > Groups > New Group), turns sign-up off (Settings > Authentication >
New Sign Ups): the sign-in page then offers no sign-up, and the gateway refuses one; changes the
chunk size in Settings > Documents and reindexes: the collections' chunks follow; adds an
OpenAI-compatible connection in Settings > Connections: its models are in the chat's model
menu on both replicas of the stack (a second inference replica on the first's database, behind
a second gateway). Group access to collections and models: test_group_access.py."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import pages
from tests.browser.conftest import PASSWORD, Steps, WebStack
from tests.browser.test_models import new_provider  # noqa: F401  # a provider no connection names
from tests.support.procs import Proc, start_service


@pytest.fixture
def admin(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    step("sign in as the admin")
    page.goto("/auth")
    page.get_by_placeholder("Enter Your Email").fill(web_stack.admin_email)
    page.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    pages.wait_for_chat_page(page)
    yield page


def admin_headers(web_stack: WebStack) -> dict[str, str]:
    answer = httpx.post(f"{web_stack.url}/api/v1/auths/signin", timeout=30,
                        json={"email": web_stack.admin_email, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def sign_up_restored(web_stack: WebStack) -> Iterator[None]:
    """Sign-up back on after the test, whatever happened (the other tests sign people up)."""
    yield
    headers = admin_headers(web_stack)
    config = httpx.get(f"{web_stack.url}/api/v1/auths/admin/config", headers=headers).json()
    httpx.post(f"{web_stack.url}/api/v1/auths/admin/config", headers=headers,
               json={**config, "ENABLE_SIGNUP": True}).raise_for_status()


def add_user(page: Page, name: str, email: str) -> None:
    """Admin Panel > Users > Add User, and the new user listed."""
    page.goto("/admin/users")
    page.get_by_role("button", name="Add User", exact=True).click()
    page.get_by_placeholder("Enter Your Full Name").fill(name)
    page.get_by_placeholder("Enter Your Email").fill(email)
    page.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(name, exact=True).first).to_be_visible()


def new_group(page: Page, name: str, switches: tuple[str, ...] = ()) -> None:
    """Admin Panel > Users > Groups > New Group, with the Permissions tab's `switches` ("Models
    Access") turned on, and the group listed."""
    page.goto("/admin/users/groups")
    page.get_by_role("button", name="New Group", exact=True).click()
    page.get_by_placeholder("Group Name").fill(name)
    if switches:
        page.get_by_role("button", name="Permissions", exact=True).click()
        for label in switches:
            switch = page.get_by_role("switch", name=label, exact=True)
            switch.click()
            expect(switch).to_be_checked()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/groups/create")) as made:
        page.get_by_role("button", name="Save", exact=True).click()
    assert made.value.ok, made.value.text()
    expect(page.get_by_text(name, exact=True).first).to_be_visible()


def test_the_admin_adds_a_user_who_signs_in(admin: Page, context: BrowserContext,
                                            another_person, step: Steps) -> None:
    page = admin
    name, email = f"Added {uuid.uuid4().hex[:6]}", f"added-{uuid.uuid4().hex[:6]}@example.com"
    step("Admin Panel > Users > Add User: the new user is listed")
    add_user(page, name, email)
    step("the new user signs in in a browser of their own")
    other = another_person()
    other.goto("/auth")
    other.get_by_placeholder("Enter Your Email").fill(email)
    other.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in", exact=True).click()
    pages.wait_for_chat_page(other)


def test_the_admin_makes_a_group(admin: Page, web_stack: WebStack, step: Steps) -> None:
    page = admin
    name = f"Readers {uuid.uuid4().hex[:6]}"
    step("Admin Panel > Users > Groups > New Group: the group is listed")
    new_group(page, name)
    step("and stored")
    stored = httpx.get(f"{web_stack.url}/api/v1/groups/", headers=admin_headers(web_stack))
    assert name in [group["name"] for group in stored.json()]


def test_sign_up_off_and_the_sign_up_form_says_so(admin: Page, another_person,
                                                 web_stack: WebStack, sign_up_restored: None,
                                                 step: Steps) -> None:
    page = admin
    step("a visitor is offered sign-up")
    visitor = another_person()
    visitor.goto("/auth")
    expect(visitor.get_by_role("button", name="Sign up", exact=True)).to_be_visible()
    step("Settings > Authentication: New Sign Ups off, Save")
    page.goto("/admin/settings/authentication")
    switch = page.get_by_role("switch", name="New Sign Ups")
    expect(switch).to_be_checked()
    switch.click()
    expect(switch).not_to_be_checked()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auths/admin/config")
                              and r.request.method == "POST") as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.ok, saved.value.text()
    step("the sign-in page offers no sign-up any more")
    visitor.goto("/auth")
    expect(visitor.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(visitor.get_by_role("button", name="Sign up", exact=True)).to_have_count(0)
    refused = httpx.post(f"{web_stack.url}/api/v1/auths/signup", json={
        "name": "Late", "email": f"late-{uuid.uuid4().hex[:6]}@example.com",
        "password": PASSWORD})
    assert refused.status_code == 403 and "Sign-up is turned off" in refused.json()["detail"]


# ---------------------------------------------------------------- Settings > Documents

# About 700 words: a few chunks at the stack's chunk size, many at SMALL_CHUNK tokens.
LOG = " ".join(f"Harbour log line {i}: the ferry left pier {i % 7} on time." for i in range(60))
SMALL_CHUNK, SMALL_OVERLAP = 40, 5


@pytest.fixture
def chunking_restored(web_stack: WebStack) -> Iterator[dict[str, int]]:
    """The stack's chunking before the test (yielded), put back after it whatever happened."""
    url = f"{web_stack.url}/api/v1/retrieval/config"
    headers = admin_headers(web_stack)
    before = httpx.get(url, headers=headers, timeout=30).json()
    kept = {"CHUNK_SIZE": before["CHUNK_SIZE"], "CHUNK_OVERLAP": before["CHUNK_OVERLAP"]}
    yield kept
    httpx.post(f"{url}/update", headers=headers, json=kept, timeout=30).raise_for_status()


def _collection_with_log(web_stack: WebStack, headers: dict[str, str]) -> str:
    """The admin's collection holding LOG as a text file, processed: its id."""
    with httpx.Client(base_url=web_stack.url, headers=headers, timeout=60) as client:
        knowledge = client.post("/api/v1/knowledge/create", json={
            "name": f"Harbour {uuid.uuid4().hex[:6]}", "description": "chunking"}).json()
        file = client.post("/api/v1/files/", files={"file": ("harbour-log.txt", LOG.encode())},
                           params={"process_in_background": "false"})
        assert file.status_code == 200, file.text
        added = client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                            json={"file_id": file.json()["id"]})
        assert added.status_code == 200, added.text
    return str(knowledge["id"])


def _chunks(web_stack: WebStack, headers: dict[str, str], knowledge_id: str) -> list[str]:
    """Every chunk of the collection (a query asking for more than it holds: k 200 at most)."""
    answer = httpx.post(f"{web_stack.url}/api/v1/retrieval/query/collection", headers=headers,
                        timeout=60, json={"collection_names": [knowledge_id],
                                          "query": "ferry", "k": 200})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["documents"][0])


def _small(chunks: list[str]) -> bool:
    """Every chunk within SMALL_CHUNK tokens: a word is at least one token."""
    return bool(chunks) and all(len(chunk.split()) <= SMALL_CHUNK for chunk in chunks)


def test_a_smaller_chunk_size_and_a_reindex_rechunk_the_collections(
        admin: Page, web_stack: WebStack, chunking_restored: dict[str, int],
        step: Steps) -> None:
    page = admin
    headers = admin_headers(web_stack)
    step("a collection holding a long text file, chunked at the stack's size")
    knowledge_id = _collection_with_log(web_stack, headers)
    before = _chunks(web_stack, headers, knowledge_id)
    assert chunking_restored["CHUNK_SIZE"] > SMALL_CHUNK and not _small(before), before
    step(f"Settings > Documents: chunk size {SMALL_CHUNK}, overlap {SMALL_OVERLAP}, Save")
    page.goto("/admin/settings/documents")
    page.get_by_placeholder("Enter Chunk Size").fill(str(SMALL_CHUNK))
    page.get_by_placeholder("Enter Chunk Overlap").fill(str(SMALL_OVERLAP))
    # The form will not submit with the OpenAI embedding engine's URL empty: owui answers
    # Open WebUI's default for it (stored and shown; embeddings go through the inference
    # service), so the page saves as it is.
    base_url = page.get_by_placeholder("API Base URL", exact=True)
    expect(base_url).to_have_value("https://api.openai.com/v1")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/retrieval/config/update")
                              ) as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.ok, saved.value.text()
    assert saved.value.json()["CHUNK_SIZE"] == SMALL_CHUNK
    step("Reindex Knowledge and Memory Vectors: Reindex, Confirm")
    page.goto("/admin/settings/documents")  # the page again: the saved values are shown
    expect(page.get_by_placeholder("Enter Chunk Size")).to_have_value(str(SMALL_CHUNK))
    # The row's label names its button.
    page.get_by_role("button", name="Reindex Knowledge and Memory Vectors").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/knowledge/reindex")) as done:
        page.get_by_role("button", name="Confirm", exact=True).click()
    assert done.value.ok, done.value.text()
    step("the collection's chunks follow the new size")
    deadline = time.monotonic() + 90
    while not _small(after := _chunks(web_stack, headers, knowledge_id)):
        assert time.monotonic() < deadline, f"still {len(after)} chunks: {after[:2]}"
        time.sleep(0.5)
    assert len(after) > len(before) and "line 59" in " ".join(after)
    print(f"{len(before)} chunks before, {len(after)} after the reindex")


# ---------------------------------------------------------------- Connections, two replicas


@pytest.fixture
def second_replica(web_stack: WebStack) -> Iterator[str]:
    """The stack's second replica: another inference process on the first's database (its data
    dir), behind another gateway on the first gateway's database (chat, agent and retrieval are
    shared). Its gateway's URL."""
    services = web_stack.stack.services
    inference = start_service("inference", services["inference"].env, web_stack.log_dir)
    try:
        gateway = start_service("gateway", {**services["gateway"].env,
                                            "INFERENCE_SERVICE_URL": inference.url},
                                web_stack.log_dir)
        try:
            yield gateway.url
        finally:
            gateway.stop()
    finally:
        inference.stop()


def _menu_offers(page: Page, model: str) -> None:
    """The chat's model menu lists `model` (searched for), and the menu is closed again."""
    page.get_by_role("button", name=re.compile(r"^(Select a model|Selected model: )")).first.click()
    page.get_by_placeholder("Search a model").fill(model)
    expect(page.get_by_role("option", name=f"Select {model} model", exact=True)).to_be_visible()
    page.keyboard.press("Escape")


def test_a_connection_added_on_one_replica_is_in_the_model_menu_of_both(
        admin: Page, web_stack: WebStack, new_provider: Proc,  # noqa: F811
        second_replica: str, browser: Browser, step: Steps) -> None:
    page, model = admin, "fresh-fake-model"  # new_provider's
    headers = admin_headers(web_stack)
    step("replica 1: Admin > Settings > Connections: add an OpenAI connection, Save")
    page.goto("/admin/settings/connections")
    page.get_by_role("button", name="Add Connection").first.click()
    page.locator("#url-input").fill(new_provider.url + "/v1")
    with page.expect_response(lambda r: r.url.endswith("/openai/config/update")) as saved:
        page.get_by_role("button", name="Save", exact=True).last.click()
    assert saved.value.ok, saved.value.text()
    added = time.monotonic()
    step("replica 2 lists it within seconds")
    while model not in {m["id"] for m in httpx.get(f"{second_replica}/api/models",
                                                    headers=headers, timeout=30).json()["data"]}:
        assert time.monotonic() - added < 10, "replica 2 does not list the new connection's model"
        time.sleep(0.2)
    print(f"replica 2 lists {model} {time.monotonic() - added:.1f} s after the save")
    step("replica 1: its model is in the chat's model menu")
    page.goto("/")
    pages.wait_for_chat_page(page)
    _menu_offers(page, model)
    step("replica 2 in a browser: signed in, the model is in its menu and answers")
    context = browser.new_context(base_url=second_replica, viewport=page.viewport_size)
    try:
        other = context.new_page()
        pages.watch(other, step.failures)
        step.pages.append(other)
        pages.sign_in(other, web_stack.admin_email, PASSWORD)
        _menu_offers(other, model)
        pages.pick_model(other, model)
        pages.send(other, "hello from the second replica")
        pages.wait_for_word(other, "word1")
    finally:
        context.close()
