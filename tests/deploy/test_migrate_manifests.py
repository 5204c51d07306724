"""Migrations run once in the rendered deployments: a Job (k8s), a one-shot service (Compose)."""

from __future__ import annotations

import pytest
import yaml

from owui.core.services import SERVICES
from tests.deploy.conftest import k8s_objects

NAMES = {service.name for service in SERVICES}


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_k8s_has_the_migrate_job_and_deployments_do_not_migrate(rendered, profile: str) -> None:
    objects = k8s_objects(rendered["k8s", profile])
    jobs = [o for o in objects if o["kind"] == "Job"]
    assert [job["metadata"]["name"] for job in jobs] == ["owui-migrate"]
    job = jobs[0]["spec"]
    assert job["backoffLimit"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] in {"OnFailure", "Never"}
    [container] = pod["containers"]
    assert container["args"] == ["migrate"]
    refs = {source.get("secretRef", source.get("configMapRef"))["name"]
            for source in container["envFrom"]}
    assert refs == {"owui-config", "owui-secrets", "owui-database"}
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {f"owui-{n}" for n in NAMES}
    for deployment in deployments:
        [service] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == service["image"]
        env = {item["name"]: item.get("value") for item in service["env"]}
        assert env["OWUI_MIGRATE_ON_START"] == "false"
    secret = next(o for o in objects if o["metadata"]["name"] == "owui-database")
    assert {f"DATABASE_URL_{n.upper()}" for n in NAMES} <= set(secret["stringData"])


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_compose_services_wait_for_the_migrate_service(rendered, profile: str) -> None:
    doc = yaml.safe_load((rendered["compose", profile] / "docker-compose.yml").read_text())
    migrate = doc["services"]["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in NAMES:
        assert migrate["environment"][f"DATABASE_URL_{name.upper()}"].endswith(f"/owui_{name}")
        service = doc["services"][name]
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
        assert service["environment"]["OWUI_MIGRATE_ON_START"] == "false"
        assert service["image"] == migrate["image"]
