#include "gpt-oss/config.h"

#include <cmath>

#include "base/file_map.h"

namespace moec::gptoss {

using moert::JsonValue;
using moert::Result;
using moert::Status;

namespace {

// Reads fields of one JSON object, naming the file and field in every error.
class FieldReader {
 public:
  FieldReader(const JsonValue& object, std::string source)
      : object_(object), source_(std::move(source)) {}

  Result<int64_t> Int(const char* key) {
    const JsonValue* v = object_.Find(key);
    if (v == nullptr) return Missing(key);
    Result<int64_t> i = v->AsInt64();
    // Accept integral floats ("4096.0"), which some exporters write.
    if (!i.ok() && v->is_number() && std::floor(v->number_value()) == v->number_value() &&
        std::fabs(v->number_value()) < 9e15) {
      return static_cast<int64_t>(v->number_value());
    }
    if (!i.ok()) return Wrong(key, "an integer", *v);
    return *i;
  }
  Result<int64_t> Int(const char* key, int64_t fallback) {
    return object_.Find(key) ? Int(key) : Result<int64_t>(fallback);
  }
  Result<double> Number(const char* key) {
    const JsonValue* v = object_.Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_number()) return Wrong(key, "a number", *v);
    return v->number_value();
  }
  Result<double> Number(const char* key, double fallback) {
    return object_.Find(key) ? Number(key) : Result<double>(fallback);
  }
  Result<bool> Bool(const char* key, bool fallback) {
    const JsonValue* v = object_.Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) return Wrong(key, "a boolean", *v);
    return v->bool_value();
  }
  Result<std::string> String(const char* key) {
    const JsonValue* v = object_.Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_string()) return Wrong(key, "a string", *v);
    return v->string_value();
  }
  const JsonValue* Find(const char* key) const { return object_.Find(key); }
  Status Missing(const char* key) const {
    return moert::NotFound(source_, ": required field \"", key, "\" is missing");
  }
  Status Wrong(const char* key, const char* expected, const JsonValue& got) const {
    return moert::InvalidArgument(source_, ": field \"", key, "\" must be ", expected, ", got ",
                                  got.Serialize());
  }

 private:
  const JsonValue& object_;
  std::string source_;
};

std::vector<AttentionKind> AlternatingLayerTypes(int64_t num_layers) {
  std::vector<AttentionKind> types;
  for (int64_t i = 0; i < num_layers; ++i) {
    types.push_back(i % 2 == 0 ? AttentionKind::kSliding : AttentionKind::kFull);
  }
  return types;
}

}  // namespace

