#include "gpt-oss/reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/numeric_formats.h"

namespace moec::gptoss {

using moert::Result;
using moert::Status;

namespace {

constexpr double kPi = 3.14159265358979323846;

// y[t] = W x[t] + b for every token t. W is [out, in]; each row is widened to
// fp32 once and used for every token; sums accumulate in double.
void Linear(const WeightRef& weight, const WeightRef* bias, const std::vector<float>& x, int64_t T,
            int64_t in, int64_t out, std::vector<float>& y) {
  y.assign(static_cast<size_t>(T * out), 0.0f);
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t r = 0; r < out; ++r) {
    weight.RowAsFloat(r, in, row.data());
    const double b = bias ? bias->ElementAsFloat(static_cast<uint64_t>(r)) : 0.0;
    for (int64_t t = 0; t < T; ++t) {
      const float* xt = &x[static_cast<size_t>(t * in)];
      double sum = 0;
      for (int64_t i = 0; i < in; ++i) sum += static_cast<double>(row[i]) * xt[i];
      y[static_cast<size_t>(t * out + r)] = static_cast<float>(sum + b);
    }
  }
}

// RMSNorm over the last dimension with a multiplicative gain.
void RmsNorm(const std::vector<float>& x, int64_t T, int64_t D, const WeightRef& gain, double eps,
             std::vector<float>& y) {
  const std::vector<float> g = gain.ToFloatVector();
  y.resize(x.size());
  for (int64_t t = 0; t < T; ++t) {
    const float* xt = &x[static_cast<size_t>(t * D)];
    double sum_squares = 0;
    for (int64_t i = 0; i < D; ++i) sum_squares += static_cast<double>(xt[i]) * xt[i];
    const double inv_rms = 1.0 / std::sqrt(sum_squares / static_cast<double>(D) + eps);
    for (int64_t i = 0; i < D; ++i) {
      y[static_cast<size_t>(t * D + i)] = static_cast<float>(xt[i] * inv_rms * g[i]);
    }
  }
}

// Rotates each head of `x` ([T, heads * d]) in place, half-split (NeoX) pairs
// (i, i + d/2), token t at absolute position first_position + t.
void ApplyRope(const RopeParameters& rope, int64_t first_position, int64_t T, int64_t heads, int64_t d,
               std::vector<float>& x) {
  const int64_t half = d / 2;
  for (int64_t t = 0; t < T; ++t) {
    const double p = static_cast<double>(first_position + t);
    for (int64_t i = 0; i < half; ++i) {
      const double angle = p * rope.inv_freq[static_cast<size_t>(i)];
      const double c = std::cos(angle) * rope.concentration;
      const double s = std::sin(angle) * rope.concentration;
      for (int64_t h = 0; h < heads; ++h) {
        float* v = &x[static_cast<size_t>((t * heads + h) * d)];
        const double x1 = v[i], x2 = v[i + half];
        v[i] = static_cast<float>(x1 * c - x2 * s);
        v[i + half] = static_cast<float>(x2 * c + x1 * s);
      }
    }
  }
}

// Row `row` of expert `expert` of an MXFP4 weight stored [E, rows, K/32, 16].
void DecodeExpertRow(const WeightRef& blocks, const WeightRef& scales, int64_t expert, int64_t rows,
                     int64_t row, int64_t k, float* out) {
  const int64_t blocks_per_row = k / moert::kMxfp4BlockSize;
  const uint64_t index = static_cast<uint64_t>(expert * rows + row);
  moert::DecodeMxfp4Row(blocks.data + index * static_cast<uint64_t>(blocks_per_row * moert::kMxfp4BlockBytes),
                        scales.data + index * static_cast<uint64_t>(blocks_per_row), k, out);
}

}  // namespace

