"""What Open WebUI's web app reads from inference besides the model list: `GET /openai/config`
(admin) and a model's profile image, which `<img>` loads."""

from __future__ import annotations

import base64
import uuid

import httpx

from tests.inference.conftest import PROVIDER_KEY, Infra

PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
         "AABJRU5ErkJggg==")
IMAGE = "/api/v1/models/model/profile/image"


def test_openai_config_lists_the_connections_without_their_keys(infra: Infra) -> None:
    answer = httpx.get(f"{infra.inference}/openai/config", headers=infra.admin, timeout=30)
    assert answer.status_code == 200, answer.text
    config = answer.json()
    assert config["ENABLE_OPENAI_API"] is True
    urls = config["OPENAI_API_BASE_URLS"]
    assert urls[0] == infra.fakes["openai-a"].url + "/v1"
    assert config["OPENAI_API_KEYS"] == [""] * len(urls)
    assert PROVIDER_KEY not in answer.text
    assert sorted(config["OPENAI_API_CONFIGS"]) == sorted(str(i) for i in range(len(urls)))
    assert config["OPENAI_API_CONFIGS"]["0"]["enable"] is True
    refused = httpx.get(f"{infra.inference}/openai/config", headers=infra.user, timeout=30)
    assert refused.status_code == 403, refused.text


def _preset(infra: Infra, headers: dict[str, str], image: str) -> str:
    preset = f"pic-{uuid.uuid4().hex[:8]}"
    # Through the gateway: its access header says the user may make models (workspace.models).
    made = httpx.post(f"{infra.gateway}/api/v1/models/create", headers=headers, timeout=30,
                      json={"id": preset, "base_model_id": "gpt-fake", "name": preset,
                            "params": {}, "access_grants": [],
                            "meta": {"profile_image_url": image}})
    assert made.status_code == 200, made.text
    return preset


def _image(infra: Infra, headers: dict[str, str], model: str) -> httpx.Response:
    return httpx.get(f"{infra.inference}{IMAGE}", params={"id": model}, headers=headers,
                     timeout=30)


def test_a_preset_image_is_answered_and_anything_else_is_the_default(infra: Infra) -> None:
    own = _preset(infra, infra.user, f"data:image/png;base64,{PIXEL}")
    answer = _image(infra, infra.user, own)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == base64.b64decode(PIXEL)
    assert _image(infra, infra.admin, own).content == answer.content  # admins read every preset
    for model in ("gpt-fake", "no-such-model"):  # a provider's model, or nothing at all
        default = _image(infra, infra.user, model)
        assert (default.status_code, default.headers["location"]) == (307,
                                                                      "/static/favicon.png")


def test_urls_are_redirected_to_and_broken_images_are_the_default(infra: Infra) -> None:
    linked = _preset(infra, infra.admin, "https://example.com/face.png")
    answer = _image(infra, infra.admin, linked)
    assert (answer.status_code, answer.headers["location"]) == (307,
                                                               "https://example.com/face.png")
    hidden = _image(infra, infra.user, linked)  # private to the admin
    assert hidden.headers["location"] == "/static/favicon.png"
    for broken in ("data:image/png;base64,not base64!", "data:text/html;base64,PGI+",
                   "javascript:alert(1)", "//evil.example/x.png"):
        answer = _image(infra, infra.admin, _preset(infra, infra.admin, broken))
        assert (answer.status_code, answer.headers["location"]) == (307,
                                                                   "/static/favicon.png")
