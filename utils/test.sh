#!/usr/bin/env bash
# Runs every test: installs what is missing, builds from scratch if needed,
# then ctest (unit tests and the lit suite) with one summary line at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/utils/build.sh"
build=${MOEC_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir "$build" --output-on-failure -j "$jobs"
