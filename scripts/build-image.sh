#!/usr/bin/env bash
# Build the service's Docker image where no Docker engine or image registry is reachable
# (our development machines and CI): Debian's podman builds the Dockerfile with chroot
# isolation and vfs storage, on a Debian bookworm + Python 3.11 base that mmdebstrap makes
# from Debian's packages. With a registry, plain `docker build .` does the same from
# python:3.11-slim-bookworm.
#   IMAGE  the tag to build (default localhost/tts-service:latest)
#   BASE   the base image (default localhost/debian-python:3.11, made here if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${IMAGE:-localhost/tts-service:latest}"
BASE="${BASE:-localhost/debian-python:3.11}"
PODMAN=(podman --storage-driver=vfs)

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" uidmap >/dev/null
fi

if ! "${PODMAN[@]}" image exists "$BASE"; then
  echo "Making the base image $BASE with mmdebstrap (Debian bookworm, Python 3.11)" >&2
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm - | "${PODMAN[@]}" import --quiet - "$BASE" >/dev/null
fi

# pip inside the build trusts what pip here trusts (a proxy's CA, on machines behind one).
cert="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
extra=()
if [ -n "$cert" ] && [ -f "$cert" ]; then
  extra+=(--volume "$cert:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
fi
echo "Building $IMAGE on $BASE" >&2
"${PODMAN[@]}" build --quiet --isolation=chroot --network=host --format=docker \
  --build-arg BASE="$BASE" "${extra[@]}" -t "$IMAGE" . >/dev/null
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
echo "built $IMAGE: $((size / 1024 / 1024)) MiB" >&2
