// A gpt-oss checkpoint opened for reading: its configuration and every
// weight, memory-mapped from safetensors files (single, sharded with an index,
// or the OpenAI "original/" layout), mapped onto one model description.
//
// Open() verifies everything before anything is used: each file's header, the
// index, that every tensor the configuration implies is present with the
// shape and dtype it implies, and that nothing else is there. Weight bytes are
// never copied.
#ifndef MOEC_MODELS_GPT_OSS_CHECKPOINT_H_
#define MOEC_MODELS_GPT_OSS_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/safetensors.h"
#include "base/status.h"
#include "gpt-oss/config.h"

namespace moec::gptoss {

// One model weight: a whole tensor of a file, or (in the original layout,
// where q, k and v share one `qkv` tensor) a contiguous range of its rows.
struct WeightRef {
  std::string name;  // the tensor's name in the file, with "[rows a:b]" for a slice
  std::string file;  // the file it lives in
  moert::DType dtype = moert::DType::kU8;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t byte_size = 0;

  uint64_t num_elements() const;
  // Element i of a floating-point weight (BF16, F16 or F32) as float.
  float ElementAsFloat(uint64_t i) const;
  // Row `row` of a 2-D (or leading-dims-flattened) float weight, `cols` long.
  void RowAsFloat(int64_t row, int64_t cols, float* out) const;
  std::vector<float> ToFloatVector() const;
};

// Roles of the weights of one transformer block.
struct LayerWeights {
  WeightRef attn_norm;       // [D]
  WeightRef q_weight;        // [H*d, D]
  WeightRef q_bias;          // [H*d]
  WeightRef k_weight;        // [G*d, D]
  WeightRef k_bias;          // [G*d]
  WeightRef v_weight;        // [G*d, D]
  WeightRef v_bias;          // [G*d]
  WeightRef o_weight;        // [D, H*d]
  WeightRef o_bias;          // [D]
  WeightRef sinks;           // [H]
  WeightRef mlp_norm;        // [D]
  WeightRef router_weight;   // [E, D]
  WeightRef router_bias;     // [E]
  WeightRef gate_up_blocks;  // u8 [E, 2I, D/32, 16], rows interleave gate (even) and up (odd)
  WeightRef gate_up_scales;  // u8 [E, 2I, D/32]
  WeightRef gate_up_bias;    // [E, 2I]
  WeightRef down_blocks;     // u8 [E, D, I/32, 16]
  WeightRef down_scales;     // u8 [E, D, I/32]
  WeightRef down_bias;       // [E, D]
};

enum class CheckpointLayout { kHuggingFace, kOriginal };
const char* CheckpointLayoutName(CheckpointLayout layout);

// What a tensor of the checkpoint must look like.
enum class WeightKind { kDense, kMxfp4Blocks, kMxfp4Scales };
struct ExpectedTensor {
  std::string name;
  WeightKind kind = WeightKind::kDense;
  std::vector<int64_t> shape;
  int64_t layer = -1;  // -1 for embedding, final norm and unembedding
};

// The tensors of a HF-layout checkpoint for `config`, in model order
// (embedding, layers, final norm, unembedding). The reader checks against this
// list and the synthetic writer writes exactly it.
std::vector<ExpectedTensor> ExpectedHfTensors(const ModelConfig& config);
// The same for the OpenAI original layout.
std::vector<ExpectedTensor> ExpectedOriginalTensors(const ModelConfig& config);

// The configuration file of the checkpoint in `dir`: its config.json (HF
// layout), else original/config.json (OpenAI layout); NotFound otherwise.
moert::Result<std::string> CheckpointConfigPath(const std::string& dir);

class Checkpoint {
 public:
  // `dir` holds config.json and the safetensors files (or an original/
  // subfolder with the OpenAI layout). Errors name the file and the tensor or
  // field at fault.
  static moert::Result<Checkpoint> Open(const std::string& dir);

  // A checkpoint whose weights are not read from files: `weights` holds every
  // tensor of ExpectedHfTensors(config) by name, with its shape and dtype;
  // their data lives in `storage` (or is null where nothing may read it).
  // `synthetic_seed` says the weights are moec synth's for that seed. Used by
  // OpenSyntheticCheckpoint (synth.h).
  static moert::Result<Checkpoint> FromHfWeights(ModelConfig config, std::string dir,
                                                 std::map<std::string, WeightRef> weights,
                                                 std::shared_ptr<const void> storage,
                                                 std::optional<uint64_t> synthetic_seed);

  const ModelConfig& config() const { return config_; }
  CheckpointLayout layout() const { return layout_; }
  const std::string& dir() const { return dir_; }
  const std::vector<moert::SafetensorsFile>& files() const { return files_; }

  const WeightRef& embedding() const { return embedding_; }      // [V, D]
  const WeightRef& final_norm() const { return final_norm_; }    // [D]
  const WeightRef& unembedding() const { return unembedding_; }  // [V, D]
  const std::vector<LayerWeights>& layers() const { return layers_; }

  // A weight by its Hugging Face name, whatever the layout on disk (in the
  // original layout, q/k/v are slices of qkv); MXFP4 weights are found as
  // "<name>_blocks" and "<name>_scales". Null when there is no such weight.
  const WeightRef* FindWeight(const std::string& hf_name) const;

  uint64_t num_tensors() const;
  uint64_t tensor_bytes() const;

  // Set when the weights are `moec synth`'s for this seed, generated rather
  // than read (OpenSyntheticCheckpoint).
  std::optional<uint64_t> synthetic_seed() const { return synthetic_seed_; }

 private:
  // Fills the roles from `refs` (every expected tensor by its name in the
  // checkpoint's layout).
  void AssignRoles(const std::map<std::string, WeightRef>& refs);

  ModelConfig config_;
  CheckpointLayout layout_ = CheckpointLayout::kHuggingFace;
  std::string dir_;
  std::vector<moert::SafetensorsFile> files_;
  WeightRef embedding_, final_norm_, unembedding_;
  std::vector<LayerWeights> layers_;
  std::map<std::string, WeightRef> by_hf_name_;
  std::shared_ptr<const void> storage_;  // what FromHfWeights' data points into
  std::optional<uint64_t> synthetic_seed_;
};

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_CHECKPOINT_H_
