//===- Compile.h - checkpoint to .moex artifact -------------------*- C++ -*-===//
//
// The compiler's main job: import a checkpoint, run the pass pipeline (the
// default one for the target, or the user's), generate device code and write
// the artifact with the weights in the layout the kernels read, the plans and
// a self-test probe.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_COMPILER_COMPILE_H_
#define MOEC_COMPILER_COMPILE_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "gpt-oss/checkpoint.h"
#include "gpt-oss/importer.h"
#include "gpt-oss/synth.h"
#include "mlir/IR/BuiltinOps.h"
#include "schema/moex_generated.h"
#include "targets/common/EntryPoints.h"
#include "targets/common/TargetDescription.h"

namespace moec {

struct CompileOptions {
  // "x86-64-v3", "x86-64-v4", "native", "sm_90a", "gfx942".
  std::string target = "x86-64-v3";
  gptoss::ImportOptions import;
  // A textual pass pipeline replacing the default one (empty: default).
  std::string pipeline;
  // Pass names (e.g. "moe-fuse-residual-epilogue") to drop from the pipeline.
  std::vector<std::string> disabled_passes;
  bool print_ir_after_all = false;
  // Cores the schedule assumes (0: the target's, i.e. this machine's).
  int64_t compute_units = 0;
  // KV cache element type, "f32" or "bf16" (empty: the target's choice).
  std::string kv_cache_type;
  // Tokens of the self-test probe (positions 0..n-1).
  int64_t probe_tokens = 8;
  // The tokenizer to embed: an o200k `.tiktoken` ranks file or a HF
  // tokenizer.json. Empty: the checkpoint's tokenizer.json or
  // tokenizer.tiktoken when there is one, else none (no chat).
  std::string tokenizer;
  // Compute the self-test probe with the reference executor, which reads the
  // weights' bytes: off for a synthetic checkpoint opened without them.
  bool probe = true;
};

// Synthetic weights (`moec compile --synthetic-weights SEED`): when the
// checkpoint is synthetic (gptoss::OpenSyntheticCheckpoint), the artifact gets
// no weight bytes but the seed and each weight's generator parameters, and
// the runtime generates the weights (GPU: with a fill kernel added to the
// device image). The probe needs the weights in memory to run the reference
// executor; it is computed for models up to this many weight bytes.
inline constexpr uint64_t kMaxSyntheticProbeWeightBytes = uint64_t{1} << 30;
// Whether a synthetic model of `config` is small enough for a probe.
bool SyntheticProbeFits(const gptoss::ModelConfig& config);

// The default pipeline for `target`, as text (what --print-pipeline shows).
std::string DefaultPipeline(const TargetDescription& target, int64_t compute_units,
                            const std::string& kv_cache_type = "");

// Applies --pipeline and --disable-pass to the default; errors name unknown
// passes.
moert::Result<std::string> EffectivePipeline(const CompileOptions& options, const TargetDescription& target);

// Imports and runs the pipeline; the module is left in `module`.
moert::Status RunPipeline(const gptoss::Checkpoint& checkpoint, const CompileOptions& options,
                          mlir::MLIRContext* context, mlir::OwningOpRef<mlir::ModuleOp>& module);


// The device code for one target: an ELF shared object (CPU), PTX or a cubin
// (sm_90a), or HSACO (gfx942).
struct DeviceCode {
  moex::TargetKind kind = moex::TargetKind::CPU;
  moex::ImageFormat format = moex::ImageFormat::ELF_SHARED_OBJECT;
  std::string bytes;
  std::string assembly;  // GPU: PTX or AMDGCN disassembly (--emit device-asm)
  uint32_t block_x = 1;
  std::vector<KernelEntry> kernels;
};

// Code generation for the planned module (after RunPipeline).
// With `syntheticFill`, GPU images get the synthetic-weight fill kernel.
moert::Result<DeviceCode> GenerateDeviceCode(mlir::ModuleOp module, const TargetDescription& target,
                                             bool syntheticFill = false);

// Everything: writes the artifact to `output`.
moert::Status CompileToArtifact(const gptoss::Checkpoint& checkpoint, const CompileOptions& options,
                                const std::string& output);

}  // namespace moec

#endif  // MOEC_COMPILER_COMPILE_H_
