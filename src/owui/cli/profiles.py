"""Profiles: YAML files with a `name`, a `description` and the `env` the services run with."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

DEFAULT_PROFILE = "local"


class ProfileError(Exception):
    """A profile that cannot be found or read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)
    source: str = ""


def profile_dirs() -> list[Traversable]:
    """The wheel carries profiles inside the package (hatch force-include); an editable install
    has them only at the repository root, three levels above this package."""
    dirs: list[Traversable] = []
    packaged = resources.files("owui") / "profiles"
    if packaged.is_dir():
        dirs.append(packaged)
    repo_root = Path(__file__).resolve().parents[3] / "profiles"
    if repo_root.is_dir():
        dirs.append(repo_root)
    return dirs


def available_profiles() -> list[str]:
    names = {entry.name.removesuffix(".yaml") for directory in profile_dirs()
             for entry in directory.iterdir() if entry.name.endswith(".yaml")}
    return sorted(names)


def find_profile(name_or_path: str) -> Traversable:
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ProfileError(f"profile file {name_or_path} does not exist")
        return path
    for directory in profile_dirs():
        candidate = directory / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    known = ", ".join(available_profiles()) or "none found"
    raise ProfileError(f"unknown profile {name_or_path!r}; available: {known}")


def _env_value(value: object) -> str:
    # YAML reads `true` and `8000` as bool and int; the services read the environment as
    # text, and pydantic wants "true"/"false" rather than Python's "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_env_value(item) for item in value)  # Open WebUI's list separator
    return "" if value is None else str(value)


def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    import yaml

    source = find_profile(name_or_path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read profile {source}: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"profile {source} is not a mapping")
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise ProfileError(f"profile {source}: `env` must be a mapping of variable to value")
    fallback = Path(str(source)).stem
    return Profile(name=str(data.get("name") or fallback),
                   description=str(data.get("description") or ""),
                   env={str(key): _env_value(value) for key, value in env.items()},
                   source=str(source))
