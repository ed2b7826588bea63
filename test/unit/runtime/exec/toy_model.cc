#include "toy_model.h"

#include <cstring>

#include "artifact/header.h"
#include "base/file_map.h"

namespace moert::testing {

exec::SegmentResolver ToyModel::resolver() const {
  return [this](uint32_t index) -> Result<exec::SegmentBytes> {
    if (index == 0) return exec::SegmentBytes{weights.get(), weights_size};
    if (index == 1) {
      return exec::SegmentBytes{reinterpret_cast<const uint8_t*>(image.data()), image.size()};
    }
    return NotFound("toy model has no segment ", index);
  };
}

std::vector<float> ToyModel::ExpectedLogits(const std::vector<int32_t>& sequence) const {
  std::vector<float> logits(config.vocab, 0.0f);
  for (int32_t t : sequence) logits[t] += static_cast<float>(t + 1);
  for (uint32_t v = 0; v < config.vocab; ++v) logits[v] *= 1.0f + 0.5f * static_cast<float>(v);
  return logits;
}

std::unique_ptr<ToyModel> BuildToyModel(const ToyConfig& c) {
  auto model = std::make_unique<ToyModel>();
  model->config = c;
  const uint32_t V = c.vocab;
  const uint64_t e_bytes = uint64_t{V} * V * 4;
  const uint64_t w_offset = (e_bytes + 63) / 64 * 64;
  const uint64_t w_bytes = uint64_t{V} * 4;
  model->weights_size = w_offset + w_bytes;
  model->weights.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (model->weights_size + 63) / 64 * 64)));
  std::memset(model->weights.get(), 0, model->weights_size);
  float* e = reinterpret_cast<float*>(model->weights.get());
  for (uint32_t t = 0; t < V; ++t) e[t * V + t] = static_cast<float>(t + 1);
  float* w = reinterpret_cast<float*>(model->weights.get() + w_offset);
  for (uint32_t v = 0; v < V; ++v) w[v] = 1.0f + 0.5f * static_cast<float>(v);
  auto image = ReadFileToString(MOERT_TEST_KERNELS_PATH);
  if (image.ok()) model->image = *image;

  flatbuffers::FlatBufferBuilder fbb;
  auto config = moex::CreateModelConfigDirect(fbb, /*num_layers=*/1, /*hidden_size=*/V, 1, 1, V, 0, 0,
                                              0, /*vocab_size=*/V, 0, nullptr, 0, 0, 0, 0, 0, false,
                                              0, 0, 0, /*eos_token_id=*/0);
  auto target = moex::CreateTargetDirect(fbb, c.target, "x86-64-v3");
  std::vector<moex::Segment> segments = {
      moex::Segment(0, model->weights_size, 0),
      moex::Segment(4096 * ((model->weights_size + 4095) / 4096), model->image.size(), 0)};
  std::vector<int64_t> e_shape = {V, V}, w_shape = {V};
  std::vector<flatbuffers::Offset<moex::Weight>> weights = {
      moex::CreateWeightDirect(fbb, "embed.weight",
                               c.weight_segment_out_of_range ? 7 : 0, 0, e_bytes,
                               moex::DType::F32, &e_shape, "row_major"),
      moex::CreateWeightDirect(fbb, "lm_head.scale", 0, w_offset, w_bytes, moex::DType::F32,
                               &w_shape, "row_major")};
  std::vector<flatbuffers::Offset<moex::Kernel>> kernels = {
      moex::CreateKernelDirect(fbb, "kv_write", "moert_toy_kv_write", 5, 2),
      moex::CreateKernelDirect(fbb, "attend", "moert_toy_attend", 4, 2),
      moex::CreateKernelDirect(fbb, "logits",
                               c.missing_symbol ? "moert_toy_no_such_kernel" : "moert_toy_logits", 3, 1)};
  std::vector<flatbuffers::Offset<moex::DeviceImage>> images = {
      moex::CreateDeviceImageDirect(fbb, moex::ImageFormat::ELF_SHARED_OBJECT, 1, &kernels)};

  // Buffers: 0-3 prefill inputs and logits, 4-7 decode's, 8 the KV cache,
  // 9-10 weights, 11 the hidden activation, 12-13 prefill's and decode's live
  // rows (which the toy kernels do not read).
  const uint32_t rows_p = c.prefill_rows, rows_d = c.decode_rows;
  const uint64_t kv_bytes = uint64_t{c.num_slots} * c.max_context * V * 4;
  const uint32_t max_rows = rows_p > rows_d ? rows_p : rows_d;
  const uint64_t hidden_bytes = uint64_t{max_rows} * V * 4;
  const uint64_t arena = c.arena_too_small ? 64 : 64 + hidden_bytes;
  using moex::BufferKind;
  std::vector<flatbuffers::Offset<moex::Buffer>> buffers = {
      moex::CreateBufferDirect(fbb, "prefill.tokens", BufferKind::INPUT, rows_p * 4),
      moex::CreateBufferDirect(fbb, "prefill.positions", BufferKind::INPUT, rows_p * 4),
      moex::CreateBufferDirect(fbb, "prefill.slots", BufferKind::INPUT, rows_p * 4),
      moex::CreateBufferDirect(fbb, "prefill.logits", BufferKind::OUTPUT, uint64_t{rows_p} * V * 4),
      moex::CreateBufferDirect(fbb, "decode.tokens", BufferKind::INPUT, rows_d * 4),
      moex::CreateBufferDirect(fbb, "decode.positions", BufferKind::INPUT, rows_d * 4),
      moex::CreateBufferDirect(fbb, "decode.slots", BufferKind::INPUT, rows_d * 4),
      moex::CreateBufferDirect(fbb, "decode.logits", BufferKind::OUTPUT, uint64_t{rows_d} * V * 4),
      moex::CreateBufferDirect(fbb, "kv_cache", BufferKind::KV_CACHE, kv_bytes),
      moex::CreateBufferDirect(fbb, "embed", BufferKind::WEIGHT, e_bytes, 64, 0),
      moex::CreateBufferDirect(fbb, "lm_scale", BufferKind::WEIGHT, w_bytes, 64, 1),
      moex::CreateBufferDirect(fbb, "hidden", BufferKind::ACTIVATION, hidden_bytes, 64, -1, 64),
      moex::CreateBufferDirect(fbb, "prefill.live_rows", BufferKind::INPUT, 8),
      moex::CreateBufferDirect(fbb, "decode.live_rows", BufferKind::INPUT, 8)};

  auto entry = [&](const char* name, uint32_t rows, uint32_t first, uint32_t live_rows) {
    using moex::Binding;
    const uint64_t in = rows * 4, hidden = uint64_t{rows} * V * 4, logits = hidden;
    std::vector<Binding> kv_write = {Binding(first, 0, in), Binding(first + 1, 0, in),
                                     Binding(first + 2, 0, in), Binding(9, 0, e_bytes),
                                     Binding(8, 0, kv_bytes)};
    std::vector<Binding> attend = {Binding(first + 1, 0, in), Binding(first + 2, 0, in),
                                   Binding(8, 0, kv_bytes), Binding(11, 0, hidden)};
    std::vector<Binding> head = {Binding(11, 0, hidden),
                                 Binding(10, c.binding_past_buffer ? 4 : 0, w_bytes),
                                 Binding(first + 3, 0, logits)};
    std::vector<uint32_t> dims = {V, c.max_context}, vocab = {V};
    std::vector<flatbuffers::Offset<moex::Dispatch>> dispatches = {
        moex::CreateDispatchDirect(fbb, 0, 0, rows, 1, 1, &kv_write, &dims),
        moex::CreateDispatchDirect(fbb, 0, 1, rows, 1, 1, &attend, &dims),
        moex::CreateDispatchDirect(fbb, 0, 2, rows, 2, 1, &head, &vocab)};
    return moex::CreateEntryPointDirect(fbb, name, rows, first, first + 1, first + 2, first + 3,
                                        &dispatches, live_rows);
  };
  std::vector<flatbuffers::Offset<moex::EntryPoint>> entry_points = {entry("prefill", rows_p, 0, 12)};
  if (c.with_decode) entry_points.push_back(entry("decode", rows_d, 4, 13));

  auto manifest = moex::CreateManifestDirect(
      fbb, kFormatVersion, "toy", config, target, c.max_context, c.num_slots, &segments, 0, &weights, &images,
      &buffers, arena, &entry_points);
  moex::FinishManifestBuffer(fbb, manifest);
  model->manifest_bytes = fbb.Release();
  return model;
}

}  // namespace moert::testing
