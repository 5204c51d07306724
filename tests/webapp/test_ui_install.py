"""`owui ui install` and `owui ui status`: the wheel from the index (pip, here from a local
--find-links folder), cached, and unpacked unchanged; a clear message when it cannot be had."""

from __future__ import annotations

from pathlib import Path

from tests.helpers_cli import clean_env, run_owui
from tests.support.procs import closed_port
from tests.webapp.fake_build import FILES, write_wheel


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"), OWUI_DATA_DIR=str(tmp_path / "data"),
                     **extra)


def test_install_downloads_once_and_unpacks_unchanged(tmp_path: Path) -> None:
    index = tmp_path / "index"
    write_wheel(index)
    env = _env(tmp_path, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(index))
    first = run_owui("ui", "install", "--version", "0.12.4", env=env)
    assert first.returncode == 0, first.stderr
    assert "Downloading open-webui 0.12.4" in first.stderr
    cached = tmp_path / "cache" / "owui" / "wheels" / "open_webui-0.12.4-py3-none-any.whl"
    assert cached.is_file()
    target = tmp_path / "data" / "webapp" / "0.12.4"
    for name, text in FILES.items():
        assert (target / name).read_bytes() == text.encode("latin-1"), name
    assert not (target / "__init__.py").exists()  # only the web app, not the backend
    assert (tmp_path / "data" / "webapp" / "current").read_text().strip() == "0.12.4"

    status = run_owui("ui", "status", env=env)
    assert status.returncode == 0 and str(target / "frontend") in status.stdout

    # Installed already: nothing fetched. Forced: unpacked again from the cache, offline.
    again = run_owui("ui", "install", env=env)
    assert again.returncode == 0 and "is installed" in again.stderr
    (target / "frontend" / "index.html").unlink()
    offline = _env(tmp_path, PIP_INDEX_URL=f"http://127.0.0.1:{closed_port()}/simple")
    assert run_owui("ui", "status", env=offline).returncode == 1
    repaired = run_owui("ui", "install", env=offline)
    assert repaired.returncode == 0, repaired.stderr
    assert "Downloading" not in repaired.stderr
    assert (target / "frontend" / "index.html").is_file()


def test_unreachable_index_is_a_clear_message(tmp_path: Path) -> None:
    env = _env(tmp_path, PIP_INDEX_URL=f"http://127.0.0.1:{closed_port()}/simple")
    result = run_owui("ui", "install", "--version", "0.12.3", env=env, timeout=120)
    assert result.returncode == 1
    assert "cannot download open-webui==0.12.3 from the package index" in result.stderr
    assert "API without the web app" in result.stderr
    status = run_owui("ui", "status", env=env)
    assert status.returncode == 1 and "owui ui install" in status.stdout


def test_damaged_wheel_and_bad_version(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "owui" / "wheels"
    cache.mkdir(parents=True)
    (cache / "open_webui-0.12.4-py3-none-any.whl").write_bytes(b"not a zip")
    result = run_owui("ui", "install", env=_env(tmp_path))
    assert result.returncode == 1 and "damaged" in result.stderr
    assert not (cache / "open_webui-0.12.4-py3-none-any.whl").exists()
    bad = run_owui("ui", "install", "--version", "../../etc", env=_env(tmp_path))
    assert bad.returncode == 2 and "not a release number" in bad.stderr


def test_up_says_where_the_app_is_or_why_there_is_none(tmp_path: Path) -> None:
    from owui.cli.up import webapp_line
    from tests.webapp.fake_build import write_build

    data = tmp_path / "data"
    assert "owui ui install" in webapp_line({"OWUI_DATA_DIR": str(data)}, "http://h:8000")
    write_build(data / "webapp" / "0.12.4")
    (data / "webapp" / "current").write_text("0.12.4\n")
    line = webapp_line({"OWUI_DATA_DIR": str(data)}, "http://h:8000")
    assert line == "Open WebUI's web app: http://h:8000"
    own = write_build(tmp_path / "own")
    assert webapp_line({"OWUI_DATA_DIR": str(tmp_path / "empty"),
                        "FRONTEND_BUILD_DIR": str(own / "frontend")}, "http://h:8000") == line
    broken = webapp_line({"OWUI_DATA_DIR": str(data), "FRONTEND_BUILD_DIR": str(tmp_path)},
                         "http://h:8000")
    assert "incomplete or broken" in broken and "index.html" in broken
