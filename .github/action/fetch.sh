#!/usr/bin/env bash
# Fetch the prebuilt otapub for this runner from otapub's release for the
# action's ref, checked against that release's SHA256SUMS. Prints bin=PATH
# to GITHUB_OUTPUT on success; prints nothing (and the action builds from
# source) for refs without a release or when anything does not check out.
set -euo pipefail

ref="${OTAPUB_ACTION_REF:-}"
base="${OTAPUB_DOWNLOAD_BASE:-https://github.com/otapub/ota-action/releases/download}"
case "${RUNNER_OS:-Linux}" in
	Linux) os=linux ;;
	macOS) os=darwin ;;
	Windows) os=windows ;;
	*) echo "otapub: no prebuilt binary for RUNNER_OS=${RUNNER_OS}; building from source"; exit 0 ;;
esac
case "${RUNNER_ARCH:-X64}" in
	X64) arch=amd64 ;;
	ARM64) arch=arm64 ;;
	*) echo "otapub: no prebuilt binary for RUNNER_ARCH=${RUNNER_ARCH}; building from source"; exit 0 ;;
esac
ext=""
[ "$os" = windows ] && ext=".exe"
name="otapub_${os}_${arch}${ext}"

# Only full release versions (v1.2.3) have binaries; v1, branches and SHAs build.
if ! [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
	echo "otapub: ref '${ref}' has no release binaries; building from source"
	exit 0
fi
dir="${RUNNER_TEMP:-/tmp}/otapub-${ref}"
mkdir -p "$dir"
fetch() { curl -fsSL --retry 3 --retry-delay 2 --max-time 120 -o "$2" "$1"; }
if ! fetch "$base/$ref/$name" "$dir/$name" || ! fetch "$base/$ref/SHA256SUMS" "$dir/SHA256SUMS"; then
	echo "::warning::otapub: could not download $name of $ref; building from source"
	exit 0
fi
want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$dir/SHA256SUMS")
if command -v sha256sum >/dev/null; then
	got=$(sha256sum "$dir/$name" | awk '{ print $1 }')
else
	got=$(shasum -a 256 "$dir/$name" | awk '{ print $1 }')
fi
if [ -z "$want" ] || [ "$want" != "$got" ]; then
	echo "::warning::otapub: $name does not match the SHA256SUMS of $ref; building from source"
	rm -f "$dir/$name"
	exit 0
fi
chmod +x "$dir/$name"
echo "otapub: using $name of $ref (sha256 $got)"
echo "bin=$dir/$name" >>"$GITHUB_OUTPUT"
