#!/usr/bin/env bash
# Checks and benchmarks moec's GPU targets on a GPU machine, in two steps.
#
#   utils/gpu-check.sh prepare sm_90a|gfx942 [--no-full-size]
#       Here (the development machine: LLVM/MLIR, clang-22): build, compile for
#       the target the golden checkpoints, a full-width synthetic model and
#       (unless --no-full-size) gpt-oss-20b and -120b with synthetic weights
#       (generated on the device, so the artifacts stay small), and gather the
#       runtime binary, the artifacts and the reference files under
#       build/gpu-check/ (small enough to carry: 64 MiB).
#   utils/gpu-check.sh run
#       On the GPU machine (needs only the driver): from the repository root,
#       run every check and benchmark with the carried moert-run, print the
#       benchmark output, then one table of checks. Exit code 1 when a check
#       fails.
#
# With the device tool: prepare here, then
#   run(command="utils/gpu-check.sh run", carry=["build/gpu-check"])
#
# Checks (the issue's): tiny and tiny-wide logits no further from
# transformers' fp32 logits than transformers' own bf16 run, prefill and
# token by token; greedy tokens equal to the reference executor's; the
# self-test probe; decode with split-KV attention (a long-context tiny); the
# full-width model against the CPU path's logits. Each model also runs with
# --compare-trace against a trace made here by the same kernels on the CPU's
# SIMT emulator, which names the first kernel whose results differ on the
# device (a diagnosis: its row never fails the run). A failing check prints
# its whole output, and compute-sanitizer (memcheck) then runs tiny's prefill.
# Benchmarks: decode tokens/s at context 1024 and 8192, prefill tokens/s of a
# 2048-token prompt, and the per-kernel times of one decode step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/gpu-check
declare -A greedy_prompt=([tiny]=313,651,473,96,521,904,258,612,877,292,473,823
                          [tiny-wide]=1600,112,515,1319,415,151,1032,178,1998,1580,1474,1133)
wide_prompt=1,2,3,4,5,6,7,8,9,10,11,12
# Batch-1 decode limits on an H100 (../shared/reference/performance.md); issue 6 asks 20b for 40%.
declare -A decode_limit=([20b]=809 [120b]=600)

# emulated_trace MODEL_DIR NAME COMPILE_OPTIONS... -- RUN_OPTIONS...: compiles
# MODEL_DIR (none: synthetic options) for the target's emulator and saves the
# dispatch trace of RUN_OPTIONS (with --generate 4 unless --stepwise) as
# NAME.emulated.trace, with the run options for `run` to repeat.
emulated_trace() {
  local name=$2 compile=() run_options=()
  [[ -n $1 ]] && compile=("$1")
  shift 2
  while [[ $1 != -- ]]; do compile+=("$1"); shift; done
  shift
  run_options=("$@")
  [[ " ${run_options[*]} " == *" --stepwise "* ]] || run_options+=(--generate 4)
  local artifact=$root/build/gpu-check-$name-emulated.moex
  "$root/build/bin/moec" compile "${compile[@]}" --cpu "x86-64-emulated-$(cat "$out/target")" -o "$artifact"
  "$root/build/bin/moert-run" "$artifact" "${run_options[@]}" --trace "$out/$name.emulated.trace" >/dev/null
  echo "${run_options[*]}" >"$out/$name.trace-options"
}

