#include "gpt-oss/checkpoint.h"

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "base/file_map.h"
#include "base/json.h"
#include "base/numeric_formats.h"

namespace moec::gptoss {

using moert::DType;
using moert::Result;
using moert::SafetensorsFile;
using moert::Status;
using moert::StrCat;
using moert::TensorInfo;

uint64_t WeightRef::num_elements() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);  // checked when the file was opened
  return n;
}

float WeightRef::ElementAsFloat(uint64_t i) const {
  switch (dtype) {
    case DType::kBF16: {
      uint16_t bits;
      std::memcpy(&bits, data + 2 * i, 2);
      return moert::Bf16ToFloat(bits);
    }
    case DType::kF16: {
      uint16_t bits;
      std::memcpy(&bits, data + 2 * i, 2);
      return moert::Fp16ToFloat(bits);
    }
    case DType::kF32: {
      float f;
      std::memcpy(&f, data + 4 * i, 4);
      return f;
    }
    default:
      return 0.0f;  // the reader admits only the three float dtypes for dense weights
  }
}

void WeightRef::RowAsFloat(int64_t row, int64_t cols, float* out) const {
  const uint64_t base = static_cast<uint64_t>(row) * static_cast<uint64_t>(cols);
  for (int64_t c = 0; c < cols; ++c) out[c] = ElementAsFloat(base + static_cast<uint64_t>(c));
}

std::vector<float> WeightRef::ToFloatVector() const {
  std::vector<float> v(num_elements());
  for (uint64_t i = 0; i < v.size(); ++i) v[i] = ElementAsFloat(i);
  return v;
}

const char* CheckpointLayoutName(CheckpointLayout layout) {
  return layout == CheckpointLayout::kHuggingFace ? "huggingface" : "original";
}

namespace {

// The per-layer role names in each layout, in LayerWeights member order.
struct RoleNames {
  const char* hf;
  const char* original;
  WeightRef LayerWeights::*member;
};

constexpr RoleNames kLayerRoles[] = {
    {"input_layernorm.weight", "attn.norm.scale", &LayerWeights::attn_norm},
    {"self_attn.q_proj.weight", nullptr, &LayerWeights::q_weight},
    {"self_attn.q_proj.bias", nullptr, &LayerWeights::q_bias},
    {"self_attn.k_proj.weight", nullptr, &LayerWeights::k_weight},
    {"self_attn.k_proj.bias", nullptr, &LayerWeights::k_bias},
    {"self_attn.v_proj.weight", nullptr, &LayerWeights::v_weight},
    {"self_attn.v_proj.bias", nullptr, &LayerWeights::v_bias},
    {"self_attn.o_proj.weight", "attn.out.weight", &LayerWeights::o_weight},
    {"self_attn.o_proj.bias", "attn.out.bias", &LayerWeights::o_bias},
    {"self_attn.sinks", "attn.sinks", &LayerWeights::sinks},
    {"post_attention_layernorm.weight", "mlp.norm.scale", &LayerWeights::mlp_norm},
    {"mlp.router.weight", "mlp.gate.weight", &LayerWeights::router_weight},
    {"mlp.router.bias", "mlp.gate.bias", &LayerWeights::router_bias},
    {"mlp.experts.gate_up_proj_blocks", "mlp.mlp1_weight.blocks", &LayerWeights::gate_up_blocks},
    {"mlp.experts.gate_up_proj_scales", "mlp.mlp1_weight.scales", &LayerWeights::gate_up_scales},
    {"mlp.experts.gate_up_proj_bias", "mlp.mlp1_bias", &LayerWeights::gate_up_bias},
    {"mlp.experts.down_proj_blocks", "mlp.mlp2_weight.blocks", &LayerWeights::down_blocks},
    {"mlp.experts.down_proj_scales", "mlp.mlp2_weight.scales", &LayerWeights::down_scales},
    {"mlp.experts.down_proj_bias", "mlp.mlp2_bias", &LayerWeights::down_bias},
};

std::string HfLayerPrefix(int64_t layer) { return StrCat("model.layers.", layer, "."); }
std::string OriginalLayerPrefix(int64_t layer) { return StrCat("block.", layer, "."); }

// Shapes of the per-layer tensors, keyed by HF role name.
std::vector<int64_t> LayerShape(const ModelConfig& c, const std::string& role) {
  const int64_t D = c.hidden_size, E = c.num_experts, I = c.intermediate_size;
  if (role == "input_layernorm.weight" || role == "post_attention_layernorm.weight") return {D};
  if (role == "self_attn.q_proj.weight") return {c.q_size(), D};
  if (role == "self_attn.q_proj.bias") return {c.q_size()};
  if (role == "self_attn.k_proj.weight" || role == "self_attn.v_proj.weight") return {c.kv_size(), D};
  if (role == "self_attn.k_proj.bias" || role == "self_attn.v_proj.bias") return {c.kv_size()};
  if (role == "self_attn.o_proj.weight") return {D, c.q_size()};
  if (role == "self_attn.o_proj.bias") return {D};
  if (role == "self_attn.sinks") return {c.num_heads};
  if (role == "mlp.router.weight") return {E, D};
  if (role == "mlp.router.bias") return {E};
  if (role == "mlp.experts.gate_up_proj_blocks") return {E, 2 * I, D / 32, 16};
  if (role == "mlp.experts.gate_up_proj_scales") return {E, 2 * I, D / 32};
  if (role == "mlp.experts.gate_up_proj_bias") return {E, 2 * I};
  if (role == "mlp.experts.down_proj_blocks") return {E, D, I / 32, 16};
  if (role == "mlp.experts.down_proj_scales") return {E, D, I / 32};
  if (role == "mlp.experts.down_proj_bias") return {E, D};
  return {};
}

WeightKind KindOfRole(const std::string& role) {
  if (role.size() >= 7 && (role.compare(role.size() - 7, 7, "_blocks") == 0 ||
                           role.compare(role.size() - 7, 7, ".blocks") == 0)) {
    return WeightKind::kMxfp4Blocks;
  }
  if (role.size() >= 7 && (role.compare(role.size() - 7, 7, "_scales") == 0 ||
                           role.compare(role.size() - 7, 7, ".scales") == 0)) {
    return WeightKind::kMxfp4Scales;
  }
  return WeightKind::kDense;
}

}  // namespace

