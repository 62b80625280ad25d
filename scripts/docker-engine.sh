#!/usr/bin/env bash
# A local Docker engine, a registry on 127.0.0.1:5000 and the project's base image, on a Debian machine.
#
# Idempotent: installs docker.io, docker-registry and mmdebstrap only when missing, starts dockerd and the
# registry only when they do not answer, builds the base image only when the engine does not have it.
# When everything is up it returns within a second or two. Runs as root (CI runs it from .ci/run).
#
# The engine: vfs storage, no iptables, no bridge -> containers use the host network (`--network host`).
# The base image: Debian bookworm (minbase + python3 + venv) built with mmdebstrap and `docker import`ed,
# because Docker Hub (python:3.12-slim) is not reachable here. Build the project image on it with
#   docker build --network host --build-arg PYTHON_IMAGE=deliverypipeline/python-base:bookworm .
#
# Environment (all optional):
#   BASE_IMAGE          tag of the base image             (deliverypipeline/python-base:bookworm)
#   REGISTRY_ADDR       where the registry listens        (127.0.0.1:5000)
#   STATE_DIR           logs, registry config and data    (/var/lib/deliverypipeline)
#   DEBIAN_MIRROR       Debian mirror for the base image  (http://deb.debian.org/debian)
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-deliverypipeline/python-base:bookworm}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
STATE_DIR="${STATE_DIR:-/var/lib/deliverypipeline}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm

DOCKERD_LOG="$STATE_DIR/dockerd.log"
REGISTRY_LOG="$STATE_DIR/registry.log"
REGISTRY_CONFIG="$STATE_DIR/registry.yml"
REGISTRY_DATA="$STATE_DIR/registry"

main() {
    require_root
    mkdir -p "$STATE_DIR"
    install_missing_packages
    ensure_dockerd
    ensure_registry
    ensure_base_image
    say "ready: engine $(docker version --format '{{.Server.Version}}'), registry http://$REGISTRY_ADDR, base image $BASE_IMAGE"
}

say() { printf 'docker-engine: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || fail "run as root (it installs packages and starts dockerd)"
}

# --- packages -------------------------------------------------------------------------------------------

install_missing_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- dockerd --------------------------------------------------------------------------------------------

engine_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_dockerd() {
    if engine_answers; then
        return 0
    fi
    remove_stale_pidfile /var/run/docker.pid dockerd
    say "starting dockerd (log: $DOCKERD_LOG)"
    setsid nohup dockerd \
        --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
        >>"$DOCKERD_LOG" 2>&1 </dev/null &
    wait_until "dockerd answers" 60 engine_answers || { tail -n 30 "$DOCKERD_LOG" >&2; fail "dockerd did not start"; }
}

# A pid file left by a process that is gone (a previous session, a killed CI job) keeps dockerd from starting
# when its pid now belongs to another process.
remove_stale_pidfile() {
    local pidfile="$1" name="$2" pid
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = "$name" ]; then
        return 0
    fi
    rm -f "$pidfile"
}

# --- registry -------------------------------------------------------------------------------------------

registry_answers() {
    python3 - "$REGISTRY_ADDR" <<'PY' >/dev/null 2>&1
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"http://{sys.argv[1]}/v2/", timeout=3) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
}

ensure_registry() {
    if registry_answers; then
        return 0
    fi
    mkdir -p "$REGISTRY_DATA"
    write_registry_config
    say "starting docker-registry on $REGISTRY_ADDR (log: $REGISTRY_LOG)"
    setsid nohup docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
    wait_until "the registry answers" 30 registry_answers || { tail -n 30 "$REGISTRY_LOG" >&2; fail "docker-registry did not start"; }
}

write_registry_config() {
    cat >"$REGISTRY_CONFIG" <<YAML
# Written by scripts/docker-engine.sh: a plain-HTTP registry on loopback (dockerd allows 127.0.0.0/8 insecure).
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
}

# --- base image -----------------------------------------------------------------------------------------

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    say "building $BASE_IMAGE from Debian $SUITE packages (mmdebstrap)"
    BUILD_DIR="$(mktemp -d)"
    trap 'rm -rf "$BUILD_DIR"' EXIT
    # The host's own CA certificates go into the image's trust store, so that pip inside `docker build` reaches
    # PyPI the way this host does (through its TLS-intercepting egress proxy, if it has one).
    mmdebstrap --quiet --variant=minbase --format=tar \
        --include=python3,python3-venv,python-is-python3,ca-certificates \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/"; chroot "$1" update-ca-certificates >/dev/null 2>&1; fi' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        "$SUITE" "$BUILD_DIR/base.tar" \
        "deb $DEBIAN_MIRROR $SUITE main" \
        "deb $DEBIAN_MIRROR $SUITE-updates main" \
        "deb $DEBIAN_SECURITY_MIRROR $SUITE-security main" \
        </dev/null
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "Debian $SUITE minbase + python3, python3-venv (scripts/docker-engine.sh)" \
        "$BUILD_DIR/base.tar" "$BASE_IMAGE" >/dev/null
}

# --- waiting --------------------------------------------------------------------------------------------

wait_until() {
    local what="$1" seconds="$2" deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "$what: still not after ${seconds}s"
            return 1
        fi
        sleep 0.5
    done
}

main "$@"