prepare() {
  local target=$1 full_size=$2
  "$root/utils/build.sh" >/dev/null
  local bin=$root/build/bin testdata=$root/../shared/testdata
  rm -rf "$out" && mkdir -p "$out"
  cp "$bin/moert-run" "$out/"
  echo "$target" >"$out/target"
  for m in tiny tiny-wide; do
    "$bin/moec" compile "$testdata/gpt-oss/$m" --target "$target" --max-context 256 --prefill-chunk 64 -o "$out/$m.moex"
    cp "$testdata/gpt-oss/$m/golden.safetensors" "$out/$m.golden.safetensors"
    "$bin/moec" reference "$testdata/gpt-oss/$m" --tokens ${greedy_prompt[$m]} --generate 24 >"$out/$m.greedy"
    emulated_trace "$testdata/gpt-oss/$m" $m --max-context 256 --prefill-chunk 64 -- --tokens ${greedy_prompt[$m]}
  done
  # A long context makes decode split attention over the keys (split-KV).
  "$bin/moec" compile "$testdata/gpt-oss/tiny" --target "$target" --max-context 2048 --prefill-chunk 64 \
    -o "$out/tiny-long.moex"
  emulated_trace "$testdata/gpt-oss/tiny" tiny-long --max-context 2048 --prefill-chunk 64 -- \
    --tokens ${greedy_prompt[tiny]}
  # Full width, few layers and experts, synthetic weights: the CPU executor
  # generates the same weights bit for bit, so its logits are the reference.
  local shape=(--synthetic-weights 7 --preset 20b --layers 2 --experts 4 --vocab 4096)
  "$bin/moec" compile "${shape[@]}" --target "$target" --max-context 256 --prefill-chunk 64 -o "$out/wide.moex"
  "$bin/moec" compile "${shape[@]}" --max-context 256 --prefill-chunk 64 -o "$root/build/gpu-check-wide-cpu.moex"
  "$bin/moert-run" "$root/build/gpu-check-wide-cpu.moex" --tokens $wide_prompt --out "$out/wide.cpu.safetensors" >/dev/null
  # Token by token only: the emulator takes minutes over a full-width prefill.
  emulated_trace "" wide "${shape[@]}" --max-context 256 --prefill-chunk 64 -- --tokens 1,2,3,4 --stepwise
  if [[ $full_size == yes ]]; then
    # 8192-token contexts plus the decoded tokens; 2048-row prefill chunks.
    for preset in 20b 120b; do
      "$bin/moec" compile --synthetic-weights 1 --preset $preset --target "$target" --max-context 8320 \
        --prefill-chunk 2048 -o "$out/$preset.moex"
    done
  fi
  du -sh "$out"
}