std::vector<ExpectedTensor> ExpectedHfTensors(const ModelConfig& c) {
  std::vector<ExpectedTensor> out;
  out.push_back({"model.embed_tokens.weight", WeightKind::kDense, {c.vocab_size, c.hidden_size}, -1});
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (const RoleNames& role : kLayerRoles) {
      out.push_back({HfLayerPrefix(l) + role.hf, KindOfRole(role.hf), LayerShape(c, role.hf), l});
    }
  }
  out.push_back({"model.norm.weight", WeightKind::kDense, {c.hidden_size}, -1});
  out.push_back({"lm_head.weight", WeightKind::kDense, {c.vocab_size, c.hidden_size}, -1});
  return out;
}

std::vector<ExpectedTensor> ExpectedOriginalTensors(const ModelConfig& c) {
  std::vector<ExpectedTensor> out;
  out.push_back({"embedding.weight", WeightKind::kDense, {c.vocab_size, c.hidden_size}, -1});
  const int64_t qkv_rows = c.q_size() + 2 * c.kv_size();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = OriginalLayerPrefix(l);
    out.push_back({p + "attn.qkv.weight", WeightKind::kDense, {qkv_rows, c.hidden_size}, l});
    out.push_back({p + "attn.qkv.bias", WeightKind::kDense, {qkv_rows}, l});
    for (const RoleNames& role : kLayerRoles) {
      if (role.original == nullptr) continue;  // q/k/v live in qkv
      out.push_back({p + role.original, KindOfRole(role.original), LayerShape(c, role.hf), l});
    }
  }
  out.push_back({"norm.scale", WeightKind::kDense, {c.hidden_size}, -1});
  out.push_back({"unembedding.weight", WeightKind::kDense, {c.vocab_size, c.hidden_size}, -1});
  return out;
}

