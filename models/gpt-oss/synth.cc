#include "gpt-oss/synth.h"

#include <cmath>
#include <cstdio>
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

// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t HashName(const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// How one tensor's values are drawn: uniform in [center - amplitude,
// center + amplitude], or random bytes (MXFP4 codes), or E8M0 exponents
// around `scale_exponent`.
struct Distribution {
  enum class Kind { kUniform, kRandomBytes, kScaleBytes } kind = Kind::kUniform;
  double center = 0;
  double amplitude = 1;
  int scale_exponent = 127;
};

Distribution DistributionFor(const ExpectedTensor& t) {
  Distribution d;
  const std::string& n = t.name;
  if (t.kind == WeightKind::kMxfp4Blocks) {
    d.kind = Distribution::Kind::kRandomBytes;
  } else if (t.kind == WeightKind::kMxfp4Scales) {
    // Uniform E2M1 codes have an RMS of sqrt(68.5 / 8) ~= 2.93; pick the
    // scale so each expert matmul keeps unit-variance inputs at unit variance
    // (weights with standard deviation ~1/sqrt(K)).
    const double k = static_cast<double>(t.shape[2]) * moert::kMxfp4BlockSize;
    d.kind = Distribution::Kind::kScaleBytes;
    d.scale_exponent = 127 + static_cast<int>(std::lround(std::log2(1.0 / (2.93 * std::sqrt(k)))));
  } else if (EndsWith(n, "norm.weight") || EndsWith(n, "norm.scale") || EndsWith(n, "layernorm.weight")) {
    d.center = 1.0;
    d.amplitude = 0.2;
  } else if (EndsWith(n, "sinks")) {
    d.amplitude = 1.0;
  } else if (EndsWith(n, "bias")) {
    d.amplitude = 0.1;
  } else if (EndsWith(n, "embed_tokens.weight") || EndsWith(n, "embedding.weight")) {
    d.amplitude = 1.0;
  } else {
    // Linear weights [out, in]: standard deviation 1/sqrt(in).
    d.amplitude = std::sqrt(3.0 / static_cast<double>(t.shape.back()));
  }
  return d;
}

uint64_t TensorBytes(const ExpectedTensor& t) {
  uint64_t n = t.kind == WeightKind::kDense ? 2 : 1;  // bf16 or bytes
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

// Streams one tensor's bytes into `writer` in bounded chunks.
Status WriteTensor(const ExpectedTensor& t, uint64_t seed, moert::SafetensorsWriter& writer) {
  const Distribution dist = DistributionFor(t);
  const uint64_t key = Mix64(seed ^ HashName(t.name));
  const uint64_t total = TensorBytes(t);
  constexpr uint64_t kChunkBytes = uint64_t{1} << 22;
  std::vector<uint8_t> chunk;
  for (uint64_t begin = 0; begin < total; begin += kChunkBytes) {
    const uint64_t size = std::min(kChunkBytes, total - begin);
    chunk.resize(size);
    switch (dist.kind) {
      case Distribution::Kind::kRandomBytes:
        for (uint64_t i = 0; i < size; ++i) {
          const uint64_t byte = begin + i;
          chunk[i] = static_cast<uint8_t>(Mix64(key + byte / 8) >> (8 * (byte % 8)));
        }
        break;
      case Distribution::Kind::kScaleBytes:
        for (uint64_t i = 0; i < size; ++i) {
          chunk[i] = static_cast<uint8_t>(dist.scale_exponent - 1 + static_cast<int>(Mix64(key + begin + i) % 3));
        }
        break;
      case Distribution::Kind::kUniform:
        for (uint64_t i = 0; i < size; i += 2) {
          const uint64_t element = (begin + i) / 2;
          const double u = static_cast<double>(Mix64(key + element) >> 40) * 0x1.0p-24;  // [0, 1)
          const float value = static_cast<float>(dist.center + dist.amplitude * (2 * u - 1));
          const uint16_t bits = moert::FloatToBf16(value);
          chunk[i] = static_cast<uint8_t>(bits);
          chunk[i + 1] = static_cast<uint8_t>(bits >> 8);
        }
        break;
    }
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