Result<ModelConfig> ParseHfConfig(const JsonValue& json, const std::string& source) {
  if (!json.is_object()) return moert::InvalidArgument(source, ": expected a JSON object");
  FieldReader f(json, source);
  ModelConfig c;
  if (const JsonValue* type = json.Find("model_type")) {
    if (!type->is_string() || type->string_value() != "gpt_oss") {
      return moert::InvalidArgument(source, ": model_type is ", type->Serialize(),
                                    ", expected \"gpt_oss\"");
    }
  }
  MOERT_ASSIGN_OR_RETURN(c.num_layers, f.Int("num_hidden_layers"));
  MOERT_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size"));
  MOERT_ASSIGN_OR_RETURN(c.num_heads, f.Int("num_attention_heads"));
  MOERT_ASSIGN_OR_RETURN(c.num_kv_heads, f.Int("num_key_value_heads"));
  MOERT_ASSIGN_OR_RETURN(c.head_dim, f.Int("head_dim"));
  MOERT_ASSIGN_OR_RETURN(c.num_experts, f.Int("num_local_experts"));
  if (json.Find("num_experts_per_tok")) {
    MOERT_ASSIGN_OR_RETURN(c.experts_per_token, f.Int("num_experts_per_tok"));
  } else {
    MOERT_ASSIGN_OR_RETURN(c.experts_per_token, f.Int("experts_per_token"));
  }
  if (json.Find("experts_per_token") && json.Find("num_experts_per_tok")) {
    MOERT_ASSIGN_OR_RETURN(int64_t other, f.Int("experts_per_token"));
    if (other != c.experts_per_token) {
      return moert::InvalidArgument(source, ": experts_per_token (", other,
                                    ") contradicts num_experts_per_tok (", c.experts_per_token, ")");
    }
  }
  MOERT_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size"));
  MOERT_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  MOERT_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window"));
  MOERT_ASSIGN_OR_RETURN(c.rope_theta, f.Number("rope_theta"));
  MOERT_ASSIGN_OR_RETURN(c.rms_norm_eps, f.Number("rms_norm_eps"));
  MOERT_ASSIGN_OR_RETURN(c.swiglu_limit, f.Number("swiglu_limit"));
  MOERT_ASSIGN_OR_RETURN(c.swiglu_alpha, f.Number("swiglu_alpha", 1.702));

  if (const JsonValue* bias = json.Find("attention_bias")) {
    if (!bias->is_bool() || !bias->bool_value()) {
      return moert::Unimplemented(source, ": attention_bias must be true for gpt-oss, got ",
                                  bias->Serialize());
    }
  }
  if (const JsonValue* tie = json.Find("tie_word_embeddings")) {
    if (!tie->is_bool() || tie->bool_value()) {
      return moert::Unimplemented(source, ": tie_word_embeddings must be false for gpt-oss, got ",
                                  tie->Serialize());
    }
  }
  if (const JsonValue* quant = json.Find("quantization_config")) {
    const JsonValue* method = quant->Find("quant_method");
    if (method == nullptr || !method->is_string() || method->string_value() != "mxfp4") {
      return moert::Unimplemented(source, ": quantization_config.quant_method must be \"mxfp4\"");
    }
  }

  const JsonValue* scaling = json.Find("rope_scaling");
  if (scaling == nullptr) return f.Missing("rope_scaling");
  if (!scaling->is_object()) return f.Wrong("rope_scaling", "an object", *scaling);
  FieldReader rs(*scaling, source + ": rope_scaling");
  std::string rope_type;
  if (scaling->Find("rope_type")) {
    MOERT_ASSIGN_OR_RETURN(rope_type, rs.String("rope_type"));
  } else {
    MOERT_ASSIGN_OR_RETURN(rope_type, rs.String("type"));
  }
  if (rope_type != "yarn") {
    return moert::Unimplemented(source, ": rope_scaling.rope_type is \"", rope_type,
                                "\", only \"yarn\" is supported");
  }
  MOERT_ASSIGN_OR_RETURN(c.rope_scaling_factor, rs.Number("factor"));
  MOERT_ASSIGN_OR_RETURN(c.rope_beta_fast, rs.Number("beta_fast", 32.0));
  MOERT_ASSIGN_OR_RETURN(c.rope_beta_slow, rs.Number("beta_slow", 1.0));
  MOERT_ASSIGN_OR_RETURN(c.rope_original_context, rs.Int("original_max_position_embeddings"));
  MOERT_ASSIGN_OR_RETURN(c.rope_truncate, rs.Bool("truncate", true));
  if (json.Find("initial_context_length")) {
    MOERT_ASSIGN_OR_RETURN(int64_t initial_context, f.Int("initial_context_length"));
    if (initial_context != c.rope_original_context) {
      return moert::InvalidArgument(
          source, ": initial_context_length (", initial_context,
          ") contradicts rope_scaling.original_max_position_embeddings (", c.rope_original_context,
          ")");
    }
  }
  MOERT_ASSIGN_OR_RETURN(
      c.max_position_embeddings,
      f.Int("max_position_embeddings",
            static_cast<int64_t>(c.rope_original_context * c.rope_scaling_factor)));

  if (const JsonValue* types = json.Find("layer_types")) {
    if (!types->is_array()) return f.Wrong("layer_types", "an array", *types);
    for (size_t i = 0; i < types->items().size(); ++i) {
      const JsonValue& t = types->items()[i];
      if (t.is_string() && t.string_value() == "sliding_attention") {
        c.layer_types.push_back(AttentionKind::kSliding);
      } else if (t.is_string() && t.string_value() == "full_attention") {
        c.layer_types.push_back(AttentionKind::kFull);
      } else {
        return moert::InvalidArgument(source, ": layer_types[", i, "] is ", t.Serialize(),
                                      ", expected \"sliding_attention\" or \"full_attention\"");
      }
    }
  } else {
    c.layer_types = AlternatingLayerTypes(c.num_layers);
  }
  if (const JsonValue* eos = json.Find("eos_token_id"); eos && eos->is_number()) {
    MOERT_ASSIGN_OR_RETURN(c.eos_token_id, f.Int("eos_token_id"));
  }
  if (const JsonValue* pad = json.Find("pad_token_id"); pad && pad->is_number()) {
    MOERT_ASSIGN_OR_RETURN(c.pad_token_id, f.Int("pad_token_id"));
  }
  MOERT_RETURN_IF_ERROR(ValidateConfig(c, source));
  return c;
}

