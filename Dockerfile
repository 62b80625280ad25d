# The web app's production image: a virtualenv built in one stage, copied into a clean runtime stage.
#
#   docker build --build-arg APP_VERSION=1.0.42-3f2a1bc -t deliverypipeline:1.0.42-3f2a1bc .
#
# PYTHON_IMAGE defaults to Docker Hub's python:3.12-slim (CircleCI), pinned by the digest of its multi-platform
# index, so a rebuild gets the same base until the pin is moved on purpose. To move it (security updates):
#   docker buildx imagetools inspect python:3.12-slim      # "Digest:" of the index
# then replace the digest below and rebuild; the image job's tests run on the new base before it is pushed.
# Without Docker Hub, build on the Debian base image from scripts/docker-engine.sh:
#   --network host --build-arg PYTHON_IMAGE=deliverypipeline/python-base:bookworm
# Only `python3` is used: it exists in both.
ARG PYTHON_IMAGE=python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /build
RUN python3 -m venv /opt/venv
COPY webapp/requirements.txt ./requirements.txt
RUN /opt/venv/bin/python3 -m pip install --no-cache-dir --disable-pip-version-check --requirement requirements.txt \
 && /opt/venv/bin/python3 -m pip uninstall --yes --quiet pip setuptools \
 && find /opt/venv -name '__pycache__' -path '*/pip/*' -prune -exec rm -rf {} +

# Metadata first and the app last: a change to webapp/ rebuilds only the last few steps (each step costs a
# container on the vfs storage driver).
FROM ${PYTHON_IMAGE}
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /app/data \
 && chown app:app /app/data
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080
EXPOSE 8080
# Docker's own health status; loopback only, never through a proxy from the environment. /health never counts.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request as r; r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=2)"]
CMD ["python3", "-m", "webapp"]
USER 10001:10001

COPY --from=builder /opt/venv /opt/venv
COPY webapp/ /app/webapp/
ARG APP_VERSION=dev
ENV APP_VERSION=${APP_VERSION}
