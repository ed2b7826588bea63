#include "test_artifact.h"

#include <cstring>

#include "artifact/header.h"

namespace moert::testing {

uint32_t GetU32(const std::string& bytes, uint64_t offset) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(bytes[offset + i])} << (8 * i);
  return v;
}
void PutU32(std::string& bytes, uint64_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}
uint64_t GetU64(const std::string& bytes, uint64_t offset) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(bytes[offset + i])} << (8 * i);
  return v;
}

void Reseal(std::string& artifact) {
  uint64_t manifest_size = GetU64(artifact, 24);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(artifact.data());
  uint64_t checksum = ComputeArtifactChecksum(data, data + kHeaderSize, manifest_size);
  for (int i = 0; i < 8; ++i) {
    artifact[kHeaderChecksumOffset + i] = static_cast<char>(checksum >> (8 * i));
  }
}

std::string BuildTestArtifact(const TestArtifactSpec& spec) {
  // Segment contents.
  std::vector<std::string> segments(4);
  segments[0].resize(128 + 68);
  for (size_t i = 0; i < segments[0].size(); ++i) segments[0][i] = static_cast<char>(i * 7);
  segments[1] = "\x7f" "ELF not really a shared object, but bytes the tests can compare";
  segments[2] = "IQ== 0\nIg== 1\n";
  segments[3].assign(kRows * kVocab * 4, '\0');
  for (size_t i = 0; i < segments[3].size(); i += 4) segments[3][i + 3] = 0x3f;  // ~0.5f

  flatbuffers::FlatBufferBuilder fbb;
  auto model = moex::CreateModelConfigDirect(
      fbb, /*num_layers=*/2, /*hidden_size=*/8, /*num_heads=*/2, /*num_kv_heads=*/1,
      /*head_dim=*/4, /*num_experts=*/4, /*experts_per_token=*/2, /*intermediate_size=*/8,
      kVocab, /*sliding_window=*/4, nullptr, 150000.0, 32.0, 32.0, 1.0, 4096, false, 1e-5, 7.0,
      1.702, /*eos_token_id=*/3);
  std::vector<flatbuffers::Offset<flatbuffers::String>> features;
  for (const std::string& f : spec.required_features) features.push_back(fbb.CreateString(f));
  auto target = moex::CreateTargetDirect(fbb, spec.target_kind, spec.target_name.c_str(),
                                         &features);
  std::vector<moex::Segment> segment_table;
  for (size_t i = 0; i < segments.size(); ++i) {
    segment_table.emplace_back(spec.segment_offsets[i], segments[i].size(),
                               Fnv1a64(segments[i].data(), segments[i].size()));
  }
  auto tokenizer = moex::CreateTokenizerDirect(fbb, 2, "o200k_harmony");
  std::vector<int64_t> shape0 = {4, 8}, shape1 = {2, 64};
  std::vector<flatbuffers::Offset<moex::Weight>> weights = {
      moex::CreateWeightDirect(fbb, "w.f32", spec.weight0_segment, 0, 128, moex::DType::F32,
                               &shape0, "row_major"),
      moex::CreateWeightDirect(fbb, "w.mxfp4", 0, spec.weight1_offset, 68, moex::DType::MXFP4,
                               &shape1, "mxfp4_rows_k32"),
  };
  std::vector<flatbuffers::Offset<moex::Kernel>> kernels = {
      moex::CreateKernelDirect(fbb, "embed", "moe_k0", 3, 1),
      moex::CreateKernelDirect(fbb, "lm_head", "moe_k1", 3, 0),
  };
  std::vector<flatbuffers::Offset<moex::DeviceImage>> images = {
      moex::CreateDeviceImageDirect(fbb, moex::ImageFormat::ELF_SHARED_OBJECT, 1, &kernels)};
  std::vector<flatbuffers::Offset<moex::Buffer>> buffers = {
      moex::CreateBufferDirect(fbb, "tokens", moex::BufferKind::INPUT, kRows * 4),
      moex::CreateBufferDirect(fbb, "positions", moex::BufferKind::INPUT, kRows * 4),
      moex::CreateBufferDirect(fbb, "slots", moex::BufferKind::INPUT, kRows * 4),
      moex::CreateBufferDirect(fbb, "logits", moex::BufferKind::OUTPUT, kRows * kVocab * 4),
      moex::CreateBufferDirect(fbb, "w.f32", moex::BufferKind::WEIGHT, 128, 64, 0),
      moex::CreateBufferDirect(fbb, "hidden", moex::BufferKind::ACTIVATION, 256, 64, -1, 0),
      moex::CreateBufferDirect(fbb, "k_cache.0", moex::BufferKind::KV_CACHE, 512),
      moex::CreateBufferDirect(fbb, "live_rows", moex::BufferKind::INPUT, 8),
  };
  std::vector<moex::Binding> b0 = {{0, 0, kRows * 4}, {4, 0, 128}, {5, 0, 256}};
  std::vector<moex::Binding> b1 = {{5, 0, 256}, {4, 0, 128}, {3, 0, spec.logits_binding_size}};
  std::vector<uint32_t> c0 = {kVocab};
  std::vector<flatbuffers::Offset<moex::Dispatch>> dispatches = {
      moex::CreateDispatchDirect(fbb, 0, 0, spec.workgroups_x, 1, 1, &b0, &c0),
      moex::CreateDispatchDirect(fbb, 0, 1, 1, 1, 1, &b1, nullptr),
  };
  std::vector<flatbuffers::Offset<moex::EntryPoint>> entries = {
      moex::CreateEntryPointDirect(fbb, "prefill", kRows, 0, 1, 2, 3, &dispatches, /*live_rows=*/7)};
  std::vector<int32_t> probe_tokens = {1, 2};
  auto probe = moex::CreateProbeDirect(fbb, &probe_tokens, 3, 1e-3f);
  auto manifest = moex::CreateManifestDirect(
      fbb, kFormatVersion, "moert test", model, target, /*max_context=*/64, /*num_slots=*/1,
      &segment_table, tokenizer, &weights, &images, &buffers, /*activation_arena_size=*/256,
      &entries, probe);
  moex::FinishManifestBuffer(fbb, manifest);

  uint64_t manifest_size = fbb.GetSize();
  uint64_t area_offset;
  AlignUp(kHeaderSize + manifest_size, &area_offset);
  uint64_t area_size = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    uint64_t end;
    AlignUp(spec.segment_offsets[i] + segments[i].size(), &end);
    if (end > area_size) area_size = end;
  }
  std::string out(area_offset + area_size, '\0');
  std::memcpy(&out[kHeaderSize], fbb.GetBufferPointer(), manifest_size);
  for (size_t i = 0; i < segments.size(); ++i) {
    // Overlapping segments (a test's damage) simply overwrite each other.
    std::memcpy(&out[area_offset + spec.segment_offsets[i]], segments[i].data(),
                segments[i].size());
  }
  Header header;
  header.manifest_size = manifest_size;
  header.segment_area_offset = area_offset;
  header.segment_area_size = area_size;
  header.file_size = out.size();
  EncodeHeader(header, reinterpret_cast<uint8_t*>(&out[0]));
  Reseal(out);
  return out;
}

}  // namespace moert::testing