Result<ModelConfig> ParseOriginalConfig(const JsonValue& json, const std::string& source) {
  if (!json.is_object()) return moert::InvalidArgument(source, ": expected a JSON object");
  FieldReader f(json, source);
  ModelConfig c;
  MOERT_ASSIGN_OR_RETURN(c.num_layers, f.Int("num_hidden_layers"));
  MOERT_ASSIGN_OR_RETURN(c.num_experts, f.Int("num_experts"));
  MOERT_ASSIGN_OR_RETURN(c.experts_per_token, f.Int("experts_per_token"));
  MOERT_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  MOERT_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size"));
  MOERT_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size"));
  MOERT_ASSIGN_OR_RETURN(c.swiglu_limit, f.Number("swiglu_limit"));
  MOERT_ASSIGN_OR_RETURN(c.head_dim, f.Int("head_dim"));
  MOERT_ASSIGN_OR_RETURN(c.num_heads, f.Int("num_attention_heads"));
  MOERT_ASSIGN_OR_RETURN(c.num_kv_heads, f.Int("num_key_value_heads"));
  MOERT_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window"));
  MOERT_ASSIGN_OR_RETURN(c.rope_original_context, f.Int("initial_context_length"));
  MOERT_ASSIGN_OR_RETURN(c.rope_theta, f.Number("rope_theta"));
  MOERT_ASSIGN_OR_RETURN(c.rope_scaling_factor, f.Number("rope_scaling_factor"));
  // The original names: ntk_alpha is YaRN's beta_slow, ntk_beta its beta_fast.
  MOERT_ASSIGN_OR_RETURN(c.rope_beta_slow, f.Number("rope_ntk_alpha"));
  MOERT_ASSIGN_OR_RETURN(c.rope_beta_fast, f.Number("rope_ntk_beta"));
  c.rope_truncate = false;  // the reference implementation never truncates
  c.max_position_embeddings = static_cast<int64_t>(c.rope_original_context * c.rope_scaling_factor);
  c.rms_norm_eps = 1e-5;
  c.layer_types = AlternatingLayerTypes(c.num_layers);
  MOERT_RETURN_IF_ERROR(ValidateConfig(c, source));
  return c;
}

Result<ModelConfig> ParseConfigFile(const std::string& path, ConfigFormat* format) {
  MOERT_ASSIGN_OR_RETURN(std::string text, moert::ReadFileToString(path));
  Result<JsonValue> json = moert::ParseJson(text);
  if (!json.ok()) return json.status().Annotate(path);
  // The original format names its expert count "num_experts" and has no
  // "rope_scaling" object; everything else is read as HF.
  bool original = json->Find("num_experts") != nullptr && json->Find("num_local_experts") == nullptr &&
                  json->Find("rope_scaling") == nullptr;
  if (format) *format = original ? ConfigFormat::kOriginal : ConfigFormat::kHuggingFace;
  return original ? ParseOriginalConfig(*json, path) : ParseHfConfig(*json, path);
}

