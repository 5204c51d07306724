#!/usr/bin/env bash
# CI step after `make test`: the rendered Compose deployment run in containers with podman
# (tests/containers/e2e_compose.py). Installs what it needs on a fresh Debian machine: podman,
# runc (podman's crun refuses this kernel's hybrid cgroup layout), debootstrap (the base image:
# no registry is reachable) and podman-compose (PyPI) in the project's venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "ci: install ${missing[*]} (apt-get install -y podman runc debootstrap)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
[ -x .venv/bin/podman-compose ] || .venv/bin/pip install --quiet podman-compose==1.6.0
echo "ci: container tools ready in $((SECONDS - started)) s"
.venv/bin/pytest tests/containers/e2e_compose.py -p no:cacheprovider -o addopts="" -ra -s \
    --timeout 3000
echo "ci: containers step took $((SECONDS - started)) s"
