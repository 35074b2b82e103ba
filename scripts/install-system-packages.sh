#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the service and its tests use, if any is missing.
set -euo pipefail
packages=(python3-venv python3-dev build-essential pkg-config libmariadb-dev ffmpeg sox espeak-ng wrk pocketsphinx-testdata chromium nodejs)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# npm comes with NodeSource's nodejs, and as a package of its own with Debian's (the tests run the
# official openai package for Node.js).
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
