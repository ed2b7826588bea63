#include "exec/runner.h"

#include <algorithm>

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
  MOERT_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(vocab_size(), params));
  MOERT_RETURN_IF_ERROR(Prefill(slot, prompt.data(), prompt.size()));
  std::vector<int32_t> out;
  out.reserve(max_new_tokens);
  while (out.size() < max_new_tokens) {
    MOERT_ASSIGN_OR_RETURN(int32_t token, Sample(slot, sampler));
    out.push_back(token);
    if (std::find(stop_tokens.begin(), stop_tokens.end(), token) != stop_tokens.end()) break;
    if (out.size() == max_new_tokens || position(slot) >= max_context()) break;
    MOERT_RETURN_IF_ERROR(Decode(&slot, &token, 1));
  }
  return out;
}

std::string SessionRunner::description() const {
  return StrCat("CPU, ", session_->thread_count(), " threads");
}

}  // namespace moert::exec
