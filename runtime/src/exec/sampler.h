// Picks the next token from a row of logits: greedy (argmax), temperature,
// top-p (nucleus), seeded and deterministic.
//
// Randomness comes from a counter-based generator (Philox4x32-10) keyed by
// (seed, step): the draw for a step depends on nothing else, so the same seed
// gives the same tokens on every machine, whatever the batching or threads.
// The session uses a sequence's position as the step.
#ifndef MOERT_EXEC_SAMPLER_H_
#define MOERT_EXEC_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace moert::exec {

struct SamplingParams {
  // 0 is greedy (argmax, lowest id on ties); otherwise logits are divided by
  // it before the softmax. Must be finite and >= 0.
  float temperature = 0.0f;
  // Keeps the smallest set of most likely tokens whose probability reaches
  // top_p (ties broken towards the lower id). 0 < top_p <= 1; 1 keeps all.
  float top_p = 1.0f;
  uint64_t seed = 0;
};

Status ValidateSamplingParams(const SamplingParams& params);

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): one block of four 32-bit outputs for a counter and a key.
void Philox4x32x10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

// A uniform double in [0, 1) from (seed, step), identical on every machine:
// Philox with counter (step, 0) and key seed, 53 bits of the first two words.
double UniformFromCounter(uint64_t seed, uint64_t step);

// The lowest id among the largest logits; NaN never wins. -1 when count is 0.
int32_t Argmax(const float* logits, uint32_t count);

class Sampler {
 public:
  // Allocates the scratch a draw needs for `vocab_size` logits once.
  static Result<Sampler> Create(uint32_t vocab_size, const SamplingParams& params);

  const SamplingParams& params() const { return params_; }
  uint32_t vocab_size() const { return vocab_size_; }

  // The token for `logits[0, vocab_size)` at `step`. No allocation. Fails only
  // when no logit is a number above -inf (nothing can be sampled).
  Result<int32_t> Sample(const float* logits, uint64_t step);

 private:
  Sampler(uint32_t vocab_size, const SamplingParams& params)
      : vocab_size_(vocab_size), params_(params) {}

  uint32_t vocab_size_;
  SamplingParams params_;
  // Per-token unnormalized probabilities and the candidate order for top-p.
  std::vector<double> weights_;
  std::vector<uint32_t> order_;
};

}  // namespace moert::exec

#endif  // MOERT_EXEC_SAMPLER_H_
