//===- ArtifactWriter.h - writes .moex artifacts ------------------*- C++ -*-===//
//
// The compiler describes an artifact piece by piece (segments, weights, device
// images, buffers, entry points, model config, target, tokenizer, probe) and
// calls Write once. Indices returned by the Add* calls are the indices the
// manifest uses, so later pieces refer to earlier ones by them.
//
// Layout: header (runtime/src/artifact/header.h), the FlatBuffers manifest at
// 4096, then the segment area at the next 4096 boundary, each segment at a
// 4096-aligned offset in the order added, zero padding between and after. The
// output is byte-for-byte deterministic: the same calls give the same bytes.
//
// Large segments are streamed: AddStreamedSegment takes the size and a producer
// that writes the bytes when Write reaches that segment, so multi-GB weights are
// never held in memory, let alone twice. Checksums are computed while writing.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H_
#define MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "schema/moex_generated.h"

namespace moec {

// Receives a streamed segment's bytes, in order.
class SegmentSink {
 public:
  virtual ~SegmentSink() = default;
  // Fails when the producer writes more than the declared size.
  virtual moert::Status Write(const void* data, uint64_t size) = 0;
};

// Writes exactly the declared number of bytes into the sink. Called once, during
// Write, and must produce the same bytes every time for deterministic output.
using SegmentProducer = std::function<moert::Status(SegmentSink& sink)>;

// Each *Desc mirrors the moex.fbs table of the same name; see the schema for
// what every field means.
struct ModelConfigDesc {
  uint32_t num_layers = 0;
  uint32_t hidden_size = 0;
  uint32_t num_heads = 0;
  uint32_t num_kv_heads = 0;
  uint32_t head_dim = 0;
  uint32_t num_experts = 0;
  uint32_t experts_per_token = 0;
  uint32_t intermediate_size = 0;
  uint32_t vocab_size = 0;
  uint32_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  double rope_theta = 0;
  double rope_scaling_factor = 0;
  double rope_beta_fast = 0;
  double rope_beta_slow = 0;
  uint32_t rope_original_context = 0;
  bool rope_truncate = false;
  double rms_norm_eps = 0;
  double swiglu_limit = 0;
  double swiglu_alpha = 0;
  int32_t eos_token_id = -1;
};

struct TargetDesc {
  moex::TargetKind kind = moex::TargetKind::CPU;
  std::string name;                          // "x86-64-v4", "sm_90a", "gfx942"
  std::vector<std::string> required_features;  // CPU only: "avx2", "fma", ...
};

struct TokenizerDesc {
  uint32_t ranks_segment = 0;
  std::string encoding = "o200k_harmony";
};

struct ProbeDesc {
  std::vector<int32_t> tokens;
  uint32_t logits_segment = 0;  // f32 [tokens.size(), vocab_size]
  float tolerance = 0;
};

struct SyntheticPartDesc {
  uint64_t offset = 0;  // within the weight
  uint64_t size = 0;
  uint64_t name_hash = 0;
  moex::SyntheticDistribution distribution = moex::SyntheticDistribution::UNIFORM_BF16;
  int64_t center = 0;     // UNIFORM_BF16, x 2^32
  int64_t amplitude = 0;  // UNIFORM_BF16, x 2^32
  int32_t exponent = 0;   // E8M0_SCALES
};

struct WeightDesc {
  std::string name;
  uint32_t segment = 0;
  uint64_t offset = 0;  // within the segment
  uint64_t size = 0;    // must match dtype x shape (MXFP4: 17 bytes per 32 values)
  moex::DType dtype = moex::DType::F32;
  std::vector<int64_t> shape;
  std::string layout;
  // Non-empty: the runtime generates the weight (segment and offset unused).
  std::vector<SyntheticPartDesc> synthetic;
};

struct SyntheticWeightsDesc {
  uint64_t seed = 0;
  int32_t fill_image = -1;  // GPU: the fill kernel
  int32_t fill_kernel = -1;
};

struct KernelDesc {
  std::string name;
  std::string symbol;
  uint32_t num_bindings = 0;
  uint32_t num_constants = 0;
  uint32_t block_x = 1;               // GPU threads per workgroup
  uint32_t shared_memory_bytes = 0;   // GPU dynamic shared memory
};

struct DeviceImageDesc {
  moex::ImageFormat format = moex::ImageFormat::ELF_SHARED_OBJECT;
  uint32_t segment = 0;
  std::vector<KernelDesc> kernels;
};

struct BufferDesc {
  std::string name;
  moex::BufferKind kind = moex::BufferKind::ACTIVATION;
  uint64_t size = 0;
  uint32_t alignment = 64;
  int32_t weight = -1;        // WEIGHT buffers: index of the weight
  uint64_t arena_offset = 0;  // ACTIVATION buffers
};

struct BindingDesc {
  uint32_t buffer = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct DispatchDesc {
  uint32_t image = 0;
  uint32_t kernel = 0;
  uint32_t workgroups_x = 1;
  uint32_t workgroups_y = 1;
  uint32_t workgroups_z = 1;
  std::vector<BindingDesc> bindings;
  std::vector<uint32_t> constants;
};

struct EntryPointDesc {
  std::string name;  // "prefill", "decode"
  uint32_t rows = 0;
  uint32_t tokens = 0, positions = 0, slots = 0;  // INPUT buffers, i32 [rows]
  uint32_t logits = 0;                            // OUTPUT buffer, f32 [rows, vocab]
  std::vector<DispatchDesc> dispatches;
  uint32_t live_rows = 0;  // INPUT buffer, i32 [2] (EntryPoint.live_rows)
};

struct WriteOptions {
  // Check the manifest with the runtime's verifier before writing any segment,
  // and reopen the output with the runtime's reader afterwards. Off only in
  // tests that write damaged artifacts on purpose.
  bool verify = true;
};

class ArtifactWriter {
 public:
  ArtifactWriter();
  ~ArtifactWriter();
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;

