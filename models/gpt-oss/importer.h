// The gpt-oss importer: a checkpoint becomes a moe-dialect module with two
// entry points,
//
//   @prefill(tokens, positions, slots, caches...) -> (logits, caches...)
//       over a chunk of `prefill_chunk` rows of one sequence, and
//   @decode(tokens, positions, slots, caches...)  -> (logits, caches...)
//       over one token of each of `decode_batch` sequences,
//
// with static shapes chosen by the options and every per-layer fact (sliding
// window on the layers that have it, sinks, RoPE parameters, expert count,
// top-k) carried as attributes from the configuration. Only headers are read:
// weights are referenced by name (their Hugging Face names, whatever the
// layout on disk), so a 120b checkpoint imports in milliseconds.
#ifndef MOEC_MODELS_GPT_OSS_IMPORTER_H_
#define MOEC_MODELS_GPT_OSS_IMPORTER_H_

#include <cstdint>

#include "base/status.h"
#include "gpt-oss/checkpoint.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace moec::gptoss {

struct ImportOptions {
  // KV-cache capacity per sequence, in tokens (positions must stay below).
  int64_t max_context = 4096;
  // Rows of the prefill entry point; shorter prompts pad with position -1.
  int64_t prefill_chunk = 128;
  // Sequences decoded together, one token each; also the cache's slot count.
  int64_t decode_batch = 1;
};

// Checks the options against the model (e.g. the context fits the model's
// max_position_embeddings); the message names the option.
moert::Status ValidateImportOptions(const ModelConfig& config, const ImportOptions& options);

// Builds the module. The context must have the moe, mx, func and arith
// dialects loaded (see compiler/Registration.h).
moert::Result<mlir::OwningOpRef<mlir::ModuleOp>> ImportCheckpoint(const Checkpoint& checkpoint,
                                                                  const ImportOptions& options,
                                                                  mlir::MLIRContext* context);

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_IMPORTER_H_
