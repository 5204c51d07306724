"""This machine's podman, set up for the Compose test: what it needs lives here, never in the
Dockerfile or the rendered files.

- podman 4.3 runs containers with runc (crun refuses this kernel's hybrid cgroup layout) and
  within the machine's hard limits (`ulimit -Hn` is 20,000; podman asks for 1,048,576):
  a containers.conf given through CONTAINERS_CONF, and two `--ulimit`s for `podman build`.
- No image registry is reachable: the base is a Debian made by debootstrap (cached in
  CACHE and as an image), with Python and this machine's CA bundle (a TLS-intercepting proxy).
- pip's configuration on this machine (its CA bundle, its wheel folders and local indexes,
  which hold the CPU build of torch) is mounted read-only into the builds.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("OWUI_CONTAINERS_CACHE", "/var/cache/owui-containers"))
SUITE = "bookworm"
DEBIAN = f"localhost/owui-test-debian:{SUITE}"
BASE = f"localhost/owui-test-base:{SUITE}"
IMAGES = {"owui": "localhost/owui-test-owui:latest",
          "postgres": "localhost/owui-test-postgres:15",
          "redis": "localhost/owui-test-redis:7",
          "chroma": "localhost/owui-test-chroma:1.5.9"}
ULIMITS = ("nofile=1024:1024", "nproc=1000:1000")
CONTAINERS_CONF = f"""[containers]
default_ulimits = [{", ".join(f'"{u}"' for u in ULIMITS)}]
[engine]
runtime = "runc"
"""
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def log(message: str) -> None:
    print(f"[containers {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Podman:
    conf: Path
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def here(cls, folder: Path) -> Podman:
        if shutil.which("podman") is None:
            raise RuntimeError("podman is not installed: apt-get install -y podman runc "
                               "debootstrap")
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        return cls(conf)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def run(self, *args: str, check: bool = True, timeout: float = 600,
            capture: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["podman", *args], env=self.env, text=True, timeout=timeout,
                              capture_output=capture, check=False)
        if check and done.returncode:
            raise RuntimeError(f"podman {' '.join(args)} exited {done.returncode}: "
                               f"{(done.stderr or '')[-3000:]}")
        return done

    def exists(self, image: str) -> bool:
        return self.run("image", "exists", image, check=False).returncode == 0

    def timed(self, step: str, seconds: float) -> None:
        self.timings[step] = round(seconds, 1)
        log(f"{step}: {seconds:.1f} s")

    # -- images --------------------------------------------------------------------------

    def debian(self) -> None:
        """Debian by debootstrap, once per machine (the folder and the image are kept)."""
        if self.exists(DEBIAN):
            return
        started = time.monotonic()
        rootfs = CACHE / f"debian-{SUITE}"
        if not (rootfs / "etc/debian_version").exists():
            if shutil.which("debootstrap") is None:
                raise RuntimeError("debootstrap is not installed: apt-get install -y debootstrap")
            partial = CACHE / f"debian-{SUITE}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(partial),
                            "http://deb.debian.org/debian"], check=True, capture_output=True,
                           timeout=1800)
            partial.rename(rootfs)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        done = subprocess.run(["podman", "import", "-", DEBIAN], stdin=tar.stdout,
                              env=self.env, capture_output=True, text=True, timeout=900)
        tar.wait()
        if done.returncode:
            raise RuntimeError(f"podman import: {done.stderr[-2000:]}")
        self.timed("debian base (debootstrap + import)", time.monotonic() - started)

    def build(self, tag: str, containerfile: Path, context: Path, *extra: str) -> None:
        started = time.monotonic()
        args = ["build", "--tag", tag, "--file", str(containerfile)]
        for limit in ULIMITS:
            args += ["--ulimit", limit]
        done = self.run(*args, *extra, str(context), check=False, timeout=3000)
        if done.returncode:
            raise RuntimeError(f"building {tag} failed:\n{done.stdout[-4000:]}\n"
                               f"{done.stderr[-4000:]}")
        self.timed(f"image {tag}", time.monotonic() - started)

    def base(self, work: Path) -> None:
        """Debian with Python and this machine's CA bundle, built once per machine."""
        self.debian()
        if self.exists(BASE):
            return
        context = work / "base-context"
        context.mkdir(parents=True, exist_ok=True)
        shutil.copy(CA_BUNDLE, context / "ca-certificates.crt")
        self.build(BASE, HERE / "base.Containerfile", context, "--build-arg", f"DEBIAN={DEBIAN}")

    def images(self, work: Path) -> dict[str, str]:
        """The four images; podman's layer cache makes a rebuild of unchanged inputs quick."""
        self.base(work)
        mounts = build_mounts()
        self.build(IMAGES["postgres"], HERE / "postgres.Containerfile", HERE,
                   "--build-arg", f"BASE={BASE}")
        self.build(IMAGES["redis"], HERE / "redis.Containerfile", HERE,
                   "--build-arg", f"BASE={BASE}")
        self.build(IMAGES["chroma"], HERE / "chroma.Containerfile", HERE,
                   "--build-arg", f"BASE={BASE}", *mounts)
        self.owui(mounts)
        return dict(IMAGES)

    def owui(self, mounts: list[str]) -> None:
        """owui's image as a user builds it: `owui image build`, with this machine's base and
        pip configuration."""
        started = time.monotonic()
        command = [str(REPO / ".venv/bin/owui"), "image", "build", "--tool", "podman",
                   "--tag", IMAGES["owui"], "--base", BASE, "--context", str(REPO)]
        for limit in ULIMITS:
            command += ["--ulimit", limit]
        command += mounts
        done = subprocess.run(command, env=self.env, capture_output=True, text=True,
                              timeout=3000, check=False)
        if done.returncode:
            raise RuntimeError(f"owui image build failed:\n{done.stdout[-4000:]}\n"
                               f"{done.stderr[-4000:]}")
        self.timed(f"image {IMAGES['owui']} (owui image build)", time.monotonic() - started)

    # -- clean-up, by name ----------------------------------------------------------------

    def remove_project(self, project: str) -> None:
        """Every container, volume and network a Compose project made, by its label/name."""
        ids = self.run("ps", "-a", "-q", "--filter", f"label=io.podman.compose.project={project}",
                       check=False).stdout.split()
        if ids:
            self.run("rm", "-f", "-t", "0", *ids, check=False)
        if self.run("pod", "exists", f"pod_{project}", check=False).returncode == 0:
            self.run("pod", "rm", "-f", f"pod_{project}", check=False)  # podman-compose's pod
        volumes = self.run("volume", "ls", "-q", "--filter",
                           f"label=io.podman.compose.project={project}",
                           check=False).stdout.split()
        if volumes:
            self.run("volume", "rm", "-f", *volumes, check=False)
        networks = self.run("network", "ls", "-q", "--filter",
                            f"label=io.podman.compose.project={project}",
                            check=False).stdout.split()
        if networks:
            self.run("network", "rm", "-f", *networks, check=False)

    def remove_working_containers(self) -> None:
        """What an interrupted build of ours leaves (`<base>-working-container`)."""
        listed = self.run("ps", "-a", "--external", "--format", "{{.ID}} {{.Names}}",
                          check=False).stdout.splitlines()
        ours = [line.split()[0] for line in listed
                if len(line.split()) == 2 and line.split()[1].startswith("owui-test-")
                and "-working-container" in line.split()[1]]
        if ours:
            self.run("rm", "-f", *ours, check=False)


def build_mounts() -> list[str]:
    """pip's configuration files on this machine and the folders they (and PIP_* variables)
    name, read-only, as `podman build -v` arguments."""
    files = [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"),
             Path.home() / ".config/pip/pip.conf", Path.home() / ".pip/pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    mounts: set[Path] = {f.parent if f.parent.name == "pip" else f for f in files if f.is_file()}
    values: list[str] = [v for k, v in os.environ.items() if k.startswith("PIP_")]
    for file in files:
        if file.is_file():
            parser = configparser.ConfigParser()
            parser.read(file)
            values += [v for section in parser.sections() for v in parser[section].values()]
    for value in values:
        for word in value.split():
            path = Path(word.removeprefix("file://"))
            if path.is_absolute() and path.exists() and path != Path("/"):
                # An index's simple/ folder links to files beside it: mount its parent.
                mounts.add(path.parent if path.name == "simple" else path)
    args: list[str] = []
    for path in sorted(mounts):
        if path.is_file() and path.suffix != ".conf":
            continue  # a constraints file is inside a mounted folder, or mounted itself
        args += ["--volume", f"{path}:{path}:ro"]
    return args
