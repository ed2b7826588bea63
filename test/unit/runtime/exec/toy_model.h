// A hand-built manifest over the test kernels (test/unit/runtime/hal/
// test_kernels.cc): a toy "model" whose logits can be computed by hand.
//
// With vocab V, the embedding is one-hot, E[t] = (t + 1) * e_t, the KV cache
// keeps each position's embedding, a row's hidden state is the sum of its
// sequence's embeddings up to its position, and
//   logits[v] = hidden[v] * w[v],  w[v] = 1 + v / 2,
// so logits[v] = (v + 1) * (1 + v / 2) * (number of v in the sequence so far).
#ifndef MOERT_TEST_EXEC_TOY_MODEL_H_
#define MOERT_TEST_EXEC_TOY_MODEL_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "exec/session.h"
#include "flatbuffers/flatbuffers.h"
#include "schema/moex_generated.h"

namespace moert::testing {

struct ToyConfig {
  uint32_t vocab = 6;
  uint32_t max_context = 10;
  uint32_t num_slots = 3;
  uint32_t prefill_rows = 4;
  uint32_t decode_rows = 2;
  bool with_decode = true;
  moex::TargetKind target = moex::TargetKind::CPU;
  // Breaks one thing for the validation tests.
  bool binding_past_buffer = false;  // the logits kernel reads past w
  bool missing_symbol = false;       // kernel 2's symbol does not exist
  bool weight_segment_out_of_range = false;
  bool arena_too_small = false;
};

struct ToyModel {
  ToyConfig config;
  flatbuffers::DetachedBuffer manifest_bytes;
  // Segment 0: E f32[V, V] at 0, w f32[V] at a 64-aligned offset.
  std::unique_ptr<uint8_t, decltype(&std::free)> weights{nullptr, &std::free};
  uint64_t weights_size = 0;
  // Segment 1: the kernels' shared object.
  std::string image;

  const moex::Manifest& manifest() const { return *moex::GetManifest(manifest_bytes.data()); }
  exec::SegmentResolver resolver() const;
  // The logits the toy model gives after `sequence` (hand computation).
  std::vector<float> ExpectedLogits(const std::vector<int32_t>& sequence) const;
};

std::unique_ptr<ToyModel> BuildToyModel(const ToyConfig& config = {});

}  // namespace moert::testing

#endif  // MOERT_TEST_EXEC_TOY_MODEL_H_