namespace {

struct Located {
  const TensorInfo* tensor;
  const SafetensorsFile* file;
};

WeightRef MakeRef(const Located& located) {
  WeightRef ref;
  ref.name = located.tensor->name;
  ref.file = located.file->path();
  ref.dtype = located.tensor->dtype;
  ref.shape = located.tensor->shape;
  ref.data = located.tensor->data;
  ref.byte_size = located.tensor->byte_size;
  return ref;
}

// Rows [begin, end) of a tensor whose first dimension is rows.
WeightRef SliceRows(const WeightRef& whole, int64_t begin, int64_t end) {
  uint64_t row_bytes = whole.byte_size / static_cast<uint64_t>(whole.shape[0]);
  WeightRef ref = whole;
  ref.name = StrCat(whole.name, "[rows ", begin, ":", end, "]");
  ref.shape[0] = end - begin;
  ref.data = whole.data + static_cast<uint64_t>(begin) * row_bytes;
  ref.byte_size = static_cast<uint64_t>(end - begin) * row_bytes;
  return ref;
}

bool DTypeFits(WeightKind kind, DType dtype) {
  switch (kind) {
    case WeightKind::kDense:
      return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32;
    case WeightKind::kMxfp4Blocks:
      return dtype == DType::kU8;
    case WeightKind::kMxfp4Scales:
      return dtype == DType::kU8 || dtype == DType::kF8E8M0;
  }
  return false;
}

const char* ExpectedDTypes(WeightKind kind) {
  switch (kind) {
    case WeightKind::kDense:
      return "BF16, F16 or F32";
    case WeightKind::kMxfp4Blocks:
      return "U8 (packed MXFP4 blocks)";
    case WeightKind::kMxfp4Scales:
      return "U8 or F8_E8M0 (MXFP4 scales)";
  }
  return "?";
}

Result<std::vector<std::string>> ListSafetensors(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return moert::NotFound(dir, ": cannot list the directory");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) {
      names.push_back(name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<std::string> CheckpointConfigPath(const std::string& dir) {
  for (const std::string& path : {moert::JoinPath(dir, "config.json"), moert::JoinPath(dir, "original/config.json")}) {
    if (moert::PathExists(path)) return path;
  }
  return moert::NotFound(dir, ": no config.json (nor original/config.json): not a gpt-oss checkpoint");
}

Result<Checkpoint> Checkpoint::Open(const std::string& dir) {
  if (!moert::IsDirectory(dir)) return moert::NotFound(dir, ": not a directory");
  Checkpoint ckpt;
  ckpt.dir_ = dir;

  // The configuration decides the layout: HF config.json at the top, or the
  // OpenAI layout (its own config.json) at the top or in original/.
  MOERT_ASSIGN_OR_RETURN(std::string config_path, CheckpointConfigPath(dir));
  const std::string tensor_dir = config_path.substr(0, config_path.find_last_of('/'));
  ConfigFormat format;
  MOERT_ASSIGN_OR_RETURN(ckpt.config_, ParseConfigFile(config_path, &format));
  ckpt.layout_ = format == ConfigFormat::kOriginal ? CheckpointLayout::kOriginal
                                                   : CheckpointLayout::kHuggingFace;

  // Files: the index's weight_map when there is one, else every *.safetensors.
  const std::string index_path = moert::JoinPath(tensor_dir, "model.safetensors.index.json");
  std::map<std::string, std::string> weight_map;  // tensor -> file name
  std::vector<std::string> file_names;
  const bool indexed = moert::PathExists(index_path);
  if (indexed) {
    MOERT_ASSIGN_OR_RETURN(std::string text, moert::ReadFileToString(index_path));
    Result<moert::JsonValue> index = moert::ParseJson(text);
    if (!index.ok()) return index.status().Annotate(index_path);
    const moert::JsonValue* map = index->Find("weight_map");
    if (map == nullptr || !map->is_object()) {
      return moert::DataLoss(index_path, ": missing object \"weight_map\"");
    }
    std::set<std::string> unique;
    for (const auto& [tensor, file] : map->members()) {
      if (!file.is_string() || file.string_value().empty() ||
          file.string_value().find('/') != std::string::npos || file.string_value()[0] == '.') {
        return moert::DataLoss(index_path, ": weight_map[\"", tensor, "\"] is ", file.Serialize(),
                               ", expected a file name in the same directory");
      }
      weight_map[tensor] = file.string_value();
      unique.insert(file.string_value());
    }
    file_names.assign(unique.begin(), unique.end());
  } else if (moert::PathExists(moert::JoinPath(tensor_dir, "model.safetensors"))) {
    // The single-file layout; other .safetensors beside it (golden outputs,
    // say) are not part of the model.
    file_names.push_back("model.safetensors");
  } else {
    MOERT_ASSIGN_OR_RETURN(file_names, ListSafetensors(tensor_dir));
  }
  if (file_names.empty()) return moert::NotFound(tensor_dir, ": no .safetensors files");

  for (const std::string& name : file_names) {
    MOERT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(moert::JoinPath(tensor_dir, name)));
    ckpt.files_.push_back(std::move(file));
  }

  std::map<std::string, Located> tensors;
  for (size_t f = 0; f < ckpt.files_.size(); ++f) {
    const SafetensorsFile& file = ckpt.files_[f];
    for (const TensorInfo& t : file.tensors()) {
      auto [it, inserted] = tensors.emplace(t.name, Located{&t, &file});
      if (!inserted) {
        return moert::DataLoss("tensor \"", t.name, "\" appears in both ", it->second.file->path(),
                               " and ", file.path());
      }
      if (indexed) {
        auto w = weight_map.find(t.name);
        if (w == weight_map.end()) {
          return moert::DataLoss(file.path(), ": tensor \"", t.name, "\" is not listed in ", index_path);
        }
        if (w->second != file_names[f]) {
          return moert::DataLoss(index_path, ": weight_map puts \"", t.name, "\" in ", w->second,
                                 " but it is in ", file.path());
        }
      }
    }
  }
  for (const auto& [tensor, file] : weight_map) {
    if (tensors.count(tensor) == 0) {
      return moert::DataLoss(index_path, ": tensor \"", tensor, "\" is listed in weight_map but ",
                             moert::JoinPath(tensor_dir, file), " does not contain it");
    }
  }

  // Every expected tensor, with its shape and dtype; nothing else.
  const ModelConfig& c = ckpt.config_;
  const std::vector<ExpectedTensor> expected = ckpt.layout_ == CheckpointLayout::kHuggingFace
                                                   ? ExpectedHfTensors(c)
                                                   : ExpectedOriginalTensors(c);
  std::map<std::string, WeightRef> refs;
  for (const ExpectedTensor& e : expected) {
    auto it = tensors.find(e.name);
    if (it == tensors.end()) {
      std::string why = e.layer >= 0 ? StrCat(" (", config_path, " says num_hidden_layers = ",
                                              c.num_layers, ")")
                                     : "";
      return moert::NotFound(tensor_dir, ": missing tensor \"", e.name, "\"", why);
    }
    const TensorInfo& t = *it->second.tensor;
    if (!DTypeFits(e.kind, t.dtype)) {
      return moert::DataLoss(it->second.file->path(), ": tensor \"", e.name, "\" has dtype ",
                             moert::DTypeName(t.dtype), ", expected ", ExpectedDTypes(e.kind));
    }
    if (t.shape != e.shape) {
      return moert::DataLoss(it->second.file->path(), ": tensor \"", e.name, "\" has shape ",
                             moert::ShapeToString(t.shape), " but ", config_path, " implies ",
                             moert::ShapeToString(e.shape));
    }
    refs.emplace(e.name, MakeRef(it->second));
    tensors.erase(it);
  }
  if (!tensors.empty()) {
    const auto& [name, located] = *tensors.begin();
    return moert::DataLoss(located.file->path(), ": unexpected tensor \"", name,
                           "\": not part of a gpt-oss model with the configuration in ", config_path,
                           " (", c.num_layers, " layers)", tensors.size() > 1 ? StrCat(", and ", tensors.size() - 1, " more") : "");
  }

  ckpt.AssignRoles(refs);
  return ckpt;
}

void Checkpoint::AssignRoles(const std::map<std::string, WeightRef>& refs) {
  const ModelConfig& c = config_;
  const bool hf = layout_ == CheckpointLayout::kHuggingFace;
  embedding_ = refs.at(hf ? "model.embed_tokens.weight" : "embedding.weight");
  final_norm_ = refs.at(hf ? "model.norm.weight" : "norm.scale");
  unembedding_ = refs.at(hf ? "lm_head.weight" : "unembedding.weight");
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerWeights layer;
    for (const RoleNames& role : kLayerRoles) {
      if (hf) {
        layer.*role.member = refs.at(HfLayerPrefix(l) + role.hf);
      } else if (role.original != nullptr) {
        layer.*role.member = refs.at(OriginalLayerPrefix(l) + role.original);
      }
    }
    if (!hf) {
      const WeightRef& qkv = refs.at(OriginalLayerPrefix(l) + "attn.qkv.weight");
      const WeightRef& qkv_bias = refs.at(OriginalLayerPrefix(l) + "attn.qkv.bias");
      const int64_t q = c.q_size(), kv = c.kv_size();
      layer.q_weight = SliceRows(qkv, 0, q);
      layer.k_weight = SliceRows(qkv, q, q + kv);
      layer.v_weight = SliceRows(qkv, q + kv, q + 2 * kv);
      layer.q_bias = SliceRows(qkv_bias, 0, q);
      layer.k_bias = SliceRows(qkv_bias, q, q + kv);
      layer.v_bias = SliceRows(qkv_bias, q + kv, q + 2 * kv);
    }
    for (const RoleNames& role : kLayerRoles) {
      by_hf_name_[HfLayerPrefix(l) + role.hf] = layer.*role.member;
    }
    layers_.push_back(std::move(layer));
  }
  by_hf_name_["model.embed_tokens.weight"] = embedding_;
  by_hf_name_["model.norm.weight"] = final_norm_;
  by_hf_name_["lm_head.weight"] = unembedding_;
}

Result<Checkpoint> Checkpoint::FromHfWeights(ModelConfig config, std::string dir,
                                             std::map<std::string, WeightRef> weights,
                                             std::shared_ptr<const void> storage,
                                             std::optional<uint64_t> synthetic_seed) {
  MOERT_RETURN_IF_ERROR(ValidateConfig(config, "checkpoint configuration"));
  for (const ExpectedTensor& e : ExpectedHfTensors(config)) {
    auto it = weights.find(e.name);
    if (it == weights.end()) return moert::Internal("FromHfWeights: no tensor \"", e.name, "\"");
    if (!DTypeFits(e.kind, it->second.dtype) || it->second.shape != e.shape) {
      return moert::Internal("FromHfWeights: tensor \"", e.name, "\" has dtype ", moert::DTypeName(it->second.dtype),
                             " and shape ", moert::ShapeToString(it->second.shape), ", expected ",
                             moert::ShapeToString(e.shape));
    }
  }
  Checkpoint ckpt;
  ckpt.config_ = std::move(config);
  ckpt.dir_ = std::move(dir);
  ckpt.layout_ = CheckpointLayout::kHuggingFace;
  ckpt.storage_ = std::move(storage);
  ckpt.synthetic_seed_ = synthetic_seed;
  ckpt.AssignRoles(weights);
  return ckpt;
}

const WeightRef* Checkpoint::FindWeight(const std::string& hf_name) const {
  auto it = by_hf_name_.find(hf_name);
  return it == by_hf_name_.end() ? nullptr : &it->second;
}

uint64_t Checkpoint::num_tensors() const {
  uint64_t n = 0;
  for (const SafetensorsFile& f : files_) n += f.tensors().size();
  return n;
}

uint64_t Checkpoint::tensor_bytes() const {
  uint64_t n = 0;
  for (const SafetensorsFile& f : files_) {
    for (const TensorInfo& t : f.tensors()) n += t.byte_size;
  }
  return n;
}

}  // namespace moec::gptoss
