# One image for all five services: `docker run IMAGE serve SERVICE --host 0.0.0.0`.
# Build: docker build -t owui:latest .
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY profiles ./profiles
# torch from the CPU-only index: the CUDA build would add gigabytes that no service uses.
RUN pip install --no-cache-dir build \
 && python -m build --wheel --outdir /wheels \
 && python -m venv /opt/owui \
 && /opt/owui/bin/pip install --no-cache-dir \
      --extra-index-url https://download.pytorch.org/whl/cpu /wheels/owui-*.whl

FROM python:3.12-slim
# bubblewrap: the agent's code sandbox; nothing else beyond the Python base.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 owui \
 && useradd --uid 10001 --gid owui --home-dir /data --no-create-home owui \
 && mkdir -p /data/files \
 && chown -R owui:owui /data
COPY --from=build /opt/owui /opt/owui
ENV PATH=/opt/owui/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OWUI_DATA_DIR=/data \
    HF_HUB_OFFLINE=1
USER owui
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000 8001 8002 8003 8004
ENTRYPOINT ["owui"]
CMD ["serve", "gateway", "--host", "0.0.0.0"]
