// The operations a tool runs a model with, whatever executes it: the CPU
// Session (session.h, through SessionRunner) or the GpuSession
// (gpu_session.h). Semantics are exec::Session's: see there.
#ifndef MOERT_EXEC_RUNNER_H_
#define MOERT_EXEC_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "exec/sampler.h"
#include "exec/session.h"

namespace moert::exec {

class Runner {
 public:
  virtual ~Runner() = default;
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  virtual uint32_t vocab_size() const = 0;
  virtual uint32_t max_context() const = 0;
  virtual uint32_t num_slots() const = 0;
  // "CPU, 8 threads", "CUDA device 0: NVIDIA H100 80GB HBM3 (sm_90)".
  virtual std::string description() const = 0;
  // The CPU Session behind this runner (threads, profiles); null on a GPU.
  virtual const Session* cpu_session() const { return nullptr; }
  // The GpuSession behind this runner (per-kernel profiles); null on a CPU.
  virtual class GpuSession* gpu_session() { return nullptr; }

  virtual Status Prefill(uint32_t slot, const int32_t* tokens, size_t count,
                         float* all_logits = nullptr) = 0;
  virtual Status Decode(const uint32_t* slots, const int32_t* tokens, size_t count) = 0;
  virtual uint32_t position(uint32_t slot) const = 0;
  virtual const float* logits(uint32_t slot) const = 0;
  virtual Status ResetSlot(uint32_t slot) = 0;
  // Records what every dispatch of the following calls writes (see
  // dispatch_trace.h) until set back to null; `trace` must outlive that.
  virtual void set_trace(DispatchTrace* trace) = 0;

  // As Session::Sample and Session::Generate, over the operations above.
  virtual Result<int32_t> Sample(uint32_t slot, Sampler& sampler) const;
  virtual Result<std::vector<int32_t>> Generate(uint32_t slot, const std::vector<int32_t>& prompt,
                                                uint32_t max_new_tokens,
                                                const SamplingParams& params,
                                                const std::vector<int32_t>& stop_tokens = {});

 protected:
  Runner() = default;
};

// A CPU Session as a Runner; every call forwards to it.
class SessionRunner final : public Runner {
 public:
  explicit SessionRunner(std::unique_ptr<Session> session) : session_(std::move(session)) {}

  Session& session() { return *session_; }
  const Session& session() const { return *session_; }

  uint32_t vocab_size() const override { return session_->program().vocab_size(); }
  uint32_t max_context() const override { return session_->program().max_context(); }
  uint32_t num_slots() const override { return session_->program().num_slots(); }
  std::string description() const override;
  const Session* cpu_session() const override { return session_.get(); }
  Status Prefill(uint32_t slot, const int32_t* tokens, size_t count,
                 float* all_logits = nullptr) override {
    return session_->Prefill(slot, tokens, count, all_logits);
  }
  Status Decode(const uint32_t* slots, const int32_t* tokens, size_t count) override {
    return session_->Decode(slots, tokens, count);
  }
  uint32_t position(uint32_t slot) const override { return session_->position(slot); }
  const float* logits(uint32_t slot) const override { return session_->logits(slot); }
  Status ResetSlot(uint32_t slot) override { return session_->ResetSlot(slot); }
  void set_trace(DispatchTrace* trace) override { session_->set_trace(trace); }
  Result<int32_t> Sample(uint32_t slot, Sampler& sampler) const override {
    return session_->Sample(slot, sampler);
  }
  Result<std::vector<int32_t>> Generate(uint32_t slot, const std::vector<int32_t>& prompt,
                                        uint32_t max_new_tokens, const SamplingParams& params,
                                        const std::vector<int32_t>& stop_tokens = {}) override {
    return session_->Generate(slot, prompt, max_new_tokens, params, stop_tokens);
  }

 private:
  std::unique_ptr<Session> session_;
};

}  // namespace moert::exec

#endif  // MOERT_EXEC_RUNNER_H_