Status ValidateConfig(const ModelConfig& c, const std::string& source) {
  auto positive = [&](const char* name, int64_t v) -> Status {
    if (v <= 0) return moert::InvalidArgument(source, ": ", name, " must be positive, got ", v);
    return Status::Ok();
  };
  MOERT_RETURN_IF_ERROR(positive("num_hidden_layers", c.num_layers));
  MOERT_RETURN_IF_ERROR(positive("hidden_size", c.hidden_size));
  MOERT_RETURN_IF_ERROR(positive("num_attention_heads", c.num_heads));
  MOERT_RETURN_IF_ERROR(positive("num_key_value_heads", c.num_kv_heads));
  MOERT_RETURN_IF_ERROR(positive("head_dim", c.head_dim));
  MOERT_RETURN_IF_ERROR(positive("num_local_experts", c.num_experts));
  MOERT_RETURN_IF_ERROR(positive("num_experts_per_tok", c.experts_per_token));
  MOERT_RETURN_IF_ERROR(positive("intermediate_size", c.intermediate_size));
  MOERT_RETURN_IF_ERROR(positive("vocab_size", c.vocab_size));
  MOERT_RETURN_IF_ERROR(positive("sliding_window", c.sliding_window));
  MOERT_RETURN_IF_ERROR(positive("max_position_embeddings", c.max_position_embeddings));
  MOERT_RETURN_IF_ERROR(positive("original_max_position_embeddings", c.rope_original_context));
  // Bounds that keep every derived size far from overflow.
  const int64_t kLimit = int64_t{1} << 24;
  if (c.hidden_size > kLimit || c.num_heads > 4096 || c.head_dim > 4096 || c.num_experts > 65536 ||
      c.intermediate_size > kLimit || c.vocab_size > (int64_t{1} << 26) || c.num_layers > 4096) {
    return moert::InvalidArgument(source, ": a dimension is implausibly large (hidden_size ",
                                  c.hidden_size, ", intermediate_size ", c.intermediate_size,
                                  ", vocab_size ", c.vocab_size, ", layers ", c.num_layers, ")");
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return moert::InvalidArgument(source, ": num_attention_heads (", c.num_heads,
                                  ") is not divisible by num_key_value_heads (", c.num_kv_heads, ")");
  }
  if (c.head_dim % 2 != 0) {
    return moert::InvalidArgument(source, ": head_dim (", c.head_dim, ") must be even for RoPE");
  }
  if (c.experts_per_token > c.num_experts) {
    return moert::InvalidArgument(source, ": num_experts_per_tok (", c.experts_per_token,
                                  ") exceeds num_local_experts (", c.num_experts, ")");
  }
  // MXFP4 blocks 32 values along each expert matmul's input: hidden for
  // gate_up, intermediate for down.
  if (c.hidden_size % 32 != 0) {
    return moert::InvalidArgument(source, ": hidden_size (", c.hidden_size,
                                  ") must be a multiple of the MXFP4 block size 32");
  }
  if (c.intermediate_size % 32 != 0) {
    return moert::InvalidArgument(source, ": intermediate_size (", c.intermediate_size,
                                  ") must be a multiple of the MXFP4 block size 32");
  }
  if (static_cast<int64_t>(c.layer_types.size()) != c.num_layers) {
    return moert::InvalidArgument(source, ": layer_types has ", c.layer_types.size(),
                                  " entries but num_hidden_layers is ", c.num_layers);
  }
  if (!(c.rope_theta > 1)) return moert::InvalidArgument(source, ": rope_theta must be > 1, got ", c.rope_theta);
  if (!(c.rope_scaling_factor >= 1)) {
    return moert::InvalidArgument(source, ": rope_scaling.factor must be >= 1, got ", c.rope_scaling_factor);
  }
  if (!(c.rope_beta_fast > c.rope_beta_slow) || !(c.rope_beta_slow > 0)) {
    return moert::InvalidArgument(source, ": rope_scaling needs beta_fast > beta_slow > 0, got ",
                                  c.rope_beta_fast, " and ", c.rope_beta_slow);
  }
  if (!(c.rms_norm_eps > 0) || !(c.rms_norm_eps < 1)) {
    return moert::InvalidArgument(source, ": rms_norm_eps must be in (0, 1), got ", c.rms_norm_eps);
  }
  if (!(c.swiglu_limit > 0)) return moert::InvalidArgument(source, ": swiglu_limit must be > 0, got ", c.swiglu_limit);
  if (!std::isfinite(c.swiglu_alpha)) return moert::InvalidArgument(source, ": swiglu_alpha is not finite");
  for (const auto& [name, id] : {std::pair<const char*, std::optional<int64_t>>{"eos_token_id", c.eos_token_id},
                                 {"pad_token_id", c.pad_token_id}}) {
    if (id && (*id < 0 || *id >= c.vocab_size)) {
      return moert::InvalidArgument(source, ": ", name, " ", *id, " is outside the vocabulary [0, ",
                                    c.vocab_size, ")");
    }
  }
  return Status::Ok();
}

