#include "exec/runner.h"

#include "exec/generate.h"

namespace moert::exec {

Result<int32_t> Runner::Sample(uint32_t slot, Sampler& sampler) const {
  if (slot >= num_slots()) {
    return InvalidArgument("sample: slot ", slot, " is past the artifact's ", num_slots(), " slots");
  }
  if (sampler.vocab_size() != vocab_size()) {
    return InvalidArgument("sample: the sampler covers ", sampler.vocab_size(),
                           " tokens; the artifact's vocabulary has ", vocab_size());
  }
  const float* row = logits(slot);
  if (!row) return FailedPrecondition("sample: slot ", slot, " has no logits yet (prefill first)");
  return sampler.Sample(row, position(slot));
}

Result<std::vector<int32_t>> Runner::Generate(uint32_t slot, const std::vector<int32_t>& prompt,
                                              uint32_t max_new_tokens,
                                              const SamplingParams& params,
                                              const std::vector<int32_t>& stop_tokens) {
  return GenerateTokens(*this, vocab_size(), max_context(), slot, prompt, max_new_tokens, params, stop_tokens);
}

std::string SessionRunner::description() const {
  return StrCat("CPU, ", session_->thread_count(), " threads");
}

}  // namespace moert::exec
