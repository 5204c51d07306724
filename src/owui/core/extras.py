"""Optional parts of owui installed as extras (`pip install 'owui[chroma]'`): the check that
names the missing extra when a setting asks for one, instead of an ImportError deep in a call."""

from __future__ import annotations

import importlib.util


def missing_extra(module: str, extra: str, setting: str) -> str | None:
    """None when `module` is installed; else the message for the user of `setting`."""
    if importlib.util.find_spec(module) is not None:
        return None
    return (f"{setting} needs the '{extra}' extra, which is not installed: "
            f"pip install 'owui[{extra}]' (with pipx: pipx install --force 'owui[{extra}]')")
