#!/usr/bin/env bash
# Checks and benchmarks moec's GPU targets on a GPU machine, in two steps.
#
#   utils/gpu-check.sh prepare sm_90a|gfx942
#       Here (the development machine: LLVM/MLIR, clang-22): build, compile the
#       golden checkpoints and a full-width synthetic model for the target, and
#       gather the runtime binary, the artifacts and the golden files under
#       build/gpu-check/ (a folder small enough to carry to the GPU machine).
#   utils/gpu-check.sh run
#       On the GPU machine (needs only the driver): from the repository root,
#       run every check and benchmark with the carried moert-run and print one
#       table. Exit code 1 when a check fails.
#
# With the device tool: prepare here, then
#   run(command="utils/gpu-check.sh run", carry=["build/gpu-check"])
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/gpu-check

prepare() {
  local target=$1
  "$root/utils/build.sh" >/dev/null
  local bin=$root/build/bin testdata=$root/../shared/testdata
  rm -rf "$out" && mkdir -p "$out"
  cp "$bin/moert-run" "$out/"
  for m in tiny tiny-wide; do
    "$bin/moec" compile "$testdata/gpt-oss/$m" --target "$target" --max-context 256 --prefill-chunk 64 -o "$out/$m.moex"
    cp "$testdata/gpt-oss/$m/golden.safetensors" "$out/$m.golden.safetensors"
  done
  # Full width, few layers and experts: compared with the CPU path's logits.
  local wide=$root/build/gpu-check-model
  rm -rf "$wide"
  "$bin/moec" synth --preset 20b --layers 2 --experts 4 --vocab 4096 --seed 1 -o "$wide" >/dev/null
  "$bin/moec" compile "$wide" --target "$target" --max-context 256 --prefill-chunk 64 -o "$out/wide.moex"
  "$bin/moec" compile "$wide" --max-context 256 --prefill-chunk 64 -o "$wide/cpu.moex"
  "$bin/moert-run" "$wide/cpu.moex" --tokens 1,2,3,4,5,6,7,8,9,10,11,12 --out "$out/wide.cpu.safetensors"
  du -sh "$out"
}

run() {
  local bin=$out/moert-run failed=0
  printf '%-40s %s\n' "check" "result"
  check() {  # NAME COMMAND...
    local name=$1
    shift
    local result
    if result=$("$@" 2>&1); then
      printf '%-40s %s\n' "$name" "$(echo "$result" | grep -E 'PASS|tokens/s|relative' | head -1)"
    else
      printf '%-40s FAIL: %s\n' "$name" "$(echo "$result" | tail -1)"
      failed=1
    fi
  }
  for m in tiny tiny-wide; do
    check "$m: self-test probe" "$bin" "$out/$m.moex" --verify
    # A bf16 path must land no further from the fp32 logits than
    # transformers' own bf16 run (6.3e-3 tiny, 3.4e-2 tiny-wide).
    local tolerance=6.3e-3
    [[ $m == tiny-wide ]] && tolerance=3.4e-2
    check "$m: prefill vs golden fp32" "$bin" "$out/$m.moex" --compare "$out/$m.golden.safetensors" --tolerance $tolerance
    check "$m: decode vs golden fp32" "$bin" "$out/$m.moex" --compare "$out/$m.golden.safetensors" --tolerance $tolerance --stepwise
  done
  check "full width vs the CPU path" "$bin" "$out/wide.moex" --tokens 1,2,3,4,5,6,7,8,9,10,11,12 --compare "$out/wide.cpu.safetensors" --tolerance 1e-2
  "$bin" "$out/wide.moex" --bench --bench-tokens 64 --profile || failed=1
  return $failed
}

case ${1:-} in
  prepare) prepare "${2:?target: sm_90a or gfx942}" ;;
  run) run ;;
  *) sed -n 2,17p "$0"; exit 2 ;;
esac
