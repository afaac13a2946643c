# syntax=docker/dockerfile:1
# phonghop server image. Build:  docker build -t phonghop .
# Run:    docker run -d --name phonghop -p 8000:8000 -v phonghop-data:/data phonghop
# See docs/DEPLOY.md for settings, TLS and backups, and deploy/compose.yaml for a whole site.

# Debian 12: its LibreOffice and fonts are the ones the image was checked with.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- stage 1: the wheels the lock names, with the hashes it names ---------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# aiortc, av, pymupdf, argon2, psycopg-binary... all ship manylinux wheels (x86-64 and arm64),
# so no compiler is installed and nothing is built from source. A file on the index whose
# hash is not in requirements.lock fails the build.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip download --require-hashes --only-binary :all: --dest /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY server ./server
COPY agenda ./agenda
COPY recorder ./recorder
COPY web ./web
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---- stage 2: runtime, installed from /wheels only -----------------------------------
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="phonghop" \
      org.opencontainers.image.description="Paperless meeting room for local councils (phòng họp không giấy)" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/phonghop/bin:$PATH

# tini is PID 1: it passes signals on and reaps what the server's children leave (LibreOffice
# converting a Word upload, the recorder). LibreOffice Writer turns Word and OpenDocument
# uploads into PDF; the fonts stand in for Times New Roman, Arial and Calibri, with Vietnamese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       tini libreoffice-writer-nogui \
       fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea \
    && rm -rf /var/lib/apt/lists/* \
    && command -v soffice

# The wheels and the lock are bind-mounted, not copied, so they do not end up in a layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.lock,target=/tmp/requirements.lock \
    python -m venv /opt/phonghop \
    && /opt/phonghop/bin/pip install --no-cache-dir --no-index --find-links /wheels \
       --require-hashes -r /tmp/requirements.lock \
    && /opt/phonghop/bin/pip install --no-cache-dir --no-index --no-deps /wheels/phonghop-*.whl \
    && /opt/phonghop/bin/phonghop --help > /dev/null

# /data must exist and belong to the user before VOLUME: a new named volume copies it.
RUN groupadd --system --gid 10001 phonghop \
    && useradd --system --uid 10001 --gid phonghop --home-dir /home/phonghop --create-home \
       --shell /usr/sbin/nologin phonghop \
    && mkdir -p /data \
    && chown phonghop:phonghop /data \
    && chmod 0750 /data

ENV PHONGHOP_DATA_DIR=/data \
    PHONGHOP_HOST=0.0.0.0 \
    PHONGHOP_PORT=8000

VOLUME /data
WORKDIR /data
EXPOSE 8000

# No curl in slim images: ask /healthz with Python. Non-200 (503 = database down) or no
# answer raises, and the exit code is 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PHONGHOP_PORT', '8000'), timeout=4)"]

USER phonghop

ENTRYPOINT ["/usr/bin/tini", "--"]
# `serve` applies the database migrations before it starts listening.
CMD ["phonghop", "serve"]