JsonValue ModelConfig::ToHfJson() const {
  JsonValue j = JsonValue::Object();
  j.Set("architectures", JsonValue::Array({JsonValue::String("GptOssForCausalLM")}));
  j.Set("attention_bias", JsonValue::Bool(true));
  j.Set("attention_dropout", JsonValue::Number(0.0));
  if (eos_token_id) j.Set("eos_token_id", JsonValue::Integer(*eos_token_id));
  if (pad_token_id) j.Set("pad_token_id", JsonValue::Integer(*pad_token_id));
  j.Set("experts_per_token", JsonValue::Integer(experts_per_token));
  j.Set("head_dim", JsonValue::Integer(head_dim));
  j.Set("hidden_act", JsonValue::String("silu"));
  j.Set("hidden_size", JsonValue::Integer(hidden_size));
  j.Set("initial_context_length", JsonValue::Integer(rope_original_context));
  j.Set("initializer_range", JsonValue::Number(0.02));
  j.Set("intermediate_size", JsonValue::Integer(intermediate_size));
  JsonValue types = JsonValue::Array();
  for (AttentionKind k : layer_types) {
    types.mutable_items().push_back(
        JsonValue::String(k == AttentionKind::kSliding ? "sliding_attention" : "full_attention"));
  }
  j.Set("layer_types", std::move(types));
  j.Set("max_position_embeddings", JsonValue::Integer(max_position_embeddings));
  j.Set("model_type", JsonValue::String("gpt_oss"));
  j.Set("num_attention_heads", JsonValue::Integer(num_heads));
  j.Set("num_experts_per_tok", JsonValue::Integer(experts_per_token));
  j.Set("num_hidden_layers", JsonValue::Integer(num_layers));
  j.Set("num_key_value_heads", JsonValue::Integer(num_kv_heads));
  j.Set("num_local_experts", JsonValue::Integer(num_experts));
  j.Set("output_router_logits", JsonValue::Bool(false));
  JsonValue quant = JsonValue::Object();
  quant.Set("modules_to_not_convert",
            JsonValue::Array({JsonValue::String("model.layers.*.self_attn"),
                              JsonValue::String("model.layers.*.mlp.router"),
                              JsonValue::String("model.embed_tokens"), JsonValue::String("lm_head")}));
  quant.Set("quant_method", JsonValue::String("mxfp4"));
  j.Set("quantization_config", std::move(quant));
  j.Set("rms_norm_eps", JsonValue::Number(rms_norm_eps));
  JsonValue scaling = JsonValue::Object();
  scaling.Set("beta_fast", JsonValue::Number(rope_beta_fast));
  scaling.Set("beta_slow", JsonValue::Number(rope_beta_slow));
  scaling.Set("factor", JsonValue::Number(rope_scaling_factor));
  scaling.Set("original_max_position_embeddings", JsonValue::Integer(rope_original_context));
  scaling.Set("rope_type", JsonValue::String("yarn"));
  scaling.Set("truncate", JsonValue::Bool(rope_truncate));
  j.Set("rope_scaling", std::move(scaling));
  j.Set("rope_theta", JsonValue::Number(rope_theta));
  j.Set("router_aux_loss_coef", JsonValue::Number(0.9));
  j.Set("sliding_window", JsonValue::Integer(sliding_window));
  j.Set("swiglu_limit", JsonValue::Number(swiglu_limit));
  j.Set("tie_word_embeddings", JsonValue::Bool(false));
  j.Set("use_cache", JsonValue::Bool(true));
  j.Set("vocab_size", JsonValue::Integer(vocab_size));
  return j;
}

namespace {
ModelConfig PublishedShape(int64_t layers, int64_t experts) {
  ModelConfig c;
  c.num_layers = layers;
  c.hidden_size = 2880;
  c.num_heads = 64;
  c.num_kv_heads = 8;
  c.head_dim = 64;
  c.num_experts = experts;
  c.experts_per_token = 4;
  c.intermediate_size = 2880;
  c.vocab_size = 201088;
  c.sliding_window = 128;
  c.layer_types = AlternatingLayerTypes(layers);
  c.rope_theta = 150000;
  c.rope_scaling_factor = 32;
  c.rope_beta_fast = 32;
  c.rope_beta_slow = 1;
  c.rope_original_context = 4096;
  c.rope_truncate = false;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.swiglu_limit = 7.0;
  c.eos_token_id = 200002;
  c.pad_token_id = 199999;
  return c;
}
}  // namespace

std::vector<std::string> PresetNames() { return {"tiny", "tiny-chat", "20b", "120b"}; }

Result<ModelConfig> PresetConfig(const std::string& name) {
  if (name == "20b") return PublishedShape(24, 32);
  if (name == "120b") return PublishedShape(36, 128);
  if (name == "tiny-chat") {
    // `tiny` with the full o200k_harmony vocabulary, so chats run end to end
    // on synthetic weights (the embeddings are most of its 103 MB).
    MOERT_ASSIGN_OR_RETURN(ModelConfig c, PresetConfig("tiny"));
    c.vocab_size = 201088;
    c.sliding_window = 128;
    c.eos_token_id = 200002;
    c.pad_token_id = 199999;
    return c;
  }
  if (name == "tiny") {
    // The shape of testdata's `tiny` with a longer window: small enough for
    // the reference executor to chat at interactive speed.
    ModelConfig c = PublishedShape(4, 8);
    c.hidden_size = 128;
    c.num_heads = 8;
    c.num_kv_heads = 2;
    c.head_dim = 32;
    c.intermediate_size = 96;
    c.vocab_size = 1024;
    c.sliding_window = 16;
    c.eos_token_id = 1000;
    c.pad_token_id = 1001;
    return c;
  }
  std::string names;
  for (const std::string& n : PresetNames()) names += (names.empty() ? "" : ", ") + n;
  return moert::InvalidArgument("unknown preset \"", name, "\" (known: ", names, ")");
}

}  // namespace moec::gptoss
