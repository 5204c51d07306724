"""The command line that starts one kernel: inside bubblewrap, or (opt-in) bare."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from owui.core.config import Settings

KERNEL_SOURCE = (Path(__file__).parent / "kernel.py").read_text()
WORKSPACE = "/workspace"
# Files under /etc that programs need and that hold nothing of the services'.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/fonts",
             "/etc/mime.types", "/etc/ssl/certs")
USR_MERGED = ("bin", "lib", "lib64", "sbin")


class SandboxUnavailable(RuntimeError):
    """The configured sandbox cannot run here; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Limits:
    cpu_seconds: int
    memory: int
    processes: int
    file_size: int
    output: int
    open_files: int = 256

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(cpu_seconds=settings.code_execution_cpu_limit,
                   memory=int(settings.code_execution_memory_limit),
                   processes=settings.code_execution_max_processes,
                   file_size=int(settings.code_execution_max_file_size),
                   output=int(settings.code_execution_output_limit))

    def kernel_argument(self) -> str:
        return json.dumps({"output_limit": self.output, "rlimits": {
            "RLIMIT_CPU": self.cpu_seconds, "RLIMIT_AS": self.memory,
            "RLIMIT_NPROC": self.processes, "RLIMIT_FSIZE": self.file_size,
            "RLIMIT_NOFILE": self.open_files, "RLIMIT_CORE": 0}})


def clean_env(home: str, tmp: str) -> dict[str, str]:
    """The whole environment of a kernel: nothing is inherited from the service."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": tmp,
            "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{tmp}/matplotlib",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1"}


def python_roots() -> list[str]:
    """The directories the interpreter and its packages live in, outside /usr."""
    executable = Path(os.path.realpath(sys.executable))
    roots = {sys.prefix, sys.base_prefix, str(executable.parent.parent)}
    return sorted(r for r in roots if not (r == "/usr" or r.startswith("/usr/")))


def _parents(path: str, made: set[str]) -> list[str]:
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name != "/" and name not in made:
            made.add(name)
            # bwrap makes missing parents 0700: the kernel's user could not pass through.
            args += ["--perms", "0755", "--dir", name]
    return args


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in USR_MERGED:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.exists():
            args += ["--ro-bind", str(host), str(host)]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def bwrap_command(workspace: Path, uid: int | None, limits: Limits,
                  tmp_size: int) -> list[str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("Code execution needs bubblewrap (`apt-get install "
                                 "bubblewrap`), or CODE_EXECUTION_SANDBOX=none to run code "
                                 "unconfined.")
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--hostname", "sandbox", *_system_binds()]
    # The private /tmp first: a venv that lives under /tmp (a CI checkout, say) is bound on
    # top of it below, rather than hidden by it.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp"]
    made: set[str] = {"/tmp"}
    for root in python_roots():
        args += [*_parents(root, made), "--ro-bind", root, root]
    args += ["--bind", str(workspace), WORKSPACE, "--chdir", WORKSPACE, "--clearenv"]
    for key, value in clean_env(WORKSPACE, "/tmp").items():
        args += ["--setenv", key, value]
    if uid is None:
        # Not root: a user namespace of its own does what the uid change does for root.
        args += ["--unshare-user", "--disable-userns", "--"]
    else:
        args += ["--", shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}",
                 f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                 "--no-new-privs"]
    return [*args, sys.executable, "-I", "-c", KERNEL_SOURCE, limits.kernel_argument()]


def bare_command(limits: Limits) -> list[str]:
    return [sys.executable, "-I", "-c", KERNEL_SOURCE, limits.kernel_argument()]
