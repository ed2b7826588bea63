#include "gpt-oss/synth.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "base/file_map.h"
#include "base/json.h"
#include "base/numeric_formats.h"
#include "base/safetensors.h"
#include "gpt-oss/checkpoint.h"

namespace moec::gptoss {

using moert::DType;
using moert::Result;
using moert::Status;

namespace {

namespace synthetic = moert::synthetic;

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

int64_t ToFixedPoint(double value) { return std::llround(std::ldexp(value, synthetic::kFixedPointBits)); }

uint64_t TensorBytes(const ExpectedTensor& t) {
  uint64_t n = t.kind == WeightKind::kDense ? 2 : 1;  // bf16 or bytes
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

// Streams one tensor's bytes into `writer` in bounded chunks.
Status WriteTensor(const ExpectedTensor& t, uint64_t seed, moert::SafetensorsWriter& writer) {
  const synthetic::Part part = SyntheticTensorPart(t, seed);
  constexpr uint64_t kChunkBytes = uint64_t{1} << 22;
  std::vector<uint8_t> chunk;
  for (uint64_t begin = 0; begin < part.size; begin += kChunkBytes) {
    const uint64_t size = std::min(kChunkBytes, part.size - begin);
    chunk.resize(size);
    synthetic::FillRange(part, begin, begin + size, chunk.data());
    MOERT_RETURN_IF_ERROR(writer.Append(chunk.data(), size));
  }
  return Status::Ok();
}

std::string ShardName(uint64_t index, uint64_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05llu-of-%05llu.safetensors",
                static_cast<unsigned long long>(index + 1), static_cast<unsigned long long>(count));
  return name;
}

}  // namespace

synthetic::Distribution SyntheticDistribution(const std::string& n, WeightKind kind, const std::vector<int64_t>& shape) {
  synthetic::Distribution d;
  double center = 0, amplitude = 1;
  if (kind == WeightKind::kMxfp4Blocks) {
    d.kind = synthetic::kRandomBytes;
    return d;
  }
  if (kind == WeightKind::kMxfp4Scales) {
    // Uniform E2M1 codes have an RMS of sqrt(68.5 / 8) ~= 2.93; pick the
    // scale so each expert matmul keeps unit-variance inputs at unit variance
    // (weights with standard deviation ~1/sqrt(K)).
    const double k = static_cast<double>(shape[2]) * moert::kMxfp4BlockSize;
    d.kind = synthetic::kE8m0Scales;
    d.exponent = 127 + static_cast<int>(std::lround(std::log2(1.0 / (2.93 * std::sqrt(k)))));
    return d;
  }
  if (EndsWith(n, "norm.weight") || EndsWith(n, "norm.scale") || EndsWith(n, "layernorm.weight")) {
    center = 1.0;
    amplitude = 0.2;
  } else if (EndsWith(n, "sinks")) {
    amplitude = 1.0;
  } else if (EndsWith(n, "bias")) {
    amplitude = 0.1;
  } else if (EndsWith(n, "embed_tokens.weight") || EndsWith(n, "embedding.weight")) {
    amplitude = 1.0;
  } else {
    // Linear weights [out, in]: standard deviation 1/sqrt(in).
    amplitude = std::sqrt(3.0 / static_cast<double>(shape.back()));
  }
  d.kind = synthetic::kUniformBf16;
  d.center = ToFixedPoint(center);
  d.amplitude = ToFixedPoint(amplitude);
  return d;
}

synthetic::Part SyntheticTensorPart(const ExpectedTensor& tensor, uint64_t seed) {
  synthetic::Part part;
  part.key = synthetic::Key(seed, synthetic::HashName(tensor.name.data(), tensor.name.size()));
  part.size = TensorBytes(tensor);
  part.distribution = SyntheticDistribution(tensor.name, tensor.kind, tensor.shape);
  return part;
}

Result<Checkpoint> OpenSyntheticCheckpoint(const ModelConfig& config, uint64_t seed, bool with_data,
                                           const std::string& dir) {
  MOERT_RETURN_IF_ERROR(ValidateConfig(config, "synthetic configuration"));
  const std::vector<ExpectedTensor> tensors = ExpectedHfTensors(config);
  auto storage = std::make_shared<std::vector<std::vector<uint8_t>>>();
  storage->reserve(tensors.size());  // the refs point into the inner vectors
  std::map<std::string, WeightRef> weights;
  for (const ExpectedTensor& t : tensors) {
    WeightRef ref;
    ref.name = t.name;
    ref.file = "(synthetic, seed " + std::to_string(seed) + ")";
    ref.dtype = t.kind == WeightKind::kDense ? DType::kBF16 : DType::kU8;
    ref.shape = t.shape;
    ref.byte_size = TensorBytes(t);
    if (with_data) {
      std::vector<uint8_t>& bytes = storage->emplace_back(ref.byte_size);
      synthetic::FillRange(SyntheticTensorPart(t, seed), 0, ref.byte_size, bytes.data());
      ref.data = bytes.data();
    }
    weights.emplace(t.name, std::move(ref));
  }
  return Checkpoint::FromHfWeights(config, dir, std::move(weights), std::move(storage), seed);
}

Result<SynthSummary> WriteSyntheticCheckpoint(const SynthOptions& options, const std::string& dir) {
  MOERT_RETURN_IF_ERROR(ValidateConfig(options.config, "synthetic configuration"));
  if (options.max_shard_bytes == 0) return moert::InvalidArgument("the shard size must be positive");
  MOERT_RETURN_IF_ERROR(moert::MakeDirectories(dir));

  const std::vector<ExpectedTensor> tensors = ExpectedHfTensors(options.config);
  // Assign tensors to shards in model order.
  std::vector<std::vector<size_t>> shards;
  uint64_t shard_bytes = 0;
  SynthSummary summary;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t bytes = TensorBytes(tensors[i]);
    if (shards.empty() || (shard_bytes > 0 && shard_bytes + bytes > options.max_shard_bytes)) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += bytes;
    summary.tensor_bytes += bytes;
  }
  summary.num_tensors = tensors.size();
  summary.num_shards = shards.size();