RopeParameters ComputeYarnRope(const YarnScaling& yarn, int64_t head_dim) {
  RopeParameters rope;
  const double d = static_cast<double>(head_dim);
  const double log_theta = std::log(yarn.theta);
  const double context = static_cast<double>(yarn.original_context);
  // The range of pair indices between pure extrapolation (fast rotations,
  // kept) and pure interpolation (slow rotations, divided by the factor).
  double low = (d / 2) * std::log(context / (yarn.beta_fast * 2 * kPi)) / log_theta;
  double high = (d / 2) * std::log(context / (yarn.beta_slow * 2 * kPi)) / log_theta;
  if (yarn.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, d / 2 - 1);
  if (high == low) high += 0.001;  // avoid a zero-width ramp
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(yarn.theta, 2.0 * static_cast<double>(i) / d);
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    const double extrapolation = 1.0 / freq;
    const double interpolation = 1.0 / (yarn.factor * freq);
    rope.inv_freq.push_back(interpolation * ramp + extrapolation * (1.0 - ramp));
  }
  rope.concentration = yarn.factor > 1 ? 0.1 * std::log(yarn.factor) + 1.0 : 1.0;
  return rope;
}

RopeParameters ComputeRopeParameters(const ModelConfig& c) {
  return ComputeYarnRope({c.rope_theta, c.rope_scaling_factor, c.rope_beta_fast, c.rope_beta_slow,
                          c.rope_original_context, c.rope_truncate},
                         c.head_dim);
}

int64_t ArgMax(const float* values, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

ReferenceExecutor::ReferenceExecutor(const Checkpoint& checkpoint)
    : checkpoint_(checkpoint),
      config_(checkpoint.config()),
      rope_(ComputeRopeParameters(checkpoint.config())),
      max_context_(checkpoint.config().max_position_embeddings),
      key_cache_(static_cast<size_t>(checkpoint.config().num_layers)),
      value_cache_(static_cast<size_t>(checkpoint.config().num_layers)) {}

void ReferenceExecutor::set_max_context(int64_t tokens) {
  max_context_ = std::clamp<int64_t>(tokens, 1, config_.max_position_embeddings);
}

void ReferenceExecutor::Reset() {
  position_ = 0;
  for (auto& k : key_cache_) k.clear();
  for (auto& v : value_cache_) v.clear();
}

Status ReferenceExecutor::Forward(const std::vector<int32_t>& tokens, std::vector<float>* logits,
                                  HiddenStates* hidden) {
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t D = config_.hidden_size;
  if (T == 0) return moert::InvalidArgument("Forward needs at least one token");
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= config_.vocab_size) {
      return moert::InvalidArgument("token ", tokens[t], " at index ", t, " is outside the vocabulary [0, ",
                                    config_.vocab_size, ")");
    }
  }
  if (T > max_context_ - position_) {
    return moert::OutOfRange("sequence of ", position_ + T, " tokens exceeds the context limit of ",
                             max_context_, " (", position_, " already in the cache, ", T, " new)");
  }

  // Embedding.
  std::vector<float> x(static_cast<size_t>(T * D));
  for (int64_t t = 0; t < T; ++t) {
    checkpoint_.embedding().RowAsFloat(tokens[t], D, &x[static_cast<size_t>(t * D)]);
  }
  if (hidden) {
    hidden->clear();
    hidden->push_back(x);
  }

  std::vector<float> normed, block_out;
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    const LayerWeights& w = checkpoint_.layers()[static_cast<size_t>(l)];
    RmsNorm(x, T, D, w.attn_norm, config_.rms_norm_eps, normed);
    Attention(l, normed, T, block_out);
    for (size_t i = 0; i < x.size(); ++i) x[i] += block_out[i];
    RmsNorm(x, T, D, w.mlp_norm, config_.rms_norm_eps, normed);
    MixtureOfExperts(l, normed, T, block_out);
    for (size_t i = 0; i < x.size(); ++i) x[i] += block_out[i];
    if (hidden && l + 1 < config_.num_layers) hidden->push_back(x);
  }
  RmsNorm(x, T, D, checkpoint_.final_norm(), config_.rms_norm_eps, normed);
  if (hidden) hidden->push_back(normed);
  if (logits) {
    std::vector<float> out;
    Linear(checkpoint_.unembedding(), nullptr, normed, T, D, config_.vocab_size, out);
    logits->insert(logits->end(), out.begin(), out.end());
  }
  position_ += T;
  return Status::Ok();
}