run() {
  local bin=$out/moert-run failed=0 table=""
  row() { table+=$(printf '%-44s %s' "$1" "$2")$'\n'; }
  check() {  # NAME COMMAND...: the command's PASS line, or FAIL
    local name=$1 result
    shift
    if result=$("$@" 2>&1); then
      row "$name" "$(echo "$result" | grep -E 'PASS' | tail -1)"
    else
      echo "== FAIL: $name: $*"
      echo "$result"
      row "$name" "FAIL: $(echo "$result" | tail -1)"
      failed=1
    fi
  }
  diagnose() {  # NAME: each kernel against the emulator's trace; never fails the run
    local name=$1 result options summary
    read -ra options <"$out/$name.trace-options"
    if result=$("$bin" "$out/$name.moex" "${options[@]}" --compare-trace "$out/$name.emulated.trace" 2>&1); then
      row "$name: every kernel vs the emulator" "$(echo "$result" | grep '^trace vs' | sed 's/^trace vs [^:]*: //')"
    else
      echo "== kernels of $name vs the emulator (diagnosis)"
      echo "$result"
      # The comparison's verdict, or the error that stopped the run.
      summary=$(echo "$result" | grep '^trace vs' || echo "$result" | tail -1)
      row "$name: every kernel vs the emulator" "DIFFERS (diagnosis): ${summary#trace vs *: }"
    fi
  }
  same() {  # NAME FILE COMMAND...: the command's output equals FILE
    local name=$1 want=$2 got
    shift 2
    if got=$("$@" 2>&1) && [[ $got == "$(cat "$want")" ]]; then
      row "$name" "PASS: $(echo "$got" | cut -c1-40)..."
    else
      row "$name" "FAIL: got $(echo "$got" | tail -1 | cut -c1-60), want $(cut -c1-60 "$want")"
      failed=1
    fi
  }
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null ||
    rocm-smi --showproductname 2>/dev/null || true
  for m in tiny tiny-wide; do
    check "$m: self-test probe" "$bin" "$out/$m.moex" --verify
    # A bf16 path must land no further from the fp32 logits than
    # transformers' own bf16 run (6.3e-3 tiny, 3.4e-2 tiny-wide).
    local tolerance=6.3e-3
    [[ $m == tiny-wide ]] && tolerance=3.4e-2
    check "$m: prefill vs golden fp32" "$bin" "$out/$m.moex" --compare "$out/$m.golden.safetensors" --tolerance $tolerance
    check "$m: decode vs golden fp32" "$bin" "$out/$m.moex" --compare "$out/$m.golden.safetensors" --tolerance $tolerance --stepwise
    same "$m: greedy tokens = reference's" "$out/$m.greedy" "$bin" "$out/$m.moex" --tokens ${greedy_prompt[$m]} --generate 24
    diagnose $m
  done
  check "tiny, split-KV decode vs golden fp32" "$bin" "$out/tiny-long.moex" --compare "$out/tiny.golden.safetensors" --tolerance 6.3e-3 --stepwise
  same "tiny, split-KV: greedy tokens = reference's" "$out/tiny.greedy" "$bin" "$out/tiny-long.moex" --tokens ${greedy_prompt[tiny]} --generate 24
  diagnose tiny-long
  check "full width vs the CPU path" "$bin" "$out/wide.moex" --tokens $wide_prompt --compare "$out/wide.cpu.safetensors" --tolerance 2e-2
  check "full width, decode vs the CPU path" "$bin" "$out/wide.moex" --tokens $wide_prompt --stepwise --compare "$out/wide.cpu.safetensors" --tolerance 2e-2
  diagnose wide
  if [[ $failed == 1 ]] && command -v compute-sanitizer >/dev/null; then
    echo "== compute-sanitizer memcheck: tiny, prefill and 4 decoded tokens"
    timeout 300 compute-sanitizer --tool memcheck --print-limit 20 "$bin" "$out/tiny.moex" \
      --tokens ${greedy_prompt[tiny]} --generate 4 2>&1 | tail -40 || true
  fi
  echo "== full width (2 layers, 4 experts), decode at context 64"
  "$bin" "$out/wide.moex" --bench --bench-tokens 64 --profile || failed=1
  for preset in 20b 120b; do
    [[ -f $out/$preset.moex ]] || continue
    for context in 1024 8192; do
      echo "== gpt-oss-$preset (synthetic weights), decode at context $context"
      local result
      if result=$("$bin" "$out/$preset.moex" --bench --bench-context $context --bench-tokens 64 2>&1); then
        echo "$result"
        local speed
        speed=$(echo "$result" | grep '^decode:' | sed 's/.*= //; s/ tokens\/s//')
        row "$preset: decode at context $context" \
          "$speed tokens/s = $(awk -v s="$speed" -v l="${decode_limit[$preset]}" 'BEGIN { printf "%.0f", 100 * s / l }')% of the H100 limit (${decode_limit[$preset]} tokens/s)"
      else
        echo "$result"
        row "$preset: decode at context $context" "FAIL: $(echo "$result" | tail -1)"
        failed=1
      fi
    done
    echo "== gpt-oss-$preset (synthetic weights), prefill of 2048 tokens, decode kernels"
    local result
    if result=$("$bin" "$out/$preset.moex" --bench --bench-context 2048 --bench-tokens 16 --profile 2>&1); then
      echo "$result"
      row "$preset: prefill of 2048 tokens" "$(echo "$result" | grep '^prefill:' | sed 's/.*= //')"
    else
      echo "$result"
      row "$preset: prefill of 2048 tokens" "FAIL: $(echo "$result" | tail -1)"
      failed=1
    fi
  done
  echo
  printf '%-44s %s\n' "check ($(cat "$out/target"))" "result"
  printf '%s' "$table"
  return $failed
}

case ${1:-} in
  prepare)
    full_size=yes
    [[ ${3:-} == --no-full-size ]] && full_size=no
    prepare "${2:?target: sm_90a or gfx942}" $full_size
    ;;
  run) run ;;
  *) sed -n 2,26p "$0"; exit 2 ;;
esac
