"""Settings in the web app, as a person uses them, each change shown to be stored by a reload:
Interface and chat defaults (a toggle, the default system prompt, a model parameter); the
account's name and picture; a new password (the old one refused after signing out); API keys
where the admin allows them (a key made, seen, and used against /api/models), and gone from the
page, and refused by the server, once the admin turns them off."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages
from tests.browser.conftest import PASSWORD, Steps, WebStack

NEW_PASSWORD = "staple-battery-horse-correct"


@pytest.fixture
def person(web_stack: WebStack) -> dict[str, str]:
    """An account of its own (a plain user: DEFAULT_USER_ROLE=user), so that its changes
    (its password above all) touch no other test."""
    name, email = "Grace Hopper", f"grace-{uuid.uuid4().hex[:8]}@example.com"
    made = httpx.post(f"{web_stack.url}/api/v1/auths/signup", timeout=30,
                      json={"name": name, "email": email, "password": PASSWORD})
    assert made.status_code == 200, made.text
    return {"name": name, "email": email, "id": made.json()["id"]}


@pytest.fixture
def signed_in(page: Page, person: dict[str, str], step: Steps) -> Page:
    step("sign in")
    pages.sign_in_without_socket(page, person["email"], PASSWORD)
    return page


def settings(page: Page, tab: str) -> Locator:
    """The Settings dialog (from the user menu) at one of its personal tabs."""
    dialog = page.get_by_role("dialog", name="Settings")
    if not dialog.is_visible():
        page.get_by_label(re.compile(r"^(User menu|Open User Profile Menu)$")) \
            .filter(visible=True).first.click()
        page.get_by_text("Settings", exact=True).first.click()
    dialog.get_by_role("tab", name=tab).first.click()  # the first: the admin has its own tabs
    return dialog


def save(dialog: Locator) -> None:
    with dialog.page.expect_response(lambda r: r.request.method == "POST" and r.ok):
        dialog.get_by_role("button", name="Save", exact=True).click()


def reload(page: Page) -> None:
    page.reload()
    pages.wait_for_chat_page(page)


def show_parameters(dialog: Locator) -> None:
    dialog.locator("#tab-general button", has_text="Show").click()


def test_interface_and_chat_defaults_are_kept(signed_in: Page, step: Steps,
                                              web_stack: WebStack) -> None:
    page = signed_in
    step("the home page asks for skills and channels, and gets an answer")
    reload(page)
    expect(pages.chat_input(page)).to_be_visible()
    missing = [f for f in step.failures if re.search(r"^404 .*/api/v1/(skills|channels)/", f)]
    assert not missing, missing
    step("General: the default system prompt and a temperature, saved")
    dialog = settings(page, "General")
    dialog.get_by_placeholder("Enter system prompt here").fill("Answer in one sentence.")
    show_parameters(dialog)
    dialog.locator("#tab-general div.w-full", has=page.get_by_text("Temperature", exact=True)) \
        .last.locator("button", has_text="Default").click()
    dialog.get_by_role("spinbutton", name="Temperature").fill("0.3")
    save(dialog)
    step("Interface: widescreen mode on, saved")
    dialog = settings(page, "Interface")
    widescreen = dialog.locator("#widescreen-mode-label-control")
    expect(widescreen).to_have_attribute("aria-checked", "false")
    widescreen.click()
    save(dialog)
    step("after a reload, both pages show what was saved")
    reload(page)
    dialog = settings(page, "Interface")
    expect(dialog.locator("#widescreen-mode-label-control")).to_have_attribute("aria-checked",
                                                                               "true")
    dialog = settings(page, "General")
    expect(dialog.get_by_placeholder("Enter system prompt here")) \
        .to_have_value("Answer in one sentence.")
    show_parameters(dialog)
    expect(dialog.get_by_role("spinbutton", name="Temperature")).to_have_value("0.3")
    token = page.evaluate("localStorage.token")
    stored = httpx.get(f"{web_stack.url}/api/v1/users/user/settings", timeout=30,
                       headers={"Authorization": f"Bearer {token}"}).json()["ui"]
    assert stored["system"] == "Answer in one sentence."
    assert stored["params"]["temperature"] == 0.3 and stored["widescreenMode"] is True


def test_name_and_picture_are_kept(signed_in: Page, step: Steps, person: dict[str, str]) -> None:
    page = signed_in
    picture = f"/api/v1/users/{person['id']}/profile/image"
    before = page.request.get(picture).body()
    step("Account: a new name, the picture made from the initials, saved")
    dialog = settings(page, "Account")
    dialog.get_by_role("textbox", name="Name").fill("Grace Brewster Hopper")
    dialog.get_by_role("button", name="Initials").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auths/update/profile")) as sent:
        dialog.get_by_role("button", name="Save", exact=True).click()
    assert sent.value.ok, sent.value.text()
    step("a plain user is not offered API keys (the admin did not allow them)")
    expect(dialog.get_by_role("button", name="Create new secret key")).to_have_count(0)
    step("after a reload, the new name and picture")
    reload(page)
    dialog = settings(page, "Account")
    expect(dialog.get_by_role("textbox", name="Name")).to_have_value("Grace Brewster Hopper")
    after = page.request.get(picture)
    assert after.ok and after.headers["content-type"] == "image/png"
    assert after.body() != before, "the picture is still the default one"


def test_a_new_password_replaces_the_old(signed_in: Page, step: Steps,
                                         person: dict[str, str]) -> None:
    page = signed_in
    step("Account > Change Password: the current one, the new one twice")
    dialog = settings(page, "Account")
    dialog.locator("#tab-account button", has_text="Show").first.click()
    dialog.get_by_placeholder("Enter your current password").fill(PASSWORD)
    dialog.get_by_placeholder("Enter your new password").fill(NEW_PASSWORD)
    dialog.get_by_placeholder("Confirm your new password").fill(NEW_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auths/update/password")) as sent:
        dialog.get_by_role("button", name="Update password").click()
    assert sent.value.ok, sent.value.text()
    step("the app signs out after the change, as Open WebUI's does")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(pages.chat_input(page)).to_have_count(0)
    step("the old password is refused")
    page.get_by_placeholder("Enter Your Email").fill(person["email"])
    page.get_by_placeholder("Enter Your Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(re.compile("email or password", re.I)).first).to_be_visible()
    expect(pages.chat_input(page)).to_have_count(0)
    step("the new one signs in, and after a reload the person is still signed in")
    pages.sign_in_without_socket(page, person["email"], NEW_PASSWORD)
    reload(page)
    step("sign out from the user menu")
    pages.sign_out(page)
    page.goto("/")  # signed out stays signed out: the app goes to its sign-in page
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


@pytest.fixture
def admin_headers(web_stack: WebStack) -> Iterator[dict[str, str]]:
    """The admin's token; API keys are on again (and the admin's key gone) afterwards."""
    answer = httpx.post(f"{web_stack.url}/api/v1/auths/signin", timeout=30,
                        json={"email": web_stack.admin_email, "password": PASSWORD})
    answer.raise_for_status()
    headers = {"Authorization": f"Bearer {answer.json()['token']}"}
    yield headers
    httpx.post(f"{web_stack.url}/api/v1/auths/admin/config", headers=headers, timeout=30,
               json={"ENABLE_API_KEYS": True}).raise_for_status()
    httpx.delete(f"{web_stack.url}/api/v1/auths/api_key", headers=headers, timeout=30)


def _api_keys(dialog: Locator) -> None:
    """Account > API keys: Show."""
    dialog.locator("#tab-account button", has_text="Show").last.click()


def _shown_key(page: Page) -> str:
    """The key in the API keys field (a masked input: its value, not its attribute)."""
    found = page.wait_for_function("""() => [...document.querySelectorAll('#tab-account input')]
        .map(input => input.value).find(value => value.startsWith('sk-'))""")
    return str(found.json_value())


def test_api_keys_where_the_admin_allows_them(page: Page, step: Steps, web_stack: WebStack,
                                              admin_headers: dict[str, str]) -> None:
    step("sign in as the admin (an admin may make keys while they are on)")
    pages.sign_in_without_socket(page, web_stack.admin_email, PASSWORD)
    step("Account > API keys: create a key; the page shows it")
    dialog = settings(page, "Account")
    _api_keys(dialog)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auths/api_key")
                              and r.request.method == "POST") as made:
        dialog.get_by_role("button", name="Create new secret key").click()
    key = made.value.json()["api_key"]
    assert key.startswith("sk-")
    assert _shown_key(page) == key
    step("the key lists the models")
    models = httpx.get(f"{web_stack.url}/api/models", timeout=30,
                       headers={"Authorization": f"Bearer {key}"})
    assert models.status_code == 200, models.text
    assert "gpt-fake" in {m["id"] for m in models.json()["data"]}
    step("after a reload the page still has a key (its start: only a hash is stored)")
    reload(page)
    dialog = settings(page, "Account")
    _api_keys(dialog)
    assert key.startswith(_shown_key(page).removesuffix("..."))
    step("the admin turns API keys off: the page offers none, the server refuses them")
    turned = httpx.post(f"{web_stack.url}/api/v1/auths/admin/config", headers=admin_headers,
                        json={"ENABLE_API_KEYS": False}, timeout=30)
    assert turned.status_code == 200, turned.text
    reload(page)
    dialog = settings(page, "Account")
    expect(dialog.get_by_text("Change Password")).to_be_visible()
    expect(dialog.get_by_text("API keys", exact=True)).to_have_count(0)
    refused = httpx.post(f"{web_stack.url}/api/v1/auths/api_key", headers=admin_headers,
                         timeout=30)
    assert refused.status_code == 403 and "turned off" in refused.json()["detail"]
    assert httpx.get(f"{web_stack.url}/api/models", timeout=30,
                     headers={"Authorization": f"Bearer {key}"}).status_code == 401
