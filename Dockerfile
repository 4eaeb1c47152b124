# syntax=docker/dockerfile:1
#
# chitieu HTTP service. CPU image by default:
#   docker build -t chitieu .
#   docker run -p 8000:8000 chitieu
# The model served is models/PROMOTED from the build context (or CHITIEU_MODEL); to serve
# other folders without rebuilding, mount them: -v "$PWD/models:/app/models:ro".
#
# GPU image: PyTorch's CUDA wheels carry the CUDA runtime, so the same slim base works;
# the host needs only the NVIDIA driver and the container toolkit:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t chitieu:cuda .
#   docker run --gpus all -e CHITIEU_DEVICE=cuda -p 8000:8000 chitieu:cuda
# A CUDA base image is possible too (BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
# plus TORCH_INDEX as above), but it must provide `python3.11` with venv on PATH: chitieu
# needs Python 3.11, which stock Ubuntu CUDA images do not ship.
#
# The base is pinned by its full tag. To pin the digest as well (recommended for release
# builds), resolve it once and pass it in:
#   docker buildx imagetools inspect python:3.11.15-slim-bookworm   # prints the index digest
#   docker build --build-arg BASE_IMAGE=python:3.11.15-slim-bookworm@sha256:<digest> .
ARG BASE_IMAGE=python:3.11.15-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, from its own index: from PyPI a bare torch pin would pull the multi-GB
# CUDA build into the CPU image. chitieu's `torch==2.13.0` then accepts 2.13.0+cpu.
RUN pip install --index-url ${TORCH_INDEX} torch==${TORCH_VERSION}
WORKDIR /src
COPY pyproject.toml README.md ./
COPY chitieu ./chitieu
COPY serve ./serve
COPY train ./train
RUN pip install . && python -c "import chitieu.serve.app, chitieu.serve.routes.admin"

FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    XDG_CACHE_HOME=/tmp/cache \
    CHITIEU_MODELS_DIR=/app/models
RUN groupadd --system --gid 10001 chitieu \
    && useradd --system --uid 10001 --gid chitieu --home-dir /app --shell /usr/sbin/nologin chitieu
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Owned by root (no --chown): the service user can read the models but not replace them.
COPY models/ /app/models/
USER chitieu:chitieu
EXPOSE 8000
# /ready, not /health: the container counts as healthy only once the model is loaded and
# warmed up. The slim image has no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
CMD ["chitieu", "serve", "--host", "0.0.0.0", "--port", "8000"]
