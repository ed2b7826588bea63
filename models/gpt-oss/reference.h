// The fp32 reference executor: what the gpt-oss forward pass means, written
// for clarity rather than speed. It is the oracle every compiled target is
// checked against, so it follows ../shared/reference/gpt-oss-spec.md §2 line by
// line: weights are read from the checkpoint as stored (bf16, MXFP4) and
// widened to fp32, activations are fp32 and reductions accumulate in double.
//
// Forward() runs a chunk of tokens at the positions after those already seen,
// reading and extending a per-layer KV cache, so one call over a whole prompt
// (prefill) and one call per token (decode) compute the same thing.
#ifndef MOEC_MODELS_GPT_OSS_REFERENCE_H_
#define MOEC_MODELS_GPT_OSS_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "gpt-oss/checkpoint.h"

namespace moec::gptoss {

// Per-layer activations of one Forward() call, laid out as transformers'
// `output_hidden_states`: entry 0 is the embedding output, entry i (1..L-1)
// the output of layer i-1, and entry L the final RMSNorm of the last layer's
// output. Each entry is [T, D] row-major.
using HiddenStates = std::vector<std::vector<float>>;

// cos/sin tables of YaRN RoPE: inv_freq per rotated pair and the attention
// concentration that multiplies both cos and sin.
struct RopeParameters {
  std::vector<double> inv_freq;  // head_dim / 2 entries
  double concentration = 1;
};
RopeParameters ComputeRopeParameters(const ModelConfig& config);

// The same from the YaRN parameters alone (what the moe dialect's
// #moe.yarn carries), so compiled kernels use the oracle's formula.
struct YarnScaling {
  double theta = 0;
  double factor = 1;
  double beta_fast = 32;
  double beta_slow = 1;
  int64_t original_context = 4096;
  bool truncate = false;
};
RopeParameters ComputeYarnRope(const YarnScaling& yarn, int64_t head_dim);

class ReferenceExecutor {
 public:
  // `checkpoint` must outlive the executor.
  explicit ReferenceExecutor(const Checkpoint& checkpoint);

  // Runs `tokens` at positions position()..position()+T-1. Appends the
  // logits, [T, vocab] row-major, to `logits` when non-null, and the hidden
  // states to `hidden` when non-null. Fails (changing nothing) on an empty
  // chunk, a token outside the vocabulary or a position past the context.
  moert::Status Forward(const std::vector<int32_t>& tokens, std::vector<float>* logits,
                        HiddenStates* hidden = nullptr);

  // Greedy generation: runs `prompt`, then `count` tokens, each the argmax
  // (lowest id on ties) of the previous position's logits, fed back through
  // the KV cache. `prompt_logits` receives the prompt's logits when non-null.
  moert::Result<std::vector<int32_t>> GenerateGreedy(const std::vector<int32_t>& prompt,
                                                     int64_t count,
                                                     std::vector<float>* prompt_logits = nullptr);

  // Tokens seen so far (the next token's position).
  int64_t position() const { return position_; }
  // The longest sequence this executor accepts.
  int64_t max_context() const { return max_context_; }
  // Lowers the context limit (it never exceeds max_position_embeddings).
  void set_max_context(int64_t tokens);
  // Forgets the sequence: the next Forward() starts at position 0.
  void Reset();

 private:
  void Attention(int64_t layer, const std::vector<float>& normed, int64_t T, std::vector<float>& out);
  void MixtureOfExperts(int64_t layer, const std::vector<float>& normed, int64_t T,
                        std::vector<float>& out);

  const Checkpoint& checkpoint_;
  const ModelConfig& config_;
  RopeParameters rope_;
  int64_t position_ = 0;
  int64_t max_context_ = 0;
  // Post-RoPE keys and values per layer, [position][G * d].
  std::vector<std::vector<float>> key_cache_;
  std::vector<std::vector<float>> value_cache_;
};

// Index of the largest value, the lowest index among equals.
int64_t ArgMax(const float* values, int64_t n);

}  // namespace moec::gptoss

#endif  // MOEC_MODELS_GPT_OSS_REFERENCE_H_
