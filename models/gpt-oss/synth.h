// Synthetic gpt-oss checkpoints: random weights in the published Hugging Face
// layout (config.json, sharded safetensors with model.safetensors.index.json,
// MXFP4 experts), for demos, tests and benchmarks without downloads.
//
// Weights are a pure function of (seed, tensor name, element index), computed
// by a counter-based generator, so the bytes do not depend on chunking or
// shard size and any slice can be regenerated alone. Tensors are streamed in
// chunks: a 120b-shaped checkpoint (61 GB) is written in constant memory.
#ifndef MOEC_MODELS_GPT_OSS_SYNTH_H_
#define MOEC_MODELS_GPT_OSS_SYNTH_H_

#include <cstdint>
#include <string>

#include "base/status.h"
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

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_SYNTH_H_
