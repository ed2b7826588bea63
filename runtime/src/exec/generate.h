// Prefill a prompt, then sample and decode until a stop token, the token
// budget or the context ends: one loop for every executor (exec::Session,
// and exec::Runner's default over its virtual operations).
#ifndef MOERT_EXEC_GENERATE_H_
#define MOERT_EXEC_GENERATE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "exec/sampler.h"

namespace moert::exec {

// `model` has Prefill(slot, tokens, count), Sample(slot, sampler),
// Decode(slots, tokens, count) and position(slot), with Session's semantics.
template <typename Model>
Result<std::vector<int32_t>> GenerateTokens(Model& model, uint32_t vocab_size, uint32_t max_context, uint32_t slot,
                                            const std::vector<int32_t>& prompt, uint32_t max_new_tokens,
                                            const SamplingParams& params, const std::vector<int32_t>& stop_tokens) {
  MOERT_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(vocab_size, params));
  MOERT_RETURN_IF_ERROR(model.Prefill(slot, prompt.data(), prompt.size()));
  std::vector<int32_t> out;
  out.reserve(max_new_tokens);
  while (out.size() < max_new_tokens) {
    MOERT_ASSIGN_OR_RETURN(int32_t token, model.Sample(slot, sampler));
    out.push_back(token);
    if (std::find(stop_tokens.begin(), stop_tokens.end(), token) != stop_tokens.end()) break;
    if (out.size() == max_new_tokens || model.position(slot) >= max_context) break;
    MOERT_RETURN_IF_ERROR(model.Decode(&slot, &token, 1));
  }
  return out;
}

}  // namespace moert::exec

#endif  // MOERT_EXEC_GENERATE_H_
