#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the service and its tests use, if any is missing; with
# --service, only those the service itself needs (`make run`): Python's venv, what mysqlclient
# builds with, and FFmpeg.
set -euo pipefail
packages=(python3-venv python3-dev build-essential pkg-config libmariadb-dev ffmpeg)
# The tests' Hindi speech: espeak-ng driving MBROLA's Hindi diphone voice (espeak-ng's own Hindi
# voice is not heard as Hindi; tests/speech.py). Debian keeps MBROLA in contrib and its voices in
# non-free, Ubuntu both in multiverse: they come from a source list of their own, used for them
# alone, so the machine's own sources stay as they are.
mbrola_packages=()
if [ "${1:-}" != --service ]; then
  packages+=(sox espeak-ng wrk pocketsphinx-testdata chromium nodejs)
  mbrola_packages=(mbrola mbrola-in1)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
mbrola_missing=()
for pkg in "${mbrola_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || mbrola_missing+=("$pkg")
done
# npm comes with NodeSource's nodejs, and as a package of its own with Debian's (the tests run the
# official openai package for Node.js).
[ "${1:-}" = --service ] || command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && [ ${#mbrola_missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if [ ${#mbrola_missing[@]} -gt 0 ]; then
  # shellcheck source=/dev/null
  . /etc/os-release
  lists=$(mktemp -d)
  trap '$sudo rm -rf "$lists"' EXIT
  if [ "${ID:-}" = ubuntu ]; then
    echo "deb http://archive.ubuntu.com/ubuntu ${VERSION_CODENAME} multiverse" >"$lists/sources.list"
  else
    echo "deb http://deb.debian.org/debian ${VERSION_CODENAME} contrib non-free" >"$lists/sources.list"
  fi
  mkdir -p "$lists/state/partial"
  apt_options=(-o "Dir::Etc::SourceList=$lists/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$lists/state")
  $sudo apt-get "${apt_options[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get "${apt_options[@]}" install -y -qq --no-install-recommends \
    "${mbrola_missing[@]}"
fi
