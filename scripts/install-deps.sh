#!/usr/bin/env bash
# Installs the Debian 12 packages kmchain needs to build and test, skipping those present.
# Safe to run repeatedly; runs apt-get only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libssl-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev libasio-dev libcoap3-dev
)
# clang-16 (with its sanitizer runtime) builds the libFuzzer targets: clang-14 cannot compile
# libstdc++-12's <ranges>.
if [[ "${KMCHAIN_FUZZ:-1}" == "1" ]]; then
  packages+=(clang-16 libclang-rt-16-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
