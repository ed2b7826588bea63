#!/usr/bin/env bash
# The main job, end to end, on a small default model: set up and build,
# synthesize a small gpt-oss model (random weights, the real o200k_harmony
# tokenizer), compile it for this CPU, run it through the runtime, print its
# speed, and check the compiled path against transformers' reference outputs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/utils/build.sh" >/dev/null
build=${MOEC_BUILD_DIR:-$root/build}
bin=$build/bin
work=$build/quickstart
testdata=$root/../shared/testdata
mkdir -p "$work"

echo "== synthesizing tiny-chat (hidden 128, 4 layers, 8 experts, full 201088-token vocabulary)"
"$bin/moec" synth --preset tiny-chat --seed 0 --tokenizer "$testdata/tokenizer/o200k_base.tiktoken" -o "$work/model"

echo "== compiling for this CPU (--cpu native)"
"$bin/moec" compile "$work/model" --cpu native --max-context 1024 --prefill-chunk 64 -o "$work/model.moex"
"$bin/moert-run" "$work/model.moex" --verify

echo "== a chat turn (harmony, o200k_harmony; random weights, so the model's text is noise and"
echo "   usually never reaches the final channel: the stats show the protocol ran)"
"$bin/moert-run" "$work/model.moex" --prompt "What is 2 + 2?" --reasoning low --max-tokens 32 --show-analysis
echo

echo "== speed"
"$bin/moert-run" "$work/model.moex" --bench --bench-tokens 64

echo "== the compiled CPU path against transformers' fp32 logits (../shared/testdata/gpt-oss)"
for m in tiny tiny-wide; do
  "$bin/moec" compile "$testdata/gpt-oss/$m" --max-context 256 --prefill-chunk 64 -o "$work/$m.moex"
  "$bin/moert-run" "$work/$m.moex" --compare "$testdata/gpt-oss/$m/golden.safetensors" | grep "^logits vs"
done