  // "moec <git describe>"; recorded, never checked. No timestamps, please.
  void setProducer(std::string producer);
  void setModelConfig(ModelConfigDesc config);
  void setTarget(TargetDesc target);
  // KV-cache capacity per sequence and number of sequence slots.
  void setContext(uint32_t maxContext, uint32_t numSlots);
  void setActivationArenaSize(uint64_t bytes);
  void setTokenizer(TokenizerDesc tokenizer);
  void setProbe(ProbeDesc probe);
  void setSyntheticWeights(SyntheticWeightsDesc synthetic);

  // Segments, in file order; each returns the segment's index.
  uint32_t addSegment(std::string bytes);
  uint32_t addSegment(const void* data, uint64_t size);
  uint32_t addStreamedSegment(uint64_t size, SegmentProducer producer);
  uint64_t segmentSize(uint32_t index) const;
  uint32_t numSegments() const;

  uint32_t addWeight(WeightDesc weight);
  uint32_t addImage(DeviceImageDesc image);
  uint32_t addBuffer(BufferDesc buffer);
  uint32_t addEntryPoint(EntryPointDesc entryPoint);

  // Writes the artifact to `path` (through `path`.tmp and a rename, so a failed
  // write leaves no half-written artifact behind).
  moert::Status write(const std::string& path, const WriteOptions& options = {});
  // The same bytes, in memory (for tests and small artifacts).
  moert::Result<std::string> writeToString(const WriteOptions& options = {});

  class Output;  // where write() puts the bytes; defined in the .cpp

 private:
  struct SegmentEntry {
    uint64_t size = 0;
    std::string bytes;         // when copied in
    SegmentProducer producer;  // when streamed
  };

  // The manifest with these segment offsets and checksums.
  std::string buildManifest(const std::vector<uint64_t>& offsets,
                            const std::vector<uint64_t>& checksums) const;
  moert::Status writeTo(Output& out, const std::string& source, const WriteOptions& options);

  std::string producer_;
  std::optional<ModelConfigDesc> model_;
  std::optional<TargetDesc> target_;
  uint32_t maxContext_ = 0;
  uint32_t numSlots_ = 0;
  uint64_t activationArenaSize_ = 0;
  std::optional<TokenizerDesc> tokenizer_;
  std::optional<ProbeDesc> probe_;
  std::optional<SyntheticWeightsDesc> synthetic_;
  std::vector<SegmentEntry> segments_;
  std::vector<WeightDesc> weights_;
  std::vector<DeviceImageDesc> images_;
  std::vector<BufferDesc> buffers_;
  std::vector<EntryPointDesc> entryPoints_;
};

}  // namespace moec

#endif  // MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H_