void ReferenceExecutor::Attention(int64_t layer, const std::vector<float>& normed, int64_t T,
                                  std::vector<float>& out) {
  const LayerWeights& w = checkpoint_.layers()[static_cast<size_t>(layer)];
  const int64_t D = config_.hidden_size, H = config_.num_heads, G = config_.num_kv_heads;
  const int64_t d = config_.head_dim, kv = config_.kv_size();
  const int64_t heads_per_group = H / G;

  std::vector<float> q, k, v;
  Linear(w.q_weight, &w.q_bias, normed, T, D, config_.q_size(), q);
  Linear(w.k_weight, &w.k_bias, normed, T, D, kv, k);
  Linear(w.v_weight, &w.v_bias, normed, T, D, kv, v);
  ApplyRope(rope_, position_, T, H, d, q);
  ApplyRope(rope_, position_, T, G, d, k);

  std::vector<float>& keys = key_cache_[static_cast<size_t>(layer)];
  std::vector<float>& values = value_cache_[static_cast<size_t>(layer)];
  keys.insert(keys.end(), k.begin(), k.end());
  values.insert(values.end(), v.begin(), v.end());

  const std::vector<float> sinks = w.sinks.ToFloatVector();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<float> attended(static_cast<size_t>(T * H * d));
  std::vector<double> scores;
  for (int64_t t = 0; t < T; ++t) {
    const int64_t p = position_ + t;
    // Causal, and a sliding layer sees exactly the last `sliding_window`
    // positions, itself included.
    const int64_t first = config_.is_sliding(layer) ? std::max<int64_t>(0, p - config_.sliding_window + 1) : 0;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / heads_per_group;
      const float* qh = &q[static_cast<size_t>((t * H + h) * d)];
      scores.assign(static_cast<size_t>(p - first + 1), 0.0);
      // The sink is a raw logit: it joins the max and the normaliser but has
      // no value vector, so its probability mass is dropped.
      double max_score = sinks[static_cast<size_t>(h)];
      for (int64_t j = first; j <= p; ++j) {
        const float* kj = &keys[static_cast<size_t>(j * kv + g * d)];
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(qh[i]) * kj[i];
        scores[static_cast<size_t>(j - first)] = dot * scale;
        max_score = std::max(max_score, dot * scale);
      }
      double denominator = std::exp(sinks[static_cast<size_t>(h)] - max_score);
      for (double& s : scores) {
        s = std::exp(s - max_score);
        denominator += s;
      }
      float* oh = &attended[static_cast<size_t>((t * H + h) * d)];
      for (int64_t i = 0; i < d; ++i) {
        double sum = 0;
        for (int64_t j = first; j <= p; ++j) {
          sum += scores[static_cast<size_t>(j - first)] * values[static_cast<size_t>(j * kv + g * d + i)];
        }
        oh[i] = static_cast<float>(sum / denominator);
      }
    }
  }
  Linear(w.o_weight, &w.o_bias, attended, T, config_.q_size(), D, out);
}

