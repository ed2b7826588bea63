#!/usr/bin/env bash
# Installs the Debian 12 packages moec needs to build and test. Idempotent and
# quiet when everything is already there. Needs root (or sudo) only when
# something is missing.
set -euo pipefail

packages=(
  # build
  cmake ninja-build python3
  # LLVM/MLIR 22 (bookworm-security): compilers, MLIR, lit/FileCheck
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # runtime dependencies and unit tests
  libflatbuffers-dev flatbuffers-compiler libgtest-dev
  # Unicode character data for the tokenizer's generated tables
  unicode-data
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
((${#missing[@]} == 0)) && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
