// The gpt-oss model configuration: every hyperparameter the forward pass
// depends on, parsed from a Hugging Face `config.json` or an OpenAI
// `original/config.json`, and checked for consistency before anything uses it.
#ifndef MOEC_MODELS_GPT_OSS_CONFIG_H_
#define MOEC_MODELS_GPT_OSS_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace moec::gptoss {

enum class AttentionKind { kFull, kSliding };

struct ModelConfig {
  int64_t num_layers = 0;
  int64_t hidden_size = 0;         // D
  int64_t num_heads = 0;           // Q heads, H
  int64_t num_kv_heads = 0;        // G; Q head h reads KV head h / (H / G)
  int64_t head_dim = 0;            // d
  int64_t num_experts = 0;         // E
  int64_t experts_per_token = 0;   // k (top-k)
  int64_t intermediate_size = 0;   // I, per expert
  int64_t vocab_size = 0;          // V, rows of the (un)embedding
  int64_t sliding_window = 0;      // keys a sliding layer sees, self included
  std::vector<AttentionKind> layer_types;  // one per layer

  // RoPE with YaRN ("NTK-by-parts") scaling.
  double rope_theta = 0;
  double rope_scaling_factor = 1;
  double rope_beta_fast = 32;
  double rope_beta_slow = 1;
  int64_t rope_original_context = 4096;
  bool rope_truncate = false;  // floor/ceil the correction range (newer HF option)
  int64_t max_position_embeddings = 0;

  double rms_norm_eps = 1e-5;
  double swiglu_limit = 7.0;
  double swiglu_alpha = 1.702;

  std::optional<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;

  bool is_sliding(int64_t layer) const {
    return layer_types[static_cast<size_t>(layer)] == AttentionKind::kSliding;
  }
  int64_t q_size() const { return num_heads * head_dim; }
  int64_t kv_size() const { return num_kv_heads * head_dim; }

  // The Hugging Face config.json this configuration corresponds to.
  moert::JsonValue ToHfJson() const;
};

// Which file a configuration came from, for messages.
enum class ConfigFormat { kHuggingFace, kOriginal };

// Parses a HF config.json ("num_local_experts", "rope_scaling", ...).
// `source` names the file in error messages.
moert::Result<ModelConfig> ParseHfConfig(const moert::JsonValue& json, const std::string& source);
// Parses an OpenAI original/config.json ("num_experts", "rope_scaling_factor", ...).
moert::Result<ModelConfig> ParseOriginalConfig(const moert::JsonValue& json,
                                               const std::string& source);
// Either of the two, recognised by its fields.
moert::Result<ModelConfig> ParseConfigFile(const std::string& path, ConfigFormat* format = nullptr);

// Checks the relations between fields (heads divisible by kv heads, MXFP4
// block multiples, top-k <= experts, one layer type per layer, ...).
moert::Status ValidateConfig(const ModelConfig& config, const std::string& source);

// Named configurations: "tiny" (a small model for demos and tests), "20b",
// "120b" (the published shapes).
moert::Result<ModelConfig> PresetConfig(const std::string& name);
std::vector<std::string> PresetNames();

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_CONFIG_H_
