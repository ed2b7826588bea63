#!/usr/bin/env bash
# The main job, end to end, on a small default model: set up, build, write a
# synthetic model, generate from it and print the speed, then check the
# executor against transformers' golden outputs.
#
# Until the compiler and runtime exist (issues 3-4), generation runs on the
# fp32 reference executor; this script switches to the compiled path then.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/utils/build.sh" >/dev/null
build=${MOEC_BUILD_DIR:-$root/build}
moec=$build/bin/moec
model=$build/models/tiny-synth

echo "== synthesizing a tiny gpt-oss model (seed 0) in $model"
"$moec" synth --preset tiny --seed 0 -o "$model"

echo "== generating 32 tokens greedily after a 16-token prompt (fp32 reference executor)"
"$moec" reference "$model" --tokens 1,5,9,200,13,77,300,512,8,21,34,55,89,144,233,377 --generate 32 --stats

echo "== checking against transformers' fp32 outputs (../shared/testdata/gpt-oss)"
for m in tiny tiny-wide; do
  "$moec" reference "$root/../shared/testdata/gpt-oss/$m" \
    --compare "$root/../shared/testdata/gpt-oss/$m/golden.safetensors" | grep "^logits vs"
done
