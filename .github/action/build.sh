#!/usr/bin/env bash
# Build otapub from the action's own source (actions/setup-go has installed
# Go and restored the module cache). Prints bin=PATH to GITHUB_OUTPUT.
set -euo pipefail
ext=""
[ "${RUNNER_OS:-}" = Windows ] && ext=".exe"
out="${RUNNER_TEMP:-/tmp}/otapub-src/otapub${ext}"
cd "$OTAPUB_ACTION_PATH"
CGO_ENABLED=0 go build -trimpath -o "$out" ./cmd/otapub
echo "otapub: built from source at $(git rev-parse --short HEAD 2>/dev/null || echo "${OTAPUB_ACTION_PATH}")"
echo "bin=$out" >>"$GITHUB_OUTPUT"
