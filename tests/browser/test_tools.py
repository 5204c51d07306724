"""Workspace > Tools, Admin > Functions and code in the web app: an admin writes a tool in the
app's code editor, saves it, turns it on in the chat and a model calls it; writes an Action
function, switches it on for every model, and its button under an answer runs it on the agent
service and changes the message; a custom model's collection grounds its answers (their
sources show it); a code block's Run executes on the server (owui's sandbox) and shows its
output under the block."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack

AGENT_MODEL = "gpt-fake-agent"  # follows `call: NAME {args}` lines (tests/fakes/openai.py)
# Pasted into the editor (a paste keeps the indentation; typing would indent twice).
TOOL_SOURCE = '''"""
title: Greeter
description: Greets people
"""
from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        greeting: str = "Hello"

    def __init__(self):
        self.valves = self.Valves()

    def greet(self, who: str) -> str:
        """
        Greet someone by name.
        :param who: Whom to greet.
        """
        return f"{self.valves.greeting}, {who} from the editor"
'''


@pytest.fixture
def admin(page: Page, web_stack: WebStack, step: Steps) -> Page:
    step("sign in as the admin")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    return page


def token_of(page: Page) -> str:
    return str(page.evaluate("() => localStorage.token"))


def write_in_editor(page: Page, source: str) -> None:
    """Replaces the code editor's text with `source`, as pasted."""
    editor = page.locator(".cm-content").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)


def test_a_tool_written_in_the_editor_is_called_by_a_model(admin: Page, web_stack: WebStack,
                                                           step: Steps) -> None:
    page = admin
    tool_id = f"greeter_{uuid.uuid4().hex[:6]}"
    step("open Workspace > Tools > new tool")
    page.goto("/workspace/tools/create")
    expect(page.get_by_placeholder("Tool Name")).to_be_visible()
    step("name it and write its code in the editor")
    page.get_by_placeholder("Tool Name").fill("Greeter")
    page.get_by_placeholder("Tool ID").fill(tool_id)
    page.get_by_placeholder("Tool Description").fill("Greets people")
    write_in_editor(page, TOOL_SOURCE)
    step("save it")
    page.get_by_role("button", name=re.compile(r"^Save")).click()
    step("confirm the warning about running code")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tools/create")) as created:
        page.get_by_role("button", name="Confirm").click()
    assert created.value.status == 200, created.value.text()
    step("the tool is stored with the method the model may call")
    headers = {"Authorization": f"Bearer {token_of(page)}"}
    specs = httpx.get(f"{web_stack.url}/api/v1/tools/id/{tool_id}/specs", headers=headers)
    assert specs.status_code == 200, specs.text
    assert [s["name"] for s in specs.json()] == ["greet"]
    step("a new chat with the agent model, the tool turned on")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.pick_model(page, AGENT_MODEL)
    page.get_by_role("button", name="Integrations").click()
    page.get_by_text("Tools").first.click()
    greeter = page.get_by_role("menuitemcheckbox", name="Greeter")
    greeter.click()
    expect(greeter).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Escape")
    step("ask the model, which calls the tool; its answer carries the tool's result")
    pages.send(page, 'call: greet {"who": "Ada"}')
    pages.wait_for_word(page, "editor", 60_000)
    expect(pages.answer(page)).to_contain_text("Hello, Ada from the editor")


ACTION_NAME = "Shout back"
ACTION_SOURCE = '''"""
title: Shout back
"""


class Action:
    async def action(self, body: dict) -> dict:
        last = body["messages"][-1]
        return {"messages": [{"id": last["id"],
                              "content": last["content"] + " SHOUTED BY THE ACTION"}]}
'''


def models_show(web_stack: WebStack, token: str, action_id: str) -> None:
    """Waits until the model list shows the action on gpt-fake (inference reads the agent's
    functions again every couple of seconds), before the chat page loads the list."""
    deadline = time.monotonic() + 15
    while True:
        found = httpx.get(f"{web_stack.url}/api/models",
                          headers={"Authorization": f"Bearer {token}"}).json()["data"]
        model = next(m for m in found if m["id"] == "gpt-fake")
        if any(a["id"] == action_id for a in model["actions"]):
            return
        assert time.monotonic() < deadline, f"no action {action_id} on gpt-fake: {model}"
        time.sleep(0.25)


