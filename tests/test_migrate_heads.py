"""A schema at head is recognised without Alembic (core/migrate.py): the scripts' heads read from
their `revision`/`down_revision` lines, the recorded ones with one SELECT."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from owui.core.migrate import script_heads
from tests.helpers_cli import REPO, clean_env, run_owui


def _scripts(tmp_path: Path, *bodies: str) -> Path:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for number, body in enumerate(bodies):
        (versions / f"{number:04d}_step.py").write_text(body)
    return versions.parent


def test_heads_of_a_chain_a_branch_and_a_merge(tmp_path: Path) -> None:
    chain = _scripts(tmp_path / "chain", 'revision = "a"\ndown_revision = None\n',
                     'revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert script_heads(chain) == {"b"}
    branched = _scripts(tmp_path / "branched", 'revision = "a"\ndown_revision = None\n',
                        'revision = "b"\ndown_revision = "a"\n',
                        'revision = "c"\ndown_revision = "a"\n')
    assert script_heads(branched) == {"b", "c"}
    merged = _scripts(tmp_path / "merged", 'revision = "a"\ndown_revision = None\n',
                      'revision = "b"\ndown_revision = "a"\n',
                      'revision = "c"\ndown_revision = "a"\n',
                      'revision = "d"\ndown_revision = ("b", "c")\n')
    assert script_heads(merged) == {"d"}


def test_scripts_not_in_the_plain_form_are_left_to_alembic(tmp_path: Path) -> None:
    computed = _scripts(tmp_path / "computed", 'revision = "a" + "b"\ndown_revision = None\n')
    missing = _scripts(tmp_path / "missing", 'revision = "a"\n')
    broken = _scripts(tmp_path / "broken", 'revision = "a"\ndown_revision = (\n')
    empty = tmp_path / "empty"
    (empty / "versions").mkdir(parents=True)
    assert [script_heads(d) for d in (computed, missing, broken, empty)] == [None] * 4


def test_every_service_heads_are_its_newest_script() -> None:
    for service in ("gateway", "inference", "agent", "retrieval", "chat"):
        versions = REPO / "src" / "owui" / service / "migrations" / "versions"
        newest = max(path.name.split("_")[0] for path in versions.glob("[0-9]*.py"))
        assert script_heads(versions.parent) == {newest}, service


_CHECK = """
import asyncio, sys
from pathlib import Path
import owui.gateway.models as models
from owui.core.db import Database
from owui.core.migrate import at_head, run_migrations

async def main():
    db = Database(sys.argv[1])
    scripts = Path(models.__file__).parent / "migrations"
    try:
        await run_migrations(db, scripts, models.GatewayBase.metadata, "gateway")
        print(await at_head(db, scripts, "gateway"), "alembic" in sys.modules)
    finally:
        await db.dispose()

asyncio.run(main())
"""


def _check(url: str) -> str:
    result = subprocess.run([sys.executable, "-c", _CHECK, url], capture_output=True,
                            text=True, timeout=120, cwd=REPO, env=clean_env())
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_at_head_the_service_never_imports_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    assert _check(url) == "True True"  # fresh: Alembic migrates
    assert _check(url) == "True False"  # at head: found so without it
    result = run_owui("migrate", "--quiet", "gateway", env=clean_env(OWUI_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0 and result.stdout == "", result.stderr