  moert::JsonValue weight_map = moert::JsonValue::Object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name = ShardName(s, shards.size());
    std::vector<moert::TensorSpec> specs;
    for (size_t i : shards[s]) {
      const ExpectedTensor& t = tensors[i];
      specs.push_back({t.name, t.kind == WeightKind::kDense ? DType::kBF16 : DType::kU8, t.shape});
      weight_map.Set(t.name, moert::JsonValue::String(name));
    }
    MOERT_ASSIGN_OR_RETURN(moert::SafetensorsWriter writer,
                           moert::SafetensorsWriter::Create(moert::JoinPath(dir, name), specs,
                                                            {{"format", "pt"}}));
    for (size_t i : shards[s]) {
      if (options.sparse) {
        MOERT_RETURN_IF_ERROR(writer.AppendZeros(TensorBytes(tensors[i])));
      } else {
        MOERT_RETURN_IF_ERROR(WriteTensor(tensors[i], options.seed, writer));
      }
    }
    MOERT_RETURN_IF_ERROR(writer.Finish());
  }

  moert::JsonValue index = moert::JsonValue::Object();
  moert::JsonValue metadata = moert::JsonValue::Object();
  metadata.Set("total_size", moert::JsonValue::Integer(static_cast<int64_t>(summary.tensor_bytes)));
  index.Set("metadata", std::move(metadata));
  index.Set("weight_map", std::move(weight_map));
  MOERT_RETURN_IF_ERROR(moert::WriteStringToFile(moert::JoinPath(dir, "model.safetensors.index.json"),
                                                 index.Serialize(2) + "\n"));
  MOERT_RETURN_IF_ERROR(moert::WriteStringToFile(moert::JoinPath(dir, "config.json"),
                                                 options.config.ToHfJson().Serialize(2) + "\n"));
  return summary;
}

}  // namespace moec::gptoss
