"""The Admin Panel in the web app: the admin adds a user (Users > Add User) who then signs in,
makes a group (Users > Groups > New Group), and turns sign-up off (Settings > Authentication >
New Sign Ups): the sign-in page then offers no sign-up, and the gateway refuses one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import pages
from tests.browser.conftest import PASSWORD, Steps, WebStack


@pytest.fixture
def admin(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    step("sign in as the admin")
    page.goto("/auth")
    page.get_by_placeholder("Enter Your Email").fill(web_stack.admin_email)
    page.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    pages.wait_for_chat_page(page)
    yield page


def _admin_headers(web_stack: WebStack) -> dict[str, str]:
    answer = httpx.post(f"{web_stack.url}/api/v1/auths/signin", timeout=30,
                        json={"email": web_stack.admin_email, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def sign_up_restored(web_stack: WebStack) -> Iterator[None]:
    """Sign-up back on after the test, whatever happened (the other tests sign people up)."""
    yield
    headers = _admin_headers(web_stack)
    config = httpx.get(f"{web_stack.url}/api/v1/auths/admin/config", headers=headers).json()
    httpx.post(f"{web_stack.url}/api/v1/auths/admin/config", headers=headers,
               json={**config, "ENABLE_SIGNUP": True}).raise_for_status()


def test_the_admin_adds_a_user_who_signs_in(admin: Page, context: BrowserContext,
                                            another_person, step: Steps) -> None:
    page = admin
    name, email = f"Added {uuid.uuid4().hex[:6]}", f"added-{uuid.uuid4().hex[:6]}@example.com"
    step("Admin Panel > Users > Add User")
    page.goto("/admin/users")
    page.get_by_role("button", name="Add User", exact=True).click()
    page.get_by_placeholder("Enter Your Full Name").fill(name)
    page.get_by_placeholder("Enter Your Email").fill(email)
    page.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    page.get_by_role("button", name="Save", exact=True).click()
    step("the new user is listed")
    expect(page.get_by_text(name, exact=True).first).to_be_visible()
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
    step("Admin Panel > Users > Groups > New Group")
    page.goto("/admin/users/groups")
    page.get_by_role("button", name="New Group", exact=True).click()
    page.get_by_placeholder("Group Name").fill(name)
    page.get_by_role("button", name="Save", exact=True).click()
    step("the group is listed, and stored")
    expect(page.get_by_text(name, exact=True).first).to_be_visible()
    stored = httpx.get(f"{web_stack.url}/api/v1/groups/", headers=_admin_headers(web_stack))
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