def test_an_action_written_in_the_editor_runs_from_its_button(admin: Page, web_stack: WebStack,
                                                               step: Steps) -> None:
    page = admin
    action_id = f"shout_{uuid.uuid4().hex[:6]}"
    token = token_of(page)
    try:
        step("open Admin Panel > Functions > new function")
        page.goto("/admin/functions/create")
        expect(page.get_by_placeholder("Function Name")).to_be_visible()
        step("name it and write its code in the editor")
        page.get_by_placeholder("Function Name").fill(ACTION_NAME)
        page.get_by_placeholder("Function ID").fill(action_id)
        page.get_by_placeholder("Function Description").fill("Shouts the answer back")
        write_in_editor(page, ACTION_SOURCE)
        step("save it, confirming the warning about running code")
        page.get_by_role("button", name=re.compile(r"^Save")).click()
        with page.expect_response(lambda r: r.url.endswith("/api/v1/functions/create")) as made:
            page.get_by_role("button", name="Confirm").click()
        assert made.value.status == 200, made.value.text()
        step("switch it on, for every model")
        page.goto("/admin/functions")
        row = page.locator("div.group[role='presentation']").filter(
            has=page.get_by_role("link", name=ACTION_NAME, exact=True))
        with page.expect_response(lambda r: r.url.endswith(f"/{action_id}/toggle")):
            row.get_by_role("switch", name="Enabled").click()
        row.get_by_role("button", name="Function Menu").click()
        with page.expect_response(lambda r: r.url.endswith(f"/{action_id}/toggle/global")):
            page.get_by_role("menu").get_by_role("switch").click()
        page.keyboard.press("Escape")
        models_show(web_stack, token, action_id)
        step("open a chat with an answer: the action's button is under it")
        page.goto("/")
        pages.wait_for_chat_page(page)
        page.goto(f"/c/{chat_with_answer(web_stack, token, 'Otters hold hands.')}")
        expect(pages.answer(page)).to_contain_text("Otters hold hands.")
        button = page.get_by_role("button", name=ACTION_NAME, exact=True)
        step("press it: the agent service runs the action and the message shows its result")
        with page.expect_response(
                lambda r: r.url.endswith(f"/api/chat/actions/{action_id}")) as ran:
            button.click()
        assert ran.value.status == 200, ran.value.text()
        expect(pages.answer(page)).to_contain_text("Otters hold hands. SHOUTED BY THE ACTION")
    finally:
        httpx.delete(f"{web_stack.url}/api/v1/functions/id/{action_id}/delete",
                     headers={"Authorization": f"Bearer {token}"})


def preset_with_knowledge(web_stack: WebStack, token: str, tag: str) -> str:
    """A collection holding one text file, and a custom model on gpt-fake whose knowledge it is
    (as the model editor stores it); the model's id."""
    with httpx.Client(base_url=web_stack.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as api:  # adding the file waits for its embedding
        knowledge = api.post("/api/v1/knowledge/create",
                             json={"name": f"Lighthouses {tag}", "description": "Keepers"})
        assert knowledge.status_code == 200, knowledge.text
        text = f"Lighthouse {tag}: the keeper lights the lamp at dusk.".encode()
        file = api.post("/api/v1/files/", files={"file": (f"keeper-{tag}.txt", text)})
        assert file.status_code == 200, file.text
        added = api.post(f"/api/v1/knowledge/{knowledge.json()['id']}/file/add",
                         json={"file_id": file.json()["id"]})
        assert added.status_code == 200, added.text
        model_id = f"keeper-{tag}"
        made = api.post("/api/v1/models/create", json={
            "id": model_id, "base_model_id": "gpt-fake", "name": model_id, "params": {},
            "meta": {"description": "Knows the lighthouse",
                     "knowledge": [{**knowledge.json(), "type": "collection"}]}})
        assert made.status_code == 200, made.text
    return model_id


def test_a_custom_models_knowledge_grounds_its_answers(admin: Page, web_stack: WebStack,
                                                        step: Steps) -> None:
    page = admin
    tag = uuid.uuid4().hex[:6]
    model_id = preset_with_knowledge(web_stack, token_of(page), tag)
    step("a new chat with the custom model, nothing attached")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.pick_model(page, model_id)
    step("ask: the answer shows the model's collection among its sources")
    pages.send(page, "When is the lamp lit?")
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    sources = page.get_by_role("button", name="Toggle 1 source").last
    expect(sources).to_be_visible()
    sources.click()
    expect(page.get_by_role("button", name=re.compile(rf"^View source: 1 keeper-{tag}"))
           ).to_be_visible()


CODE = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint(6 * 7)"


def chat_with_code(web_stack: WebStack, token: str) -> str:
    """A chat whose answer holds a Python code block (as a model writes one); its id."""
    return chat_with_answer(web_stack, token, f"Here it is:\n\n```python\n{CODE}\n```\n",
                            "Plot something and print 42")


def chat_with_answer(web_stack: WebStack, token: str, content: str,
                     asked: str = "Tell me something") -> str:
    """A chat of one question and gpt-fake's finished answer `content`; its id."""
    question, reply = str(uuid.uuid4()), str(uuid.uuid4())
    now = int(time.time())
    messages = {
        question: {"id": question, "parentId": None, "childrenIds": [reply], "role": "user",
                   "content": asked, "timestamp": now, "models": ["gpt-fake"]},
        reply: {"id": reply, "parentId": question, "childrenIds": [], "role": "assistant",
                "content": content, "model": "gpt-fake", "modelName": "gpt-fake",
                "timestamp": now, "done": True}}
    answer = httpx.post(f"{web_stack.url}/api/v1/chats/new",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"chat": {"title": asked, "models": ["gpt-fake"],
                                       "history": {"messages": messages, "currentId": reply},
                                       "messages": list(messages.values())}})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def test_run_on_a_code_block_executes_on_the_server(admin: Page, web_stack: WebStack,
                                                    step: Steps) -> None:
    page = admin
    step("open a chat whose answer has a Python code block")
    page.goto("/")
    pages.wait_for_chat_page(page)
    page.goto(f"/c/{chat_with_code(web_stack, token_of(page))}")
    block = page.locator(".chat-assistant").last
    expect(block.get_by_text("print(6 * 7)")).to_be_visible()
    step("press Run: the server's sandbox runs it")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/utils/code/execute")) as ran:
        block.get_by_role("button", name="Run").click()
    assert ran.value.status == 200, ran.value.text()
    step("the output and the figure show under the block")
    # Its stdout starts with 42 (matplotlib may add a warning of its own after it).
    expect(block.get_by_text(re.compile(r"^42(\s|$)"))).to_be_visible()
    expect(block.locator('img[src^="data:image/png;base64,"]')).to_have_count(1)
