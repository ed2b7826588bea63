// Synthetic gpt-oss checkpoints: random weights in the published Hugging Face
// layout (config.json, sharded safetensors with model.safetensors.index.json,
// MXFP4 experts), for demos, tests and benchmarks without downloads.
//
// Weights are a pure function of (seed, tensor name, element index), computed
// by the counter-based generator in runtime/src/base/synthetic_weights.h, so
// the bytes do not depend on chunking or shard size and any slice can be
// regenerated alone, by the runtime too (`moec compile --synthetic-weights`).
// Tensors are streamed in chunks: a 120b-shaped checkpoint (61 GB) is written
// in constant memory.
#ifndef MOEC_MODELS_GPT_OSS_SYNTH_H_
#define MOEC_MODELS_GPT_OSS_SYNTH_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/synthetic_weights.h"
#include "gpt-oss/checkpoint.h"
#include "gpt-oss/config.h"

namespace moec::gptoss {

struct SynthOptions {
  ModelConfig config;
  uint64_t seed = 0;
  // A new shard starts when the next tensor would take one past this size (a
  // tensor larger than the limit gets a shard of its own).
  uint64_t max_shard_bytes = uint64_t{4} << 30;
  // Leave the tensor data as holes that read as zeros: headers, index and
  // config are complete, no weight bytes are written (for tests of readers
  // that never touch weights, e.g. the importer on a 120b shape).
  bool sparse = false;
};

struct SynthSummary {
  uint64_t num_tensors = 0;
  uint64_t tensor_bytes = 0;
  uint64_t num_shards = 0;
};

// Writes the checkpoint into `dir` (created when missing).
moert::Result<SynthSummary> WriteSyntheticCheckpoint(const SynthOptions& options, const std::string& dir);

// How the checkpoint tensor `name` (of `kind` and `shape`, as in
// ExpectedHfTensors) is drawn: bf16 weights uniform around 0 (norm gains
// around 1) with a standard deviation of 1/sqrt(fan-in), MXFP4 codes as
// random bytes, and scales that keep expert matmuls at unit variance.
moert::synthetic::Distribution SyntheticDistribution(const std::string& name, WeightKind kind,
                                                     const std::vector<int64_t>& shape);

// The generator's stream of that tensor for `seed` (all of its bytes).
moert::synthetic::Part SyntheticTensorPart(const ExpectedTensor& tensor, uint64_t seed);

// The synthetic checkpoint of `config` and `seed` without files: the tensors
// moec synth would write, in the HF layout. With `with_data` their bytes are
// generated into memory the checkpoint owns (for the reference executor),
// else every WeightRef's data is null (shapes and names only; for the
// compiler, which then writes weights the runtime generates). `dir` is where
// a tokenizer may be found ("" for none).
moert::Result<Checkpoint> OpenSyntheticCheckpoint(const ModelConfig& config, uint64_t seed, bool with_data,
                                                  const std::string& dir);

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_SYNTH_H_
