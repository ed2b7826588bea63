#!/usr/bin/env bash
# Regenerates the dialect references in docs/Dialects/ and the pass reference
# docs/Passes.md from the ODS sources: builds the mlir-doc target (mlir-tblgen
# -gen-dialect-doc for moe and mx, -gen-pass-doc for compiler/Transforms) and
# copies its output over the committed files. test/Docs/dialect-docs-current.test
# fails until this has been run after an ODS change.
# Usage: utils/update-docs.sh   (MOEC_BUILD_DIR picks the build, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOEC_BUILD_DIR:-$root/build}
if [[ ! -f $build/build.ninja ]]; then
  MOEC_BUILD_DIR=$build "$root/utils/build.sh"
fi
cmake --build "$build" --target mlir-doc
mkdir -p "$root/docs/Dialects"
for dialect in MoeDialect MxDialect; do
  cp "$build/docs/Dialects/$dialect.md" "$root/docs/Dialects/$dialect.md"
done
cp "$build/docs/MoecPasses.md" "$root/docs/Passes.md"
git -C "$root" status --short -- docs/Dialects docs/Passes.md
