#include "exec/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moert::exec {

void Philox4x32x10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

double UniformFromCounter(uint64_t seed, uint64_t step) {
  const uint32_t counter[4] = {static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32), 0, 0};
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  uint32_t out[4];
  Philox4x32x10(counter, key, out);
  const uint64_t bits = ((static_cast<uint64_t>(out[0]) << 32) | out[1]) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

Status ValidateSamplingParams(const SamplingParams& params) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature)) {
    return InvalidArgument("sampling temperature ", params.temperature,
                           " must be a finite number >= 0");
  }
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
    return InvalidArgument("sampling top_p ", params.top_p, " must be in (0, 1]");
  }
  return Status::Ok();
}

int32_t Argmax(const float* logits, uint32_t count) {
  int32_t best = -1;
  float best_value = 0.0f;
  for (uint32_t i = 0; i < count; ++i) {
    const float v = logits[i];
    if (std::isnan(v)) continue;
    if (best < 0 || v > best_value) {
      best = static_cast<int32_t>(i);
      best_value = v;
    }
  }
  return best;
}

Result<Sampler> Sampler::Create(uint32_t vocab_size, const SamplingParams& params) {
  MOERT_RETURN_IF_ERROR(ValidateSamplingParams(params));
  if (vocab_size == 0) return InvalidArgument("sampler over an empty vocabulary");
  if (vocab_size > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return InvalidArgument("vocabulary of ", vocab_size, " tokens exceeds the i32 token ids");
  }
  Sampler sampler(vocab_size, params);
  if (params.temperature > 0.0f) {
    sampler.weights_.resize(vocab_size);
    if (params.top_p < 1.0f) sampler.order_.resize(vocab_size);
  }
  return sampler;
}

Result<int32_t> Sampler::Sample(const float* logits, uint64_t step) {
  const uint32_t n = vocab_size_;
  const int32_t argmax = Argmax(logits, n);
  if (argmax < 0 || logits[argmax] == -std::numeric_limits<float>::infinity()) {
    return InvalidArgument("no token can be sampled: every logit is NaN or -inf");
  }
  const double max_logit = logits[argmax];
  if (params_.temperature == 0.0f || std::isinf(max_logit)) return argmax;

  // Unnormalized probabilities exp((l - max) / T), in double so that the sums
  // below are exact enough and the same wherever IEEE doubles are.
  const double inv_t = 1.0 / static_cast<double>(params_.temperature);
  double total = 0.0;
  for (uint32_t i = 0; i < n; ++i) {
    const float l = logits[i];
    const double w = std::isnan(l) ? 0.0 : std::exp((static_cast<double>(l) - max_logit) * inv_t);
    weights_[i] = w;
    total += w;
  }
  const double u = UniformFromCounter(params_.seed, step);

  if (params_.top_p >= 1.0f) {
    const double target = u * total;
    double cumulative = 0.0;
    int32_t last = argmax;
    for (uint32_t i = 0; i < n; ++i) {
      if (weights_[i] == 0.0) continue;
      cumulative += weights_[i];
      last = static_cast<int32_t>(i);
      if (target < cumulative) return last;
    }
    return last;  // rounding left target at the very top
  }

  // Top-p: the most likely tokens in order (probability descending, id
  // ascending) until their mass reaches top_p. Sorts only as many candidates
  // as needed: the top 64, then 4x more while the mass falls short.
  uint32_t candidates = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (weights_[i] > 0.0) order_[candidates++] = i;
  }
  // "Reaches" allows a relative 1e-6 so that a decimal top_p the float cannot
  // hold exactly (0.8f > 0.8) still stops where the decimal would.
  const double threshold = (static_cast<double>(params_.top_p) - 1e-6) * total;
  const auto more_likely = [this](uint32_t a, uint32_t b) {
    return weights_[a] > weights_[b] || (weights_[a] == weights_[b] && a < b);
  };
  uint32_t sorted = std::min<uint32_t>(candidates, 64);
  uint32_t kept = 0;
  double mass = 0.0;
  for (;;) {
    std::partial_sort(order_.begin(), order_.begin() + sorted, order_.begin() + candidates,
                      more_likely);
    kept = 0;
    mass = 0.0;
    do {
      mass += weights_[order_[kept++]];
    } while (kept < sorted && mass < threshold);
    if (mass >= threshold || sorted == candidates) break;
    sorted = static_cast<uint32_t>(std::min<uint64_t>(candidates, uint64_t{sorted} * 4));
  }
  const double target = u * mass;
  double cumulative = 0.0;
  for (uint32_t k = 0; k < kept; ++k) {
    cumulative += weights_[order_[k]];
    if (target < cumulative) return static_cast<int32_t>(order_[k]);
  }
  return static_cast<int32_t>(order_[kept - 1]);
}

}  // namespace moert::exec