void ReferenceExecutor::MixtureOfExperts(int64_t layer, const std::vector<float>& normed, int64_t T,
                                         std::vector<float>& out) {
  const LayerWeights& w = checkpoint_.layers()[static_cast<size_t>(layer)];
  const int64_t D = config_.hidden_size, E = config_.num_experts, I = config_.intermediate_size;
  const int64_t top_k = config_.experts_per_token;

  std::vector<float> router_logits;
  Linear(w.router_weight, &w.router_bias, normed, T, D, E, router_logits);

  // Top-k on the raw logits (highest first, lowest expert index on ties),
  // then a softmax over the k selected logits only.
  std::vector<std::vector<std::pair<int64_t, double>>> routes(static_cast<size_t>(T));
  std::vector<int64_t> order(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    const float* g = &router_logits[static_cast<size_t>(t * E)];
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return g[a] != g[b] ? g[a] > g[b] : a < b; });
    const double top = g[order[0]];
    double sum = 0;
    for (int64_t i = 0; i < top_k; ++i) sum += std::exp(g[order[i]] - top);
    for (int64_t i = 0; i < top_k; ++i) {
      routes[static_cast<size_t>(t)].emplace_back(order[i], std::exp(g[order[i]] - top) / sum);
    }
  }

  // Expert by expert, so each weight row is decoded once per chunk.
  out.assign(static_cast<size_t>(T * D), 0.0f);
  const std::vector<float> gate_up_bias = w.gate_up_bias.ToFloatVector();
  const std::vector<float> down_bias = w.down_bias.ToFloatVector();
  const double limit = config_.swiglu_limit, alpha = config_.swiglu_alpha;
  std::vector<float> row(static_cast<size_t>(std::max(D, I)));
  for (int64_t e = 0; e < E; ++e) {
    std::vector<std::pair<int64_t, double>> users;  // (token, routing weight)
    for (int64_t t = 0; t < T; ++t) {
      for (const auto& [expert, weight] : routes[static_cast<size_t>(t)]) {
        if (expert == e) users.emplace_back(t, weight);
      }
    }
    if (users.empty()) continue;
    const size_t U = users.size();

    // gate_up: rows 2i (gate) and 2i+1 (up) produce activation i.
    std::vector<double> gate_up(U * static_cast<size_t>(2 * I));
    for (int64_t r = 0; r < 2 * I; ++r) {
      DecodeExpertRow(w.gate_up_blocks, w.gate_up_scales, e, 2 * I, r, D, row.data());
      const double bias = gate_up_bias[static_cast<size_t>(e * 2 * I + r)];
      for (size_t u = 0; u < U; ++u) {
        const float* x = &normed[static_cast<size_t>(users[u].first * D)];
        double sum = 0;
        for (int64_t i = 0; i < D; ++i) sum += static_cast<double>(row[i]) * x[i];
        gate_up[u * static_cast<size_t>(2 * I) + static_cast<size_t>(r)] = static_cast<float>(sum + bias);
      }
    }
    // Clamped SwiGLU with the +1 on the linear half.
    std::vector<float> activation(U * static_cast<size_t>(I));
    for (size_t u = 0; u < U; ++u) {
      for (int64_t i = 0; i < I; ++i) {
        double glu = gate_up[u * static_cast<size_t>(2 * I) + static_cast<size_t>(2 * i)];
        double lin = gate_up[u * static_cast<size_t>(2 * I) + static_cast<size_t>(2 * i + 1)];
        glu = std::min(glu, limit);
        lin = std::clamp(lin, -limit, limit);
        const double swish = glu / (1.0 + std::exp(-alpha * glu));
        activation[u * static_cast<size_t>(I) + static_cast<size_t>(i)] = static_cast<float>(swish * (lin + 1.0));
      }
    }
    // down, then the routing weight applies to the biased output.
    for (int64_t r = 0; r < D; ++r) {
      DecodeExpertRow(w.down_blocks, w.down_scales, e, D, r, I, row.data());
      const double bias = down_bias[static_cast<size_t>(e * D + r)];
      for (size_t u = 0; u < U; ++u) {
        const float* a = &activation[u * static_cast<size_t>(I)];
        double sum = 0;
        for (int64_t i = 0; i < I; ++i) sum += static_cast<double>(row[i]) * a[i];
        const float y = static_cast<float>(sum + bias);
        out[static_cast<size_t>(users[u].first * D + r)] += static_cast<float>(users[u].second * y);
      }
    }
  }
}

Result<std::vector<int32_t>> ReferenceExecutor::GenerateGreedy(const std::vector<int32_t>& prompt,
                                                               int64_t count,
                                                               std::vector<float>* prompt_logits) {
  if (count < 0) return moert::InvalidArgument("cannot generate a negative number of tokens");
  std::vector<float> logits;
  MOERT_RETURN_IF_ERROR(Forward(prompt, &logits));
  if (prompt_logits) *prompt_logits = logits;
  const int64_t V = config_.vocab_size;
  std::vector<int32_t> generated;
  const float* last = &logits[logits.size() - static_cast<size_t>(V)];
  for (int64_t n = 0; n < count; ++n) {
    const int32_t next = static_cast<int32_t>(ArgMax(last, V));
    generated.push_back(next);
    if (n + 1 == count) break;
    logits.clear();
    MOERT_RETURN_IF_ERROR(Forward({next}, &logits));
    last = logits.data();
  }
  return generated;
}

}  // namespace moec::gptoss
