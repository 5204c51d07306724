"""Accounts in the web app: the first visit makes the admin; signing out and in again."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import PASSWORD, Steps


@pytest.fixture
def app_url(fresh_gateway: str) -> str:
    """A gateway with no account yet: the app opens on its onboarding."""
    return fresh_gateway


def test_onboarding_makes_the_admin_who_signs_out_and_in(page: Page, app_url: str,
                                                         step: Steps) -> None:
    step("onboarding: Get started, Create Admin Account")
    pages.onboard(page, "Olga Owner", "olga@example.com", PASSWORD)
    step("the new account is the admin")
    token = page.evaluate("localStorage.token")
    me = httpx.get(f"{app_url}/api/v1/auths/", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
    step("sign out")
    pages.sign_out(page)
    expect(pages.chat_input(page)).to_have_count(0)
    step("sign in again")
    pages.sign_in(page, "olga@example.com", PASSWORD)
    step("a wrong password is refused")
    pages.sign_out(page)
    page.get_by_placeholder("Enter Your Email").fill("olga@example.com")
    page.get_by_placeholder("Enter Your Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(re.compile("email or password", re.I)).first).to_be_visible()
    expect(pages.chat_input(page)).to_have_count(0)
