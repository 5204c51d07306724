"""Migrations run once per deploy: a Job (k8s); in Compose each service at its start, under
PostgreSQL's advisory lock (podman-compose cannot wait for a one-shot service), waiting for
PostgreSQL rather than exiting."""

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
def test_compose_services_migrate_at_start_and_wait_for_postgres(rendered, profile: str) -> None:
    doc = yaml.safe_load((rendered["compose", profile] / "docker-compose.yml").read_text())
    assert "migrate" not in doc["services"]
    for name in NAMES:
        service = doc["services"][name]
        environment = service["environment"]
        assert "OWUI_MIGRATE_ON_START" not in environment  # the default: migrate at start
        assert float(environment["OWUI_DATABASE_WAIT"]) >= 60
        # Start order (and, under Docker Compose, the stores' health); never an exited service.
        assert service["depends_on"] == {store: {"condition": "service_healthy"}
                                         for store in ("postgres", "chroma", "redis")}
