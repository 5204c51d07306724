"""Knowledge in the web app: create a collection in the Workspace, upload three files made
here (text, PDF, DOCX) through the collection page's "Add Content > Upload files", watch them
process and join the collection, then in a new chat pick the collection with `#`, ask, and see
the answer's sources (and open one)."""

from __future__ import annotations

import re
import time
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack
from tests.retrieval.documents import make_docx, make_pdf

MODEL = "gpt-fake"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _files(tag: str) -> list[dict[str, object]]:
    """Three documents of different kinds, each naming the tag (so each is found)."""
    return [
        {"name": f"field-notes-{tag}.txt", "mimeType": "text/plain",
         "buffer": f"Field notes {tag}: the heron nests by the northern pond.".encode()},
        {"name": f"survey-{tag}.pdf", "mimeType": "application/pdf",
         "buffer": make_pdf([f"Survey {tag}: forty herons were counted in April."])},
        {"name": f"plan-{tag}.docx", "mimeType": DOCX,
         "buffer": make_docx(f"Plan {tag}", ["Keep the pond quiet while herons nest."])},
    ]


def _api_token(web_stack: WebStack) -> str:
    answer = httpx.post(f"{web_stack.url}/api/v1/auths/signin",
                        json={"email": web_stack.admin_email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _wait_for_files(web_stack: WebStack, knowledge_id: str, count: int) -> list[str]:
    """What the page shows is checked too; this says the collection holds them for the API."""
    headers = {"Authorization": f"Bearer {_api_token(web_stack)}"}
    deadline = time.monotonic() + 120
    names: list[str] = []
    while time.monotonic() < deadline:
        answer = httpx.get(f"{web_stack.url}/api/v1/knowledge/{knowledge_id}/files",
                           headers=headers)
        names = [item["filename"] for item in answer.json()["items"]]
        if len(names) >= count:
            return names
        time.sleep(0.5)
    raise AssertionError(f"the collection holds {names}, not {count} files")


def test_collection_files_and_sources_in_chat(page: Page, web_stack: WebStack,
                                              step: Steps) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Herons {tag}"
    step("sign in as the admin")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    step("create a knowledge collection in the Workspace")
    page.goto("/workspace/knowledge/create")
    page.get_by_placeholder("Name your knowledge base").fill(name)
    page.get_by_placeholder("Describe your knowledge base and objectives").fill("Birds")
    page.get_by_role("button", name="Create Knowledge").click()
    expect(page).to_have_url(re.compile(r"/workspace/knowledge/[0-9a-f-]{36}$"))
    knowledge_id = page.url.rsplit("/", 1)[-1]
    step("upload a text file, a PDF and a Word document")
    files = _files(tag)
    page.locator("#files-input").set_input_files(files)  # what "Upload files" opens
    step("watch them process and join the collection")
    for file in files:
        expect(page.get_by_text(str(file["name"])).first).to_be_visible(timeout=120_000)
    assert sorted(_wait_for_files(web_stack, knowledge_id, 3)) == sorted(
        str(f["name"]) for f in files)
    step("a new chat: pick the collection with #")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.pick_model(page, MODEL)
    pages.attach_collection(page, tag, name)
    step("ask about the files")
    pages.send(page, "How many herons were counted?")
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    step("the answer shows its sources, and one opens")
    pages.open_sources(page, tag).click()
    expect(page.get_by_text(re.compile(r"heron", re.I)).first).to_be_visible()
